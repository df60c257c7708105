//! Text tasks on real IMDB reviews (a small subset of `../shared/data/imdb`, or
//! `$AUTOCANDLE_DATA/imdb`): the IMDB loader, learning, save/load from raw strings, every
//! TextBlock family, the regressor, the command line, and the errors for bad input.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use autocandle::automodel::SearchConfig;
use autocandle::data::{datasets, ImdbTarget, Targets, TextDataset, TextSplit};
use autocandle::export::{Model, Predictions};
use autocandle::hyperparameters::Value;
use autocandle::preprocessing::Label;
use autocandle::tasks::{TextClassifier, TextRegressor};
use autocandle::Error;

fn data_dir() -> PathBuf {
    std::env::var_os("AUTOCANDLE_DATA")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/data")))
}

fn tarball() -> PathBuf {
    data_dir().join("imdb").join("aclImdb_v1.tar.gz")
}

/// The whole real dataset, read once per test binary.
fn imdb() -> &'static TextSplit {
    static DATA: OnceLock<TextSplit> = OnceLock::new();
    DATA.get_or_init(|| datasets::imdb(Some(&tarball()), ImdbTarget::Sentiment).unwrap())
}

/// `n` reviews of a part, half negative and half positive, interleaved.
fn balanced(d: &TextDataset, n: usize) -> TextDataset {
    let Targets::Int(y) = &d.y else {
        panic!("sentiment labels")
    };
    let neg: Vec<usize> = (0..d.len()).filter(|&i| y[i] == 0).step_by(7).collect();
    let pos: Vec<usize> = (0..d.len()).filter(|&i| y[i] == 1).step_by(7).collect();
    let idx: Vec<usize> = neg
        .iter()
        .zip(&pos)
        .flat_map(|(a, b)| [*a, *b])
        .take(n)
        .collect();
    d.select(&idx)
}

fn config(dir: &Path, name: &str, epochs: usize) -> SearchConfig {
    SearchConfig {
        max_trials: 1,
        epochs,
        batch_size: 32,
        seed: 3,
        directory: dir.to_path_buf(),
        project_name: name.into(),
        overwrite: true,
        ..Default::default()
    }
}

fn hps(pairs: &[(&str, Value)]) -> BTreeMap<String, Value> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect()
}

#[test]
fn the_real_archive_has_the_official_parts() {
    let d = imdb();
    assert_eq!((d.train.len(), d.test.len()), (25_000, 25_000));
    for part in [&d.train, &d.test] {
        let Targets::Int(y) = &part.y else { panic!() };
        assert_eq!(y.iter().filter(|&&v| v == 1).count(), 12_500);
        assert_eq!(
            part.class_names.as_deref(),
            Some(&["neg".to_string(), "pos".to_string()][..])
        );
        assert!(part.texts.iter().all(|t| !t.is_empty()));
    }
    // Sorted by label then id: the first training review is neg/0_3.txt.
    assert!(d.train.texts[0].starts_with("Story of a man who has unnatural feelings for a pig."));
}

/// A tiny dataset in the aclImdb layout.
fn write_folder(root: &Path, bad: Option<&str>) {
    let files = [
        ("train/neg/3_2.txt", "dull, dull film"),
        ("train/neg/10_1.txt", "awful acting"),
        ("train/pos/2_9.txt", "a great film!"),
        ("train/pos/7_10.txt", "great acting, great story"),
        ("train/unsup/1_0.txt", "no label"),
        ("test/neg/1_4.txt", "boring"),
        ("test/pos/1_8.txt", "lovely"),
    ];
    for (name, text) in files {
        let p = root.join("aclImdb").join(name);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, text).unwrap();
    }
    if let Some(name) = bad {
        std::fs::write(root.join("aclImdb").join(name), b"caf\xe9 au lait").unwrap();
    }
}

#[test]
fn the_folder_and_the_archive_give_the_same_sorted_reviews() {
    let dir = tempfile::tempdir().unwrap();
    write_folder(dir.path(), None);
    let from_dir = datasets::imdb(Some(dir.path()), ImdbTarget::Sentiment).unwrap();
    assert_eq!(
        from_dir.train.texts,
        [
            "dull, dull film",
            "awful acting",
            "a great film!",
            "great acting, great story"
        ],
        "sorted by label, then by numeric id (3 before 10)"
    );
    assert_eq!(from_dir.train.y, Targets::Int(vec![0, 0, 1, 1]));
    assert_eq!(from_dir.test.texts, ["boring", "lovely"]);
    let ratings = datasets::imdb(Some(&dir.path().join("aclImdb")), ImdbTarget::Rating).unwrap();
    assert_eq!(
        ratings.train.y,
        Targets::Float {
            values: vec![2.0, 1.0, 9.0, 10.0],
            dim: 1
        }
    );
    // The same files as a tar.gz, in another order.
    let archive = dir.path().join("aclImdb_v1.tar.gz");
    let gz = flate2::write::GzEncoder::new(
        std::fs::File::create(&archive).unwrap(),
        flate2::Compression::fast(),
    );
    let mut tar = tar::Builder::new(gz);
    for part in ["test", "train"] {
        tar.append_dir_all(
            format!("aclImdb/{part}"),
            dir.path().join("aclImdb").join(part),
        )
        .unwrap();
    }
    tar.into_inner().unwrap().finish().unwrap().flush().unwrap();
    let from_tar = datasets::imdb(Some(&archive), ImdbTarget::Sentiment).unwrap();
    assert_eq!(from_tar.train, from_dir.train);
    assert_eq!(from_tar.test, from_dir.test);
}

