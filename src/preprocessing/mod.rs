//! State fitted on the training data that travels with the model: the label encoder, the input
//! scale and the per-channel statistics, the tokenizer of text models, the column encoders of
//! tables.

mod columns;
mod series;
#[cfg(feature = "tables")]
mod table_frame;
mod tokenizer;

pub use columns::{
    auto_bins, ColumnEncoder, ColumnType, Encoding, NumericScaler, TableEncoder, TableSpec,
    TargetScaler, ValueKind, CATEGORICAL_UNIQUE_RATIO, LOG_SKEWNESS, MAX_CATEGORIES,
    MOSTLY_NUMERIC,
};
pub use series::{check_horizon, multiplicative, SeriesPreprocessing, WindowNorm, Windows};
#[cfg(feature = "tables")]
pub use table_frame::{class_targets, regression_targets};
pub use tokenizer::{tokenize, Tokenizer, OOV, PAD};

use crate::blocks::DataStats;
use crate::data::{ImageData, Targets};
use crate::error::{Error, Result};
use crate::training::EncodedTargets;
use serde::{Deserialize, Serialize};

/// A class label as the user gave it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Label {
    /// An integer label.
    Int(i64),
    /// A string label.
    Str(String),
}

impl std::fmt::Display for Label {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Label::Int(v) => write!(f, "{v}"),
            Label::Str(v) => write!(f, "{v}"),
        }
    }
}

/// Maps the user's labels to class indices 0..k (sorted order) and back.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LabelEncoder {
    /// The classes; index = encoded value.
    pub classes: Vec<Label>,
}

fn labels_of(y: &Targets) -> Result<Vec<Label>> {
    match y {
        Targets::Int(v) => Ok(v.iter().map(|&i| Label::Int(i)).collect()),
        Targets::Str(v) => Ok(v.iter().map(|s| Label::Str(s.clone())).collect()),
        Targets::Float { .. } => Err(Error::Config(
            "classification targets must be integer or string labels, got real values".into(),
        )),
    }
}

impl LabelEncoder {
    /// Learns the classes of `y`; fails with fewer than two.
    pub fn fit(y: &Targets) -> Result<Self> {
        let mut classes = labels_of(y)?;
        classes.sort();
        classes.dedup();
        if classes.len() < 2 {
            return Err(Error::TooFewClasses {
                found: classes.len(),
            });
        }
        Ok(LabelEncoder { classes })
    }

    /// The classes as the user wrote them, comma-separated: `n, p`.
    pub fn class_list(&self) -> String {
        let names: Vec<String> = self.classes.iter().map(Label::to_string).collect();
        names.join(", ")
    }

    /// Class indices of `y`; a label never seen in training is an error.
    pub fn encode(&self, y: &Targets) -> Result<Vec<u32>> {
        labels_of(y)?
            .iter()
            .map(|l| {
                self.classes
                    .binary_search(l)
                    .map(|i| i as u32)
                    .map_err(|_| {
                        Error::Config(format!(
                            "label {l} was not among the training classes {}",
                            self.class_list()
                        ))
                    })
            })
            .collect()
    }
}

/// Everything outside the network that `predict` needs.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Preprocessing {
    /// Per-sample input shape the model expects.
    pub input_shape: Vec<usize>,
    /// Classification: the label encoder.
    pub label_encoder: Option<LabelEncoder>,
    /// Class names from the dataset, indexed by integer label, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub class_names: Option<Vec<String>>,
    /// A multi-input model: its inputs in packing order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub inputs: Vec<crate::inputs::InputSpec>,
    /// A multi-task model: each head's label encoder (`None` for regression heads).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub head_encoders: Vec<Option<LabelEncoder>>,
    /// Time series: the window settings and scalers, and the end of the training series.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub series: Option<SeriesPreprocessing>,
    /// Text models: the tokenizer that turns raw strings into the ids the network takes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tokenizer: Option<Tokenizer>,
    /// Tables: the column encoders that turn a raw DataFrame into the features the network
    /// takes (and, for regression, the target's standardisation).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub columns: Option<TableEncoder>,
}

