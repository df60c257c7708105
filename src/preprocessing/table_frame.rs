//! Tables read from polars `DataFrame`s (feature `tables`): fitting a [`TableEncoder`] on a
//! table, encoding a table's rows, and reading a target column.

use polars::prelude::{Column, DataFrame, DataType};

use super::columns::{
    mostly_numeric_warning, row_place, Cells, ColumnEncoder, TableEncoder, TableSpec, ValueKind,
};
use crate::data::{polars_error, ImageData, Targets};
use crate::error::{Error, Result};

/// A column's values with the kind its dtype stands for (`None`: a column of nulls only).
fn read_cells(col: &Column) -> Result<(Option<ValueKind>, Cells)> {
    let dtype = col.dtype();
    if dtype.is_primitive_numeric() {
        let f = col.cast(&DataType::Float64).map_err(polars_error)?;
        let v = f
            .f64()
            .map_err(polars_error)?
            .iter()
            .map(|x| x.filter(|v| v.is_finite()))
            .collect();
        return Ok((Some(ValueKind::Number), Cells::Numbers(v)));
    }
    let (kind, text) = match dtype {
        DataType::Null => return Ok((None, Cells::Numbers(vec![None; col.len()]))),
        DataType::String => (ValueKind::Text, col.clone()),
        DataType::Boolean => (
            ValueKind::Boolean,
            col.cast(&DataType::String).map_err(polars_error)?,
        ),
        DataType::Categorical(..) | DataType::Enum(..) => (
            ValueKind::Text,
            col.cast(&DataType::String).map_err(polars_error)?,
        ),
        other => {
            return Err(Error::ColumnType {
                column: col.name().to_string(),
                expected: "numeric, string or boolean".into(),
                found: other.to_string(),
                hint: "cast the column, or leave it out with column_names".into(),
            })
        }
    };
    let v = text
        .str()
        .map_err(polars_error)?
        .iter()
        .map(|s| s.map(str::trim).filter(|s| !s.is_empty()).map(String::from))
        .collect();
    Ok((Some(kind), Cells::Texts(v)))
}

fn column<'a>(df: &'a DataFrame, name: &str, role: &'static str) -> Result<&'a Column> {
    df.column(name).map_err(|_| Error::ColumnNotFound {
        column: name.to_string(),
        role,
        available: df
            .get_column_names()
            .iter()
            .map(|s| s.to_string())
            .collect(),
    })
}

/// The feature columns of `df`: those `spec` names, else every column but the target.
fn feature_names(df: &DataFrame, target: Option<&str>, spec: &TableSpec) -> Vec<String> {
    match &spec.column_names {
        Some(names) => names.clone(),
        None => df
            .get_column_names()
            .iter()
            .map(|s| s.to_string())
            .filter(|s| Some(s.as_str()) != target)
            .collect(),
    }
}

impl TableSpec {
    /// What a user should hear about the feature columns of `df` before training, one
    /// sentence each; nothing here stops a fit. Today: a text column whose non-empty values
    /// are mostly numbers (at least [`MOSTLY_NUMERIC`](super::MOSTLY_NUMERIC), 90 %, parse as
    /// finite numbers) but not all, so that it is read as categorical, unless `column_types`
    /// gives its type. Columns `df` lacks are left to [`TableEncoder::fit`] to report.
    ///
    /// ```no_run
    /// let df = autocandle::data::read_csv("train.csv")?;
    /// for w in autocandle::preprocessing::TableSpec::default().warnings(&df, Some("survived"))? {
    ///     eprintln!("warning: {w}");
    /// }
    /// # Ok::<(), autocandle::Error>(())
    /// ```
    pub fn warnings(&self, df: &DataFrame, target: Option<&str>) -> Result<Vec<String>> {
        let mut out = Vec::new();
        for name in feature_names(df, target, self) {
            if self.column_types.contains_key(&name) {
                continue;
            }
            let Ok(col) = df.column(&name) else {
                continue;
            };
            let (_, cells) = read_cells(col)?;
            out.extend(mostly_numeric_warning(&name, &cells));
        }
        Ok(out)
    }
}

impl TableEncoder {
    /// Fits the encoders of the feature columns of `df` that `spec` names (all columns but the
    /// target by default), typed by `spec.column_types` where given, else by the rule of the
    /// [module](self) documentation.
    pub fn fit(df: &DataFrame, target: &str, spec: &TableSpec) -> Result<Self> {
        column(df, target, "target")?;
        Self::fit_columns(df, Some(target), spec)
    }

    /// [`TableEncoder::fit`] for a table without a target column (an input of a multi-input
    /// model): every column is a feature unless `spec` names the features.
    pub fn fit_features(df: &DataFrame, spec: &TableSpec) -> Result<Self> {
        Self::fit_columns(df, None, spec)
    }

