//! Column encoders for tables, fitted on the training data and saved with the model.
//!
//! Each feature column is **categorical** or **numerical**. As in AutoKeras, a column is
//! categorical when it holds non-numeric values (strings, booleans), or numbers with few
//! distinct values (fewer than 5 % of its non-missing values are distinct); numerical
//! otherwise. The user's `column_types` override the rule.
//!
//! - A numerical column is imputed with its training median, log-transformed
//!   (`sign(v) ln(1 + |v|)`) when it is non-negative and heavily right-skewed (skewness > 2),
//!   then standardised with the training mean and deviation. A piecewise-linear encoding over
//!   quantile bins of the training values follows it (Gorishniy et al., "On Embeddings for
//!   Numerical Features in Tabular Deep Learning", 2022): per bin `[a, b)`,
//!   `clamp((v - a) / (b - a), 0, 1)`. It lets an MLP bend its response to each number, and
//!   lowered the test error on both Titanic and California housing.
//! - A categorical column becomes a one-hot vector over its training values (the 100 most
//!   frequent); a value never seen in training, or a missing one, is the all-zero vector.
//!   A categorical column of numbers also keeps its value, standardised as above.
//! - A column with missing values in the training data gets an indicator feature (1 where the
//!   value is missing).
//!
//! The result is one `f32` row of features per sample, an [`ImageData`](crate::data::ImageData) of
//! shape `[n, 1, 1, f]`. Reading a polars `DataFrame` into cells is in `table_frame` (feature
//! `tables`); without it, the encoders still load with a model, and the fitting code rests.
#![cfg_attr(not(feature = "tables"), allow(dead_code))]

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// The number of quantile bins of the piecewise-linear encoding for `n` training values:
/// `round(2/3 sqrt(n))` within 4..=32 (16 for 600 rows, 32 from 2,300 on).
pub fn auto_bins(n: usize) -> usize {
    ((n as f64).sqrt() * 2.0 / 3.0).round().clamp(4.0, 32.0) as usize
}

/// Which columns of a table are features, how they are typed and how numbers are encoded.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TableSpec {
    /// The feature columns, in order; all but the target when `None`.
    pub column_names: Option<Vec<String>>,
    /// Types that override the inferred ones, by column name.
    pub column_types: BTreeMap<String, ColumnType>,
    /// Quantile bins of the piecewise-linear encoding of numerical columns: `None` chooses
    /// by the number of rows ([`auto_bins`]); 0 or 1 turns the encoding off (the standardised
    /// value only).
    pub numeric_bins: Option<usize>,
}

/// Share of distinct values below which a numeric column counts as categorical (AutoKeras's).
pub const CATEGORICAL_UNIQUE_RATIO: f64 = 0.05;
/// Most one-hot categories per column: the most frequent training values.
pub const MAX_CATEGORIES: usize = 100;
/// Skewness above which a non-negative numeric column is log-transformed.
pub const LOG_SKEWNESS: f64 = 2.0;

/// How a column is fed to the network.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ColumnType {
    /// One-hot over the training values.
    Categorical,
    /// Imputed, optionally log-transformed, standardised.
    Numerical,
}

impl std::fmt::Display for ColumnType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            ColumnType::Categorical => "categorical",
            ColumnType::Numerical => "numerical",
        })
    }
}

impl std::str::FromStr for ColumnType {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "categorical" => Ok(ColumnType::Categorical),
            "numerical" | "numeric" => Ok(ColumnType::Numerical),
            other => Err(Error::Config(format!(
                "unknown column type {other:?}: use categorical or numerical"
            ))),
        }
    }
}

/// What a column held in the training data: the schema checked at predict time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ValueKind {
    /// Integers or floats.
    Number,
    /// Strings (or polars categoricals).
    Text,
    /// Booleans.
    Boolean,
}

impl std::fmt::Display for ValueKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            ValueKind::Number => "numeric",
            ValueKind::Text => "string",
            ValueKind::Boolean => "boolean",
        })
    }
}

/// The values of one column; `None` is missing.
pub(super) enum Cells {
    Numbers(Vec<Option<f64>>),
    Texts(Vec<Option<String>>),
}

