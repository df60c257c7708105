//! Layer normalisation and the affine map `x W + b` over the last axis of `[.., c]` tensors as
//! candle custom ops on the CPU (`f32`), with exact backward passes: a few passes over memory
//! where candle's operations would take a dozen (and a slow column sum for the bias gradient).

use super::fast_math::sum;
use super::gemm::{matmul, Mat};
use candle_core::{bail, CpuStorage, CustomOp3, Layout, Result, Shape, Tensor};
use rayon::prelude::*;

fn contiguous<'a>(s: &'a CpuStorage, l: &Layout, what: &str) -> Result<&'a [f32]> {
    let CpuStorage::F32(v) = s else {
        bail!("{what} must be f32")
    };
    match l.contiguous_offsets() {
        Some((a, b)) if b <= v.len() => Ok(&v[a..b]),
        _ => bail!("{what} must be contiguous"),
    }
}

fn tensor_f32(t: &Tensor) -> Result<Vec<f32>> {
    t.contiguous()?.flatten_all()?.to_vec1::<f32>()
}

/// Rows of `c` values: `(rows, c)` of a tensor shape.
fn rows(shape: &Shape) -> Result<(usize, usize)> {
    let dims = shape.dims();
    let Some(&c) = dims.last() else {
        bail!("expected a tensor of rank at least 1")
    };
    Ok((shape.elem_count() / c.max(1), c))
}

/// Column sums of a `[rows, c]` array.
fn column_sums(v: &[f32], c: usize) -> Vec<f32> {
    let mut out = vec![0f32; c];
    for row in v.chunks(c) {
        for (o, x) in out.iter_mut().zip(row) {
            *o += x;
        }
    }
    out
}

/// `(x - mean) / sqrt(var + eps) * gamma + beta` over the last axis.
pub(super) struct LayerNormOp {
    pub eps: f32,
}

impl LayerNormOp {
    /// Normalised rows (`xhat`) and each row's `1 / sigma`.
    fn normalise(&self, x: &[f32], c: usize) -> (Vec<f32>, Vec<f32>) {
        let mut xhat = x.to_vec();
        let inv: Vec<f32> = xhat
            .par_chunks_mut(c)
            .map(|row| {
                let mean = sum(row) / c as f32;
                row.iter_mut().for_each(|v| *v -= mean);
                let var = row.iter().map(|v| v * v).sum::<f32>() / c as f32;
                let inv = 1.0 / (var + self.eps).sqrt();
                row.iter_mut().for_each(|v| *v *= inv);
                inv
            })
            .collect();
        (xhat, inv)
    }
}

impl CustomOp3 for LayerNormOp {
    fn name(&self) -> &'static str {
        "layer-norm"
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
        let (_, c) = rows(l1.shape())?;
        let x = contiguous(s1, l1, "layer norm input")?;
        let gamma = contiguous(s2, l2, "layer norm gamma")?;
        let beta = contiguous(s3, l3, "layer norm beta")?;
        if gamma.len() != c || beta.len() != c {
            bail!(
                "layer norm: {c} channels but {} / {} scales and shifts",
                gamma.len(),
                beta.len()
            )
        }
        let (mut y, _) = self.normalise(x, c);
        y.par_chunks_mut(c).for_each(|row| {
            for ((v, g), b) in row.iter_mut().zip(gamma).zip(beta) {
                *v = *v * g + b;
            }
        });
        Ok((CpuStorage::F32(y), l1.shape().clone()))
    }

    fn bwd(
        &self,
        x: &Tensor,
        gamma: &Tensor,
        _beta: &Tensor,
        _res: &Tensor,
        grad: &Tensor,
    ) -> Result<(Option<Tensor>, Option<Tensor>, Option<Tensor>)> {
        let (_, c) = rows(x.shape())?;
        let (xhat, inv) = self.normalise(&tensor_f32(x)?, c);
        let g = tensor_f32(grad)?;
        let gam = tensor_f32(gamma)?;
        let mut dx = vec![0f32; xhat.len()];
        dx.par_chunks_mut(c)
            .zip(xhat.par_chunks(c))
            .zip(g.par_chunks(c))
            .zip(inv.par_iter())
            .for_each(|(((dxr, xr), gr), inv)| {
                // dxhat = dy * gamma; dx = inv * (dxhat - mean(dxhat) - xhat * mean(dxhat * xhat)).
                let mut m1 = 0f32;
                let mut m2 = 0f32;
                for ((d, gv), (xv, gm)) in dxr.iter_mut().zip(gr).zip(xr.iter().zip(&gam)) {
                    *d = gv * gm;
                    m1 += *d;
                    m2 += *d * xv;
                }
                let (m1, m2) = (m1 / c as f32, m2 / c as f32);
                for (d, xv) in dxr.iter_mut().zip(xr) {
                    *d = inv * (*d - m1 - xv * m2);
                }
            });
        let gx: Vec<f32> = g.iter().zip(&xhat).map(|(a, b)| a * b).collect();
        let dgamma = column_sums(&gx, c);
        let dbeta = column_sums(&g, c);
        let dev = x.device();
        Ok((
            Some(Tensor::from_vec(dx, x.shape(), dev)?),
            Some(Tensor::from_vec(dgamma, c, dev)?),
            Some(Tensor::from_vec(dbeta, c, dev)?),
        ))
    }
}

