//! NHWC 2-D convolution on the CPU as a candle custom op: im2col + one matrix product (groups 1),
//! or a direct kernel vectorised over channels (depthwise), with bias and activation fused into
//! the output pass and an exact backward pass.

use super::cpu::{
    add_assign, f32_slice, gemm_parallelism, matmul, reduce_partials, split_by_ranges, split_even,
    threads, worth_parallel, CpuF32, Mat,
};
use super::{Activation, Conv2dParams};
use candle_core::{bail, CpuStorage, CustomOp2, CustomOp3, Device, Layout, Result, Shape, Tensor};
use gemm::Parallelism;
use rayon::prelude::*;
use std::mem::MaybeUninit;
use std::ops::Range;

/// Most floats the backward pass spends on per-group partial weight gradients (when the thread
/// count allows).
const PARTIALS_FLOATS: usize = 1 << 22;

/// Bytes of im2col rows a task aims to keep in cache at once.
const CHUNK_BYTES: usize = 256 * 1024;

/// The shapes of one convolution, validated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Geom {
    pub(super) b: usize,
    h: usize,
    w: usize,
    c: usize,
    kh: usize,
    kw: usize,
    pub(super) oc: usize,
    pub(super) oh: usize,
    pub(super) ow: usize,
    stride: usize,
    pad_h: usize,
    pad_w: usize,
    dil: usize,
    pub(super) depthwise: bool,
}

impl Geom {
    /// Validates the shapes of `x` (`[b, h, w, c]`) and `w` (`[kh, kw, c / groups, oc]`).
    ///
    /// Returns `Ok(None)` when the fast path does not handle the grouping (the caller falls
    /// back to candle's kernels).
    pub(super) fn new(
        x: (usize, usize, usize, usize),
        wd: (usize, usize, usize, usize),
        p: Conv2dParams,
        pad_h: usize,
        pad_w: usize,
    ) -> Result<Option<Geom>> {
        let (b, h, w, c) = x;
        let (kh, kw, cg, oc) = wd;
        if p.stride == 0 || p.dilation == 0 || p.groups == 0 {
            bail!("conv2d: stride, dilation and groups must be positive, got {p:?}")
        }
        if kh == 0 || kw == 0 {
            bail!("conv2d: empty kernel {kh}x{kw}")
        }
        if h == 0 || w == 0 || c == 0 {
            bail!("conv2d: empty input image {h}x{w}x{c}")
        }
        let depthwise = p.groups > 1;
        if p.groups == 1 {
            if cg != c {
                bail!("conv2d: input has {c} channels but the kernel expects {cg}")
            }
        } else if !(p.groups == c && cg == 1 && oc == c) {
            // Other groupings (and depthwise with a channel multiplier) use the fallback.
            return Ok(None);
        }
        let (ekh, ekw) = (p.dilation * (kh - 1) + 1, p.dilation * (kw - 1) + 1);
        let (ph, pw) = (h + 2 * pad_h, w + 2 * pad_w);
        if ph < ekh || pw < ekw {
            bail!(
                "conv2d: kernel {kh}x{kw} (dilation {}) larger than the padded input {ph}x{pw}",
                p.dilation
            )
        }
        Ok(Some(Geom {
            b,
            h,
            w,
            c,
            kh,
            kw,
            oc,
            oh: (ph - ekh) / p.stride + 1,
            ow: (pw - ekw) / p.stride + 1,
            stride: p.stride,
            pad_h,
            pad_w,
            dil: p.dilation,
            depthwise,
        }))
    }

    /// Columns of the im2col matrix: `kh * kw * c`.
    fn k(&self) -> usize {
        self.kh * self.kw * self.c
    }

    /// Output pixels per image.
    pub(super) fn rows_per_image(&self) -> usize {
        self.oh * self.ow
    }

    /// Floats per input image.
    pub(super) fn in_image(&self) -> usize {
        self.h * self.w * self.c
    }

    /// A 1x1 convolution with stride 1 and no padding: the input is already the im2col matrix.
    fn pointwise(&self) -> bool {
        self.kh == 1 && self.kw == 1 && self.stride == 1 && self.pad_h == 0 && self.pad_w == 0
    }

