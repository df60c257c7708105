//! Scaled dot-product attention of every batch item and head as one candle custom op on the
//! CPU (`f32`): `softmax(q_h k_h^T / sqrt(d_h)) v_h`, heads being consecutive channel blocks of
//! `[b, s, c]` tensors. No transposed copies, one pass per row for the softmax; the backward
//! pass recomputes the attention weights. Batch items and heads run in parallel.

use super::fast_math::softmax_in_place;
use super::gemm::{matmul, Mat};
use candle_core::{bail, CpuStorage, CustomOp3, Layout, Result, Shape, Tensor};
use rayon::prelude::*;

/// Multi-head attention weights applied to the values.
pub(super) struct AttentionOp {
    pub heads: usize,
}

#[derive(Clone, Copy)]
struct Dims {
    b: usize,
    s: usize,
    c: usize,
    dh: usize,
}

impl Dims {
    /// The `[s, dh]` block of batch item `bi`, head `h` in a `[b, s, c]` tensor.
    fn block<'a>(&self, t: &'a [f32], bi: usize, h: usize) -> Mat<'a> {
        Mat {
            data: &t[bi * self.s * self.c + h * self.dh..],
            rs: self.c,
            cs: 1,
        }
    }

    /// The same block transposed (`[dh, s]`).
    fn block_t<'a>(&self, t: &'a [f32], bi: usize, h: usize) -> Mat<'a> {
        let m = self.block(t, bi, h);
        Mat {
            data: m.data,
            rs: m.cs,
            cs: m.rs,
        }
    }
}

fn contiguous<'a>(s: &'a CpuStorage, l: &Layout) -> Result<&'a [f32]> {
    let CpuStorage::F32(v) = s else {
        bail!("attention op: inputs must be f32")
    };
    match l.contiguous_offsets() {
        Some((a, b)) if b <= v.len() => Ok(&v[a..b]),
        _ => bail!("attention op: inputs must be contiguous"),
    }
}

impl AttentionOp {
    fn dims(&self, l: &Layout) -> Result<Dims> {
        let (b, s, c) = l.shape().dims3()?;
        if self.heads == 0 || c % self.heads != 0 {
            bail!(
                "attention op: {c} channels cannot be split into {} heads",
                self.heads
            )
        }
        Ok(Dims {
            b,
            s,
            c,
            dh: c / self.heads,
        })
    }

    /// The attention weights `[s, s]` of batch item `bi`, head `h`.
    fn weights(&self, d: Dims, q: &[f32], k: &[f32], bi: usize, h: usize) -> Vec<f32> {
        let s = d.s;
        let mut p = vec![0f32; s * s];
        matmul(
            s,
            s,
            d.dh,
            &mut p,
            s,
            false,
            d.block(q, bi, h),
            d.block_t(k, bi, h),
        );
        let scale = 1.0 / (d.dh as f32).sqrt();
        for row in p.chunks_mut(s) {
            softmax_in_place(row, scale);
        }
        p
    }

    /// Writes `[s, dh]` blocks (one per batch item and head, in that order) into a `[b, s, c]`
    /// array.
    fn scatter(d: Dims, blocks: Vec<Vec<f32>>, heads: usize) -> Vec<f32> {
        let mut out = vec![0f32; d.b * d.s * d.c];
        for (i, blk) in blocks.into_iter().enumerate() {
            let (bi, h) = (i / heads, i % heads);
            for (t, row) in blk.chunks(d.dh).enumerate() {
                let at = bi * d.s * d.c + t * d.c + h * d.dh;
                out[at..at + d.dh].copy_from_slice(row);
            }
        }
        out
    }
}

/// `sum(a * b)`, eight lanes at a time.
fn dot(a: &[f32], b: &[f32]) -> f32 {
    let mut acc = [0f32; 8];
    let (ca, cb) = (a.chunks_exact(8), b.chunks_exact(8));
    let tail: f32 = ca
        .remainder()
        .iter()
        .zip(cb.remainder())
        .map(|(x, y)| x * y)
        .sum();
    for (x, y) in ca.zip(cb) {
        for i in 0..8 {
            acc[i] += x[i] * y[i];
        }
    }
    acc.iter().sum::<f32>() + tail
}

