//! Shapes, known values and gradient checks (autograd against central finite differences) of
//! the sequence layers.

use super::*;
use crate::graph::{Architecture, HeadKind, Layer, Node};
use candle_core::{DType, Device, Var};
use rand::{Rng, SeedableRng};
use std::collections::BTreeMap;

fn rng(seed: u64) -> ChaCha8Rng {
    ChaCha8Rng::seed_from_u64(seed)
}

fn random(shape: &[usize], seed: u64) -> Tensor {
    let mut r = rng(seed);
    let n: usize = shape.iter().product();
    let v: Vec<f32> = (0..n).map(|_| r.random::<f32>() * 2.0 - 1.0).collect();
    Tensor::from_vec(v, shape, &Device::Cpu).unwrap()
}

/// The layer's parameters, freshly initialised, as variables by suffix.
fn params(layer: &SequenceLayer, input: &[usize], seed: u64) -> BTreeMap<&'static str, Var> {
    let mut r = rng(seed);
    layer
        .param_shapes(input)
        .into_iter()
        .map(|(s, shape, _)| {
            let v = layer.init_param(s, &shape, &mut r);
            let t = Tensor::from_vec(v, shape, &Device::Cpu).unwrap();
            (s, Var::from_tensor(&t).unwrap())
        })
        .collect()
}

fn run(layer: &SequenceLayer, x: &Tensor, ps: &BTreeMap<&'static str, Var>) -> Tensor {
    let p = |s: &str| -> Result<&Tensor> {
        ps.get(s)
            .map(|v| v.as_tensor())
            .ok_or_else(|| Error::Config(format!("no parameter {s}")))
    };
    layer.forward(x, &p, &mut Phase::Eval).unwrap()
}

/// Checks d(sum(y * r))/d(every parameter) and, when `x` is a variable, d/dx, against central
/// differences at a few coordinates of each tensor. Also checks the output shape.
fn grad_check(layer: &SequenceLayer, input: &[usize], x: &Tensor, x_is_var: bool) {
    let ps = params(layer, input, 11);
    let xv = Var::from_tensor(x).unwrap();
    let xin = if x_is_var {
        xv.as_tensor().clone()
    } else {
        x.clone()
    };
    let y = run(layer, &xin, &ps);
    let mut want = vec![x.dim(0).unwrap()];
    want.extend(layer.output_shape("t", input).unwrap());
    assert_eq!(y.dims(), want.as_slice(), "{layer:?}");
    let r = random(y.dims(), 99);
    let loss = |xt: &Tensor| -> f64 {
        (run(layer, xt, &ps) * &r)
            .unwrap()
            .sum_all()
            .unwrap()
            .to_scalar::<f32>()
            .unwrap() as f64
    };
    let l = (y * &r).unwrap().sum_all().unwrap();
    let grads = l.backward().unwrap();
    let mut targets: Vec<(String, &Var)> = ps.iter().map(|(k, v)| (k.to_string(), v)).collect();
    if x_is_var {
        targets.push(("input".into(), &xv));
    }
    let mut pick = rng(5);
    for (name, var) in targets {
        let g = grads
            .get(var.as_tensor())
            .unwrap_or_else(|| panic!("{layer:?}: no gradient for {name}"))
            .flatten_all()
            .unwrap()
            .to_vec1::<f32>()
            .unwrap();
        let base = var
            .as_tensor()
            .flatten_all()
            .unwrap()
            .to_vec1::<f32>()
            .unwrap();
        let scale = g.iter().fold(0f32, |m, v| m.max(v.abs())).max(1e-3);
        for _ in 0..6 {
            let i = pick.random_range(0..base.len());
            let eps = 1e-2f32;
            let at = |d: f32| {
                let mut v = base.clone();
                v[i] += d;
                var.set(&Tensor::from_vec(v, var.dims(), &Device::Cpu).unwrap())
                    .unwrap();
                let xt = if x_is_var {
                    xv.as_tensor().clone()
                } else {
                    x.clone()
                };
                loss(&xt)
            };
            let numeric = ((at(eps) - at(-eps)) / (2.0 * eps as f64)) as f32;
            var.set(&Tensor::from_vec(base.clone(), var.dims(), &Device::Cpu).unwrap())
                .unwrap();
            assert!(
                (numeric - g[i]).abs() <= 2e-2 * scale + 2e-4,
                "{layer:?} d/d{name}[{i}]: autograd {} vs finite differences {numeric} (scale {scale})",
                g[i]
            );
        }
    }
}

