//! Time series: numeric columns in time order, read from a CSV file (through polars) or a polars
//! `DataFrame`, with the time column that orders them, missing values filled and the sampling
//! frequency recognised from the time stamps.
//!
//! ```no_run
//! use autocandle::data::{SeriesSpec, TimeSeries};
//! let s = TimeSeries::read_csv("airline-passengers.csv", &SeriesSpec::target("Passengers"))?;
//! assert_eq!(s.targets, vec!["Passengers".to_string()]);
//! # Ok::<(), autocandle::Error>(())
//! ```
#![cfg_attr(not(feature = "tables"), allow(dead_code))]

use crate::error::{Error, Result};
#[cfg(feature = "tables")]
use polars::prelude::{DataFrame, DataType};
use serde::{Deserialize, Serialize};
#[cfg(feature = "tables")]
use std::path::Path;

/// Which columns of a table make the series.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SeriesSpec {
    /// The columns to forecast (at least one).
    pub targets: Vec<String>,
    /// The column that orders the rows; recognised from its values (dates) when `None`.
    pub time_column: Option<String>,
    /// The input columns besides the targets; `None` takes every other numeric column.
    pub features: Option<Vec<String>>,
}

impl SeriesSpec {
    /// One target column, the time column recognised, every numeric column as input.
    pub fn target(name: &str) -> Self {
        SeriesSpec {
            targets: vec![name.to_string()],
            ..Default::default()
        }
    }

    /// Names the time column.
    pub fn with_time_column(mut self, name: &str) -> Self {
        self.time_column = Some(name.to_string());
        self
    }

    /// Restricts the input columns besides the targets (an empty list: the targets only).
    pub fn with_features(mut self, names: &[&str]) -> Self {
        self.features = Some(names.iter().map(|s| s.to_string()).collect());
        self
    }
}

/// How often a series is sampled, as recognised from its time stamps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Frequency {
    /// One point an hour.
    Hourly,
    /// One point a day.
    Daily,
    /// One point a week.
    Weekly,
    /// One point a month.
    Monthly,
    /// One point a quarter.
    Quarterly,
    /// One point a year.
    Yearly,
}

impl Frequency {
    /// The number of points in the usual season of such data (24 hours, 7 days, 52 weeks,
    /// 12 months, 4 quarters); none for yearly data.
    pub fn season(self) -> Option<usize> {
        match self {
            Frequency::Hourly => Some(24),
            Frequency::Daily => Some(7),
            Frequency::Weekly => Some(52),
            Frequency::Monthly => Some(12),
            Frequency::Quarterly => Some(4),
            Frequency::Yearly => None,
        }
    }

    /// The frequency of time stamps in seconds (the median step between neighbours), when it is
    /// one of the known ones.
    pub fn detect(seconds: &[f64]) -> Option<Frequency> {
        let mut steps: Vec<f64> = seconds
            .windows(2)
            .map(|w| w[1] - w[0])
            .filter(|d| *d > 0.0)
            .collect();
        if steps.is_empty() {
            return None;
        }
        steps.sort_by(f64::total_cmp);
        let days = steps[steps.len() / 2] / 86_400.0;
        let within = |lo: f64, hi: f64| (lo..=hi).contains(&days);
        if within(0.9 / 24.0, 1.1 / 24.0) {
            Some(Frequency::Hourly)
        } else if within(0.9, 1.1) {
            Some(Frequency::Daily)
        } else if within(6.5, 7.5) {
            Some(Frequency::Weekly)
        } else if within(28.0, 31.0) {
            Some(Frequency::Monthly)
        } else if within(89.0, 92.0) {
            Some(Frequency::Quarterly)
        } else if within(364.0, 367.0) {
            Some(Frequency::Yearly)
        } else {
            None
        }
    }
}

/// The time column of a series.
#[derive(Debug, Clone, PartialEq)]
pub struct TimeAxis {
    /// Column name.
    pub name: String,
    /// The time stamps as written in the source, one per row, in time order.
    pub labels: Vec<String>,
    /// The time stamps in seconds since 1970-01-01, when every one of them reads as a date.
    pub seconds: Option<Vec<f64>>,
}