#[test]
fn a_review_that_is_not_utf8_is_an_error_naming_its_file() {
    let dir = tempfile::tempdir().unwrap();
    write_folder(dir.path(), Some("train/pos/9_8.txt"));
    let err = datasets::imdb(Some(dir.path()), ImdbTarget::Sentiment).unwrap_err();
    assert!(matches!(err, Error::NotUtf8 { .. }), "{err}");
    assert!(err.to_string().contains("9_8.txt"), "{err}");
    let err = TextDataset::from_bytes(vec![b"fine".to_vec(), b"caf\xe9".to_vec()], vec![0i64, 1])
        .unwrap_err();
    assert!(matches!(err, Error::NotUtf8 { .. }), "{err}");
    assert!(err.to_string().contains("text 1"), "{err}");
    assert!(TextDataset::from_bytes(vec![b"fine".to_vec()], vec![1i64]).is_ok());
}

#[test]
fn empty_inputs_are_clear_errors() {
    let err = TextDataset::new(vec![], Vec::<i64>::new()).unwrap_err();
    assert!(matches!(err, Error::EmptyDataset(_)), "{err}");
    let err = TextDataset::new(vec!["a".into()], vec![1i64, 0]).unwrap_err();
    assert!(matches!(err, Error::LengthMismatch { x: 1, y: 2 }), "{err}");
    let clf = TextClassifier::new(SearchConfig::default());
    assert!(matches!(clf.predict(&["text"]), Err(Error::Config(_))));
    // A training set whose texts hold no token at all.
    let dir = tempfile::tempdir().unwrap();
    let blank = TextDataset::new(vec!["  ".into(), "".into()], vec![0i64, 1]).unwrap();
    let mut clf = TextClassifier::new(config(dir.path(), "blank", 1));
    let err = clf.fit(&blank, None).unwrap_err();
    assert!(matches!(err, Error::EmptyDataset(_)), "{err}");
}

#[test]
fn learns_sentiment_and_predicts_the_same_from_raw_strings_after_save_and_load() {
    let d = imdb();
    let train = balanced(&d.train, 1200);
    let test = balanced(&d.test, 400);
    let dir = tempfile::tempdir().unwrap();
    let mut clf = TextClassifier::new(config(dir.path(), "ngram", 4));
    clf.max_tokens(5_000).sequence_length(256);
    clf.fit(&train, None).unwrap();
    let result = clf.result().unwrap();
    assert_eq!(result.trials.len(), 1);
    let hp = result.trials[0].hyperparameters.values();
    assert_eq!(hp["text_block_1/block_type"], Value::from("ngram"));
    let acc = clf.evaluate(&test).unwrap().accuracy.unwrap();
    assert!(
        acc > 0.7,
        "test accuracy {acc} on 400 reviews after training on 1,200"
    );

    let reviews = [
        "One of the best films I have seen: moving, funny and beautifully acted.",
        "A boring, stupid waste of time. The worst acting ever.",
        "",
    ];
    let labels = clf.predict(&reviews).unwrap();
    assert_eq!(
        labels,
        Predictions::Labels(vec![Label::Int(1), Label::Int(0), labels_of(&clf, "")])
    );
    let proba = clf.predict_proba(&reviews).unwrap();
    let model = clf.export_model().unwrap();
    let cm = model.confusion_matrix_texts(&test).unwrap();
    assert_eq!(cm.counts.iter().flatten().sum::<usize>(), 400);
    assert!(
        (cm.accuracy() - acc).abs() < 1e-9,
        "{} vs {acc}",
        cm.accuracy()
    );
    let saved = dir.path().join("model");
    model.save(&saved).unwrap();
    let back = Model::load(&saved).unwrap();
    assert_eq!(
        back.preprocessing().tokenizer,
        model.preprocessing().tokenizer
    );
    assert_eq!(back.predict_proba_texts(&reviews).unwrap(), proba);
    let err = back.predict_texts::<&str>(&[]).unwrap_err();
    assert!(matches!(err, Error::EmptyDataset(_)), "{err}");
}