/// The category key of a number: `3` for 3.0, `2.5` for 2.5.
fn number_key(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        format!("{v}")
    }
}

/// Where row `i` (0-based) of a table is, for error messages: its data row and, for a table
/// read from a CSV file with a header line, its line in that file.
pub(super) fn row_place(i: usize) -> String {
    format!("data row {} (line {} of the CSV file)", i + 1, i + 2)
}

/// `sign(v) ln(1 + |v|)`.
fn signed_log1p(v: f64) -> f64 {
    v.signum() * v.abs().ln_1p()
}

/// Imputation, optional log transform and standardisation of a numeric value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NumericScaler {
    /// The value a missing one is replaced with (the training median), before the transform.
    pub fill: f64,
    /// Whether `sign(v) ln(1 + |v|)` is applied before standardising.
    pub log: bool,
    /// Training mean after the transform.
    pub mean: f64,
    /// Training standard deviation after the transform (1 for a constant column).
    pub std: f64,
    /// Edges of the quantile bins of the piecewise-linear encoding (raw units, increasing);
    /// empty: the standardised value only.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub bins: Vec<f64>,
}

impl NumericScaler {
    /// Fits on the non-missing training values (at least one).
    fn fit(values: &[f64]) -> Self {
        let mut sorted = values.to_vec();
        sorted.sort_by(f64::total_cmp);
        let fill = sorted.get(sorted.len() / 2).copied().unwrap_or(0.0);
        let (mean, std) = mean_std(values);
        let skew = if std > 0.0 {
            values
                .iter()
                .map(|&v| standardise(v, mean, std).powi(3))
                .sum::<f64>()
                / values.len() as f64
        } else {
            0.0
        };
        let log = sorted.first().is_some_and(|&m| m >= 0.0) && skew > LOG_SKEWNESS;
        let (mean, std) = if log {
            let t: Vec<f64> = values.iter().map(|&v| signed_log1p(v)).collect();
            mean_std(&t)
        } else {
            (mean, std)
        };
        NumericScaler {
            fill,
            log,
            mean,
            std: if std > 1e-12 { std } else { 1.0 },
            bins: vec![],
        }
    }

    /// Adds a piecewise-linear encoding over (up to) `n_bins` quantile bins of the training
    /// values (`sorted`); nothing when they have fewer than 3 distinct edges.
    fn with_bins(mut self, sorted: &[f64], n_bins: usize) -> Self {
        if n_bins < 2 || sorted.is_empty() {
            return self;
        }
        let mut edges: Vec<f64> = (0..=n_bins)
            .map(|k| sorted[(k * (sorted.len() - 1)) / n_bins])
            .collect();
        edges.dedup();
        if edges.len() >= 3 {
            self.bins = edges;
        }
        self
    }

    /// Number of features: the standardised value, then one per bin.
    pub fn width(&self) -> usize {
        1 + self.bins.len().saturating_sub(1)
    }

    /// The standardised value.
    pub fn apply(&self, v: Option<f64>) -> f32 {
        let v = v.unwrap_or(self.fill);
        let v = if self.log { signed_log1p(v) } else { v };
        standardise(v, self.mean, self.std) as f32
    }

    /// Writes the [`width`](Self::width) features of one value into `out`: the standardised
    /// value, then per bin `[a, b)` the share of it that `v` covers, `clamp((v - a) / (b - a), 0, 1)`.
    pub fn write(&self, v: Option<f64>, out: &mut [f32]) {
        out[0] = self.apply(v);
        let v = v.unwrap_or(self.fill);
        for (o, w) in out[1..].iter_mut().zip(self.bins.windows(2)) {
            let share = (v - w[0]) / (w[1] - w[0]);
            // Edges far apart (±1e308) overflow the differences; halved, they do not.
            let share = if share.is_finite() {
                share
            } else {
                (v / 2.0 - w[0] / 2.0) / (w[1] / 2.0 - w[0] / 2.0)
            };
            *o = if share.is_nan() {
                0.0
            } else {
                share.clamp(0.0, 1.0) as f32
            };
        }
    }
}

