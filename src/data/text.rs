//! In-memory text datasets: strings with their targets.

use super::dataset::Targets;
use crate::error::{Error, Result};

/// Texts with their targets.
#[derive(Debug, Clone, PartialEq)]
pub struct TextDataset {
    /// The texts.
    pub texts: Vec<String>,
    /// One target per text.
    pub y: Targets,
    /// Names of the classes, indexed by integer label, when the source defines them (IMDB:
    /// `neg`, `pos`).
    pub class_names: Option<Vec<String>>,
}

/// Decodes `bytes` as UTF-8; `what` names them in the error.
pub fn decode_utf8(bytes: Vec<u8>, what: impl FnOnce() -> String) -> Result<String> {
    String::from_utf8(bytes).map_err(|e| {
        let err = e.utf8_error();
        Error::NotUtf8 {
            what: what(),
            detail: format!("invalid byte sequence at byte {}", err.valid_up_to()),
        }
    })
}

impl TextDataset {
    /// Pairs texts with targets, checking that the counts agree, that there is at least one
    /// text, and that real targets are finite.
    ///
    /// ```
    /// use autocandle::data::TextDataset;
    /// let d = TextDataset::new(vec!["great".into(), "awful".into()], vec!["pos", "neg"]).unwrap();
    /// assert_eq!(d.len(), 2);
    /// assert!(TextDataset::new(vec![], Vec::<i64>::new()).is_err());
    /// ```
    pub fn new(texts: Vec<String>, y: impl Into<Targets>) -> Result<Self> {
        let y = y.into();
        if texts.len() != y.len() {
            return Err(Error::LengthMismatch {
                x: texts.len(),
                y: y.len(),
            });
        }
        if texts.is_empty() {
            return Err(Error::EmptyDataset("no texts were given".into()));
        }
        if let Targets::Float { values, .. } = &y {
            if let Some(index) = values.iter().position(|v| !v.is_finite()) {
                return Err(Error::NonFinite { what: "y", index });
            }
        }
        Ok(TextDataset {
            texts,
            y,
            class_names: None,
        })
    }

    /// Like [`TextDataset::new`] from raw bytes, which must be UTF-8: the error names the first
    /// text that is not.
    pub fn from_bytes(texts: Vec<Vec<u8>>, y: impl Into<Targets>) -> Result<Self> {
        let texts = texts
            .into_iter()
            .enumerate()
            .map(|(i, b)| decode_utf8(b, || format!("text {i}")))
            .collect::<Result<Vec<String>>>()?;
        Self::new(texts, y)
    }

    /// Number of texts.
    pub fn len(&self) -> usize {
        self.texts.len()
    }

    /// True when there are no texts.
    pub fn is_empty(&self) -> bool {
        self.texts.is_empty()
    }

    /// The samples at `indices`, in that order.
    pub fn select(&self, indices: &[usize]) -> TextDataset {
        TextDataset {
            texts: indices.iter().map(|&i| self.texts[i].clone()).collect(),
            y: self.y.select(indices),
            class_names: self.class_names.clone(),
        }
    }

    /// The first `n` samples (all of them when `n >= len`).
    pub fn take(&self, n: usize) -> TextDataset {
        let idx: Vec<usize> = (0..n.min(self.len())).collect();
        self.select(&idx)
    }
}

/// A text dataset's official train and test parts.
#[derive(Debug, Clone)]
pub struct TextSplit {
    /// Training part.
    pub train: TextDataset,
    /// Test part.
    pub test: TextDataset,
}
