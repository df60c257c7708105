//! The oracle interface and the completion of a partial set of values.

use super::Trial;
use crate::error::{Error, Result};
use crate::hyperparameters::{HyperParameter, HyperParameters, Kind, Value};
use rand_chacha::ChaCha8Rng;
use std::collections::BTreeMap;

/// Builds the search space for a set of values (a dry build of the architecture): it declares
/// every hyperparameter that those values make active.
pub type Explore<'a> = &'a dyn Fn(&mut HyperParameters) -> Result<()>;

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
}

/// The tuners, by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TunerKind {
    /// AutoKeras's greedy tuner.
    Greedy,
    /// Random search.
    Random,
    /// Bayesian optimisation with a Gaussian process (KerasTuner's).
    Bayesian,
}

impl std::str::FromStr for TunerKind {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "greedy" => Ok(TunerKind::Greedy),
            "random" => Ok(TunerKind::Random),
            "bayesian" => Ok(TunerKind::Bayesian),
            other => Err(Error::Config(format!(
                "unknown tuner {other:?}: use greedy, random or bayesian"
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
