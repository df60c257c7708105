//! The on-disk study: `<directory>/<project_name>/` with `oracle.json` (the tuner, the seed, the
//! study's fingerprint, the trials so far), `trial_<id>/trial.json`, each trial's best weights,
//! and the final model. Every file is written durably and atomically
//! ([`crate::durable`]), so a killed process never leaves half a file.
//!
//! A project folder holds only what autocandle writes there. `overwrite` empties such a folder
//! and nothing else: a folder holding anything autocandle did not write (a dataset, a thesis)
//! is refused, for a fresh search as for an overwrite, and nothing in it is touched.

use crate::error::{Error, Result};
use crate::study::StudyFingerprint;
use crate::tuners::{Trial, TunerKind};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

pub use crate::durable::{temp_path, write_atomic};

/// The name of the file that marks a folder as a project.
pub const ORACLE_FILE: &str = "oracle.json";

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
    /// What the study was started on (absent in projects of autocandle 0.1 before it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub study: Option<StudyFingerprint>,
}

/// A project folder.
#[derive(Debug, Clone)]
pub struct Project {
    dir: PathBuf,
}

/// What autocandle writes inside `trial_<id>/` and `best_model/`.
const TRIAL_FILES: &[&str] = &["trial.json", "checkpoint.safetensors"];
const MODEL_FILES: &[&str] = &[
    "architecture.json",
    "weights.safetensors",
    "preprocessing.json",
];

/// Whether `id` is a trial id autocandle makes (digits, or `final`), so that it can be joined
/// into a path: `trial_<id>` never leaves the project folder.
pub fn is_valid_trial_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= 20 && id.bytes().all(|b| b.is_ascii_digit())
}

/// The first entry of `dir` that autocandle would not have written there, if any
/// (`None` for an empty or missing folder, or a folder of autocandle's own).
pub fn foreign_entry(dir: &Path) -> Result<Option<PathBuf>> {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(Error::io(dir, e)),
    };
    let mut names: Vec<(String, PathBuf)> = Vec::new();
    for e in entries {
        let e = e.map_err(|err| Error::io(dir, err))?;
        names.push((e.file_name().to_string_lossy().into_owned(), e.path()));
    }
    names.sort();
    for (name, path) in names {
        let meta = std::fs::symlink_metadata(&path).map_err(|e| Error::io(&path, e))?;
        let own = if meta.file_type().is_symlink() {
            false
        } else if meta.is_dir() {
            let allowed = match name.as_str() {
                "best_model" => Some(MODEL_FILES),
                n if n.strip_prefix("trial_").is_some_and(is_valid_trial_id) => Some(TRIAL_FILES),
                // A half-built best_model folder of a killed save.
                n if crate::durable::is_temp_name(n) && n.starts_with(".best_model") => {
                    Some(MODEL_FILES)
                }
                _ => None,
            };
            match allowed {
                Some(files) => match foreign_file_in(&path, files)? {
                    Some(f) => return Ok(Some(f)),
                    None => true,
                },
                None => false,
            }
        } else {
            name == ORACLE_FILE || crate::durable::is_temp_name(&name)
        };
        if !own {
            return Ok(Some(path));
        }
    }
    Ok(None)
}

/// Like [`foreign_entry`] for a folder of projects (a forecaster's `<project>/`, holding one
/// project per lookback, `<prefix><n>/`, and the chosen `best_model/`): the first entry that
/// is neither, or that such a project would not hold.
pub fn foreign_entry_in_group(dir: &Path, prefix: &str) -> Result<Option<PathBuf>> {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(Error::io(dir, e)),
    };
    let mut paths: Vec<PathBuf> = entries
        .map(|e| e.map(|e| e.path()))
        .collect::<std::io::Result<_>>()
        .map_err(|e| Error::io(dir, e))?;
    paths.sort();
    for p in paths {
        let name = p
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let meta = std::fs::symlink_metadata(&p).map_err(|e| Error::io(&p, e))?;
        let project = name
            .strip_prefix(prefix)
            .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()));
        let found = if meta.file_type().is_symlink() {
            Some(p)
        } else if meta.is_dir() && project {
            foreign_entry(&p)?
        } else if meta.is_dir()
            && (name == "best_model"
                || (crate::durable::is_temp_name(&name) && name.starts_with(".best_model")))
        {
            foreign_file_in(&p, MODEL_FILES)?
        } else if meta.is_file() && crate::durable::is_temp_name(&name) {
            None
        } else {
            Some(p)
        };
        if found.is_some() {
            return Ok(found);
        }
    }
    Ok(None)
}

