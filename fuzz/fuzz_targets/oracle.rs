//! oracle.json: written into a project folder, opened with `Project::open` and read with
//! `load_oracle`.
#![no_main]

use std::path::PathBuf;
use std::sync::OnceLock;

use autocandle::project::Project;
use libfuzzer_sys::fuzz_target;

static DIR: OnceLock<PathBuf> = OnceLock::new();

fuzz_target!(|data: &[u8]| {
    let base = DIR.get_or_init(|| {
        let base = autocandle_fuzz::scratch("oracle");
        std::fs::create_dir_all(base.join("p")).expect("scratch folder");
        base
    });
    autocandle_fuzz::put(&base.join("p").join("oracle.json"), data);
    let project = Project::open(base, "p", false).expect("a project folder");
    if let Ok(Some(state)) = project.load_oracle() {
        let _ = serde_json::to_string(&state);
    }
});
