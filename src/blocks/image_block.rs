//! ImageBlock: the whole image pipeline of AutoKeras — normalisation, augmentation and a
//! choice of network family.

use super::{
    shape_after, Block, ConvBlock, DataStats, DenseBlock, ImageAugmentation, Normalization,
    ResNetBlock, XceptionBlock,
};
use crate::error::Result;
use crate::graph::Node;
use crate::hyperparameters::{HyperParameters, Tunable, Value};

/// The network family of an [`ImageBlock`].
pub type ImageBlockType = String;

/// Normalisation, augmentation and one of vanilla (ConvBlock then DenseBlock, the classic
/// "convolutions + fully connected layers" network), resnet (ResNetBlock) or xception
/// (XceptionBlock).
#[derive(Debug, Clone)]
pub struct ImageBlock {
    /// Block name.
    pub name: String,
    /// "vanilla", "resnet" or "xception".
    pub block_type: Tunable<ImageBlockType>,
    /// Per-channel standardisation.
    pub normalize: Tunable<bool>,
    /// Random augmentation of training batches.
    pub augment: Tunable<bool>,
}

impl Default for ImageBlock {
    fn default() -> Self {
        ImageBlock {
            name: "image_block_1".into(),
            block_type: Tunable::Tune,
            normalize: Tunable::Tune,
            augment: Tunable::Tune,
        }
    }
}

impl Block for ImageBlock {
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
            let types = [
                "vanilla".to_string(),
                "resnet".to_string(),
                "xception".to_string(),
            ];
            let block_type = self
                .block_type
                .choose(hp, "block_type", &types, "vanilla".into());
            let normalize = self.normalize.choose_bool(hp, "normalize", true);
            let augment = self.augment.choose_bool(hp, "augment", false);
            let mut nodes = Vec::new();
            if normalize {
                nodes.extend(Normalization::default().build(hp, stats, input)?);
            }
            if augment {
                nodes.extend(ImageAugmentation::default().build(hp, stats, input)?);
            }
            let parent = hp.full_name("block_type");
            let when = [Value::Str(block_type.clone())];
            let body = hp.conditional(&parent, &when, |hp| match block_type.as_str() {
                "resnet" => ResNetBlock::default().build(hp, stats, input),
                "xception" => XceptionBlock::default().build(hp, stats, input),
                _ => {
                    let mut nodes = ConvBlock::default().build(hp, stats, input)?;
                    let features = shape_after(&nodes, input)?;
                    nodes.extend(DenseBlock::default().build(hp, stats, &features)?);
                    Ok(nodes)
                }
            })?;
            nodes.extend(body);
            Ok(nodes)
        })
    }
}
