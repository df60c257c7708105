//! Layer normalisation, multi-head self-attention and the Transformer encoder layer.

use super::super::network::dropout;
use super::super::Phase;
use super::attention_op::AttentionOp;
use super::dense_ops::{LayerNormOp, LinearOp};
use super::ParamFn;
use crate::error::Result;
use candle_core::{DType, Tensor, D};

/// Epsilon of the layer norms (AutoKeras's Transformer uses 1e-6).
const LN_EPS: f64 = 1e-6;

/// Parameters of an encoder layer on `c` channels with a feed-forward width `dense_dim`.
pub(super) fn param_shapes(c: usize, dense_dim: usize) -> Vec<(&'static str, Vec<usize>, bool)> {
    vec![
        ("query_kernel", vec![c, c], true),
        ("query_bias", vec![c], true),
        ("key_kernel", vec![c, c], true),
        ("key_bias", vec![c], true),
        ("value_kernel", vec![c, c], true),
        ("value_bias", vec![c], true),
        ("output_kernel", vec![c, c], true),
        ("output_bias", vec![c], true),
        ("norm1_gamma", vec![c], true),
        ("norm1_beta", vec![c], true),
        ("ffn1_kernel", vec![c, dense_dim], true),
        ("ffn1_bias", vec![dense_dim], true),
        ("ffn2_kernel", vec![dense_dim, c], true),
        ("ffn2_bias", vec![c], true),
        ("norm2_gamma", vec![c], true),
        ("norm2_beta", vec![c], true),
    ]
}

/// Whether the custom CPU ops apply to `x`.
fn fast(x: &Tensor) -> bool {
    x.device().is_cpu() && x.dtype() == DType::F32 && !crate::kernels::stock_only()
}

/// `(x - mean) / sqrt(var + eps) * gamma + beta` over the last axis.
pub(super) fn layer_norm(x: &Tensor, gamma: &Tensor, beta: &Tensor) -> Result<Tensor> {
    if fast(x) {
        let op = LayerNormOp { eps: LN_EPS as f32 };
        return Ok(x.contiguous()?.apply_op3(gamma, beta, op)?);
    }
    let mean = x.mean_keepdim(D::Minus1)?;
    let centered = x.broadcast_sub(&mean)?;
    let var = centered.sqr()?.mean_keepdim(D::Minus1)?;
    let y = centered.broadcast_div(&(var + LN_EPS)?.sqrt()?)?;
    Ok(y.broadcast_mul(gamma)?.broadcast_add(beta)?)
}

/// `x @ w + b` on the last axis of `[b, s, i]`.
fn dense(x: &Tensor, w: &Tensor, b: &Tensor) -> Result<Tensor> {
    if fast(x) {
        return Ok(x.contiguous()?.apply_op3(w, b, LinearOp)?);
    }
    let (n, s, i) = x.dims3()?;
    let o = w.dim(1)?;
    Ok(x.reshape((n * s, i))?
        .matmul(w)?
        .broadcast_add(b)?
        .reshape((n, s, o))?)
}

/// Softmax over the last axis (the maximum is subtracted as a constant).
fn softmax(x: &Tensor) -> Result<Tensor> {
    let m = x.max_keepdim(D::Minus1)?.detach();
    let e = x.broadcast_sub(&m)?.exp()?;
    let s = e.sum_keepdim(D::Minus1)?;
    Ok(e.broadcast_div(&s)?)
}

/// Multi-head self-attention of `x` (`[b, s, c]`) with `heads` heads of `c / heads` dimensions
/// (one custom op for `f32` on the CPU, else candle operations).
pub(super) fn self_attention(x: &Tensor, p: &ParamFn<'_>, heads: usize) -> Result<Tensor> {
    let (b, s, c) = x.dims3()?;
    if fast(x) {
        let q = dense(x, p("query_kernel")?, p("query_bias")?)?;
        let k = dense(x, p("key_kernel")?, p("key_bias")?)?;
        let v = dense(x, p("value_kernel")?, p("value_bias")?)?;
        let o = q.apply_op3(&k, &v, AttentionOp { heads })?;
        return dense(&o, p("output_kernel")?, p("output_bias")?);
    }
    let dh = c / heads;
    let split = |t: Tensor| -> Result<Tensor> {
        Ok(t.reshape((b, s, heads, dh))?
            .transpose(1, 2)?
            .contiguous()?)
    };
    let q = split(dense(x, p("query_kernel")?, p("query_bias")?)?)?;
    let k = split(dense(x, p("key_kernel")?, p("key_bias")?)?)?;
    let v = split(dense(x, p("value_kernel")?, p("value_bias")?)?)?;
    let scores = (q.matmul(&k.transpose(2, 3)?.contiguous()?)? * (1.0 / (dh as f64).sqrt()))?;
    let att = softmax(&scores)?;
    let o = att
        .matmul(&v)?
        .transpose(1, 2)?
        .contiguous()?
        .reshape((b, s, c))?;
    dense(&o, p("output_kernel")?, p("output_bias")?)
}

fn maybe_dropout(x: Tensor, rate: f32, phase: &mut Phase) -> Result<Tensor> {
    match phase {
        Phase::Train(rng) if rate > 0.0 => dropout(&x, rate, rng),
        _ => Ok(x),
    }
}

/// One Transformer encoder layer (post-norm, as AutoKeras's `Transformer` block).
pub(super) fn encoder(
    x: &Tensor,
    p: &ParamFn<'_>,
    heads: usize,
    rate: f32,
    phase: &mut Phase,
) -> Result<Tensor> {
    let a = maybe_dropout(self_attention(x, p, heads)?, rate, phase)?;
    let x1 = layer_norm(&(x + a)?, p("norm1_gamma")?, p("norm1_beta")?)?;
    let f = dense(&x1, p("ffn1_kernel")?, p("ffn1_bias")?)?.relu()?;
    let f = maybe_dropout(dense(&f, p("ffn2_kernel")?, p("ffn2_bias")?)?, rate, phase)?;
    layer_norm(&(x1 + f)?, p("norm2_gamma")?, p("norm2_beta")?)
}
