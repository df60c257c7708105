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
    let bytes = check_utf8(bytes, path)?;
    check_field_counts(&bytes, b',').map_err(format)?;
    if has_header {
        check_header_names(&bytes, b',').map_err(format)?;
    }
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

/// The byte-order marks of the encodings a CSV file must not be in, longest first.
const FOREIGN_BOMS: [(&[u8], &str, &str); 4] = [
    (&[0xff, 0xfe, 0, 0], "UTF-32LE", "UTF-32"),
    (&[0, 0, 0xfe, 0xff], "UTF-32BE", "UTF-32"),
    (&[0xff, 0xfe], "UTF-16LE", "UTF-16"),
    (&[0xfe, 0xff], "UTF-16BE", "UTF-16"),
];

/// How many leading bytes are searched for NUL bytes (UTF-16 or UTF-32 text without a BOM).
const NUL_WINDOW: usize = 4096;

/// The UTF-8 text of a CSV file, without its UTF-8 byte-order mark if it has one. A UTF-16 or
/// UTF-32 file (a byte-order mark, or NUL bytes among the first 4 KiB) and invalid UTF-8 are
/// [`Error::NotUtf8`], naming the file (and, for invalid UTF-8, the line).
pub(crate) fn check_utf8(mut bytes: Vec<u8>, path: &Path) -> Result<Vec<u8>> {
    let not_utf8 = |detail: String| Error::NotUtf8 {
        what: format!("the CSV file {}", path.display()),
        detail,
    };
    if let Some((_, name, family)) = FOREIGN_BOMS.iter().find(|(bom, ..)| bytes.starts_with(bom)) {
        return Err(not_utf8(format!(
            "it is {name} text (it starts with a {name} byte-order mark); \
             convert it to UTF-8, e.g. iconv -f {family} -t UTF-8 in.csv > out.csv"
        )));
    }
    if bytes[..bytes.len().min(NUL_WINDOW)].contains(&0) {
        return Err(not_utf8(
            "it holds NUL bytes, so it is likely UTF-16 or UTF-32 text; convert it to UTF-8, \
             e.g. iconv -f UTF-16 -t UTF-8 in.csv > out.csv"
                .into(),
        ));
    }
    if bytes.starts_with(&[0xef, 0xbb, 0xbf]) {
        bytes.drain(..3);
    }
    if let Err(e) = std::str::from_utf8(&bytes) {
        let at = e.valid_up_to();
        let line = 1 + bytes[..at].iter().filter(|&&b| b == b'\n').count();
        let column = 1 + at
            - bytes[..at]
                .iter()
                .rposition(|&b| b == b'\n')
                .map_or(0, |p| p + 1);
        return Err(not_utf8(format!(
            "byte 0x{:02x} on line {line}, column {column} is not UTF-8; convert the file to \
             UTF-8, e.g. iconv -f LATIN1 -t UTF-8 in.csv > out.csv, or fix that line",
            bytes[at]
        )));
    }
    Ok(bytes)
}

/// The fields of the first non-blank record of a CSV text, unquoted.
fn header_fields(bytes: &[u8], sep: u8) -> Vec<String> {
    let mut fields = Vec::new();
    let mut field = Vec::new();
    let mut in_quotes = false;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if in_quotes {
            if b == b'"' && bytes.get(i + 1) == Some(&b'"') {
                field.push(b'"');
                i += 1;
            } else if b == b'"' {
                in_quotes = false;
            } else {
                field.push(b);
            }
        } else if b == b'"' {
            in_quotes = true;
        } else if b == sep {
            fields.push(String::from_utf8_lossy(&field).into_owned());
            field.clear();
        } else if b == b'\n' {
            if fields.is_empty() && field.iter().all(|c| c.is_ascii_whitespace()) {
                field.clear();
            } else {
                break;
            }
        } else if b != b'\r' {
            field.push(b);
        }
        i += 1;
    }
    fields.push(String::from_utf8_lossy(&field).into_owned());
    fields
}

/// Checks that no two columns of the header line share a name (polars would rename the second
/// one `NAME_duplicated_0` without a word).
fn check_header_names(bytes: &[u8], sep: u8) -> std::result::Result<(), String> {
    let names = header_fields(bytes, sep);
    for (j, name) in names.iter().enumerate() {
        if let Some(i) = names[..j].iter().position(|n| n == name) {
            return Err(format!(
                "the header names the column {name:?} twice (columns {} and {}); give every \
                 column its own name",
                i + 1,
                j + 1
            ));
        }
    }
    Ok(())
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

    #[test]
    fn header_names_must_differ() {
        assert!(check_header_names(b"\na,\"a,b\",c\n1,2,3\n", b',').is_ok());
        let e = check_header_names(b"x,y,\"x\"\r\n1,2,3\n", b',').unwrap_err();
        assert!(e.contains("\"x\" twice (columns 1 and 3)"), "{e}");
    }

    #[test]
    fn foreign_encodings_are_refused() {
        let p = Path::new("t.csv");
        let utf16: Vec<u8> = [0xff, 0xfe]
            .into_iter()
            .chain("a,b\n1,2\n".encode_utf16().flat_map(u16::to_le_bytes))
            .collect();
        let e = check_utf8(utf16.clone(), p).unwrap_err().to_string();
        assert!(
            e.contains("t.csv") && e.contains("iconv -f UTF-16 -t UTF-8"),
            "{e}"
        );
        let e = check_utf8(utf16[2..].to_vec(), p).unwrap_err().to_string();
        assert!(e.contains("NUL bytes"), "{e}");
        let e = check_utf8(b"a,b\n1,2\n3,\xe9t\xe9\n".to_vec(), p)
            .unwrap_err()
            .to_string();
        assert!(e.contains("line 3, column 3") && e.contains("t.csv"), "{e}");
        assert_eq!(
            check_utf8(b"\xef\xbb\xbfa\n1\n".to_vec(), p).unwrap(),
            b"a\n1\n"
        );
    }
}