    fn out_shape(&self) -> Shape {
        Shape::from((self.b, self.oh, self.ow, self.oc))
    }

    /// Multiply-adds ×2 of the forward pass.
    pub(super) fn flops(&self) -> usize {
        let per_out = if self.depthwise {
            self.kh * self.kw
        } else {
            self.k()
        };
        2 * self.b * self.rows_per_image() * self.oc * per_out
    }

    /// Input row for output row `o` and tap `t`, if inside the image.
    #[inline]
    fn in_y(&self, o: usize, t: usize) -> Option<usize> {
        (o * self.stride + t * self.dil)
            .checked_sub(self.pad_h)
            .filter(|&i| i < self.h)
    }

    /// Input column for output column `o` and tap `t`, if inside the image.
    #[inline]
    fn in_x(&self, o: usize, t: usize) -> Option<usize> {
        (o * self.stride + t * self.dil)
            .checked_sub(self.pad_w)
            .filter(|&i| i < self.w)
    }

    /// The output columns `lo..hi` whose taps all lie inside the input row.
    fn interior_x(&self) -> (usize, usize) {
        let lo = self.pad_w.div_ceil(self.stride);
        let span = self.dil * (self.kw - 1) + 1;
        // Last tap: ox * stride + span - 1 - pad_w < w.
        let hi = if self.w + self.pad_w >= span {
            (self.w + self.pad_w - span) / self.stride + 1
        } else {
            0
        };
        (lo, hi.min(self.ow).max(lo))
    }

    /// Rows of the im2col matrix per cache-sized chunk.
    pub(super) fn chunk_rows(&self) -> usize {
        (CHUNK_BYTES / (4 * self.k().max(1))).clamp(16, 4096)
    }

    pub(super) fn check_lengths(&self, x: usize, w: usize, bias: Option<usize>) -> Result<()> {
        let wlen = if self.depthwise {
            self.kh * self.kw * self.c
        } else {
            self.k() * self.oc
        };
        if x != self.b * self.in_image() || w != wlen || bias.is_some_and(|l| l != self.oc) {
            bail!("conv2d: tensor sizes do not match the geometry {self:?}")
        }
        Ok(())
    }
}

/// The convolution custom op; applied with `(x, w)` or `(x, w, bias)`.
pub(super) struct Conv2dOp {
    pub(super) g: Geom,
    pub(super) act: Activation,
}

impl Conv2dOp {
    fn forward(&self, x: &[f32], w: &[f32], bias: Option<&[f32]>) -> Result<(CpuStorage, Shape)> {
        let g = &self.g;
        g.check_lengths(x.len(), w.len(), bias.map(|b| b.len()))?;
        let out = if g.depthwise {
            depthwise_fwd(g, x, w, bias, self.act)
        } else {
            gemm_fwd(g, x, w, bias, self.act)
        };
        Ok((CpuStorage::F32(out), g.out_shape()))
    }

    fn backward(
        &self,
        x: &Tensor,
        w: &Tensor,
        bias: Option<&Tensor>,
        res: &Tensor,
        grad: &Tensor,
    ) -> Result<BackwardGrads> {
        let g = &self.g;
        let out_len = g.b * g.rows_per_image() * g.oc;
        let io = BackwardIo {
            x,
            w,
            bias,
            res,
            grad,
            out_len,
        };
        io.run(g, "conv2d backward", |xs, ws, rs, gs, need| {
            let source = Masked {
                grad: gs,
                relu: (self.act == Activation::Relu).then_some(rs),
            };
            if g.depthwise {
                depthwise_bwd(g, xs, ws, &source, need)
            } else {
                gemm_bwd(g, xs, ws, &source, need)
            }
        })
    }
}

/// The gradients a convolution's backward pass returns: input, kernel, bias.
pub(super) type BackwardGrads = (Option<Tensor>, Option<Tensor>, Option<Tensor>);

/// A convolution backward pass's tensors: the op's inputs, its result and the incoming gradient
/// (`out_len` elements each for the last two).
pub(super) struct BackwardIo<'t> {
    pub(super) x: &'t Tensor,
    pub(super) w: &'t Tensor,
    pub(super) bias: Option<&'t Tensor>,
    pub(super) res: &'t Tensor,
    pub(super) grad: &'t Tensor,
    pub(super) out_len: usize,
}

