//! RNNBlock: stacked (bidirectional) LSTM or GRU layers.

use super::{node, Block, DataStats};
use crate::error::{Error, Result};
use crate::graph::{Layer, Node, RnnKind, SequenceLayer};
use crate::hyperparameters::{HyperParameters, Tunable};

/// AutoKeras's `RNNBlock`: 1–3 recurrent layers (LSTM or GRU, optionally bidirectional), each
/// with as many units as the input has channels. Takes `[steps, c]`; gives the last state
/// `[c * dirs]`, or every state `[steps, c * dirs]` with `return_sequences`.
#[derive(Debug, Clone)]
pub struct RnnBlock {
    /// Block name.
    pub name: String,
    /// Return every step's state from the last layer instead of the last one.
    pub return_sequences: bool,
    /// Run each layer both ways and concatenate.
    pub bidirectional: Tunable<bool>,
    /// Number of layers.
    pub num_layers: Tunable<i64>,
    /// "lstm" or "gru".
    pub layer_type: Tunable<String>,
}

impl Default for RnnBlock {
    fn default() -> Self {
        RnnBlock {
            name: "rnn_block_1".into(),
            return_sequences: false,
            bidirectional: Tunable::Tune,
            num_layers: Tunable::Tune,
            layer_type: Tunable::Tune,
        }
    }
}

impl Block for RnnBlock {
    fn name(&self) -> &str {
        &self.name
    }

    fn build(
        &self,
        hp: &mut HyperParameters,
        _stats: &DataStats,
        input: &[usize],
    ) -> Result<Vec<Node>> {
        let [_, units] = input else {
            return Err(Error::BadShape(format!(
                "{} takes sequences [steps, channels], got {input:?}; put an Embedding first",
                self.name
            )));
        };
        hp.scoped(&self.name, |hp| {
            let bidirectional = self.bidirectional.choose_bool(hp, "bidirectional", true);
            let num_layers = self
                .num_layers
                .choose(hp, "num_layers", &[1, 2, 3], 2)
                .max(1);
            let types = ["gru".to_string(), "lstm".to_string()];
            let kind = match self
                .layer_type
                .choose(hp, "layer_type", &types, "lstm".into())
                .as_str()
            {
                "gru" => RnnKind::Gru,
                _ => RnnKind::Lstm,
            };
            Ok((0..num_layers)
                .map(|i| {
                    let last = i == num_layers - 1;
                    let layer = SequenceLayer::Rnn {
                        kind,
                        units: *units,
                        bidirectional,
                        return_sequences: !last || self.return_sequences,
                    };
                    node(hp, &format!("rnn_{i}"), Layer::Sequence(layer))
                })
                .collect())
        })
    }
}