/// Numeric columns in time order (oldest first), some of them the targets to forecast.
#[derive(Debug, Clone, PartialEq)]
pub struct TimeSeries {
    /// Names of the columns, targets first.
    pub columns: Vec<String>,
    /// One vector per column, all of the same length.
    pub values: Vec<Vec<f64>>,
    /// Names of the target columns (the first `targets.len()` of `columns`).
    pub targets: Vec<String>,
    /// The time column, when the source has one.
    pub time: Option<TimeAxis>,
    /// How many missing values were filled (linear interpolation between the neighbours; the
    /// nearest value at either end).
    pub filled: usize,
}

/// Column names a time column often has, for tables where no column reads as dates.
const TIME_NAMES: &[&str] = &[
    "date",
    "time",
    "datetime",
    "timestamp",
    "ds",
    "month",
    "day",
    "period",
    "year",
];

impl TimeSeries {
    /// A single target column given in memory, oldest value first (no time column).
    pub fn from_values(name: &str, values: Vec<f64>) -> Result<Self> {
        Self::from_columns(vec![(name.to_string(), values)], &[name])
    }

    /// Columns given in memory (all of the same length, oldest first); `targets` names those to
    /// forecast. Missing values (NaN) are filled.
    pub fn from_columns(columns: Vec<(String, Vec<f64>)>, targets: &[&str]) -> Result<Self> {
        let spec = SeriesSpec {
            targets: targets.iter().map(|s| s.to_string()).collect(),
            ..Default::default()
        };
        check_targets(&spec, columns.iter().map(|(n, _)| n.as_str()))?;
        let len = columns.first().map(|(_, v)| v.len()).unwrap_or(0);
        if let Some((name, v)) = columns.iter().find(|(_, v)| v.len() != len) {
            return Err(Error::BadShape(format!(
                "column {name:?} has {} values, the first column {len}: give columns of one length",
                v.len()
            )));
        }
        let raw: Vec<(String, Vec<Option<f64>>)> = columns
            .into_iter()
            .map(|(n, v)| {
                let v = v.into_iter().map(|x| x.is_finite().then_some(x)).collect();
                (n, v)
            })
            .collect();
        Self::assemble(raw, &spec, None)
    }

    #[cfg(feature = "tables")]
    /// Reads a CSV file with a header row. Every cell is read as text and then parsed, so that a
    /// non-numeric value in a target column is reported with its row.
    pub fn read_csv(path: impl AsRef<Path>, spec: &SeriesSpec) -> Result<Self> {
        let df = super::table::read_csv_text(path.as_ref())?;
        Self::from_dataframe(&df, spec).map_err(|e| match e {
            Error::NonNumeric {
                column,
                row,
                value,
                origin: _,
            } => Error::NonNumeric {
                column,
                row,
                value,
                origin: path.as_ref().display().to_string(),
            },
            e => e,
        })
    }

    #[cfg(feature = "tables")]
    /// The series in a polars `DataFrame`: numeric columns, or text columns whose values read
    /// as numbers; empty cells, nulls and NaN are missing values and get filled. Columns that
    /// are neither (nor the time column) are left out.
    pub fn from_dataframe(df: &DataFrame, spec: &SeriesSpec) -> Result<Self> {
        let names: Vec<String> = df
            .get_column_names()
            .iter()
            .map(|s| s.to_string())
            .collect();
        check_targets(&spec_or_err(spec)?, names.iter().map(String::as_str))?;
        if let Some(t) = &spec.time_column {
            if !names.contains(t) {
                return Err(Error::ColumnNotFound {
                    column: t.clone(),
                    role: "time",
                    available: names.clone(),
                });
            }
        }
        if let Some(f) = spec.features.iter().flatten().find(|f| !names.contains(f)) {
            return Err(Error::ColumnNotFound {
                column: f.clone(),
                role: "input",
                available: names.clone(),
            });
        }
        let mut numeric: Vec<(String, Vec<Option<f64>>)> = Vec::new();
        let mut time: Option<(String, Vec<Option<String>>)> = None;
        for col in df.columns() {
            let name = col.name().to_string();
            let is_target = spec.targets.contains(&name);
            let wanted = is_target || spec.features.as_ref().is_none_or(|f| f.contains(&name));
            if spec.time_column.as_deref() == Some(name.as_str()) {
                time = Some((name, text_cells(col)?));
                continue;
            }
            let dtype = col.dtype();
            if dtype.is_primitive_numeric() || dtype.is_bool() {
                if wanted {
                    numeric.push((name, float_cells(col)?));
                }
                continue;
            }
            let cells = text_cells(col)?;
            if is_target {
                numeric.push((name.clone(), parse_numbers(&name, &cells)?));
                continue;
            }
            if spec.time_column.is_none() && time.is_none() && reads_as_time(&name, &cells) {
                time = Some((name, cells));
                continue;
            }
            if wanted {
                if let Ok(v) = parse_numbers(&name, &cells) {
                    numeric.push((name, v));
                }
            }
        }
        let time = time.map(|(name, cells)| {
            let labels: Vec<String> = cells.into_iter().map(Option::unwrap_or_default).collect();
            let seconds: Option<Vec<f64>> = labels.iter().map(|l| parse_time(l)).collect();
            TimeAxis {
                name,
                labels,
                seconds,
            }
        });
        Self::assemble(numeric, spec, time)
    }

