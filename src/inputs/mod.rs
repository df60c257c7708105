//! The inputs of a multi-modal AutoModel (AutoKeras's `ImageInput`, `Input`, `TextInput`,
//! `StructuredDataInput` and `TimeseriesInput`): how each is declared ([`Input`]), the raw values
//! it takes at fit and predict time ([`InputData`]), the state fitted on its training values that
//! travels with the model ([`InputSpec`], [`InputEncoder`]), how several are encoded and packed
//! side by side into one array for the network ([`encode`], [`pack`]), and the block that turns
//! each into a branch of the network and merges the branches.

mod branch;
mod data;
mod encode;
mod input;

pub(crate) use branch::{InputBranch, InputsBlock};
pub(crate) use data::to_inputs;
pub use data::InputData;
pub use encode::encode;
pub(crate) use encode::{check_inputs, fit_input};
pub use input::{Input, TextInput};

use crate::data::ImageData;
use crate::error::{Error, Result};
use crate::preprocessing::{TableEncoder, Tokenizer};
use serde::{Deserialize, Serialize};

/// What kind of data an input holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InputKind {
    /// Images `[h, w, c]` (AutoKeras's `ImageInput`); byte images are rescaled to 0..1.
    Image,
    /// Numbers used as they are, flattened to one feature vector (AutoKeras's `Input`).
    Numeric,
    /// Raw strings (AutoKeras's `TextInput`), turned into token ids by a tokenizer fitted on the
    /// training texts.
    Text,
    /// A table (AutoKeras's `StructuredDataInput`), turned into features by column encoders
    /// fitted on the training rows.
    StructuredData,
    /// A window of a series per sample, `[steps, 1, channels]` (AutoKeras's
    /// `TimeseriesInput`), standardised per channel with the training statistics.
    Timeseries,
}

impl InputKind {
    /// The kind as a sentence part, for messages ("a text input").
    pub fn describe(self) -> &'static str {
        match self {
            InputKind::Image => "an image input",
            InputKind::Numeric => "a numeric input",
            InputKind::Text => "a text input",
            InputKind::StructuredData => "a structured-data input",
            InputKind::Timeseries => "a time-series input",
        }
    }
}

/// The state fitted on an input's training values that turns raw values into the arrays the
/// network takes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InputEncoder {
    /// A text input's tokenizer.
    Tokenizer(Tokenizer),
    /// A structured-data input's column encoders.
    Table(TableEncoder),
}

/// One input of a multi-input model: its kind, the per-sample shape of its encoded arrays and,
/// for texts and tables, the fitted encoder.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InputSpec {
    /// What the input holds.
    pub kind: InputKind,
    /// Per-sample shape `[h, w, c]` of the encoded arrays (`[1, 1, f]` for `f` numbers or table
    /// features, `[sequence_length, 1, 1]` for token ids, `[steps, 1, channels]` for windows).
    pub shape: [usize; 3],
    /// The tokenizer or column encoders of a text or structured-data input.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encoder: Option<InputEncoder>,
}

impl InputSpec {
    /// An input of `kind` taking arrays of per-sample `shape`, with no encoder.
    pub fn new(kind: InputKind, shape: [usize; 3]) -> Self {
        InputSpec {
            kind,
            shape,
            encoder: None,
        }
    }

    /// Values per sample.
    pub fn size(&self) -> usize {
        self.shape.iter().product()
    }

    /// The shape its branch of the network sees: images, token ids and windows as they are,
    /// numbers and table features flattened.
    pub fn branch_shape(&self) -> Vec<usize> {
        match self.kind {
            InputKind::Image | InputKind::Text | InputKind::Timeseries => self.shape.to_vec(),
            InputKind::Numeric | InputKind::StructuredData => vec![self.size()],
        }
    }
}

/// Packs several encoded inputs of the same samples side by side into one `[n, 1, 1, Σ sizes]`
/// array, checking them against `specs` (count, order, shapes, sample counts). Raw texts and
/// tables go through [`encode`] instead.
///
/// ```
/// use autocandle::data::ImageData;
/// use autocandle::inputs::{pack, InputKind, InputSpec};
/// let img = ImageData::from_u8(vec![7; 2 * 2 * 2], &[2, 2, 2, 1])?;
/// let num = ImageData::from_f32(vec![0.5, 1.5], &[2, 1, 1, 1])?;
/// let specs = [
///     InputSpec::new(InputKind::Image, [2, 2, 1]),
///     InputSpec::new(InputKind::Numeric, [1, 1, 1]),
/// ];
/// let packed = pack(&[&img, &num], &specs)?;
/// assert_eq!(packed.shape, [2, 1, 1, 5]);
/// assert_eq!(packed.pixels.get(4), 0.5);
/// # Ok::<(), autocandle::Error>(())
/// ```
pub fn pack(inputs: &[&ImageData], specs: &[InputSpec]) -> Result<ImageData> {
    check_count(inputs.len(), specs.len())?;
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
        check_rows(k, x.len(), n)?;
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

/// `given` inputs for a model of `expected` ones.
fn check_count(given: usize, expected: usize) -> Result<()> {
    if given != expected {
        return Err(Error::Config(format!(
            "the model takes {expected} inputs but {given} were given; pass one value per input, in the order of the inputs"
        )));
    }
    Ok(())
}

/// Input `k` (0-based) has `rows` samples where input 1 has `n`.
fn check_rows(k: usize, rows: usize, n: usize) -> Result<()> {
    if rows != n {
        return Err(Error::BadShape(format!(
            "input {} has {rows} samples, input 1 has {n}; every input needs one row per sample",
            k + 1
        )));
    }
    Ok(())
}