impl BackwardIo<'_> {
    /// Works out which gradients are needed, locks the tensors' data, checks the sizes, runs
    /// `compute(x, w, res, grad, needs)` and wraps its results as tensors.
    pub(super) fn run(
        &self,
        g: &Geom,
        what: &str,
        compute: impl FnOnce(&[f32], &[f32], &[f32], &[f32], Needs) -> Grads,
    ) -> Result<BackwardGrads> {
        let need = Needs {
            dx: self.x.track_op(),
            dw: self.w.track_op(),
            db: self.bias.is_some_and(|b| b.track_op()),
        };
        if !(need.dx || need.dw || need.db) {
            return Ok((None, None, None));
        }
        let grad = self.grad.contiguous()?;
        let (xv, wv, rv, gv) = (
            CpuF32::new(self.x, what)?,
            CpuF32::new(self.w, what)?,
            CpuF32::new(self.res, what)?,
            CpuF32::new(&grad, what)?,
        );
        let (xs, ws, rs, gs) = (xv.as_slice(), wv.as_slice(), rv.as_slice(), gv.as_slice());
        g.check_lengths(xs.len(), ws.len(), None)?;
        if rs.len() != self.out_len || gs.len() != self.out_len {
            bail!("{what}: gradient size does not match the output")
        }
        let grads = compute(xs, ws, rs, gs, need);
        let wrap = |v: Option<Vec<f32>>, t: Option<&Tensor>| -> Result<Option<Tensor>> {
            match (v, t) {
                (Some(v), Some(t)) => Ok(Some(Tensor::from_vec(v, t.shape(), &Device::Cpu)?)),
                _ => Ok(None),
            }
        };
        Ok((
            wrap(grads.dx, Some(self.x))?,
            wrap(grads.dw, Some(self.w))?,
            wrap(grads.db, self.bias)?,
        ))
    }
}

impl CustomOp2 for Conv2dOp {
    fn name(&self) -> &'static str {
        "autocandle-conv2d"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        let x = f32_slice(s1, l1, "conv2d input")?;
        let w = f32_slice(s2, l2, "conv2d weight")?;
        self.forward(x, w, None)
    }

    fn bwd(
        &self,
        x: &Tensor,
        w: &Tensor,
        res: &Tensor,
        grad: &Tensor,
    ) -> Result<(Option<Tensor>, Option<Tensor>)> {
        let (dx, dw, _) = self.backward(x, w, None, res, grad)?;
        Ok((dx, dw))
    }
}

impl CustomOp3 for Conv2dOp {
    fn name(&self) -> &'static str {
        "autocandle-conv2d-bias"
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
        self.forward(x, w, Some(b))
    }

    fn bwd(
        &self,
        x: &Tensor,
        w: &Tensor,
        b: &Tensor,
        res: &Tensor,
        grad: &Tensor,
    ) -> Result<(Option<Tensor>, Option<Tensor>, Option<Tensor>)> {
        self.backward(x, w, Some(b), res, grad)
    }
}

/// Which gradients the backward pass must produce.
#[derive(Debug, Clone, Copy)]
pub(super) struct Needs {
    pub(super) dx: bool,
    pub(super) dw: bool,
    pub(super) db: bool,
}

pub(super) struct Grads {
    pub(super) dx: Option<Vec<f32>>,
    pub(super) dw: Option<Vec<f32>>,
    pub(super) db: Option<Vec<f32>>,
}

