//! Turning datasets into batches of tensors.

use crate::data::ImageData;
use candle_core::{Device, Tensor};

/// Targets after encoding: class indices or real values.
#[derive(Debug, Clone, PartialEq)]
pub enum EncodedTargets {
    /// Class index per sample.
    Classes(Vec<u32>),
    /// `dim` real values (or 0/1 labels for multi-label) per sample.
    Values { values: Vec<f32>, dim: usize },
    /// The targets of several heads (multi-task), in the heads' order.
    Multi(Vec<EncodedTargets>),
}

impl EncodedTargets {
    /// Number of samples.
    pub fn len(&self) -> usize {
        match self {
            EncodedTargets::Classes(v) => v.len(),
            EncodedTargets::Values { values, dim } => values.len() / (*dim).max(1),
            EncodedTargets::Multi(parts) => parts.first().map_or(0, EncodedTargets::len),
        }
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The targets at `idx`.
    pub fn select(&self, idx: &[usize]) -> EncodedTargets {
        match self {
            EncodedTargets::Classes(v) => {
                EncodedTargets::Classes(idx.iter().map(|&i| v[i]).collect())
            }
            EncodedTargets::Values { values, dim } => EncodedTargets::Values {
                values: idx
                    .iter()
                    .flat_map(|&i| values[i * dim..(i + 1) * dim].iter().copied())
                    .collect(),
                dim: *dim,
            },
            EncodedTargets::Multi(parts) => {
                EncodedTargets::Multi(parts.iter().map(|p| p.select(idx)).collect())
            }
        }
    }

    /// Columns one sample takes in a batch: 1 for a class index, `dim` for values.
    fn columns(&self) -> usize {
        match self {
            EncodedTargets::Classes(_) => 1,
            EncodedTargets::Values { dim, .. } => *dim,
            EncodedTargets::Multi(parts) => parts.iter().map(EncodedTargets::columns).sum(),
        }
    }

    /// Appends one sample's columns as `f32` (class indices as numbers).
    fn push_row(&self, i: usize, out: &mut Vec<f32>) {
        match self {
            EncodedTargets::Classes(v) => out.push(v[i] as f32),
            EncodedTargets::Values { values, dim } => {
                out.extend_from_slice(&values[i * dim..(i + 1) * dim])
            }
            EncodedTargets::Multi(parts) => parts.iter().for_each(|p| p.push_row(i, out)),
        }
    }

    /// Appends another set of targets of the same kind.
    pub fn concat(&self, other: &EncodedTargets) -> EncodedTargets {
        match (self, other) {
            (EncodedTargets::Classes(a), EncodedTargets::Classes(b)) => {
                EncodedTargets::Classes([a.as_slice(), b].concat())
            }
            (
                EncodedTargets::Values { values: a, dim },
                EncodedTargets::Values { values: b, .. },
            ) => EncodedTargets::Values {
                values: [a.as_slice(), b].concat(),
                dim: *dim,
            },
            (EncodedTargets::Multi(a), EncodedTargets::Multi(b)) => {
                EncodedTargets::Multi(a.iter().zip(b).map(|(x, y)| x.concat(y)).collect())
            }
            (a, _) => a.clone(),
        }
    }

    pub(crate) fn batch(&self, idx: &[usize], device: &Device) -> candle_core::Result<Tensor> {
        match self {
            EncodedTargets::Classes(v) => {
                let b: Vec<u32> = idx.iter().map(|&i| v[i]).collect();
                Tensor::from_vec(b, idx.len(), device)
            }
            EncodedTargets::Values { values, dim } => {
                let mut b = Vec::with_capacity(idx.len() * dim);
                for &i in idx {
                    b.extend_from_slice(&values[i * dim..(i + 1) * dim]);
                }
                Tensor::from_vec(b, (idx.len(), *dim), device)
            }
            EncodedTargets::Multi(_) => {
                // One f32 matrix: each head's columns in order; the loss splits it again.
                let mut b = Vec::with_capacity(idx.len() * self.columns());
                for &i in idx {
                    self.push_row(i, &mut b);
                }
                Tensor::from_vec(b, (idx.len(), self.columns()), device)
            }
        }
    }
}

/// Inputs with encoded targets, ready for the training loop.
#[derive(Debug, Clone)]
pub struct TrainData {
    /// The inputs.
    pub x: ImageData,
    /// The targets.
    pub y: EncodedTargets,
}

impl TrainData {
    /// Number of samples.
    pub fn len(&self) -> usize {
        self.x.len()
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.x.is_empty()
    }

    /// The samples at `idx`.
    pub fn select(&self, idx: &[usize]) -> TrainData {
        TrainData {
            x: self.x.select(idx),
            y: self.y.select(idx),
        }
    }
}

/// The images at `idx` as an NHWC `f32` tensor.
pub(crate) fn input_batch(
    x: &ImageData,
    idx: &[usize],
    device: &Device,
) -> candle_core::Result<Tensor> {
    let s = x.sample_size();
    let mut buf = vec![0f32; idx.len() * s];
    for (k, &i) in idx.iter().enumerate() {
        x.pixels
            .copy_range_into(i * s, &mut buf[k * s..(k + 1) * s]);
    }
    let [_, h, w, c] = x.shape;
    Tensor::from_vec(buf, (idx.len(), h, w, c), device)
}
