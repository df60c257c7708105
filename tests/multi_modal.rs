//! The multi-modal, multi-task AutoModel: an image input and a numeric input feeding a
//! classification head and a regression head; raw texts and a raw table (Titanic) feeding the
//! same two heads; windows of a series (Melbourne temperatures); and bad inputs.

mod common;

use autocandle::blocks::{DenseBlock, ImageBlock};
use autocandle::data::{ImageData, ImageDataset, Targets};
use autocandle::export::{Model, Predictions};
use autocandle::graph::{Branch, HeadKind, Layer, Merge, Node, SequenceLayer};
use autocandle::heads::{ClassificationHead, RegressionHead};
use autocandle::inputs::{InputData, InputEncoder, InputSpec};
use autocandle::prelude::*;
use autocandle::preprocessing::Label;
use common::quick_config;
use polars::prelude::{DataFrame, DataType};
use std::path::PathBuf;

/// Per image: the ink of each of its 8 columns (a second, numeric view of the same digit), and
/// the image's total ink, standardised over the whole set (a regression target both inputs can
/// predict; its variance is 1 on the whole set).
fn views(d: &ImageDataset) -> (ImageData, Targets) {
    let n = d.len();
    let mut cols = Vec::with_capacity(n * 8);
    let mut ink = Vec::with_capacity(n);
    for i in 0..n {
        let px = |r: usize, c: usize| d.x.pixels.get(i * 64 + r * 8 + c);
        for c in 0..8 {
            cols.push((0..8).map(|r| px(r, c)).sum::<f32>() / 128.0);
        }
        ink.push((0..64).map(|j| px(j / 8, j % 8)).sum::<f32>());
    }
    let all = autocandle::datasets::digits().unwrap();
    let totals: Vec<f32> = (0..all.len())
        .map(|i| (0..64).map(|j| all.x.pixels.get(i * 64 + j)).sum())
        .collect();
    let mean = totals.iter().sum::<f32>() / totals.len() as f32;
    let std = (totals.iter().map(|t| (t - mean).powi(2)).sum::<f32>() / totals.len() as f32).sqrt();
    let ink = ink.iter().map(|v| (v - mean) / std).collect();
    (
        ImageData::from_f32(cols, &[n, 1, 1, 8]).unwrap(),
        Targets::Float {
            values: ink,
            dim: 1,
        },
    )
}

fn search(dir: &std::path::Path) -> MultiModal {
    let mut config = quick_config(dir, "multi");
    config.max_trials = 1;
    config.epochs = 8;
    MultiModal::new(config)
        .input(InputKind::Image, vec![Box::new(ImageBlock::default())])
        .input(InputKind::Numeric, vec![Box::new(DenseBlock::default())])
        .head(ClassificationHead::new(10))
        .head(RegressionHead::new(1))
}

#[test]
fn an_image_and_a_numeric_input_train_two_heads_export_load_and_predict() {
    let dir = tempfile::tempdir().unwrap();
    let all = autocandle::datasets::digits().unwrap();
    let train = all.take(1200);
    let test = all.select(&(1200..all.len()).collect::<Vec<_>>());
    let (train_num, train_ink) = views(&train);
    let (test_num, test_ink) = views(&test);
    let mut s = search(dir.path());
    s.fit(&[&train.x, &train_num], &[&train.y, &train_ink], None)
        .unwrap();

    let metrics = s
        .evaluate(&[&test.x, &test_num], &[&test.y, &test_ink])
        .unwrap();
    assert_eq!(metrics.len(), 2);
    let acc = metrics[0].accuracy.unwrap();
    assert!(acc > 0.8, "classification head accuracy {acc}");
    let Targets::Float { values, .. } = &test_ink else {
        unreachable!()
    };
    let mean = values.iter().sum::<f32>() / values.len() as f32;
    let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f32>() as f64 / values.len() as f64;
    let mse = metrics[1].mse.unwrap();
    assert!(
        mse < 0.5 * var,
        "regression head mse {mse} vs target variance {var}"
    );

    let preds = s.predict(&[&test.x, &test_num]).unwrap();
    assert!(matches!(&preds[0], Predictions::Labels(l) if l.len() == test.len()));
    assert!(
        matches!(&preds[1], Predictions::Values { values, dim: 1 } if values.len() == test.len())
    );

    let model = s.export_model().unwrap();
    assert!(matches!(model.architecture().head, HeadKind::Multi { ref heads } if heads.len() == 2));
    let saved = dir.path().join("saved");
    model.save(&saved).unwrap();
    let loaded = Model::load(&saved).unwrap();
    assert_eq!(loaded.predict_inputs(&[&test.x, &test_num]).unwrap(), preds);
    // One input alone is refused with a message naming the count.
    let err = loaded.predict_inputs(&[&test.x]).unwrap_err().to_string();
    assert!(err.contains("2 inputs"), "{err}");
    // A single-head predict is refused for a two-head model.
    let packed =
        autocandle::inputs::pack(&[&test.x, &test_num], &loaded.preprocessing().inputs).unwrap();
    let err = loaded.predict(&packed).unwrap_err().to_string();
    assert!(err.contains("predict_heads"), "{err}");
}