/// The first entry of `dir` that is not a plain file named in `files` (or a temp file).
fn foreign_file_in(dir: &Path, files: &[&str]) -> Result<Option<PathBuf>> {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .map_err(|e| Error::io(dir, e))?
        .collect::<std::io::Result<Vec<_>>>()
        .map_err(|e| Error::io(dir, e))?;
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let name = e.file_name().to_string_lossy().into_owned();
        let is_file = e
            .file_type()
            .map_err(|err| Error::io(e.path(), err))?
            .is_file();
        if !is_file || !(files.contains(&name.as_str()) || crate::durable::is_temp_name(&name)) {
            return Ok(Some(e.path()));
        }
    }
    Ok(None)
}

impl Project {
    /// Opens `<directory>/<name>`, creating it when missing. `overwrite` empties a project
    /// folder first. A folder that holds anything autocandle did not write there is refused
    /// either way, naming one such file, and nothing in it is touched.
    pub fn open(directory: &Path, name: &str, overwrite: bool) -> Result<Self> {
        if name.is_empty() || name.contains(['/', '\\']) || name == ".." || name == "." {
            return Err(Error::Config(format!(
                "project name {name:?} must be a plain folder name"
            )));
        }
        let dir = directory.join(name);
        if let Some(file) = foreign_entry(&dir)? {
            return Err(Error::NotAProject {
                dir,
                file,
                action: if overwrite {
                    "overwrite (delete) it"
                } else {
                    "write a search into it"
                },
            });
        }
        if overwrite && dir.exists() {
            let p = Project { dir: dir.clone() };
            p.clear()?;
        }
        std::fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
        crate::durable::sync_parent(&dir)?;
        Ok(Project { dir })
    }

    /// An existing project folder, for reading (reports): it must hold `oracle.json` or
    /// trials, and nothing is created.
    pub fn existing(dir: &Path) -> Result<Self> {
        let p = Project {
            dir: dir.to_path_buf(),
        };
        let has_trials = std::fs::read_dir(dir)
            .map_err(|e| Error::io(dir, e))?
            .filter_map(|e| e.ok())
            .any(|e| e.path().join("trial.json").is_file());
        if !dir.join(ORACLE_FILE).is_file() && !has_trials {
            return Err(Error::Config(format!(
                "{} is not a project folder: it has no {ORACLE_FILE} and no trial_<id>/trial.json",
                dir.display()
            )));
        }
        Ok(p)
    }

    /// Removes what autocandle wrote in the folder (and, after [`foreign_entry`] found
    /// nothing else, that is everything in it).
    fn clear(&self) -> Result<()> {
        let entries = std::fs::read_dir(&self.dir).map_err(|e| Error::io(&self.dir, e))?;
        for e in entries {
            let e = e.map_err(|err| Error::io(&self.dir, err))?;
            let p = e.path();
            let r = if e.file_type().map_err(|err| Error::io(&p, err))?.is_dir() {
                std::fs::remove_dir_all(&p)
            } else {
                std::fs::remove_file(&p)
            };
            r.map_err(|err| Error::io(&p, err))?;
        }
        crate::durable::sync_dir(&self.dir)
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
        if !is_valid_trial_id(&trial.trial_id) {
            return Err(Error::Config(format!(
                "trial id {:?} is not a trial id (digits only)",
                trial.trial_id
            )));
        }
        let d = self.trial_dir(&trial.trial_id);
        if !d.exists() {
            std::fs::create_dir_all(&d).map_err(|e| Error::io(&d, e))?;
            crate::durable::sync_parent(&d)?;
        }
        write_atomic(
            &d.join("trial.json"),
            serde_json::to_string_pretty(trial)?.as_bytes(),
        )
    }

