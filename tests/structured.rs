//! Structured data: CSV reading, column type inference and encoders, the two tasks on the real
//! Titanic and California housing files, save/load, class weights, the CLI, and bad input.

use autocandle::automodel::SearchConfig;
use autocandle::data::{read_csv, train_test_split};
use autocandle::export::{Model, Predictions};
use autocandle::prelude::*;
use autocandle::preprocessing::{ColumnType, Encoding, Label, TableEncoder, TableSpec};
use polars::prelude::{Column, DataFrame};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

fn data_dir() -> PathBuf {
    std::env::var_os("AUTOCANDLE_DATA")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/data")))
}

fn titanic(part: &str) -> DataFrame {
    read_csv(data_dir().join("titanic").join(format!("{part}.csv"))).unwrap()
}

/// One trial of `epochs` epochs, batch 32, seed 3, in `dir/name`.
fn quick(dir: &Path, name: &str, epochs: usize) -> SearchConfig {
    SearchConfig {
        max_trials: 1,
        epochs,
        patience: epochs,
        batch_size: 32,
        seed: 3,
        directory: dir.to_path_buf(),
        project_name: name.into(),
        overwrite: true,
        ..Default::default()
    }
}

fn labels(p: Predictions) -> Vec<Label> {
    match p {
        Predictions::Labels(l) => l,
        other => panic!("expected labels, got {other:?}"),
    }
}

fn values(p: Predictions) -> Vec<f32> {
    match p {
        Predictions::Values { values, dim: 1 } => values,
        other => panic!("expected one value per row, got {other:?}"),
    }
}

/// Replaces column `name` of `df`.
fn with(df: &DataFrame, col: Column) -> DataFrame {
    let mut out = df.clone();
    out.with_column(col).unwrap();
    out
}

fn f64_column(df: &DataFrame, name: &str) -> Vec<Option<f64>> {
    let c = df
        .column(name)
        .unwrap()
        .cast(&polars::prelude::DataType::Float64)
        .unwrap();
    c.f64().unwrap().iter().collect()
}

fn str_column(df: &DataFrame, name: &str) -> Vec<Option<String>> {
    df.column(name)
        .unwrap()
        .str()
        .unwrap()
        .iter()
        .map(|s| s.map(String::from))
        .collect()
}