    /// Orders the columns (targets first), sorts the rows by time, fills missing values.
    fn assemble(
        numeric: Vec<(String, Vec<Option<f64>>)>,
        spec: &SeriesSpec,
        mut time: Option<TimeAxis>,
    ) -> Result<Self> {
        let len = numeric.first().map(|(_, v)| v.len()).unwrap_or(0);
        if len == 0 {
            return Err(Error::EmptyDataset(format!(
                "the series {} has no rows",
                spec.targets.join(", ")
            )));
        }
        let mut ordered: Vec<(String, Vec<Option<f64>>)> = Vec::new();
        for t in &spec.targets {
            if let Some(pos) = numeric.iter().position(|(n, _)| n == t) {
                ordered.push(numeric[pos].clone());
            }
        }
        ordered.extend(
            numeric
                .into_iter()
                .filter(|(n, _)| !spec.targets.contains(n)),
        );
        // Time order: a stable sort by the parsed time stamps, when there are any.
        if let Some(axis) = time.as_mut() {
            if let Some(secs) = axis.seconds.as_ref() {
                if secs.windows(2).any(|w| w[1] < w[0]) {
                    let mut idx: Vec<usize> = (0..len).collect();
                    idx.sort_by(|&a, &b| secs[a].total_cmp(&secs[b]));
                    axis.labels = idx.iter().map(|&i| axis.labels[i].clone()).collect();
                    axis.seconds = Some(idx.iter().map(|&i| secs[i]).collect());
                    for (_, v) in ordered.iter_mut() {
                        *v = idx.iter().map(|&i| v[i]).collect();
                    }
                }
            }
        }
        let mut filled = 0;
        let mut columns = Vec::with_capacity(ordered.len());
        let mut values = Vec::with_capacity(ordered.len());
        for (name, v) in ordered {
            let missing = v.iter().filter(|x| x.is_none()).count();
            if missing == v.len() {
                return Err(Error::EmptyDataset(format!(
                    "column {name:?} has no values (all {} cells are empty)",
                    v.len()
                )));
            }
            filled += missing;
            values.push(fill_missing(&v));
            columns.push(name);
        }
        Ok(TimeSeries {
            columns,
            values,
            targets: spec.targets.clone(),
            time,
            filled,
        })
    }

    /// Number of time steps.
    pub fn len(&self) -> usize {
        self.values.first().map_or(0, Vec::len)
    }

    /// True when there are no time steps.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The values of a column.
    pub fn column(&self, name: &str) -> Option<&[f64]> {
        self.columns
            .iter()
            .position(|c| c == name)
            .map(|i| self.values[i].as_slice())
    }

    /// The sampling frequency, from the time stamps.
    pub fn frequency(&self) -> Option<Frequency> {
        self.time
            .as_ref()
            .and_then(|t| t.seconds.as_deref())
            .and_then(Frequency::detect)
    }

