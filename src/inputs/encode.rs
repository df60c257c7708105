//! Raw input values to the arrays the network takes: fitting each input's encoder on its
//! training values, and encoding new values with the fitted encoders.

use super::{
    check_count, check_rows, pack, Input, InputBranch, InputData, InputEncoder, InputKind,
    InputSpec,
};
use crate::blocks::{Block, TextBlock, TextStats};
use crate::data::{ImageData, Pixels};
use crate::error::{Error, Result};
use crate::graph::NgramTable;
#[cfg(feature = "tables")]
use crate::preprocessing::TableEncoder;
use crate::preprocessing::Tokenizer;
use std::borrow::Cow;
use std::sync::Arc;

/// Whether an input of `kind` takes `data`.
fn accepts(kind: InputKind, data: &InputData<'_>) -> bool {
    match (kind, data) {
        (InputKind::Image | InputKind::Numeric, InputData::Array(_)) => true,
        (InputKind::Text, InputData::Texts(_)) => true,
        #[cfg(feature = "tables")]
        (InputKind::StructuredData, InputData::Table(_)) => true,
        (InputKind::Timeseries, InputData::Windows(_) | InputData::Array(_)) => true,
        _ => false,
    }
}

/// What an input of `kind` takes, for messages.
fn expected(kind: InputKind) -> &'static str {
    match kind {
        InputKind::Image | InputKind::Numeric => {
            "an array (InputData::Array, e.g. `InputData::from(&images)`)"
        }
        InputKind::Text => "raw strings (InputData::Texts, e.g. `InputData::from(&texts)`)",
        InputKind::StructuredData => "a DataFrame (InputData::Table, e.g. `InputData::from(&df)`)",
        InputKind::Timeseries => "windows [n, steps, 1, channels] (InputData::Windows)",
    }
}

/// Checks the values `x` against inputs of `kinds`: one value per input, of the kind's sort,
/// with the same number of samples (at least one) in each.
pub(crate) fn check_inputs(x: &[InputData<'_>], kinds: &[InputKind]) -> Result<()> {
    check_count(x.len(), kinds.len())?;
    for (k, (data, kind)) in x.iter().zip(kinds).enumerate() {
        if !accepts(*kind, data) {
            return Err(Error::Config(format!(
                "input {} is {}: give it {}, not {}",
                k + 1,
                kind.describe(),
                expected(*kind),
                data.describe()
            )));
        }
    }
    let n = x.first().map_or(0, InputData::rows);
    if n == 0 {
        return Err(Error::EmptyDataset("the inputs hold no samples".into()));
    }
    for (k, data) in x.iter().enumerate() {
        check_rows(k, data.rows(), n)?;
    }
    Ok(())
}

/// Encodes one value per input with the fitted `specs` and packs them side by side
/// (`[n, 1, 1, Σ sizes]`): texts through their tokenizer, tables through their column encoders,
/// arrays and windows as they are.
pub fn encode(x: &[InputData<'_>], specs: &[InputSpec]) -> Result<ImageData> {
    let kinds: Vec<InputKind> = specs.iter().map(|s| s.kind).collect();
    check_inputs(x, &kinds)?;
    let arrays = x
        .iter()
        .zip(specs)
        .enumerate()
        .map(|(k, (data, spec))| encode_one(k, spec, data))
        .collect::<Result<Vec<_>>>()?;
    let refs: Vec<&ImageData> = arrays.iter().map(|a| a.as_ref()).collect();
    pack(&refs, specs)
}

/// Input `k`'s values as the array its branch takes (the kind was checked).
fn encode_one<'a>(k: usize, spec: &InputSpec, data: &InputData<'a>) -> Result<Cow<'a, ImageData>> {
    let missing = || {
        Error::Config(format!(
            "input {} ({}) has no fitted encoder: use a model trained on raw values",
            k + 1,
            spec.kind.describe()
        ))
    };
    Ok(match (data, &spec.encoder) {
        (InputData::Array(x) | InputData::Windows(x), _) => Cow::Borrowed(*x),
        (InputData::Texts(t), Some(InputEncoder::Tokenizer(tok))) => {
            Cow::Owned(tok.encode_batch(t)?)
        }
        #[cfg(feature = "tables")]
        (InputData::Table(df), Some(InputEncoder::Table(enc))) => Cow::Owned(enc.transform(df)?),
        _ => return Err(missing()),
    })
}

/// Fits input `k`'s encoder on its training values `data` and makes its branch (the given
/// `blocks`, or the input's default block); returns it with the encoded training array.
pub(crate) fn fit_input<'a>(
    k: usize,
    input: &Input,
    blocks: &[Arc<dyn Block>],
    data: &InputData<'a>,
) -> Result<(InputBranch, Cow<'a, ImageData>)> {
    let kind = input.kind();
    let mut block_list: Vec<Arc<dyn Block>> = if blocks.is_empty() {
        vec![Arc::from(input.default_block())]
    } else {
        blocks.to_vec()
    };
    let (x, encoder) = match (input, data) {
        (Input::Text(settings), InputData::Texts(texts)) => {
            let tok = Tokenizer::fit(texts, settings.max_tokens, settings.sequence_length)?;
            let ids = tok.encode_batch(texts)?;
            if blocks.is_empty() {
                let block = TextBlock {
                    text: Some(Arc::new(text_stats(&tok, &ids, settings.max_tokens))),
                    ..settings.block.clone()
                };
                block_list = vec![Arc::new(block)];
            }
            (Cow::Owned(ids), Some(InputEncoder::Tokenizer(tok)))
        }
        #[cfg(feature = "tables")]
        (Input::StructuredData(spec), InputData::Table(df)) => {
            let enc = TableEncoder::fit_features(df, spec)?;
            (
                Cow::Owned(enc.transform(df)?),
                Some(InputEncoder::Table(enc)),
            )
        }
        (Input::Timeseries, InputData::Windows(x) | InputData::Array(x)) => {
            if x.shape[2] != 1 {
                return Err(Error::BadShape(format!(
                    "input {} is a time-series input: its windows are [n, steps, 1, channels], got {:?}; build them with ImageData::from_f32(values, &[n, steps, 1, channels])",
                    k + 1,
                    x.shape
                )));
            }
            (Cow::Borrowed(*x), None)
        }
        (Input::Image | Input::Numeric, InputData::Array(x)) => (Cow::Borrowed(*x), None),
        _ => {
            return Err(Error::Config(format!(
                "input {} is {}: give it {}, not {}",
                k + 1,
                kind.describe(),
                expected(kind),
                data.describe()
            )))
        }
    };
    let spec = InputSpec {
        kind,
        shape: x.image_shape(),
        encoder,
    };
    Ok((InputBranch::new(spec, block_list, &x), x))
}

/// What a TextBlock knows of the training texts: the vocabulary size and the n-gram table.
fn text_stats(tok: &Tokenizer, ids: &ImageData, max_tokens: usize) -> TextStats {
    let ngrams = match &ids.pixels {
        Pixels::F32(ids) => NgramTable::fit(ids, tok.sequence_length, max_tokens),
        Pixels::U8(_) => NgramTable {
            ngrams: vec![],
            idf: vec![],
        },
    };
    TextStats {
        vocabulary_size: tok.vocabulary_size(),
        ngrams: Arc::new(ngrams),
    }
}
