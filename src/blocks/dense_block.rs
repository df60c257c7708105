//! DenseBlock: fully connected layers.

use super::{node, Block, DataStats};
use crate::error::Result;
use crate::graph::{Activation, Layer, Node};
use crate::hyperparameters::{HyperParameters, Tunable};

/// 1–3 dense layers of 16–1024 units with optional batch norm and dropout (AutoKeras's ranges).
#[derive(Debug, Clone)]
pub struct DenseBlock {
    /// Block name.
    pub name: String,
    /// Number of layers.
    pub num_layers: Tunable<i64>,
    /// Units of every layer (each layer has its own hyperparameter when tuned).
    pub num_units: Tunable<i64>,
    /// Batch normalisation before each activation.
    pub use_batchnorm: Tunable<bool>,
    /// Dropout after each layer.
    pub dropout: Tunable<f64>,
}

impl Default for DenseBlock {
    fn default() -> Self {
        DenseBlock {
            name: "dense_block_1".into(),
            num_layers: Tunable::Tune,
            num_units: Tunable::Tune,
            use_batchnorm: Tunable::Tune,
            dropout: Tunable::Tune,
        }
    }
}

impl Block for DenseBlock {
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
            let num_layers = self.num_layers.choose(hp, "num_layers", &[1, 2, 3], 2);
            let use_bn = self.use_batchnorm.choose_bool(hp, "use_batchnorm", false);
            let dropout = self.dropout.choose(hp, "dropout", &[0.0, 0.25, 0.5], 0.0);
            let mut nodes = Vec::new();
            if input.len() > 1 {
                nodes.push(node(hp, "flatten", Layer::Flatten));
            }
            for i in 0..num_layers {
                let units = self.num_units.choose(
                    hp,
                    &format!("units_{i}"),
                    &[16, 32, 64, 128, 256, 512, 1024],
                    32,
                ) as usize;
                let act = if use_bn {
                    Activation::Linear
                } else {
                    Activation::Relu
                };
                nodes.push(node(
                    hp,
                    &format!("dense_{i}"),
                    Layer::Dense {
                        units,
                        activation: act,
                    },
                ));
                if use_bn {
                    nodes.push(node(hp, &format!("batch_norm_{i}"), Layer::BatchNorm));
                    nodes.push(node(
                        hp,
                        &format!("relu_{i}"),
                        Layer::Activation {
                            activation: Activation::Relu,
                        },
                    ));
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
