//! CIFAR-10, binary version: the official `cifar-10-binary.tar.gz` (read streaming, never
//! extracted to disk) or its extracted `cifar-10-batches-bin` folder.
//!
//! Each batch file is a sequence of 3,073-byte records: one label byte, then the 32x32 red,
//! green and blue planes. They are converted to NHWC bytes.

use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::thread::{self, ScopedJoinHandle};

use super::dataset::{ImageData, ImageDataset, Split};
use super::read::{file_len, open_maybe_gzip, sha256_hex};
use crate::error::{Error, Result};

/// Bytes per record: 1 label + 3 x 32 x 32 pixels.
pub(crate) const RECORD: usize = 1 + PLANE * 3;
/// Pixels per colour plane.
const PLANE: usize = 32 * 32;
/// Name of the official archive.
pub(crate) const ARCHIVE_NAME: &str = "cifar-10-binary.tar.gz";
/// Name of the folder the archive holds.
pub(crate) const FOLDER_NAME: &str = "cifar-10-batches-bin";
/// The class-name file.
const META_FILE: &str = "batches.meta.txt";
/// The six batch files, training ones first, with their published sha256.
const BATCHES: [(&str, &str); 6] = [
    (
        "data_batch_1.bin",
        "cee916563c9f80d84e3cc88e17fdc0941787f1244f00a67874d45b261883ada5",
    ),
    (
        "data_batch_2.bin",
        "a591ca11fa1708a91ee40f54b3da4784ccd871ecf2137de63f51ada8b3fa57ed",
    ),
    (
        "data_batch_3.bin",
        "bbe8596564c0f86427f876058170b84dac6670ddf06d79402899d93ceea26f67",
    ),
    (
        "data_batch_4.bin",
        "014e562d6e23c72197cc727519169a60359f5eccd8945ad5a09d710285ff4e48",
    ),
    (
        "data_batch_5.bin",
        "755304fc0b379caeae8c14f0dac912fbc7d6cd469eb67a1029a08a39453a9add",
    ),
    (
        "test_batch.bin",
        "8e2eb146ae340b09e24670f29cabc6326dba54da8789dab6768acf480273f65b",
    ),
];
/// The class names, used when `batches.meta.txt` is absent.
pub(crate) const CLASS_NAMES: [&str; 10] = [
    "airplane",
    "automobile",
    "bird",
    "cat",
    "deer",
    "dog",
    "frog",
    "horse",
    "ship",
    "truck",
];

/// One decoded batch file.
struct Batch {
    pixels: Vec<u8>,
    labels: Vec<i64>,
}

/// A batch file being decoded on its own thread.
type Pending<'s> = ScopedJoinHandle<'s, Result<Batch>>;

/// Loads CIFAR-10 from `path`: the archive, the `cifar-10-batches-bin` folder, or a folder
/// holding either. With `verify`, each batch file's sha256 must be the published one.
pub(crate) fn load(path: &Path, verify: bool) -> Result<Split> {
    if path.is_file() {
        return load_archive(path, verify);
    }
    if path.is_dir() {
        if BATCHES.iter().any(|(name, _)| path.join(name).is_file()) {
            return load_folder(path, verify);
        }
        if path.join(FOLDER_NAME).is_dir() {
            return load_folder(&path.join(FOLDER_NAME), verify);
        }
        if path.join(ARCHIVE_NAME).is_file() {
            return load_archive(&path.join(ARCHIVE_NAME), verify);
        }
    }
    Err(Error::DataNotFound {
        what: "CIFAR-10 (binary version)".into(),
        path: path.to_path_buf(),
        hint: format!(
            "give the path of {ARCHIVE_NAME}, of its extracted {FOLDER_NAME} folder, or of a folder holding either"
        ),
    })
}

/// Reads the archive without writing anything to disk, only checking the members' checksums.
pub(crate) fn verify_archive(path: &Path) -> Result<()> {
    load_archive(path, true).map(|_| ())
}

