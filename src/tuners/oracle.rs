//! The oracle interface and the completion of a partial set of values.

use super::morphism::MorphOp;
use super::Trial;
use crate::error::{Error, Result};
use crate::hyperparameters::{HyperParameter, HyperParameters, Kind, Value};
use rand_chacha::ChaCha8Rng;
use std::collections::BTreeMap;

/// Builds the search space for a set of values (a dry build of the architecture): it declares
/// every hyperparameter that those values make active.
pub type Explore<'a> = &'a dyn Fn(&mut HyperParameters) -> Result<()>;

/// Where a trial's weights start: another trial's checkpoint, perhaps edited.
#[derive(Debug, Clone, PartialEq)]
pub struct Start {
    /// The trial whose saved (best) weights are loaded.
    pub parent: String,
    /// Epochs those weights had been trained; the new trial counts its epochs from there.
    pub initial_epoch: usize,
    /// A function-preserving edit of the parent's network (network morphism); `None`
    /// continues the parent's network as it is (Hyperband's promotion).
    pub morph: Option<MorphOp>,
    /// What the leaderboard shows as the operation.
    pub operation: String,
}

/// What an oracle proposes: the values of the next trial, and how it trains.
#[derive(Debug, Clone, PartialEq)]
pub struct Proposal {
    /// The hyperparameters (optimiser and learning rate always come from them; the network
    /// too unless `start` names a parent).
    pub hyperparameters: HyperParameters,
    /// Epochs to train in this trial; `None` is the search's `epochs`.
    pub epochs: Option<usize>,
    /// Start from a parent's weights instead of a fresh network.
    pub start: Option<Start>,
}

impl Proposal {
    /// A fresh network for `hp`, trained for the search's epochs.
    pub fn fresh(hp: HyperParameters) -> Self {
        Proposal {
            hyperparameters: hp,
            epochs: None,
            start: None,
        }
    }
}

/// Proposes the hyperparameters of the next trial.
pub trait Oracle: Send {
    /// Tuner name, as saved in `oracle.json`.
    fn name(&self) -> &'static str;
    /// The next trial's values given the trials so far, or `None` when the space is exhausted.
    fn propose(
        &mut self,
        trial_index: usize,
        trials: &[Trial],
        explore: Explore,
    ) -> Result<Option<HyperParameters>>;
    /// The next trial in full: its values, its epochs, and where its weights start. The
    /// default trains a fresh network for [`propose`](Oracle::propose)'s values for the
    /// search's epochs; Hyperband and network morphism start trials from earlier ones.
    fn propose_trial(
        &mut self,
        trial_index: usize,
        trials: &[Trial],
        explore: Explore,
    ) -> Result<Option<Proposal>> {
        Ok(self
            .propose(trial_index, trials, explore)?
            .map(Proposal::fresh))
    }
}

/// The tuners, by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TunerKind {
    /// The task's own tuner (the default): network morphism for `ImageClassifier`, where the
    /// comparison in BENCHMARKS.md measured it best (digits, MNIST, CIFAR-10), and greedy for
    /// the other tasks, where no comparison was made. Like AutoKeras's `tuner=None`.
    Auto,
    /// AutoKeras's greedy tuner.
    Greedy,
    /// Random search.
    Random,
    /// Bayesian optimisation with a Gaussian process (KerasTuner's).
    Bayesian,
    /// Hyperband: successive halving over epochs, promoted trials resuming from their
    /// checkpoint (KerasTuner's).
    Hyperband,
    /// Network morphism: function-preserving edits of the best networks, chosen by a Gaussian
    /// process over architectures (AutoKeras 0.x).
    Morphism,
}

impl std::str::FromStr for TunerKind {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "auto" => Ok(TunerKind::Auto),
            "greedy" => Ok(TunerKind::Greedy),
            "random" => Ok(TunerKind::Random),
            "bayesian" => Ok(TunerKind::Bayesian),
            "hyperband" => Ok(TunerKind::Hyperband),
            "morphism" => Ok(TunerKind::Morphism),
            other => Err(Error::Config(format!(
                "unknown tuner {other:?}: use auto, greedy, random, bayesian, hyperband or morphism"
            ))),
        }
    }
}

/// Starting from `fixed` values, repeatedly builds the space and draws a value for every newly
/// declared hyperparameter for which `resample` says so (the rest keep their defaults), until no
/// new hyperparameter appears. Returns the values with the full active space.
pub fn complete_values(
    fixed: &BTreeMap<String, Value>,
    explore: Explore,
    rng: &mut ChaCha8Rng,
    resample: &dyn Fn(&HyperParameter) -> bool,
) -> Result<HyperParameters> {
    let mut hp = HyperParameters::new();
    for (k, v) in fixed {
        hp.set(k, v.clone())?;
    }
    let mut seen = 0;
    for _ in 0..64 {
        explore(&mut hp)?;
        let new: Vec<HyperParameter> = hp.space()[seen..].to_vec();
        if new.is_empty() {
            break;
        }
        seen = hp.space().len();
        for h in new {
            if !fixed.contains_key(&h.name) && resample(&h) && !matches!(h.kind, Kind::Fixed { .. })
            {
                hp.set(&h.name, h.sample(rng))?;
            }
        }
    }
    // Drop values of hyperparameters that the final values leave inactive.
    let active = hp.active_values();
    let mut out = hp.space_only();
    for (k, v) in active {
        out.set(&k, v)?;
    }
    explore(&mut out)?;
    Ok(out)
}

/// True when some earlier trial had the same active values.
pub(crate) fn already_tried(hp: &HyperParameters, trials: &[Trial]) -> bool {
    let v = hp.active_values();
    trials
        .iter()
        .any(|t| t.hyperparameters.active_values() == v)
}

/// The names of the hyperparameters a tuner may change in `hp`: active, not fixed.
pub(crate) fn tunable_names(hp: &HyperParameters) -> Vec<String> {
    let values = hp.active_values();
    hp.space()
        .iter()
        .filter(|h| !matches!(h.kind, Kind::Fixed { .. }) && values.contains_key(&h.name))
        .map(|h| h.name.clone())
        .collect()
}
