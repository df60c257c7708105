//! The CIFAR-10 archive: a tar file, gzip-compressed or plain, read without extracting it.
#![no_main]

use std::path::PathBuf;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;

static FILE: OnceLock<PathBuf> = OnceLock::new();

fuzz_target!(|data: &[u8]| {
    let path =
        FILE.get_or_init(|| autocandle_fuzz::scratch("cifar").join("cifar-10-binary.tar.gz"));
    autocandle_fuzz::put(path, data);
    if let Ok(split) = autocandle::datasets::cifar10(Some(path)) {
        assert_eq!(split.train.x.shape[1..], [32, 32, 3]);
    }
});
