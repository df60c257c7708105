//! The optimisers' per-variable updates as one in-place pass over the weights, the gradient and
//! the optimiser state (candle's own AdamW spends ten tensor operations and allocations per
//! variable on the same arithmetic). Used for f32 variables on the CPU.

use candle_core::{bail, CpuStorage, InplaceOp2, Layout, Result, Tensor, Var};
use rayon::prelude::*;
use std::sync::Mutex;

/// Below this many weights a variable is updated on the calling thread.
const PAR_LEN: usize = 1 << 16;

/// One step's coefficients.
#[derive(Debug, Clone, Copy)]
pub(super) enum Rule {
    /// Adam(W): `m = b1 m + (1 - b1) g`, `v = b2 v + (1 - b2) g²`,
    /// `w = w (1 - lr wd) - lr (m scale_m) / (sqrt(v scale_v) + eps)`.
    Adam {
        lr: f32,
        beta1: f32,
        beta2: f32,
        eps: f32,
        decay: f32,
        scale_m: f32,
        scale_v: f32,
    },
    /// SGD with momentum: `u = momentum u + g`, `w = w - lr u`.
    Sgd { lr: f32, momentum: f32 },
}

/// Optimiser state for one variable: Adam's two moments, or SGD's velocity (in `m`).
#[derive(Debug, Default)]
pub(super) struct State {
    m: Vec<f32>,
    v: Vec<f32>,
}

struct Step<'a> {
    rule: Rule,
    state: Mutex<&'a mut State>,
}

impl Rule {
    /// Updates the weights `w` in place from the gradient `g`, with `m` / `v` as state.
    fn apply(self, w: &mut [f32], g: &[f32], m: &mut [f32], v: &mut [f32]) {
        match self {
            Rule::Adam {
                lr,
                beta1,
                beta2,
                eps,
                decay,
                scale_m,
                scale_v,
            } => {
                let keep = 1.0 - lr * decay;
                for (((w, &g), m), v) in w.iter_mut().zip(g).zip(m.iter_mut()).zip(v.iter_mut()) {
                    *m = beta1 * *m + (1.0 - beta1) * g;
                    *v = beta2 * *v + (1.0 - beta2) * g * g;
                    *w = *w * keep - lr * (*m * scale_m) / ((*v * scale_v).sqrt() + eps);
                }
            }
            Rule::Sgd { lr, momentum } => {
                for ((w, &g), u) in w.iter_mut().zip(g).zip(m.iter_mut()) {
                    *u = momentum * *u + g;
                    *w -= lr * *u;
                }
            }
        }
    }
}

impl InplaceOp2 for Step<'_> {
    fn name(&self) -> &'static str {
        "autocandle-optimizer-step"
    }

    fn cpu_fwd(
        &self,
        s1: &mut CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
    ) -> Result<()> {
        let (CpuStorage::F32(w), CpuStorage::F32(g)) = (s1, s2) else {
            bail!("optimizer step: expected f32 weights and gradient")
        };
        let (Some((w0, w1)), Some((g0, g1))) = (l1.contiguous_offsets(), l2.contiguous_offsets())
        else {
            bail!("optimizer step: expected contiguous weights and gradient")
        };
        let (w, g) = (&mut w[w0..w1], &g[g0..g1]);
        if w.len() != g.len() {
            bail!(
                "optimizer step: {} weights but {} gradients",
                w.len(),
                g.len()
            )
        }
        let mut state = self
            .state
            .lock()
            .map_err(|_| candle_core::Error::Msg("optimizer state poisoned".into()))?;
        let st: &mut State = &mut state;
        st.m.resize(w.len(), 0.0);
        if matches!(self.rule, Rule::Adam { .. }) {
            st.v.resize(w.len(), 0.0);
        }
        let rule = self.rule;
        if w.len() >= PAR_LEN && rayon::current_num_threads() > 1 {
            let chunk = w.len().div_ceil(rayon::current_num_threads() * 4);
            let v_chunks: Vec<&mut [f32]> = if st.v.is_empty() {
                (0..w.len().div_ceil(chunk)).map(|_| &mut [][..]).collect()
            } else {
                st.v.chunks_mut(chunk).collect()
            };
            w.par_chunks_mut(chunk)
                .zip(g.par_chunks(chunk))
                .zip(st.m.par_chunks_mut(chunk))
                .zip(v_chunks)
                .for_each(|(((w, g), m), v)| rule.apply(w, g, m, v));
        } else {
            rule.apply(w, g, &mut st.m, &mut st.v);
        }
        Ok(())
    }
}

/// Whether the in-place update handles `var` (f32 on the CPU, unless `AUTOCANDLE_KERNELS=candle`
/// asks for candle's stock operations).
pub(super) fn supported(var: &Var) -> bool {
    var.device().is_cpu() && var.dtype() == candle_core::DType::F32 && !crate::kernels::stock_only()
}

/// Applies `rule` to `var` in place with gradient `grad`.
pub(super) fn step(var: &Var, grad: &Tensor, rule: Rule, state: &mut State) -> Result<()> {
    let grad = grad.contiguous()?;
    let op = Step {
        rule,
        state: Mutex::new(state),
    };
    var.as_tensor().inplace_op2(&grad, &op)
}
