//! A trial: one point of the search space, trained and scored.

use crate::hyperparameters::HyperParameters;
use crate::training::{EpochRecord, Metrics, StopReason};
use serde::{Deserialize, Serialize};

/// Where a trial stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum TrialStatus {
    /// Training (a trial left in this state was interrupted and is run again on resume).
    Running,
    /// Trained and scored.
    Completed,
    /// Failed; `reason` says why.
    Failed,
}

/// One trial, as saved in `trial_<id>/trial.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Trial {
    /// Identifier, `"00"`, `"01"`, ...
    pub trial_id: String,
    /// The hyperparameters (space and values).
    pub hyperparameters: HyperParameters,
    /// Status.
    pub status: TrialStatus,
    /// The objective (validation loss of the best epoch); lower is better.
    pub score: Option<f64>,
    /// Validation metrics of the best epoch.
    pub best_metrics: Option<Metrics>,
    /// The best epoch (1-based): the final fit trains this many epochs.
    pub best_epoch: Option<usize>,
    /// Per-epoch metrics.
    pub history: Vec<EpochRecord>,
    /// Why training stopped.
    pub stop_reason: Option<StopReason>,
    /// Why the trial failed.
    pub reason: Option<String>,
    /// Trainable parameters.
    pub params: Option<usize>,
    /// Wall time in seconds.
    pub seconds: f64,
}

impl Trial {
    /// A new running trial.
    pub fn new(trial_id: String, hyperparameters: HyperParameters) -> Self {
        Trial {
            trial_id,
            hyperparameters,
            status: TrialStatus::Running,
            score: None,
            best_metrics: None,
            best_epoch: None,
            history: vec![],
            stop_reason: None,
            reason: None,
            params: None,
            seconds: 0.0,
        }
    }

    /// The best completed trial (lowest score; earliest on ties).
    pub fn best(trials: &[Trial]) -> Option<&Trial> {
        trials
            .iter()
            .filter(|t| t.status == TrialStatus::Completed && t.score.is_some_and(f64::is_finite))
            .min_by(|a, b| {
                a.score
                    .partial_cmp(&b.score)
                    .unwrap_or(std::cmp::Ordering::Equal)
            })
    }
}
