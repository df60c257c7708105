//! Random search.

use super::oracle::{already_tried, complete_values, Explore};
use super::{Oracle, Trial};
use crate::error::Result;
use crate::hyperparameters::HyperParameters;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use std::collections::BTreeMap;

/// Draws every active hyperparameter at random (conditional ones once their parent is drawn).
#[derive(Debug, Clone)]
pub struct RandomOracle {
    seed: u64,
}

impl RandomOracle {
    /// A random oracle; trial `i` draws from a generator seeded by `(seed, i)`.
    pub fn new(seed: u64) -> Self {
        RandomOracle { seed }
    }
}

impl Oracle for RandomOracle {
    fn name(&self) -> &'static str {
        "random"
    }

    fn propose(
        &mut self,
        trial_index: usize,
        trials: &[Trial],
        explore: Explore,
    ) -> Result<Option<HyperParameters>> {
        let mut rng = ChaCha8Rng::seed_from_u64(
            self.seed ^ (0x9E37_79B9_7F4A_7C15u64.wrapping_mul(trial_index as u64 + 1)),
        );
        for _ in 0..100 {
            let hp = complete_values(&BTreeMap::new(), explore, &mut rng, &|_| true)?;
            if !already_tried(&hp, trials) {
                return Ok(Some(hp));
            }
        }
        Ok(None)
    }
}