/// Runs a backward pass's per-image-group work (in parallel when `outer_par`), each group
/// writing its own slice of the input gradient and returning partial weight and bias gradients,
/// then sums the partials in group order (deterministic). `lens` = (weight, bias) lengths.
fn run_groups<F>(
    g: &Geom,
    groups: &[Range<usize>],
    outer_par: bool,
    need: Needs,
    lens: (usize, usize),
    group: F,
) -> Grads
where
    F: Fn(Range<usize>, Option<&mut [f32]>) -> (Vec<f32>, Vec<f32>) + Sync,
{
    let mut dx = need.dx.then(|| vec![0f32; g.b * g.in_image()]);
    let partials: Vec<(Vec<f32>, Vec<f32>)> = match dx.as_deref_mut() {
        Some(dx) => {
            let pieces = split_by_ranges(dx, groups, g.in_image());
            if outer_par {
                groups
                    .par_iter()
                    .cloned()
                    .zip(pieces)
                    .map(|(r, p)| group(r, Some(p)))
                    .collect()
            } else {
                groups
                    .iter()
                    .cloned()
                    .zip(pieces)
                    .map(|(r, p)| group(r, Some(p)))
                    .collect()
            }
        }
        None if outer_par => groups.par_iter().cloned().map(|r| group(r, None)).collect(),
        None => groups.iter().cloned().map(|r| group(r, None)).collect(),
    };
    let (dws, dbs): (Vec<_>, Vec<_>) = partials.into_iter().unzip();
    Grads {
        dx,
        dw: need.dw.then(|| reduce_partials(dws, lens.0)),
        db: need.db.then(|| reduce_partials(dbs, lens.1)),
    }
}

/// Applies the activation in place.
fn activate(out: &mut [f32], act: Activation) {
    match act {
        Activation::None => {}
        Activation::Relu => out.iter_mut().for_each(|v| *v = v.max(0.0)),
    }
}

/// `dst.copy_from_slice(src)`, without a `memcpy` call for the few floats of thin layers.
#[inline(always)]
fn copy(dst: &mut [f32], src: &[f32]) {
    if dst.len() <= 8 {
        for (d, s) in dst.iter_mut().zip(src) {
            *d = *s;
        }
    } else {
        dst.copy_from_slice(src);
    }
}

/// Writes im2col rows `r0..r0 + dst.len() / k` (row = output pixel, column = `(ky, kx, ci)`).
fn im2col(g: &Geom, x: &[f32], r0: usize, dst: &mut [f32]) {
    let (k, c) = (g.k(), g.c);
    let krow = g.kw * c;
    let rpi = g.rows_per_image();
    let (ox_lo, ox_hi) = g.interior_x();
    let nrows = dst.len() / k;
    let (mut i, mut r) = (0, r0);
    // One segment of consecutive output pixels on the same output row at a time.
    while i < nrows {
        let (n, oy, ox0) = (r / rpi, (r % rpi) / g.ow, r % g.ow);
        let cnt = (g.ow - ox0).min(nrows - i);
        let img = &x[n * g.in_image()..(n + 1) * g.in_image()];
        let seg = &mut dst[i * k..(i + cnt) * k];
        for ky in 0..g.kh {
            let Some(iy) = g.in_y(oy, ky) else {
                seg.chunks_exact_mut(k)
                    .for_each(|row| row[ky * krow..(ky + 1) * krow].fill(0.0));
                continue;
            };
            let xrow = &img[iy * g.w * c..(iy + 1) * g.w * c];
            for (j, row) in seg.chunks_exact_mut(k).enumerate() {
                let ox = ox0 + j;
                let d = &mut row[ky * krow..(ky + 1) * krow];
                if (ox_lo..ox_hi).contains(&ox) {
                    // Every tap inside the row.
                    let ix0 = ox * g.stride - g.pad_w;
                    if g.dil == 1 {
                        copy(d, &xrow[ix0 * c..ix0 * c + krow]);
                    } else {
                        for (kx, dd) in d.chunks_exact_mut(c).enumerate() {
                            let ix = ix0 + kx * g.dil;
                            copy(dd, &xrow[ix * c..(ix + 1) * c]);
                        }
                    }
                } else {
                    for (kx, dd) in d.chunks_exact_mut(c).enumerate() {
                        match g.in_x(ox, kx) {
                            Some(ix) => copy(dd, &xrow[ix * c..(ix + 1) * c]),
                            None => dd.fill(0.0),
                        }
                    }
                }
            }
        }
        i += cnt;
        r += cnt;
    }
}

