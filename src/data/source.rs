//! Where datasets are found, and their download.
//!
//! A dataset is looked for, in order:
//! 1. at the path the caller gives (it must exist);
//! 2. in `$AUTOCANDLE_DATA/<name>` (`mnist`, `fashion_mnist`, `cifar10`, `imdb`), when that
//!    folder exists;
//! 3. in the cache, `$AUTOCANDLE_CACHE/<name>`, else `$XDG_CACHE_HOME/autocandle/<name>`, else
//!    `~/.cache/autocandle/<name>`, when it holds the dataset's files;
//! 4. else it is downloaded into the cache with `curl` from the official address, and checked
//!    against the published sha256 before it gets its final name. `AUTOCANDLE_OFFLINE=1` forbids
//!    this step.

use std::path::{Path, PathBuf};
use std::process::Command;

use super::read::sha256_file;
use super::{cifar, imdb};
use crate::error::{Error, Result};

/// One file of a dataset, with where to get it.
pub(crate) struct RemoteFile {
    /// File name in the dataset's folder.
    pub name: &'static str,
    /// Another name that stands for the file when present (the extracted form).
    pub alt: &'static str,
    /// Download address.
    pub url: &'static str,
    /// Published sha256 of the downloaded file, when the file itself can be checked.
    pub sha256: Option<&'static str>,
    /// A check of the downloaded file's content, for archives whose own bytes vary.
    pub verify: Option<fn(&Path) -> Result<()>>,
}

/// A dataset that can be downloaded.
pub(crate) struct Remote {
    /// Folder name under `$AUTOCANDLE_DATA` and the cache; also the name `resolve` takes.
    pub subdir: &'static str,
    /// Human name, for messages.
    pub title: &'static str,
    /// Its files.
    pub files: &'static [RemoteFile],
}

macro_rules! idx_file {
    ($base:expr, $name:literal, $sha:literal) => {
        RemoteFile {
            name: concat!($name, ".gz"),
            alt: $name,
            url: concat!($base, $name, ".gz"),
            sha256: Some($sha),
            verify: None,
        }
    };
}

/// MNIST: four gzip IDX files.
pub(crate) const MNIST: Remote = Remote {
    subdir: "mnist",
    title: "MNIST",
    files: &[
        idx_file!(
            "https://storage.googleapis.com/cvdf-datasets/mnist/",
            "train-images-idx3-ubyte",
            "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609"
        ),
        idx_file!(
            "https://storage.googleapis.com/cvdf-datasets/mnist/",
            "train-labels-idx1-ubyte",
            "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c"
        ),
        idx_file!(
            "https://storage.googleapis.com/cvdf-datasets/mnist/",
            "t10k-images-idx3-ubyte",
            "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6"
        ),
        idx_file!(
            "https://storage.googleapis.com/cvdf-datasets/mnist/",
            "t10k-labels-idx1-ubyte",
            "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6"
        ),
    ],
};

/// Fashion-MNIST: four gzip IDX files, with the sha256 values published alongside them.
pub(crate) const FASHION_MNIST: Remote = Remote {
    subdir: "fashion_mnist",
    title: "Fashion-MNIST",
    files: &[
        idx_file!(
            "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
            "train-images-idx3-ubyte",
            "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84"
        ),
        idx_file!(
            "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
            "train-labels-idx1-ubyte",
            "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845"
        ),
        idx_file!(
            "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
            "t10k-images-idx3-ubyte",
            "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073"
        ),
        idx_file!(
            "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
            "t10k-labels-idx1-ubyte",
            "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5"
        ),
    ],
};

/// CIFAR-10, binary version: one archive, whose six batch files are checked after download.
pub(crate) const CIFAR10: Remote = Remote {
    subdir: "cifar10",
    title: "CIFAR-10",
    files: &[RemoteFile {
        name: cifar::ARCHIVE_NAME,
        alt: cifar::FOLDER_NAME,
        url: "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz",
        sha256: None,
        verify: Some(cifar::verify_archive),
    }],
};