#[test]
fn titanic_column_types_follow_the_five_percent_rule_and_user_overrides() {
    let train = titanic("train");
    let enc = TableEncoder::fit(&train, "survived", &TableSpec::default()).unwrap();
    let types = enc.column_types();
    use ColumnType::*;
    for c in ["sex", "class", "deck", "embark_town", "alone"] {
        assert_eq!(types[c], Categorical, "{c}: strings are categorical");
    }
    for c in ["age", "fare"] {
        assert_eq!(types[c], Numerical, "{c}: many distinct numbers");
    }
    // 7 and 6 distinct values among 627 rows: fewer than 5 %.
    for c in ["n_siblings_spouses", "parch"] {
        assert_eq!(types[c], Categorical, "{c}");
    }
    assert!(!types.contains_key("survived"), "the target is no feature");
    let sex = enc.columns.iter().find(|c| c.name == "sex").unwrap();
    match &sex.encoding {
        Encoding::Categorical {
            vocabulary,
            numeric,
        } => {
            assert_eq!(vocabulary, &["male", "female"], "most frequent first");
            assert!(numeric.is_none());
        }
        other => panic!("{other:?}"),
    }
    // Features: one-hot widths and the numbers' piecewise-linear bins add up.
    assert_eq!(enc.feature_names().len(), enc.width());
    assert!(enc.feature_names().contains(&"deck=unknown".to_string()));
    let x = enc.transform(&train).unwrap();
    assert_eq!(x.shape, [627, 1, 1, enc.width()]);

    // The user's types win; and the bins can be turned off.
    let spec = TableSpec {
        column_types: BTreeMap::from([
            ("parch".to_string(), Numerical),
            ("age".to_string(), Categorical),
        ]),
        numeric_bins: Some(0),
        ..Default::default()
    };
    let enc = TableEncoder::fit(&train, "survived", &spec).unwrap();
    assert_eq!(enc.column_types()["parch"], Numerical);
    assert_eq!(enc.column_types()["age"], Categorical);
    let fare = enc.columns.iter().find(|c| c.name == "fare").unwrap();
    assert_eq!(fare.width(), 1, "standardised value only");
    match &fare.encoding {
        // fare is non-negative with a long right tail: log-transformed.
        Encoding::Numerical(s) => assert!(s.log, "{s:?}"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn missing_values_are_imputed_with_an_indicator_and_unseen_categories_are_zero() {
    let train = titanic("train");
    let mut age = f64_column(&train, "age");
    let mut deck = str_column(&train, "deck");
    for i in (0..age.len()).step_by(10) {
        age[i] = None;
        deck[i] = None;
    }
    let holed = with(
        &with(&train, Column::new("age".into(), age)),
        Column::new("deck".into(), deck),
    );
    let enc = TableEncoder::fit(&holed, "survived", &TableSpec::default()).unwrap();
    let names = enc.feature_names();
    let pos = |n: &str| names.iter().position(|x| x == n).unwrap();
    let (age_col, age_missing, deck_missing) =
        (pos("age"), pos("age_missing"), pos("deck_missing"));
    assert!(
        !names.contains(&"fare_missing".to_string()),
        "fare had no missing value"
    );
    let age_enc = enc.columns.iter().find(|c| c.name == "age").unwrap();
    let Encoding::Numerical(scaler) = &age_enc.encoding else {
        panic!("age should stay numerical")
    };
    let deck_range: Vec<usize> = names
        .iter()
        .enumerate()
        .filter(|(_, n)| n.starts_with("deck="))
        .map(|(i, _)| i)
        .collect();
    let x = enc.transform(&holed).unwrap();
    let f = enc.width();
    let row = |i: usize| -> Vec<f32> { (0..f).map(|j| x.pixels.get(i * f + j)).collect() };
    // Row 0: age and deck missing.
    let r0 = row(0);
    assert_eq!(r0[age_missing], 1.0);
    assert_eq!(r0[deck_missing], 1.0);
    assert_eq!(
        r0[age_col],
        scaler.apply(Some(scaler.fill)),
        "imputed with the median"
    );
    assert!(
        deck_range.iter().all(|&j| r0[j] == 0.0),
        "missing category: all zero"
    );
    // Row 1: both present.
    let r1 = row(1);
    assert_eq!((r1[age_missing], r1[deck_missing]), (0.0, 0.0));
    assert_eq!(deck_range.iter().map(|&j| r1[j]).sum::<f32>(), 1.0);

    // At predict time: a category never seen ("Atlantis") is the zero vector, not an error, and
    // a missing fare (no indicator) is imputed.
    let eval = titanic("eval");
    let mut town = str_column(&eval, "embark_town");
    town[0] = Some("Atlantis".into());
    let mut fare = f64_column(&eval, "fare");
    fare[0] = None;
    let odd = with(
        &with(&eval, Column::new("embark_town".into(), town)),
        Column::new("fare".into(), fare),
    );
    let x = enc.transform(&odd).unwrap();
    let town_cols: Vec<usize> = names
        .iter()
        .enumerate()
        .filter(|(_, n)| n.starts_with("embark_town="))
        .map(|(i, _)| i)
        .collect();
    assert!(town_cols.iter().all(|&j| x.pixels.get(j) == 0.0));
    assert_eq!(
        town_cols.iter().map(|&j| x.pixels.get(f + j)).sum::<f32>(),
        1.0
    );
}

#[test]
fn classifier_learns_titanic_and_round_trips_through_save_and_load() {
    let dir = tempfile::tempdir().unwrap();
    let (train, eval) = (titanic("train"), titanic("eval"));
    let mut clf = StructuredDataClassifier::new(quick(dir.path(), "titanic", 25));
    clf.fit(&train, "survived", None).unwrap();
    let acc = clf.evaluate(&eval).unwrap().accuracy.unwrap();
    let majority = 165.0 / 264.0; // eval.csv: 165 did not survive, 99 did
    assert!(
        acc > majority + 0.08,
        "accuracy {acc} vs majority {majority}"
    );
    let before = labels(clf.predict(&eval).unwrap());
    let proba = clf.predict_proba(&eval).unwrap();
    let model = clf.export_model().unwrap();
    model.save(dir.path().join("saved")).unwrap();
    let loaded = Model::load(dir.path().join("saved")).unwrap();
    // A raw DataFrame, without the target column: the encoders travel with the model.
    let features = eval.drop("survived").unwrap();
    assert_eq!(labels(loaded.predict_table(&features).unwrap()), before);
    assert_eq!(loaded.predict_proba_table(&features).unwrap(), proba);
    assert!(before
        .iter()
        .all(|l| matches!(l, Label::Int(0) | Label::Int(1))));
    assert_eq!(loaded.evaluate_table(&eval).unwrap().accuracy, Some(acc));
    // The confusion matrix on the raw table agrees with the accuracy and the class counts.
    let cm = loaded.confusion_matrix_table(&eval).unwrap();
    assert_eq!(cm.classes, ["0", "1"]);
    assert_eq!(cm.counts[0].iter().sum::<usize>(), 165);
    assert_eq!(cm.counts[1].iter().sum::<usize>(), 99);
    assert!(
        (cm.accuracy() - acc).abs() < 1e-9,
        "{} vs {acc}",
        cm.accuracy()
    );
    // Without the target column it says which column it needs.
    let err = loaded.confusion_matrix_table(&features).unwrap_err();
    assert!(err.to_string().contains("survived"), "{err}");
}

#[test]
fn the_final_model_averages_the_final_fit_and_the_best_trials() {
    let dir = tempfile::tempdir().unwrap();
    let (train, eval) = (titanic("train"), titanic("eval"));
    let mut clf = StructuredDataClassifier::new(SearchConfig {
        max_trials: 3,
        ensemble_trials: 2,
        ..quick(dir.path(), "ensemble", 8)
    });
    clf.fit(&train, "survived", None).unwrap();
    let model = clf.export_model().unwrap();
    let arch = model.architecture();
    assert_eq!(arch.nodes.len(), 1, "{:?}", arch.nodes);
    assert_eq!(arch.nodes[0].name, autocandle::graph::ENSEMBLE_NODE);
    match &arch.nodes[0].layer {
        autocandle::graph::Layer::Inputs { branches, .. } => {
            assert_eq!(branches.len(), 3, "the final fit and the 2 best trials")
        }
        other => panic!("expected the ensemble's branches, got {other:?}"),
    }
    let acc = model.evaluate_table(&eval).unwrap().accuracy.unwrap();
    assert!(acc > 165.0 / 264.0 + 0.08, "accuracy {acc}");
    model.save(dir.path().join("saved")).unwrap();
    let loaded = Model::load(dir.path().join("saved")).unwrap();
    assert_eq!(
        loaded.predict_proba_table(&eval).unwrap(),
        model.predict_proba_table(&eval).unwrap()
    );
}

#[test]
fn class_weights_reach_the_training_loss_and_change_what_is_learnt() {
    use autocandle::graph::{Activation, Architecture, HeadKind, Layer, Network, Node};
    use autocandle::training::{fit, EncodedTargets, FitConfig, OptimizerKind, TrainData};
    use rand::SeedableRng;
    let dir = tempfile::tempdir().unwrap();
    let (train, eval) = (titanic("train"), titanic("eval"));
    // The task turns "balanced" into n / (k * n_class) per class: 384 died, 243 survived.
    let mut clf = StructuredDataClassifier::new(quick(dir.path(), "balanced", 1));
    clf.class_weight = ClassWeight::Balanced;
    clf.fit(&train, "survived", None).unwrap();
    let w = clf.auto_model.config.class_weights.clone().unwrap();
    assert!(
        (w[0] - 627.0 / 768.0).abs() < 1e-6 && (w[1] - 627.0 / 486.0).abs() < 1e-6,
        "{w:?}"
    );

    // The training loop weighs each sample's loss by its class.
    let enc = TableEncoder::fit(&train, "survived", &TableSpec::default()).unwrap();
    let x = enc.transform(&train).unwrap();
    let y: Vec<u32> = f64_column(&train, "survived")
        .iter()
        .map(|v| v.unwrap() as u32)
        .collect();
    let data = TrainData {
        x,
        y: EncodedTargets::Classes(y),
    };
    let x_eval = enc.transform(&eval).unwrap();
    let positive_rate = |class_weights: Option<Vec<f32>>| {
        let arch = Architecture {
            input_shape: vec![1, 1, enc.width()],
            nodes: vec![
                Node::new("flatten", "t", Layer::Flatten),
                Node::new(
                    "hidden",
                    "t",
                    Layer::Dense {
                        units: 16,
                        activation: Activation::Relu,
                    },
                ),
                Node::new(
                    "out",
                    "t",
                    Layer::Dense {
                        units: 2,
                        activation: Activation::Linear,
                    },
                ),
            ],
            head: HeadKind::Classification {
                num_classes: 2,
                sigmoid: false,
                multi_label: false,
            },
        };
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
        let net = Network::new(arch, &candle_core::Device::Cpu, &mut rng).unwrap();
        let cfg = FitConfig {
            epochs: 8,
            batch_size: 32,
            optimizer: OptimizerKind::Adam,
            learning_rate: 1e-2,
            patience: None,
            seed: 1,
            deadline: None,
            interrupt_at: None,
            class_weights,
        };
        fit(&net, &data, None, &cfg, &mut |_| {}).unwrap();
        let out = autocandle::training::predict_outputs(&net, &x_eval).unwrap();
        let pos = out.chunks(2).filter(|r| r[1] > r[0]).count();
        pos as f64 / (out.len() / 2) as f64
    };
    let plain = positive_rate(None);
    assert!(plain > 0.2 && plain < 0.6, "{plain}");
    // Deaths weigh nothing: survival is predicted throughout.
    let skewed = positive_rate(Some(vec![0.0, 1.0]));
    assert!(skewed > 0.95, "{skewed}");
    // Balanced weights raise the share of the rarer class (survivors).
    let balanced = positive_rate(Some(w));
    assert!(balanced > plain, "{balanced} vs {plain}");

    // A weight for a class that does not exist is an error.
    let mut clf = StructuredDataClassifier::new(quick(dir.path(), "unknown", 1));
    clf.class_weight = ClassWeight::Manual(BTreeMap::from([("7".to_string(), 2.0)]));
    let err = clf.fit(&train, "survived", None).unwrap_err();
    assert!(matches!(err, Error::Config(_)), "{err}");
    assert!(err.to_string().contains("\"7\""), "{err}");
}

#[test]
fn california_housing_loader_and_split() {
    let df =
        autocandle::datasets::california_housing(data_dir().join("california_housing")).unwrap();
    assert_eq!(df.height(), 20_640);
    let names: Vec<String> = df
        .get_column_names()
        .iter()
        .map(|s| s.to_string())
        .collect();
    assert_eq!(
        names,
        [
            "longitude",
            "latitude",
            "housingMedianAge",
            "totalRooms",
            "totalBedrooms",
            "population",
            "households",
            "medianIncome",
            "medianHouseValue"
        ]
    );
    let y = f64_column(&df, "medianHouseValue");
    let mean = y.iter().flatten().sum::<f64>() / y.len() as f64;
    assert!(
        (mean - 2.0686).abs() < 1e-3,
        "in units of 100,000 $: {mean}"
    );
    let (a, b) = train_test_split(&df, 0.2, 42).unwrap();
    assert_eq!((a.height(), b.height()), (16_512, 4_128));
    let (a2, _) = train_test_split(&df, 0.2, 42).unwrap();
    assert!(a.equals(&a2), "the split is seeded");
    let (a3, _) = train_test_split(&df, 0.2, 43).unwrap();
    assert!(!a.equals(&a3));
}

#[test]
fn regressor_predicts_in_the_targets_units() {
    let dir = tempfile::tempdir().unwrap();
    let df =
        autocandle::datasets::california_housing(data_dir().join("california_housing")).unwrap();
    let (rest, _) = train_test_split(&df, 0.85, 1).unwrap(); // 3,096 rows
    let (train, test) = train_test_split(&rest, 0.25, 2).unwrap();
    let mut reg = StructuredDataRegressor::new(SearchConfig {
        batch_size: 64,
        ..quick(dir.path(), "cal", 4)
    });
    reg.fit(&train, "medianHouseValue", None).unwrap();
    let m = reg.evaluate(&test).unwrap();
    let y: Vec<f64> = f64_column(&test, "medianHouseValue")
        .into_iter()
        .flatten()
        .collect();
    let mean = y.iter().sum::<f64>() / y.len() as f64;
    let var = y.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / y.len() as f64;
    let mse = m.mse.unwrap();
    assert!(
        mse < 0.6 * var,
        "mse {mse} vs target variance {var}: it should learn"
    );
    // evaluate and predict agree, in the target's units (not standardised ones).
    let p = values(reg.predict(&test).unwrap());
    let by_hand = p
        .iter()
        .zip(&y)
        .map(|(a, b)| (*a as f64 - b).powi(2))
        .sum::<f64>()
        / y.len() as f64;
    assert!(
        (by_hand - mse).abs() < 1e-3 * mse.max(1e-6),
        "{by_hand} vs {mse}"
    );
    let pmean = p.iter().map(|v| *v as f64).sum::<f64>() / p.len() as f64;
    assert!((pmean - mean).abs() < 0.5, "{pmean} vs {mean}");
    // The saved model gives the same values.
    let model = reg.export_model().unwrap();
    model.save(dir.path().join("m")).unwrap();
    let loaded = Model::load(dir.path().join("m")).unwrap();
    assert_eq!(values(loaded.predict_table(&test).unwrap()), p);
}

#[test]
fn a_missing_target_column_is_an_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let mut clf = StructuredDataClassifier::new(quick(dir.path(), "t", 1));
    let err = clf.fit(&titanic("train"), "survival", None).unwrap_err();
    assert!(matches!(err, Error::ColumnNotFound { .. }), "{err}");
    let text = err.to_string();
    assert!(
        text.contains("\"survival\"") && text.contains("survived"),
        "{text}"
    );
}

#[test]
fn a_ragged_csv_is_an_error_naming_the_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ragged.csv");
    std::fs::write(&path, "a,b,c\n1,2,3\n4,5,6\n7,8\n9,10,11\n").unwrap();
    let err = read_csv(&path).unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, Error::Format { .. }), "{text}");
    assert!(text.contains("line 4 has 2 field(s)"), "{text}");
    assert!(text.contains("ragged.csv"), "{text}");
    // Too many fields too.
    std::fs::write(&path, "a,b\n1,2\n3,4,5\n").unwrap();
    assert!(read_csv(&path)
        .unwrap_err()
        .to_string()
        .contains("line 3 has 3"));
    // A missing file.
    let err = read_csv(dir.path().join("nope.csv")).unwrap_err();
    assert!(matches!(err, Error::DataNotFound { .. }), "{err}");
}

