//! LSTM and GRU layers (one direction per call), unrolled with candle operations.

use super::recurrent_op::RecurrentOp;
use super::RnnKind;
use crate::error::Result;
use candle_core::{DType, Tensor, D};
use candle_nn::ops::sigmoid;

/// Gates per unit: 4 for LSTM (i, f, c, o), 3 for GRU (z, r, h).
pub(super) fn gates(kind: RnnKind) -> usize {
    match kind {
        RnnKind::Lstm => 4,
        RnnKind::Gru => 3,
    }
}

/// The weights of one direction.
pub(super) struct Weights<'a> {
    /// `[c, gates * units]`, applied to the inputs.
    pub kernel: &'a Tensor,
    /// `[units, gates * units]`, applied to the previous state.
    pub recurrent_kernel: &'a Tensor,
    /// `[gates * units]`, added to the input projection.
    pub bias: &'a Tensor,
    /// GRU only: `[gates * units]`, added to the recurrent projection (inside the reset gate).
    pub recurrent_bias: Option<&'a Tensor>,
}

/// Runs one direction over `x` (`[b, seq, c]`), from the last step to the first when
/// `reverse`: as one custom op for `f32` on the CPU, else with candle operations step by step.
/// Returns the states `[b, seq, units]` in time order (`return_sequences`), else the last state
/// `[b, units]`.
pub(super) fn run(
    x: &Tensor,
    kind: RnnKind,
    units: usize,
    w: &Weights,
    reverse: bool,
    return_sequences: bool,
) -> Result<Tensor> {
    let (b, s, c) = x.dims3()?;
    let g = gates(kind) * units;
    // The input projection of every step at once.
    let xw = x
        .reshape((b * s, c))?
        .matmul(w.kernel)?
        .broadcast_add(w.bias)?
        .reshape((b, s, g))?;
    let fast = xw.device().is_cpu()
        && xw.dtype() == DType::F32
        && w.recurrent_kernel.dtype() == DType::F32
        && !crate::kernels::stock_only();
    if fast && s > 0 {
        let rb = match w.recurrent_bias {
            Some(rb) => rb.clone(),
            None => Tensor::zeros(g, DType::F32, xw.device())?,
        };
        let states = xw.apply_op3(w.recurrent_kernel, &rb, RecurrentOp { kind, reverse })?;
        if return_sequences {
            return Ok(states);
        }
        let last = if reverse { 0 } else { s - 1 };
        return Ok(states.narrow(1, last, 1)?.squeeze(1)?);
    }
    let mut h = Tensor::zeros((b, units), x.dtype(), x.device())?;
    let mut cell = h.clone();
    let mut states = Vec::with_capacity(if return_sequences { s } else { 0 });
    for step in 0..s {
        let t = if reverse { s - 1 - step } else { step };
        let xt = xw.narrow(1, t, 1)?.squeeze(1)?;
        match kind {
            RnnKind::Lstm => {
                let z = (xt + h.matmul(w.recurrent_kernel)?)?;
                let sg = sigmoid(&z)?;
                let i = sg.narrow(D::Minus1, 0, units)?;
                let f = sg.narrow(D::Minus1, units, units)?;
                let o = sg.narrow(D::Minus1, 3 * units, units)?;
                let cand = z.narrow(D::Minus1, 2 * units, units)?.tanh()?;
                cell = ((f * &cell)? + (i * cand)?)?;
                h = (o * cell.tanh()?)?;
            }
            RnnKind::Gru => {
                let mut hu = h.matmul(w.recurrent_kernel)?;
                if let Some(rb) = w.recurrent_bias {
                    hu = hu.broadcast_add(rb)?;
                }
                let zr = sigmoid(
                    &(xt.narrow(D::Minus1, 0, 2 * units)? + hu.narrow(D::Minus1, 0, 2 * units)?)?,
                )?;
                let z = zr.narrow(D::Minus1, 0, units)?;
                let r = zr.narrow(D::Minus1, units, units)?;
                let cand = (xt.narrow(D::Minus1, 2 * units, units)?
                    + (r * hu.narrow(D::Minus1, 2 * units, units)?)?)?
                .tanh()?;
                // h = z * h + (1 - z) * cand = cand + z * (h - cand)
                h = (&cand + (z * (&h - &cand)?)?)?;
            }
        }
        if return_sequences {
            states.push(h.clone());
        }
    }
    if !return_sequences {
        return Ok(h);
    }
    if reverse {
        states.reverse();
    }
    Ok(Tensor::stack(&states, 1)?)
}
