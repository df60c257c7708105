//! A model folder: the input split at `\n--8<--\n` into architecture.json,
//! preprocessing.json and weights.safetensors, loaded with `Model::load`, and, when it loads,
//! asked to predict on one blank image of the shape it takes.
#![no_main]

use std::path::PathBuf;
use std::sync::OnceLock;

use autocandle::data::ImageData;
use libfuzzer_sys::fuzz_target;

/// What separates the three files in an input.
pub const SEPARATOR: &[u8] = b"\n--8<--\n";

static DIR: OnceLock<PathBuf> = OnceLock::new();

fuzz_target!(|data: &[u8]| {
    let dir = DIR.get_or_init(|| autocandle_fuzz::scratch("model"));
    let parts = autocandle_fuzz::split_parts(data, SEPARATOR, 3);
    autocandle_fuzz::put(&dir.join("architecture.json"), parts[0]);
    autocandle_fuzz::put(&dir.join("preprocessing.json"), parts[1]);
    autocandle_fuzz::put(&dir.join("weights.safetensors"), parts[2]);
    let Ok(model) = autocandle::Model::load(dir) else {
        return;
    };
    let shape = model.preprocessing().input_shape.clone();
    // The harness's own image: keep it small (a shape the model announces is not allocated
    // by the library here).
    let size = shape
        .iter()
        .try_fold(1usize, |a, &d| a.checked_mul(d))
        .filter(|&s| s > 0 && s <= 1 << 16);
    if let (Some(size), [h, w, c]) = (size, shape.as_slice()) {
        if let Ok(x) = ImageData::from_f32(vec![0.5; size], &[1, *h, *w, *c]) {
            let _ = model.predict_proba(&x);
            let _ = model.predict(&x);
        }
    }
});