#[test]
fn targets_that_do_not_match_the_heads_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let d = common::small_digits(100);
    let (num, ink) = views(&d);
    let err = search(dir.path())
        .fit(&[&d.x, &num], &[&d.y], None)
        .unwrap_err()
        .to_string();
    assert!(err.contains("2 heads but 1"), "{err}");
    let err = MultiModal::new(quick_config(dir.path(), "m2"))
        .input(InputKind::Image, vec![Box::new(ImageBlock::default())])
        .input(InputKind::Numeric, vec![Box::new(DenseBlock::default())])
        .head(ClassificationHead::new(3))
        .head(RegressionHead::new(1))
        .fit(&[&d.x, &num], &[&d.y, &ink], None)
        .unwrap_err()
        .to_string();
    assert!(err.contains("ClassificationHead::new(10)"), "{err}");
    let short = num.select(&(0..50).collect::<Vec<_>>());
    let err = search(dir.path())
        .fit(&[&d.x, &short], &[&d.y, &ink], None)
        .unwrap_err()
        .to_string();
    assert!(err.contains("50 samples"), "{err}");
}

#[test]
fn branches_take_their_own_slice_and_heads_concatenate() {
    // Input 1: two numbers, input 2: three; each branch sums its own slice through a dense
    // layer of ones, the concatenation gives both sums, and two heads copy them out.
    use autocandle::graph::{Activation, Architecture, Network, Phase};
    use candle_core::{Device, Tensor};
    let dense = |name: &str, units| {
        Node::new(
            name,
            "t",
            Layer::Dense {
                units,
                activation: Activation::Linear,
            },
        )
    };
    let arch = Architecture {
        input_shape: vec![1, 1, 5],
        nodes: vec![
            Node::new(
                "merge",
                "t",
                Layer::Inputs {
                    branches: vec![
                        Branch {
                            offset: 0,
                            shape: vec![2],
                            nodes: vec![dense("a", 1)],
                        },
                        Branch {
                            offset: 2,
                            shape: vec![3],
                            nodes: vec![dense("b", 1)],
                        },
                    ],
                    merge: Merge::Concatenate,
                },
            ),
            Node::new(
                "heads",
                "t",
                Layer::Heads {
                    heads: vec![vec![dense("h1", 1)], vec![dense("h2", 2)]],
                },
            ),
        ],
        head: HeadKind::Multi {
            heads: vec![
                HeadKind::Regression { dim: 1 },
                HeadKind::Regression { dim: 2 },
            ],
        },
    };
    let summary = arch.summary().unwrap();
    assert_eq!(summary.output_shape, vec![3]);
    // a: 2+1, b: 3+1, h1: 2+1, h2: 4+2
    assert_eq!(summary.total_params, 3 + 4 + 3 + 6);
    let mut rng = <rand_chacha::ChaCha8Rng as rand::SeedableRng>::seed_from_u64(0);
    let net = Network::new(arch, &Device::Cpu, &mut rng).unwrap();
    let set = |name: &str, v: Vec<f32>, shape: (usize, usize)| {
        net.params
            .set(name, &Tensor::from_vec(v, shape, &Device::Cpu).unwrap())
            .unwrap()
    };
    set("a.kernel", vec![1.0; 2], (2, 1));
    set("b.kernel", vec![1.0; 3], (3, 1));
    set("h1.kernel", vec![1.0, 0.0], (2, 1));
    set("h2.kernel", vec![0.0, 0.0, 0.0, 1.0], (2, 2));
    let x = Tensor::from_vec(vec![1f32, 2., 3., 4., 5.], (1, 1, 1, 5), &Device::Cpu).unwrap();
    let y = net.forward(&x, &mut Phase::Eval).unwrap();
    assert_eq!(
        y.flatten_all().unwrap().to_vec1::<f32>().unwrap(),
        vec![3.0, 0.0, 12.0]
    );
}

