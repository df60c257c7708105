//! Data sources named on the command line: the built-in datasets, IMDB, CSV tables and California housing.

use autocandle::data::{datasets, ImageDataset, ImdbTarget, Split, TextDataset, TextSplit};
use autocandle::prelude::*;
use polars::prelude::DataFrame;
use std::path::PathBuf;

/// A data source's training part and, when it has one, its test part.
pub(crate) enum Data {
    /// Images (or other arrays).
    Images(ImageDataset, Option<ImageDataset>),
    /// Texts.
    Texts(TextDataset, Option<TextDataset>),
}

/// The data of `spec`; `ratings` picks IMDB's ratings (regression) over its sentiment labels.
pub(crate) fn load(spec: &str, ratings: bool) -> autocandle::Result<Data> {
    let (kind, path) = spec.split_once(':').unwrap_or((spec, ""));
    let p = (!path.is_empty()).then(|| PathBuf::from(path));
    if kind == "imdb" {
        let target = if ratings {
            ImdbTarget::Rating
        } else {
            ImdbTarget::Sentiment
        };
        let s: TextSplit = datasets::imdb(p.as_deref(), target)?;
        return Ok(Data::Texts(s.train, Some(s.test)));
    }
    load_images(kind, p).map(|(train, test)| Data::Images(train, test))
}

/// The images of source `kind` at `p`, and their test part when there is one.
pub(crate) fn load_images(
    kind: &str,
    p: Option<PathBuf>,
) -> autocandle::Result<(ImageDataset, Option<ImageDataset>)> {
    let split = |s: Split| (s.train, Some(s.test));
    match kind {
        "mnist" => datasets::mnist(p.as_deref()).map(split),
        "fashion_mnist" | "fashion-mnist" => datasets::fashion_mnist(p.as_deref()).map(split),
        "cifar10" => datasets::cifar10(p.as_deref()).map(split),
        "images" => {
            let dir = p.ok_or_else(|| Error::Config("images: needs a folder, as in images:path/to/folder".into()))?;
            Ok((datasets::image_folder(&dir, None)?, None))
        }
        "digits" => {
            let d = datasets::digits()?;
            let (train, test) = holdout(&d, 0.2, 42);
            Ok((train, Some(test)))
        }
        "csv" | "california_housing" => Err(Error::Config(format!(
            "{kind}: is a table: use it with --task structured-classifier or structured-regressor"
        ))),
        other => Err(Error::Config(format!(
            "unknown data source {other:?}: use mnist:<dir>, cifar10:<tar.gz or dir>, images:<dir>, digits or imdb:<tar.gz or dir>"
        ))),
    }
}

/// The seed of the holdout and California housing splits (fixed, so that every search is
/// measured on the same rows).
pub(crate) const SPLIT_SEED: u64 = 42;

/// A table source: the training table, its test part when the source has one, and the target
/// column when the source names it.
pub(crate) struct TableSource {
    pub(crate) train: DataFrame,
    pub(crate) test: Option<DataFrame>,
    pub(crate) target: Option<String>,
}

/// Reads `csv:<file>` or `california_housing:<dir>` (the latter split 80/20 with a fixed seed).
pub(crate) fn load_table(spec: &str) -> autocandle::Result<TableSource> {
    let (kind, path) = spec.split_once(':').unwrap_or((spec, ""));
    match kind {
        "csv" if !path.is_empty() => Ok(TableSource {
            train: autocandle::data::read_csv(path)?,
            test: None,
            target: None,
        }),
        "california_housing" => {
            let dir = if path.is_empty() {
                std::env::var_os("AUTOCANDLE_DATA")
                    .map(|d| PathBuf::from(d).join("california_housing"))
                    .ok_or_else(|| {
                        Error::Config(
                            "california_housing: needs a folder (california_housing:<dir>) or AUTOCANDLE_DATA"
                                .into(),
                        )
                    })?
            } else {
                PathBuf::from(path)
            };
            let df = datasets::california_housing(&dir)?;
            let (train, test) = autocandle::data::train_test_split(&df, 0.2, SPLIT_SEED)?;
            Ok(TableSource {
                train,
                test: Some(test),
                target: Some(autocandle::data::CALIFORNIA_TARGET.into()),
            })
        }
        _ => Err(Error::Config(format!(
            "unknown table source {spec:?}: use csv:<file> or california_housing:<dir>"
        ))),
    }
}

/// A seeded shuffle split.
pub(crate) fn holdout(d: &ImageDataset, frac: f64, seed: u64) -> (ImageDataset, ImageDataset) {
    use rand::seq::SliceRandom;
    use rand::SeedableRng;
    let mut idx: Vec<usize> = (0..d.len()).collect();
    idx.shuffle(&mut rand_chacha::ChaCha8Rng::seed_from_u64(seed));
    let n_test = (d.len() as f64 * frac).round() as usize;
    (d.select(&idx[n_test..]), d.select(&idx[..n_test]))
}
