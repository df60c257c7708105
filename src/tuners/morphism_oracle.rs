//! The network-morphism tuner (AutoKeras 0.x's Bayesian search over architectures).

use super::arch_distance::{descriptor, edit_distance, Descriptor};
use super::bayesian::{cho_solve, gram_cholesky, solve_lower, standardise};
use super::morphism::{apply_architecture, candidates, MorphOp};
use super::oracle::{already_tried, complete_values, Explore, Proposal, Start};
use super::{GreedyOracle, Oracle, Trial, TrialStatus};
use crate::error::{Error, Result};
use crate::hyperparameters::{HyperParameters, Value};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use std::collections::BTreeMap;

/// AutoKeras 0.x's exploration weight of the confidence bound.
pub const MORPHISM_BETA: f64 = 2.576;

/// Network morphism guided by a Gaussian process over architectures.
///
/// The first `num_initial` trials train the initial configurations from scratch (as the
/// greedy tuner's first trials). Each later trial is a child of one of the `num_parents` best
/// completed trials: the parent's network with one function-preserving edit
/// ([`MorphOp`]: deeper, wider or a skip connection), starting from the parent's trained
/// weights and keeping its optimiser settings. Among all such children not tried yet, the one
/// with the lowest confidence bound `μ − β·σ` of a Gaussian process wins; the process is fitted
/// to the scores of the completed trials with the kernel `exp(−d²)` of the architectures'
/// edit distance `d` (AutoKeras 0.x's). When no child can be made, the greedy tuner proposes
/// a fresh network.
///
/// The oracle keeps no state: the same seed and trials give the same proposal.
#[derive(Debug, Clone)]
pub struct MorphismOracle {
    seed: u64,
    initial: Vec<BTreeMap<String, Value>>,
    /// Trials of initial configurations before the morphing starts (default 2).
    pub num_initial: usize,
    /// How many of the best trials may be parents (default 5).
    pub num_parents: usize,
    /// Weight of the standard deviation in the confidence bound (default 2.576).
    pub beta: f64,
    /// Noise on the kernel's diagonal, in units of the scores' variance (default 1e-3).
    pub alpha: f64,
    /// Children with more trainable parameters are not proposed.
    pub max_params: Option<usize>,
}

impl MorphismOracle {
    /// A morphism oracle starting from the `initial` configurations.
    pub fn new(seed: u64, initial: Vec<BTreeMap<String, Value>>) -> Self {
        MorphismOracle {
            seed,
            initial,
            num_initial: 2,
            num_parents: 5,
            beta: MORPHISM_BETA,
            alpha: 1e-3,
            max_params: None,
        }
    }

    fn check(&self) -> Result<()> {
        if !(self.beta.is_finite() && self.beta >= 0.0) {
            return Err(Error::Config(format!(
                "morphism tuner: beta must be finite and >= 0, got {}",
                self.beta
            )));
        }
        if !(self.alpha.is_finite() && self.alpha > 0.0) {
            return Err(Error::Config(format!(
                "morphism tuner: alpha must be finite and > 0, got {}",
                self.alpha
            )));
        }
        Ok(())
    }

    fn rng(&self, trial_index: usize) -> ChaCha8Rng {
        ChaCha8Rng::seed_from_u64(
            self.seed.wrapping_mul(0x9E37_79B9_7F4A_7C15)
                ^ (trial_index as u64 + 1).wrapping_mul(0xD1B5_4A32_D192_ED03)
                ^ 0x4D06_0000_0000_0000,
        )
    }

    /// The children of the best trials that no trial has tried: `(parent, edit, descriptor)`.
    fn children<'a>(
        &self,
        trial_index: usize,
        trials: &'a [Trial],
    ) -> Result<Vec<(&'a Trial, MorphOp, Descriptor)>> {
        let mut rng = self.rng(trial_index);
        let mut seen: Vec<Descriptor> = trials
            .iter()
            .filter_map(|t| t.architecture.as_ref().map(descriptor))
            .collect();
        let mut parents: Vec<&Trial> = scored(trials).map(|(t, _)| t).collect();
        parents.sort_by(|a, b| {
            a.score
                .partial_cmp(&b.score)
                .unwrap_or(std::cmp::Ordering::Equal)
                .then_with(|| a.trial_id.cmp(&b.trial_id))
        });
        parents.truncate(self.num_parents.max(1));
        let prefix = format!("morph_{trial_index:02}");
        let mut out = Vec::new();
        for p in parents {
            let Some(arch) = p.architecture.as_ref() else {
                continue;
            };
            for op in candidates(arch, &prefix, &mut rng)? {
                let child = apply_architecture(arch, &op)?;
                if self
                    .max_params
                    .is_some_and(|max| child.param_count().map_or(true, |n| n > max))
                {
                    continue;
                }
                let d = descriptor(&child);
                if !seen.contains(&d) {
                    seen.push(d.clone());
                    out.push((p, op, d));
                }
            }
        }
        Ok(out)
    }
}