impl Preprocessing {
    /// The standardisation of a regression target, when the model was trained on one.
    pub fn target_scaler(&self) -> Option<&TargetScaler> {
        self.columns.as_ref().and_then(|c| c.target_scaler.as_ref())
    }

    /// The label encoder of head `k` (the only head's when the model has one).
    pub fn encoder(&self, k: usize) -> Option<&LabelEncoder> {
        if self.head_encoders.is_empty() {
            self.label_encoder.as_ref().filter(|_| k == 0)
        } else {
            self.head_encoders.get(k).and_then(Option::as_ref)
        }
    }

    /// Encodes one set of targets per head (a single set for a single-head model).
    pub fn encode_head_targets(&self, targets: &[&Targets]) -> Result<EncodedTargets> {
        let heads = self.head_encoders.len().max(1);
        if targets.len() != heads {
            return Err(Error::Config(format!(
                "the model has {heads} head(s) but {} set(s) of targets were given; give one per head, in order",
                targets.len()
            )));
        }
        if self.head_encoders.is_empty() {
            return encode_targets(targets[0], self.label_encoder.as_ref());
        }
        let parts = targets
            .iter()
            .enumerate()
            .map(|(k, y)| encode_targets(y, self.encoder(k)))
            .collect::<Result<Vec<_>>>()?;
        Ok(EncodedTargets::Multi(parts))
    }
}

/// Encodes targets for a classification or regression head.
pub fn encode_targets(y: &Targets, encoder: Option<&LabelEncoder>) -> Result<EncodedTargets> {
    match (encoder, y) {
        (Some(e), _) => Ok(EncodedTargets::Classes(e.encode(y)?)),
        (None, Targets::Float { values, dim }) => Ok(EncodedTargets::Values {
            values: values.clone(),
            dim: *dim,
        }),
        (None, Targets::Int(v)) => Ok(EncodedTargets::Values {
            values: v.iter().map(|&i| i as f32).collect(),
            dim: 1,
        }),
        (None, Targets::Str(_)) => Err(Error::Config(
            "regression targets must be numbers, got strings".into(),
        )),
    }
}

/// `1/255` for byte-range images, else 1.
pub fn input_scale(x: &ImageData) -> f32 {
    let max = (0..x.pixels.len())
        .step_by(7)
        .map(|i| x.pixels.get(i))
        .fold(0f32, f32::max);
    if max > 1.5 {
        1.0 / 255.0
    } else {
        1.0
    }
}

/// Per-channel mean and variance of `x * scale`.
pub fn channel_stats(x: &ImageData, scale: f32) -> DataStats {
    let c = x.shape[3];
    let mut sum = vec![0f64; c];
    let mut sq = vec![0f64; c];
    let n = x.pixels.len();
    for i in 0..n {
        let v = (x.pixels.get(i) * scale) as f64;
        sum[i % c] += v;
        sq[i % c] += v * v;
    }
    let count = (n / c.max(1)).max(1) as f64;
    let mean: Vec<f32> = sum.iter().map(|s| (s / count) as f32).collect();
    let var: Vec<f32> = sq
        .iter()
        .zip(&mean)
        .map(|(q, m)| ((q / count) - (*m as f64).powi(2)).max(1e-8) as f32)
        .collect();
    DataStats {
        channel_mean: mean,
        channel_var: var,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unseen_label_is_named_with_the_classes_written_plainly() {
        let enc = LabelEncoder::fit(&Targets::Str(vec!["p".into(), "n".into()])).unwrap();
        let e = enc
            .encode(&Targets::Str(vec!["x".into()]))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("label x was not among the training classes n, p"),
            "{e}"
        );
        assert!(!e.contains("Str("), "{e}");
    }
}
