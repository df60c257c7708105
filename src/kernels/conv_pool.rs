//! A convolution followed by max pooling, as one custom op: each cache-sized run of images is
//! convolved, activated and pooled while it is in cache, so the full-size convolution output is
//! never written to memory, and the backward pass rebuilds each run's output gradient from the
//! stored window maxima instead of going through a separate pooling gradient.

use super::conv::{gemm_bwd, product_rows, BackwardIo, Geom, OutputGrad};
use super::cpu::{f32_slice, gemm_parallelism, threads, worth_parallel, Mat};
use super::Activation;
use candle_core::{bail, CpuStorage, CustomOp3, Layout, Result, Shape, Tensor};
use gemm::Parallelism;
use rayon::prelude::*;
use std::mem::MaybeUninit;
use std::ops::Range;
use std::sync::OnceLock;

/// Bytes of convolution output a task keeps in cache before pooling it.
const OUT_CHUNK_BYTES: usize = 192 * 1024;

/// A task's scratch space: im2col rows and convolution output.
type Scratch = (Vec<f32>, Vec<MaybeUninit<f32>>);

/// Geometry of the pooling that follows the convolution (`padding="valid"`).
#[derive(Debug, Clone, Copy)]
struct Pool {
    k: usize,
    stride: usize,
    ph: usize,
    pw: usize,
}

impl Pool {
    /// Pooled values per image.
    fn out_image(&self, oc: usize) -> usize {
        self.ph * self.pw * oc
    }
}

/// `pool(act(conv(x, w) + bias))`; applied with `(x, w, bias)`.
struct ConvPoolOp {
    g: Geom,
    act: Activation,
    pool: Pool,
    /// Per pooled value, the window tap that held the maximum (first one in scan order);
    /// written by the forward pass, read by the backward pass.
    argmax: OnceLock<Vec<u32>>,
}

impl ConvPoolOp {
    fn out_shape(&self) -> Shape {
        Shape::from((self.g.b, self.pool.ph, self.pool.pw, self.g.oc))
    }

    /// Images per cache-sized run.
    fn images_per_run(&self) -> usize {
        let rpi = self.g.rows_per_image().max(1);
        let by_cols = self.g.chunk_rows() / rpi;
        let by_out = OUT_CHUNK_BYTES / (4 * rpi * self.g.oc.max(1));
        by_cols.min(by_out).max(1)
    }

    /// Pools one image's activated convolution output `conv` into `out` and `arg`.
    fn pool_image(&self, conv: &[f32], out: &mut [f32], arg: &mut [u32]) {
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU supports AVX2.
            return unsafe { self.pool_image_avx2(conv, out, arg) };
        }
        self.pool_image_impl(conv, out, arg)
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    fn pool_image_avx2(&self, conv: &[f32], out: &mut [f32], arg: &mut [u32]) {
        self.pool_image_impl(conv, out, arg)
    }

    #[inline(always)]
    fn pool_image_impl(&self, conv: &[f32], out: &mut [f32], arg: &mut [u32]) {
        let (oc, ow, p) = (self.g.oc, self.g.ow, self.pool);
        let px_chunks = out.chunks_exact_mut(oc).zip(arg.chunks_exact_mut(oc));
        for (q, (best, idx)) in px_chunks.enumerate() {
            let (py, px) = (q / p.pw, q % p.pw);
            let base = py * p.stride * ow + px * p.stride;
            best.copy_from_slice(&conv[base * oc..(base + 1) * oc]);
            idx.fill(0);
            let mut t = 0u32;
            for ky in 0..p.k {
                for kx in 0..p.k {
                    if ky + kx > 0 {
                        let r = base + ky * ow + kx;
                        let tap = &conv[r * oc..(r + 1) * oc];
                        // Strictly greater: the first maximum in scan order wins, as in
                        // `max_pool2d`. Branch-free selects, so that the loop vectorises.
                        for ((b, i), &v) in best.iter_mut().zip(idx.iter_mut()).zip(tap) {
                            let mask = 0u32.wrapping_sub((v > *b) as u32);
                            *i ^= (*i ^ t) & mask;
                            *b = if v > *b { v } else { *b };
                        }
                    }
                    t += 1;
                }
            }
        }
    }