fn tensor_f32(t: &Tensor) -> Result<Vec<f32>> {
    t.contiguous()?.flatten_all()?.to_vec1::<f32>()
}

impl CustomOp3 for AttentionOp {
    fn name(&self) -> &'static str {
        "multi-head-attention"
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
        let d = self.dims(l1)?;
        if l2.shape() != l1.shape() || l3.shape() != l1.shape() {
            bail!("attention op: queries, keys and values must have the same shape")
        }
        let (q, k, v) = (
            contiguous(s1, l1)?,
            contiguous(s2, l2)?,
            contiguous(s3, l3)?,
        );
        let blocks: Vec<Vec<f32>> = (0..d.b * self.heads)
            .into_par_iter()
            .map(|i| {
                let (bi, h) = (i / self.heads, i % self.heads);
                let p = self.weights(d, q, k, bi, h);
                let mut o = vec![0f32; d.s * d.dh];
                let pm = Mat {
                    data: &p,
                    rs: d.s,
                    cs: 1,
                };
                matmul(d.s, d.dh, d.s, &mut o, d.dh, false, pm, d.block(v, bi, h));
                o
            })
            .collect();
        let out = Self::scatter(d, blocks, self.heads);
        Ok((CpuStorage::F32(out), Shape::from((d.b, d.s, d.c))))
    }

    fn bwd(
        &self,
        q: &Tensor,
        k: &Tensor,
        v: &Tensor,
        _res: &Tensor,
        grad: &Tensor,
    ) -> Result<(Option<Tensor>, Option<Tensor>, Option<Tensor>)> {
        let d = self.dims(q.layout())?;
        let (qv, kv, vv, g) = (
            tensor_f32(q)?,
            tensor_f32(k)?,
            tensor_f32(v)?,
            tensor_f32(grad)?,
        );
        let s = d.s;
        let scale = 1.0 / (d.dh as f32).sqrt();
        let grads: Vec<[Vec<f32>; 3]> = (0..d.b * self.heads)
            .into_par_iter()
            .map(|i| {
                let (bi, h) = (i / self.heads, i % self.heads);
                let p = self.weights(d, &qv, &kv, bi, h);
                let pm = Mat {
                    data: &p,
                    rs: s,
                    cs: 1,
                };
                let pt = Mat {
                    data: &p,
                    rs: 1,
                    cs: s,
                };
                // dV = P^T dO.
                let mut dv = vec![0f32; s * d.dh];
                matmul(s, d.dh, s, &mut dv, d.dh, false, pt, d.block(&g, bi, h));
                // dP = dO V^T, then dS = P * (dP - rowsum(dP * P)) * scale.
                let mut ds = vec![0f32; s * s];
                matmul(
                    s,
                    s,
                    d.dh,
                    &mut ds,
                    s,
                    false,
                    d.block(&g, bi, h),
                    d.block_t(&vv, bi, h),
                );
                for (drow, prow) in ds.chunks_mut(s).zip(pm.data.chunks(s)) {
                    let dot = dot(drow, prow);
                    for (x, pv) in drow.iter_mut().zip(prow) {
                        *x = pv * (*x - dot) * scale;
                    }
                }
                let dsm = Mat {
                    data: &ds,
                    rs: s,
                    cs: 1,
                };
                let dst = Mat {
                    data: &ds,
                    rs: 1,
                    cs: s,
                };
                // dQ = dS K, dK = dS^T Q.
                let mut dq = vec![0f32; s * d.dh];
                matmul(s, d.dh, s, &mut dq, d.dh, false, dsm, d.block(&kv, bi, h));
                let mut dk = vec![0f32; s * d.dh];
                matmul(s, d.dh, s, &mut dk, d.dh, false, dst, d.block(&qv, bi, h));
                [dq, dk, dv]
            })
            .collect();
        let mut parts: [Vec<Vec<f32>>; 3] = [vec![], vec![], vec![]];
        for [a, b, c] in grads {
            parts[0].push(a);
            parts[1].push(b);
            parts[2].push(c);
        }
        let dev = q.device();
        let [dq, dk, dv] = parts.map(|blocks| Self::scatter(d, blocks, self.heads));
        let t = |x: Vec<f32>| Tensor::from_vec(x, (d.b, d.s, d.c), dev);
        Ok((Some(t(dq)?), Some(t(dk)?), Some(t(dv)?)))
    }
}
