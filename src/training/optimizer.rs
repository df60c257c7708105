//! Optimisers (Adam, AdamW with cosine decay, SGD with momentum) over a network's variables.

use crate::error::{Error, Result};
use candle_core::backprop::GradStore;
use candle_core::{Tensor, Var};
use candle_nn::Optimizer as _;
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
            OptimizerKind::Adam | OptimizerKind::AdamW => {
                let wd = if kind == OptimizerKind::AdamW {
                    0.004
                } else {
                    0.0
                };
                let params = candle_nn::ParamsAdamW {
                    lr: learning_rate,
                    weight_decay: wd,
                    ..Default::default()
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
                    momentum: 0.9,
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
        self.apply(&grads)
    }

    fn apply(&mut self, grads: &GradStore) -> Result<()> {
        let lr = self.learning_rate();
        match &mut self.inner {
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
