//! How an input of a multi-modal search is declared, with its settings and default block.

use super::InputKind;
use crate::blocks::{
    Block, DenseBlock, ImageBlock, StructuredDataBlock, TextBlock, TimeseriesBlock,
};
use crate::preprocessing::TableSpec;

/// Default size of a text input's vocabulary (and of its TF-IDF n-gram table).
pub const TEXT_MAX_TOKENS: usize = 20_000;
/// Default number of token ids kept per text.
pub const TEXT_SEQUENCE_LENGTH: usize = 512;

/// The settings of a text input (AutoKeras's `TextInput`): the tokenizer fitted at fit time and
/// the search space of the input's default [`TextBlock`].
#[derive(Debug, Clone)]
pub struct TextInput {
    /// Size of the tokenizer's vocabulary and of the n-gram table (default 20,000).
    pub max_tokens: usize,
    /// Token ids kept per text (default 512); sequence networks take the first ones.
    pub sequence_length: usize,
    /// The branch's block when no blocks are given: fix or restrict its arguments here. The
    /// vocabulary it needs ([`TextBlock::text`]) is filled in at fit time.
    pub block: TextBlock,
}

impl Default for TextInput {
    fn default() -> Self {
        TextInput {
            max_tokens: TEXT_MAX_TOKENS,
            sequence_length: TEXT_SEQUENCE_LENGTH,
            block: TextBlock::default(),
        }
    }
}

/// An input of a multi-modal search as declared, with its settings (AutoKeras's `ImageInput`,
/// `Input`, `TextInput`, `StructuredDataInput`, `TimeseriesInput`). An [`InputKind`] converts
/// into it with default settings.
///
/// Given no blocks, an input's branch is its kind's default block: `ImageBlock`, `DenseBlock`,
/// the `TextBlock` of [`TextInput::block`], `StructuredDataBlock` or `TimeseriesBlock`.
///
/// ```
/// use autocandle::inputs::{Input, InputKind, TextInput};
/// use autocandle::preprocessing::TableSpec;
/// let text = Input::Text(TextInput { sequence_length: 64, ..Default::default() });
/// assert_eq!(text.kind(), InputKind::Text);
/// let table = Input::StructuredData(TableSpec {
///     column_names: Some(vec!["age".into(), "fare".into()]),
///     ..Default::default()
/// });
/// assert_eq!(table.kind(), InputKind::StructuredData);
/// assert_eq!(Input::from(InputKind::Timeseries).kind(), InputKind::Timeseries);
/// ```
#[derive(Debug, Clone)]
pub enum Input {
    /// Images (`InputData::Array`, `[n, h, w, c]`).
    Image,
    /// Numbers (`InputData::Array`), flattened.
    Numeric,
    /// Raw strings (`InputData::Texts`), tokenized.
    Text(TextInput),
    /// A DataFrame (`InputData::Table`); the spec picks and types the feature columns (all
    /// columns by default: leave the targets out of the table).
    StructuredData(TableSpec),
    /// Windows (`InputData::Windows`, `[n, steps, 1, channels]`).
    Timeseries,
}

impl Input {
    /// The input's kind.
    pub fn kind(&self) -> InputKind {
        match self {
            Input::Image => InputKind::Image,
            Input::Numeric => InputKind::Numeric,
            Input::Text(_) => InputKind::Text,
            Input::StructuredData(_) => InputKind::StructuredData,
            Input::Timeseries => InputKind::Timeseries,
        }
    }

    /// The default block of a branch given no blocks (a text input's is completed at fit time).
    pub(crate) fn default_block(&self) -> Box<dyn Block> {
        match self {
            Input::Image => Box::new(ImageBlock::default()),
            Input::Numeric => Box::new(DenseBlock::default()),
            Input::Text(t) => Box::new(t.block.clone()),
            Input::StructuredData(_) => Box::new(StructuredDataBlock::default()),
            Input::Timeseries => Box::new(TimeseriesBlock::default()),
        }
    }
}

impl From<InputKind> for Input {
    fn from(kind: InputKind) -> Self {
        match kind {
            InputKind::Image => Input::Image,
            InputKind::Numeric => Input::Numeric,
            InputKind::Text => Input::Text(TextInput::default()),
            InputKind::StructuredData => Input::StructuredData(TableSpec::default()),
            InputKind::Timeseries => Input::Timeseries,
        }
    }
}

impl From<TextInput> for Input {
    fn from(t: TextInput) -> Self {
        Input::Text(t)
    }
}

impl From<TableSpec> for Input {
    fn from(spec: TableSpec) -> Self {
        Input::StructuredData(spec)
    }
}
