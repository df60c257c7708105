//! Setup shared by the integration tests: small real data and a quick search configuration.

use autocandle::automodel::SearchConfig;
use autocandle::data::ImageDataset;

/// The first `n` of the digits compiled into the crate.
pub fn small_digits(n: usize) -> ImageDataset {
    autocandle::datasets::digits().unwrap().take(n)
}

/// Two trials of two epochs, batch 32, seed 7, in `dir/name` (started over).
pub fn quick_config(dir: &std::path::Path, name: &str) -> SearchConfig {
    SearchConfig {
        max_trials: 2,
        epochs: 2,
        batch_size: 32,
        seed: 7,
        directory: dir.to_path_buf(),
        project_name: name.into(),
        overwrite: true,
        ..Default::default()
    }
}