/// `(v - mean) / std`, without overflowing on a difference beyond `f64` (`1e308 - -1e308`).
fn standardise(v: f64, mean: f64, std: f64) -> f64 {
    let z = (v - mean) / std;
    if z.is_finite() {
        z
    } else {
        v / std - mean / std
    }
}

/// The mean and standard deviation of finite `values`. Sums and squares that would overflow
/// (values near `f64::MAX`) are computed on the values divided by their largest magnitude, so
/// finite values always give a finite mean and deviation.
fn mean_std(values: &[f64]) -> (f64, f64) {
    let n = values.len().max(1) as f64;
    let mean = values.iter().sum::<f64>() / n;
    let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n;
    if mean.is_finite() && var.is_finite() {
        return (mean, var.sqrt());
    }
    let scale = values.iter().fold(0f64, |m, v| m.max(v.abs()));
    if !(scale > 0.0 && scale.is_finite()) {
        return (mean, var.sqrt());
    }
    let mean = values.iter().map(|v| v / scale).sum::<f64>() / n;
    let var = values
        .iter()
        .map(|v| (v / scale - mean).powi(2))
        .sum::<f64>()
        / n;
    (mean * scale, var.sqrt() * scale)
}

/// How one column becomes features.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum Encoding {
    /// One standardised value.
    Numerical(NumericScaler),
    /// One-hot over `vocabulary`, plus the standardised value for a column of numbers.
    Categorical {
        /// The training values, most frequent first; index = one-hot position.
        vocabulary: Vec<String>,
        /// For numbers: their standardised value, as an extra feature.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        numeric: Option<NumericScaler>,
    },
}

/// The encoder of one feature column.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ColumnEncoder {
    /// Column name.
    pub name: String,
    /// What the column held in the training data.
    pub kind: ValueKind,
    /// How it is encoded.
    pub encoding: Encoding,
    /// Whether a 0/1 "missing" feature follows (the training column had missing values).
    pub indicator: bool,
}

impl ColumnEncoder {
    /// The column's type.
    pub fn column_type(&self) -> ColumnType {
        match self.encoding {
            Encoding::Numerical(_) => ColumnType::Numerical,
            Encoding::Categorical { .. } => ColumnType::Categorical,
        }
    }

    /// Number of features it makes.
    pub fn width(&self) -> usize {
        let body = match &self.encoding {
            Encoding::Numerical(s) => s.width(),
            Encoding::Categorical {
                vocabulary,
                numeric,
            } => vocabulary.len() + usize::from(numeric.is_some()),
        };
        body + usize::from(self.indicator)
    }

    /// Names of its features: `age`, `sex=male`, `age_missing`.
    pub fn feature_names(&self) -> Vec<String> {
        let mut out = Vec::new();
        match &self.encoding {
            Encoding::Numerical(s) => {
                out.push(self.name.clone());
                out.extend(
                    s.bins
                        .windows(2)
                        .map(|w| format!("{}_in_[{},{})", self.name, w[0], w[1])),
                );
            }
            Encoding::Categorical {
                vocabulary,
                numeric,
            } => {
                out.extend(vocabulary.iter().map(|v| format!("{}={v}", self.name)));
                if numeric.is_some() {
                    out.push(self.name.clone());
                }
            }
        }
        if self.indicator {
            out.push(format!("{}_missing", self.name));
        }
        out
    }

