//! The search engine's behaviour on the digits compiled into the crate: determinism, failed
//! trials, budgets, export, and bad input.

use autocandle::automodel::SearchConfig;
use autocandle::data::{ImageData, ImageDataset, Targets};
use autocandle::prelude::*;
use autocandle::training::StopReason;
use autocandle::tuners::TrialStatus;
use std::time::Duration;

mod common;
use common::{quick_config as config, small_digits};

/// Every epoch's metrics and learning rate (not its wall time), as exact JSON.
fn metrics_of(t: &autocandle::tuners::Trial) -> String {
    let epochs: Vec<_> = t
        .history
        .iter()
        .map(|r| (r.epoch, r.train, r.val, r.learning_rate))
        .collect();
    serde_json::to_string(&(epochs, t.score, t.best_epoch)).unwrap()
}

#[test]
fn same_seed_gives_identical_trial_metrics() {
    let data = small_digits(400);
    let dir = tempfile::tempdir().unwrap();
    let run = |name: &str| {
        let mut clf = ImageClassifier::new(config(dir.path(), name));
        clf.fit(&data, None).unwrap();
        let r = clf.result().unwrap().clone();
        let probs = clf.predict_proba(&data.take(5).x).unwrap();
        (r.trials.iter().map(metrics_of).collect::<Vec<_>>(), probs)
    };
    let (a, pa) = run("a");
    let (b, pb) = run("b");
    assert_eq!(a.len(), 2);
    assert_eq!(
        a, b,
        "trial histories differ between two runs with the same seed"
    );
    assert_eq!(pa, pb);
    // A different seed gives different numbers (the test can fail).
    let mut cfg = config(dir.path(), "c");
    cfg.seed = 8;
    let mut clf = ImageClassifier::new(cfg);
    clf.fit(&data, None).unwrap();
    let c: Vec<String> = clf
        .result()
        .unwrap()
        .trials
        .iter()
        .map(metrics_of)
        .collect();
    assert_ne!(a, c);
}

#[test]
fn a_failed_trial_is_recorded_and_the_search_goes_on() {
    let data = small_digits(300);
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config(dir.path(), "fail");
    cfg.max_trials = 3;
    cfg.epochs = 1;
    // The greedy tuner's first three configurations: the two small vanilla networks fit, the
    // ResNet (the third) does not.
    cfg.tuner = TunerKind::Greedy;
    cfg.max_model_size = Some(30_000);
    let mut clf = ImageClassifier::new(cfg);
    let r = clf.fit(&data, None).unwrap().clone();
    assert_eq!(r.trials.len(), 3);
    let failed: Vec<_> = r
        .trials
        .iter()
        .filter(|t| t.status == TrialStatus::Failed)
        .collect();
    assert_eq!(
        failed.len(),
        1,
        "{:?}",
        r.trials
            .iter()
            .map(|t| (t.status, t.params))
            .collect::<Vec<_>>()
    );
    assert!(failed[0]
        .reason
        .as_deref()
        .unwrap()
        .contains("max_model_size"));
    // The failure is on disk too.
    let text = std::fs::read_to_string(
        dir.path()
            .join("fail")
            .join(format!("trial_{}", failed[0].trial_id))
            .join("trial.json"),
    )
    .unwrap();
    assert!(text.contains("FAILED") && text.contains("max_model_size"));
    assert!(clf.evaluate(&data).unwrap().accuracy.unwrap() > 0.1);
}

#[test]
fn consecutive_failures_stop_the_search_with_their_reasons() {
    let data = small_digits(200);
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config(dir.path(), "allfail");
    cfg.max_trials = 10;
    cfg.max_model_size = Some(10);
    let mut clf = ImageClassifier::new(cfg);
    let err = clf.fit(&data, None).unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, Error::NoSuccessfulTrial(_)), "{msg}");
    assert!(msg.contains("max_model_size"), "{msg}");
    let trials = autocandle::project::Project::open(dir.path(), "allfail", false)
        .unwrap()
        .load_trials()
        .unwrap();
    assert_eq!(
        trials.len(),
        3,
        "max_consecutive_failed_trials defaults to 3"
    );
}

