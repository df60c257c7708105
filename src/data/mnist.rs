//! MNIST-style folders: the four IDX files of a train/test split (MNIST, Fashion-MNIST).

use std::path::{Path, PathBuf};

use super::dataset::{ImageDataset, Split};
use super::idx::{read_idx_images, read_idx_labels};
use crate::error::{Error, Result};

/// The four files, without their `.gz`.
const TRAIN_IMAGES: &str = "train-images-idx3-ubyte";
const TRAIN_LABELS: &str = "train-labels-idx1-ubyte";
const TEST_IMAGES: &str = "t10k-images-idx3-ubyte";
const TEST_LABELS: &str = "t10k-labels-idx1-ubyte";

/// Fashion-MNIST's class names, indexed by label.
pub(crate) const FASHION_CLASSES: [&str; 10] = [
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
];

/// Loads the train and test parts from `dir` (`title` names the dataset in errors).
pub(crate) fn load_split(dir: &Path, title: &str, class_names: Option<&[&str]>) -> Result<Split> {
    if !dir.is_dir() {
        return Err(Error::DataNotFound {
            what: format!("{title} folder"),
            path: dir.to_path_buf(),
            hint: format!(
                "give the folder holding {TRAIN_IMAGES}.gz and the three other IDX files"
            ),
        });
    }
    let names = class_names.map(|c| c.iter().map(|s| s.to_string()).collect::<Vec<_>>());
    let part = |images: &str, labels: &str| -> Result<ImageDataset> {
        let (images, labels) = (find(dir, images, title)?, find(dir, labels, title)?);
        let x = read_idx_images(&images)?;
        let y = read_idx_labels(&labels)?;
        if x.len() != y.len() {
            return Err(Error::Format {
                path: labels,
                format: "IDX",
                detail: format!(
                    "{} labels but {} holds {} images",
                    y.len(),
                    images.display(),
                    x.len()
                ),
            });
        }
        let mut ds = ImageDataset::new(x, y)?;
        ds.class_names = names.clone();
        Ok(ds)
    };
    Ok(Split {
        train: part(TRAIN_IMAGES, TRAIN_LABELS)?,
        test: part(TEST_IMAGES, TEST_LABELS)?,
    })
}

/// The file `stem` in `dir`, gzip (`stem.gz`) or raw (`stem`), also with the `.idx` spelling
/// some copies use (`train-images.idx3-ubyte`).
fn find(dir: &Path, stem: &str, title: &str) -> Result<PathBuf> {
    let dotted = stem.replacen("-idx", ".idx", 1);
    let candidates = [
        format!("{stem}.gz"),
        stem.to_string(),
        format!("{dotted}.gz"),
        dotted,
    ];
    candidates.iter().map(|c| dir.join(c)).find(|p| p.is_file()).ok_or_else(|| Error::DataNotFound {
        what: format!("{title} file {stem}.gz"),
        path: dir.join(format!("{stem}.gz")),
        hint: format!(
            "the folder must hold {TRAIN_IMAGES}, {TRAIN_LABELS}, {TEST_IMAGES} and {TEST_LABELS} (gzip, with .gz, or raw)"
        ),
    })
}
