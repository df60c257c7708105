//! scikit-learn's 8x8 handwritten digits (1,797 images, values 0..=16), shipped in the crate.
//!
//! Format: CSV (gzip or plain), one image per line: 64 pixel values row by row, then the
//! target. A first line in scikit-learn's header style (`n_samples,n_features,...`) is allowed.

use std::path::Path;

use super::dataset::{ImageData, ImageDataset};
use super::read::{gunzip_bytes, read_file};
use crate::error::{Error, Result};

/// `assets/digits.csv.gz`, as scikit-learn ships it.
const EMBEDDED: &[u8] =
    include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/assets/digits.csv.gz"));
/// Pixels per image.
const PIXELS: usize = 64;
/// Largest pixel value.
const MAX_VALUE: u8 = 16;
/// The name the embedded copy goes by in errors.
const EMBEDDED_NAME: &str = "<embedded assets/digits.csv.gz>";

/// The embedded copy.
pub(crate) fn embedded() -> Result<ImageDataset> {
    parse(EMBEDDED, Path::new(EMBEDDED_NAME))
}

/// A file of the same format (gzip or plain CSV).
pub(crate) fn from_file(path: &Path) -> Result<ImageDataset> {
    let bytes = read_file(path, "digits CSV")?;
    parse(&bytes, path)
}

/// Parses the (possibly gzip) CSV `bytes`; `path` names them in errors.
fn parse(bytes: &[u8], path: &Path) -> Result<ImageDataset> {
    let text = gunzip_bytes(bytes, path)?;
    let bad = |line: usize, detail: String| Error::Format {
        path: path.to_path_buf(),
        format: "scikit-learn digits CSV",
        detail: format!("line {line}: {detail}"),
    };
    let text = std::str::from_utf8(&text).map_err(|e| bad(1, format!("not UTF-8 text: {e}")))?;
    let mut pixels = Vec::new();
    let mut targets = Vec::new();
    let mut announced = None;
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let fields: Vec<&str> = line.split(',').map(str::trim).collect();
        if fields.len() != PIXELS + 1 {
            if targets.is_empty() && announced.is_none() {
                announced = Some(parse_header(&fields).ok_or_else(|| {
                    bad(
                        i + 1,
                        format!(
                            "{} fields; expected {} (64 pixels and the target)",
                            fields.len(),
                            PIXELS + 1
                        ),
                    )
                })?);
                continue;
            }
            return Err(bad(
                i + 1,
                format!(
                    "{} fields; expected {} (64 pixels and the target)",
                    fields.len(),
                    PIXELS + 1
                ),
            ));
        }
        for f in &fields[..PIXELS] {
            pixels.push(
                integer(f)
                    .and_then(|v| u8::try_from(v).ok())
                    .filter(|&v| v <= MAX_VALUE)
                    .ok_or_else(|| {
                        bad(
                            i + 1,
                            format!("pixel value {f:?} is not an integer in 0..=16"),
                        )
                    })?,
            );
        }
        let target = fields[PIXELS];
        targets.push(
            integer(target)
                .ok_or_else(|| bad(i + 1, format!("target {target:?} is not an integer")))?,
        );
    }
    if targets.is_empty() {
        return Err(Error::EmptyDataset(format!(
            "{} holds no digit",
            path.display()
        )));
    }
    if let Some(n) = announced.filter(|&n| n != targets.len()) {
        return Err(bad(
            1,
            format!(
                "the header announces {n} samples but {} follow",
                targets.len()
            ),
        ));
    }
    let x = ImageData::from_u8(pixels, &[targets.len(), 8, 8, 1])?;
    ImageDataset::new(x, targets)
}

/// The number of samples a scikit-learn header (`n_samples,64,...`) announces.
fn parse_header(fields: &[&str]) -> Option<usize> {
    let n = fields.first()?.parse().ok()?;
    (fields.get(1)?.parse::<usize>().ok()? == PIXELS).then_some(n)
}

/// An integer written as `7`, `7.0` or `7.`.
fn integer(s: &str) -> Option<i64> {
    if let Ok(v) = s.parse::<i64>() {
        return Some(v);
    }
    let v: f64 = s.parse().ok()?;
    (v.fract() == 0.0 && v.abs() < 1e15).then_some(v as i64)
}
