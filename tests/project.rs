//! The project folder: what `overwrite` may delete, and the study's fingerprint that refuses a
//! resume on other data, with another task or another search space, before any training.

use autocandle::automodel::SearchConfig;
use autocandle::data::{ImageData, ImageDataset, Targets};
use autocandle::prelude::*;
use autocandle::project::Project;
use std::sync::{Arc, Mutex};

mod common;
use common::{quick_config, small_digits};

/// One trial of one epoch in `dir/name`, resumed (not started over).
fn one_trial(dir: &std::path::Path, name: &str) -> SearchConfig {
    SearchConfig {
        max_trials: 1,
        epochs: 1,
        seed: 3,
        overwrite: false,
        ..quick_config(dir, name)
    }
}

/// Runs `fit` and counts the trials it started (0 when it was refused up front).
fn trials_started(clf: &mut ImageClassifier, data: &ImageDataset) -> (Result<()>, usize) {
    let started = Arc::new(Mutex::new(0usize));
    let s = started.clone();
    clf.on_progress(Box::new(move |e| {
        if matches!(e, SearchEvent::TrialStart { .. }) {
            *s.lock().unwrap() += 1;
        }
    }));
    let r = clf.fit(data, None).map(|_| ());
    let n = *started.lock().unwrap();
    (r, n)
}

/// The digits with every image mirrored left to right: the same shape and the same ten
/// classes, other data.
fn mirrored(d: &ImageDataset) -> ImageDataset {
    let [n, h, w, c] = d.x.shape;
    let mut px = vec![0f32; n * h * w * c];
    for i in 0..n {
        for y in 0..h {
            for x in 0..w {
                for k in 0..c {
                    px[((i * h + y) * w + x) * c + k] =
                        d.x.pixels.get(((i * h + y) * w + (w - 1 - x)) * c + k);
                }
            }
        }
    }
    ImageDataset::new(ImageData::from_f32(px, &[n, h, w, c]).unwrap(), d.y.clone()).unwrap()
}

#[test]
fn a_resume_on_other_data_of_the_same_shape_is_refused_before_any_trial() {
    let dir = tempfile::tempdir().unwrap();
    let digits = small_digits(200);
    let mut clf = ImageClassifier::new(one_trial(dir.path(), "p"));
    clf.fit(&digits, None).unwrap();
    let other = mirrored(&digits);
    let mut clf = ImageClassifier::new(SearchConfig {
        max_trials: 2,
        ..one_trial(dir.path(), "p")
    });
    let (r, started) = trials_started(&mut clf, &other);
    let msg = r.unwrap_err().to_string();
    assert_eq!(started, 0, "a trial ran before the refusal");
    assert!(msg.contains("training data: recorded"), "{msg}");
    assert!(msg.contains("--overwrite"), "{msg}");
    // The project is as it was: one trial, no second one.
    let trials = Project::existing(&dir.path().join("p"))
        .unwrap()
        .load_trials()
        .unwrap();
    assert_eq!(trials.len(), 1);
}

#[test]
fn a_resume_by_another_task_is_refused_naming_the_task() {
    let dir = tempfile::tempdir().unwrap();
    let digits = small_digits(200);
    let mut clf = ImageClassifier::new(one_trial(dir.path(), "p"));
    clf.fit(&digits, None).unwrap();
    let values = match &digits.y {
        Targets::Int(v) => v.iter().map(|&c| c as f32).collect::<Vec<f32>>(),
        _ => unreachable!("the digits have integer labels"),
    };
    let as_values = ImageDataset::new(digits.x.clone(), values).unwrap();
    let mut reg = ImageRegressor::new(SearchConfig {
        max_trials: 2,
        ..one_trial(dir.path(), "p")
    });
    let msg = reg.fit(&as_values, None).unwrap_err().to_string();
    assert!(
        msg.contains("task: recorded ImageClassifier, now ImageRegressor"),
        "{msg}"
    );
    assert_eq!(
        Project::existing(&dir.path().join("p"))
            .unwrap()
            .load_trials()
            .unwrap()
            .len(),
        1
    );
}

#[test]
fn an_unchanged_resume_keeps_the_finished_trial_and_runs_the_next() {
    let dir = tempfile::tempdir().unwrap();
    let digits = small_digits(200);
    let mut clf = ImageClassifier::new(one_trial(dir.path(), "p"));
    clf.fit(&digits, None).unwrap();
    let mut clf = ImageClassifier::new(SearchConfig {
        max_trials: 2,
        ..one_trial(dir.path(), "p")
    });
    let (r, started) = trials_started(&mut clf, &digits);
    r.unwrap();
    assert_eq!(started, 1, "only the second trial runs");
    assert_eq!(clf.result().unwrap().trials.len(), 2);
}

#[test]
fn the_fingerprint_is_recorded_before_the_first_trial() {
    let dir = tempfile::tempdir().unwrap();
    let digits = small_digits(120);
    let seen = Arc::new(Mutex::new(None));
    let s = seen.clone();
    let oracle = dir.path().join("p").join("oracle.json");
    let o = oracle.clone();
    let mut clf = ImageClassifier::new(one_trial(dir.path(), "p"));
    clf.on_progress(Box::new(move |e| {
        if matches!(e, SearchEvent::TrialStart { .. }) {
            *s.lock().unwrap() = std::fs::read_to_string(&o).ok();
        }
    }));
    clf.fit(&digits, None).unwrap();
    let text = seen
        .lock()
        .unwrap()
        .clone()
        .expect("oracle.json exists at trial 00");
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    let study = &v["study"];
    assert_eq!(study["task"], "ImageClassifier");
    assert_eq!(study["classes"].as_array().unwrap().len(), 10);
    assert_eq!(study["inputs"][0], "images 8x8x1");
    assert!(study["search_space"]
        .as_array()
        .unwrap()
        .iter()
        .any(|n| n == "image_block_1/block_type"));
    assert_eq!(study["data_hash"].as_str().unwrap().len(), 16);
}

