//! NHWC max and average pooling (`padding="valid"`) on the CPU as candle custom ops with exact
//! gradients: max pooling sends each window's gradient to its first maximum, found again in the
//! backward pass by scanning the input for the forward's maxima.

use super::cpu::{f32_slice, worth_parallel, CpuF32};
use candle_core::{bail, CpuStorage, CustomOp1, Device, Layout, Result, Shape, Tensor};
use rayon::prelude::*;

/// One image of the backward pass: ((input, forward output), output gradient), input gradient.
type BwdItem<'a> = (((&'a [f32], &'a [f32]), &'a [f32]), &'a mut [f32]);

/// Which reduction a pooling window applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum PoolKind {
    Max,
    Avg,
}

/// Pooling over `k x k` windows with stride `stride`.
#[derive(Debug, Clone, Copy)]
pub(super) struct PoolOp {
    kind: PoolKind,
    k: usize,
    stride: usize,
    b: usize,
    h: usize,
    w: usize,
    c: usize,
    oh: usize,
    ow: usize,
}

impl PoolOp {
    fn new(
        kind: PoolKind,
        dims: (usize, usize, usize, usize),
        k: usize,
        stride: usize,
    ) -> Result<Self> {
        if k == 0 || stride == 0 {
            bail!("pool2d: kernel size and stride must be positive, got k={k}, stride={stride}")
        }
        let (b, h, w, c) = dims;
        let out = |n: usize| if n >= k { (n - k) / stride + 1 } else { 0 };
        Ok(PoolOp {
            kind,
            k,
            stride,
            b,
            h,
            w,
            c,
            oh: out(h),
            ow: out(w),
        })
    }

    fn in_image(&self) -> usize {
        self.h * self.w * self.c
    }

    fn out_image(&self) -> usize {
        self.oh * self.ow * self.c
    }

    fn parallel(&self) -> bool {
        self.b > 1 && worth_parallel(self.b * self.out_image() * self.k * self.k)
    }

    /// Offset in the input image of tap `(ky, kx)` of output pixel `(oy, ox)`.
    #[inline]
    fn tap(&self, oy: usize, ox: usize, ky: usize, kx: usize) -> usize {
        ((oy * self.stride + ky) * self.w + ox * self.stride + kx) * self.c
    }

    fn image_fwd(&self, img: &[f32], out: &mut [f32]) {
        let c = self.c;
        let scale = 1.0 / (self.k * self.k) as f32;
        for (p, o) in out.chunks_exact_mut(c).enumerate() {
            let (oy, ox) = (p / self.ow, p % self.ow);
            let first = self.tap(oy, ox, 0, 0);
            o.copy_from_slice(&img[first..first + c]);
            for ky in 0..self.k {
                for kx in 0..self.k {
                    if ky == 0 && kx == 0 {
                        continue;
                    }
                    let t = self.tap(oy, ox, ky, kx);
                    let xs = &img[t..t + c];
                    match self.kind {
                        // Strictly greater: the first maximum wins (as in the backward pass).
                        PoolKind::Max => o
                            .iter_mut()
                            .zip(xs)
                            .for_each(|(m, &v)| *m = if v > *m { v } else { *m }),
                        PoolKind::Avg => o.iter_mut().zip(xs).for_each(|(s, &v)| *s += v),
                    }
                }
            }
            if self.kind == PoolKind::Avg {
                o.iter_mut().for_each(|s| *s *= scale);
            }
        }
    }