/// Adds im2col-shaped gradient rows of whole images into `dx` (those images only).
fn col2im(g: &Geom, cols: &[f32], dx: &mut [f32]) {
    let k = g.k();
    let c = g.c;
    let krow = g.kw * c;
    for (img_cols, img) in cols
        .chunks_exact(g.rows_per_image() * k)
        .zip(dx.chunks_exact_mut(g.in_image()))
    {
        for (r, row) in img_cols.chunks_exact(k).enumerate() {
            let (oy, ox) = (r / g.ow, r % g.ow);
            for (ky, srow) in row.chunks_exact(krow).enumerate() {
                let Some(iy) = g.in_y(oy, ky) else { continue };
                let xrow = &mut img[iy * g.w * c..(iy + 1) * g.w * c];
                let ix0 = (ox * g.stride).wrapping_sub(g.pad_w);
                if g.dil == 1 && ox * g.stride >= g.pad_w && ix0 + g.kw <= g.w {
                    add_assign(&mut xrow[ix0 * c..(ix0 + g.kw) * c], srow);
                    continue;
                }
                for (kx, s) in srow.chunks_exact(c).enumerate() {
                    if let Some(ix) = g.in_x(ox, kx) {
                        add_assign(&mut xrow[ix * c..(ix + 1) * c], s);
                    }
                }
            }
        }
    }
}

/// Forward pass for groups == 1: chunks of output rows, each im2col'd into a cache-sized buffer
/// and multiplied by the `[k, oc]` weight matrix.
fn gemm_fwd(g: &Geom, x: &[f32], w: &[f32], bias: Option<&[f32]>, act: Activation) -> Vec<f32> {
    let (m, n) = (g.b * g.rows_per_image(), g.oc);
    let mut out: Vec<f32> = Vec::with_capacity(m * n);
    if m == 0 || n == 0 {
        return out;
    }
    let rows = g.chunk_rows();
    let nchunks = m.div_ceil(rows);
    let outer_par = worth_parallel(g.flops()) && nchunks >= 2 * threads();
    let inner = if outer_par {
        Parallelism::None
    } else {
        gemm_parallelism(g.flops())
    };
    let wmat = Mat {
        data: w,
        rs: n,
        cs: 1,
    };
    let body = |buf: &mut Vec<f32>, (ci, o): (usize, &mut [MaybeUninit<f32>])| {
        product_rows(g, x, wmat, bias, act, ci * rows, o, buf, inner);
    };
    let spare = &mut out.spare_capacity_mut()[..m * n];
    if outer_par {
        spare
            .par_chunks_mut(rows * n)
            .enumerate()
            .for_each_init(Vec::new, body);
    } else {
        let mut buf = Vec::new();
        spare
            .chunks_mut(rows * n)
            .enumerate()
            .for_each(|item| body(&mut buf, item));
    }
    // SAFETY: the chunks above cover `0..m * n` and each initialised all of its elements.
    unsafe { out.set_len(m * n) };
    out
}

/// Computes output rows `r0..r0 + o.len() / oc` into `o`: `act(im2col(x) · W + bias)`, with
/// `buf` as the im2col scratch space. Returns the rows as initialised floats.
#[allow(clippy::too_many_arguments)]
pub(super) fn product_rows<'o>(
    g: &Geom,
    x: &[f32],
    wmat: Mat<'_>,
    bias: Option<&[f32]>,
    act: Activation,
    r0: usize,
    o: &'o mut [MaybeUninit<f32>],
    buf: &mut Vec<f32>,
    inner: Parallelism,
) -> &'o mut [f32] {
    let (k, n) = (g.k(), g.oc);
    // Start from the bias (or zeros) while this chunk is in cache; the product adds to it.
    for row in o.chunks_exact_mut(n) {
        match bias {
            Some(b) => row.iter_mut().zip(b).for_each(|(d, &v)| {
                d.write(v);
            }),
            None => row.iter_mut().for_each(|d| {
                d.write(0.0);
            }),
        }
    }
    // SAFETY: every element was initialised just above; `MaybeUninit<f32>` has the layout of
    // `f32`.
    let o: &mut [f32] =
        unsafe { std::slice::from_raw_parts_mut(o.as_mut_ptr().cast::<f32>(), o.len()) };
    let nr = o.len() / n;
    let lhs: &[f32] = if g.pointwise() {
        &x[r0 * k..(r0 + nr) * k]
    } else {
        buf.resize(nr * k, 0.0);
        im2col(g, x, r0, buf);
        buf
    };
    matmul(
        nr,
        n,
        k,
        o,
        n,
        true,
        Mat {
            data: lhs,
            rs: k,
            cs: 1,
        },
        wmat,
        inner,
    );
    activate(o, act);
    o
}