#[test]
fn overwrite_never_deletes_a_folder_autocandle_did_not_make() {
    let dir = tempfile::tempdir().unwrap();
    let digits = small_digits(120);
    // A folder with one unrelated file.
    let p = dir.path().join("thesis");
    std::fs::create_dir(&p).unwrap();
    std::fs::write(p.join("thesis.txt"), b"chapter 1").unwrap();
    for overwrite in [true, false] {
        let mut clf = ImageClassifier::new(SearchConfig {
            overwrite,
            ..one_trial(dir.path(), "thesis")
        });
        let msg = clf.fit(&digits, None).unwrap_err().to_string();
        assert!(msg.contains("thesis.txt"), "{msg}");
        assert!(msg.contains("not an autocandle project folder"), "{msg}");
    }
    assert_eq!(std::fs::read(p.join("thesis.txt")).unwrap(), b"chapter 1");
    assert_eq!(std::fs::read_dir(&p).unwrap().count(), 1);
    // A project autocandle made is started over.
    let mut clf = ImageClassifier::new(one_trial(dir.path(), "mine"));
    clf.fit(&digits, None).unwrap();
    let mut clf = ImageClassifier::new(SearchConfig {
        overwrite: true,
        ..one_trial(dir.path(), "mine")
    });
    let (r, started) = trials_started(&mut clf, &digits);
    r.unwrap();
    assert_eq!(started, 1, "the overwritten project starts from trial 00");
    assert_eq!(clf.result().unwrap().trials.len(), 1);
}

#[test]
fn zero_and_absurd_settings_are_refused_before_reading_the_data() {
    let dir = tempfile::tempdir().unwrap();
    let digits = small_digits(60);
    let cases: Vec<(SearchConfig, &str)> = vec![
        (
            SearchConfig {
                epochs: 0,
                ..one_trial(dir.path(), "z")
            },
            "epochs must be at least 1",
        ),
        (
            SearchConfig {
                batch_size: 0,
                ..one_trial(dir.path(), "z")
            },
            "batch_size must be at least 1",
        ),
        (
            SearchConfig {
                max_trials: 0,
                ..one_trial(dir.path(), "z")
            },
            "max_trials must be at least 1",
        ),
        (
            SearchConfig {
                time_limit: Some(std::time::Duration::ZERO),
                ..one_trial(dir.path(), "z")
            },
            "time_limit must be more than 0",
        ),
        (
            SearchConfig {
                time_limit: Some(std::time::Duration::from_secs(u64::MAX)),
                ..one_trial(dir.path(), "z")
            },
            "at most 365 days",
        ),
    ];
    for (cfg, needle) in cases {
        let mut clf = ImageClassifier::new(cfg);
        let msg = clf.fit(&digits, None).unwrap_err().to_string();
        assert!(msg.contains(needle), "{msg}");
    }
    assert!(!dir.path().join("z").exists(), "nothing is written");
}

#[test]
fn a_forecaster_never_writes_into_a_folder_of_ones_own() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("notes");
    std::fs::create_dir(&p).unwrap();
    std::fs::write(p.join("ideas.md"), b"mine").unwrap();
    let values: Vec<f64> = (0..120)
        .map(|i| (i as f64 / 6.0).sin() * 10.0 + 20.0)
        .collect();
    let series = TimeSeries::from_values("y", values).unwrap();
    for overwrite in [true, false] {
        let mut f = TimeseriesForecaster::new(SearchConfig {
            overwrite,
            ..one_trial(dir.path(), "notes")
        });
        let msg = f.fit(&series).unwrap_err().to_string();
        assert!(msg.contains("ideas.md"), "{msg}");
    }
    let names: Vec<_> = std::fs::read_dir(&p)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, vec![std::ffi::OsString::from("ideas.md")]);
    // Its own folder (a project per lookback and best_model) is started over.
    let mut f = TimeseriesForecaster::new(one_trial(dir.path(), "mine"));
    f.lookback = Some(6);
    f.fit(&series).unwrap();
    let mut f = TimeseriesForecaster::new(SearchConfig {
        overwrite: true,
        ..one_trial(dir.path(), "mine")
    });
    f.lookback = Some(6);
    f.fit(&series).unwrap();
    assert!(dir.path().join("mine/lookback_6/oracle.json").exists());
}

#[cfg(unix)]
#[test]
fn saved_weights_are_readable_by_others_and_a_resave_leaves_no_temp_folder() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let digits = small_digits(120);
    let mut clf = ImageClassifier::new(one_trial(dir.path(), "p"));
    clf.fit(&digits, None).unwrap();
    let p = dir.path().join("p");
    for w in [
        p.join("best_model/weights.safetensors"),
        p.join("trial_00/checkpoint.safetensors"),
    ] {
        let mode = std::fs::metadata(&w).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode & 0o044, 0o044, "{} has mode {mode:o}", w.display());
    }
    // Saved again over itself: the same three files, nothing beside them.
    let model = Model::load(p.join("best_model")).unwrap();
    model.save(p.join("best_model")).unwrap();
    let mut names: Vec<String> = std::fs::read_dir(&p)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["best_model", "oracle.json", "trial_00"]);
    assert_eq!(std::fs::read_dir(p.join("best_model")).unwrap().count(), 3);
}
