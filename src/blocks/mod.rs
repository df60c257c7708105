//! Blocks: the search space. Each block declares its hyperparameters next to the layers it
//! builds, under its own name scope (`image_block_1/conv_block_1/filters_0_1`).

mod conv_block;
mod dense_block;
mod embedding;
mod image_augmentation;
mod image_block;
mod normalization;
mod resnet_block;
mod rnn_block;
mod spatial_reduction;
mod structured_data_block;
mod text_block;
mod timeseries_block;
mod transformer;
mod xception_block;

pub use conv_block::ConvBlock;
pub use dense_block::DenseBlock;
pub use embedding::Embedding;
pub use image_augmentation::ImageAugmentation;
pub use image_block::{ImageBlock, ImageBlockType};
pub use normalization::Normalization;
pub use resnet_block::ResNetBlock;
pub use rnn_block::RnnBlock;
pub use spatial_reduction::{ReductionType, SpatialReduction};
pub use structured_data_block::StructuredDataBlock;
pub use text_block::{TextBlock, TextBlockType, TextStats};
pub use timeseries_block::{TimeseriesBlock, TimeseriesBlockType};
pub use transformer::Transformer;
pub use xception_block::XceptionBlock;

use crate::error::Result;
use crate::graph::{Layer, Node};
use crate::hyperparameters::HyperParameters;

/// What blocks may know about the training data when they build (statistics adapted on it).
#[derive(Debug, Clone, Default)]
pub struct DataStats {
    /// Per-channel mean of the (rescaled) training inputs.
    pub channel_mean: Vec<f32>,
    /// Per-channel variance of the (rescaled) training inputs.
    pub channel_var: Vec<f32>,
}

/// A piece of the search space that turns hyperparameters into layers.
///
/// Implement it to add a block with its own search space; declare hyperparameters through `hp`
/// (they are scoped under [`Block::name`]) and name layers with [`layer_name`].
pub trait Block: std::fmt::Debug + Send + Sync {
    /// The block's name, unique in its graph (`conv_block_1`).
    fn name(&self) -> &str;
    /// The layers for the hyperparameters in `hp`, given the per-sample input shape.
    fn build(
        &self,
        hp: &mut HyperParameters,
        stats: &DataStats,
        input: &[usize],
    ) -> Result<Vec<Node>>;
}

impl Block for std::sync::Arc<dyn Block> {
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
}

/// A layer name in the current hyperparameter scope (`image_block_1/conv_block_1/conv_0_1`).
pub fn layer_name(hp: &HyperParameters, name: &str) -> String {
    hp.full_name(name)
}

/// A node named in the current scope, attributed to the innermost block.
pub fn node(hp: &HyperParameters, name: &str, layer: Layer) -> Node {
    let full = hp.full_name(name);
    let block = full
        .rsplit_once('/')
        .map(|(b, _)| b.to_string())
        .unwrap_or_default();
    Node::new(full, block, layer)
}

/// Output shape after `nodes`, starting from `input`.
pub(crate) fn shape_after(nodes: &[Node], input: &[usize]) -> Result<Vec<usize>> {
    let arch = crate::graph::Architecture {
        input_shape: input.to_vec(),
        nodes: nodes.to_vec(),
        head: crate::graph::HeadKind::Regression { dim: 1 },
    };
    Ok(arch.summary()?.output_shape)
}
