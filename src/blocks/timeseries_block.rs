//! TimeseriesBlock: the network over a window of a series (`[lookback, 1, columns]`).

use super::{node, Block, DataStats, DenseBlock};
use crate::error::{Error, Result};
use crate::graph::{Layer, Node};
use crate::hyperparameters::{HyperParameters, Tunable, Value};

/// The network family of a [`TimeseriesBlock`] (its `block_type` hyperparameter).
///
/// Extension point: AutoKeras also offers recurrent (`rnn`: LSTM/GRU over the time axis) and
/// 1-D convolutional (`conv1d`) blocks. They need sequence layers in `graph` (a `[batch, time,
/// features]` activation with Conv1D, LSTM and GRU); once those exist, add the variants here,
/// their names to [`TimeseriesBlockType::ALL`] and their branch to [`TimeseriesBlock::build`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeseriesBlockType {
    /// The flattened window goes straight to the head: a linear map from the last `lookback`
    /// points to the forecast (an autoregression; with per-window normalisation, DLinear's
    /// "NLinear"). Strong on small, regular series.
    Linear,
    /// The flattened window through a [`DenseBlock`] (a multi-layer perceptron).
    Dense,
}

impl TimeseriesBlockType {
    /// Every implemented family, as the hyperparameter spells it.
    pub const ALL: [&'static str; 2] = ["linear", "dense"];

    /// The hyperparameter value.
    pub fn as_str(self) -> &'static str {
        match self {
            TimeseriesBlockType::Linear => "linear",
            TimeseriesBlockType::Dense => "dense",
        }
    }
}

impl std::str::FromStr for TimeseriesBlockType {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "linear" => Ok(TimeseriesBlockType::Linear),
            "dense" => Ok(TimeseriesBlockType::Dense),
            other => Err(Error::Config(format!(
                "unknown time-series block type {other:?}: use linear or dense (rnn and conv1d are not implemented yet)"
            ))),
        }
    }
}

/// A window of a series to a vector of features for the head: `linear` (flatten) or `dense`
/// (flatten, then a DenseBlock).
#[derive(Debug, Clone)]
pub struct TimeseriesBlock {
    /// Block name.
    pub name: String,
    /// "linear" or "dense".
    pub block_type: Tunable<String>,
}

impl Default for TimeseriesBlock {
    fn default() -> Self {
        TimeseriesBlock {
            name: "timeseries_block_1".into(),
            block_type: Tunable::Tune,
        }
    }
}

impl Block for TimeseriesBlock {
    fn name(&self) -> &str {
        &self.name
    }

    fn build(
        &self,
        hp: &mut HyperParameters,
        stats: &DataStats,
        input: &[usize],
    ) -> Result<Vec<Node>> {
        hp.scoped(&self.name, |hp| {
            let types: Vec<String> = TimeseriesBlockType::ALL.map(String::from).to_vec();
            let chosen = self
                .block_type
                .choose(hp, "block_type", &types, "linear".into());
            let block_type: TimeseriesBlockType = chosen.parse()?;
            let parent = hp.full_name("block_type");
            let when = [Value::Str(chosen)];
            hp.conditional(&parent, &when, |hp| match block_type {
                TimeseriesBlockType::Linear => Ok(if input.len() > 1 {
                    vec![node(hp, "flatten", Layer::Flatten)]
                } else {
                    vec![]
                }),
                TimeseriesBlockType::Dense => DenseBlock::default().build(hp, stats, input),
            })
        })
    }
}