/// IMDB movie reviews: one archive, checked after download by reading its reviews.
pub(crate) const IMDB: Remote = Remote {
    subdir: "imdb",
    title: "IMDB reviews",
    files: &[RemoteFile {
        name: imdb::ARCHIVE_NAME,
        alt: imdb::FOLDER_NAME,
        url: "https://ai.stanford.edu/~amaas/data/sentiment/aclImdb_v1.tar.gz",
        sha256: None,
        verify: Some(imdb::verify_archive),
    }],
};

/// The known datasets.
const ALL: [&Remote; 4] = [&MNIST, &FASHION_MNIST, &CIFAR10, &IMDB];

/// How a dataset was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Origin {
    /// The path the caller gave.
    Explicit,
    /// `$AUTOCANDLE_DATA/<name>`.
    DataDir,
    /// Already in the cache.
    Cache,
    /// Downloaded just now.
    Downloaded,
}

/// A dataset's location and how it was found.
#[derive(Debug, Clone)]
pub(crate) struct Located {
    /// Folder (or file, when the caller named one) holding the dataset.
    pub path: PathBuf,
    /// How it was found.
    pub origin: Origin,
}

/// The environment `locate` depends on, read once so that it can be tested without touching
/// the process environment.
#[derive(Debug, Clone, Default)]
pub(crate) struct Settings {
    /// `$AUTOCANDLE_DATA`.
    pub data_root: Option<PathBuf>,
    /// The cache folder, when one could be worked out.
    pub cache_root: Option<PathBuf>,
    /// `$AUTOCANDLE_OFFLINE` is set to anything but empty, `0`, `false` or `no`.
    pub offline: bool,
}

impl Settings {
    /// Reads the settings from the environment.
    pub fn from_env() -> Self {
        let var = |name: &str| {
            std::env::var_os(name)
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
        };
        let offline = std::env::var("AUTOCANDLE_OFFLINE")
            .map(|v| {
                !matches!(
                    v.trim().to_ascii_lowercase().as_str(),
                    "" | "0" | "false" | "no"
                )
            })
            .unwrap_or(false);
        let cache_root = var("AUTOCANDLE_CACHE")
            .or_else(|| var("XDG_CACHE_HOME").map(|p| p.join("autocandle")))
            .or_else(|| var("HOME").map(|p| p.join(".cache").join("autocandle")));
        Settings {
            data_root: var("AUTOCANDLE_DATA"),
            cache_root,
            offline,
        }
    }
}

/// The folder downloaded datasets are kept in: `$AUTOCANDLE_CACHE`, else
/// `$XDG_CACHE_HOME/autocandle`, else `~/.cache/autocandle`.
pub fn cache_dir() -> Result<PathBuf> {
    Settings::from_env().cache_root.ok_or_else(no_cache)
}

/// The folder (or file) holding dataset `name` (`"mnist"`, `"fashion_mnist"` or `"cifar10"`),
/// downloading it into the cache when it is nowhere else: see the [module](self) documentation
/// for the order in which places are tried.
///
/// ```no_run
/// let dir = autocandle::data::source::resolve("mnist", None)?;
/// println!("MNIST is in {}", dir.display());
/// # Ok::<(), autocandle::Error>(())
/// ```
pub fn resolve(name: &str, explicit: Option<&Path>) -> Result<PathBuf> {
    let remote = ALL.iter().find(|r| r.subdir == name).ok_or_else(|| {
        let known: Vec<&str> = ALL.iter().map(|r| r.subdir).collect();
        Error::Config(format!(
            "unknown dataset {name:?}; known: {}",
            known.join(", ")
        ))
    })?;
    Ok(locate(remote, explicit, &Settings::from_env())?.path)
}

