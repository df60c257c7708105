//! ImageAugmentation: random transformations of training batches.

use super::{node, Block, DataStats};
use crate::error::Result;
use crate::graph::{Layer, Node};
use crate::hyperparameters::{HyperParameters, Tunable};

/// Random translation, horizontal flip and pad-and-crop, applied to training batches only.
#[derive(Debug, Clone)]
pub struct ImageAugmentation {
    /// Block name.
    pub name: String,
    /// Largest shift as a fraction of the image size (0 or 0.1 when tuned).
    pub translation_factor: Tunable<f64>,
    /// Random left-right flips.
    pub horizontal_flip: Tunable<bool>,
    /// Pixels of zero padding before a random crop back to size (CIFAR's 4).
    pub pad_crop: Tunable<i64>,
}

impl Default for ImageAugmentation {
    fn default() -> Self {
        ImageAugmentation {
            name: "image_augmentation_1".into(),
            translation_factor: Tunable::Tune,
            horizontal_flip: Tunable::Tune,
            pad_crop: Tunable::Fixed(0),
        }
    }
}

impl Block for ImageAugmentation {
    fn name(&self) -> &str {
        &self.name
    }

    fn build(
        &self,
        hp: &mut HyperParameters,
        _stats: &DataStats,
        _input: &[usize],
    ) -> Result<Vec<Node>> {
        hp.scoped(&self.name, |hp| {
            let translation =
                self.translation_factor
                    .choose(hp, "translation_factor", &[0.0, 0.1], 0.1);
            let flip = self
                .horizontal_flip
                .choose_bool(hp, "horizontal_flip", true);
            let pad_crop = self.pad_crop.choose(hp, "pad_crop", &[0, 2, 4], 0).max(0) as usize;
            let layer = Layer::Augmentation {
                horizontal_flip: flip,
                translation: translation as f32,
                pad_crop,
            };
            Ok(vec![node(hp, "augment", layer)])
        })
    }
}
