//! `autocandle kernel launch` (what kernel.json runs): takes a free build folder under a lock
//! and replaces itself with evcxr_jupyter.

use super::{config, io, DEFAULT_SLOTS};
use autocandle::Result;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

pub(super) fn env_path(name: &str) -> Result<PathBuf> {
    std::env::var_os(name)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .ok_or_else(|| {
            config(format!(
                "{name} is not set: `autocandle kernel launch` is started by the kernelspec; run `autocandle kernel install` again"
            ))
        })
}

/// Starts evcxr_jupyter on `connection_file` in the first free build folder.
pub(super) fn launch(connection_file: &Path) -> Result<()> {
    let evcxr = env_path("AUTOCANDLE_EVCXR_JUPYTER")?;
    let slots_dir = env_path("AUTOCANDLE_KERNEL_SLOTS")?;
    let count = std::env::var("AUTOCANDLE_KERNEL_SLOT_COUNT")
        .ok()
        .and_then(|v| v.parse::<usize>().ok())
        .unwrap_or(DEFAULT_SLOTS)
        .max(1);
    let mut cmd = Command::new(&evcxr);
    cmd.arg("--control_file").arg(connection_file);
    if let Some((var, value)) = library_path() {
        cmd.env(var, value);
    }
    match slot::take(&slots_dir, count)? {
        Some(dir) => {
            remove_old_cells(&dir);
            cmd.env("EVCXR_TMPDIR", &dir);
        }
        None => eprintln!(
            "autocandle kernel: all {count} build folders in {} are in use; this kernel builds \
             in a temporary folder (slower start)",
            slots_dir.display()
        ),
    }
    slot::exec(cmd, &evcxr)
}

/// The dynamic loader's search path with the toolchain's target libraries (libstd) first.
///
/// Cells are built with `-C prefer-dynamic` and find libstd through a relative rpath computed
/// for cargo's `deps/` folder; evcxr loads some cells from the folder above it, where that rpath
/// misses when the build folder and the toolchain share a parent below `/` (both under the
/// home folder, as here).
pub(super) fn library_path() -> Option<(&'static str, OsString)> {
    let var = if cfg!(target_os = "macos") {
        "DYLD_FALLBACK_LIBRARY_PATH"
    } else if cfg!(unix) {
        "LD_LIBRARY_PATH"
    } else {
        return None;
    };
    let out = Command::new("rustc")
        .args(["--print", "target-libdir"])
        .output()
        .ok()
        .filter(|o| o.status.success())?;
    let lib = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
    let mut paths = vec![lib];
    if let Some(old) = std::env::var_os(var) {
        paths.extend(std::env::split_paths(&old));
    }
    std::env::join_paths(paths).ok().map(|p| (var, p))
}

/// Deletes the cell libraries (`libcode_N`) an earlier kernel left in a build folder.
pub(super) fn remove_old_cells(slot: &Path) {
    let Ok(targets) = std::fs::read_dir(slot.join("target")) else {
        return;
    };
    for t in targets.flatten() {
        let debug = t.path().join("debug");
        for dir in [debug.join("deps"), debug] {
            let Ok(files) = std::fs::read_dir(&dir) else {
                continue;
            };
            for f in files.flatten() {
                if f.file_name().to_string_lossy().starts_with("libcode_") {
                    let _ = std::fs::remove_file(f.path());
                }
            }
        }
    }
}

/// Build folders taken under an advisory lock that the kernel holds while it runs.
mod slot {
    use super::*;

    /// A slot that has held a kernel has its dependencies compiled (`target/`).
    #[cfg_attr(not(unix), allow(dead_code))]
    fn is_warm(slot: &Path) -> bool {
        slot.join("target").is_dir()
    }