    /// Rows `start..end`.
    pub fn slice(&self, start: usize, end: usize) -> TimeSeries {
        let end = end.min(self.len());
        let start = start.min(end);
        TimeSeries {
            columns: self.columns.clone(),
            values: self.values.iter().map(|v| v[start..end].to_vec()).collect(),
            targets: self.targets.clone(),
            time: self.time.as_ref().map(|t| TimeAxis {
                name: t.name.clone(),
                labels: t.labels[start..end].to_vec(),
                seconds: t.seconds.as_ref().map(|s| s[start..end].to_vec()),
            }),
            filled: self.filled,
        }
    }

    /// The series without its last `n` points, and those points (a time-ordered hold-out).
    pub fn split_last(&self, n: usize) -> Result<(TimeSeries, TimeSeries)> {
        if n == 0 || n >= self.len() {
            return Err(Error::Config(format!(
                "cannot hold out the last {n} of {} points: hold out at least 1 and leave some to train on",
                self.len()
            )));
        }
        let cut = self.len() - n;
        Ok((self.slice(0, cut), self.slice(cut, self.len())))
    }

    /// The values of `columns` (by name) from this series, for a model that takes them in that
    /// order; a missing column is an error.
    pub fn values_of(&self, columns: &[String]) -> Result<Vec<&[f64]>> {
        columns
            .iter()
            .map(|c| {
                self.column(c).ok_or_else(|| Error::ColumnNotFound {
                    column: c.clone(),
                    role: "model input",
                    available: self.columns.clone(),
                })
            })
            .collect()
    }
}

fn spec_or_err(spec: &SeriesSpec) -> Result<SeriesSpec> {
    if spec.targets.is_empty() {
        return Err(Error::Config(
            "name at least one target column to forecast".into(),
        ));
    }
    Ok(spec.clone())
}

fn check_targets<'a>(spec: &SeriesSpec, names: impl Iterator<Item = &'a str>) -> Result<()> {
    let names: Vec<String> = names.map(str::to_string).collect();
    let spec = spec_or_err(spec)?;
    match spec.targets.iter().find(|t| !names.contains(t)) {
        Some(t) => Err(Error::ColumnNotFound {
            column: t.clone(),
            role: "target",
            available: names,
        }),
        None => Ok(()),
    }
}

#[cfg(feature = "tables")]
fn polars_err(e: polars::prelude::PolarsError) -> Error {
    Error::Config(format!("cannot read the table: {e}"))
}

#[cfg(feature = "tables")]
fn text_cells(col: &polars::prelude::Column) -> Result<Vec<Option<String>>> {
    let s = col.cast(&DataType::String).map_err(polars_err)?;
    Ok(s.str()
        .map_err(polars_err)?
        .iter()
        .map(|v| v.map(str::to_string))
        .collect())
}

#[cfg(feature = "tables")]
fn float_cells(col: &polars::prelude::Column) -> Result<Vec<Option<f64>>> {
    let s = col.cast(&DataType::Float64).map_err(polars_err)?;
    Ok(s.f64()
        .map_err(polars_err)?
        .iter()
        .map(|v| v.filter(|x| !x.is_nan()))
        .collect())
}

/// Empty cells and the usual spellings of a missing value.
fn is_missing(s: &str) -> bool {
    matches!(
        s.trim().to_ascii_lowercase().as_str(),
        "" | "na" | "n/a" | "nan" | "null" | "none" | "?"
    )
}

/// Numbers from text cells; the first cell that is neither a number nor missing is an error.
fn parse_numbers(column: &str, cells: &[Option<String>]) -> Result<Vec<Option<f64>>> {
    cells
        .iter()
        .enumerate()
        .map(|(row, c)| match c.as_deref() {
            None => Ok(None),
            Some(s) if is_missing(s) => Ok(None),
            Some(s) => match s.trim().parse::<f64>() {
                Ok(v) if v.is_finite() => Ok(Some(v)),
                _ => Err(Error::NonNumeric {
                    column: column.to_string(),
                    row: row + 1,
                    value: s.to_string(),
                    origin: "the table".into(),
                }),
            },
        })
        .collect()
}

