//! RegressionHead.

use super::Head;
use crate::blocks::{node, Block, DataStats, SpatialReduction};
use crate::error::Result;
use crate::graph::{Activation, HeadKind, Layer, Node};
use crate::hyperparameters::{HyperParameters, Tunable};

/// Spatial reduction (for feature maps), dropout and a linear dense layer; mean squared error.
#[derive(Debug, Clone)]
pub struct RegressionHead {
    /// Head name.
    pub name: String,
    /// Outputs per sample.
    pub output_dim: usize,
    /// Dropout before the last layer.
    pub dropout: Tunable<f64>,
}

impl RegressionHead {
    /// A head with `output_dim` outputs.
    pub fn new(output_dim: usize) -> Self {
        RegressionHead {
            name: "regression_head_1".into(),
            output_dim,
            dropout: Tunable::Tune,
        }
    }
}

impl Head for RegressionHead {
    fn name(&self) -> &str {
        &self.name
    }

    fn build(
        &self,
        hp: &mut HyperParameters,
        stats: &DataStats,
        input: &[usize],
    ) -> Result<Vec<Node>> {
        hp.scoped(&self.name, |hp| {
            let mut nodes = SpatialReduction::default().build(hp, stats, input)?;
            let dropout = self.dropout.choose(hp, "dropout", &[0.0, 0.25, 0.5], 0.0);
            if dropout > 0.0 {
                nodes.push(node(
                    hp,
                    "dropout",
                    Layer::Dropout {
                        rate: dropout as f32,
                    },
                ));
            }
            nodes.push(node(
                hp,
                "dense",
                Layer::Dense {
                    units: self.output_dim,
                    activation: Activation::Linear,
                },
            ));
            Ok(nodes)
        })
    }

    fn kind(&self) -> HeadKind {
        HeadKind::Regression {
            dim: self.output_dim,
        }
    }
}
