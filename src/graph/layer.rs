//! The layers an architecture is made of.

use super::sequence::SequenceLayer;
use serde::{Deserialize, Serialize};

/// Activation applied after a layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Activation {
    /// Identity.
    #[default]
    Linear,
    /// `max(x, 0)`.
    Relu,
}

/// Keras's padding modes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Padding {
    /// No padding: the output shrinks by `kernel - 1`.
    #[default]
    Valid,
    /// Pad so that stride 1 keeps the size (odd kernels).
    Same,
}

/// One layer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum Layer {
    /// `x * scale + offset` (inputs from 0..255 to 0..1).
    Rescaling { scale: f32, offset: f32 },
    /// Per-channel standardisation with statistics adapted on the training data.
    Normalization { mean: Vec<f32>, variance: Vec<f32> },
    /// Random flips, translations and pad-and-crop of training batches; identity at inference.
    Augmentation {
        horizontal_flip: bool,
        translation: f32,
        pad_crop: usize,
    },
    /// 2-D convolution (separable: depthwise then pointwise).
    Conv2d {
        filters: usize,
        kernel: usize,
        stride: usize,
        padding: Padding,
        activation: Activation,
        separable: bool,
    },
    /// Fully connected.
    Dense {
        units: usize,
        activation: Activation,
    },
    /// Batch normalisation over the last axis.
    BatchNorm,
    /// An activation on its own.
    Activation { activation: Activation },
    /// Dropout (training only).
    Dropout { rate: f32 },
    /// Max pooling, valid padding.
    MaxPool { size: usize, stride: usize },
    /// Average pooling, valid padding.
    AvgPool { size: usize, stride: usize },
    /// Mean over height and width.
    GlobalAvgPool,
    /// Max over height and width.
    GlobalMaxPool,
    /// `[b, h, w, c]` to `[b, h*w*c]`.
    Flatten,
    /// `relu(main(x) + shortcut(x))`; an empty shortcut is the identity.
    Residual {
        main: Vec<Node>,
        shortcut: Vec<Node>,
    },
    /// Several inputs packed side by side in one flat sample: each branch takes its slice
    /// (`offset`, its shape), runs its layers, and the branches' outputs are merged.
    Inputs { branches: Vec<Branch>, merge: Merge },
    /// Several heads on the same features; their outputs are concatenated along the last axis
    /// in order (the architecture's head is a [`HeadKind::Multi`](super::HeadKind::Multi)).
    Heads { heads: Vec<Vec<Node>> },
    /// A layer on token ids or sequences `[b, seq, c]` (text networks).
    Sequence(SequenceLayer),
}

/// One input's part of a packed multi-input sample and the layers applied to it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Branch {
    /// Where the input starts in the flat packed sample.
    pub offset: usize,
    /// The input's own per-sample shape (`[h, w, c]` for images, `[f]` for features).
    pub shape: Vec<usize>,
    /// The layers of this input's branch.
    pub nodes: Vec<Node>,
}

impl Branch {
    /// Number of values the input takes in the packed sample.
    pub fn len(&self) -> usize {
        self.shape.iter().product()
    }

    /// True for an input of no values.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// How the branches of several inputs are joined (AutoKeras's `Merge` block).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Merge {
    /// Flatten each branch's output and concatenate the features.
    #[default]
    Concatenate,
    /// Add the outputs element-wise (all branches must give the same shape).
    Add,
}

/// A named layer with the block it belongs to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Node {
    /// Unique name; the weights are stored under `<name>.<param>`.
    pub name: String,
    /// The block that made it (`conv_block_1`), for summaries.
    pub block: String,
    /// The layer.
    pub layer: Layer,
}

impl Node {
    /// A node.
    pub fn new(name: impl Into<String>, block: impl Into<String>, layer: Layer) -> Self {
        Node {
            name: name.into(),
            block: block.into(),
            layer,
        }
    }
}

impl Layer {
    /// Short type name for summaries.
    pub fn type_name(&self) -> &'static str {
        match self {
            Layer::Rescaling { .. } => "Rescaling",
            Layer::Normalization { .. } => "Normalization",
            Layer::Augmentation { .. } => "Augmentation",
            Layer::Conv2d {
                separable: true, ..
            } => "SeparableConv2D",
            Layer::Conv2d { .. } => "Conv2D",
            Layer::Dense { .. } => "Dense",
            Layer::BatchNorm => "BatchNormalization",
            Layer::Activation { .. } => "Activation",
            Layer::Dropout { .. } => "Dropout",
            Layer::MaxPool { .. } => "MaxPooling2D",
            Layer::AvgPool { .. } => "AveragePooling2D",
            Layer::GlobalAvgPool => "GlobalAveragePooling2D",
            Layer::GlobalMaxPool => "GlobalMaxPooling2D",
            Layer::Flatten => "Flatten",
            Layer::Residual { .. } => "Residual",
            Layer::Inputs { .. } => "Merge",
            Layer::Heads { .. } => "Heads",
            Layer::Sequence(s) => s.type_name(),
        }
    }
}