    fn fit_columns(df: &DataFrame, target: Option<&str>, spec: &TableSpec) -> Result<Self> {
        let column_types = &spec.column_types;
        if df.height() == 0 {
            return Err(Error::EmptyDataset("the table has no rows".into()));
        }
        let names = feature_names(df, target, spec);
        if names.is_empty() {
            return Err(Error::Config(match target {
                Some(t) => format!("the table has no feature columns besides the target {t:?}"),
                None => "the table has no columns".into(),
            }));
        }
        if let Some(t) = target.filter(|t| names.iter().any(|n| n == t)) {
            return Err(Error::Config(format!(
                "the target {t:?} cannot also be a feature column"
            )));
        }
        if let Some(unknown) = column_types.keys().find(|k| !names.contains(k)) {
            return Err(Error::Config(format!(
                "column_types names {unknown:?}, which is not a feature column ({names:?})"
            )));
        }
        let columns = names
            .iter()
            .map(|name| {
                let (kind, cells) = read_cells(column(df, name, "input")?)?;
                let kind = kind.ok_or_else(|| {
                    Error::Config(format!(
                        "column {name:?} has no values in the training data: leave it out with column_names"
                    ))
                })?;
                ColumnEncoder::fit(
                    name,
                    kind,
                    &cells,
                    column_types.get(name).copied(),
                    spec.numeric_bins,
                )
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(TableEncoder {
            target: target.unwrap_or_default().to_string(),
            columns,
            target_scaler: None,
        })
    }

    /// The features of `df` (which may hold other columns, the target among them), `[n, 1, 1, f]`.
    /// Fails when a feature column is missing or holds another kind of values than in training.
    pub fn transform(&self, df: &DataFrame) -> Result<ImageData> {
        let n = df.height();
        if n == 0 {
            return Err(Error::EmptyDataset("the table has no rows".into()));
        }
        let f = self.width();
        let mut out = vec![0f32; n * f];
        let mut offset = 0;
        for enc in &self.columns {
            let (kind, cells) = read_cells(column(df, &enc.name, "input")?)?;
            if let Some(found) = kind.filter(|k| *k != enc.kind) {
                return Err(Error::ColumnType {
                    column: enc.name.clone(),
                    expected: enc.kind.to_string(),
                    found: found.to_string(),
                    hint: "the model was trained on a table whose column held other values; \
                           give the same schema as in training"
                        .into(),
                });
            }
            enc.encode(&cells, &mut out, f, offset)?;
            offset += enc.width();
        }
        ImageData::from_f32(out, &[n, 1, 1, f])
    }
}

/// The values of a numeric column as they are, NaN and infinities included (`None`: missing);
/// `None` for a column of another type.
fn raw_numbers(col: &Column) -> Result<Option<Vec<Option<f64>>>> {
    let dtype = col.dtype();
    if !dtype.is_primitive_numeric() && *dtype != DataType::Null {
        return Ok(None);
    }
    let f = col.cast(&DataType::Float64).map_err(polars_error)?;
    Ok(Some(f.f64().map_err(polars_error)?.iter().collect()))
}

/// The error for a target missing in row `i`.
fn missing_target(target: &str, i: usize) -> Error {
    Error::Config(format!(
        "the target {target:?} is missing in {}: drop or fill such rows",
        row_place(i)
    ))
}

/// Class labels from the column `target`: integers (from integral numbers), strings, or
/// `"true"`/`"false"`. A missing label, a non-finite or a fractional number is an error naming
/// the row (as the data row and the line of the CSV file).
pub fn class_targets(df: &DataFrame, target: &str) -> Result<Targets> {
    let col = column(df, target, "target")?;
    if let Some(v) = raw_numbers(col)? {
        return v
            .iter()
            .enumerate()
            .map(|(i, x)| match x {
                None => Err(missing_target(target, i)),
                Some(x) if x.fract() == 0.0 && x.abs() < 9.0e15 => Ok(*x as i64),
                Some(x) => Err(Error::ColumnType {
                    column: target.into(),
                    expected: "class label (integer or string)".into(),
                    found: format!(
                        "{} numbers ({x} in {})",
                        if x.is_finite() {
                            "fractional"
                        } else {
                            "non-finite"
                        },
                        row_place(i)
                    ),
                    hint: "use the regressor for real-valued targets, or fix that row".into(),
                }),
            })
            .collect::<Result<Vec<i64>>>()
            .map(Targets::Int);
    }
    match read_cells(col)?.1 {
        Cells::Texts(v) => v
            .into_iter()
            .enumerate()
            .map(|(i, x)| x.ok_or_else(|| missing_target(target, i)))
            .collect::<Result<Vec<String>>>()
            .map(Targets::Str),
        Cells::Numbers(_) => Err(Error::Table(format!(
            "the target {target:?} could not be read as labels"
        ))),
    }
}

/// Real values from the column `target`. A missing value, a non-finite one (NaN, infinity),
/// one beyond the range of `f32` or a string is an error naming the row (as the data row and
/// the line of the CSV file).
pub fn regression_targets(df: &DataFrame, target: &str) -> Result<Vec<f32>> {
    let col = column(df, target, "target")?;
    let Some(v) = raw_numbers(col)? else {
        let (kind, _) = read_cells(col)?;
        return Err(Error::ColumnType {
            column: target.into(),
            expected: "numeric".into(),
            found: kind.map(|k| k.to_string()).unwrap_or_default(),
            hint: "a regression target must be numbers; use the classifier for labels".into(),
        });
    };
    v.iter()
        .enumerate()
        .map(|(i, x)| match *x {
            None => Err(missing_target(target, i)),
            Some(x) if !x.is_finite() => Err(Error::Config(format!(
                "the target {target:?} holds the non-finite value {x} in {}: regression \
                 targets must be finite numbers; drop or fix such rows",
                row_place(i)
            ))),
            Some(x) if x.abs() > f64::from(f32::MAX) => Err(Error::Config(format!(
                "the target {target:?} holds {x:e} in {}, beyond the range of 32-bit floats \
                 (about 3.4e38): rescale the target (divide it by a power of ten) or fix that row",
                row_place(i)
            ))),
            Some(x) => Ok(x as f32),
        })
        .collect()
}
