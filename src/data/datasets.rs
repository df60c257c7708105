//! Ready-made datasets and loaders for image folders.
//!
//! The downloadable datasets ([`mnist`], [`fashion_mnist`], [`cifar10`], [`imdb`]) take an
//! optional path.
//! Without one they are looked for in `$AUTOCANDLE_DATA/<name>`, then in the cache
//! (`$AUTOCANDLE_CACHE`, `$XDG_CACHE_HOME/autocandle` or `~/.cache/autocandle`), and are
//! downloaded there otherwise (with `curl`; `AUTOCANDLE_OFFLINE=1` forbids it). See
//! [`source`](super::source) for the details.

use std::path::Path;

use super::dataset::{ImageDataset, Split};
use super::source::{self, Settings};
use super::text::TextSplit;
use super::{cifar, digits, image_folder as folder, imdb, mnist as idx_split, ImdbTarget};
use crate::error::Result;

/// MNIST handwritten digits: 60,000 training and 10,000 test images, `u8` of shape
/// `[n, 28, 28, 1]`, integer labels 0..=9.
///
/// `path` is a folder holding the four IDX files (`train-images-idx3-ubyte.gz`,
/// `train-labels-idx1-ubyte.gz`, `t10k-images-idx3-ubyte.gz`, `t10k-labels-idx1-ubyte.gz`, gzip
/// or raw). With `None` the folder is found or downloaded as the [module](self) documentation
/// says; downloads are checked against the published sha256.
///
/// ```no_run
/// let mnist = autocandle::data::datasets::mnist(None)?;
/// assert_eq!(mnist.train.x.shape, [60_000, 28, 28, 1]);
/// assert_eq!(mnist.test.len(), 10_000);
/// # Ok::<(), autocandle::Error>(())
/// ```
pub fn mnist(path: Option<&Path>) -> Result<Split> {
    let found = source::locate(&source::MNIST, path, &Settings::from_env())?;
    idx_split::load_split(&found.path, "MNIST", None)
}

/// Fashion-MNIST (Zalando): 60,000 training and 10,000 test images of clothes, `u8` of shape
/// `[n, 28, 28, 1]`, integer labels 0..=9, with `class_names` set (`"T-shirt/top"`, ...,
/// `"Ankle boot"`).
///
/// The same IDX files as [`mnist`], looked for in `$AUTOCANDLE_DATA/fashion_mnist` and the cache
/// folder `fashion_mnist`, and downloaded from Zalando's official bucket
/// (`http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/`); downloads are checked against
/// the sha256 values published for those files.
///
/// ```no_run
/// let fashion = autocandle::data::datasets::fashion_mnist(None)?;
/// assert_eq!(fashion.train.class_names.as_ref().unwrap()[9], "Ankle boot");
/// # Ok::<(), autocandle::Error>(())
/// ```
pub fn fashion_mnist(path: Option<&Path>) -> Result<Split> {
    let found = source::locate(&source::FASHION_MNIST, path, &Settings::from_env())?;
    idx_split::load_split(
        &found.path,
        "Fashion-MNIST",
        Some(&idx_split::FASHION_CLASSES),
    )
}

/// CIFAR-10: 50,000 training and 10,000 test colour images, `u8` of shape `[n, 32, 32, 3]`,
/// integer labels 0..=9, with `class_names` (`"airplane"`, ..., `"truck"`) from
/// `batches.meta.txt`.
///
/// `path` is the official binary archive `cifar-10-binary.tar.gz` (read without extracting it),
/// its extracted `cifar-10-batches-bin` folder, or a folder holding either. With `None` it is
/// found or downloaded as the [module](self) documentation says. The six batch files are
/// checked against their published sha256 whenever they come from the cache or a download
/// (whose archive bytes differ between mirrors); a file cut short is always an error.
///
/// ```no_run
/// let cifar = autocandle::data::datasets::cifar10(None)?;
/// assert_eq!(cifar.train.x.shape, [50_000, 32, 32, 3]);
/// # Ok::<(), autocandle::Error>(())
/// ```
pub fn cifar10(path: Option<&Path>) -> Result<Split> {
    let found = source::locate(&source::CIFAR10, path, &Settings::from_env())?;
    let verify = matches!(
        found.origin,
        source::Origin::Cache | source::Origin::Downloaded
    );
    cifar::load(&found.path, verify)
}

