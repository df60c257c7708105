//! Layers on token ids and on sequences `[b, seq, c]`: what text networks are made of.
//!
//! Token ids arrive as the encoded input `[b, L, 1, 1]` (`f32` ids: 0 = padding, 1 = out of
//! vocabulary, 2.. = words by frequency rank). [`SequenceLayer::TokenWindow`] keeps the first
//! tokens of each text and [`SequenceLayer::Embedding`] turns ids into vectors; the other layers
//! work on `[b, seq, c]` tensors (or, for [`SequenceLayer::TfIdf`], turn ids into TF-IDF
//! vectors `[b, ngrams]`). Each layer states its parameters ([`SequenceLayer::param_shapes`]),
//! their initial values, its output shape and its forward pass (candle operations, so that
//! autograd gives the backward pass).

mod attention;
mod attention_op;
mod conv1d;
mod dense_ops;
mod embedding;
mod fast_math;
mod gemm;
mod init;
mod recurrent;
mod recurrent_op;
mod tfidf;

use super::{Activation, Padding, Phase};
use crate::error::{Error, Result};
use candle_core::Tensor;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

pub use tfidf::NgramTable;

/// The cell of a recurrent layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RnnKind {
    /// Long short-term memory (Keras's gate order i, f, c, o; forget bias 1).
    Lstm,
    /// Gated recurrent unit (Keras's `reset_after=True` form, gate order z, r, h).
    Gru,
}

/// A layer on token ids or on sequences.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "layer")]
pub enum SequenceLayer {
    /// Token ids `[L]` (or `[L, 1, 1]`) to `[length]`: keeps the first `length` tokens of each
    /// text, maps ids `>= max_tokens` to the out-of-vocabulary id 1 and moves the padding to the
    /// front (as Keras's `pad_sequences`), so that a recurrent layer ends on the last word.
    TokenWindow { length: usize, max_tokens: usize },
    /// Token ids `[seq]` to vectors `[seq, output_dim]`; ids `>= input_dim` count as
    /// out-of-vocabulary (id 1).
    Embedding { input_dim: usize, output_dim: usize },
    /// Adds a learned vector per position to `[length, c]`.
    PositionEmbedding { length: usize },
    /// 1-D convolution over the sequence axis, stride 1 (separable: depthwise then pointwise).
    Conv1d {
        filters: usize,
        kernel: usize,
        padding: Padding,
        activation: Activation,
        separable: bool,
    },
    /// Max pooling over windows of `size` steps (stride `size`, valid padding).
    MaxPool1d { size: usize },
    /// Mean over the sequence axis: `[seq, c]` to `[c]`.
    GlobalAvgPool1d,
    /// Max over the sequence axis: `[seq, c]` to `[c]`.
    GlobalMaxPool1d,
    /// A recurrent layer of `units` cells; bidirectional layers concatenate both directions.
    /// Returns the whole sequence `[seq, units * dirs]` or the last state `[units * dirs]`.
    Rnn {
        kind: RnnKind,
        units: usize,
        bidirectional: bool,
        return_sequences: bool,
    },
    /// Layer normalisation over the last axis (epsilon 1e-6).
    LayerNorm,
    /// A Transformer encoder layer: multi-head self-attention (`num_heads` heads of
    /// `c / num_heads` dimensions), residual + layer norm, a feed-forward network of
    /// `dense_dim` ReLU units, residual + layer norm; dropout after attention and feed-forward.
    TransformerEncoder {
        num_heads: usize,
        dense_dim: usize,
        dropout: f32,
    },
    /// Token ids `[L]` to TF-IDF vectors over a table of unigrams and bigrams (count in the
    /// text times the table's inverse document frequency).
    TfIdf(NgramTable),
}

/// A layer's parameters by suffix (`kernel`, `bias`, ...).
pub(crate) type ParamFn<'a> = dyn Fn(&str) -> Result<&'a Tensor> + 'a;

