//! Tables: CSV files read into polars DataFrames, the California housing dataset, and a seeded
//! train/test split.
//!
//! polars fills short rows with nulls without a word; [`read_csv`] checks every record's field
//! count against the header first and names the first line that differs.

use std::io::Cursor;
use std::path::Path;

use polars::prelude::{CsvReadOptions, DataFrame, IdxCa, IdxSize, SerReader};
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::error::{Error, Result};

/// Turns a polars error into an autocandle one.
pub(crate) fn polars_error(e: polars::error::PolarsError) -> Error {
    Error::Table(e.to_string())
}

/// A CSV file with a header line, as a DataFrame: column types inferred from the whole file,
/// empty fields as nulls. Fails on a missing file, on an empty one, and on a row whose number
/// of fields differs from the header's (naming the line).
///
/// ```no_run
/// let df = autocandle::data::read_csv("titanic/train.csv")?;
/// println!("{} rows, columns {:?}", df.height(), df.get_column_names());
/// # Ok::<(), autocandle::Error>(())
/// ```
pub fn read_csv(path: impl AsRef<Path>) -> Result<DataFrame> {
    read_table(path.as_ref(), true, true)
}

/// A CSV file with a header line, every column read as text (for callers that parse cells
/// themselves, such as dates); the same checks as [`read_csv`].
pub fn read_csv_text(path: impl AsRef<Path>) -> Result<DataFrame> {
    read_table(path.as_ref(), true, false)
}

/// The column `name` of `df` as strings (numbers written out, missing cells empty): the texts
/// of a text task read from a CSV file.
pub fn text_column(df: &DataFrame, name: &str) -> Result<Vec<String>> {
    let col = df.column(name).map_err(|_| Error::ColumnNotFound {
        column: name.to_string(),
        role: "text",
        available: df
            .get_column_names()
            .iter()
            .map(|s| s.to_string())
            .collect(),
    })?;
    let text = col
        .cast(&polars::prelude::DataType::String)
        .map_err(polars_error)?;
    Ok(text
        .str()
        .map_err(polars_error)?
        .iter()
        .map(|s| s.unwrap_or_default().to_string())
        .collect())
}

/// Reads `path` (header line or not; column types inferred or all text), after the ragged-row
/// check.
fn read_table(path: &Path, has_header: bool, infer_types: bool) -> Result<DataFrame> {
    let bytes = std::fs::read(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => Error::DataNotFound {
            what: "CSV file".into(),
            path: path.to_path_buf(),
            hint: "check the path".into(),
        },
        _ => Error::io(path, e),
    })?;
    let format = |detail: String| Error::Format {
        path: path.to_path_buf(),
        format: "CSV",
        detail,
    };
    check_field_counts(&bytes, b',').map_err(format)?;
    let df = CsvReadOptions::default()
        .with_has_header(has_header)
        .with_infer_schema_length(if infer_types { None } else { Some(0) })
        .into_reader_with_file_handle(Cursor::new(bytes))
        .finish()
        .map_err(|e| format(e.to_string()))?;
    if df.height() == 0 {
        return Err(Error::EmptyDataset(format!(
            "{} has no data rows",
            path.display()
        )));
    }
    Ok(df)
}

/// Checks that every record of a CSV text has as many fields as the first one. Quoted fields
/// may hold separators, doubled quotes and line breaks; blank lines are skipped.
fn check_field_counts(bytes: &[u8], sep: u8) -> std::result::Result<(), String> {
    let mut expected: Option<(usize, usize)> = None; // (fields, line of the first record)
    let mut line = 1usize;
    let mut record_line = 1usize;
    let mut fields = 1usize;
    let mut in_quotes = false;
    let mut empty = true;
    let mut i = 0;
    let mut end_record = |fields: usize, record_line: usize, empty: bool| {
        if empty {
            return Ok(());
        }
        match expected {
            None => {
                expected = Some((fields, record_line));
                Ok(())
            }
            Some((n, first)) if n != fields => Err(format!(
                "line {record_line} has {fields} field(s) but line {first} has {n}: \
                 every row needs the same number of comma-separated fields (ragged rows \
                 would be filled with missing values silently); fix or remove that line"
            )),
            Some(_) => Ok(()),
        }
    };
    while i < bytes.len() {
        let b = bytes[i];
        if in_quotes {
            if b == b'"' {
                if bytes.get(i + 1) == Some(&b'"') {
                    i += 1;
                } else {
                    in_quotes = false;
                }
            } else if b == b'\n' {
                line += 1;
            }
        } else if b == b'"' {
            in_quotes = true;
            empty = false;
        } else if b == sep {
            fields += 1;
            empty = false;
        } else if b == b'\n' {
            end_record(fields, record_line, empty)?;
            line += 1;
            record_line = line;
            fields = 1;
            empty = true;
        } else if b != b'\r' && b != b' ' && b != b'\t' {
            empty = false;
        }
        i += 1;
    }
    if in_quotes {
        return Err(format!(
            "a quoted field opened on line {record_line} is never closed"
        ));
    }
    end_record(fields, record_line, empty)
}