/// IMDB movie reviews (Maas et al., 2011): 25,000 training and 25,000 test reviews, balanced,
/// as [`TextDataset`](super::TextDataset)s. With [`ImdbTarget::Sentiment`] the targets are
/// integer labels 0 (`neg`) and 1 (`pos`), with `class_names` set; with
/// [`ImdbTarget::Rating`] they are the reviewers' ratings (1–4 and 7–10) as real values.
///
/// `path` is the official archive `aclImdb_v1.tar.gz` (read streaming, without extracting
/// it), its extracted `aclImdb` folder, or a folder holding either. With `None` it is found in
/// `$AUTOCANDLE_DATA/imdb` or the cache, or downloaded from Stanford (`AUTOCANDLE_OFFLINE=1`
/// forbids it). A review that is not UTF-8 is an error naming its file.
///
/// ```no_run
/// use autocandle::data::{datasets, ImdbTarget};
/// let imdb = datasets::imdb(None, ImdbTarget::Sentiment)?;
/// assert_eq!(imdb.train.len(), 25_000);
/// # Ok::<(), autocandle::Error>(())
/// ```
pub fn imdb(path: Option<&Path>, target: ImdbTarget) -> Result<TextSplit> {
    let found = source::locate(&source::IMDB, path, &Settings::from_env())?;
    imdb::load(&found.path, target)
}

/// Images sorted into one sub-folder per class: `dir/<class>/<image>.png|jpg|jpeg`.
///
/// Classes are the sub-folders' names, sorted (folders without images and hidden folders are
/// skipped); targets are [`Targets::Str`](super::Targets::Str) of those names and
/// `class_names` is set. Files are read in sorted order; other extensions are ignored. If every
/// image is greyscale the result has 1 channel, else all are converted to RGB (alpha is
/// dropped). `image_size` is `(height, width)`: when given every image is resized to it
/// (triangle filter); else all images must have the same size.
///
/// ```no_run
/// let ds = autocandle::data::datasets::image_folder("photos", Some((64, 64)))?;
/// println!("{} images of {:?}", ds.len(), ds.class_names);
/// # Ok::<(), autocandle::Error>(())
/// ```
pub fn image_folder(
    dir: impl AsRef<Path>,
    image_size: Option<(usize, usize)>,
) -> Result<ImageDataset> {
    folder::load(dir.as_ref(), image_size)
}

/// scikit-learn's 8x8 handwritten digits, embedded in the crate (no file or network needed):
/// 1,797 images, `u8` of shape `[1797, 8, 8, 1]` with values 0..=16, integer targets 0..=9.
///
/// ```
/// let digits = autocandle::data::datasets::digits()?;
/// assert_eq!(digits.x.shape, [1797, 8, 8, 1]);
/// assert_eq!(digits.len(), 1797);
/// # Ok::<(), autocandle::Error>(())
/// ```
pub fn digits() -> Result<ImageDataset> {
    digits::embedded()
}

/// Digits from a file in the format of scikit-learn's `digits.csv.gz` (gzip or plain CSV,
/// one line per image: 64 pixel values 0..=16, then the target; an optional scikit-learn header
/// line `n_samples,n_features,...`).
///
/// ```no_run
/// let digits = autocandle::data::datasets::digits_from("sklearn/digits.csv.gz")?;
/// # Ok::<(), autocandle::Error>(())
/// ```
pub fn digits_from(path: impl AsRef<Path>) -> Result<ImageDataset> {
    digits::from_file(path.as_ref())
}

/// California housing (Pace & Barry 1997, StatLib) as a DataFrame: 20,640 block groups, 8
/// numeric columns (`longitude`, `latitude`, `housingMedianAge`, `totalRooms`,
/// `totalBedrooms`, `population`, `households`, `medianIncome`) and the target
/// `medianHouseValue` in units of 100,000 $ (as scikit-learn and AutoKeras's benchmark give it).
///
/// `dir` holds the StatLib files `cal_housing.data` (no header) and `cal_housing.domain` (the
/// column names, in order). Split it with [`train_test_split`](super::train_test_split).
///
/// ```no_run
/// let df = autocandle::datasets::california_housing("data/california_housing")?;
/// let (train, test) = autocandle::data::train_test_split(&df, 0.2, 42)?;
/// # Ok::<(), autocandle::Error>(())
/// ```
#[cfg(feature = "tables")]
pub fn california_housing(dir: impl AsRef<Path>) -> Result<polars::prelude::DataFrame> {
    super::table::california_housing(dir.as_ref())
}