/// Per-sample length of a token-id input (`[L]`, `[L, 1]` or `[L, 1, 1]`).
fn ids_length(name: &str, input: &[usize]) -> Result<usize> {
    match input {
        [l, rest @ ..] if rest.iter().all(|&d| d == 1) => Ok(*l),
        _ => Err(Error::BadShape(format!(
            "layer {name} takes token ids [length] (or [length, 1, 1]), got {input:?}"
        ))),
    }
}

/// `[seq, c]` of a sequence input.
fn seq_dims(name: &str, input: &[usize]) -> Result<(usize, usize)> {
    match input {
        [s, c] => Ok((*s, *c)),
        _ => Err(Error::BadShape(format!(
            "layer {name} takes sequences [steps, channels], got {input:?}; put an Embedding first"
        ))),
    }
}

const RNN_PARAMS: [&str; 4] = ["kernel", "recurrent_kernel", "bias", "recurrent_bias"];
const RNN_FORWARD: [&str; 4] = [
    "forward_kernel",
    "forward_recurrent_kernel",
    "forward_bias",
    "forward_recurrent_bias",
];
const RNN_BACKWARD: [&str; 4] = [
    "backward_kernel",
    "backward_recurrent_kernel",
    "backward_bias",
    "backward_recurrent_bias",
];

/// Parameter names of a recurrent layer, per direction (GRU has a recurrent bias, LSTM not).
fn rnn_names(bidirectional: bool) -> Vec<[&'static str; 4]> {
    if bidirectional {
        vec![RNN_FORWARD, RNN_BACKWARD]
    } else {
        vec![RNN_PARAMS]
    }
}