    /// The first free slot, preferring warm ones: when every warm slot is busy, waits a few
    /// seconds for one (a kernel that has just been shut down may still be exiting) before
    /// taking a cold one. `None` when all `count` are busy.
    #[cfg(unix)]
    pub fn take(dir: &Path, count: usize) -> Result<Option<PathBuf>> {
        let slots: Vec<PathBuf> = (0..count).map(|i| dir.join(format!("slot-{i}"))).collect();
        let deadline = Instant::now() + std::time::Duration::from_secs(5);
        loop {
            let mut busy = false;
            for s in slots.iter().filter(|s| is_warm(s)) {
                if try_lock(s)? {
                    return Ok(Some(s.clone()));
                }
                busy = true;
            }
            if !busy || Instant::now() >= deadline {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(200));
        }
        for s in slots.iter().filter(|s| !is_warm(s)) {
            if try_lock(s)? {
                return Ok(Some(s.clone()));
            }
        }
        Ok(None)
    }

    /// Locks `slot` (through `slot.lock` beside it) for this process and whatever it execs.
    #[cfg(unix)]
    fn try_lock(slot: &Path) -> Result<bool> {
        use std::os::unix::io::IntoRawFd;
        std::fs::create_dir_all(slot).map_err(io(slot))?;
        let lock_path = slot.with_extension("lock");
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(io(&lock_path))?;
        let fd = file.into_raw_fd();
        // SAFETY: `fd` is an open descriptor we own; flock and fcntl only act on it.
        if unsafe { libc::flock(fd, libc::LOCK_EX | libc::LOCK_NB) } == 0 {
            // Keep the descriptor (and so the lock) open across exec: the kernel and its
            // children hold it until the last of them exits.
            // SAFETY: as above.
            unsafe { libc::fcntl(fd, libc::F_SETFD, 0) };
            return Ok(true);
        }
        // SAFETY: we own `fd` and do not use it again.
        unsafe { libc::close(fd) };
        Ok(false)
    }

    #[cfg(unix)]
    pub fn exec(mut cmd: Command, evcxr: &Path) -> Result<()> {
        use std::os::unix::process::CommandExt;
        let e = cmd.exec();
        Err(config(format!(
            "cannot start {}: {e}; run `autocandle kernel install` again",
            evcxr.display()
        )))
    }

    /// Without advisory locks at hand, the first folder is used: one kernel at a time.
    #[cfg(not(unix))]
    pub fn take(dir: &Path, _count: usize) -> Result<Option<PathBuf>> {
        let slot = dir.join("slot-0");
        std::fs::create_dir_all(&slot).map_err(io(&slot))?;
        Ok(Some(slot))
    }

    #[cfg(not(unix))]
    pub fn exec(mut cmd: Command, evcxr: &Path) -> Result<()> {
        let status = cmd.status().map_err(|e| {
            config(format!(
                "cannot start {}: {e}; run `autocandle kernel install` again",
                evcxr.display()
            ))
        })?;
        std::process::exit(status.code().unwrap_or(1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    #[test]
    fn a_taken_slot_is_skipped_and_a_full_set_gives_none() {
        let tmp = tempfile::tempdir().unwrap();
        // This process holds both locks: flock locks are per open file description, so a
        // second open + flock in the same process conflicts like another kernel's would.
        let first = slot::take(tmp.path(), 2).unwrap().unwrap();
        let second = slot::take(tmp.path(), 2).unwrap().unwrap();
        assert_ne!(first, second);
        assert!(slot::take(tmp.path(), 2).unwrap().is_none());
    }

    #[cfg(unix)]
    #[test]
    fn a_warm_slot_comes_first() {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(tmp.path().join("slot-1/target")).unwrap();
        let first = slot::take(tmp.path(), 3).unwrap().unwrap();
        assert_eq!(first, tmp.path().join("slot-1"));
        // The warm one is busy: after a short wait, a cold one.
        let second = slot::take(tmp.path(), 3).unwrap().unwrap();
        assert_eq!(second, tmp.path().join("slot-0"));
    }
}