fn no_cache() -> Error {
    Error::Config("no cache folder: set AUTOCANDLE_CACHE (or HOME) to a writable folder".into())
}

/// Finds (or downloads) `remote`; see [`resolve`].
pub(crate) fn locate(
    remote: &Remote,
    explicit: Option<&Path>,
    settings: &Settings,
) -> Result<Located> {
    if let Some(path) = explicit {
        if path.exists() {
            return Ok(Located {
                path: path.to_path_buf(),
                origin: Origin::Explicit,
            });
        }
        return Err(Error::DataNotFound {
            what: remote.title.into(),
            path: path.to_path_buf(),
            hint: "check the path, or pass None to use $AUTOCANDLE_DATA, the cache, or a download"
                .into(),
        });
    }
    if let Some(root) = &settings.data_root {
        let dir = root.join(remote.subdir);
        if dir.is_dir() {
            return Ok(Located {
                path: dir,
                origin: Origin::DataDir,
            });
        }
    }
    let dir = settings
        .cache_root
        .as_ref()
        .ok_or_else(no_cache)?
        .join(remote.subdir);
    let present = |f: &RemoteFile| dir.join(f.name).exists() || dir.join(f.alt).exists();
    if remote.files.iter().all(present) {
        return Ok(Located {
            path: dir,
            origin: Origin::Cache,
        });
    }
    let names: Vec<&str> = remote.files.iter().map(|f| f.name).collect();
    if settings.offline {
        return Err(Error::DataNotFound {
            what: remote.title.into(),
            path: dir,
            hint: format!(
                "AUTOCANDLE_OFFLINE is set, so nothing is downloaded: put {} into that folder, \
                 set AUTOCANDLE_DATA to a folder holding {}/, or pass the path explicitly",
                names.join(", "),
                remote.subdir
            ),
        });
    }
    for file in remote.files.iter().filter(|f| !present(f)) {
        download(file, &dir)?;
    }
    Ok(Located {
        path: dir,
        origin: Origin::Downloaded,
    })
}

/// Downloads `file` into `dir` under a temporary name, checks it, then gives it its name.
pub(crate) fn download(file: &RemoteFile, dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    let dest = dir.join(file.name);
    let tmp = dir.join(format!("{}.part{}", file.name, std::process::id()));
    let by_hand = format!(
        "download {} by hand into {}, or set AUTOCANDLE_DATA to a folder holding it",
        file.url,
        dir.display()
    );
    eprintln!("autocandle: downloading {} to {}", file.url, dest.display());
    let status = Command::new("curl")
        .arg("-fL")
        .args(["--retry", "3", "-#", "-o"])
        .arg(&tmp)
        .arg(file.url)
        .status();
    let failure = match status {
        Ok(s) if s.success() => None,
        Ok(s) => Some(format!("curl failed ({s}); {by_hand}")),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            Some(format!("curl is not installed; {by_hand}"))
        }
        Err(e) => Some(format!("cannot run curl: {e}; {by_hand}")),
    };
    if let Some(detail) = failure {
        let _ = std::fs::remove_file(&tmp);
        return Err(Error::Download {
            url: file.url.into(),
            detail,
        });
    }
    if let Err(e) = check(file, &tmp, &dest) {
        let _ = std::fs::remove_file(&tmp);
        return Err(e);
    }
    std::fs::rename(&tmp, &dest).map_err(|e| Error::io(&dest, e))
}

