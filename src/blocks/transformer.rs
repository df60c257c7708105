//! Transformer: token and position embeddings, then a Transformer encoder layer.

use super::{node, Block, DataStats};
use crate::error::{Error, Result};
use crate::graph::{Layer, Node, SequenceLayer};
use crate::hyperparameters::{HyperParameters, Tunable};

/// AutoKeras's `Transformer` block: token embedding + learned position embedding (with
/// dropout), then one encoder layer (multi-head self-attention, feed-forward network, residuals
/// and layer norms). Ranges: embedding_dim 32–512, num_heads 8/16/32, dense_dim 32–512, dropout
/// 0 / 0.25 / 0.5. Each head has `embedding_dim / num_heads` dimensions (Keras gives every head
/// `embedding_dim`; this keeps the cost of a layer independent of the number of heads).
/// Takes token ids `[steps]`; gives `[steps, embedding_dim]`.
#[derive(Debug, Clone)]
pub struct Transformer {
    /// Block name.
    pub name: String,
    /// Size of the id vocabulary.
    pub max_features: usize,
    /// Width of the embeddings and of the encoder.
    pub embedding_dim: Tunable<i64>,
    /// Attention heads.
    pub num_heads: Tunable<i64>,
    /// Width of the feed-forward network.
    pub dense_dim: Tunable<i64>,
    /// Dropout after the embeddings, the attention and the feed-forward network.
    pub dropout: Tunable<f64>,
}

impl Default for Transformer {
    fn default() -> Self {
        Transformer {
            name: "transformer_1".into(),
            max_features: 20_000,
            embedding_dim: Tunable::Tune,
            num_heads: Tunable::Tune,
            dense_dim: Tunable::Tune,
            dropout: Tunable::Tune,
        }
    }
}

impl Block for Transformer {
    fn name(&self) -> &str {
        &self.name
    }

    fn build(
        &self,
        hp: &mut HyperParameters,
        _stats: &DataStats,
        input: &[usize],
    ) -> Result<Vec<Node>> {
        let steps = match input {
            [s, rest @ ..] if rest.iter().all(|&d| d == 1) => *s,
            _ => {
                return Err(Error::BadShape(format!(
                    "{} takes token ids [steps], got {input:?}",
                    self.name
                )))
            }
        };
        hp.scoped(&self.name, |hp| {
            let dim = self
                .embedding_dim
                .choose(hp, "embedding_dim", &[32, 64, 128, 256, 512], 128)
                .max(1) as usize;
            let heads = self
                .num_heads
                .choose(hp, "num_heads", &[8, 16, 32], 8)
                .max(1) as usize;
            let dense_dim = self
                .dense_dim
                .choose(hp, "dense_dim", &[32, 64, 128, 256, 512], 128)
                .max(1) as usize;
            let dropout = self.dropout.choose(hp, "dropout", &[0.0, 0.25, 0.5], 0.0) as f32;
            let mut nodes = vec![
                node(
                    hp,
                    "token_embedding",
                    Layer::Sequence(SequenceLayer::Embedding {
                        input_dim: self.max_features,
                        output_dim: dim,
                    }),
                ),
                node(
                    hp,
                    "position_embedding",
                    Layer::Sequence(SequenceLayer::PositionEmbedding { length: steps }),
                ),
            ];
            if dropout > 0.0 {
                nodes.push(node(hp, "dropout", Layer::Dropout { rate: dropout }));
            }
            nodes.push(node(
                hp,
                "encoder",
                Layer::Sequence(SequenceLayer::TransformerEncoder {
                    num_heads: heads,
                    dense_dim,
                    dropout,
                }),
            ));
            Ok(nodes)
        })
    }
}
