//! TimeseriesBlock: the network over a window of a series (`[lookback, 1, columns]`).

use super::{
    node, shape_after, Block, ConvBlock, DataStats, DenseBlock, RnnBlock, SpatialReduction,
};
use crate::error::{Error, Result};
use crate::graph::{Activation, Branch, Layer, Merge, Node};
use crate::hyperparameters::{HyperParameters, Tunable, Value};

/// The network family of a [`TimeseriesBlock`] (its `block_type` hyperparameter).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeseriesBlockType {
    /// The flattened window goes straight to the head: a linear map from the last `lookback`
    /// points to the forecast (an autoregression; with per-window normalisation, DLinear's
    /// "NLinear"). Strong on small, regular series.
    Linear,
    /// The flattened window through a [`DenseBlock`] (a multi-layer perceptron).
    Dense,
    /// The window as a sequence `[lookback, columns]`, each step projected to `units` channels,
    /// through an [`RnnBlock`] (stacked LSTM or GRU layers); its last state goes to the head.
    Rnn,
    /// The window as a sequence `[lookback, columns]` through a 1-D [`ConvBlock`], then a
    /// [`SpatialReduction`] (flatten or global pooling over the steps).
    Conv1d,
}

impl TimeseriesBlockType {
    /// Every family, as the hyperparameter spells it.
    pub const ALL: [&'static str; 4] = ["linear", "dense", "rnn", "conv1d"];

    /// The hyperparameter value.
    pub fn as_str(self) -> &'static str {
        match self {
            TimeseriesBlockType::Linear => "linear",
            TimeseriesBlockType::Dense => "dense",
            TimeseriesBlockType::Rnn => "rnn",
            TimeseriesBlockType::Conv1d => "conv1d",
        }
    }
}

impl std::str::FromStr for TimeseriesBlockType {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "linear" => Ok(TimeseriesBlockType::Linear),
            "dense" => Ok(TimeseriesBlockType::Dense),
            "rnn" => Ok(TimeseriesBlockType::Rnn),
            "conv1d" => Ok(TimeseriesBlockType::Conv1d),
            other => Err(Error::Config(format!(
                "unknown time-series block type {other:?}: use one of {}",
                TimeseriesBlockType::ALL.join(", ")
            ))),
        }
    }
}

/// A window of a series to a vector of features for the head (AutoKeras's time-series
/// blocks): `linear` (flatten), `dense` (flatten, then a [`DenseBlock`]), `rnn` (per-step
/// projection to `units` channels, then an [`RnnBlock`]) or `conv1d` (a 1-D [`ConvBlock`],
/// then a [`SpatialReduction`]).
#[derive(Debug, Clone)]
pub struct TimeseriesBlock {
    /// Block name.
    pub name: String,
    /// "linear", "dense", "rnn" or "conv1d".
    pub block_type: Tunable<String>,
    /// Channels of the recurrent layers (`rnn` only): each step of the window is projected to
    /// this many before the [`RnnBlock`], whose layers have as many units as their input has
    /// channels.
    pub units: Tunable<i64>,
}

impl Default for TimeseriesBlock {
    fn default() -> Self {
        TimeseriesBlock {
            name: "timeseries_block_1".into(),
            block_type: Tunable::Tune,
            units: Tunable::Tune,
        }
    }
}

/// The window `[lookback, 1, columns]` (or `[lookback, columns]`, `[lookback]`) read as a
/// sequence `[steps, channels]`.
fn sequence_shape(name: &str, input: &[usize]) -> Result<Vec<usize>> {
    match input {
        [steps, rest @ ..] if *steps > 0 => Ok(vec![*steps, rest.iter().product()]),
        _ => Err(Error::BadShape(format!(
            "{name} takes a window [lookback, 1, columns], got {input:?}"
        ))),
    }
}

