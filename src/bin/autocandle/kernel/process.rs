//! Running the programs the kernel needs (cargo, jupyter), with errors that say how to get them.

use super::config;
use autocandle::Result;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Runs `cmd` with the terminal attached; an error names the command and how to get it.
pub(super) fn run_command(cmd: &mut Command, hint: &str) -> Result<()> {
    let shown = format!("{cmd:?}");
    let status = cmd
        .status()
        .map_err(|e| config(format!("cannot run {shown}: {e}; {hint}")))?;
    if status.success() {
        Ok(())
    } else {
        Err(config(format!("{shown} failed ({status}); {hint}")))
    }
}

/// Runs `cmd` and returns its standard output.
pub(super) fn output(cmd: &mut Command, hint: &str) -> Result<String> {
    let shown = format!("{cmd:?}");
    let out = cmd
        .output()
        .map_err(|e| config(format!("cannot run {shown}: {e}; {hint}")))?;
    if !out.status.success() {
        return Err(config(format!(
            "{shown} failed ({}): {}; {hint}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

pub(super) const JUPYTER_HINT: &str = "install Jupyter (python3 -m venv ~/.venvs/jupyter && \
~/.venvs/jupyter/bin/pip install jupyterlab nbconvert) and put it on PATH \
(. ~/.venvs/jupyter/bin/activate) or pass --jupyter ~/.venvs/jupyter/bin/jupyter";

/// Jupyter's user data folder (kernelspecs live in its `kernels/`).
pub(super) fn jupyter_data_dir(jupyter: &Path) -> Result<PathBuf> {
    let out = output(Command::new(jupyter).arg("--data-dir"), JUPYTER_HINT)?;
    let dir = out.trim();
    if dir.is_empty() {
        return Err(config(format!(
            "{} --data-dir printed nothing; {JUPYTER_HINT}",
            jupyter.display()
        )));
    }
    Ok(PathBuf::from(dir))
}
