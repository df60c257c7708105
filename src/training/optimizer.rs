//! Optimisers (Adam, AdamW with cosine decay, SGD with momentum) over a network's variables.

use crate::error::{Error, Result};
use candle_core::backprop::GradStore;
use candle_core::{Tensor, Var};
use candle_nn::Optimizer as _;

use super::update::{self, Rule, State};

const BETA1: f64 = 0.9;
const BETA2: f64 = 0.999;
const EPS: f64 = 1e-7;
const MOMENTUM: f64 = 0.9;
const ADAMW_DECAY: f64 = 0.004;
use serde::{Deserialize, Serialize};

/// Which optimiser, as the `optimizer` hyperparameter names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OptimizerKind {
    /// Adam, constant learning rate.
    Adam,
    /// AdamW (decoupled weight decay 0.004) with a cosine learning-rate decay over the run.
    AdamW,
    /// SGD with Nesterov-free momentum 0.9 and cosine decay.
    Sgd,
}

impl std::str::FromStr for OptimizerKind {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "adam" => Ok(OptimizerKind::Adam),
            "adamw" => Ok(OptimizerKind::AdamW),
            "sgd" => Ok(OptimizerKind::Sgd),
            other => Err(Error::Config(format!(
                "unknown optimizer {other:?}: use adam, adamw or sgd"
            ))),
        }
    }
}

enum Inner {
    /// In-place updates of f32 CPU variables.
    Fused {
        vars: Vec<Var>,
        states: Vec<State>,
    },
    Adam(candle_nn::AdamW),
    Sgd {
        vars: Vec<Var>,
        velocity: Vec<Tensor>,
        momentum: f64,
    },
}

/// An optimiser with its learning-rate schedule.
pub struct Optimizer {
    inner: Inner,
    kind: OptimizerKind,
    base_lr: f64,
    total_steps: usize,
    step: usize,
}

impl Optimizer {
    /// An optimiser over `vars` that will run `total_steps` steps (for the schedule).
    pub fn new(
        kind: OptimizerKind,
        vars: Vec<Var>,
        learning_rate: f64,
        total_steps: usize,
    ) -> Result<Self> {
        let inner = match kind {
            _ if vars.iter().all(update::supported) => Inner::Fused {
                states: vars.iter().map(|_| State::default()).collect(),
                vars,
            },
            OptimizerKind::Adam | OptimizerKind::AdamW => {
                let params = candle_nn::ParamsAdamW {
                    lr: learning_rate,
                    weight_decay: decay(kind),
                    beta1: BETA1,
                    beta2: BETA2,
                    eps: EPS,
                };
                Inner::Adam(candle_nn::AdamW::new(vars, params)?)
            }
            OptimizerKind::Sgd => {
                let velocity = vars
                    .iter()
                    .map(|v| v.as_tensor().zeros_like())
                    .collect::<candle_core::Result<Vec<_>>>()?;
                Inner::Sgd {
                    vars,
                    velocity,
                    momentum: MOMENTUM,
                }
            }
        };
        Ok(Optimizer {
            inner,
            kind,
            base_lr: learning_rate,
            total_steps: total_steps.max(1),
            step: 0,
        })
    }

    /// The learning rate of the next step.
    pub fn learning_rate(&self) -> f64 {
        match self.kind {
            OptimizerKind::Adam => self.base_lr,
            OptimizerKind::AdamW | OptimizerKind::Sgd => {
                let t = (self.step as f64 / self.total_steps as f64).min(1.0);
                self.base_lr * 0.5 * (1.0 + (std::f64::consts::PI * t).cos())
            }
        }
    }

    /// Backpropagates `loss` and updates the variables.
    pub fn backward_step(&mut self, loss: &Tensor) -> Result<()> {
        let grads = loss.backward()?;
        self.step(&grads)
    }

