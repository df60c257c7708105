//! trial.json: written into `trial_00/` of a project folder, opened with `Project::open` and
//! read with `load_trials`.
#![no_main]

use std::path::PathBuf;
use std::sync::OnceLock;

use autocandle::project::Project;
use libfuzzer_sys::fuzz_target;

static DIR: OnceLock<PathBuf> = OnceLock::new();

fuzz_target!(|data: &[u8]| {
    let base = DIR.get_or_init(|| {
        let base = autocandle_fuzz::scratch("trial");
        std::fs::create_dir_all(base.join("p").join("trial_00")).expect("scratch folder");
        base
    });
    autocandle_fuzz::put(&base.join("p").join("trial_00").join("trial.json"), data);
    let project = Project::open(base, "p", false).expect("a project folder");
    if let Ok(trials) = project.load_trials() {
        for t in &trials {
            assert_eq!(t.trial_id, "00");
            let _ = serde_json::to_string(t);
        }
    }
});
