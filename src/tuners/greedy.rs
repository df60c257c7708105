//! AutoKeras's greedy tuner.

use super::oracle::{already_tried, complete_values, tunable_names, Explore};
use super::{Oracle, RandomOracle, Trial};
use crate::error::Result;
use crate::hyperparameters::{HyperParameters, Value};
use rand::seq::IndexedRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use std::collections::BTreeMap;

/// First a few known-good configurations; then, again and again, the best trial's values with
/// one subtree of the hyperparameter name tree (a block, or a single hyperparameter) drawn anew.
#[derive(Debug, Clone)]
pub struct GreedyOracle {
    seed: u64,
    initial: Vec<BTreeMap<String, Value>>,
}

impl GreedyOracle {
    /// A greedy oracle trying `initial` configurations first (partial: the rest are defaults).
    pub fn new(seed: u64, initial: Vec<BTreeMap<String, Value>>) -> Self {
        GreedyOracle { seed, initial }
    }
}

/// Every name prefix at a `/` boundary, and every full name: the nodes of the name tree.
fn tree_nodes(names: &[String]) -> Vec<String> {
    let mut nodes: Vec<String> = Vec::new();
    for n in names {
        let parts: Vec<&str> = n.split('/').collect();
        for k in 1..=parts.len() {
            let p = parts[..k].join("/");
            if !nodes.contains(&p) {
                nodes.push(p);
            }
        }
    }
    nodes
}

impl Oracle for GreedyOracle {
    fn name(&self) -> &'static str {
        "greedy"
    }

    fn propose(
        &mut self,
        trial_index: usize,
        trials: &[Trial],
        explore: Explore,
    ) -> Result<Option<HyperParameters>> {
        let mut rng = ChaCha8Rng::seed_from_u64(self.seed.wrapping_add(trial_index as u64 * 7919));
        if let Some(init) = self.initial.get(trial_index) {
            let hp = complete_values(init, explore, &mut rng, &|_| false)?;
            if !already_tried(&hp, trials) {
                return Ok(Some(hp));
            }
        }
        let Some(best) = Trial::best(trials) else {
            return RandomOracle::new(self.seed).propose(trial_index, trials, explore);
        };
        let best_values = best.hyperparameters.active_values();
        let tunable = tunable_names(&best.hyperparameters);
        let nodes = tree_nodes(&tunable);
        for _ in 0..100 {
            let Some(node) = nodes.choose(&mut rng) else {
                break;
            };
            let prefix = node.clone();
            let under = |name: &str| name == prefix || name.starts_with(&format!("{prefix}/"));
            let keep: BTreeMap<String, Value> = best_values
                .iter()
                .filter(|(k, _)| !under(k))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            let hp = complete_values(&keep, explore, &mut rng, &|h| under(&h.name))?;
            if !already_tried(&hp, trials) {
                return Ok(Some(hp));
            }
        }
        RandomOracle::new(self.seed).propose(trial_index, trials, explore)
    }
}