    /// Updates the variables from already computed gradients.
    pub fn step(&mut self, grads: &GradStore) -> Result<()> {
        let lr = self.learning_rate();
        let t = self.step as i32 + 1;
        let rule = match self.kind {
            OptimizerKind::Adam | OptimizerKind::AdamW => Rule::Adam {
                lr: lr as f32,
                beta1: BETA1 as f32,
                beta2: BETA2 as f32,
                eps: EPS as f32,
                decay: decay(self.kind) as f32,
                scale_m: (1.0 / (1.0 - BETA1.powi(t))) as f32,
                scale_v: (1.0 / (1.0 - BETA2.powi(t))) as f32,
            },
            OptimizerKind::Sgd => Rule::Sgd {
                lr: lr as f32,
                momentum: MOMENTUM as f32,
            },
        };
        match &mut self.inner {
            Inner::Fused { vars, states } => {
                for (var, state) in vars.iter().zip(states.iter_mut()) {
                    if let Some(g) = grads.get(var.as_tensor()) {
                        update::step(var, g, rule, state)?;
                    }
                }
            }
            Inner::Adam(opt) => {
                opt.set_learning_rate(lr);
                opt.step(grads)?;
            }
            Inner::Sgd {
                vars,
                velocity,
                momentum,
            } => {
                for (var, vel) in vars.iter().zip(velocity.iter_mut()) {
                    if let Some(g) = grads.get(var.as_tensor()) {
                        *vel = ((&*vel * *momentum)? + g)?;
                        var.set(&(var.as_tensor() - (&*vel * lr)?)?)?;
                    }
                }
            }
        }
        self.step += 1;
        Ok(())
    }
}

/// Decoupled weight decay of the optimiser.
fn decay(kind: OptimizerKind) -> f64 {
    if kind == OptimizerKind::AdamW {
        ADAMW_DECAY
    } else {
        0.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::{Device, Tensor};

    /// Runs `steps` optimiser steps on `loss = sum(c * w^2)` from the same start.
    fn descend(opt: &mut dyn FnMut(&GradStore) -> Result<()>, var: &Var, steps: usize) {
        let c = Tensor::new(&[0.5f32, -1.0, 2.0, 3.0, 0.1], &Device::Cpu).unwrap();
        for _ in 0..steps {
            let loss = (var.as_tensor().sqr().unwrap() * &c)
                .unwrap()
                .sum_all()
                .unwrap();
            opt(&loss.backward().unwrap()).unwrap();
        }
    }

    fn start() -> Var {
        Var::new(&[1.0f32, -2.0, 0.5, 0.25, -3.0], &Device::Cpu).unwrap()
    }

    fn values(v: &Var) -> Vec<f32> {
        v.as_tensor().to_vec1::<f32>().unwrap()
    }

    #[test]
    fn fused_adamw_matches_candle_adamw() {
        for kind in [OptimizerKind::Adam, OptimizerKind::AdamW] {
            let ours = start();
            let mut opt = Optimizer::new(kind, vec![ours.clone()], 0.05, 1_000_000).unwrap();
            assert!(matches!(opt.inner, Inner::Fused { .. }));
            descend(&mut |g| opt.step(g), &ours, 20);
            let theirs = start();
            let mut reference = candle_nn::AdamW::new(
                vec![theirs.clone()],
                candle_nn::ParamsAdamW {
                    lr: 0.05,
                    beta1: BETA1,
                    beta2: BETA2,
                    eps: EPS,
                    weight_decay: decay(kind),
                },
            )
            .unwrap();
            // Cosine decay over a million steps: the learning rate is constant to 1e-9 here.
            descend(&mut |g| Ok(reference.step(g)?), &theirs, 20);
            for (a, b) in values(&ours).iter().zip(values(&theirs)) {
                assert!(
                    (a - b).abs() <= 1e-5 * b.abs().max(1.0),
                    "{kind:?}: {a} vs {b}"
                );
            }
            assert_ne!(values(&ours), values(&start()), "the weights moved");
        }
    }

    #[test]
    fn fused_sgd_follows_momentum_formula() {
        let var = start();
        let mut opt =
            Optimizer::new(OptimizerKind::Sgd, vec![var.clone()], 0.1, 1_000_000).unwrap();
        descend(&mut |g| opt.step(g), &var, 3);
        // By hand: g = 2 c w; u = 0.9 u + g; w -= 0.1 u.
        let c = [0.5f32, -1.0, 2.0, 3.0, 0.1];
        let mut w = values(&start());
        let mut u = [0f32; 5];
        for _ in 0..3 {
            for i in 0..5 {
                u[i] = 0.9 * u[i] + 2.0 * c[i] * w[i];
                w[i] -= 0.1 * u[i];
            }
        }
        for (a, b) in values(&var).iter().zip(w) {
            assert!((a - b).abs() <= 1e-5 * b.abs().max(1.0), "{a} vs {b}");
        }
    }
}