#[test]
fn a_target_with_one_class_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let train = titanic("train");
    let one = with(
        &train,
        Column::new("survived".into(), vec![1i64; train.height()]),
    );
    let mut clf = StructuredDataClassifier::new(quick(dir.path(), "t", 1));
    let err = clf.fit(&one, "survived", None).unwrap_err();
    assert!(matches!(err, Error::TooFewClasses { found: 1 }), "{err}");
    // Fractional targets belong to the regressor.
    let frac = with(
        &train,
        Column::new("survived".into(), vec![0.5f64; train.height()]),
    );
    let err = clf.fit(&frac, "survived", None).unwrap_err();
    assert!(err.to_string().contains("regressor"), "{err}");
}

#[test]
fn a_column_type_differing_from_training_is_an_error_at_predict_time() {
    let dir = tempfile::tempdir().unwrap();
    let (train, eval) = (titanic("train"), titanic("eval"));
    let mut clf = StructuredDataClassifier::new(quick(dir.path(), "t", 1));
    clf.fit(&train, "survived", None).unwrap();
    let ages: Vec<String> = f64_column(&eval, "age")
        .iter()
        .map(|a| format!("{:?}", a.unwrap_or(0.0)))
        .collect();
    let bad = with(&eval, Column::new("age".into(), ages));
    let err = clf.predict(&bad).unwrap_err();
    assert!(matches!(err, Error::ColumnType { .. }), "{err}");
    let text = err.to_string();
    assert!(
        text.contains("\"age\"") && text.contains("numeric") && text.contains("string"),
        "{text}"
    );
    // A missing feature column is named too.
    let err = clf.predict(&eval.drop("fare").unwrap()).unwrap_err();
    assert!(
        matches!(err, Error::ColumnNotFound { ref column, .. } if column == "fare"),
        "{err}"
    );
}