fn ids(rows: &[&[u32]], len: usize) -> Tensor {
    let mut v = Vec::new();
    for r in rows {
        let mut row: Vec<f32> = r.iter().map(|&t| t as f32).collect();
        row.resize(len, 0.0);
        v.extend(row);
    }
    Tensor::from_vec(v, (rows.len(), len, 1, 1), &Device::Cpu).unwrap()
}

#[test]
fn token_window_keeps_the_first_tokens_maps_oov_and_pads_in_front() {
    let layer = SequenceLayer::TokenWindow {
        length: 4,
        max_tokens: 10,
    };
    let x = ids(&[&[5, 3, 25, 7, 8, 9], &[4], &[]], 6);
    let y = run(&layer, &x, &BTreeMap::new());
    assert_eq!(
        y.to_vec2::<f32>().unwrap(),
        vec![
            vec![5.0, 3.0, 1.0, 7.0],
            vec![0.0, 0.0, 0.0, 4.0],
            vec![0.0; 4]
        ]
    );
    assert_eq!(layer.output_shape("w", &[6, 1, 1]).unwrap(), vec![4]);
    assert!(layer.output_shape("w", &[6, 2]).is_err());
}

#[test]
fn embedding_looks_up_rows_maps_oov_and_has_exact_gradients() {
    let layer = SequenceLayer::Embedding {
        input_dim: 6,
        output_dim: 3,
    };
    let ps = params(&layer, &[4], 1);
    let table = ps["embeddings"].as_tensor().to_vec2::<f32>().unwrap();
    let x = Tensor::from_vec(vec![2f32, 5.0, 9.0, 0.0], (1, 4), &Device::Cpu).unwrap();
    let y = run(&layer, &x, &ps).to_vec3::<f32>().unwrap();
    assert_eq!(y[0][0], table[2]);
    assert_eq!(y[0][1], table[5]);
    assert_eq!(
        y[0][2], table[1],
        "an id beyond the table is out of vocabulary"
    );
    assert_eq!(y[0][3], table[0]);
    assert!(table.iter().flatten().all(|v| v.abs() <= 0.05));
    grad_check(
        &layer,
        &[5],
        &ids(&[&[2, 3, 3, 7], &[4, 5]], 5)
            .squeeze(3)
            .unwrap()
            .squeeze(2)
            .unwrap(),
        false,
    );
}

#[test]
fn position_embedding_adds_a_vector_per_step() {
    let layer = SequenceLayer::PositionEmbedding { length: 5 };
    assert!(layer.output_shape("p", &[4, 3]).is_err());
    grad_check(&layer, &[5, 3], &random(&[2, 5, 3], 1), true);
}

#[test]
fn conv1d_shapes_and_gradients() {
    for (padding, separable, out) in [
        (Padding::Same, false, 9),
        (Padding::Valid, false, 7),
        (Padding::Same, true, 9),
    ] {
        let layer = SequenceLayer::Conv1d {
            filters: 4,
            kernel: 3,
            padding,
            activation: Activation::Linear,
            separable,
        };
        assert_eq!(layer.output_shape("c", &[9, 5]).unwrap(), vec![out, 4]);
        grad_check(&layer, &[9, 5], &random(&[3, 9, 5], 2), true);
    }
    let too_long = SequenceLayer::Conv1d {
        filters: 4,
        kernel: 7,
        padding: Padding::Valid,
        activation: Activation::Relu,
        separable: false,
    };
    assert!(too_long.output_shape("c", &[5, 2]).is_err());
}

#[test]
fn pooling_over_steps() {
    let x = Tensor::from_vec(
        vec![1f32, -1.0, 3.0, 0.0, 2.0, 5.0, -4.0, 2.0, 9.0, 9.0],
        (1, 5, 2),
        &Device::Cpu,
    )
    .unwrap();
    let none = BTreeMap::new();
    let p = run(&SequenceLayer::MaxPool1d { size: 2 }, &x, &none);
    assert_eq!(
        p.to_vec3::<f32>().unwrap(),
        vec![vec![vec![3.0, 0.0], vec![2.0, 5.0]]]
    );
    let m = run(&SequenceLayer::GlobalMaxPool1d, &x, &none);
    assert_eq!(m.to_vec2::<f32>().unwrap(), vec![vec![9.0, 9.0]]);
    let a = run(&SequenceLayer::GlobalAvgPool1d, &x, &none);
    assert_eq!(a.to_vec2::<f32>().unwrap(), vec![vec![2.2, 3.0]]);
    assert_eq!(
        SequenceLayer::MaxPool1d { size: 2 }
            .output_shape("m", &[5, 2])
            .unwrap(),
        vec![2, 2]
    );
    assert_eq!(
        SequenceLayer::GlobalAvgPool1d
            .output_shape("g", &[5, 2])
            .unwrap(),
        vec![2]
    );
}

