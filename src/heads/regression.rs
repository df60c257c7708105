//! RegressionHead.

use super::Head;
use crate::blocks::DataStats;
use crate::error::Result;
use crate::graph::{HeadKind, Node};
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
        super::output_layers(&self.name, self.output_dim, &self.dropout, hp, stats, input)
    }

    fn kind(&self) -> HeadKind {
        HeadKind::Regression {
            dim: self.output_dim,
        }
    }
}