/// Completed trials with a finite score and an architecture.
fn scored(trials: &[Trial]) -> impl Iterator<Item = (&Trial, f64)> {
    trials.iter().filter_map(|t| match t.score {
        Some(s)
            if t.status == TrialStatus::Completed && s.is_finite() && t.architecture.is_some() =>
        {
            Some((t, s))
        }
        _ => None,
    })
}

/// The candidate with the lowest `μ − β·σ` under a Gaussian process with kernel `exp(−d²)`
/// fitted to `(xs, ys)`; `None` when the kernel matrix cannot be factorised.
fn pick(
    xs: &[Descriptor],
    ys: &[f64],
    cands: &[Descriptor],
    beta: f64,
    alpha: f64,
) -> Option<usize> {
    let n = xs.len();
    if n == 0 || cands.is_empty() {
        return None;
    }
    let (_, _, yn) = standardise(ys);
    let kernel = |a: &Descriptor, b: &Descriptor| (-edit_distance(a, b).powi(2)).exp();
    let l = gram_cholesky(n, |i, j| kernel(&xs[i], &xs[j]), alpha, 4)?;
    let weights = cho_solve(&l, n, &yn);
    let mut best: Option<(usize, f64)> = None;
    for (c, d) in cands.iter().enumerate() {
        let ks: Vec<f64> = xs.iter().map(|x| kernel(d, x)).collect();
        let mu: f64 = ks.iter().zip(&weights).map(|(a, b)| a * b).sum();
        let v = solve_lower(&l, n, &ks);
        let var = (1.0 - v.iter().map(|x| x * x).sum::<f64>()).max(0.0);
        let cost = mu - beta * var.sqrt();
        if cost.is_finite() && best.is_none_or(|(_, b)| cost < b) {
            best = Some((c, cost));
        }
    }
    best.map(|(c, _)| c)
}

impl Oracle for MorphismOracle {
    fn name(&self) -> &'static str {
        "morphism"
    }

    fn propose(
        &mut self,
        trial_index: usize,
        trials: &[Trial],
        explore: Explore,
    ) -> Result<Option<HyperParameters>> {
        Ok(self
            .propose_trial(trial_index, trials, explore)?
            .map(|p| p.hyperparameters))
    }

    fn propose_trial(
        &mut self,
        trial_index: usize,
        trials: &[Trial],
        explore: Explore,
    ) -> Result<Option<Proposal>> {
        self.check()?;
        let greedy = || GreedyOracle::new(self.seed, self.initial.clone());
        if trial_index < self.num_initial || scored(trials).next().is_none() {
            let mut rng = self.rng(trial_index);
            let init = self.initial.get(trial_index).cloned().unwrap_or_default();
            let hp = complete_values(&init, explore, &mut rng, &|_| false)?;
            if !already_tried(&hp, trials) {
                return Ok(Some(Proposal::fresh(hp)));
            }
            if scored(trials).next().is_none() {
                return Ok(greedy()
                    .propose(trial_index, trials, explore)?
                    .map(Proposal::fresh));
            }
        }
        let children = self.children(trial_index, trials)?;
        if children.is_empty() {
            return Ok(greedy()
                .propose(trial_index, trials, explore)?
                .map(Proposal::fresh));
        }
        let (xs, ys): (Vec<Descriptor>, Vec<f64>) = scored(trials)
            .filter_map(|(t, s)| t.architecture.as_ref().map(|a| (descriptor(a), s)))
            .unzip();
        let cands: Vec<Descriptor> = children.iter().map(|c| c.2.clone()).collect();
        let i = pick(&xs, &ys, &cands, self.beta, self.alpha).unwrap_or(0);
        let (parent, op, _) = &children[i];
        Ok(Some(Proposal {
            hyperparameters: parent.hyperparameters.clone(),
            epochs: None,
            start: Some(Start {
                parent: parent.trial_id.clone(),
                initial_epoch: parent.best_epoch.unwrap_or(0),
                operation: op.to_string(),
                morph: Some(op.clone()),
            }),
        }))
    }
}
