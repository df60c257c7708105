//! Losses and metrics.

use super::EncodedTargets;
use crate::error::Result;
use crate::graph::HeadKind;
use candle_core::{Tensor, D};
use serde::{Deserialize, Serialize};

/// Metrics of a model on a dataset.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, Default)]
pub struct Metrics {
    /// The training loss (cross-entropy or MSE).
    pub loss: f64,
    /// Classification accuracy.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub accuracy: Option<f64>,
    /// Mean squared error (regression).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mse: Option<f64>,
    /// Mean absolute error (regression).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mae: Option<f64>,
}

/// One epoch's training and validation metrics.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EpochRecord {
    /// 1-based epoch number.
    pub epoch: usize,
    /// Metrics on the training batches (dropout and augmentation on).
    pub train: Metrics,
    /// Metrics on the validation data, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub val: Option<Metrics>,
    /// Wall time of the epoch, validation included.
    pub seconds: f64,
    /// Learning rate used.
    pub learning_rate: f64,
}

/// The differentiable loss of a batch.
pub(crate) fn loss(head: &HeadKind, out: &Tensor, y: &Tensor) -> Result<Tensor> {
    Ok(match head {
        HeadKind::Classification {
            num_classes: 2,
            sigmoid: true,
            multi_label: false,
        } => {
            let z = out.squeeze(D::Minus1)?;
            bce_with_logits(&z, &y.to_dtype(candle_core::DType::F32)?)?
        }
        HeadKind::Classification {
            multi_label: true, ..
        } => bce_with_logits(out, y)?,
        HeadKind::Classification { .. } => candle_nn::loss::cross_entropy(out, y)?,
        HeadKind::Regression { .. } => (out - y)?.sqr()?.mean_all()?,
        HeadKind::Multi { heads } => {
            // The sum of the heads' losses, each on its own output and target columns.
            let (mut o_off, mut y_off) = (0, 0);
            let mut total: Option<Tensor> = None;
            for h in heads {
                let (units, cols) = (h.output_units(), h.target_columns());
                let o = out.narrow(1, o_off, units)?;
                let t = y.narrow(1, y_off, cols)?;
                let t = match h {
                    HeadKind::Classification {
                        multi_label: false, ..
                    } => t.squeeze(1)?.to_dtype(candle_core::DType::U32)?,
                    _ => t,
                };
                let l = loss(h, &o, &t)?;
                total = Some(match total {
                    Some(acc) => (acc + l)?,
                    None => l,
                });
                o_off += units;
                y_off += cols;
            }
            total.ok_or_else(|| crate::Error::Config("a multi-task head with no heads".into()))?
        }
    })
}

/// The loss of a batch of class targets `y` with a weight per sample `w` (`[b]`): the mean of
/// `w_i * loss_i` (Keras's `class_weight`). Other heads get the unweighted [`loss`].
pub(crate) fn weighted_loss(
    head: &HeadKind,
    out: &Tensor,
    y: &Tensor,
    w: &Tensor,
) -> Result<Tensor> {
    let per_sample = match head {
        HeadKind::Classification {
            num_classes: 2,
            sigmoid: true,
            multi_label: false,
        } => {
            let z = out.squeeze(D::Minus1)?;
            let y = y.to_dtype(candle_core::DType::F32)?;
            let soft = z.abs()?.neg()?.exp()?.affine(1.0, 1.0)?.log()?;
            (z.relu()? - (&z * &y)?)?.add(&soft)?
        }
        HeadKind::Classification {
            multi_label: false, ..
        } => {
            let logp = candle_nn::ops::log_softmax(out, D::Minus1)?;
            let y = y.to_dtype(candle_core::DType::U32)?.unsqueeze(1)?;
            logp.gather(&y, 1)?.squeeze(1)?.neg()?
        }
        _ => return loss(head, out, y),
    };
    Ok((per_sample * w)?.mean_all()?)
}

/// `mean(max(z, 0) - z * y + log(1 + exp(-|z|)))`.
fn bce_with_logits(z: &Tensor, y: &Tensor) -> candle_core::Result<Tensor> {
    let pos = z.relu()?;
    let soft = z.abs()?.neg()?.exp()?.affine(1.0, 1.0)?.log()?;
    (pos - (z * y)?)?.add(&soft)?.mean_all()
}

