//! Fast CPU kernels for the layers that dominate training time (convolution, pooling), as candle
//! custom ops with their own backward passes. Activations are NHWC (`[batch, height, width,
//! channels]`), so that a convolution is one matrix product over all output pixels.
//!
//! For f32 tensors on the CPU, [`conv2d`] / [`conv1d`] (groups 1 and depthwise) and the pooling
//! functions run as candle custom ops: im2col + one `gemm` product (or a direct depthwise kernel)
//! with the bias and activation fused, parallel over rayon's threads, deterministic for a given
//! thread count, with exact gradients (max pooling's gradient goes to the first maximum of each
//! window). Other dtypes, other groupings and other devices (CUDA) fall back to candle's own
//! operations with the same semantics; so does everything when the environment variable
//! `AUTOCANDLE_KERNELS` is `candle` (to measure what the fast kernels buy).

mod batch_norm;
mod conv;
mod conv_pool;
mod cpu;

pub(crate) use cpu::{matmul, Mat};
mod fallback;
mod pool;

use candle_core::{DType, Result, Tensor};

pub use batch_norm::BatchStats;

/// An activation fused into a kernel's output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Activation {
    /// Identity.
    #[default]
    None,
    /// `max(x, 0)`.
    Relu,
}

/// Geometry of a 2-D convolution.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Conv2dParams {
    /// Step between windows, both axes.
    pub stride: usize,
    /// Zeros added on every side, both axes.
    pub padding: usize,
    /// Spacing between kernel taps.
    pub dilation: usize,
    /// Channel groups; `groups == in_channels` is a depthwise convolution.
    pub groups: usize,
}

impl Default for Conv2dParams {
    fn default() -> Self {
        Conv2dParams {
            stride: 1,
            padding: 0,
            dilation: 1,
            groups: 1,
        }
    }
}

/// 2-D convolution on NHWC input with a fused bias and activation.
///
/// - `x`: `[b, h, w, c]`
/// - `w`: `[kh, kw, c / groups, oc]`
/// - `bias`: `[oc]`
///
/// Returns `[b, oh, ow, oc]`, `act(conv(x, w) + bias)`.
pub fn conv2d(
    x: &Tensor,
    w: &Tensor,
    bias: Option<&Tensor>,
    p: Conv2dParams,
    act: Activation,
) -> Result<Tensor> {
    if fast_path(&[Some(x), Some(w), bias]) {
        if let Some(y) = conv::conv2d(x, w, bias, p, p.padding, p.padding, act)? {
            return Ok(y);
        }
    }
    fallback::conv2d(x, w, bias, p, act)
}

/// [`conv2d`] followed by [`max_pool2d`] over `k x k` windows with the given stride, as one op
/// on the CPU: the convolution's full-size output never reaches memory, and the backward pass
/// needs no separate pooling gradient. Same results as the two calls in a row.
pub fn conv2d_max_pool2d(
    x: &Tensor,
    w: &Tensor,
    bias: &Tensor,
    p: Conv2dParams,
    act: Activation,
    k: usize,
    stride: usize,
) -> Result<Tensor> {
    if fast_path(&[Some(x), Some(w), Some(bias)]) {
        if let Some(g) = conv::Geom::new(x.dims4()?, w.dims4()?, p, p.padding, p.padding)? {
            if let Some(y) = conv_pool::conv2d_max_pool2d(x, w, bias, g, act, k, stride)? {
                return Ok(y);
            }
        }
    }
    max_pool2d(&conv2d(x, w, Some(bias), p, act)?, k, stride)
}

