//! XceptionBlock: a small efficient network of depthwise-separable residual blocks.

use super::{node, Block, DataStats};
use crate::error::Result;
use crate::graph::{Activation, Layer, Node, Padding};
use crate::hyperparameters::{HyperParameters, Tunable};

/// Xception-style: a 3x3 stem, then `num_blocks` residual blocks of two separable 3x3
/// convolutions (the second with stride 2) with a strided 1x1 shortcut, doubling the width
/// each block.
#[derive(Debug, Clone)]
pub struct XceptionBlock {
    /// Block name.
    pub name: String,
    /// Residual blocks (2–4).
    pub num_blocks: Tunable<i64>,
    /// Filters of the stem (32 or 64).
    pub width: Tunable<i64>,
}

impl Default for XceptionBlock {
    fn default() -> Self {
        XceptionBlock {
            name: "xception_block_1".into(),
            num_blocks: Tunable::Tune,
            width: Tunable::Tune,
        }
    }
}

impl Block for XceptionBlock {
    fn name(&self) -> &str {
        &self.name
    }

    fn build(
        &self,
        hp: &mut HyperParameters,
        _stats: &DataStats,
        input: &[usize],
    ) -> Result<Vec<Node>> {
        hp.scoped(&self.name, |hp| {
            let width = self.width.choose(hp, "width", &[32, 64], 32) as usize;
            let wanted = self.num_blocks.choose(hp, "num_blocks", &[2, 3, 4], 3) as usize;
            // Each block halves the resolution: keep at least 2x2.
            let side = input
                .first()
                .copied()
                .unwrap_or(1)
                .min(input.get(1).copied().unwrap_or(1));
            let max_blocks = (usize::BITS - side.max(1).leading_zeros()).saturating_sub(2) as usize;
            let num_blocks = wanted.min(max_blocks.max(1));
            let relu = Layer::Activation {
                activation: Activation::Relu,
            };
            let sep = |filters, stride| Layer::Conv2d {
                filters,
                kernel: 3,
                stride,
                padding: Padding::Same,
                activation: Activation::Linear,
                separable: true,
            };
            let mut nodes = vec![
                node(
                    hp,
                    "stem_conv",
                    Layer::Conv2d {
                        filters: width,
                        kernel: 3,
                        stride: 1,
                        padding: Padding::Same,
                        activation: Activation::Linear,
                        separable: false,
                    },
                ),
                node(hp, "stem_bn", Layer::BatchNorm),
                node(hp, "stem_relu", relu.clone()),
            ];
            for b in 0..num_blocks {
                let filters = width << (b + 1);
                let p = format!("block{b}");
                let main = vec![
                    node(hp, &format!("{p}_sepconv1"), sep(filters, 1)),
                    node(hp, &format!("{p}_bn1"), Layer::BatchNorm),
                    node(hp, &format!("{p}_relu1"), relu.clone()),
                    node(hp, &format!("{p}_sepconv2"), sep(filters, 2)),
                    node(hp, &format!("{p}_bn2"), Layer::BatchNorm),
                ];
                let shortcut = vec![
                    node(
                        hp,
                        &format!("{p}_shortcut_conv"),
                        Layer::Conv2d {
                            filters,
                            kernel: 1,
                            stride: 2,
                            padding: Padding::Valid,
                            activation: Activation::Linear,
                            separable: false,
                        },
                    ),
                    node(hp, &format!("{p}_shortcut_bn"), Layer::BatchNorm),
                ];
                nodes.push(node(hp, &p, Layer::Residual { main, shortcut }));
            }
            Ok(nodes)
        })
    }
}
