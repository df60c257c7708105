//! Batch normalisation in training mode as one custom op on the CPU: statistics, normalisation,
//! scale and shift in two passes over the activations, and the backward pass in two more
//! (candle's own ops take about ten full-size passes and allocations each way).

use super::cpu::{f32_slice, split_even, threads, CpuF32};
use candle_core::{bail, CpuStorage, CustomOp3, Device, Layout, Result, Shape, Tensor};
use rayon::prelude::*;
use std::sync::{Arc, OnceLock};

/// Below this many values the op runs on the calling thread.
const PAR_LEN: usize = 1 << 15;

/// The batch's per-channel mean and (biased) variance, as the forward pass computed them.
#[derive(Debug, Clone, PartialEq)]
pub struct BatchStats {
    /// Mean per channel.
    pub mean: Vec<f32>,
    /// Variance per channel (divided by the number of rows).
    pub var: Vec<f32>,
}

struct BatchNormOp {
    rows: usize,
    c: usize,
    eps: f64,
    /// Written by the forward pass.
    stats: Arc<OnceLock<BatchStats>>,
}

/// Row ranges for the per-chunk partial sums: a fixed split, summed in order (deterministic).
fn row_chunks(rows: usize, c: usize) -> Vec<std::ops::Range<usize>> {
    let parts = if rows * c >= PAR_LEN {
        (4 * threads()).min(rows).max(1)
    } else {
        1
    };
    split_even(rows, parts)
}

/// Per-channel sums of `f(row values, channel)` over each chunk, then summed in chunk order.
fn channel_sums(
    x: &[f32],
    c: usize,
    chunks: &[std::ops::Range<usize>],
    f: impl Fn(&[f32], &mut [f64]) + Sync,
) -> Vec<f64> {
    let part = |r: &std::ops::Range<usize>| {
        let mut acc = vec![0f64; c];
        for row in x[r.start * c..r.end * c].chunks_exact(c) {
            f(row, &mut acc);
        }
        acc
    };
    let parts: Vec<Vec<f64>> = if chunks.len() > 1 {
        chunks.par_iter().map(part).collect()
    } else {
        chunks.iter().map(part).collect()
    };
    let mut total = vec![0f64; c];
    for p in parts {
        total.iter_mut().zip(p).for_each(|(t, v)| *t += v);
    }
    total
}

/// Applies `f(in row, out row)` to every row, in parallel chunks when large.
fn map_rows(x: &[f32], c: usize, out: &mut [f32], f: impl Fn(&[f32], &mut [f32]) + Sync) {
    if x.len() >= PAR_LEN {
        let rows_per = x.len().div_ceil(c).div_ceil(4 * threads()).max(1);
        x.par_chunks(rows_per * c)
            .zip(out.par_chunks_mut(rows_per * c))
            .for_each(|(xi, oi)| {
                xi.chunks_exact(c)
                    .zip(oi.chunks_exact_mut(c))
                    .for_each(|(a, b)| f(a, b))
            });
    } else {
        x.chunks_exact(c)
            .zip(out.chunks_exact_mut(c))
            .for_each(|(a, b)| f(a, b));
    }
}

/// Per channel, `(Σ dy, Σ dy · x̂)` with `x̂ = (x - mean) · inv`, by chunks summed in order.
fn channel_sums_pair(
    x: &[f32],
    dy: &[f32],
    c: usize,
    chunks: &[std::ops::Range<usize>],
    mean: &[f32],
    inv: &[f32],
) -> Vec<(f64, f64)> {
    let part = |r: &std::ops::Range<usize>| {
        let mut acc = vec![(0f64, 0f64); c];
        let span = r.start * c..r.end * c;
        for (xr, dr) in x[span.clone()]
            .chunks_exact(c)
            .zip(dy[span].chunks_exact(c))
        {
            for ch in 0..c {
                let xhat = (xr[ch] - mean[ch]) * inv[ch];
                acc[ch].0 += dr[ch] as f64;
                acc[ch].1 += (dr[ch] * xhat) as f64;
            }
        }
        acc
    };
    let parts: Vec<Vec<(f64, f64)>> = if chunks.len() > 1 {
        chunks.par_iter().map(part).collect()
    } else {
        chunks.iter().map(part).collect()
    };
    let mut total = vec![(0f64, 0f64); c];
    for p in parts {
        for (t, v) in total.iter_mut().zip(p) {
            t.0 += v.0;
            t.1 += v.1;
        }
    }
    total
}

impl BatchNormOp {
    fn inv_std(&self, var: &[f32]) -> Vec<f32> {
        var.iter()
            .map(|&v| (1.0 / (v as f64 + self.eps).sqrt()) as f32)
            .collect()
    }
}