    /// Adds one image's input gradient into `dx` (zeroed by the caller). For max pooling,
    /// `best` holds the forward's maxima: scanning the window in the forward's order, the first
    /// tap equal to its maximum is the forward's argmax.
    fn image_bwd(
        &self,
        img: &[f32],
        best: &[f32],
        grad: &[f32],
        dx: &mut [f32],
        rest: &mut Vec<f32>,
    ) {
        let c = self.c;
        let scale = 1.0 / (self.k * self.k) as f32;
        for (p, (g, m)) in grad.chunks_exact(c).zip(best.chunks_exact(c)).enumerate() {
            let (oy, ox) = (p / self.ow, p % self.ow);
            match self.kind {
                PoolKind::Max => {
                    // `rest` holds the gradient not yet given to a tap: the first tap equal to
                    // the maximum takes all of it.
                    rest.clear();
                    rest.extend_from_slice(g);
                    for ky in 0..self.k {
                        for kx in 0..self.k {
                            let t = self.tap(oy, ox, ky, kx);
                            let taps = img[t..t + c].iter().zip(&mut dx[t..t + c]);
                            for ((&v, d), (&mv, r)) in taps.zip(m.iter().zip(rest.iter_mut())) {
                                let hit = v == mv;
                                *d += if hit { *r } else { 0.0 };
                                *r = if hit { 0.0 } else { *r };
                            }
                        }
                    }
                }
                PoolKind::Avg => {
                    for ky in 0..self.k {
                        for kx in 0..self.k {
                            let t = self.tap(oy, ox, ky, kx);
                            dx[t..t + c]
                                .iter_mut()
                                .zip(g)
                                .for_each(|(d, &gv)| *d += gv * scale);
                        }
                    }
                }
            }
        }
    }
}

impl CustomOp1 for PoolOp {
    fn name(&self) -> &'static str {
        match self.kind {
            PoolKind::Max => "autocandle-max-pool2d",
            PoolKind::Avg => "autocandle-avg-pool2d",
        }
    }

    fn cpu_fwd(&self, s: &CpuStorage, l: &Layout) -> Result<(CpuStorage, Shape)> {
        let x = f32_slice(s, l, "pool2d input")?;
        if x.len() != self.b * self.in_image() {
            bail!("pool2d: input size does not match {self:?}")
        }
        let mut out = vec![0f32; self.b * self.out_image()];
        if !out.is_empty() {
            let body = |(img, o): (&[f32], &mut [f32])| self.image_fwd(img, o);
            if self.parallel() {
                x.par_chunks_exact(self.in_image())
                    .zip(out.par_chunks_exact_mut(self.out_image()))
                    .for_each(body);
            } else {
                x.chunks_exact(self.in_image())
                    .zip(out.chunks_exact_mut(self.out_image()))
                    .for_each(body);
            }
        }
        Ok((
            CpuStorage::F32(out),
            Shape::from((self.b, self.oh, self.ow, self.c)),
        ))
    }

    fn bwd(&self, arg: &Tensor, res: &Tensor, grad: &Tensor) -> Result<Option<Tensor>> {
        if !arg.track_op() {
            return Ok(None);
        }
        let grad = grad.contiguous()?;
        let xv = CpuF32::new(arg, "pool2d backward")?;
        let rv = CpuF32::new(res, "pool2d backward")?;
        let gv = CpuF32::new(&grad, "pool2d backward")?;
        let (x, r, g) = (xv.as_slice(), rv.as_slice(), gv.as_slice());
        let out_len = self.b * self.out_image();
        if x.len() != self.b * self.in_image() || g.len() != out_len || r.len() != out_len {
            bail!("pool2d backward: sizes do not match {self:?}")
        }
        let mut dx = vec![0f32; x.len()];
        if !g.is_empty() {
            let body = |rest: &mut Vec<f32>, (((img, ri), gi), d): BwdItem<'_>| {
                self.image_bwd(img, ri, gi, d, rest)
            };
            let (ii, oi) = (self.in_image(), self.out_image());
            if self.parallel() {
                x.par_chunks_exact(ii)
                    .zip(r.par_chunks_exact(oi))
                    .zip(g.par_chunks_exact(oi))
                    .zip(dx.par_chunks_exact_mut(ii))
                    .for_each_init(Vec::new, body);
            } else {
                let mut rest = Vec::new();
                x.chunks_exact(ii)
                    .zip(r.chunks_exact(oi))
                    .zip(g.chunks_exact(oi))
                    .zip(dx.chunks_exact_mut(ii))
                    .for_each(|item| body(&mut rest, item));
            }
        }
        Ok(Some(Tensor::from_vec(dx, arg.shape(), &Device::Cpu)?))
    }
}

/// Pooling on an f32 CPU tensor `[b, h, w, c]`.
pub(super) fn pool2d(x: &Tensor, kind: PoolKind, k: usize, stride: usize) -> Result<Tensor> {
    let op = PoolOp::new(kind, x.dims4()?, k, stride)?;
    x.contiguous()?.apply_op1(op)
}