/// Whether a text column holds the time stamps: every value reads as a date with at least a
/// month (`1949-01`; a bare `1949` could be any number), or it is named like a time column.
fn reads_as_time(name: &str, cells: &[Option<String>]) -> bool {
    let present: Vec<&str> = cells.iter().flatten().map(String::as_str).collect();
    !present.is_empty()
        && (present
            .iter()
            .all(|s| parse_time(s).is_some() && !s.trim().bytes().all(|b| b.is_ascii_digit()))
            || TIME_NAMES.contains(&name.to_ascii_lowercase().as_str()))
}

/// Linear interpolation of missing values; the nearest value at either end.
fn fill_missing(v: &[Option<f64>]) -> Vec<f64> {
    let known: Vec<(usize, f64)> = v
        .iter()
        .enumerate()
        .filter_map(|(i, x)| x.map(|x| (i, x)))
        .collect();
    let mut out = Vec::with_capacity(v.len());
    let mut k = 0;
    for (i, cell) in v.iter().enumerate() {
        while k + 1 < known.len() && known[k + 1].0 <= i {
            k += 1;
        }
        let (i0, x0) = known[k];
        out.push(match *cell {
            Some(x) => x,
            None if i < i0 || k + 1 == known.len() => x0,
            None => {
                let (i1, x1) = known[k + 1];
                x0 + (x1 - x0) * (i - i0) as f64 / (i1 - i0) as f64
            }
        });
    }
    out
}

/// Seconds since 1970-01-01 of an ISO-like time stamp: `YYYY`, `YYYY-MM`, `YYYY-MM-DD`, with
/// `-`, `/` or `.` between the parts, optionally followed by `HH:MM[:SS[.fff]]` after a space
/// or `T`.
pub fn parse_time(s: &str) -> Option<f64> {
    let s = s.trim();
    let (date, clock) = match s.find([' ', 'T']) {
        Some(i) => (&s[..i], Some(s[i + 1..].trim_end_matches('Z'))),
        None => (s, None),
    };
    let parts: Vec<&str> = date.split(['-', '/', '.']).collect();
    let num = |p: &str, digits: std::ops::RangeInclusive<usize>| -> Option<i64> {
        (digits.contains(&p.len()) && p.bytes().all(|b| b.is_ascii_digit()))
            .then(|| p.parse().ok())
            .flatten()
    };
    let year = num(parts.first()?, 4..=4)?;
    let month = match parts.get(1) {
        Some(p) => num(p, 1..=2)?,
        None => 1,
    };
    let day = match parts.get(2) {
        Some(p) => num(p, 1..=2)?,
        None => 1,
    };
    if parts.len() > 3 || !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return None;
    }
    let mut secs = days_from_civil(year, month, day) as f64 * 86_400.0;
    if let Some(c) = clock {
        let f: Vec<&str> = c.split(':').collect();
        let h: f64 = f.first()?.parse().ok()?;
        let m: f64 = f.get(1).map_or(Some(0.0), |x| x.parse().ok())?;
        let sec: f64 = f.get(2).map_or(Some(0.0), |x| x.parse().ok())?;
        if f.len() > 3 || !(0.0..24.0).contains(&h) || !(0.0..60.0).contains(&m) {
            return None;
        }
        secs += h * 3600.0 + m * 60.0 + sec;
    }
    Some(secs)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_read_as_seconds() {
        assert_eq!(parse_time("1970-01-02"), Some(86_400.0));
        assert_eq!(parse_time("1970-01"), Some(0.0));
        assert_eq!(parse_time("2000-03-01T01:00:00Z"), Some(951_872_400.0));
        assert_eq!(parse_time("12.5"), None);
        assert_eq!(parse_time("1949-13"), None);
    }

    #[test]
    fn frequency_follows_the_median_step() {
        let months: Vec<f64> = (0..24)
            .map(|i| parse_time(&format!("{}-{:02}", 1949 + i / 12, i % 12 + 1)).unwrap())
            .collect();
        assert_eq!(Frequency::detect(&months), Some(Frequency::Monthly));
        let days: Vec<f64> = (0..10).map(|i| i as f64 * 86_400.0).collect();
        assert_eq!(Frequency::detect(&days), Some(Frequency::Daily));
    }

    #[test]
    fn gaps_are_interpolated() {
        let v = fill_missing(&[None, Some(1.0), None, Some(3.0), None]);
        assert_eq!(v, vec![1.0, 1.0, 2.0, 3.0, 3.0]);
    }
}