/// How the backward pass splits the batch: contiguous groups of images, each with its own
/// partial weight gradient, summed in order afterwards (deterministic for a given thread count).
fn batch_groups(g: &Geom) -> (Vec<Range<usize>>, bool) {
    let work = 2 * g.flops();
    if !worth_parallel(work) || g.b < 2 {
        return (split_even(g.b, 1), false);
    }
    // Enough groups for work stealing to even out unequal cores, but a bounded amount of
    // memory for the partial weight gradients.
    let wlen = if g.depthwise {
        g.kh * g.kw * g.c
    } else {
        g.k() * g.oc
    };
    let by_memory = (PARTIALS_FLOATS / wlen.max(1)).max(threads());
    let parts = g.b.min((4 * threads()).max(16)).min(by_memory);
    (split_even(g.b, parts), parts >= threads())
}

/// Where the backward pass gets the gradient with respect to the convolution's output (after
/// the activation's mask), one run of whole images at a time.
pub(super) trait OutputGrad: Sync {
    /// The gradient rows of images `imgs` (`imgs.len() * rows_per_image` rows of `oc`), using
    /// `buf` as scratch space when they must be computed.
    fn rows<'a>(&'a self, g: &Geom, imgs: Range<usize>, buf: &'a mut Vec<f32>) -> &'a [f32];
}

/// The gradient of the op's own output, masked by `res > 0` for a fused ReLU.
struct Masked<'a> {
    grad: &'a [f32],
    relu: Option<&'a [f32]>,
}

impl OutputGrad for Masked<'_> {
    fn rows<'a>(&'a self, g: &Geom, imgs: Range<usize>, buf: &'a mut Vec<f32>) -> &'a [f32] {
        let per = g.rows_per_image() * g.oc;
        let range = imgs.start * per..imgs.end * per;
        match self.relu {
            None => &self.grad[range],
            Some(res) => {
                buf.clear();
                buf.extend(
                    self.grad[range.clone()]
                        .iter()
                        .zip(&res[range])
                        .map(|(&gv, &r)| if r > 0.0 { gv } else { 0.0 }),
                );
                buf
            }
        }
    }
}

/// Backward pass for groups == 1.
pub(super) fn gemm_bwd(
    g: &Geom,
    x: &[f32],
    w: &[f32],
    grad: &dyn OutputGrad,
    need: Needs,
) -> Grads {
    let (k, n) = (g.k(), g.oc);
    let rpi = g.rows_per_image();
    let (groups, outer_par) = batch_groups(g);
    let inner = if outer_par {
        Parallelism::None
    } else {
        gemm_parallelism(2 * g.flops())
    };
    let ipc = (g.chunk_rows() / rpi.max(1)).max(1);
    let wt = Mat {
        data: w,
        rs: 1,
        cs: n,
    };

    // One group of images: returns its partial (dW, dB) and fills its slice of dX.
    let group = |imgs: Range<usize>, mut dx: Option<&mut [f32]>| -> (Vec<f32>, Vec<f32>) {
        let mut dw = if need.dw {
            vec![0f32; k * n]
        } else {
            Vec::new()
        };
        let mut db = if need.db { vec![0f32; n] } else { Vec::new() };
        let (mut cols, mut gbuf, mut dcols) = (Vec::new(), Vec::new(), Vec::new());
        let mut n0 = imgs.start;
        while n0 < imgs.end {
            let n1 = (n0 + ipc).min(imgs.end);
            let (r0, r1) = (n0 * rpi, n1 * rpi);
            let nr = r1 - r0;
            let gm = grad.rows(g, n0..n1, &mut gbuf);
            if need.db {
                gm.chunks_exact(n).for_each(|row| add_assign(&mut db, row));
            }
            if need.dw {
                let lhs: &[f32] = if g.pointwise() {
                    &x[r0 * k..r1 * k]
                } else {
                    cols.resize(nr * k, 0.0);
                    im2col(g, x, r0, &mut cols);
                    &cols
                };
                // dW (k×n) += colsᵀ (k×nr) · gm (nr×n)
                matmul(
                    k,
                    n,
                    nr,
                    &mut dw,
                    n,
                    true,
                    Mat {
                        data: lhs,
                        rs: 1,
                        cs: k,
                    },
                    Mat {
                        data: gm,
                        rs: n,
                        cs: 1,
                    },
                    inner,
                );
            }
            if let Some(dx) = dx.as_deref_mut() {
                let dxs =
                    &mut dx[(n0 - imgs.start) * g.in_image()..(n1 - imgs.start) * g.in_image()];
                let gmat = Mat {
                    data: gm,
                    rs: n,
                    cs: 1,
                };
                if g.pointwise() {
                    matmul(nr, k, n, dxs, k, false, gmat, wt, inner);
                } else {
                    // dCols (nr×k) = gm (nr×n) · Wᵀ (n×k), scattered back onto the images.
                    dcols.resize(nr * k, 0.0);
                    matmul(nr, k, n, &mut dcols, k, false, gmat, wt, inner);
                    col2im(g, &dcols, dxs);
                }
            }
            n0 = n1;
        }
        (dw, db)
    };

    run_groups(g, &groups, outer_par, need, (k * n, n), group)
}

