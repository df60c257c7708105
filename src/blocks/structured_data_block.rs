//! StructuredDataBlock: AutoKeras's block for tables.

use super::{shape_after, Block, DataStats, DenseBlock, Normalization};
use crate::error::Result;
use crate::graph::Node;
use crate::hyperparameters::{HyperParameters, Tunable};

/// Optional per-feature standardisation, then a [`DenseBlock`].
///
/// The input is a row of encoded features (`[1, 1, f]` per sample): the table's column encoders
/// ([`TableEncoder`](crate::preprocessing::TableEncoder)) already turned categorical columns
/// into one-hot features and standardised numerical ones, which is AutoKeras's
/// CategoricalToNumerical + Normalization done once, outside the network. `normalize` adds a
/// [`Normalization`] of every feature (one-hot and bin features included) with training
/// statistics; it is off unless asked for, as a rare category's feature then takes values in
/// the tens (a trial on Titanic that searched it lost 20 points of test accuracy).
#[derive(Debug, Clone)]
pub struct StructuredDataBlock {
    /// Block name.
    pub name: String,
    /// Standardise every feature with the training statistics (default: fixed off).
    pub normalize: Tunable<bool>,
    /// The dense layers.
    pub dense: DenseBlock,
}

impl Default for StructuredDataBlock {
    fn default() -> Self {
        StructuredDataBlock {
            name: "structured_data_block_1".into(),
            normalize: Tunable::Fixed(false),
            dense: DenseBlock::default(),
        }
    }
}

impl Block for StructuredDataBlock {
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
            let mut nodes = Vec::new();
            if self.normalize.choose_bool(hp, "normalize", false) {
                nodes.extend(Normalization::default().build(hp, stats, input)?);
            }
            let shape = shape_after(&nodes, input)?;
            nodes.extend(self.dense.build(hp, stats, &shape)?);
            Ok(nodes)
        })
    }
}
