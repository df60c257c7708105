//! IMDB movie reviews (Maas et al., 2011): the official `aclImdb_v1.tar.gz` (read streaming,
//! never extracted to disk) or its extracted `aclImdb` folder.
//!
//! Reviews are the files `aclImdb/{train,test}/{pos,neg}/<id>_<rating>.txt`; the unlabelled
//! `train/unsup` reviews and the other files are skipped. Reviews are sorted by part, label
//! (`neg` first) and id, so the archive and the folder give the same datasets.

use std::io::{self, Read};
use std::path::{Path, PathBuf};

use super::read::{file_len, open_maybe_gzip};
use super::text::{decode_utf8, TextDataset, TextSplit};
use super::Targets;
use crate::error::{Error, Result};

/// Name of the official archive.
pub(crate) const ARCHIVE_NAME: &str = "aclImdb_v1.tar.gz";
/// Name of the folder the archive holds.
pub(crate) const FOLDER_NAME: &str = "aclImdb";
/// The class names: label 0 is `neg`, 1 is `pos`.
pub(crate) const CLASS_NAMES: [&str; 2] = ["neg", "pos"];

/// What an IMDB dataset's targets are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImdbTarget {
    /// The sentiment: integer labels 0 (`neg`) and 1 (`pos`).
    Sentiment,
    /// The reviewer's rating, 1–4 (negative) or 7–10 (positive), as a real value.
    Rating,
}

/// One review.
struct Review {
    test: bool,
    positive: bool,
    id: u64,
    rating: u8,
    text: String,
}

/// Where a member of the dataset sits: `(test, positive, id, rating)`, from its path's last
/// four components `{train,test}/{pos,neg}/<id>_<rating>.txt`. `None` for other files.
fn place(path: &Path) -> Result<Option<(bool, bool, u64, u8)>> {
    let parts: Vec<&str> = path.iter().filter_map(|c| c.to_str()).collect();
    let [.., part, label, file] = parts.as_slice() else {
        return Ok(None);
    };
    let test = match *part {
        "train" => false,
        "test" => true,
        _ => return Ok(None),
    };
    let positive = match *label {
        "pos" => true,
        "neg" => false,
        _ => return Ok(None),
    };
    let Some(stem) = file.strip_suffix(".txt") else {
        return Ok(None);
    };
    let parsed = stem
        .split_once('_')
        .and_then(|(id, r)| Some((id.parse::<u64>().ok()?, r.parse::<u8>().ok()?)));
    match parsed {
        Some((id, rating)) => Ok(Some((test, positive, id, rating))),
        None => Err(Error::Format {
            path: path.to_path_buf(),
            format: "IMDB review",
            detail: "review files are named <id>_<rating>.txt".into(),
        }),
    }
}

/// Loads IMDB from `path`: the archive, the `aclImdb` folder, or a folder holding either.
pub(crate) fn load(path: &Path, target: ImdbTarget) -> Result<TextSplit> {
    let reviews = if path.is_file() {
        read_archive(path)?
    } else if path.join("train").is_dir() && path.join("test").is_dir() {
        read_folder(path)?
    } else if path.join(FOLDER_NAME).is_dir() {
        read_folder(&path.join(FOLDER_NAME))?
    } else if path.join(ARCHIVE_NAME).is_file() {
        read_archive(&path.join(ARCHIVE_NAME))?
    } else {
        return Err(Error::DataNotFound {
            what: "IMDB reviews".into(),
            path: path.to_path_buf(),
            hint: format!(
                "give the path of {ARCHIVE_NAME}, of its extracted {FOLDER_NAME} folder, or of a folder holding either"
            ),
        });
    };
    split(reviews, target, path)
}

/// Reads the archive without writing anything to disk (the check a download gets).
pub(crate) fn verify_archive(path: &Path) -> Result<()> {
    split(read_archive(path)?, ImdbTarget::Sentiment, path).map(|_| ())
}

fn archive_error(path: &Path, e: io::Error) -> Error {
    let cut_short =
        e.kind() == io::ErrorKind::UnexpectedEof || e.to_string().contains("entire block");
    if cut_short {
        return match file_len(path) {
            Ok(len) => Error::Truncated {
                path: path.to_path_buf(),
                expected: len + 1,
                found: len,
            },
            Err(err) => err,
        };
    }
    match e.kind() {
        io::ErrorKind::InvalidInput | io::ErrorKind::InvalidData | io::ErrorKind::Other => {
            Error::Format {
                path: path.to_path_buf(),
                format: "tar.gz",
                detail: format!("{e}; the archive is damaged, download {ARCHIVE_NAME} again"),
            }
        }
        _ => Error::io(path, e),
    }
}

