//! A CSV file read with `read_csv`, then the table encoder fitted on it (all columns as
//! features, and with the first column as the target) and the table encoded.
#![no_main]

use std::path::PathBuf;
use std::sync::OnceLock;

use autocandle::preprocessing::{TableEncoder, TableSpec};
use libfuzzer_sys::fuzz_target;

static FILE: OnceLock<PathBuf> = OnceLock::new();

fuzz_target!(|data: &[u8]| {
    let path = FILE.get_or_init(|| autocandle_fuzz::scratch("csv").join("table.csv"));
    autocandle_fuzz::put(path, data);
    let Ok(df) = autocandle::data::read_csv(path) else {
        return;
    };
    let spec = TableSpec::default();
    if let Ok(enc) = TableEncoder::fit_features(&df, &spec) {
        if let Ok(x) = enc.transform(&df) {
            assert_eq!(x.len(), df.height());
            assert_eq!(x.sample_size(), enc.width());
        }
    }
    let names = df.get_column_names();
    if let Some(target) = names.first().map(|s| s.to_string()) {
        let spec = TableSpec {
            numeric_bins: Some(4),
            ..TableSpec::default()
        };
        if let Ok(enc) = TableEncoder::fit(&df, &target, &spec) {
            let _ = enc.transform(&df);
        }
        let _ = autocandle::preprocessing::class_targets(&df, &target);
        let _ = autocandle::preprocessing::regression_targets(&df, &target);
    }
});