    pub(super) fn fit(
        name: &str,
        kind: ValueKind,
        cells: &Cells,
        user: Option<ColumnType>,
        bins: Option<usize>,
    ) -> Result<Self> {
        let missing = match cells {
            Cells::Numbers(v) => v.iter().filter(|x| x.is_none()).count(),
            Cells::Texts(v) => v.iter().filter(|x| x.is_none()).count(),
        };
        let n = match cells {
            Cells::Numbers(v) => v.len(),
            Cells::Texts(v) => v.len(),
        };
        if missing == n {
            return Err(Error::Config(format!(
                "column {name:?} has no values in the training data: leave it out with column_names"
            )));
        }
        let numbers: Option<Vec<f64>> = match (cells, user) {
            (Cells::Numbers(v), _) => Some(v.iter().flatten().copied().collect()),
            (Cells::Texts(v), Some(ColumnType::Numerical)) => Some(
                parse_numbers(name, v)?
                    .into_iter()
                    .flatten()
                    .collect::<Vec<f64>>(),
            ),
            (Cells::Texts(_), _) => None,
        };
        let inferred = match &numbers {
            None => ColumnType::Categorical,
            Some(v) => {
                let mut s = v.clone();
                s.sort_by(f64::total_cmp);
                s.dedup();
                if (s.len() as f64) < CATEGORICAL_UNIQUE_RATIO * v.len() as f64 {
                    ColumnType::Categorical
                } else {
                    ColumnType::Numerical
                }
            }
        };
        let encoding = match (user.unwrap_or(inferred), &numbers) {
            (ColumnType::Numerical, Some(v)) => {
                let mut sorted = v.clone();
                sorted.sort_by(f64::total_cmp);
                let n_bins = bins.unwrap_or_else(|| auto_bins(v.len()));
                Encoding::Numerical(NumericScaler::fit(v).with_bins(&sorted, n_bins))
            }
            _ => {
                let mut counts: HashMap<String, usize> = HashMap::new();
                for key in keys(cells).into_iter().flatten() {
                    *counts.entry(key).or_default() += 1;
                }
                let mut by_count: Vec<(String, usize)> = counts.into_iter().collect();
                by_count.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
                by_count.truncate(MAX_CATEGORIES);
                Encoding::Categorical {
                    vocabulary: by_count.into_iter().map(|(k, _)| k).collect(),
                    numeric: numbers.as_deref().map(NumericScaler::fit),
                }
            }
        };
        Ok(ColumnEncoder {
            name: name.to_string(),
            kind,
            encoding,
            indicator: missing > 0,
        })
    }

    /// Writes the features of every row into `out` (row stride `stride`, from `offset`).
    pub(super) fn encode(
        &self,
        cells: &Cells,
        out: &mut [f32],
        stride: usize,
        offset: usize,
    ) -> Result<()> {
        let is_missing: Vec<bool> = match cells {
            Cells::Numbers(v) => v.iter().map(Option::is_none).collect(),
            Cells::Texts(v) => v.iter().map(Option::is_none).collect(),
        };
        let mut col = offset;
        match &self.encoding {
            Encoding::Numerical(s) => {
                let w = s.width();
                for (i, v) in self.numbers(cells)?.into_iter().enumerate() {
                    let features = &mut out[i * stride + col..i * stride + col + w];
                    s.write(v, features);
                    if features.iter().any(|x| !x.is_finite()) {
                        return Err(self.unrepresentable(s, v, i));
                    }
                }
                col += w;
            }
            Encoding::Categorical {
                vocabulary,
                numeric,
            } => {
                let index: HashMap<&str, usize> = vocabulary
                    .iter()
                    .enumerate()
                    .map(|(i, k)| (k.as_str(), i))
                    .collect();
                for (i, key) in keys(cells).into_iter().enumerate() {
                    if let Some(&j) = key.as_deref().and_then(|k| index.get(k)) {
                        out[i * stride + col + j] = 1.0;
                    }
                }
                col += vocabulary.len();
                if let Some(s) = numeric {
                    for (i, v) in self.numbers(cells)?.into_iter().enumerate() {
                        out[i * stride + col] = s.apply(v);
                        if !out[i * stride + col].is_finite() {
                            return Err(self.unrepresentable(s, v, i));
                        }
                    }
                    col += 1;
                }
            }
        }
        if self.indicator {
            for (i, m) in is_missing.into_iter().enumerate() {
                out[i * stride + col] = f32::from(u8::from(m));
            }
        }
        Ok(())
    }

    /// The error for the value `v` of row `i`, whose encoding is beyond the range of `f32`.
    fn unrepresentable(&self, s: &NumericScaler, v: Option<f64>, i: usize) -> Error {
        let v = v.unwrap_or(s.fill);
        let t = if s.log { signed_log1p(v) } else { v };
        Error::ColumnType {
            column: self.name.clone(),
            expected: "numeric".into(),
            found: format!(
                "{v:e} in {}, {:e} standard deviations from the training mean, which a 32-bit \
                 float cannot hold",
                row_place(i),
                standardise(t, s.mean, s.std)
            ),
            hint: "fix that value, or rescale the column".into(),
        }
    }

