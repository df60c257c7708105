//! Each input's branch of the network, and the block that builds the branches and merges them.

use super::{InputKind, InputSpec};
use crate::blocks::{node, shape_after, Block, DataStats};
use crate::data::ImageData;
use crate::error::Result;
use crate::graph::{Branch, Layer, Merge, Node};
use crate::hyperparameters::HyperParameters;
use crate::preprocessing::{channel_stats, input_scale};
use std::sync::Arc;

/// One input's branch as the search builds it: blocks, and what they may know of the data.
#[derive(Debug, Clone)]
pub(crate) struct InputBranch {
    pub spec: InputSpec,
    pub blocks: Vec<Arc<dyn Block>>,
    /// `1/255` for byte images, else 1.
    pub scale: f32,
    /// Per-channel statistics of the (rescaled) training arrays.
    pub stats: DataStats,
}

impl InputBranch {
    /// A branch over the encoded training arrays `x`.
    pub fn new(spec: InputSpec, blocks: Vec<Arc<dyn Block>>, x: &ImageData) -> Self {
        let scale = match spec.kind {
            InputKind::Image => input_scale(x),
            _ => 1.0,
        };
        InputBranch {
            spec,
            blocks,
            scale,
            stats: channel_stats(x, scale),
        }
    }

    /// The layers before the blocks: rescaling of byte images, per-channel standardisation of
    /// windows (a constant channel is only centred). Returns them with the statistics the
    /// blocks see.
    fn first_layers(&self, hp: &HyperParameters) -> (Vec<Node>, DataStats) {
        let mut nodes = Vec::new();
        if (self.scale - 1.0).abs() > f32::EPSILON {
            let layer = Layer::Rescaling {
                scale: self.scale,
                offset: 0.0,
            };
            nodes.push(node(hp, "rescaling", layer));
        }
        if self.spec.kind != InputKind::Timeseries {
            return (nodes, self.stats.clone());
        }
        let variance = self
            .stats
            .channel_var
            .iter()
            .map(|&v| if v < 1e-8 { 1.0 } else { v })
            .collect();
        let layer = Layer::Normalization {
            mean: self.stats.channel_mean.clone(),
            variance,
        };
        nodes.push(node(hp, "normalization", layer));
        let c = self.stats.channel_mean.len();
        let unit = DataStats {
            channel_mean: vec![0.0; c],
            channel_var: vec![1.0; c],
        };
        (nodes, unit)
    }
}

/// The first block of a multi-input network: each input's blocks on its own slice of the
/// packed sample (scoped `input_1/...`, `input_2/...`), then a merge.
#[derive(Debug)]
pub(crate) struct InputsBlock {
    pub branches: Vec<InputBranch>,
    pub merge: Merge,
}

impl Block for InputsBlock {
    fn name(&self) -> &str {
        "merge_1"
    }

    fn build(
        &self,
        hp: &mut HyperParameters,
        _stats: &DataStats,
        _input: &[usize],
    ) -> Result<Vec<Node>> {
        let mut branches = Vec::with_capacity(self.branches.len());
        let mut offset = 0;
        for (k, b) in self.branches.iter().enumerate() {
            let scope = format!("input_{}", k + 1);
            let shape = b.spec.branch_shape();
            let nodes = hp.scoped(&scope, |hp| -> Result<Vec<Node>> {
                let (mut nodes, stats) = b.first_layers(hp);
                for block in &b.blocks {
                    let s = shape_after(&nodes, &shape)?;
                    nodes.extend(block.build(hp, &stats, &s)?);
                }
                Ok(nodes)
            })?;
            branches.push(Branch {
                offset,
                shape,
                nodes,
            });
            offset += b.spec.size();
        }
        Ok(vec![Node::new(
            "merge_1",
            "merge_1",
            Layer::Inputs {
                branches,
                merge: self.merge,
            },
        )])
    }
}
