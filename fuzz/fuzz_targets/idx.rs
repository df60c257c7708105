//! IDX files (MNIST's format), raw or gzip: the same bytes read as images and as labels.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;

static FILE: OnceLock<std::path::PathBuf> = OnceLock::new();

fuzz_target!(|data: &[u8]| {
    let path = FILE.get_or_init(|| autocandle_fuzz::scratch("idx").join("input-idx3-ubyte"));
    autocandle_fuzz::put(path, data);
    if let Ok(x) = autocandle::data::read_idx_images(path) {
        assert_eq!(x.len() * x.sample_size(), x.pixels.len());
    }
    let _ = autocandle::data::read_idx_labels(path);
});