/// Loads the batch files of an extracted folder.
fn load_folder(dir: &Path, verify: bool) -> Result<Split> {
    let class_names = match std::fs::read(dir.join(META_FILE)) {
        Ok(bytes) => parse_meta(&bytes, &dir.join(META_FILE))?,
        Err(e) if e.kind() == io::ErrorKind::NotFound => default_names(),
        Err(e) => return Err(Error::io(dir.join(META_FILE), e)),
    };
    thread::scope(|s| {
        let mut pending: Vec<Option<Pending>> = Vec::new();
        for (name, sha) in BATCHES {
            let path = dir.join(name);
            let bytes = std::fs::read(&path).map_err(|e| match e.kind() {
                io::ErrorKind::NotFound => missing(&path, "the folder is incomplete"),
                _ => Error::io(&path, e),
            })?;
            check_whole_records(&bytes, &path)?;
            let expected = verify.then_some(sha);
            pending.push(Some(s.spawn(move || decode(&bytes, &path, expected))));
        }
        assemble(pending, class_names, dir)
    })
}

/// Loads the batch files of the archive (gzip-compressed or plain tar), decoding each on its
/// own thread while the next one is decompressed.
fn load_archive(path: &Path, verify: bool) -> Result<Split> {
    let src = open_maybe_gzip(path, "CIFAR-10 archive")?;
    let mut archive = tar::Archive::new(src.reader);
    let entries = archive.entries().map_err(|e| archive_error(path, e))?;
    let mut class_names = None;
    thread::scope(|s| {
        let mut pending: Vec<Option<Pending>> = (0..BATCHES.len()).map(|_| None).collect();
        for entry in entries {
            let mut entry = entry.map_err(|e| archive_error(path, e))?;
            if !entry.header().entry_type().is_file() {
                continue;
            }
            let member = entry
                .path()
                .map_err(|e| archive_error(path, e))?
                .into_owned();
            let Some(name) = member
                .file_name()
                .and_then(|n| n.to_str())
                .map(str::to_string)
            else {
                continue;
            };
            let slot = BATCHES.iter().position(|(n, _)| *n == name);
            if slot.is_none() && name != META_FILE {
                continue;
            }
            let member_path = path.join(&member);
            let size = entry.size();
            let mut bytes = Vec::with_capacity(size.min(1 << 27) as usize);
            match entry.read_to_end(&mut bytes) {
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => {}
                Err(e) => return Err(archive_error(path, e)),
            }
            if (bytes.len() as u64) < size {
                return Err(Error::Truncated {
                    path: member_path,
                    expected: size,
                    found: bytes.len() as u64,
                });
            }
            match slot {
                Some(i) => {
                    check_whole_records(&bytes, &member_path)?;
                    let expected = verify.then_some(BATCHES[i].1);
                    pending[i] = Some(s.spawn(move || decode(&bytes, &member_path, expected)));
                }
                None => class_names = Some(parse_meta(&bytes, &member_path)?),
            }
        }
        assemble(pending, class_names.unwrap_or_else(default_names), path)
    })
}

/// Waits for the six batches and joins them into the official train and test parts.
fn assemble(
    pending: Vec<Option<Pending>>,
    class_names: Vec<String>,
    source: &Path,
) -> Result<Split> {
    let mut batches = Vec::with_capacity(pending.len());
    for (handle, (name, _)) in pending.into_iter().zip(BATCHES) {
        let handle = handle.ok_or_else(|| {
            missing(
                &source.join(FOLDER_NAME).join(name),
                "the archive is incomplete",
            )
        })?;
        batches.push(
            handle
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic))?,
        );
    }
    let test = batches.pop().map(|b| dataset(vec![b], &class_names));
    let train = dataset(batches, &class_names);
    match test {
        Some(test) => Ok(Split {
            train: train?,
            test: test?,
        }),
        None => Err(missing(source, "the archive is incomplete")),
    }
}

/// An [`ImageDataset`] from decoded batches.
fn dataset(batches: Vec<Batch>, class_names: &[String]) -> Result<ImageDataset> {
    let n: usize = batches.iter().map(|b| b.labels.len()).sum();
    let mut pixels = Vec::with_capacity(n * RECORD);
    let mut labels = Vec::with_capacity(n);
    for b in batches {
        pixels.extend_from_slice(&b.pixels);
        labels.extend_from_slice(&b.labels);
    }
    let mut ds = ImageDataset::new(ImageData::from_u8(pixels, &[n, 32, 32, 3])?, labels)?;
    ds.class_names = Some(class_names.to_vec());
    Ok(ds)
}

