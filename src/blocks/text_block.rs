//! TextBlock: the whole text pipeline — a choice of network family over token ids.

use super::{
    node, shape_after, Block, ConvBlock, DataStats, DenseBlock, Embedding, RnnBlock,
    SpatialReduction, Transformer,
};
use crate::error::{Error, Result};
use crate::graph::{Layer, NgramTable, Node, SequenceLayer};
use crate::hyperparameters::{HyperParameters, Tunable, Value};
use std::sync::Arc;

/// What a [`TextBlock`] knows of the training texts, from the fitted tokenizer: the text tasks
/// set it before the search.
#[derive(Debug, Clone, PartialEq)]
pub struct TextStats {
    /// Ids the tokenizer gives: its words plus padding (0) and out-of-vocabulary (1).
    pub vocabulary_size: usize,
    /// Unigrams and bigrams of the training texts, most frequent first, with their idf.
    pub ngrams: Arc<NgramTable>,
}

/// The network family of a [`TextBlock`].
pub type TextBlockType = String;

/// AutoKeras's `TextBlock` over token ids `[L]` (a tokenizer's output), one of:
/// - `vanilla`: the first `sequence_length` tokens → Embedding → ConvBlock (1-D) →
///   SpatialReduction → DenseBlock;
/// - `transformer`: the first `sequence_length` tokens → Transformer (token + position
///   embedding, encoder layer) → SpatialReduction → DenseBlock;
/// - `ngram`: TF-IDF of the `max_tokens` most frequent unigrams and bigrams → DenseBlock;
/// - `rnn`: the first `sequence_length` tokens → Embedding → RNNBlock (LSTM / GRU).
///
/// `max_tokens` (5,000 / 10,000 / 20,000) caps the vocabulary (ids beyond it are out of
/// vocabulary) or the n-gram table; `sequence_length` is 64 / 128 / 256 / 512.
#[derive(Debug, Clone)]
pub struct TextBlock {
    /// Block name.
    pub name: String,
    /// "vanilla", "transformer", "ngram" or "rnn".
    pub block_type: Tunable<TextBlockType>,
    /// Size of the vocabulary (or of the n-gram table) the network uses.
    pub max_tokens: Tunable<i64>,
    /// Tokens per text for the sequence networks.
    pub sequence_length: Tunable<i64>,
    /// The training texts' vocabulary and n-grams (set by the text tasks).
    pub text: Option<Arc<TextStats>>,
}

impl Default for TextBlock {
    fn default() -> Self {
        TextBlock {
            name: "text_block_1".into(),
            block_type: Tunable::Tune,
            max_tokens: Tunable::Tune,
            sequence_length: Tunable::Tune,
            text: None,
        }
    }
}

impl Block for TextBlock {
    fn name(&self) -> &str {
        &self.name
    }

    fn build(
        &self,
        hp: &mut HyperParameters,
        stats: &DataStats,
        input: &[usize],
    ) -> Result<Vec<Node>> {
        let text = self.text.as_ref().ok_or_else(|| {
            Error::Config(format!(
                "{} needs the tokenizer's vocabulary (TextBlock::text): use TextClassifier or TextRegressor, which fit it",
                self.name
            ))
        })?;
        let length = match input {
            [l, rest @ ..] if rest.iter().all(|&d| d == 1) => *l,
            _ => {
                return Err(Error::BadShape(format!(
                    "{} takes token ids [length, 1, 1], got {input:?}",
                    self.name
                )))
            }
        };
        hp.scoped(&self.name, |hp| {
            let types = ["vanilla", "transformer", "ngram", "rnn"].map(String::from);
            let block_type = self
                .block_type
                .choose(hp, "block_type", &types, "vanilla".into());
            let max_tokens = self
                .max_tokens
                .choose(hp, "max_tokens", &[5_000, 10_000, 20_000], 20_000)
                .max(2) as usize;
            let parent = hp.full_name("block_type");
            if block_type == "ngram" {
                let when = [Value::Str(block_type.clone())];
                return hp.conditional(&parent, &when, |hp| {
                    let table = text.ngrams.truncated(max_tokens);
                    if table.is_empty() {
                        return Err(Error::EmptyDataset(
                            "the training texts hold no word for a TF-IDF table".into(),
                        ));
                    }
                    let mut nodes = vec![node(
                        hp,
                        "tf_idf",
                        Layer::Sequence(SequenceLayer::TfIdf(table)),
                    )];
                    let features = shape_after(&nodes, input)?;
                    nodes.extend(DenseBlock::default().build(hp, stats, &features)?);
                    Ok(nodes)
                });
            }
            let sequential = ["vanilla", "transformer", "rnn"].map(|t| Value::Str(t.into()));
            let steps = hp.conditional(&parent, &sequential, |hp| {
                self.sequence_length
                    .choose(hp, "sequence_length", &[64, 128, 256, 512], 128)
            });
            let steps = (steps.max(1) as usize).min(length);
            let vocabulary = max_tokens.min(text.vocabulary_size).max(2);
            let mut nodes = vec![node(
                hp,
                "token_window",
                Layer::Sequence(SequenceLayer::TokenWindow {
                    length: steps,
                    max_tokens: vocabulary,
                }),
            )];
            let when = [Value::Str(block_type.clone())];
            let body = hp.conditional(&parent, &when, |hp| -> Result<Vec<Node>> {
                let mut body = Vec::new();
                let shape = |body: &[Node]| shape_after(&[nodes.as_slice(), body].concat(), input);
                match block_type.as_str() {
                    "transformer" => {
                        let t = Transformer {
                            max_features: vocabulary,
                            ..Default::default()
                        };
                        body.extend(t.build(hp, stats, &shape(&body)?)?);
                        body.extend(SpatialReduction::default().build(
                            hp,
                            stats,
                            &shape(&body)?,
                        )?);
                        body.extend(DenseBlock::default().build(hp, stats, &shape(&body)?)?);
                    }
                    "rnn" => {
                        let e = Embedding {
                            max_features: vocabulary,
                            ..Default::default()
                        };
                        body.extend(e.build(hp, stats, &shape(&body)?)?);
                        body.extend(RnnBlock::default().build(hp, stats, &shape(&body)?)?);
                    }
                    _ => {
                        let e = Embedding {
                            max_features: vocabulary,
                            ..Default::default()
                        };
                        body.extend(e.build(hp, stats, &shape(&body)?)?);
                        body.extend(ConvBlock::default().build(hp, stats, &shape(&body)?)?);
                        body.extend(SpatialReduction::default().build(
                            hp,
                            stats,
                            &shape(&body)?,
                        )?);
                        body.extend(DenseBlock::default().build(hp, stats, &shape(&body)?)?);
                    }
                }
                Ok(body)
            })?;
            nodes.extend(body);
            Ok(nodes)
        })
    }
}
