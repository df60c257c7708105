//! A trial: one point of the search space, trained and scored.

use crate::graph::Architecture;
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
    /// Stopped by the time limit before its first epoch completed: nothing to score, and no
    /// fault of the trial's (KerasTuner's `STOPPED`). The search ends after it.
    Stopped,
}

impl TrialStatus {
    /// The status as KerasTuner writes it: `"RUNNING"`, `"COMPLETED"`, `"FAILED"`, `"STOPPED"`.
    ///
    /// ```
    /// use autocandle::tuners::TrialStatus;
    /// assert_eq!(TrialStatus::Stopped.as_str(), "STOPPED");
    /// ```
    pub fn as_str(self) -> &'static str {
        match self {
            TrialStatus::Running => "RUNNING",
            TrialStatus::Completed => "COMPLETED",
            TrialStatus::Failed => "FAILED",
            TrialStatus::Stopped => "STOPPED",
        }
    }
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
    /// Why the trial failed, or was stopped.
    pub reason: Option<String>,
    /// Trainable parameters.
    pub params: Option<usize>,
    /// Wall time in seconds.
    pub seconds: f64,
    /// The trial whose trained weights this one started from (AutoKeras's "father model"):
    /// a Hyperband trial promoted to the next round, or a network-morphism child.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<String>,
    /// What was done to the parent (AutoKeras's "added operation"), e.g. `to_wider_model(...)`
    /// or `continue to epoch 3`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operation: Option<String>,
    /// Epochs the starting weights had already been trained (0 for a fresh network); the
    /// trial trains epochs `initial_epoch + 1 ..`, and its history and `best_epoch` count from
    /// the start of its lineage.
    #[serde(default)]
    pub initial_epoch: usize,
    /// The network the trial trained. Rebuilding it from the hyperparameters gives the same
    /// network except for network-morphism children, whose layers were edited.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub architecture: Option<Architecture>,
    /// Search overhead before this trial: seconds from the end of the previous trial's training
    /// (or the start of the search) to this trial's first batch: saving, the tuner's proposal,
    /// building and initialising the network.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub overhead_seconds: Option<f64>,
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
            parent: None,
            operation: None,
            initial_epoch: 0,
            architecture: None,
            overhead_seconds: None,
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

impl Trial {
    /// The epochs this trial trained, as `(first, last)` counted from the start of its
    /// lineage (`None` before any epoch).
    pub fn epoch_range(&self) -> Option<(usize, usize)> {
        match (self.history.first(), self.history.last()) {
            (Some(a), Some(b)) => Some((a.epoch, b.epoch)),
            _ => None,
        }
    }
}