/// `x W + b` over the last axis: `x` is `[.., i]`, `W` is `[i, o]`, `b` is `[o]`.
pub(super) struct LinearOp;

impl CustomOp3 for LinearOp {
    fn name(&self) -> &'static str {
        "linear"
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
        let (n, i) = rows(l1.shape())?;
        let (wi, o) = l2.shape().dims2()?;
        let x = contiguous(s1, l1, "linear input")?;
        let w = contiguous(s2, l2, "linear kernel")?;
        let b = contiguous(s3, l3, "linear bias")?;
        if wi != i || b.len() != o {
            bail!(
                "linear: input width {i}, kernel [{wi}, {o}], bias {}",
                b.len()
            )
        }
        let mut y = vec![0f32; n * o];
        for row in y.chunks_mut(o.max(1)) {
            row.copy_from_slice(b);
        }
        matmul(
            n,
            o,
            i,
            &mut y,
            o,
            true,
            Mat {
                data: x,
                rs: i,
                cs: 1,
            },
            Mat {
                data: w,
                rs: o,
                cs: 1,
            },
        );
        let mut dims = l1.shape().dims().to_vec();
        if let Some(last) = dims.last_mut() {
            *last = o;
        }
        Ok((CpuStorage::F32(y), Shape::from(dims)))
    }

    fn bwd(
        &self,
        x: &Tensor,
        w: &Tensor,
        _b: &Tensor,
        _res: &Tensor,
        grad: &Tensor,
    ) -> Result<(Option<Tensor>, Option<Tensor>, Option<Tensor>)> {
        let (n, i) = rows(x.shape())?;
        let (_, o) = w.dims2()?;
        let (xv, wv, g) = (tensor_f32(x)?, tensor_f32(w)?, tensor_f32(grad)?);
        let gm = Mat {
            data: &g,
            rs: o,
            cs: 1,
        };
        // dx = g W^T; dW = x^T g; db = column sums of g.
        let mut dx = vec![0f32; n * i];
        matmul(
            n,
            i,
            o,
            &mut dx,
            i,
            false,
            gm,
            Mat {
                data: &wv,
                rs: 1,
                cs: o,
            },
        );
        let mut dw = vec![0f32; i * o];
        matmul(
            i,
            o,
            n,
            &mut dw,
            o,
            false,
            Mat {
                data: &xv,
                rs: 1,
                cs: i,
            },
            gm,
        );
        let db = column_sums(&g, o);
        let dev = x.device();
        Ok((
            Some(Tensor::from_vec(dx, x.shape(), dev)?),
            Some(Tensor::from_vec(dw, (i, o), dev)?),
            Some(Tensor::from_vec(db, o, dev)?),
        ))
    }
}