impl CustomOp3 for BatchNormOp {
    fn name(&self) -> &'static str {
        "autocandle-batch-norm"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
        s3: &CpuStorage,
        l3: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        let x = f32_slice(s1, l1, "batch norm input")?;
        let gamma = f32_slice(s2, l2, "batch norm gamma")?;
        let beta = f32_slice(s3, l3, "batch norm beta")?;
        let (rows, c) = (self.rows, self.c);
        if x.len() != rows * c || gamma.len() != c || beta.len() != c || rows == 0 {
            bail!("batch norm: sizes do not match {rows} rows of {c} channels")
        }
        let chunks = row_chunks(rows, c);
        let n = rows as f64;
        let mean: Vec<f32> = channel_sums(x, c, &chunks, |row, acc| {
            acc.iter_mut().zip(row).for_each(|(a, &v)| *a += v as f64)
        })
        .into_iter()
        .map(|s| (s / n) as f32)
        .collect();
        let var: Vec<f32> = channel_sums(x, c, &chunks, |row, acc| {
            for ((a, &v), &m) in acc.iter_mut().zip(row).zip(&mean) {
                let d = (v - m) as f64;
                *a += d * d;
            }
        })
        .into_iter()
        .map(|s| (s / n) as f32)
        .collect();
        let inv = self.inv_std(&var);
        let scale: Vec<f32> = inv.iter().zip(gamma).map(|(i, g)| i * g).collect();
        let mut out = vec![0f32; x.len()];
        map_rows(x, c, &mut out, |xr, yr| {
            for ((((y, &v), &m), &s), &b) in yr.iter_mut().zip(xr).zip(&mean).zip(&scale).zip(beta)
            {
                *y = (v - m) * s + b;
            }
        });
        if self.stats.set(BatchStats { mean, var }).is_err() {
            bail!("batch norm: the op ran its forward pass twice")
        }
        Ok((CpuStorage::F32(out), Shape::from((rows, c))))
    }

    fn bwd(
        &self,
        x: &Tensor,
        gamma: &Tensor,
        beta: &Tensor,
        _res: &Tensor,
        grad: &Tensor,
    ) -> Result<(Option<Tensor>, Option<Tensor>, Option<Tensor>)> {
        let Some(stats) = self.stats.get() else {
            bail!("batch norm backward: the forward pass did not run")
        };
        let (rows, c) = (self.rows, self.c);
        let grad = grad.contiguous()?;
        let what = "batch norm backward";
        let (xv, gv, dv) = (
            CpuF32::new(x, what)?,
            CpuF32::new(gamma, what)?,
            CpuF32::new(&grad, what)?,
        );
        let (xs, gs, dy) = (xv.as_slice(), gv.as_slice(), dv.as_slice());
        if xs.len() != rows * c || dy.len() != rows * c || gs.len() != c {
            bail!("{what}: sizes do not match {rows} rows of {c} channels")
        }
        let inv = self.inv_std(&stats.var);
        let mean = &stats.mean;
        let chunks = row_chunks(rows, c);
        // Σ dy and Σ dy · x̂ per channel, in one pass over both tensors.
        let sums = channel_sums_pair(xs, dy, c, &chunks, mean, &inv);
        let (dbeta, dgamma): (Vec<f32>, Vec<f32>) =
            sums.iter().map(|&(a, b)| (a as f32, b as f32)).unzip();
        let dx = if x.track_op() {
            let n = rows as f32;
            let k: Vec<f32> = gs.iter().zip(&inv).map(|(g, i)| g * i / n).collect();
            let mut dx = vec![0f32; xs.len()];
            let body = |(xr, dyr): (&[f32], &[f32]), out: &mut [f32]| {
                for (ch, o) in out.iter_mut().enumerate() {
                    let xhat = (xr[ch] - mean[ch]) * inv[ch];
                    *o = k[ch] * (n * dyr[ch] - dbeta[ch] - xhat * dgamma[ch]);
                }
            };
            if xs.len() >= PAR_LEN {
                let rows_per = rows.div_ceil(4 * threads()).max(1);
                xs.par_chunks(rows_per * c)
                    .zip(dy.par_chunks(rows_per * c))
                    .zip(dx.par_chunks_mut(rows_per * c))
                    .for_each(|((xi, di), oi)| {
                        for ((xr, dr), or) in xi
                            .chunks_exact(c)
                            .zip(di.chunks_exact(c))
                            .zip(oi.chunks_exact_mut(c))
                        {
                            body((xr, dr), or);
                        }
                    });
            } else {
                for ((xr, dr), or) in xs
                    .chunks_exact(c)
                    .zip(dy.chunks_exact(c))
                    .zip(dx.chunks_exact_mut(c))
                {
                    body((xr, dr), or);
                }
            }
            Some(Tensor::from_vec(dx, (rows, c), &Device::Cpu)?)
        } else {
            None
        };
        let dg = gamma
            .track_op()
            .then(|| Tensor::from_vec(dgamma, c, &Device::Cpu))
            .transpose()?;
        let db = beta
            .track_op()
            .then(|| Tensor::from_vec(dbeta, c, &Device::Cpu))
            .transpose()?;
        Ok((dx, dg, db))
    }
}

/// Batch normalisation of `x` (`[rows, c]`, statistics over the rows) with scale `gamma` and
/// shift `beta`, on contiguous f32 CPU tensors; returns the output and the batch statistics.
pub(super) fn batch_norm_train(
    x: &Tensor,
    gamma: &Tensor,
    beta: &Tensor,
    eps: f64,
) -> Result<(Tensor, BatchStats)> {
    let (rows, c) = x.dims2()?;
    let stats = Arc::new(OnceLock::new());
    let op = BatchNormOp {
        rows,
        c,
        eps,
        stats: stats.clone(),
    };
    let y = x
        .contiguous()?
        .apply_op3(&gamma.contiguous()?, &beta.contiguous()?, op)?;
    let Some(s) = stats.get() else {
        bail!("batch norm: the forward pass left no statistics")
    };
    Ok((y, s.clone()))
}
