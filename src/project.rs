//! The on-disk study: `<directory>/<project_name>/` with `oracle.json`, `trial_<id>/trial.json`,
//! each trial's best weights, and the final model. Every file is written atomically (a temp
//! file in the same folder, then a rename), so a killed process never leaves half a file.

use crate::error::{Error, Result};
use crate::tuners::{Trial, TunerKind};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// What `oracle.json` holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OracleState {
    /// The tuner.
    pub tuner: TunerKind,
    /// The search seed.
    pub seed: u64,
    /// Trial ids in the order they ran.
    pub trial_ids: Vec<String>,
    /// The best trial so far.
    pub best_trial: Option<String>,
}

/// A project folder.
#[derive(Debug, Clone)]
pub struct Project {
    dir: PathBuf,
}

/// Writes `bytes` to `path` through a temp file and a rename.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let tmp = temp_path(path);
    std::fs::write(&tmp, bytes).map_err(|e| Error::io(&tmp, e))?;
    std::fs::rename(&tmp, path).map_err(|e| Error::io(path, e))
}

/// A sibling temp name for `path`.
pub fn temp_path(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    path.with_file_name(format!(".{name}.tmp{}", std::process::id()))
}

impl Project {
    /// Opens (or creates) `<directory>/<name>`; `overwrite` deletes what was there.
    pub fn open(directory: &Path, name: &str, overwrite: bool) -> Result<Self> {
        if name.is_empty() || name.contains(['/', '\\']) || name == ".." {
            return Err(Error::Config(format!(
                "project name {name:?} must be a plain folder name"
            )));
        }
        let dir = directory.join(name);
        if overwrite && dir.exists() {
            std::fs::remove_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
        }
        std::fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
        Ok(Project { dir })
    }

    /// The project folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// `trial_<id>/`.
    pub fn trial_dir(&self, id: &str) -> PathBuf {
        self.dir.join(format!("trial_{id}"))
    }

    /// Where a trial's best weights go.
    pub fn trial_weights(&self, id: &str) -> PathBuf {
        self.trial_dir(id).join("checkpoint.safetensors")
    }

    /// Where the final model goes.
    pub fn model_dir(&self) -> PathBuf {
        self.dir.join("best_model")
    }

    /// Saves a trial's `trial.json`.
    pub fn save_trial(&self, trial: &Trial) -> Result<()> {
        let d = self.trial_dir(&trial.trial_id);
        std::fs::create_dir_all(&d).map_err(|e| Error::io(&d, e))?;
        write_atomic(
            &d.join("trial.json"),
            serde_json::to_string_pretty(trial)?.as_bytes(),
        )
    }

    /// Every saved trial, in id order.
    pub fn load_trials(&self) -> Result<Vec<Trial>> {
        let mut trials = Vec::new();
        let entries = std::fs::read_dir(&self.dir).map_err(|e| Error::io(&self.dir, e))?;
        for e in entries {
            let e = e.map_err(|e| Error::io(&self.dir, e))?;
            let name = e.file_name().to_string_lossy().into_owned();
            if !name.starts_with("trial_") {
                continue;
            }
            let p = e.path().join("trial.json");
            if !p.exists() {
                continue;
            }
            let text = std::fs::read_to_string(&p).map_err(|err| Error::io(&p, err))?;
            let t: Trial = serde_json::from_str(&text).map_err(|err| Error::Format {
                path: p.clone(),
                format: "trial.json",
                detail: err.to_string(),
            })?;
            trials.push(t);
        }
        trials.sort_by(|a, b| a.trial_id.cmp(&b.trial_id));
        Ok(trials)
    }

    /// Saves `oracle.json`.
    pub fn save_oracle(&self, state: &OracleState) -> Result<()> {
        write_atomic(
            &self.dir.join("oracle.json"),
            serde_json::to_string_pretty(state)?.as_bytes(),
        )
    }

    /// Reads `oracle.json`, if there is one.
    pub fn load_oracle(&self) -> Result<Option<OracleState>> {
        let p = self.dir.join("oracle.json");
        if !p.exists() {
            return Ok(None);
        }
        let text = std::fs::read_to_string(&p).map_err(|e| Error::io(&p, e))?;
        let s = serde_json::from_str(&text).map_err(|e| Error::Format {
            path: p.clone(),
            format: "oracle.json",
            detail: e.to_string(),
        })?;
        Ok(Some(s))
    }
}