/// The column names of California housing in `cal_housing.domain` (`name: continuous.` lines).
fn domain_names(path: &Path) -> Result<Vec<String>> {
    let text = std::fs::read_to_string(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => Error::DataNotFound {
            what: "California housing column names (cal_housing.domain)".into(),
            path: path.to_path_buf(),
            hint: "give the folder of the StatLib archive CaliforniaHousing/, which holds \
                   cal_housing.data and cal_housing.domain"
                .into(),
        },
        _ => Error::io(path, e),
    })?;
    let names: Vec<String> = text
        .lines()
        .filter_map(|l| l.split_once(':').map(|(n, _)| n.trim().to_string()))
        .filter(|n| !n.is_empty())
        .collect();
    if names.is_empty() {
        return Err(Error::Format {
            path: path.to_path_buf(),
            format: "cal_housing.domain",
            detail: "no `name: type` lines".into(),
        });
    }
    Ok(names)
}

/// The target column of California housing.
pub const CALIFORNIA_TARGET: &str = "medianHouseValue";

/// California housing from the StatLib files in `dir`; see
/// [`datasets::california_housing`](super::datasets::california_housing).
pub(crate) fn california_housing(dir: &Path) -> Result<DataFrame> {
    let names = domain_names(&dir.join("cal_housing.domain"))?;
    let data = dir.join("cal_housing.data");
    let mut df = read_table(&data, false, true)?;
    if df.width() != names.len() {
        return Err(Error::Format {
            path: data,
            format: "cal_housing.data",
            detail: format!(
                "{} columns, but cal_housing.domain names {}",
                df.width(),
                names.len()
            ),
        });
    }
    df.set_column_names(&names).map_err(polars_error)?;
    let target = df.column(CALIFORNIA_TARGET).map_err(polars_error)?;
    let scaled = target.as_materialized_series() / 100_000.0f64;
    df.replace(CALIFORNIA_TARGET, scaled.into())
        .map_err(polars_error)?;
    Ok(df)
}

/// A seeded shuffle split: `(train, test)` with `round(n * test_fraction)` rows in `test`.
pub fn train_test_split(
    df: &DataFrame,
    test_fraction: f64,
    seed: u64,
) -> Result<(DataFrame, DataFrame)> {
    if !(test_fraction > 0.0 && test_fraction < 1.0) {
        return Err(Error::Config(format!(
            "the test fraction must be in (0, 1), got {test_fraction}"
        )));
    }
    let n = df.height();
    let n_test = (n as f64 * test_fraction).round() as usize;
    if n_test == 0 || n_test == n {
        return Err(Error::EmptyDataset(format!(
            "{n} row(s) cannot be split into train and test parts"
        )));
    }
    let mut idx: Vec<IdxSize> = (0..n as IdxSize).collect();
    idx.shuffle(&mut ChaCha8Rng::seed_from_u64(seed));
    let take = |part: &[IdxSize]| {
        df.take(&IdxCa::from_vec("idx".into(), part.to_vec()))
            .map_err(polars_error)
    };
    Ok((take(&idx[n_test..])?, take(&idx[..n_test])?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_counts() {
        assert!(check_field_counts(b"a,b\n1,2\n3,4\n", b',').is_ok());
        assert!(check_field_counts(b"a,b\r\n1,2\r\n\r\n3,4", b',').is_ok());
        assert!(check_field_counts(b"a,b\n\"x,y\",2\n\"multi\nline\",4\n", b',').is_ok());
        let e = check_field_counts(b"a,b\n1,2\n3\n4,5\n", b',').unwrap_err();
        assert!(
            e.starts_with("line 3 has 1 field(s) but line 1 has 2"),
            "{e}"
        );
        let e = check_field_counts(b"a,b\n\"q\nq\",2\n1,2,3\n", b',').unwrap_err();
        assert!(e.starts_with("line 4 has 3"), "{e}");
        assert!(check_field_counts(b"a,b\n\"open,1\n", b',').is_err());
    }
}