    /// Every saved trial, in id order. A trial.json whose id is not its folder's (or not a
    /// trial id at all) is refused, naming the file.
    pub fn load_trials(&self) -> Result<Vec<Trial>> {
        let mut trials = Vec::new();
        let entries = std::fs::read_dir(&self.dir).map_err(|e| Error::io(&self.dir, e))?;
        for e in entries {
            let e = e.map_err(|e| Error::io(&self.dir, e))?;
            let name = e.file_name().to_string_lossy().into_owned();
            let Some(folder_id) = name.strip_prefix("trial_") else {
                continue;
            };
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
            if !is_valid_trial_id(&t.trial_id) || t.trial_id != folder_id {
                return Err(Error::Format {
                    path: p,
                    format: "trial.json",
                    detail: format!(
                        "its trial_id {:?} is not its folder's id {folder_id:?}: restore the file or start over with --overwrite",
                        t.trial_id
                    ),
                });
            }
            if let Some(parent) = t.parent.as_deref().filter(|p| !is_valid_trial_id(p)) {
                return Err(Error::Format {
                    path: p.clone(),
                    format: "trial.json",
                    detail: format!("its parent {parent:?} is not a trial id"),
                });
            }
            trials.push(t);
        }
        trials.sort_by(|a, b| a.trial_id.cmp(&b.trial_id));
        Ok(trials)
    }

    /// Saves `oracle.json`.
    pub fn save_oracle(&self, state: &OracleState) -> Result<()> {
        write_atomic(
            &self.dir.join(ORACLE_FILE),
            serde_json::to_string_pretty(state)?.as_bytes(),
        )
    }

    /// Reads `oracle.json`, if there is one.
    pub fn load_oracle(&self) -> Result<Option<OracleState>> {
        let p = self.dir.join(ORACLE_FILE);
        if !p.exists() {
            return Ok(None);
        }
        let text = std::fs::read_to_string(&p).map_err(|e| Error::io(&p, e))?;
        let s: OracleState = serde_json::from_str(&text).map_err(|e| Error::Format {
            path: p.clone(),
            format: "oracle.json",
            detail: e.to_string(),
        })?;
        if let Some(bad) = s
            .trial_ids
            .iter()
            .chain(&s.best_trial)
            .find(|id| !is_valid_trial_id(id))
        {
            return Err(Error::Format {
                path: p,
                format: "oracle.json",
                detail: format!("{bad:?} is not a trial id"),
            });
        }
        Ok(Some(s))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overwrite_refuses_a_folder_autocandle_did_not_make() {
        let root = tempfile::tempdir().unwrap();
        let d = root.path().join("mine");
        std::fs::create_dir_all(d.join("cats")).unwrap();
        std::fs::write(d.join("cats").join("a.png"), b"png").unwrap();
        std::fs::write(d.join("thesis.txt"), b"years of work").unwrap();
        for overwrite in [true, false] {
            let err = Project::open(root.path(), "mine", overwrite).unwrap_err();
            let msg = err.to_string();
            assert!(msg.contains("mine") && msg.contains("cats"), "{msg}");
        }
        assert!(d.join("thesis.txt").exists() && d.join("cats").join("a.png").exists());
    }

    #[test]
    fn a_trial_folder_with_a_foreign_file_is_not_ours() {
        let root = tempfile::tempdir().unwrap();
        let d = root.path().join("p");
        std::fs::create_dir_all(d.join("trial_00")).unwrap();
        std::fs::write(d.join(ORACLE_FILE), b"{}").unwrap();
        std::fs::write(d.join("trial_00").join("notes.md"), b"mine").unwrap();
        assert!(Project::open(root.path(), "p", true).is_err());
        assert!(d.join("trial_00").join("notes.md").exists());
        std::fs::remove_file(d.join("trial_00").join("notes.md")).unwrap();
        std::fs::write(d.join("trial_00").join("trial.json"), b"{}").unwrap();
        Project::open(root.path(), "p", true).unwrap();
        assert_eq!(std::fs::read_dir(&d).unwrap().count(), 0);
    }

    #[test]
    fn trial_ids_are_digits_only() {
        assert!(is_valid_trial_id("00") && is_valid_trial_id("123"));
        for bad in ["", "00/../../x", "..", "a", "0 ", "/etc"] {
            assert!(!is_valid_trial_id(bad), "{bad}");
        }
    }

    #[test]
    fn a_trial_json_whose_id_leaves_the_project_is_refused() {
        let root = tempfile::tempdir().unwrap();
        let p = Project::open(root.path(), "p", false).unwrap();
        let t = Trial::new("00".into(), crate::hyperparameters::HyperParameters::new());
        p.save_trial(&t).unwrap();
        let f = p.trial_dir("00").join("trial.json");
        let text = std::fs::read_to_string(&f).unwrap();
        std::fs::write(&f, text.replace("\"00\"", "\"00/../../x\"")).unwrap();
        let err = p.load_trials().unwrap_err().to_string();
        assert!(
            err.contains("trial.json") && err.contains("00/../../x"),
            "{err}"
        );
    }
}