impl SequenceLayer {
    /// Keras's name of the layer type, for summaries.
    pub fn type_name(&self) -> &'static str {
        match self {
            SequenceLayer::TokenWindow { .. } => "TokenWindow",
            SequenceLayer::Embedding { .. } => "Embedding",
            SequenceLayer::PositionEmbedding { .. } => "PositionEmbedding",
            SequenceLayer::Conv1d {
                separable: true, ..
            } => "SeparableConv1D",
            SequenceLayer::Conv1d { .. } => "Conv1D",
            SequenceLayer::MaxPool1d { .. } => "MaxPooling1D",
            SequenceLayer::GlobalAvgPool1d => "GlobalAveragePooling1D",
            SequenceLayer::GlobalMaxPool1d => "GlobalMaxPooling1D",
            SequenceLayer::Rnn {
                kind: RnnKind::Lstm,
                bidirectional: false,
                ..
            } => "LSTM",
            SequenceLayer::Rnn {
                kind: RnnKind::Gru,
                bidirectional: false,
                ..
            } => "GRU",
            SequenceLayer::Rnn {
                kind: RnnKind::Lstm,
                ..
            } => "Bidirectional(LSTM)",
            SequenceLayer::Rnn { .. } => "Bidirectional(GRU)",
            SequenceLayer::LayerNorm => "LayerNormalization",
            SequenceLayer::TransformerEncoder { .. } => "TransformerEncoder",
            SequenceLayer::TfIdf(_) => "TfIdf",
        }
    }

    /// Parameter tensors, `(suffix, shape, trainable)`, given the per-sample input shape.
    pub(crate) fn param_shapes(&self, input: &[usize]) -> Vec<(&'static str, Vec<usize>, bool)> {
        let c = input.last().copied().unwrap_or(0);
        match self {
            SequenceLayer::Embedding {
                input_dim,
                output_dim,
            } => vec![("embeddings", vec![*input_dim, *output_dim], true)],
            SequenceLayer::PositionEmbedding { length } => {
                vec![("embeddings", vec![*length, c], true)]
            }
            SequenceLayer::Conv1d {
                filters,
                kernel,
                separable: false,
                ..
            } => vec![
                ("kernel", vec![*kernel, c, *filters], true),
                ("bias", vec![*filters], true),
            ],
            SequenceLayer::Conv1d {
                filters,
                kernel,
                separable: true,
                ..
            } => vec![
                ("depthwise", vec![*kernel, 1, c], true),
                ("pointwise", vec![1, c, *filters], true),
                ("bias", vec![*filters], true),
            ],
            SequenceLayer::Rnn {
                kind,
                units,
                bidirectional,
                ..
            } => {
                let g = recurrent::gates(*kind) * units;
                rnn_names(*bidirectional)
                    .into_iter()
                    .flat_map(|[k, rk, b, rb]| {
                        let mut v = vec![
                            (k, vec![c, g], true),
                            (rk, vec![*units, g], true),
                            (b, vec![g], true),
                        ];
                        if *kind == RnnKind::Gru {
                            v.push((rb, vec![g], true));
                        }
                        v
                    })
                    .collect()
            }
            SequenceLayer::LayerNorm => {
                vec![("gamma", vec![c], true), ("beta", vec![c], true)]
            }
            SequenceLayer::TransformerEncoder { dense_dim, .. } => {
                attention::param_shapes(c, *dense_dim)
            }
            _ => vec![],
        }
    }

    /// Output shape (per sample) for the input shape `input`; `name` is the node's name, for
    /// messages.
    pub(crate) fn output_shape(&self, name: &str, input: &[usize]) -> Result<Vec<usize>> {
        Ok(match self {
            SequenceLayer::TokenWindow { length, .. } => {
                ids_length(name, input)?;
                vec![*length]
            }
            SequenceLayer::Embedding { output_dim, .. } => {
                vec![ids_length(name, input)?, *output_dim]
            }
            SequenceLayer::PositionEmbedding { length } => {
                let (s, c) = seq_dims(name, input)?;
                if s != *length {
                    return Err(Error::BadShape(format!(
                        "layer {name} embeds {length} positions, the input has {s}"
                    )));
                }
                vec![s, c]
            }
            SequenceLayer::Conv1d {
                filters,
                kernel,
                padding,
                ..
            } => {
                let (s, _) = seq_dims(name, input)?;
                let out = match padding {
                    Padding::Same => Some(s),
                    Padding::Valid => (s + 1).checked_sub(*kernel).filter(|&o| o > 0),
                };
                let out = out.ok_or_else(|| {
                    Error::BadShape(format!(
                        "layer {name}: {s} steps are too few for a kernel of {kernel}; use shorter kernels, fewer blocks or longer sequences"
                    ))
                })?;
                vec![out, *filters]
            }
            SequenceLayer::MaxPool1d { size } => {
                let (s, c) = seq_dims(name, input)?;
                if s < *size || *size == 0 {
                    return Err(Error::BadShape(format!(
                        "layer {name}: {s} steps are too few to pool by {size}"
                    )));
                }
                vec![s / size, c]
            }
            SequenceLayer::GlobalAvgPool1d | SequenceLayer::GlobalMaxPool1d => {
                vec![seq_dims(name, input)?.1]
            }
            SequenceLayer::Rnn {
                units,
                bidirectional,
                return_sequences,
                ..
            } => {
                let (s, _) = seq_dims(name, input)?;
                let width = units * if *bidirectional { 2 } else { 1 };
                if *return_sequences {
                    vec![s, width]
                } else {
                    vec![width]
                }
            }
            SequenceLayer::LayerNorm => input.to_vec(),
            SequenceLayer::TransformerEncoder { num_heads, .. } => {
                let (s, c) = seq_dims(name, input)?;
                if *num_heads == 0 || c % num_heads != 0 {
                    return Err(Error::BadShape(format!(
                        "layer {name}: {c} channels cannot be split into {num_heads} attention heads"
                    )));
                }
                vec![s, c]
            }
            SequenceLayer::TfIdf(table) => {
                ids_length(name, input)?;
                vec![table.len()]
            }
        })
    }

    /// Initial values of parameter `suffix` (shape `shape`): Glorot-uniform kernels (He for
    /// convolutions followed by ReLU), orthogonal recurrent kernels, embeddings uniform in
    /// ±0.05, zero biases (1 for the LSTM forget gate), unit layer-norm scales.
    pub(crate) fn init_param(
        &self,
        suffix: &str,
        shape: &[usize],
        rng: &mut ChaCha8Rng,
    ) -> Vec<f32> {
        let n: usize = shape.iter().product();
        match (self, suffix) {
            (_, "embeddings") => init::uniform(n, 0.05, rng),
            (SequenceLayer::Conv1d { .. }, "kernel" | "depthwise" | "pointwise") => {
                let fan_in = shape[0] * shape[1];
                init::uniform(n, (6.0 / fan_in.max(1) as f64).sqrt(), rng)
            }
            (_, s) if s.ends_with("recurrent_kernel") => init::orthogonal(shape[0], shape[1], rng),
            (SequenceLayer::Rnn { kind, units, .. }, s) if s.ends_with("bias") => {
                let mut b = vec![0f32; n];
                if *kind == RnnKind::Lstm && !s.ends_with("recurrent_bias") {
                    b[*units..2 * units].iter_mut().for_each(|v| *v = 1.0);
                }
                b
            }
            (_, s) if s.ends_with("kernel") => {
                let (i, o) = (shape[0], shape[shape.len() - 1]);
                init::uniform(n, (6.0 / (i + o).max(1) as f64).sqrt(), rng)
            }
            (_, s) if s.ends_with("gamma") => vec![1.0; n],
            _ => vec![0.0; n],
        }
    }

    /// Runs the layer on a batch; `p` gives the layer's parameter by suffix.
    pub(crate) fn forward(&self, x: &Tensor, p: &ParamFn<'_>, phase: &mut Phase) -> Result<Tensor> {
        Ok(match self {
            SequenceLayer::TokenWindow { length, max_tokens } => {
                embedding::token_window(x, *length, *max_tokens)?
            }
            SequenceLayer::Embedding { input_dim, .. } => {
                embedding::embedding(x, p("embeddings")?, *input_dim)?
            }
            SequenceLayer::PositionEmbedding { .. } => x.broadcast_add(p("embeddings")?)?,
            SequenceLayer::Conv1d {
                kernel,
                padding,
                activation,
                separable,
                ..
            } => conv1d::conv1d(x, p, *kernel, *padding, *activation, *separable)?,
            SequenceLayer::MaxPool1d { size } => conv1d::max_pool1d(x, *size)?,
            SequenceLayer::GlobalAvgPool1d => x.mean(1)?,
            SequenceLayer::GlobalMaxPool1d => x.max(1)?,
            SequenceLayer::Rnn {
                kind,
                units,
                bidirectional,
                return_sequences,
            } => {
                let dirs = rnn_names(*bidirectional);
                let mut outs = Vec::with_capacity(dirs.len());
                for (d, [k, rk, b, rb]) in dirs.into_iter().enumerate() {
                    let w = recurrent::Weights {
                        kernel: p(k)?,
                        recurrent_kernel: p(rk)?,
                        bias: p(b)?,
                        recurrent_bias: if *kind == RnnKind::Gru {
                            Some(p(rb)?)
                        } else {
                            None
                        },
                    };
                    outs.push(recurrent::run(
                        x,
                        *kind,
                        *units,
                        &w,
                        d == 1,
                        *return_sequences,
                    )?);
                }
                if outs.len() == 1 {
                    outs.remove(0)
                } else {
                    Tensor::cat(&outs, outs[0].rank() - 1)?
                }
            }
            SequenceLayer::LayerNorm => attention::layer_norm(x, p("gamma")?, p("beta")?)?,
            SequenceLayer::TransformerEncoder {
                num_heads, dropout, ..
            } => attention::encoder(x, p, *num_heads, *dropout, phase)?,
            SequenceLayer::TfIdf(table) => table.transform(x)?,
        })
    }
}

#[cfg(test)]
mod tests;
