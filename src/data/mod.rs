//! Datasets and their loaders.
//!
//! Images are held as NHWC (`[n, height, width, channels]`), pixels either as raw bytes (as they
//! come from image files) or as `f32`; texts as strings ([`TextDataset`]). Targets are integer or
//! string class labels, or real values for regression.
//!
//! Ready-made datasets are in [`datasets`]; where they are found (and downloaded) is in
//! [`source`]. Tables (CSV files, California housing) are polars DataFrames: see [`read_csv`].

mod cifar;
mod dataset;
pub mod datasets;
mod digits;
mod idx;
mod image_folder;
mod imdb;
mod mnist;
mod read;
mod series;
pub mod source;
mod text;

pub use dataset::{ImageData, ImageDataset, Pixels, Split, Targets};
pub use idx::{read_idx_images, read_idx_labels, IDX_IMAGES_MAGIC, IDX_LABELS_MAGIC};
pub use imdb::ImdbTarget;
pub use series::{parse_time, Frequency, SeriesSpec, TimeAxis, TimeSeries};
pub use text::{decode_utf8, TextDataset, TextSplit};
#[cfg(feature = "tables")]
mod table;
#[cfg(feature = "tables")]
pub(crate) use table::polars_error;
#[cfg(feature = "tables")]
pub use table::{read_csv, read_csv_text, text_column, train_test_split, CALIFORNIA_TARGET};