/// Depthwise forward for one image (weight `[kh, kw, c]`, multiplier 1), with 8-wide vectors
/// where the CPU has AVX2 (the same operations in the same order: identical results).
fn depthwise_image_fwd(
    g: &Geom,
    img: &[f32],
    w: &[f32],
    bias: Option<&[f32]>,
    act: Activation,
    out: &mut [f32],
) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU supports AVX2.
        return unsafe { depthwise_image_fwd_avx2(g, img, w, bias, act, out) };
    }
    depthwise_image_fwd_impl(g, img, w, bias, act, out)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn depthwise_image_fwd_avx2(
    g: &Geom,
    img: &[f32],
    w: &[f32],
    bias: Option<&[f32]>,
    act: Activation,
    out: &mut [f32],
) {
    depthwise_image_fwd_impl(g, img, w, bias, act, out)
}

#[inline(always)]
fn depthwise_image_fwd_impl(
    g: &Geom,
    img: &[f32],
    w: &[f32],
    bias: Option<&[f32]>,
    act: Activation,
    out: &mut [f32],
) {
    let c = g.c;
    for (p, o) in out.chunks_exact_mut(c).enumerate() {
        let (oy, ox) = (p / g.ow, p % g.ow);
        match bias {
            Some(b) => o.copy_from_slice(b),
            None => o.fill(0.0),
        }
        for ky in 0..g.kh {
            let Some(iy) = g.in_y(oy, ky) else { continue };
            for kx in 0..g.kw {
                let Some(ix) = g.in_x(ox, kx) else { continue };
                let xp = &img[(iy * g.w + ix) * c..(iy * g.w + ix + 1) * c];
                let wp = &w[(ky * g.kw + kx) * c..(ky * g.kw + kx + 1) * c];
                for ((o, xv), wv) in o.iter_mut().zip(xp).zip(wp) {
                    *o += xv * wv;
                }
            }
        }
        activate(o, act);
    }
}

fn depthwise_fwd(
    g: &Geom,
    x: &[f32],
    w: &[f32],
    bias: Option<&[f32]>,
    act: Activation,
) -> Vec<f32> {
    let per_out = g.rows_per_image() * g.c;
    let mut out = vec![0f32; g.b * per_out];
    if per_out == 0 {
        return out;
    }
    let body = |(img, o): (&[f32], &mut [f32])| depthwise_image_fwd(g, img, w, bias, act, o);
    if worth_parallel(g.flops()) && g.b > 1 {
        x.par_chunks_exact(g.in_image())
            .zip(out.par_chunks_exact_mut(per_out))
            .for_each(body);
    } else {
        x.chunks_exact(g.in_image())
            .zip(out.chunks_exact_mut(per_out))
            .for_each(body);
    }
    out
}

/// Where one image's depthwise gradients accumulate.
struct DepthwiseAcc<'a> {
    dw: Option<&'a mut [f32]>,
    db: Option<&'a mut [f32]>,
    dx: Option<&'a mut [f32]>,
}