fn read_archive(path: &Path) -> Result<Vec<Review>> {
    let src = open_maybe_gzip(path, "IMDB archive")?;
    let mut archive = tar::Archive::new(src.reader);
    let entries = archive.entries().map_err(|e| archive_error(path, e))?;
    let mut reviews = Vec::new();
    for entry in entries {
        let mut entry = entry.map_err(|e| archive_error(path, e))?;
        if !entry.header().entry_type().is_file() {
            continue;
        }
        let member = entry
            .path()
            .map_err(|e| archive_error(path, e))?
            .into_owned();
        let Some((test, positive, id, rating)) = place(&member)? else {
            continue;
        };
        // The size in the entry's header is a claim: reserve at most 1 MiB up front and let
        // the buffer grow with the bytes that really arrive.
        let claimed = usize::try_from(entry.size()).unwrap_or(usize::MAX);
        let mut bytes = Vec::with_capacity(claimed.min(1 << 20));
        entry
            .read_to_end(&mut bytes)
            .map_err(|e| archive_error(path, e))?;
        let text = decode_utf8(bytes, || format!("{}", path.join(&member).display()))?;
        reviews.push(Review {
            test,
            positive,
            id,
            rating,
            text,
        });
    }
    Ok(reviews)
}

fn read_folder(dir: &Path) -> Result<Vec<Review>> {
    let mut reviews = Vec::new();
    for part in ["train", "test"] {
        for label in ["neg", "pos"] {
            let sub = dir.join(part).join(label);
            let listing = match std::fs::read_dir(&sub) {
                Ok(l) => l,
                Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
                Err(e) => return Err(Error::io(&sub, e)),
            };
            for item in listing {
                let file: PathBuf = item.map_err(|e| Error::io(&sub, e))?.path();
                let Some((test, positive, id, rating)) = place(&file)? else {
                    continue;
                };
                let bytes = std::fs::read(&file).map_err(|e| Error::io(&file, e))?;
                let text = decode_utf8(bytes, || format!("{}", file.display()))?;
                reviews.push(Review {
                    test,
                    positive,
                    id,
                    rating,
                    text,
                });
            }
        }
    }
    Ok(reviews)
}

/// Sorts the reviews and makes the train and test datasets.
fn split(mut reviews: Vec<Review>, target: ImdbTarget, source: &Path) -> Result<TextSplit> {
    reviews.sort_by_key(|r| (r.test, r.positive, r.id));
    let cut = reviews.partition_point(|r| !r.test);
    let test = reviews.split_off(cut);
    let make = |part: Vec<Review>, name: &str| -> Result<TextDataset> {
        if part.is_empty() {
            return Err(Error::Format {
                path: source.to_path_buf(),
                format: "IMDB dataset",
                detail: format!(
                    "no review under {FOLDER_NAME}/{name}/pos or {FOLDER_NAME}/{name}/neg"
                ),
            });
        }
        let y = match target {
            ImdbTarget::Sentiment => Targets::Int(part.iter().map(|r| r.positive as i64).collect()),
            ImdbTarget::Rating => Targets::Float {
                values: part.iter().map(|r| r.rating as f32).collect(),
                dim: 1,
            },
        };
        let mut ds = TextDataset::new(part.into_iter().map(|r| r.text).collect(), y)?;
        if target == ImdbTarget::Sentiment {
            ds.class_names = Some(CLASS_NAMES.map(String::from).to_vec());
        }
        Ok(ds)
    };
    Ok(TextSplit {
        train: make(reviews, "train")?,
        test: make(test, "test")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn a_tar_header_claiming_a_terabyte_is_an_error_not_an_allocation() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("aclImdb_v1.tar.gz");
        let mut header = tar::Header::new_gnu();
        header.set_path("aclImdb/train/pos/1_7.txt").unwrap();
        header.set_size(1 << 40);
        header.set_mode(0o644);
        header.set_cksum();
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(header.as_bytes()).unwrap();
        gz.write_all(b"a great film").unwrap();
        std::fs::write(&path, gz.finish().unwrap()).unwrap();
        let err = read_archive(&path).map(|r| r.len()).unwrap_err();
        assert!(err.to_string().contains("aclImdb_v1.tar.gz"), "{err}");
    }
}
