//! CIFAR-10 binary batch files: the input is each of the six batch files of an extracted
//! `cifar-10-batches-bin` folder.
#![no_main]

use std::path::PathBuf;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;

const BATCHES: [&str; 6] = [
    "data_batch_1.bin",
    "data_batch_2.bin",
    "data_batch_3.bin",
    "data_batch_4.bin",
    "data_batch_5.bin",
    "test_batch.bin",
];

static DIR: OnceLock<PathBuf> = OnceLock::new();

fuzz_target!(|data: &[u8]| {
    let dir = DIR.get_or_init(|| autocandle_fuzz::scratch("cifar-10-batches-bin"));
    for name in BATCHES {
        autocandle_fuzz::put(&dir.join(name), data);
    }
    if let Ok(split) = autocandle::datasets::cifar10(Some(dir)) {
        assert_eq!(split.train.len(), 5 * split.test.len());
        assert_eq!(split.train.x.shape[1..], [32, 32, 3]);
    }
});
