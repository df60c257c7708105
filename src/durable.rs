//! Durable writes: a file or a folder is replaced whole, and is on disk when the call returns.
//!
//! A file is written to a sibling temp file, synced, renamed over its target, and the folder is
//! synced; a folder is built beside its target, synced, and swapped in with one rename. A killed
//! process or a power cut leaves either the old version or the new one, never a mix, and a
//! failed write leaves no temp file behind. Files get the permissions of a plain
//! `File::create` (0666 less the umask), so a model saved by one user can be read by another.

use crate::error::{Error, Result};
use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// Writes `bytes` to `path` through a synced temp file and a rename, then syncs the folder.
///
/// ```
/// let dir = tempfile::tempdir()?;
/// let p = dir.path().join("a.json");
/// autocandle::durable::write_atomic(&p, b"{}")?;
/// assert_eq!(std::fs::read(&p)?, b"{}");
/// assert_eq!(std::fs::read_dir(dir.path())?.count(), 1); // no temp file left
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let tmp = temp_path(path);
    let written = (|| -> std::io::Result<()> {
        let mut f = File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()
    })();
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(Error::io(path, e));
    }
    if let Err(e) = std::fs::rename(&tmp, path) {
        let _ = std::fs::remove_file(&tmp);
        return Err(Error::io(path, e));
    }
    sync_parent(path)
}

/// A fresh sibling temp name for `path` (`.<name>.tmp<pid>-<n>`), unique in this process.
pub fn temp_path(path: &Path) -> PathBuf {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    path.with_file_name(format!(".{name}.tmp{}-{n}", std::process::id()))
}

/// Whether `name` is one of the temp names [`temp_path`] makes.
pub fn is_temp_name(name: &str) -> bool {
    match name.rsplit_once(".tmp") {
        Some((stem, suffix)) => {
            stem.len() > 1
                && stem.starts_with('.')
                && !suffix.is_empty()
                && suffix.bytes().all(|b| b.is_ascii_digit() || b == b'-')
        }
        None => false,
    }
}

/// Flushes a folder's entries (new names, renames) to disk.
pub fn sync_dir(dir: &Path) -> Result<()> {
    #[cfg(unix)]
    {
        File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(|e| Error::io(dir, e))
    }
    #[cfg(not(unix))]
    {
        let _ = dir;
        Ok(())
    }
}

/// Syncs the folder that holds `path`.
pub fn sync_parent(path: &Path) -> Result<()> {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => sync_dir(p),
        _ => sync_dir(Path::new(".")),
    }
}

/// Syncs every file in `dir` (not its subfolders) and `dir` itself.
pub fn sync_tree(dir: &Path) -> Result<()> {
    for e in std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))? {
        let e = e.map_err(|e| Error::io(dir, e))?;
        let p = e.path();
        if e.file_type().map_err(|err| Error::io(&p, err))?.is_file() {
            File::open(&p)
                .and_then(|f| f.sync_all())
                .map_err(|err| Error::io(&p, err))?;
        }
    }
    sync_dir(dir)
}

/// Builds a folder with `fill` beside `target`, syncs it, and puts it in place of `target` in
/// one rename (an exchange where the system has one); the old folder is then removed. If
/// `fill` fails, `target` is untouched and the half-built folder is removed.
///
/// ```
/// let dir = tempfile::tempdir()?;
/// let m = dir.path().join("best_model");
/// autocandle::durable::replace_dir(&m, |d| autocandle::durable::write_atomic(&d.join("a"), b"1"))?;
/// autocandle::durable::replace_dir(&m, |d| autocandle::durable::write_atomic(&d.join("b"), b"2"))?;
/// assert!(!m.join("a").exists() && m.join("b").exists());
/// assert_eq!(std::fs::read_dir(dir.path())?.count(), 1);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn replace_dir(target: &Path, fill: impl FnOnce(&Path) -> Result<()>) -> Result<()> {
    let staging = temp_path(target);
    std::fs::create_dir_all(&staging).map_err(|e| Error::io(&staging, e))?;
    let built = fill(&staging).and_then(|_| sync_tree(&staging));
    if let Err(e) = built {
        let _ = std::fs::remove_dir_all(&staging);
        return Err(e);
    }
    if target.exists() {
        if exchange(&staging, target).is_ok() {
            // `staging` now holds the old folder, which this call made earlier.
            sync_parent(target)?;
            let _ = std::fs::remove_dir_all(&staging);
            return Ok(());
        }
        // No exchange on this system: move the old folder aside first.
        let old = temp_path(target);
        std::fs::rename(target, &old).map_err(|e| Error::io(target, e))?;
        std::fs::rename(&staging, target).map_err(|e| Error::io(target, e))?;
        sync_parent(target)?;
        let _ = std::fs::remove_dir_all(&old);
        return Ok(());
    }
    std::fs::rename(&staging, target).map_err(|e| Error::io(target, e))?;
    sync_parent(target)
}

