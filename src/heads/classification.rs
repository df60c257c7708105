//! ClassificationHead.

use super::Head;
use crate::blocks::DataStats;
use crate::error::Result;
use crate::graph::{HeadKind, Node};
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
        super::output_layers(
            &self.name,
            self.kind().output_units(),
            &self.dropout,
            hp,
            stats,
            input,
        )
    }

    fn kind(&self) -> HeadKind {
        HeadKind::Classification {
            num_classes: self.num_classes,
            sigmoid: self.sigmoid,
            multi_label: self.multi_label,
        }
    }
}