#[test]
fn time_limit_stops_a_trial_at_an_epoch_boundary_and_keeps_the_model() {
    let data = small_digits(600);
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config(dir.path(), "time");
    cfg.max_trials = 50;
    cfg.epochs = 10_000;
    cfg.patience = 10_000;
    cfg.time_limit = Some(Duration::from_secs(3));
    let start = std::time::Instant::now();
    let mut clf = ImageClassifier::new(cfg);
    let r = clf.fit(&data, None).unwrap().clone();
    assert!(
        start.elapsed() < Duration::from_secs(60),
        "took {:?}",
        start.elapsed()
    );
    assert_eq!(r.trials.len(), 1);
    assert_eq!(r.trials[0].stop_reason, Some(StopReason::TimeLimit));
    assert!(!r.final_fit, "no time is left for a final fit");
    assert!(clf.evaluate(&data).unwrap().accuracy.unwrap() > 0.5);
}

#[test]
fn a_trial_cut_off_by_the_time_limit_before_an_epoch_is_stopped_not_failed() {
    use autocandle::automodel::SearchEvent;
    use autocandle::training::TrainEvent;
    let data = small_digits(600);
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config(dir.path(), "cut");
    cfg.max_trials = 5;
    cfg.epochs = 1;
    let limit = Duration::from_secs(15);
    cfg.time_limit = Some(limit);
    let start = std::time::Instant::now();
    let mut clf = ImageClassifier::new(cfg);
    // Trial 01 stalls after its first batch until the budget is gone, as a slow trial would:
    // the time kept for the final fit interrupts it before its first epoch ends.
    clf.on_progress(Box::new(move |e: &SearchEvent| {
        if let SearchEvent::Train {
            trial_id,
            event: TrainEvent::Batch { batch: 1, .. },
        } = e
        {
            if trial_id == "01" {
                std::thread::sleep(limit.saturating_sub(start.elapsed()));
            }
        }
    }));
    let r = clf.fit(&data, None).unwrap().clone();
    let status: Vec<TrialStatus> = r.trials.iter().map(|t| t.status).collect();
    assert_eq!(
        status,
        [TrialStatus::Completed, TrialStatus::Stopped],
        "the search ends with the stopped trial"
    );
    let reason = r.trials[1].reason.as_deref().unwrap_or_default();
    assert!(reason.contains("before any epoch completed"), "{reason}");
    assert_eq!(r.best_trial, "00");
    // The stopped trial is saved as such, and the model is the completed trial's.
    let saved = std::fs::read_to_string(dir.path().join("cut").join("trial_01").join("trial.json"))
        .unwrap();
    assert!(saved.contains("\"STOPPED\""), "{saved}");
    assert!(clf.evaluate(&data).unwrap().accuracy.unwrap() > 0.3);
}

#[test]
fn when_the_final_fit_no_longer_fits_the_search_uses_the_rest_of_the_budget() {
    use autocandle::automodel::SearchEvent;
    use autocandle::training::TrainEvent;
    let data = small_digits(600);
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config(dir.path(), "rest");
    cfg.max_trials = 4;
    cfg.epochs = 1;
    cfg.time_limit = Some(Duration::from_secs(20));
    let mut clf = ImageClassifier::new(cfg);
    // Trial 00's one epoch takes over 12 s, so its final fit (on 25 % more images) needs over
    // 15 s, more than is left after it: the final fit is lost whatever the search does next.
    clf.on_progress(Box::new(|e: &SearchEvent| {
        if let SearchEvent::Train {
            trial_id,
            event: TrainEvent::Batch { batch: 1, .. },
        } = e
        {
            if trial_id == "00" {
                std::thread::sleep(Duration::from_secs(12));
            }
        }
    }));
    let r = clf.fit(&data, None).unwrap().clone();
    assert!(
        r.trials.len() > 1,
        "the search stopped after trial 00 and left the rest of its budget unused"
    );
    assert!(r.wall_seconds < 40.0, "{}", r.wall_seconds);
    assert!(clf.evaluate(&data).unwrap().accuracy.unwrap() > 0.3);
}

