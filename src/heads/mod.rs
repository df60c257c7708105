//! Heads: the last layers and the loss of a task.

mod classification;
mod multi;
mod regression;

pub use classification::ClassificationHead;
pub use multi::MultiHead;
pub use regression::RegressionHead;

use crate::blocks::{node, Block, DataStats, SpatialReduction};
use crate::error::Result;
use crate::graph::{Activation, HeadKind, Layer, Node};
use crate::hyperparameters::HyperParameters;
use crate::hyperparameters::Tunable;

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

impl Head for std::sync::Arc<dyn Head> {
    fn name(&self) -> &str {
        self.as_ref().name()
    }

    fn build(
        &self,
        hp: &mut HyperParameters,
        stats: &DataStats,
        input: &[usize],
    ) -> Result<Vec<Node>> {
        self.as_ref().build(hp, stats, input)
    }

    fn kind(&self) -> HeadKind {
        self.as_ref().kind()
    }
}

/// The layers every head ends with, in the head's scope: spatial reduction (for feature maps),
/// dropout (a hyperparameter) and a linear dense layer of `units`.
pub(crate) fn output_layers(
    name: &str,
    units: usize,
    dropout: &Tunable<f64>,
    hp: &mut HyperParameters,
    stats: &DataStats,
    input: &[usize],
) -> Result<Vec<Node>> {
    hp.scoped(name, |hp| {
        let mut nodes = SpatialReduction::default().build(hp, stats, input)?;
        let rate = dropout.choose(hp, "dropout", &[0.0, 0.25, 0.5], 0.0);
        if rate > 0.0 {
            nodes.push(node(hp, "dropout", Layer::Dropout { rate: rate as f32 }));
        }
        nodes.push(node(
            hp,
            "dense",
            Layer::Dense {
                units,
                activation: Activation::Linear,
            },
        ));
        Ok(nodes)
    })
}
