//! Where the kernel's files live: the launcher and evcxr configuration, the build folders,
//! cargo's installed programs.

use super::config;
use autocandle::Result;
use std::path::PathBuf;

pub(super) fn home() -> Result<PathBuf> {
    std::env::var_os("HOME")
        .filter(|h| !h.is_empty())
        .map(PathBuf::from)
        .ok_or_else(|| config("HOME is not set: set it to your home folder"))
}

/// `$VAR`, else `~/<fallback>`.
pub(super) fn xdg(var: &str, fallback: &str) -> Result<PathBuf> {
    match std::env::var_os(var).filter(|v| !v.is_empty()) {
        Some(v) => Ok(PathBuf::from(v)),
        None => Ok(home()?.join(fallback)),
    }
}

/// The kernel's own files: the evcxr configuration and a copy of this program (the launcher).
pub(super) fn data_home() -> Result<PathBuf> {
    Ok(xdg("XDG_DATA_HOME", ".local/share")?.join("autocandle/kernel"))
}

/// The persistent build folders (`slot-N`), one per running kernel.
pub(super) fn slots_home() -> Result<PathBuf> {
    Ok(xdg("XDG_CACHE_HOME", ".cache")?.join("autocandle/kernel"))
}

/// Where `cargo install` puts programs.
pub(super) fn cargo_bin() -> Result<PathBuf> {
    if let Some(root) = std::env::var_os("CARGO_INSTALL_ROOT").filter(|v| !v.is_empty()) {
        return Ok(PathBuf::from(root).join("bin"));
    }
    Ok(xdg("CARGO_HOME", ".cargo")?.join("bin"))
}

/// The first file named `program` on PATH.
pub(super) fn which(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(program))
        .find(|p| p.is_file())
}