    fn forward(&self, x: &[f32], w: &[f32], bias: &[f32]) -> Result<(CpuStorage, Shape)> {
        let g = &self.g;
        g.check_lengths(x.len(), w.len(), Some(bias.len()))?;
        let per_out = self.pool.out_image(g.oc);
        let mut out = vec![0f32; g.b * per_out];
        let mut arg = vec![0u32; g.b * per_out];
        let ipr = self.images_per_run();
        let rpi = g.rows_per_image();
        let runs = g.b.div_ceil(ipr);
        let outer_par = worth_parallel(g.flops()) && runs >= 2 * threads();
        let inner = if outer_par {
            Parallelism::None
        } else {
            gemm_parallelism(g.flops())
        };
        let wmat = Mat {
            data: w,
            rs: g.oc,
            cs: 1,
        };
        let body = |bufs: &mut Scratch, (ri, (o, a)): (usize, (&mut [f32], &mut [u32]))| {
            let (cols, conv) = bufs;
            let imgs = o.len() / per_out;
            conv.resize(imgs * rpi * g.oc, MaybeUninit::uninit());
            let conv = product_rows(
                g,
                x,
                wmat,
                Some(bias),
                self.act,
                ri * ipr * rpi,
                conv,
                cols,
                inner,
            );
            for ((c, oi), ai) in conv
                .chunks_exact(rpi * g.oc)
                .zip(o.chunks_exact_mut(per_out))
                .zip(a.chunks_exact_mut(per_out))
            {
                self.pool_image(c, oi, ai);
            }
        };
        if outer_par {
            out.par_chunks_mut(ipr * per_out)
                .zip(arg.par_chunks_mut(ipr * per_out))
                .enumerate()
                .for_each_init(Scratch::default, body);
        } else {
            let mut bufs = Scratch::default();
            out.chunks_mut(ipr * per_out)
                .zip(arg.chunks_mut(ipr * per_out))
                .enumerate()
                .for_each(|item| body(&mut bufs, item));
        }
        if self.argmax.set(arg).is_err() {
            bail!("conv2d+max_pool2d: the op ran its forward pass twice")
        }
        Ok((CpuStorage::F32(out), self.out_shape()))
    }
}

/// The convolution output's gradient, rebuilt from the pooled gradient: each pooled value's
/// gradient goes to the tap that held its maximum (when the fused ReLU let it through).
struct Unpooled<'a> {
    op: &'a ConvPoolOp,
    argmax: &'a [u32],
    pooled: &'a [f32],
    grad: &'a [f32],
}

impl Unpooled<'_> {
    /// Adds one image's pooled gradient onto its convolution-output gradient `dst` (zeroed).
    fn image(&self, n: usize, dst: &mut [f32]) {
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU supports AVX2.
            return unsafe { self.image_avx2(n, dst) };
        }
        self.image_impl(n, dst)
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    fn image_avx2(&self, n: usize, dst: &mut [f32]) {
        self.image_impl(n, dst)
    }

    /// Every tap of a window receives, per channel, the gradient if it held the maximum (and
    /// the fused ReLU let it through) and zero otherwise: selects over whole channel vectors,
    /// which vectorise, rather than a scatter.
    #[inline(always)]
    fn image_impl(&self, n: usize, dst: &mut [f32]) {
        let (g, p) = (&self.op.g, self.op.pool);
        let (oc, ow) = (g.oc, g.ow);
        let per_out = p.out_image(oc);
        let relu = self.op.act == Activation::Relu;
        let span = n * per_out..(n + 1) * per_out;
        let src = self.grad[span.clone()].chunks_exact(oc);
        let pooled = self.pooled[span.clone()].chunks_exact(oc);
        let arg = self.argmax[span].chunks_exact(oc);
        for (q, ((gv, pv), av)) in src.zip(pooled).zip(arg).enumerate() {
            let base = (q / p.pw) * p.stride * ow + (q % p.pw) * p.stride;
            let mut t = 0u32;
            for ky in 0..p.k {
                for kx in 0..p.k {
                    let r = base + ky * ow + kx;
                    let row = &mut dst[r * oc..(r + 1) * oc];
                    for (((d, &gr), &pr), &a) in row.iter_mut().zip(gv).zip(pv).zip(av) {
                        let pass = a == t && (!relu || pr > 0.0);
                        *d += if pass { gr } else { 0.0 };
                    }
                    t += 1;
                }
            }
        }
    }
}