/// Batch normalisation in training mode: `x` is `[rows, c]`, normalised with its own per-channel
/// mean and (biased) variance, then scaled by `gamma` and shifted by `beta`. Returns the output
/// and the batch statistics (for the running averages). Gradients flow to all three inputs.
pub fn batch_norm_train(
    x: &Tensor,
    gamma: &Tensor,
    beta: &Tensor,
    eps: f64,
) -> Result<(Tensor, BatchStats)> {
    if fast_path(&[Some(x), Some(gamma), Some(beta)]) {
        return batch_norm::batch_norm_train(x, gamma, beta, eps);
    }
    let mean = x.mean(0)?;
    let centered = x.broadcast_sub(&mean)?;
    let var = centered.sqr()?.mean(0)?;
    let inv = (&var + eps)?.sqrt()?.recip()?;
    let y = centered
        .broadcast_mul(&(inv * gamma)?)?
        .broadcast_add(beta)?;
    let stats = BatchStats {
        mean: mean.to_dtype(DType::F32)?.to_vec1()?,
        var: var.to_dtype(DType::F32)?.to_vec1()?,
    };
    Ok((y, stats))
}

/// Whether every given tensor is f32 on the CPU, where the custom kernels apply (unless
/// `AUTOCANDLE_KERNELS=candle` asks for candle's stock kernels everywhere, for comparisons).
fn fast_path(ts: &[Option<&Tensor>]) -> bool {
    !stock_only()
        && ts
            .iter()
            .flatten()
            .all(|t| t.device().is_cpu() && t.dtype() == DType::F32)
}

/// `AUTOCANDLE_KERNELS=candle`, read once.
pub(crate) fn stock_only() -> bool {
    static STOCK: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *STOCK.get_or_init(|| {
        std::env::var("AUTOCANDLE_KERNELS").is_ok_and(|v| v.eq_ignore_ascii_case("candle"))
    })
}

/// 1-D convolution on NLC input (`[b, length, channels]`), weights `[k, c / groups, oc]`.
pub fn conv1d(
    x: &Tensor,
    w: &Tensor,
    bias: Option<&Tensor>,
    p: Conv2dParams,
    act: Activation,
) -> Result<Tensor> {
    let (b, l, c) = x.dims3()?;
    let (k, cg, oc) = w.dims3()?;
    let x4 = x.reshape((b, 1, l, c))?;
    let w4 = w.reshape((1, k, cg, oc))?;
    // Height 1: the padding applies to the length axis only.
    let y = conv2d_hw_padding(&x4, &w4, bias, p, act)?;
    let (_, _, ol, _) = y.dims4()?;
    y.reshape((b, ol, oc))
}

fn conv2d_hw_padding(
    x: &Tensor,
    w: &Tensor,
    bias: Option<&Tensor>,
    p: Conv2dParams,
    act: Activation,
) -> Result<Tensor> {
    if p.padding == 0 {
        return conv2d(x, w, bias, p, act);
    }
    if fast_path(&[Some(x), Some(w), bias]) {
        if let Some(y) = conv::conv2d(x, w, bias, p, 0, p.padding, act)? {
            return Ok(y);
        }
    }
    // Pad the width axis explicitly so that the height axis (1) stays unpadded.
    let xp = x.pad_with_zeros(2, p.padding, p.padding)?;
    conv2d(&xp, w, bias, Conv2dParams { padding: 0, ..p }, act)
}

/// Max pooling over `k x k` windows with the given stride, NHWC. Windows that do not fit are
/// dropped (Keras's `padding="valid"`).
pub fn max_pool2d(x: &Tensor, k: usize, stride: usize) -> Result<Tensor> {
    if fast_path(&[Some(x)]) {
        return pool::pool2d(x, pool::PoolKind::Max, k, stride);
    }
    fallback::max_pool2d(x, k, stride)
}

/// Average pooling over `k x k` windows with the given stride, NHWC, `padding="valid"`.
pub fn avg_pool2d(x: &Tensor, k: usize, stride: usize) -> Result<Tensor> {
    if fast_path(&[Some(x)]) {
        return pool::pool2d(x, pool::PoolKind::Avg, k, stride);
    }
    fallback::avg_pool2d(x, k, stride)
}