/// `body` (built on the sequence view of `input`) run on that view: when `input` is not
/// already `[steps, channels]`, the layers go into a one-branch [`Layer::Inputs`] node, which
/// reshapes each flat window to `[steps, channels]` and flattens the body's output.
fn over_sequence(
    hp: &mut HyperParameters,
    name: &str,
    input: &[usize],
    body: impl FnOnce(&mut HyperParameters, &[usize]) -> Result<Vec<Node>>,
) -> Result<Vec<Node>> {
    let shape = sequence_shape(name, input)?;
    let nodes = body(hp, &shape)?;
    if shape == input {
        return Ok(nodes);
    }
    let branch = Branch {
        offset: 0,
        shape,
        nodes,
    };
    let layer = Layer::Inputs {
        branches: vec![branch],
        merge: Merge::Concatenate,
    };
    Ok(vec![node(hp, "sequence", layer)])
}

impl TimeseriesBlock {
    /// Per-step projection to `units` channels, then the recurrent layers.
    fn rnn(&self, hp: &mut HyperParameters, stats: &DataStats, seq: &[usize]) -> Result<Vec<Node>> {
        let units = self
            .units
            .choose(hp, "units", &[16, 32, 64, 128], 32)
            .max(1) as usize;
        let mut nodes = vec![node(
            hp,
            "projection",
            Layer::Dense {
                units,
                activation: Activation::Linear,
            },
        )];
        let s = shape_after(&nodes, seq)?;
        nodes.extend(RnnBlock::default().build(hp, stats, &s)?);
        Ok(nodes)
    }

    /// 1-D convolutions over the steps, then flatten or global pooling.
    fn conv1d(
        &self,
        hp: &mut HyperParameters,
        stats: &DataStats,
        seq: &[usize],
    ) -> Result<Vec<Node>> {
        let mut nodes = ConvBlock::default().build(hp, stats, seq)?;
        let s = shape_after(&nodes, seq)?;
        nodes.extend(SpatialReduction::default().build(hp, stats, &s)?);
        Ok(nodes)
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
                TimeseriesBlockType::Rnn => {
                    over_sequence(hp, &self.name, input, |hp, s| self.rnn(hp, stats, s))
                }
                TimeseriesBlockType::Conv1d => {
                    over_sequence(hp, &self.name, input, |hp, s| self.conv1d(hp, stats, s))
                }
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn build(block_type: &str, input: &[usize]) -> Vec<Node> {
        let block = TimeseriesBlock {
            block_type: Tunable::Fixed(block_type.into()),
            ..Default::default()
        };
        let mut hp = HyperParameters::new();
        block.build(&mut hp, &DataStats::default(), input).unwrap()
    }

    #[test]
    fn sequence_blocks_read_the_window_as_steps_by_columns() {
        for t in ["rnn", "conv1d"] {
            let nodes = build(t, &[24, 1, 3]);
            let [n] = nodes.as_slice() else {
                panic!("{t}: one reshaping node expected, got {nodes:?}")
            };
            let Layer::Inputs { branches, .. } = &n.layer else {
                panic!("{t}: {n:?}")
            };
            assert_eq!(branches[0].shape, vec![24, 3]);
            let out = shape_after(&nodes, &[24, 1, 3]).unwrap();
            assert_eq!(out.len(), 1, "{t} gives a vector, got {out:?}");
        }
        // Default rnn: 32 units, two bidirectional LSTM layers → the last state of 64.
        assert_eq!(
            shape_after(&build("rnn", &[12, 1, 1]), &[12, 1, 1]).unwrap(),
            [64]
        );
        // Already a sequence: no reshaping node.
        let nodes = build("conv1d", &[12, 2]);
        assert!(nodes
            .iter()
            .all(|n| !matches!(n.layer, Layer::Inputs { .. })));
    }

    #[test]
    fn an_unknown_block_type_lists_the_known_ones() {
        let e = "lstm".parse::<TimeseriesBlockType>().unwrap_err();
        assert!(e.to_string().contains("linear, dense, rnn, conv1d"), "{e}");
    }
}
