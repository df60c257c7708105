//! The multi-modal, multi-task AutoModel: an image input and a numeric input feeding a
//! classification head and a regression head.

mod common;

use autocandle::blocks::{DenseBlock, ImageBlock};
use autocandle::data::{ImageData, ImageDataset, Targets};
use autocandle::export::{Model, Predictions};
use autocandle::graph::{Branch, HeadKind, Layer, Merge, Node};
use autocandle::heads::{ClassificationHead, RegressionHead};
use autocandle::prelude::*;
use common::quick_config;

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
