//! SpatialReduction: from feature maps to a vector.

use super::{node, Block, DataStats};
use crate::error::Result;
use crate::graph::{Layer, Node, SequenceLayer};
use crate::hyperparameters::{HyperParameters, Tunable};

/// How feature maps become a vector.
pub type ReductionType = String;

/// Flatten, global average pooling or global max pooling (AutoKeras's `reduction_type`), over
/// the height and width of feature maps `[h, w, c]` or the steps of sequences `[steps, c]`.
#[derive(Debug, Clone)]
pub struct SpatialReduction {
    /// Block name.
    pub name: String,
    /// "flatten", "global_avg" or "global_max".
    pub reduction_type: Tunable<ReductionType>,
}

impl Default for SpatialReduction {
    fn default() -> Self {
        SpatialReduction {
            name: "spatial_reduction_1".into(),
            reduction_type: Tunable::Tune,
        }
    }
}

impl Block for SpatialReduction {
    fn name(&self) -> &str {
        &self.name
    }

    fn build(
        &self,
        hp: &mut HyperParameters,
        _stats: &DataStats,
        input: &[usize],
    ) -> Result<Vec<Node>> {
        let sequence = input.len() == 2;
        if input.len() != 3 && !sequence {
            return Ok(vec![]);
        }
        hp.scoped(&self.name, |hp| {
            let options = [
                "flatten".to_string(),
                "global_avg".to_string(),
                "global_max".to_string(),
            ];
            let t = self
                .reduction_type
                .choose(hp, "reduction_type", &options, "flatten".into());
            let layer = match (t.as_str(), sequence) {
                ("global_avg", false) => Layer::GlobalAvgPool,
                ("global_max", false) => Layer::GlobalMaxPool,
                ("global_avg", true) => Layer::Sequence(SequenceLayer::GlobalAvgPool1d),
                ("global_max", true) => Layer::Sequence(SequenceLayer::GlobalMaxPool1d),
                _ => Layer::Flatten,
            };
            Ok(vec![node(hp, &t, layer)])
        })
    }
}
