//! Heads: the last layers and the loss of a task.

mod classification;
mod regression;

pub use classification::ClassificationHead;
pub use regression::RegressionHead;

use crate::blocks::DataStats;
use crate::error::Result;
use crate::graph::{HeadKind, Node};
use crate::hyperparameters::HyperParameters;

/// A task's output: layers that end the network, and what they mean.
pub trait Head: std::fmt::Debug + Send + Sync {
    /// The head's name (`classification_head_1`).
    fn name(&self) -> &str;
    /// The final layers for the given input shape.
    fn build(
        &self,
        hp: &mut HyperParameters,
        stats: &DataStats,
        input: &[usize],
    ) -> Result<Vec<Node>>;
    /// What the output means.
    fn kind(&self) -> HeadKind;
}