const BIN: &str = env!("CARGO_BIN_EXE_autocandle");

#[test]
fn cli_fits_a_csv_and_ends_with_the_json_line() {
    let dir = tempfile::tempdir().unwrap();
    let t = data_dir().join("titanic");
    let out = Command::new(BIN)
        .args([
            "fit",
            "--task",
            "structured-classifier",
            "--target",
            "survived",
        ])
        .arg("--data")
        .arg(format!("csv:{}", t.join("train.csv").display()))
        .arg("--test")
        .arg(format!("csv:{}", t.join("eval.csv").display()))
        .args([
            "--max-trials",
            "1",
            "--epochs",
            "5",
            "--seed",
            "2",
            "--project",
        ])
        .arg(dir.path().join("p"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let last: serde_json::Value = serde_json::from_str(stdout.lines().last().unwrap()).unwrap();
    assert!(last["test_accuracy"].as_f64().unwrap() > 0.6, "{last}");
    assert_eq!(last["test_rows"], 264);
    // The saved model evaluates the CSV on its own (it knows its target column).
    let ev = Command::new(BIN)
        .args(["evaluate", "--model"])
        .arg(dir.path().join("p/best_model"))
        .arg("--data")
        .arg(format!("csv:{}", t.join("eval.csv").display()))
        .output()
        .unwrap();
    assert!(
        ev.status.success(),
        "{}",
        String::from_utf8_lossy(&ev.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&ev.stdout).unwrap();
    assert_eq!(v["test_accuracy"], last["test_accuracy"]);

    // No --target: a clear error.
    let out = Command::new(BIN)
        .args(["fit", "--task", "structured-classifier"])
        .arg("--data")
        .arg(format!("csv:{}", t.join("train.csv").display()))
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--target"));
}