/// Swaps two paths in one step (Linux `renameat2(RENAME_EXCHANGE)`).
#[cfg(target_os = "linux")]
fn exchange(a: &Path, b: &Path) -> std::io::Result<()> {
    use std::ffi::CString;
    use std::os::unix::ffi::OsStrExt;
    let ca = CString::new(a.as_os_str().as_bytes())?;
    let cb = CString::new(b.as_os_str().as_bytes())?;
    // SAFETY: both paths are valid NUL-terminated strings for the duration of the call.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_renameat2,
            libc::AT_FDCWD,
            ca.as_ptr(),
            libc::AT_FDCWD,
            cb.as_ptr(),
            libc::RENAME_EXCHANGE,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

#[cfg(not(target_os = "linux"))]
fn exchange(_: &Path, _: &Path) -> std::io::Result<()> {
    Err(std::io::Error::from(std::io::ErrorKind::Unsupported))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn temp_names_are_recognised_and_nothing_else() {
        let t = temp_path(Path::new("/x/oracle.json"));
        let name = t.file_name().unwrap().to_str().unwrap();
        assert!(is_temp_name(name), "{name}");
        assert!(is_temp_name(".weights.safetensors.tmp123"));
        for other in [
            "oracle.json",
            ".bashrc.tmpl",
            ".tmp1",
            "notes.tmp1",
            ".a.tmp",
        ] {
            assert!(!is_temp_name(other), "{other}");
        }
    }

    #[test]
    fn a_failed_write_leaves_no_temp_file_and_names_the_target() {
        let dir = tempfile::tempdir().unwrap();
        // The target is a folder: the rename over it fails after the temp file was written.
        let target = dir.path().join("taken");
        std::fs::create_dir(&target).unwrap();
        std::fs::write(target.join("x"), b"x").unwrap();
        let err = write_atomic(&target, b"data").unwrap_err().to_string();
        assert!(err.contains("taken"), "{err}");
        assert!(!err.contains(".taken.tmp"), "{err}");
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("taken")]);
    }

    #[cfg(unix)]
    #[test]
    fn files_get_the_umask_permissions_not_0600() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("w");
        write_atomic(&p, b"1").unwrap();
        let mode = std::fs::metadata(&p).unwrap().permissions().mode() & 0o777;
        // SAFETY: umask only reads and sets this process's mask; it is restored at once.
        let mask = unsafe {
            let m = libc::umask(0o022);
            libc::umask(m);
            m
        };
        assert_eq!(mode, 0o666 & !mask);
    }

    #[test]
    fn a_failed_fill_leaves_the_old_folder_whole() {
        let dir = tempfile::tempdir().unwrap();
        let m = dir.path().join("m");
        replace_dir(&m, |d| write_atomic(&d.join("a"), b"old")).unwrap();
        let r = replace_dir(&m, |d| {
            write_atomic(&d.join("a"), b"new")?;
            Err(Error::Config("boom".into()))
        });
        assert!(r.is_err());
        assert_eq!(std::fs::read(m.join("a")).unwrap(), b"old");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }
}