#[test]
fn recurrent_layers_shapes_and_gradients() {
    for kind in [RnnKind::Lstm, RnnKind::Gru] {
        for (bidirectional, return_sequences) in [(false, false), (true, true), (true, false)] {
            let layer = SequenceLayer::Rnn {
                kind,
                units: 3,
                bidirectional,
                return_sequences,
            };
            grad_check(&layer, &[4, 2], &random(&[2, 4, 2], 3), true);
        }
    }
}

#[test]
fn lstm_matches_a_hand_computed_step() {
    // One step, one unit, one input: every weight 0.5, bias as initialised (forget gate 1).
    let layer = SequenceLayer::Rnn {
        kind: RnnKind::Lstm,
        units: 1,
        bidirectional: false,
        return_sequences: false,
    };
    let mut ps = params(&layer, &[1, 1], 0);
    for k in ["kernel", "recurrent_kernel"] {
        ps.insert(
            k,
            Var::from_tensor(&Tensor::full(0.5f32, (1, 4), &Device::Cpu).unwrap()).unwrap(),
        );
    }
    let x = Tensor::from_vec(vec![2f32], (1, 1, 1), &Device::Cpu).unwrap();
    let h = run(&layer, &x, &ps).to_vec2::<f32>().unwrap()[0][0];
    let s = |v: f32| 1.0 / (1.0 + (-v).exp());
    // z = x * 0.5 = 1 for every gate, plus the forget bias 1; c0 = h0 = 0.
    let c = s(1.0) * 1f32.tanh();
    let want = s(1.0) * c.tanh();
    assert!((h - want).abs() < 1e-6, "{h} vs {want}");
}

#[test]
fn layer_norm_normalises_the_last_axis() {
    let layer = SequenceLayer::LayerNorm;
    let x = Tensor::from_vec(vec![1f32, 2.0, 3.0, 4.0], (1, 1, 4), &Device::Cpu).unwrap();
    let y = run(&layer, &x, &params(&layer, &[1, 4], 0))
        .flatten_all()
        .unwrap()
        .to_vec1::<f32>()
        .unwrap();
    let sd = 1.25f32.sqrt();
    for (a, b) in y.iter().zip([-1.5f32, -0.5, 0.5, 1.5]) {
        assert!((a - b / sd).abs() < 1e-4, "{y:?}");
    }
    grad_check(&layer, &[3, 4], &random(&[2, 3, 4], 4), true);
}

#[test]
fn transformer_encoder_shapes_and_gradients() {
    let layer = SequenceLayer::TransformerEncoder {
        num_heads: 2,
        dense_dim: 5,
        dropout: 0.0,
    };
    assert!(
        layer.output_shape("t", &[4, 5]).is_err(),
        "5 channels, 2 heads"
    );
    grad_check(&layer, &[4, 6], &random(&[2, 4, 6], 5), true);
}

#[test]
fn attention_rows_are_convex_combinations_of_values() {
    // With zero query and key weights every position attends equally: the output is the mean
    // of the value projections, the same at every step.
    let layer = SequenceLayer::TransformerEncoder {
        num_heads: 2,
        dense_dim: 4,
        dropout: 0.0,
    };
    let ps = params(&layer, &[3, 4], 2);
    for k in ["query_kernel", "key_kernel"] {
        ps[k]
            .set(&Tensor::zeros((4, 4), DType::F32, &Device::Cpu).unwrap())
            .unwrap();
    }
    let p = |s: &str| -> Result<&Tensor> { Ok(ps[s].as_tensor()) };
    let x = random(&[1, 3, 4], 8);
    let a = attention::self_attention(&x, &p, 2)
        .unwrap()
        .to_vec3::<f32>()
        .unwrap();
    for row in &a[0][1..] {
        for (v, first) in row.iter().zip(&a[0][0]) {
            assert!((v - first).abs() < 1e-5);
        }
    }
}