/// Decodes one batch file's bytes (CHW records) into NHWC pixels and labels, checking the
/// sha256 first when `expected_sha256` is given.
fn decode(bytes: &[u8], path: &Path, expected_sha256: Option<&str>) -> Result<Batch> {
    check_whole_records(bytes, path)?;
    if let Some(expected) = expected_sha256 {
        let actual = sha256_hex(bytes);
        if actual != expected {
            return Err(Error::Checksum {
                path: path.to_path_buf(),
                expected: expected.into(),
                actual,
            });
        }
    }
    let n = bytes.len() / RECORD;
    let mut pixels = vec![0u8; n * PLANE * 3];
    let mut labels = Vec::with_capacity(n);
    for (i, (record, out)) in bytes
        .chunks_exact(RECORD)
        .zip(pixels.chunks_exact_mut(PLANE * 3))
        .enumerate()
    {
        if usize::from(record[0]) >= CLASS_NAMES.len() {
            return Err(Error::Format {
                path: path.to_path_buf(),
                format: "CIFAR-10 binary",
                detail: format!(
                    "record {i} has label {}, CIFAR-10 labels are 0..=9",
                    record[0]
                ),
            });
        }
        labels.push(i64::from(record[0]));
        let (r, rest) = record[1..].split_at(PLANE);
        let (g, b) = rest.split_at(PLANE);
        for (((px, &r), &g), &b) in out.chunks_exact_mut(3).zip(r).zip(g).zip(b) {
            px.copy_from_slice(&[r, g, b]);
        }
    }
    Ok(Batch { pixels, labels })
}

/// A batch file must be a whole, positive number of records.
fn check_whole_records(bytes: &[u8], path: &Path) -> Result<()> {
    if bytes.is_empty() || bytes.len() % RECORD != 0 {
        return Err(Error::Truncated {
            path: path.to_path_buf(),
            expected: (bytes.len().div_ceil(RECORD).max(1) * RECORD) as u64,
            found: bytes.len() as u64,
        });
    }
    Ok(())
}

/// The class names of `batches.meta.txt`: one per line, blank lines ignored.
fn parse_meta(bytes: &[u8], path: &Path) -> Result<Vec<String>> {
    let text = std::str::from_utf8(bytes).map_err(|e| Error::Format {
        path: path.to_path_buf(),
        format: "CIFAR-10 class-name list",
        detail: format!("not UTF-8 text: {e}"),
    })?;
    let names: Vec<String> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(String::from)
        .collect();
    if names.len() != CLASS_NAMES.len() {
        return Err(Error::Format {
            path: path.to_path_buf(),
            format: "CIFAR-10 class-name list",
            detail: format!("{} names, expected {}", names.len(), CLASS_NAMES.len()),
        });
    }
    Ok(names)
}

/// The official class names.
fn default_names() -> Vec<String> {
    CLASS_NAMES.iter().map(|s| s.to_string()).collect()
}

/// A missing batch file.
fn missing(path: &Path, why: &str) -> Error {
    Error::DataNotFound {
        what: "CIFAR-10 batch file".into(),
        path: path.to_path_buf(),
        hint: format!(
            "{why}; download {ARCHIVE_NAME} again (binary version, not the Python or MATLAB one)"
        ),
    }
}

/// An error met while walking the archive: a stream cut short is [`Error::Truncated`], corrupt
/// data [`Error::Format`].
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
    if !matches!(
        e.kind(),
        io::ErrorKind::InvalidInput | io::ErrorKind::InvalidData | io::ErrorKind::Other
    ) {
        return Error::io(path, e);
    }
    Error::Format {
        path: PathBuf::from(path),
        format: "tar.gz",
        detail: format!("{e}; the archive is damaged, download {ARCHIVE_NAME} again"),
    }
}