    fn numbers(&self, cells: &Cells) -> Result<Vec<Option<f64>>> {
        match cells {
            Cells::Numbers(v) => Ok(v.clone()),
            Cells::Texts(v) => parse_numbers(&self.name, v),
        }
    }
}

/// Category keys of the cells.
fn keys(cells: &Cells) -> Vec<Option<String>> {
    match cells {
        Cells::Numbers(v) => v.iter().map(|x| x.map(number_key)).collect(),
        Cells::Texts(v) => v.clone(),
    }
}

/// Share of a text column's non-empty values that must be finite numbers for it to count as
/// "mostly numeric": such a column stays categorical, with a warning naming the other values.
pub const MOSTLY_NUMERIC: f64 = 0.9;

/// How many of a column's non-numeric values a warning quotes.
const QUOTED_VALUES: usize = 3;

/// The warning for a text column `name` that is mostly numbers (at least [`MOSTLY_NUMERIC`]
/// of its non-empty values parse as finite numbers) but holds a few other values, so that it
/// is read as categorical; `None` for any other column.
pub(super) fn mostly_numeric_warning(name: &str, cells: &Cells) -> Option<String> {
    let Cells::Texts(v) = cells else {
        return None;
    };
    let present: Vec<&str> = v.iter().flatten().map(String::as_str).collect();
    let mut others: Vec<&str> = present
        .iter()
        .copied()
        .filter(|s| !s.parse::<f64>().is_ok_and(f64::is_finite))
        .collect();
    let (n_other, n) = (others.len(), present.len());
    if n_other == 0 || ((n - n_other) as f64) < MOSTLY_NUMERIC * n as f64 {
        return None;
    }
    let mut seen = std::collections::HashSet::new();
    others.retain(|s| seen.insert(*s));
    let quoted: Vec<String> = others
        .iter()
        .take(QUOTED_VALUES)
        .map(|s| format!("{s:?}"))
        .collect();
    let more = if others.len() > QUOTED_VALUES {
        ", ..."
    } else {
        ""
    };
    Some(format!(
        "column {name:?} is read as categorical: {n_other} of {n} values are not numbers \
         ({}{more}); fix them or pass --column-types {name}=numerical (column_types in the \
         library)",
        quoted.join(", ")
    ))
}

/// Strings of a column declared numerical, as numbers.
fn parse_numbers(name: &str, v: &[Option<String>]) -> Result<Vec<Option<f64>>> {
    v.iter()
        .enumerate()
        .map(|(i, s)| match s {
            None => Ok(None),
            Some(s) => s
                .parse::<f64>()
                .map(|x| Some(x).filter(|x| x.is_finite()))
                .map_err(|_| Error::ColumnType {
                    column: name.to_string(),
                    expected: "numeric".into(),
                    found: format!("strings ({s:?} in {})", row_place(i)),
                    hint: "declare the column categorical, or clean that value".into(),
                }),
        })
        .collect()
}

/// Standardisation of a regression target; inverted at predict time.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct TargetScaler {
    /// Training mean.
    pub mean: f32,
    /// Training standard deviation (1 for a constant target).
    pub std: f32,
}

impl TargetScaler {
    /// Fits on the training targets.
    pub fn fit(values: &[f32]) -> Self {
        let v: Vec<f64> = values.iter().map(|&x| x as f64).collect();
        let (mean, std) = mean_std(&v);
        TargetScaler {
            mean: mean as f32,
            std: if std > 1e-12 { std as f32 } else { 1.0 },
        }
    }

    /// Raw values to standardised ones.
    pub fn apply(&self, values: &[f32]) -> Vec<f32> {
        values.iter().map(|v| (v - self.mean) / self.std).collect()
    }

    /// Standardised values (network outputs) back to raw ones.
    pub fn invert(&self, values: &[f32]) -> Vec<f32> {
        values.iter().map(|v| v * self.std + self.mean).collect()
    }
}

