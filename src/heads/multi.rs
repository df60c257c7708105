//! Several heads on the same features (multi-task).

use super::Head;
use crate::blocks::DataStats;
use crate::error::Result;
use crate::graph::{HeadKind, Layer, Node};
use crate::hyperparameters::HyperParameters;
use std::sync::Arc;

/// Heads side by side: each builds its own layers on the shared features; the loss is the sum
/// of theirs.
#[derive(Debug, Clone)]
pub struct MultiHead {
    /// The heads, in the order of their targets.
    pub heads: Vec<Arc<dyn Head>>,
}

impl Head for MultiHead {
    fn name(&self) -> &str {
        "heads"
    }

    fn build(
        &self,
        hp: &mut HyperParameters,
        stats: &DataStats,
        input: &[usize],
    ) -> Result<Vec<Node>> {
        let heads = self
            .heads
            .iter()
            .map(|h| h.build(hp, stats, input))
            .collect::<Result<Vec<_>>>()?;
        Ok(vec![Node::new("heads", "heads", Layer::Heads { heads })])
    }

    fn kind(&self) -> HeadKind {
        HeadKind::Multi {
            heads: self.heads.iter().map(|h| h.kind()).collect(),
        }
    }
}
