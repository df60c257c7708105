//! The network graph: an architecture (plain data, JSON) that blocks and heads produce from
//! hyperparameters, and the candle network built from it.
//!
//! Activations are NHWC. An [`Architecture`] is a list of named [`Node`]s, each a [`Layer`],
//! from one input to one head; [`Network`] holds its weights and runs it.

mod ensemble;
mod layer;
mod network;
mod params;
pub mod sequence;
mod summary;

pub use ensemble::{ensemble, ENSEMBLE_NODE};
pub use layer::{Activation, Branch, Layer, Merge, Node, Padding};
pub use network::{Network, Phase};
pub use params::ParamStore;
pub use sequence::{NgramTable, RnnKind, SequenceLayer};
pub use summary::{Summary, SummaryRow};

use serde::{Deserialize, Serialize};

/// What the network's output means and how it is trained.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum HeadKind {
    /// Softmax over `num_classes` (cross-entropy), or one sigmoid unit when `num_classes == 2`
    /// and `sigmoid` is set, or `num_classes` independent sigmoids when `multi_label`.
    Classification {
        num_classes: usize,
        sigmoid: bool,
        multi_label: bool,
    },
    /// `dim` real outputs (mean squared error).
    Regression { dim: usize },
    /// Several heads side by side (multi-task): the outputs are the heads' outputs
    /// concatenated in order, and the loss is the sum of theirs.
    Multi { heads: Vec<HeadKind> },
}

impl HeadKind {
    /// Width of the final layer.
    pub fn output_units(&self) -> usize {
        match self {
            HeadKind::Classification {
                num_classes: 2,
                sigmoid: true,
                multi_label: false,
            } => 1,
            HeadKind::Classification { num_classes, .. } => *num_classes,
            HeadKind::Regression { dim } => *dim,
            HeadKind::Multi { heads } => heads.iter().map(HeadKind::output_units).sum(),
        }
    }

    /// The heads side by side: itself for a single head.
    pub fn parts(&self) -> Vec<&HeadKind> {
        match self {
            HeadKind::Multi { heads } => heads.iter().collect(),
            h => vec![h],
        }
    }

    /// Columns a batch of encoded targets takes: one class index, or `dim` values.
    pub(crate) fn target_columns(&self) -> usize {
        match self {
            HeadKind::Classification {
                multi_label: true,
                num_classes,
                ..
            } => *num_classes,
            HeadKind::Classification { .. } => 1,
            HeadKind::Regression { dim } => *dim,
            HeadKind::Multi { heads } => heads.iter().map(HeadKind::target_columns).sum(),
        }
    }
}

/// A whole network, as data: input shape, layers, head.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Architecture {
    /// Shape of one input sample, `[h, w, c]` for images or `[features]`.
    pub input_shape: Vec<usize>,
    /// The layers in order (residual layers nest).
    pub nodes: Vec<Node>,
    /// The head's kind.
    pub head: HeadKind,
}

impl Architecture {
    /// Output shape of every node (per sample), and the number of parameters.
    pub fn summary(&self) -> crate::Result<Summary> {
        summary::summarize(self)
    }

    /// Total trainable parameter count.
    pub fn param_count(&self) -> crate::Result<usize> {
        Ok(self.summary()?.total_params)
    }
}