#[test]
fn exported_model_round_trips_and_checks_its_input() {
    let data = small_digits(300);
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config(dir.path(), "export");
    cfg.max_trials = 1;
    let mut clf = ImageClassifier::new(cfg);
    clf.fit(&data, None).unwrap();
    let model = clf.export_model().unwrap();
    let path = dir.path().join("saved");
    model.save(&path).unwrap();
    let loaded = Model::load(&path).unwrap();
    let x = data.take(20).x;
    assert_eq!(
        model.predict_proba(&x).unwrap(),
        loaded.predict_proba(&x).unwrap()
    );
    match loaded.predict(&x).unwrap() {
        Predictions::Labels(l) => {
            assert_eq!(l.len(), 20);
            assert!(l
                .iter()
                .all(|v| matches!(v, autocandle::preprocessing::Label::Int(0..=9))));
        }
        other => panic!("expected labels, got {other:?}"),
    }
    let summary = loaded.summary().unwrap();
    assert_eq!(summary.output_shape, vec![10]);
    assert!(summary.total_params > 0);
    assert!(summary.to_string().contains("Conv2D"));
    let wrong = ImageData::from_f32(vec![0.0; 2 * 9 * 9], &[2, 9, 9]).unwrap();
    assert!(matches!(loaded.predict(&wrong), Err(Error::BadShape(_))));
    assert!(matches!(
        Model::load(dir.path().join("nope")),
        Err(Error::DataNotFound { .. })
    ));
}

#[test]
fn string_labels_are_decoded_in_predictions() {
    let d = small_digits(300);
    let names = [
        "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine",
    ];
    let y = match &d.y {
        Targets::Int(v) => Targets::Str(v.iter().map(|&i| names[i as usize].to_string()).collect()),
        _ => unreachable!(),
    };
    let data = ImageDataset::new(d.x.clone(), y).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config(dir.path(), "strings");
    cfg.max_trials = 1;
    cfg.epochs = 3;
    let mut clf = ImageClassifier::new(cfg);
    clf.fit(&data, None).unwrap();
    match clf.predict(&data.take(10).x).unwrap() {
        Predictions::Labels(l) => {
            assert!(l.iter().all(|v| names.contains(&v.to_string().as_str())))
        }
        other => panic!("expected labels, got {other:?}"),
    }
}

// ---- bad input: each gives an error that names the problem, never a panic ----

#[test]
fn x_y_length_mismatch_is_an_error() {
    let x = ImageData::from_u8(vec![0; 3 * 4], &[3, 2, 2]).unwrap();
    let err = ImageDataset::new(x, vec![1i64, 2]).unwrap_err();
    assert!(matches!(err, Error::LengthMismatch { x: 3, y: 2 }));
    assert!(err.to_string().contains("3 samples") && err.to_string().contains("2"));
}

#[test]
fn wrong_image_rank_is_an_error() {
    let err = ImageData::from_f32(vec![0.0; 10 * 64], &[10, 64]).unwrap_err();
    assert!(matches!(err, Error::BadShape(_)));
    assert!(err.to_string().contains("rank"), "{err}");
    let err = ImageData::from_f32(vec![0.0; 10], &[1, 2, 2, 2]).unwrap_err();
    assert!(err.to_string().contains("needs 8 values"), "{err}");
}

#[test]
fn nan_or_infinity_in_x_is_an_error() {
    let mut v = vec![0.5f32; 2 * 4];
    v[5] = f32::NAN;
    let err = ImageData::from_f32(v.clone(), &[2, 2, 2]).unwrap_err();
    assert!(
        matches!(
            err,
            Error::NonFinite {
                what: "x",
                index: 5
            }
        ),
        "{err}"
    );
    v[5] = f32::INFINITY;
    assert!(ImageData::from_f32(v, &[2, 2, 2]).is_err());
}

#[test]
fn fewer_than_two_classes_is_an_error() {
    let x = ImageData::from_u8(vec![1; 4 * 4], &[4, 2, 2]).unwrap();
    let data = ImageDataset::new(x, vec![3i64; 4]).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut clf = ImageClassifier::new(config(dir.path(), "oneclass"));
    let err = clf.fit(&data, None).unwrap_err();
    assert!(matches!(err, Error::TooFewClasses { found: 1 }), "{err}");
    assert!(err.to_string().contains("at least 2"));
}

#[test]
fn an_empty_dataset_is_an_error() {
    let x = ImageData::from_u8(vec![], &[0, 8, 8]).unwrap();
    let err = ImageDataset::new(x, Vec::<i64>::new()).unwrap_err();
    assert!(matches!(err, Error::EmptyDataset(_)), "{err}");
}

#[test]
fn predict_before_fit_is_an_error() {
    let clf = ImageClassifier::new(SearchConfig::default());
    let x = ImageData::from_u8(vec![0; 64], &[1, 8, 8]).unwrap();
    let err = clf.predict(&x).unwrap_err();
    assert!(err.to_string().contains("call fit"), "{err}");
}
