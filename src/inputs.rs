//! The inputs of a multi-modal AutoModel (AutoKeras's `ImageInput` and `Input`): what each one
//! holds, how several are packed side by side into one array for the search, and the block that
//! turns each into a branch of the network and merges the branches.

use crate::blocks::{shape_after, Block, DataStats};
use crate::data::ImageData;
use crate::error::{Error, Result};
use crate::graph::{Branch, Layer, Merge, Node};
use crate::hyperparameters::HyperParameters;
use crate::preprocessing::{channel_stats, input_scale};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// What kind of data an input holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InputKind {
    /// Images `[h, w, c]` (AutoKeras's `ImageInput`); byte images are rescaled to 0..1.
    Image,
    /// Numbers used as they are, flattened to one feature vector (AutoKeras's `Input`).
    Numeric,
}

/// One input of a multi-input model: its kind and the per-sample shape of its arrays.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InputSpec {
    /// What the input holds.
    pub kind: InputKind,
    /// Per-sample shape `[h, w, c]` as the arrays come (`[1, 1, f]` for `f` numbers).
    pub shape: [usize; 3],
}

impl InputSpec {
    /// Values per sample.
    pub fn size(&self) -> usize {
        self.shape.iter().product()
    }

    /// The shape its branch of the network sees: images as they are, numbers flattened.
    pub fn branch_shape(&self) -> Vec<usize> {
        match self.kind {
            InputKind::Image => self.shape.to_vec(),
            InputKind::Numeric => vec![self.size()],
        }
    }
}

/// Packs several inputs of the same samples side by side into one `[n, 1, 1, Σ sizes]` array,
/// checking them against `specs` (count, order, shapes, sample counts).
///
/// ```
/// use autocandle::data::ImageData;
/// use autocandle::inputs::{pack, InputKind, InputSpec};
/// let img = ImageData::from_u8(vec![7; 2 * 2 * 2], &[2, 2, 2, 1])?;
/// let num = ImageData::from_f32(vec![0.5, 1.5], &[2, 1, 1, 1])?;
/// let specs = [
///     InputSpec { kind: InputKind::Image, shape: [2, 2, 1] },
///     InputSpec { kind: InputKind::Numeric, shape: [1, 1, 1] },
/// ];
/// let packed = pack(&[&img, &num], &specs)?;
/// assert_eq!(packed.shape, [2, 1, 1, 5]);
/// assert_eq!(packed.pixels.get(4), 0.5);
/// # Ok::<(), autocandle::Error>(())
/// ```
pub fn pack(inputs: &[&ImageData], specs: &[InputSpec]) -> Result<ImageData> {
    if inputs.len() != specs.len() {
        return Err(Error::Config(format!(
            "the model takes {} inputs but {} were given; pass one array per input, in order",
            specs.len(),
            inputs.len()
        )));
    }
    let n = inputs.first().map_or(0, |x| x.len());
    if n == 0 {
        return Err(Error::EmptyDataset("the inputs hold no samples".into()));
    }
    for (k, (x, s)) in inputs.iter().zip(specs).enumerate() {
        if x.image_shape() != s.shape {
            return Err(Error::BadShape(format!(
                "input {} has samples of shape {:?}, the model takes {:?}",
                k + 1,
                x.image_shape(),
                s.shape
            )));
        }
        if x.len() != n {
            return Err(Error::BadShape(format!(
                "input {} has {} samples, input 1 has {n}; every input needs one row per sample",
                k + 1,
                x.len()
            )));
        }
    }
    let width: usize = specs.iter().map(InputSpec::size).sum();
    let mut out = vec![0f32; n * width];
    for i in 0..n {
        let mut off = i * width;
        for (x, s) in inputs.iter().zip(specs) {
            let size = s.size();
            x.pixels
                .copy_range_into(i * size, &mut out[off..off + size]);
            off += size;
        }
    }
    ImageData::from_f32(out, &[n, 1, 1, width])
}

/// One input's branch as the search builds it: blocks, and what they may know of the data.
#[derive(Debug, Clone)]
pub(crate) struct InputBranch {
    pub spec: InputSpec,
    pub blocks: Vec<Arc<dyn Block>>,
    /// `1/255` for byte images, else 1.
    pub scale: f32,
    /// Per-channel statistics of the (rescaled) training inputs.
    pub stats: DataStats,
}

impl InputBranch {
    /// A branch over the training arrays `x`.
    pub fn new(kind: InputKind, blocks: Vec<Arc<dyn Block>>, x: &ImageData) -> Self {
        let scale = match kind {
            InputKind::Image => input_scale(x),
            InputKind::Numeric => 1.0,
        };
        InputBranch {
            spec: InputSpec {
                kind,
                shape: x.image_shape(),
            },
            blocks,
            scale,
            stats: channel_stats(x, scale),
        }
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
                let mut nodes = Vec::new();
                if (b.scale - 1.0).abs() > f32::EPSILON {
                    nodes.push(crate::blocks::node(
                        hp,
                        "rescaling",
                        Layer::Rescaling {
                            scale: b.scale,
                            offset: 0.0,
                        },
                    ));
                }
                for block in &b.blocks {
                    let s = shape_after(&nodes, &shape)?;
                    nodes.extend(block.build(hp, &b.stats, &s)?);
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