#[test]
fn tfidf_counts_ngrams_times_idf() {
    // Three texts; ids >= 2 are words.
    let x = ids(&[&[2, 3, 2, 3], &[2, 4], &[5, 1, 5]], 5);
    let flat = x.flatten_all().unwrap().to_vec1::<f32>().unwrap();
    let table = NgramTable::fit(&flat, 5, 100);
    // Counts: 2:3, 3:2, (2,3):2, 5:2, (3,2):1, 4:1, (2,4):1; OOV (1) breaks the bigram 5-1-5.
    assert_eq!(
        table.ngrams,
        vec![[2, 0], [2, 3], [3, 0], [5, 0], [2, 4], [3, 2], [4, 0]]
    );
    let idf = |df: f32| (1.0 + 3.0 / (1.0 + df)).ln();
    assert!((table.idf[0] - idf(2.0)).abs() < 1e-6);
    assert!((table.idf[3] - idf(1.0)).abs() < 1e-6);
    let layer = SequenceLayer::TfIdf(table.truncated(4));
    assert_eq!(layer.output_shape("t", &[5, 1, 1]).unwrap(), vec![4]);
    let y = run(&layer, &x, &BTreeMap::new()).to_vec2::<f32>().unwrap();
    let want0 = [2.0 * idf(2.0), 2.0 * idf(1.0), 2.0 * idf(1.0), 0.0];
    for (a, b) in y[0].iter().zip(want0) {
        assert!((a - b).abs() < 1e-5, "{:?}", y[0]);
    }
    assert!((y[2][3] - 2.0 * idf(1.0)).abs() < 1e-5);
}

#[test]
fn sequence_layers_survive_the_architecture_json() {
    let arch = Architecture {
        input_shape: vec![8, 1, 1],
        nodes: vec![
            Node::new(
                "w",
                "t",
                Layer::Sequence(SequenceLayer::TokenWindow {
                    length: 6,
                    max_tokens: 50,
                }),
            ),
            Node::new(
                "e",
                "t",
                Layer::Sequence(SequenceLayer::Embedding {
                    input_dim: 50,
                    output_dim: 8,
                }),
            ),
            Node::new(
                "r",
                "t",
                Layer::Sequence(SequenceLayer::Rnn {
                    kind: RnnKind::Gru,
                    units: 4,
                    bidirectional: true,
                    return_sequences: true,
                }),
            ),
            Node::new("g", "t", Layer::Sequence(SequenceLayer::GlobalMaxPool1d)),
        ],
        head: HeadKind::Regression { dim: 1 },
    };
    let json = serde_json::to_string(&arch).unwrap();
    let back: Architecture = serde_json::from_str(&json).unwrap();
    assert_eq!(back, arch);
    let s = arch.summary().unwrap();
    assert_eq!(s.output_shape, vec![8]);
    assert_eq!(s.rows[2].layer_type, "Bidirectional(GRU)");
    // GRU: per direction kernel 8x12, recurrent 4x12, two biases of 12.
    assert_eq!(s.rows[2].params, 2 * (8 * 12 + 4 * 12 + 12 + 12));
    let tf = Layer::Sequence(SequenceLayer::TfIdf(NgramTable {
        ngrams: vec![[2, 0], [2, 3]],
        idf: vec![0.5, 1.5],
    }));
    let back: Layer = serde_json::from_str(&serde_json::to_string(&tf).unwrap()).unwrap();
    assert_eq!(back, tf);
}