impl OutputGrad for Unpooled<'_> {
    fn rows<'a>(&'a self, g: &Geom, imgs: Range<usize>, buf: &'a mut Vec<f32>) -> &'a [f32] {
        let per_conv = g.rows_per_image() * g.oc;
        buf.clear();
        buf.resize(imgs.len() * per_conv, 0.0);
        for (dst, n) in buf.chunks_exact_mut(per_conv).zip(imgs) {
            self.image(n, dst);
        }
        buf
    }
}

impl CustomOp3 for ConvPoolOp {
    fn name(&self) -> &'static str {
        "autocandle-conv2d-max-pool2d"
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
        let x = f32_slice(s1, l1, "conv2d input")?;
        let w = f32_slice(s2, l2, "conv2d weight")?;
        let b = f32_slice(s3, l3, "conv2d bias")?;
        self.forward(x, w, b)
    }

    fn bwd(
        &self,
        x: &Tensor,
        w: &Tensor,
        b: &Tensor,
        res: &Tensor,
        grad: &Tensor,
    ) -> Result<(Option<Tensor>, Option<Tensor>, Option<Tensor>)> {
        let g = &self.g;
        let Some(argmax) = self.argmax.get() else {
            bail!("conv2d+max_pool2d backward: the forward pass did not run")
        };
        let out_len = g.b * self.pool.out_image(g.oc);
        if argmax.len() != out_len {
            bail!("conv2d+max_pool2d backward: window maxima do not match the output")
        }
        let io = BackwardIo {
            x,
            w,
            bias: Some(b),
            res,
            grad,
            out_len,
        };
        io.run(g, "conv2d+max_pool2d backward", |xs, ws, rs, gs, need| {
            let source = Unpooled {
                op: self,
                argmax,
                pooled: rs,
                grad: gs,
            };
            gemm_bwd(g, xs, ws, &source, need)
        })
    }
}

/// The fused op on contiguous f32 CPU tensors. Returns `Ok(None)` when it does not apply
/// (depthwise or grouped convolutions): the caller then runs the two ops one after the other.
pub(super) fn conv2d_max_pool2d(
    x: &Tensor,
    w: &Tensor,
    bias: &Tensor,
    g: Geom,
    act: Activation,
    k: usize,
    stride: usize,
) -> Result<Option<Tensor>> {
    if g.depthwise || k == 0 || stride == 0 || g.oh < k || g.ow < k {
        return Ok(None);
    }
    let l = bias.dims1()?;
    if l != g.oc {
        bail!("conv2d: bias has {l} elements for {} output channels", g.oc)
    }
    let pool = Pool {
        k,
        stride,
        ph: (g.oh - k) / stride + 1,
        pw: (g.ow - k) / stride + 1,
    };
    let op = ConvPoolOp {
        g,
        act,
        pool,
        argmax: OnceLock::new(),
    };
    let y = x
        .contiguous()?
        .apply_op3(&w.contiguous()?, &bias.contiguous()?, op)?;
    Ok(Some(y))
}