/// Depthwise backward for one image: adds into `acc` given the (masked) output gradient `gm`.
fn depthwise_image_bwd(g: &Geom, img: &[f32], w: &[f32], gm: &[f32], acc: DepthwiseAcc<'_>) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU supports AVX2.
        return unsafe { depthwise_image_bwd_avx2(g, img, w, gm, acc) };
    }
    depthwise_image_bwd_impl(g, img, w, gm, acc)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn depthwise_image_bwd_avx2(g: &Geom, img: &[f32], w: &[f32], gm: &[f32], acc: DepthwiseAcc<'_>) {
    depthwise_image_bwd_impl(g, img, w, gm, acc)
}

#[inline(always)]
fn depthwise_image_bwd_impl(
    g: &Geom,
    img: &[f32],
    w: &[f32],
    gm: &[f32],
    mut acc: DepthwiseAcc<'_>,
) {
    let c = g.c;
    for (p, gp) in gm.chunks_exact(c).enumerate() {
        let (oy, ox) = (p / g.ow, p % g.ow);
        if let Some(db) = acc.db.as_deref_mut() {
            add_assign(db, gp);
        }
        for ky in 0..g.kh {
            let Some(iy) = g.in_y(oy, ky) else { continue };
            for kx in 0..g.kw {
                let Some(ix) = g.in_x(ox, kx) else { continue };
                let (xo, wo) = ((iy * g.w + ix) * c, (ky * g.kw + kx) * c);
                if let Some(dw) = acc.dw.as_deref_mut() {
                    let xp = &img[xo..xo + c];
                    for ((d, xv), gv) in dw[wo..wo + c].iter_mut().zip(xp).zip(gp) {
                        *d += xv * gv;
                    }
                }
                if let Some(di) = acc.dx.as_deref_mut() {
                    let wp = &w[wo..wo + c];
                    for ((d, wv), gv) in di[xo..xo + c].iter_mut().zip(wp).zip(gp) {
                        *d += wv * gv;
                    }
                }
            }
        }
    }
}

fn depthwise_bwd(g: &Geom, x: &[f32], w: &[f32], grad: &dyn OutputGrad, need: Needs) -> Grads {
    let c = g.c;
    let (groups, outer_par) = batch_groups(g);
    let group = |imgs: Range<usize>, mut dx: Option<&mut [f32]>| -> (Vec<f32>, Vec<f32>) {
        let mut dw = if need.dw {
            vec![0f32; g.kh * g.kw * c]
        } else {
            Vec::new()
        };
        let mut db = if need.db { vec![0f32; c] } else { Vec::new() };
        let mut gbuf = Vec::new();
        for n in imgs.clone() {
            let img = &x[n * g.in_image()..(n + 1) * g.in_image()];
            let gm = grad.rows(g, n..n + 1, &mut gbuf);
            let dimg = dx.as_deref_mut().map(|d| {
                &mut d[(n - imgs.start) * g.in_image()..(n - imgs.start + 1) * g.in_image()]
            });
            let acc = DepthwiseAcc {
                dw: need.dw.then_some(&mut dw[..]),
                db: need.db.then_some(&mut db[..]),
                dx: dimg,
            };
            depthwise_image_bwd(g, img, w, gm, acc);
        }
        (dw, db)
    };
    run_groups(g, &groups, outer_par, need, (g.kh * g.kw * c, c), group)
}

/// The fast convolution on contiguous f32 CPU tensors. Returns `Ok(None)` when the grouping is
/// not handled here.
pub(super) fn conv2d(
    x: &Tensor,
    w: &Tensor,
    bias: Option<&Tensor>,
    p: Conv2dParams,
    pad_h: usize,
    pad_w: usize,
    act: Activation,
) -> Result<Option<Tensor>> {
    let Some(g) = Geom::new(x.dims4()?, w.dims4()?, p, pad_h, pad_w)? else {
        return Ok(None);
    };
    if let Some(b) = bias {
        let l = b.dims1()?;
        if l != g.oc {
            bail!("conv2d: bias has {l} elements for {} output channels", g.oc)
        }
    }
    let x = x.contiguous()?;
    let w = w.contiguous()?;
    let op = Conv2dOp { g, act };
    let y = match bias {
        Some(b) => x.apply_op3(&w, &b.contiguous()?, op)?,
        None => x.apply_op2(&w, op)?,
    };
    Ok(Some(y))
}
