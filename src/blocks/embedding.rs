//! Embedding: token ids to dense vectors.

use super::{node, Block, DataStats};
use crate::error::{Error, Result};
use crate::graph::{Layer, Node, SequenceLayer};
use crate::hyperparameters::{HyperParameters, Tunable};

/// A learned vector per token id, then dropout (AutoKeras's `Embedding`: embedding_dim
/// 32–512, dropout 0 / 0.25 / 0.5). Takes token ids `[steps]`; gives `[steps, embedding_dim]`.
#[derive(Debug, Clone)]
pub struct Embedding {
    /// Block name.
    pub name: String,
    /// Size of the id vocabulary (ids at or beyond it count as out-of-vocabulary).
    pub max_features: usize,
    /// Width of the vectors.
    pub embedding_dim: Tunable<i64>,
    /// Dropout on the vectors.
    pub dropout: Tunable<f64>,
}

impl Default for Embedding {
    fn default() -> Self {
        Embedding {
            name: "embedding_1".into(),
            max_features: 20_000,
            embedding_dim: Tunable::Tune,
            dropout: Tunable::Tune,
        }
    }
}

impl Block for Embedding {
    fn name(&self) -> &str {
        &self.name
    }

    fn build(
        &self,
        hp: &mut HyperParameters,
        _stats: &DataStats,
        _input: &[usize],
    ) -> Result<Vec<Node>> {
        if self.max_features < 2 {
            return Err(Error::Config(format!(
                "{}: max_features must be at least 2 (padding and out-of-vocabulary), got {}",
                self.name, self.max_features
            )));
        }
        hp.scoped(&self.name, |hp| {
            let dim = self
                .embedding_dim
                .choose(hp, "embedding_dim", &[32, 64, 128, 256, 512], 128);
            let dropout = self.dropout.choose(hp, "dropout", &[0.0, 0.25, 0.5], 0.25);
            let mut nodes = vec![node(
                hp,
                "embedding",
                Layer::Sequence(SequenceLayer::Embedding {
                    input_dim: self.max_features,
                    output_dim: dim.max(1) as usize,
                }),
            )];
            if dropout > 0.0 {
                nodes.push(node(
                    hp,
                    "dropout",
                    Layer::Dropout {
                        rate: dropout as f32,
                    },
                ));
            }
            Ok(nodes)
        })
    }
}