/// Metrics from the raw network outputs (flattened, `units` per sample) and the targets.
pub(crate) fn compute(
    head: &HeadKind,
    outputs: &[f32],
    units: usize,
    y: &EncodedTargets,
) -> Metrics {
    let n = outputs.len() / units.max(1);
    match (head, y) {
        (
            HeadKind::Classification {
                multi_label: false, ..
            },
            EncodedTargets::Classes(labels),
        ) => {
            let mut loss = 0.0f64;
            let mut correct = 0usize;
            for (i, &label) in labels.iter().enumerate().take(n) {
                let row = &outputs[i * units..(i + 1) * units];
                if units == 1 {
                    let z = row[0] as f64;
                    let t = label as f64;
                    loss += z.max(0.0) - z * t + (1.0 + (-z.abs()).exp()).ln();
                    correct += usize::from((z > 0.0) == (label == 1));
                } else {
                    let m = row.iter().copied().fold(f32::NEG_INFINITY, f32::max) as f64;
                    let lse = m + row.iter().map(|&v| (v as f64 - m).exp()).sum::<f64>().ln();
                    loss += lse - row[label as usize] as f64;
                    correct += usize::from(argmax(row) == label as usize);
                }
            }
            Metrics {
                loss: loss / n.max(1) as f64,
                accuracy: Some(correct as f64 / n.max(1) as f64),
                mse: None,
                mae: None,
            }
        }
        (HeadKind::Classification { .. }, EncodedTargets::Values { values, .. }) => {
            let mut loss = 0.0f64;
            let mut correct = 0usize;
            for (z, t) in outputs.iter().zip(values) {
                let (z, t) = (*z as f64, *t as f64);
                loss += z.max(0.0) - z * t + (1.0 + (-z.abs()).exp()).ln();
                correct += usize::from((z > 0.0) == (t > 0.5));
            }
            let m = outputs.len().max(1) as f64;
            Metrics {
                loss: loss / m,
                accuracy: Some(correct as f64 / m),
                mse: None,
                mae: None,
            }
        }
        (_, EncodedTargets::Values { values, .. }) => {
            let m = outputs.len().max(1) as f64;
            let mse = outputs
                .iter()
                .zip(values)
                .map(|(a, b)| ((a - b) as f64).powi(2))
                .sum::<f64>()
                / m;
            let mae = outputs
                .iter()
                .zip(values)
                .map(|(a, b)| ((a - b) as f64).abs())
                .sum::<f64>()
                / m;
            Metrics {
                loss: mse,
                accuracy: None,
                mse: Some(mse),
                mae: Some(mae),
            }
        }
        (HeadKind::Multi { heads }, EncodedTargets::Multi(parts)) => {
            let mut total = Metrics::default();
            let mut off = 0;
            for (h, y) in heads.iter().zip(parts) {
                let u = h.output_units();
                let own: Vec<f32> = (0..n)
                    .flat_map(|i| {
                        outputs[i * units + off..i * units + off + u]
                            .iter()
                            .copied()
                    })
                    .collect();
                let m = compute(h, &own, u, y);
                total.loss += m.loss;
                total.accuracy = total.accuracy.or(m.accuracy);
                total.mse = total.mse.or(m.mse);
                total.mae = total.mae.or(m.mae);
                off += u;
            }
            total
        }
        _ => Metrics::default(),
    }
}

/// Metrics of each head of a multi-task network (one entry for a single head).
pub(crate) fn compute_per_head(
    head: &HeadKind,
    outputs: &[f32],
    y: &EncodedTargets,
) -> Vec<Metrics> {
    let units = head.output_units();
    match (head, y) {
        (HeadKind::Multi { heads }, EncodedTargets::Multi(parts)) => {
            let n = outputs.len() / units.max(1);
            let mut off = 0;
            heads
                .iter()
                .zip(parts)
                .map(|(h, y)| {
                    let u = h.output_units();
                    let own: Vec<f32> = (0..n)
                        .flat_map(|i| {
                            outputs[i * units + off..i * units + off + u]
                                .iter()
                                .copied()
                        })
                        .collect();
                    off += u;
                    compute(h, &own, u, y)
                })
                .collect()
        }
        _ => vec![compute(head, outputs, units, y)],
    }
}

/// Index of the largest value.
pub fn argmax(row: &[f32]) -> usize {
    let mut best = 0;
    for (i, v) in row.iter().enumerate() {
        if *v > row[best] {
            best = i;
        }
    }
    best
}
