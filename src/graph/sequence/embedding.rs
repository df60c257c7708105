//! Token windows and embeddings.

use crate::error::{Error, Result};
use candle_core::{DType, Tensor};

/// Out-of-vocabulary id.
const OOV: u32 = 1;

/// The ids of a batch as `(b, L, values)`; each sample's values are its ids.
fn ids(x: &Tensor) -> Result<(usize, usize, Vec<f32>)> {
    let b = x.dim(0)?;
    let l = x.elem_count() / b.max(1);
    let v = x.flatten_all()?.to_dtype(DType::F32)?.to_vec1::<f32>()?;
    Ok((b, l, v))
}

/// A token id from its `f32` value: negative or non-finite values are errors.
fn id(v: f32) -> Result<u32> {
    if v.is_finite() && v >= 0.0 && v < u32::MAX as f32 {
        Ok(v as u32)
    } else {
        Err(Error::BadShape(format!(
            "token ids must be non-negative integers, got {v}"
        )))
    }
}

/// Keeps the first `length` tokens of each sample (padding 0 ends a text), maps ids
/// `>= max_tokens` to OOV, and right-aligns them (padding first). Returns `[b, length]` ids.
pub(super) fn token_window(x: &Tensor, length: usize, max_tokens: usize) -> Result<Tensor> {
    let (b, l, v) = ids(x)?;
    let mut out = vec![0f32; b * length];
    for (row, dst) in v.chunks(l.max(1)).zip(out.chunks_mut(length.max(1))) {
        let mut kept = Vec::with_capacity(length);
        for &t in row {
            let t = id(t)?;
            if t == 0 {
                break;
            }
            kept.push(if t as usize >= max_tokens { OOV } else { t });
            if kept.len() == length {
                break;
            }
        }
        let start = length - kept.len();
        for (d, t) in dst[start..].iter_mut().zip(kept) {
            *d = t as f32;
        }
    }
    Ok(Tensor::from_vec(out, (b, length), x.device())?)
}

/// Looks up each id's row of `table` (`[input_dim, dim]`); ids `>= input_dim` take the OOV row.
/// `x` holds ids `[b, seq]` (or `[b, seq, 1, 1]`); returns `[b, seq, dim]`.
pub(super) fn embedding(x: &Tensor, table: &Tensor, input_dim: usize) -> Result<Tensor> {
    let (b, l, v) = ids(x)?;
    let idx = v
        .into_iter()
        .map(|t| id(t).map(|t| if t as usize >= input_dim { OOV } else { t }))
        .collect::<Result<Vec<u32>>>()?;
    let idx = Tensor::from_vec(idx, b * l, x.device())?;
    let dim = table.dim(1)?;
    Ok(table.index_select(&idx, 0)?.reshape((b, l, dim))?)
}
