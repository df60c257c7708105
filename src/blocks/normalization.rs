//! Normalization: per-channel standardisation adapted on the training data.

use super::{node, Block, DataStats};
use crate::error::{Error, Result};
use crate::graph::{Layer, Node};
use crate::hyperparameters::HyperParameters;

/// Subtracts the per-channel mean and divides by the standard deviation of the training data.
#[derive(Debug, Clone)]
pub struct Normalization {
    /// Block name.
    pub name: String,
}

impl Default for Normalization {
    fn default() -> Self {
        Normalization {
            name: "normalization_1".into(),
        }
    }
}

impl Block for Normalization {
    fn name(&self) -> &str {
        &self.name
    }

    fn build(
        &self,
        hp: &mut HyperParameters,
        stats: &DataStats,
        input: &[usize],
    ) -> Result<Vec<Node>> {
        let c = input.last().copied().unwrap_or(0);
        if stats.channel_mean.len() != c || stats.channel_var.len() != c {
            return Err(Error::Config(format!(
                "normalization needs statistics for {c} channels, the data gave {}",
                stats.channel_mean.len()
            )));
        }
        let layer = Layer::Normalization {
            mean: stats.channel_mean.clone(),
            variance: stats.channel_var.clone(),
        };
        Ok(vec![
            hp.scoped(&self.name, |hp| node(hp, "normalize", layer))
        ])
    }
}