/// Every column encoder of a table, with the target's name (and, for regression, its scaler).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TableEncoder {
    /// The target column (ignored by [`TableEncoder::transform`] when present; empty for a
    /// table without one).
    pub target: String,
    /// One encoder per feature column, in feature order.
    pub columns: Vec<ColumnEncoder>,
    /// Regression: the target's standardisation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_scaler: Option<TargetScaler>,
}

impl TableEncoder {
    /// Number of features per row.
    pub fn width(&self) -> usize {
        self.columns.iter().map(ColumnEncoder::width).sum()
    }

    /// Names of the features, in order.
    pub fn feature_names(&self) -> Vec<String> {
        self.columns
            .iter()
            .flat_map(ColumnEncoder::feature_names)
            .collect()
    }

    /// The type of each feature column.
    pub fn column_types(&self) -> BTreeMap<String, ColumnType> {
        self.columns
            .iter()
            .map(|c| (c.name.clone(), c.column_type()))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numeric_scaler_logs_skewed_non_negative_values() {
        let mut v: Vec<f64> = (0..100).map(|i| i as f64).collect();
        v.push(1e6);
        let s = NumericScaler::fit(&v);
        assert!(s.log, "{s:?}");
        assert_eq!(s.fill, 50.0);
        let flat: Vec<f64> = (0..100).map(|i| i as f64 - 50.0).collect();
        let s = NumericScaler::fit(&flat);
        assert!(!s.log);
        assert!((s.apply(Some(s.mean)) - 0.0).abs() < 1e-6);
    }

    #[test]
    fn huge_finite_values_give_finite_statistics_and_features() {
        let v = [1e308, -1e308, 1e308, -1e308, 0.0, 5.0];
        let (mean, std) = mean_std(&v);
        assert!(
            mean.is_finite() && std.is_finite() && std > 1e307,
            "{mean} {std}"
        );
        let mut sorted = v.to_vec();
        sorted.sort_by(f64::total_cmp);
        let s = NumericScaler::fit(&v).with_bins(&sorted, 4);
        let mut out = vec![0f32; s.width()];
        for x in v {
            s.write(Some(x), &mut out);
            assert!(out.iter().all(|o| o.is_finite()), "{x}: {out:?}");
        }
        assert!(standardise(f64::MAX, -f64::MAX / 2.0, 1.0).is_infinite());
        assert!(standardise(f64::MAX, -f64::MAX, f64::MAX).is_finite());
    }

    #[test]
    fn a_mostly_numeric_text_column_is_warned_about() {
        let mut v: Vec<Option<String>> = (0..40).map(|i| Some(format!("{i}.5"))).collect();
        v.extend(["hello", "NaN", "inf"].map(|s| Some(s.to_string())));
        v.push(None);
        let w = mostly_numeric_warning("age", &Cells::Texts(v.clone())).unwrap();
        assert_eq!(
            w,
            "column \"age\" is read as categorical: 3 of 43 values are not numbers (\"hello\", \
             \"NaN\", \"inf\"); fix them or pass --column-types age=numerical (column_types in \
             the library)"
        );
        v.push(Some("x".into()));
        let w = mostly_numeric_warning("age", &Cells::Texts(v.clone())).unwrap();
        assert!(w.contains("4 of 44") && w.contains("\"inf\", ...)"), "{w}");
        // Under 90 % numbers: a text column, no warning; no strays: none either.
        v.extend((0..3).map(|_| Some("y".to_string())));
        assert_eq!(mostly_numeric_warning("age", &Cells::Texts(v)), None);
        let clean = Cells::Texts(vec![Some("1".into()), Some("2".into())]);
        assert_eq!(mostly_numeric_warning("age", &clean), None);
    }

    #[test]
    fn number_keys() {
        assert_eq!(number_key(3.0), "3");
        assert_eq!(number_key(-2.0), "-2");
        assert_eq!(number_key(2.5), "2.5");
    }

    #[test]
    fn target_scaler_round_trip() {
        let s = TargetScaler::fit(&[1.0, 2.0, 3.0]);
        let z = s.apply(&[1.0, 3.0]);
        assert!((z[0] + z[1]).abs() < 1e-6);
        let back = s.invert(&z);
        assert!((back[0] - 1.0).abs() < 1e-6 && (back[1] - 3.0).abs() < 1e-6);
    }
}
