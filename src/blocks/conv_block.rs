//! ConvBlock: stacks of convolutions with optional max pooling and dropout.

use super::{node, shape_after, Block, DataStats};
use crate::error::Result;
use crate::graph::{Activation, Layer, Node, Padding, SequenceLayer};
use crate::hyperparameters::{HyperParameters, Tunable};

/// Vanilla convolutional block, AutoKeras's search ranges: kernel 3/5/7, 1–3 blocks of 1–2
/// layers, 16–512 filters, max pooling, separable convolutions, dropout. On images `[h, w, c]`
/// it builds 2-D convolutions; on sequences `[steps, c]` (text), 1-D ones.
#[derive(Debug, Clone)]
pub struct ConvBlock {
    /// Block name.
    pub name: String,
    /// Kernel size.
    pub kernel_size: Tunable<i64>,
    /// Number of conv blocks (each optionally followed by pooling).
    pub num_blocks: Tunable<i64>,
    /// Convolutions per block.
    pub num_layers: Tunable<i64>,
    /// Filters of every convolution (each layer has its own hyperparameter when tuned).
    pub filters: Tunable<i64>,
    /// 2x2 max pooling after each block.
    pub max_pooling: Tunable<bool>,
    /// Depthwise-separable convolutions.
    pub separable: Tunable<bool>,
    /// Dropout after each block.
    pub dropout: Tunable<f64>,
}

impl Default for ConvBlock {
    fn default() -> Self {
        ConvBlock {
            name: "conv_block_1".into(),
            kernel_size: Tunable::Tune,
            num_blocks: Tunable::Tune,
            num_layers: Tunable::Tune,
            filters: Tunable::Tune,
            max_pooling: Tunable::Tune,
            separable: Tunable::Tune,
            dropout: Tunable::Tune,
        }
    }
}

impl Block for ConvBlock {
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
            let kernel = self.kernel_size.choose(hp, "kernel_size", &[3, 5, 7], 3) as usize;
            let num_blocks = self.num_blocks.choose(hp, "num_blocks", &[1, 2, 3], 2);
            let num_layers = self.num_layers.choose(hp, "num_layers", &[1, 2], 1);
            let separable = self.separable.choose_bool(hp, "separable", false);
            let max_pooling = self.max_pooling.choose_bool(hp, "max_pooling", true);
            let dropout = self.dropout.choose(hp, "dropout", &[0.0, 0.25, 0.5], 0.0);
            let mut nodes = Vec::new();
            let mut shape = input.to_vec();
            for i in 0..num_blocks {
                for j in 0..num_layers {
                    let default = if i == 0 { 32 } else { 64 };
                    let filters = self.filters.choose(
                        hp,
                        &format!("filters_{i}_{j}"),
                        &[16, 32, 64, 128, 256, 512],
                        default,
                    ) as usize;
                    // AutoKeras's rule: 'valid' while the input is large enough, else 'same'.
                    let large = match shape.as_slice() {
                        [h, w, _] => *h > kernel * 2 && *w > kernel * 2,
                        [steps, _] => *steps > kernel * 2,
                        _ => false,
                    };
                    let padding = if large { Padding::Valid } else { Padding::Same };
                    let layer = if shape.len() == 2 {
                        Layer::Sequence(SequenceLayer::Conv1d {
                            filters,
                            kernel,
                            padding,
                            activation: Activation::Relu,
                            separable,
                        })
                    } else {
                        Layer::Conv2d {
                            filters,
                            kernel,
                            stride: 1,
                            padding,
                            activation: Activation::Relu,
                            separable,
                        }
                    };
                    nodes.push(node(hp, &format!("conv_{i}_{j}"), layer));
                    shape = shape_after(&nodes, input)?;
                }
                if max_pooling && shape.len() == 2 && shape[0] >= 2 {
                    let pool = Layer::Sequence(SequenceLayer::MaxPool1d { size: 2 });
                    nodes.push(node(hp, &format!("max_pool_{i}"), pool));
                    shape = shape_after(&nodes, input)?;
                } else if max_pooling && shape.len() == 3 && shape[0] >= 2 && shape[1] >= 2 {
                    nodes.push(node(
                        hp,
                        &format!("max_pool_{i}"),
                        Layer::MaxPool { size: 2, stride: 2 },
                    ));
                    shape = shape_after(&nodes, input)?;
                }
                if dropout > 0.0 {
                    nodes.push(node(
                        hp,
                        &format!("dropout_{i}"),
                        Layer::Dropout {
                            rate: dropout as f32,
                        },
                    ));
                }
            }
            Ok(nodes)
        })
    }
}
