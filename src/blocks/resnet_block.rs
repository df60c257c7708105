//! ResNetBlock: a CIFAR-style residual network trained from scratch.

use super::{node, Block, DataStats};
use crate::error::Result;
use crate::graph::{Activation, Layer, Node, Padding};
use crate::hyperparameters::{HyperParameters, Tunable};

/// He et al.'s CIFAR ResNet: a 3x3 stem, three stages of basic residual blocks (width w, 2w,
/// 4w; the later stages halve the resolution), `depth` blocks per stage — ResNet-8/14/20.
#[derive(Debug, Clone)]
pub struct ResNetBlock {
    /// Block name.
    pub name: String,
    /// Residual blocks per stage (1, 2 or 3).
    pub depth: Tunable<i64>,
    /// Filters of the first stage (16, 32 or 64).
    pub width: Tunable<i64>,
}

impl Default for ResNetBlock {
    fn default() -> Self {
        ResNetBlock {
            name: "res_net_block_1".into(),
            depth: Tunable::Tune,
            width: Tunable::Tune,
        }
    }
}

fn conv(filters: usize, kernel: usize, stride: usize) -> Layer {
    Layer::Conv2d {
        filters,
        kernel,
        stride,
        padding: Padding::Same,
        activation: Activation::Linear,
        separable: false,
    }
}

impl Block for ResNetBlock {
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
            let depth = self.depth.choose(hp, "depth", &[1, 2, 3], 1) as usize;
            let width = self.width.choose(hp, "width", &[16, 32, 64], 32) as usize;
            let relu = Layer::Activation {
                activation: Activation::Relu,
            };
            let mut nodes = vec![
                node(hp, "stem_conv", conv(width, 3, 1)),
                node(hp, "stem_bn", Layer::BatchNorm),
                node(hp, "stem_relu", relu.clone()),
            ];
            let mut channels = width;
            for stage in 0..3 {
                let filters = width << stage;
                for b in 0..depth {
                    let stride = if stage > 0 && b == 0 { 2 } else { 1 };
                    let p = format!("stage{stage}_block{b}");
                    let main = vec![
                        node(hp, &format!("{p}_conv1"), conv(filters, 3, stride)),
                        node(hp, &format!("{p}_bn1"), Layer::BatchNorm),
                        node(hp, &format!("{p}_relu1"), relu.clone()),
                        node(hp, &format!("{p}_conv2"), conv(filters, 3, 1)),
                        node(hp, &format!("{p}_bn2"), Layer::BatchNorm),
                    ];
                    let shortcut = if stride != 1 || channels != filters {
                        vec![
                            node(hp, &format!("{p}_shortcut_conv"), conv(filters, 1, stride)),
                            node(hp, &format!("{p}_shortcut_bn"), Layer::BatchNorm),
                        ]
                    } else {
                        vec![]
                    };
                    nodes.push(node(hp, &p, Layer::Residual { main, shortcut }));
                    channels = filters;
                }
            }
            Ok(nodes)
        })
    }
}
