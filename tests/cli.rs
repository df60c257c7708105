//! The command line: resume after SIGKILL, the closing JSON line, and errors for bad input.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_autocandle");

fn fit_args(project: &Path) -> Vec<String> {
    [
        "fit",
        "--task",
        "image-classifier",
        "--data",
        "digits",
        "--max-trials",
        "3",
        "--epochs",
        "4",
        "--seed",
        "5",
        "--batch-size",
        "32",
        "--project",
    ]
    .iter()
    .map(|s| s.to_string())
    .chain([project.display().to_string()])
    .collect()
}

fn status_of(trial_json: &Path) -> Option<String> {
    let text = std::fs::read_to_string(trial_json).ok()?;
    let v: serde_json::Value = serde_json::from_str(&text).ok()?;
    v["status"].as_str().map(String::from)
}

#[test]
fn sigkill_mid_trial_then_rerun_keeps_finished_trials_and_completes() {
    let dir = tempfile::tempdir().unwrap();
    let project = dir.path().join("proj");
    let mut child = Command::new(BIN)
        .args(fit_args(&project))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Wait until trial 00 is done and trial 01 is running, then kill -9.
    let t0 = Instant::now();
    loop {
        let done0 = status_of(&project.join("trial_00/trial.json")).as_deref() == Some("COMPLETED");
        let running1 =
            status_of(&project.join("trial_01/trial.json")).as_deref() == Some("RUNNING");
        if done0 && running1 {
            break;
        }
        assert!(
            t0.elapsed() < Duration::from_secs(300),
            "the search never reached trial 01"
        );
        assert!(
            child.try_wait().unwrap().is_none(),
            "the search ended before it could be killed"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().unwrap(); // SIGKILL on Unix
    child.wait().unwrap();
    let trial0_before = std::fs::read(project.join("trial_00/trial.json")).unwrap();
    let weights0_before = std::fs::read(project.join("trial_00/checkpoint.safetensors")).unwrap();

    let out = Command::new(BIN).args(fit_args(&project)).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("Resuming: 1 trial(s) already done"),
        "{stderr}"
    );
    // Trial 00 was neither lost nor re-run: its files are byte for byte the same.
    assert_eq!(
        std::fs::read(project.join("trial_00/trial.json")).unwrap(),
        trial0_before
    );
    assert_eq!(
        std::fs::read(project.join("trial_00/checkpoint.safetensors")).unwrap(),
        weights0_before
    );
    assert!(
        !stderr.contains("Trial 00 ("),
        "trial 00 ran again:\n{stderr}"
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let last: serde_json::Value = serde_json::from_str(stdout.lines().last().unwrap()).unwrap();
    assert_eq!(last["trials"], 3);
    for id in ["00", "01", "02"] {
        assert_eq!(
            status_of(&project.join(format!("trial_{id}/trial.json"))).as_deref(),
            Some("COMPLETED")
        );
    }
    assert!(last["test_accuracy"].as_f64().unwrap() > 0.5);
    for key in ["best_trial", "wall_seconds", "model_path"] {
        assert!(last.get(key).is_some(), "closing JSON lacks {key}: {last}");
    }
    // The report lists all three trials.
    let rep = Command::new(BIN)
        .arg("report")
        .arg(&project)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&rep.stdout);
    assert_eq!(
        text.lines().filter(|l| l.contains("COMPLETED")).count(),
        3,
        "{text}"
    );
}

fn fails_with(args: &[&str], needle: &str) {
    let out = Command::new(BIN).args(args).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{args:?} succeeded");
    assert!(
        stderr.contains(needle),
        "{args:?}: stderr does not mention {needle:?}:\n{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{args:?} panicked:\n{stderr}");
}

#[test]
fn unknown_task_is_an_error() {
    fails_with(
        &["fit", "--task", "sound-classifier", "--data", "digits"],
        "--task",
    );
}

#[test]
fn missing_data_path_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("no_such_mnist");
    let spec = format!("mnist:{}", missing.display());
    fails_with(
        &["fit", "--task", "image-classifier", "--data", &spec],
        "no_such_mnist",
    );
}

#[test]
fn truncated_idx_file_is_an_error_from_the_cli() {
    let dir = tempfile::tempdir().unwrap();
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data/mnist");
    for f in [
        "train-labels-idx1-ubyte.gz",
        "t10k-images-idx3-ubyte.gz",
        "t10k-labels-idx1-ubyte.gz",
    ] {
        std::fs::copy(src.join(f), dir.path().join(f)).unwrap();
    }
    let bytes = std::fs::read(src.join("train-images-idx3-ubyte.gz")).unwrap();
    std::fs::write(
        dir.path().join("train-images-idx3-ubyte.gz"),
        &bytes[..bytes.len() / 2],
    )
    .unwrap();
    let spec = format!("mnist:{}", dir.path().display());
    fails_with(
        &["fit", "--task", "image-classifier", "--data", &spec],
        "truncated",
    );
}

#[test]
fn bad_time_limit_is_an_error() {
    fails_with(
        &[
            "fit",
            "--task",
            "image-classifier",
            "--data",
            "digits",
            "--time-limit",
            "soon",
        ],
        "time limit",
    );
}