fn data_dir() -> PathBuf {
    std::env::var_os("AUTOCANDLE_DATA")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/data")))
}

fn f64_column(df: &DataFrame, name: &str) -> Vec<f64> {
    let c = df.column(name).unwrap().cast(&DataType::Float64).unwrap();
    c.f64().unwrap().iter().map(|v| v.unwrap()).collect()
}

fn str_column(df: &DataFrame, name: &str) -> Vec<String> {
    let c = df.column(name).unwrap().cast(&DataType::String).unwrap();
    c.str()
        .unwrap()
        .iter()
        .map(|s| s.unwrap_or_default().to_string())
        .collect()
}

/// A Titanic file split three ways: a sentence per passenger written from the columns sex,
/// class, deck, port and alone (the text input); the columns age, siblings/spouses and
/// parents/children (the table input); and the targets survived (classification) and
/// ln(1 + fare), standardised with `scale` (regression).
struct Passengers {
    texts: Vec<String>,
    table: DataFrame,
    survived: Targets,
    fare: Targets,
}

fn passengers(part: &str, scale: Option<(f32, f32)>) -> (Passengers, (f32, f32)) {
    let df =
        autocandle::data::read_csv(data_dir().join("titanic").join(format!("{part}.csv"))).unwrap();
    let (sex, class, deck, town, alone) = (
        str_column(&df, "sex"),
        str_column(&df, "class"),
        str_column(&df, "deck"),
        str_column(&df, "embark_town"),
        str_column(&df, "alone"),
    );
    let texts = (0..df.height())
        .map(|i| {
            let company = if alone[i] == "y" {
                "alone"
            } else {
                "with family"
            };
            format!(
                "A {} passenger in {} class, deck {}, boarded at {}, travelling {company}.",
                sex[i], class[i], deck[i], town[i]
            )
        })
        .collect();
    let table = df.select(["age", "n_siblings_spouses", "parch"]).unwrap();
    let survived = Targets::Int(
        f64_column(&df, "survived")
            .iter()
            .map(|&v| v as i64)
            .collect(),
    );
    let log_fare: Vec<f32> = f64_column(&df, "fare")
        .iter()
        .map(|&v| (1.0 + v).ln() as f32)
        .collect();
    let scale = scale.unwrap_or_else(|| {
        let n = log_fare.len() as f32;
        let mean = log_fare.iter().sum::<f32>() / n;
        let var = log_fare.iter().map(|v| (v - mean).powi(2)).sum::<f32>() / n;
        (mean, var.sqrt())
    });
    let fare = Targets::Float {
        values: log_fare.iter().map(|v| (v - scale.0) / scale.1).collect(),
        dim: 1,
    };
    (
        Passengers {
            texts,
            table,
            survived,
            fare,
        },
        scale,
    )
}

fn variance(t: &Targets) -> f64 {
    let Targets::Float { values, .. } = t else {
        unreachable!()
    };
    let n = values.len() as f64;
    let mean = values.iter().map(|&v| v as f64).sum::<f64>() / n;
    values
        .iter()
        .map(|&v| (v as f64 - mean).powi(2))
        .sum::<f64>()
        / n
}

/// The message of an error that must happen.
fn err<T: std::fmt::Debug>(r: autocandle::Result<T>) -> String {
    r.unwrap_err().to_string()
}

fn texts_and_table(dir: &std::path::Path, name: &str, epochs: usize) -> MultiModal {
    let mut config = quick_config(dir, name);
    config.max_trials = 1;
    config.epochs = epochs;
    MultiModal::new(config)
        .input(
            TextInput {
                sequence_length: 32,
                ..Default::default()
            },
            vec![],
        )
        .input(InputKind::StructuredData, vec![])
        .head(ClassificationHead::new(2))
        .head(RegressionHead::new(1))
}

