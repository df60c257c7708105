//! Training: the mini-batch loop, optimisers and schedules, early stopping, metrics, history and
//! progress events.

mod batches;
mod events;
mod fit;
mod metrics;
mod optimizer;
mod update;

pub use batches::{EncodedTargets, TrainData};
pub use events::TrainEvent;
pub use fit::{evaluate, evaluate_heads, fit, predict_outputs, FitConfig, FitOutcome, StopReason};
pub use metrics::{argmax, EpochRecord, Metrics};
pub use optimizer::{Optimizer, OptimizerKind};