#[test]
fn recurrent_op_matches_step_by_step_autograd() {
    // The f32 custom op against candle's step-by-step operations in f64, outputs and gradients.
    for kind in [RnnKind::Lstm, RnnKind::Gru] {
        for (bidirectional, return_sequences) in [(false, true), (true, false)] {
            let layer = SequenceLayer::Rnn {
                kind,
                units: 5,
                bidirectional,
                return_sequences,
            };
            let input = [7, 3];
            let ps32 = params(&layer, &input, 21);
            let ps64: BTreeMap<&'static str, Var> = ps32
                .iter()
                .map(|(k, v)| {
                    (
                        *k,
                        Var::from_tensor(&v.to_dtype(DType::F64).unwrap()).unwrap(),
                    )
                })
                .collect();
            let x32 = Var::from_tensor(&random(&[4, 7, 3], 22)).unwrap();
            let x64 = Var::from_tensor(&x32.to_dtype(DType::F64).unwrap()).unwrap();
            let y32 = run(&layer, x32.as_tensor(), &ps32);
            let y64 = run(&layer, x64.as_tensor(), &ps64);
            let r = random(y32.dims(), 23);
            let g32 = (&y32 * &r).unwrap().sum_all().unwrap().backward().unwrap();
            let r64 = r.to_dtype(DType::F64).unwrap();
            let g64 = (&y64 * &r64)
                .unwrap()
                .sum_all()
                .unwrap()
                .backward()
                .unwrap();
            let close = |a: &Tensor, b: &Tensor, what: &str| {
                let a = a.flatten_all().unwrap().to_vec1::<f32>().unwrap();
                let b = b
                    .to_dtype(DType::F32)
                    .unwrap()
                    .flatten_all()
                    .unwrap()
                    .to_vec1::<f32>()
                    .unwrap();
                assert_eq!(a.len(), b.len());
                for (i, (p, q)) in a.iter().zip(&b).enumerate() {
                    assert!((p - q).abs() < 1e-4, "{layer:?} {what}[{i}]: {p} vs {q}");
                }
            };
            close(&y32, &y64, "output");
            close(
                g32.get(x32.as_tensor()).unwrap(),
                g64.get(x64.as_tensor()).unwrap(),
                "d input",
            );
            for (k, v) in &ps32 {
                close(
                    g32.get(v.as_tensor()).unwrap(),
                    g64.get(ps64[k].as_tensor()).unwrap(),
                    k,
                );
            }
        }
    }
}

#[test]
fn attention_op_matches_candle_operations() {
    // The f32 custom op against the f64 path (reshape, transpose, batched products, softmax).
    let layer = SequenceLayer::TransformerEncoder {
        num_heads: 4,
        dense_dim: 6,
        dropout: 0.0,
    };
    let ps32 = params(&layer, &[5, 8], 31);
    let ps64: BTreeMap<&'static str, Var> = ps32
        .iter()
        .map(|(k, v)| {
            (
                *k,
                Var::from_tensor(&v.to_dtype(DType::F64).unwrap()).unwrap(),
            )
        })
        .collect();
    let x32 = Var::from_tensor(&(random(&[3, 5, 8], 32) * 3.0).unwrap()).unwrap();
    let x64 = Var::from_tensor(&x32.to_dtype(DType::F64).unwrap()).unwrap();
    let p32 = |s: &str| -> Result<&Tensor> { Ok(ps32[s].as_tensor()) };
    let p64 = |s: &str| -> Result<&Tensor> { Ok(ps64[s].as_tensor()) };
    let y32 = attention::self_attention(x32.as_tensor(), &p32, 4).unwrap();
    let y64 = attention::self_attention(x64.as_tensor(), &p64, 4).unwrap();
    let r = random(y32.dims(), 33);
    let g32 = (&y32 * &r).unwrap().sum_all().unwrap().backward().unwrap();
    let g64 = (&y64 * &r.to_dtype(DType::F64).unwrap())
        .unwrap()
        .sum_all()
        .unwrap()
        .backward()
        .unwrap();
    let close = |a: &Tensor, b: &Tensor, what: &str| {
        let a = a.flatten_all().unwrap().to_vec1::<f32>().unwrap();
        let b = b
            .to_dtype(DType::F32)
            .unwrap()
            .flatten_all()
            .unwrap()
            .to_vec1::<f32>()
            .unwrap();
        for (i, (p, q)) in a.iter().zip(&b).enumerate() {
            assert!(
                (p - q).abs() < 1e-4 * (1.0 + q.abs()),
                "{what}[{i}]: {p} vs {q}"
            );
        }
    };
    close(&y32, &y64, "output");
    close(
        g32.get(x32.as_tensor()).unwrap(),
        g64.get(x64.as_tensor()).unwrap(),
        "d input",
    );
    for k in ["query_kernel", "key_kernel", "value_kernel", "output_bias"] {
        close(
            g32.get(ps32[k].as_tensor()).unwrap(),
            g64.get(ps64[k].as_tensor()).unwrap(),
            k,
        );
    }
}
