//! ClassificationHead.

use super::Head;
use crate::blocks::{node, Block, DataStats, SpatialReduction};
use crate::error::Result;
use crate::graph::{Activation, HeadKind, Layer, Node};
use crate::hyperparameters::{HyperParameters, Tunable};

/// Spatial reduction (for feature maps), dropout and a dense layer of one unit per class;
/// softmax cross-entropy, or sigmoid for binary (`sigmoid`) and multi-label problems.
#[derive(Debug, Clone)]
pub struct ClassificationHead {
    /// Head name.
    pub name: String,
    /// Number of classes.
    pub num_classes: usize,
    /// One sigmoid unit instead of a 2-way softmax (binary problems only).
    pub sigmoid: bool,
    /// Independent sigmoid per class (targets are 0/1 vectors).
    pub multi_label: bool,
    /// Dropout before the last layer.
    pub dropout: Tunable<f64>,
}

impl ClassificationHead {
    /// A softmax head for `num_classes` classes.
    pub fn new(num_classes: usize) -> Self {
        ClassificationHead {
            name: "classification_head_1".into(),
            num_classes,
            sigmoid: false,
            multi_label: false,
            dropout: Tunable::Tune,
        }
    }
}

impl Head for ClassificationHead {
    fn name(&self) -> &str {
        &self.name
    }

    fn build(
        &self,
        hp: &mut HyperParameters,
        stats: &DataStats,
        input: &[usize],
    ) -> Result<Vec<Node>> {
        let units = self.kind().output_units();
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
                    units,
                    activation: Activation::Linear,
                },
            ));
            Ok(nodes)
        })
    }

    fn kind(&self) -> HeadKind {
        HeadKind::Classification {
            num_classes: self.num_classes,
            sigmoid: self.sigmoid,
            multi_label: self.multi_label,
        }
    }
}