fn labels_of(clf: &TextClassifier, text: &str) -> Label {
    match clf.predict(&[text]).unwrap() {
        Predictions::Labels(l) => l[0].clone(),
        other => panic!("{other:?}"),
    }
}

#[test]
fn every_text_block_family_builds_trains_and_predicts() {
    let d = imdb();
    let train = balanced(&d.train, 160);
    let tb = "text_block_1";
    let common = [
        (format!("{tb}/max_tokens"), Value::from(5_000i64)),
        (format!("{tb}/sequence_length"), Value::from(64i64)),
        ("learning_rate".to_string(), Value::from(1e-3)),
    ];
    let families: Vec<Vec<(&str, Value)>> = vec![
        vec![
            ("text_block_1/block_type", "vanilla".into()),
            ("text_block_1/embedding_1/embedding_dim", 32i64.into()),
            ("text_block_1/conv_block_1/num_blocks", 2i64.into()),
            ("text_block_1/conv_block_1/max_pooling", true.into()),
            ("text_block_1/conv_block_1/separable", true.into()),
            ("text_block_1/conv_block_1/filters_0_0", 16i64.into()),
            ("text_block_1/conv_block_1/filters_1_0", 16i64.into()),
            (
                "text_block_1/spatial_reduction_1/reduction_type",
                "flatten".into(),
            ),
        ],
        vec![
            ("text_block_1/block_type", "transformer".into()),
            ("text_block_1/transformer_1/embedding_dim", 32i64.into()),
            ("text_block_1/transformer_1/num_heads", 8i64.into()),
            ("text_block_1/transformer_1/dense_dim", 32i64.into()),
            ("text_block_1/transformer_1/dropout", 0.25.into()),
            (
                "text_block_1/spatial_reduction_1/reduction_type",
                "global_avg".into(),
            ),
        ],
        vec![
            ("text_block_1/block_type", "rnn".into()),
            ("text_block_1/embedding_1/embedding_dim", 32i64.into()),
            ("text_block_1/rnn_block_1/layer_type", "lstm".into()),
            ("text_block_1/rnn_block_1/num_layers", 2i64.into()),
            ("text_block_1/rnn_block_1/bidirectional", true.into()),
        ],
        vec![
            ("text_block_1/block_type", "ngram".into()),
            ("text_block_1/dense_block_1/num_layers", 2i64.into()),
        ],
    ];
    let dir = tempfile::tempdir().unwrap();
    for (i, family) in families.into_iter().enumerate() {
        let mut init = hps(&family);
        init.extend(common.iter().cloned());
        let mut clf = TextClassifier::new(config(dir.path(), &format!("f{i}"), 1));
        clf.auto_model().initial_hps = vec![init];
        clf.sequence_length(100);
        clf.fit(&train, None).unwrap();
        let trial = &clf.result().unwrap().trials[0];
        assert_eq!(
            trial.status,
            autocandle::tuners::TrialStatus::Completed,
            "{:?}: {:?}",
            family_name(trial),
            trial.reason
        );
        let summary = clf.export_model().unwrap().summary().unwrap();
        let types: Vec<&str> = summary.rows.iter().map(|r| r.layer_type.as_str()).collect();
        let want = match i {
            0 => "SeparableConv1D",
            1 => "TransformerEncoder",
            2 => "Bidirectional(LSTM)",
            _ => "TfIdf",
        };
        assert!(types.contains(&want), "{types:?}");
        assert_eq!(summary.output_shape, vec![2]);
    }
}

fn family_name(t: &autocandle::tuners::Trial) -> Value {
    t.hyperparameters.values()["text_block_1/block_type"].clone()
}