#[test]
fn raw_texts_and_a_raw_table_train_two_heads_export_load_and_predict() {
    let dir = tempfile::tempdir().unwrap();
    let (train, scale) = passengers("train", None);
    let (test, _) = passengers("eval", Some(scale));
    let mut s = texts_and_table(dir.path(), "texts_table", 20);
    s.fit(
        &[InputData::from(&train.texts), InputData::from(&train.table)],
        &[&train.survived, &train.fare],
        None,
    )
    .unwrap();
    let x = [InputData::from(&test.texts), InputData::from(&test.table)];
    let metrics = s.evaluate(&x, &[&test.survived, &test.fare]).unwrap();
    let acc = metrics[0].accuracy.unwrap();
    let majority = 165.0 / 264.0; // eval.csv: 165 did not survive, 99 did
    assert!(
        acc > majority + 0.08,
        "accuracy {acc} vs majority {majority}"
    );
    let mse = metrics[1].mse.unwrap();
    let var = variance(&test.fare);
    assert!(mse < 0.6 * var, "regression mse {mse} vs variance {var}");

    let preds = s.predict(&x).unwrap();
    assert!(matches!(&preds[0], Predictions::Labels(l)
        if l.len() == 264 && l.iter().all(|l| matches!(l, Label::Int(0 | 1)))));
    assert!(matches!(&preds[1], Predictions::Values { values, dim: 1 } if values.len() == 264));

    // Each branch starts with its input's default block, scoped by input.
    let model = s.export_model().unwrap();
    let Layer::Inputs { branches, .. } = &model.architecture().nodes[0].layer else {
        panic!("the first node merges the inputs")
    };
    assert_eq!(branches[0].shape, vec![32, 1, 1]);
    // The text branch starts as TF-IDF → Dense, the text tasks' first configuration.
    assert_eq!(branches[0].nodes[0].name, "input_1/text_block_1/tf_idf");
    assert!(matches!(
        branches[0].nodes[0].layer,
        Layer::Sequence(SequenceLayer::TfIdf(_))
    ));
    assert!(branches[1].nodes[0]
        .name
        .starts_with("input_2/structured_data_block_1/"));

    let saved = dir.path().join("saved");
    model.save(&saved).unwrap();
    let loaded = Model::load(&saved).unwrap();
    // The tokenizer and the column encoders travel with the model.
    let inputs = &loaded.preprocessing().inputs;
    assert!(
        matches!(&inputs[0].encoder, Some(InputEncoder::Tokenizer(t)) if t.words().contains(&"southampton".to_string()))
    );
    assert!(matches!(&inputs[1].encoder, Some(InputEncoder::Table(t)) if t.columns.len() == 3));
    // Raw strings (as &str too) and a raw DataFrame give the same predictions as before.
    let strs: Vec<&str> = test.texts.iter().map(String::as_str).collect();
    let again = loaded
        .predict_inputs(&[InputData::from(&strs), InputData::from(&test.table)])
        .unwrap();
    assert_eq!(again, preds);
    let m = loaded
        .evaluate_inputs(&x, &[&test.survived, &test.fare])
        .unwrap();
    assert_eq!(m[0].accuracy, Some(acc));
}

#[test]
fn bad_inputs_are_refused_with_clear_messages() {
    let dir = tempfile::tempdir().unwrap();
    let (train, _) = passengers("train", None);
    let ys = [&train.survived, &train.fare];

    // At fit time: the count, the kind of each value, the rows.
    let mut s = texts_and_table(dir.path(), "bad", 1);
    let e = err(s.fit(&[InputData::from(&train.texts)], &ys, None));
    assert!(e.contains("takes 2 inputs but 1"), "{e}");
    let e = err(s.fit(
        &[InputData::from(&train.table), InputData::from(&train.texts)],
        &ys,
        None,
    ));
    assert!(
        e.contains("input 1 is a text input") && e.contains("not a table"),
        "{e}"
    );
    let short = train.table.head(Some(100));
    let e = err(s.fit(
        &[InputData::from(&train.texts), InputData::from(&short)],
        &ys,
        None,
    ));
    assert!(
        e.contains("input 2 has 100 samples, input 1 has 627"),
        "{e}"
    );

    // The same checks on a trained, reloaded model.
    s.fit(
        &[InputData::from(&train.texts), InputData::from(&train.table)],
        &ys,
        None,
    )
    .unwrap();
    let saved = dir.path().join("saved");
    s.export_model().unwrap().save(&saved).unwrap();
    let model = Model::load(&saved).unwrap();
    let e = err(model.predict_inputs(&[InputData::from(&train.texts)]));
    assert!(e.contains("takes 2 inputs but 1"), "{e}");
    let numbers = ImageData::from_f32(vec![0.0; 627 * 3], &[627, 1, 1, 3]).unwrap();
    let e = err(model.predict_inputs(&[InputData::from(&train.texts), InputData::from(&numbers)]));
    assert!(
        e.contains("input 2 is a structured-data input") && e.contains("not an array"),
        "{e}"
    );
    let e = err(model.predict_inputs(&[
        InputData::from(&train.texts[..5]),
        InputData::from(&train.table),
    ]));
    assert!(e.contains("input 2 has 627 samples, input 1 has 5"), "{e}");
    let no_age = train.table.drop("age").unwrap();
    let e = err(model.predict_inputs(&[InputData::from(&train.texts), InputData::from(&no_age)]));
    assert!(e.contains("age"), "{e}");
    let e = err(model.evaluate_inputs(
        &[InputData::from(&train.texts), InputData::from(&train.table)],
        &[&train.survived.select(&[0, 1]), &train.fare],
    ));
    assert!(e.contains("627 samples but y has 2"), "{e}");
    // Encoded arrays are still taken by pack, against the saved shapes.
    let specs: &[InputSpec] = &model.preprocessing().inputs;
    let ids = ImageData::from_f32(vec![0.0; 4 * 32], &[4, 32, 1, 1]).unwrap();
    let e = err(autocandle::inputs::pack(&[&ids, &numbers], specs));
    assert!(e.contains("input 2 has samples of shape [1, 1, 3]"), "{e}");
}