/// Checks a downloaded file (at `tmp`, to become `dest`) against its published checksum.
fn check(file: &RemoteFile, tmp: &Path, dest: &Path) -> Result<()> {
    if let Some(expected) = file.sha256 {
        let actual = sha256_file(tmp)?;
        if actual != expected {
            return Err(Error::Checksum {
                path: dest.to_path_buf(),
                expected: expected.into(),
                actual,
            });
        }
    }
    match file.verify {
        Some(verify) => verify(tmp),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(data: Option<&Path>, cache: &Path, offline: bool) -> Settings {
        Settings {
            data_root: data.map(Path::to_path_buf),
            cache_root: Some(cache.to_path_buf()),
            offline,
        }
    }

    #[test]
    fn explicit_path_must_exist() {
        let tmp = tempfile::tempdir().unwrap();
        let missing = tmp.path().join("nope");
        let err = locate(&MNIST, Some(&missing), &settings(None, tmp.path(), true)).unwrap_err();
        assert!(matches!(err, Error::DataNotFound { .. }), "{err}");
        assert!(err.to_string().contains("nope"), "{err}");
        let found = locate(&MNIST, Some(tmp.path()), &settings(None, tmp.path(), true)).unwrap();
        assert_eq!(found.origin, Origin::Explicit);
    }

    #[test]
    fn data_dir_then_cache_then_offline_error() {
        let data = tempfile::tempdir().unwrap();
        let cache = tempfile::tempdir().unwrap();
        // Data folder without the dataset, cache empty, offline: a clear error naming the cache.
        let err = locate(
            &MNIST,
            None,
            &settings(Some(data.path()), cache.path(), true),
        )
        .unwrap_err();
        assert!(matches!(err, Error::DataNotFound { .. }), "{err}");
        assert!(err.to_string().contains("AUTOCANDLE_OFFLINE"), "{err}");
        assert!(
            err.to_string()
                .contains(&cache.path().join("mnist").display().to_string()),
            "{err}"
        );
        // Files in the cache (extracted names count too).
        let dir = cache.path().join("mnist");
        std::fs::create_dir_all(&dir).unwrap();
        for f in MNIST.files {
            std::fs::write(dir.join(f.alt), b"").unwrap();
        }
        let found = locate(
            &MNIST,
            None,
            &settings(Some(data.path()), cache.path(), true),
        )
        .unwrap();
        assert_eq!((found.path, found.origin), (dir, Origin::Cache));
        // The data folder wins when it has the dataset.
        std::fs::create_dir_all(data.path().join("mnist")).unwrap();
        let found = locate(
            &MNIST,
            None,
            &settings(Some(data.path()), cache.path(), true),
        )
        .unwrap();
        assert_eq!(found.origin, Origin::DataDir);
    }

    #[test]
    fn unknown_name() {
        assert!(matches!(resolve("imagenet", None), Err(Error::Config(_))));
    }

    /// Downloads through `curl` from a `file://` address: no network involved.
    #[test]
    fn download_checks_sha256() {
        if Command::new("curl").arg("--version").output().is_err() {
            eprintln!("curl not installed; skipping");
            return;
        }
        let tmp = tempfile::tempdir().unwrap();
        let src = tmp.path().join("src.bin");
        std::fs::write(&src, b"hello").unwrap();
        let url: &'static str = Box::leak(format!("file://{}", src.display()).into_boxed_str());
        let sha = "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824";
        let good = RemoteFile {
            name: "good.bin",
            alt: "good",
            url,
            sha256: Some(sha),
            verify: None,
        };
        let dir = tmp.path().join("cache");
        download(&good, &dir).unwrap();
        assert_eq!(std::fs::read(dir.join("good.bin")).unwrap(), b"hello");

        let bad = RemoteFile {
            name: "bad.bin",
            sha256: Some(&sha[1..]),
            ..good
        };
        let err = download(&bad, &dir).unwrap_err();
        assert!(matches!(err, Error::Checksum { .. }), "{err}");
        assert!(err.to_string().contains("bad.bin"), "{err}");
        let left: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(
            left,
            vec![std::ffi::OsString::from("good.bin")],
            "the bad download must be deleted"
        );

        let gone = RemoteFile {
            name: "gone.bin",
            url: "file:///nonexistent/autocandle/x",
            ..good
        };
        assert!(matches!(download(&gone, &dir), Err(Error::Download { .. })));
    }
}