#[test]
fn the_regressor_predicts_ratings() {
    let dir = tempfile::tempdir().unwrap();
    let d = imdb();
    let pick = balanced(&d.train, 600);
    let ratings = datasets::imdb(Some(&tarball()), ImdbTarget::Rating).unwrap();
    // The same reviews with their ratings (the sorted order is the same).
    let idx: Vec<usize> = pick
        .texts
        .iter()
        .map(|t| d.train.texts.iter().position(|u| u == t).unwrap())
        .collect();
    let train = ratings.train.select(&idx);
    let mut reg = TextRegressor::new(config(dir.path(), "reg", 4));
    reg.max_tokens(5_000);
    reg.fit(&train, None).unwrap();
    let m = reg.evaluate(&train).unwrap();
    let mse = m.mse.unwrap();
    // The variance of IMDB ratings is about 12.5: a model must do better than the mean.
    assert!(mse < 8.0, "training mse {mse}");
    match reg.predict(&["Superb.", "Terrible."]).unwrap() {
        Predictions::Values { values, dim } => {
            assert_eq!((values.len(), dim), (2, 1));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn the_command_line_fits_predicts_and_evaluates_text() {
    const BIN: &str = env!("CARGO_BIN_EXE_autocandle");
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("imdb");
    let d = imdb();
    for (part, ds) in [
        ("train", balanced(&d.train, 300)),
        ("test", balanced(&d.test, 100)),
    ] {
        let Targets::Int(y) = &ds.y else { panic!() };
        for (i, (text, label)) in ds.texts.iter().zip(y).enumerate() {
            let sub = root
                .join("aclImdb")
                .join(part)
                .join(if *label == 1 { "pos" } else { "neg" });
            std::fs::create_dir_all(&sub).unwrap();
            let rating = if *label == 1 { 9 } else { 2 };
            std::fs::write(sub.join(format!("{i}_{rating}.txt")), text).unwrap();
        }
    }
    let project = dir.path().join("proj");
    let data = format!("imdb:{}", root.display());
    let out = std::process::Command::new(BIN)
        .args([
            "fit",
            "--task",
            "text-classifier",
            "--data",
            &data,
            "--max-trials",
            "1",
        ])
        .args([
            "--epochs",
            "2",
            "--batch-size",
            "32",
            "--seed",
            "2",
            "--project",
        ])
        .arg(&project)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    let last: serde_json::Value = serde_json::from_str(stdout.lines().last().unwrap()).unwrap();
    let acc = last["test_accuracy"].as_f64().unwrap();
    assert!((0.0..=1.0).contains(&acc), "{last}");
    assert_eq!(last["completed_trials"], 1);
    let model = project.join("best_model");
    let out = std::process::Command::new(BIN)
        .args(["predict", "--model"])
        .arg(&model)
        .args(["--data", &data, "--limit", "3"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<String> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(String::from)
        .collect();
    assert_eq!(lines.len(), 3);
    assert!(lines.iter().all(|l| l == "0" || l == "1"), "{lines:?}");
    let out = std::process::Command::new(BIN)
        .args(["evaluate", "--model"])
        .arg(&model)
        .args(["--data", &data])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["test_accuracy"].as_f64(), Some(acc));
    // A text task on images is refused with a pointer to the right source.
    let out = std::process::Command::new(BIN)
        .args([
            "fit",
            "--task",
            "text-classifier",
            "--data",
            "digits",
            "--project",
        ])
        .arg(dir.path().join("p2"))
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("imdb:"));
}

/// Writes `d` as a CSV file with a `review` column and a `sentiment` column (`neg`/`pos`).
fn write_reviews_csv(path: &Path, d: &TextDataset) {
    let Targets::Int(y) = &d.y else {
        panic!("sentiment labels")
    };
    let mut f = std::fs::File::create(path).unwrap();
    writeln!(f, "id,review,sentiment").unwrap();
    for (i, (t, l)) in d.texts.iter().zip(y).enumerate() {
        let label = if *l == 1 { "pos" } else { "neg" };
        writeln!(f, "{i},\"{}\",{label}", t.replace('"', "\"\"")).unwrap();
    }
}

#[test]
fn cli_fits_texts_from_a_csv_column_and_names_a_missing_one() {
    let dir = tempfile::tempdir().unwrap();
    let (train, test) = (dir.path().join("train.csv"), dir.path().join("test.csv"));
    write_reviews_csv(&train, &balanced(&imdb().train, 600));
    write_reviews_csv(&test, &balanced(&imdb().test, 200));
    let run = |column: &str| {
        std::process::Command::new(env!("CARGO_BIN_EXE_autocandle"))
            .args(["fit", "--task", "text-classifier", "--data"])
            .arg(format!("csv:{}", train.display()))
            .arg("--test")
            .arg(format!("csv:{}", test.display()))
            .args(["--target", "sentiment", "--text-column", column])
            .args([
                "--max-trials",
                "1",
                "--epochs",
                "4",
                "--seed",
                "2",
                "--project",
            ])
            .arg(dir.path().join("project"))
            .arg("--overwrite")
            .output()
            .unwrap()
    };
    let out = run("review");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let last = stdout.lines().last().unwrap_or_default();
    let v: serde_json::Value = serde_json::from_str(last).unwrap();
    assert_eq!(v["test_rows"], 200, "{last}");
    let acc = v["test_accuracy"].as_f64().unwrap();
    assert!(acc > 0.6, "test accuracy {acc}: {last}");
    assert!(
        stderr.contains("600 texts from column \"review\""),
        "{stderr}"
    );

    let out = run("text");
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("text column \"text\"") && stderr.contains("id, review, sentiment"),
        "{stderr}"
    );
}