#[test]
fn windows_of_a_series_are_standardised_and_forecast() {
    // Melbourne's daily minimum temperature from the 14 days before it.
    let dir = tempfile::tempdir().unwrap();
    let df = autocandle::data::read_csv(
        data_dir().join("daily_min_temperatures/daily-min-temperatures.csv"),
    )
    .unwrap();
    let temp: Vec<f32> = f64_column(&df, "Temp").iter().map(|&v| v as f32).collect();
    let steps = 14;
    // Raw windows; the target standardised (regression heads take targets as given).
    let (mean, std) = (11.2, 4.1);
    let windows = |range: std::ops::Range<usize>| {
        let n = range.len();
        let x: Vec<f32> = range
            .clone()
            .flat_map(|i| temp[i..i + steps].to_vec())
            .collect();
        let y: Vec<f32> = range.map(|i| (temp[i + steps] - mean) / std).collect();
        (
            ImageData::from_f32(x, &[n, steps, 1, 1]).unwrap(),
            Targets::Float { values: y, dim: 1 },
        )
    };
    let (train_x, train_y) = windows(0..2000);
    let (test_x, test_y) = windows(2000..2365);
    let mut config = quick_config(dir.path(), "windows");
    config.max_trials = 1;
    config.epochs = 60;
    let mut s = MultiModal::new(config)
        .input(InputKind::Timeseries, vec![])
        .head(RegressionHead::new(1));
    s.fit(&[InputData::Windows(&train_x)], &[&train_y], None)
        .unwrap();
    let m = s
        .evaluate(&[InputData::Windows(&test_x)], &[&test_y])
        .unwrap();
    // Better than tomorrow = today (the persistence forecast).
    let persistence = (2000..2365)
        .map(|i| ((temp[i + steps] - temp[i + steps - 1]) / std).powi(2) as f64)
        .sum::<f64>()
        / 365.0;
    let mse = m[0].mse.unwrap();
    assert!(
        mse < 0.9 * persistence,
        "mse {mse} vs persistence {persistence}"
    );
    let model = s.export_model().unwrap();
    let Layer::Inputs { branches, .. } = &model.architecture().nodes[0].layer else {
        panic!("the first node merges the inputs")
    };
    let Layer::Normalization { mean, .. } = &branches[0].nodes[0].layer else {
        panic!("windows are standardised first: {:?}", branches[0].nodes[0])
    };
    let train_mean = temp[..2000 + steps].iter().sum::<f32>() / (2000 + steps) as f32;
    assert!(
        (mean[0] - train_mean).abs() < 0.2,
        "{mean:?} vs {train_mean}"
    );
    assert!(branches[0].nodes[1]
        .name
        .starts_with("input_1/timeseries_block_1/"));
    // Windows must be [n, steps, 1, channels].
    let flat = ImageData::from_f32(vec![0.0; 2 * steps], &[2, 1, steps, 1]).unwrap();
    let e = MultiModal::new(quick_config(dir.path(), "bad_windows"))
        .input(InputKind::Timeseries, vec![])
        .head(RegressionHead::new(1))
        .fit(
            &[InputData::Windows(&flat)],
            &[&Targets::Float {
                values: vec![0.0; 2],
                dim: 1,
            }],
            None,
        )
        .unwrap_err()
        .to_string();
    assert!(e.contains("[n, steps, 1, channels]"), "{e}");
}
