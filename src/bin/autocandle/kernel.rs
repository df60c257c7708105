//! `autocandle kernel ...`: the Jupyter kernel "Rust (autocandle)".
//!
//! `install` puts evcxr_jupyter at the pinned version in place (reusing an installed binary of
//! that version), writes the kernelspec `autocandle` and its evcxr configuration (`init.evcxr`:
//! `:dep autocandle = { path = ... }` and `use autocandle::prelude::*;`), and prebuilds the
//! dependency cache by executing a one-cell notebook through the new kernel. The kernelspec
//! starts `autocandle kernel launch`, which takes a free build folder ("slot") under a lock and
//! replaces itself with evcxr_jupyter: each running kernel has its own persistent
//! `EVCXR_TMPDIR`, so a kernel started later finds the dependencies already compiled there.

use autocandle::{Error, Result};
use serde_json::json;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

/// The evcxr_jupyter version the kernel is built and tested with.
pub const EVCXR_VERSION: &str = "0.22.0";
/// The kernelspec's name (`jupyter nbconvert --ExecutePreprocessor.kernel_name=autocandle`).
pub const KERNEL_NAME: &str = "autocandle";
/// The name Jupyter shows.
pub const DISPLAY_NAME: &str = "Rust (autocandle)";
/// Build folders, i.e. kernels that can run at once with a warm build.
const DEFAULT_SLOTS: usize = 4;
/// The line the warm-up cell prints.
const READY: &str = "autocandle kernel ready";

/// What `autocandle kernel` does.
#[derive(clap::Subcommand)]
pub enum KernelCommand {
    /// Install evcxr_jupyter (pinned), write the kernelspec "Rust (autocandle)" and prebuild
    /// its dependencies (the first time: ~20 min for evcxr_jupyter plus the prebuild on 2 cores).
    Install(InstallArgs),
    /// Run the warm-up notebook through the installed kernel again (after `rustup update`, or
    /// to time a kernel start): prints the seconds from kernel start to the first result.
    Warm(JupyterArgs),
    /// Remove the kernelspec, the evcxr configuration and the build folders (evcxr_jupyter
    /// itself stays: `cargo uninstall evcxr_jupyter`).
    Uninstall(JupyterArgs),
    /// Start the kernel (kernel.json runs this): take a free build folder, run evcxr_jupyter.
    #[command(hide = true)]
    Launch {
        /// The connection file Jupyter passes.
        connection_file: PathBuf,
    },
}

/// Where `jupyter` is.
#[derive(clap::Args)]
pub struct JupyterArgs {
    /// The `jupyter` program [default: `jupyter` on PATH].
    #[arg(long, default_value = "jupyter")]
    jupyter: PathBuf,
}

/// The options of `autocandle kernel install`.
#[derive(clap::Args)]
pub struct InstallArgs {
    #[command(flatten)]
    jupyter: JupyterArgs,
    /// The autocandle checkout the kernel loads with `:dep` [default: the one this program was
    /// built from].
    #[arg(long)]
    path: Option<PathBuf>,
    /// Cargo features of autocandle to enable in the kernel (e.g. cuda).
    #[arg(long, value_delimiter = ',')]
    features: Vec<String>,
    /// Build folders, i.e. kernels that can run at the same time each with its own warm build
    /// (a further kernel still works, from evcxr's own cache, with a slower start).
    #[arg(long, default_value_t = DEFAULT_SLOTS)]
    slots: usize,
    /// Write the kernelspec but skip the prebuild (the first kernel start then compiles
    /// everything: many minutes).
    #[arg(long)]
    no_prebuild: bool,
}

/// Runs a `kernel` subcommand.
pub fn run(command: KernelCommand) -> Result<()> {
    match command {
        KernelCommand::Install(args) => install(&args),
        KernelCommand::Warm(args) => warm(&args.jupyter).map(|_| ()),
        KernelCommand::Uninstall(args) => uninstall(&args.jupyter),
        KernelCommand::Launch { connection_file } => launch(&connection_file),
    }
}

fn config(msg: impl Into<String>) -> Error {
    Error::Config(msg.into())
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> Error + '_ {
    move |source| Error::Io {
        path: path.to_path_buf(),
        source,
    }
}

fn home() -> Result<PathBuf> {
    std::env::var_os("HOME")
        .filter(|h| !h.is_empty())
        .map(PathBuf::from)
        .ok_or_else(|| config("HOME is not set: set it to your home folder"))
}

/// `$VAR`, else `~/<fallback>`.
fn xdg(var: &str, fallback: &str) -> Result<PathBuf> {
    match std::env::var_os(var).filter(|v| !v.is_empty()) {
        Some(v) => Ok(PathBuf::from(v)),
        None => Ok(home()?.join(fallback)),
    }
}

/// The kernel's own files: the evcxr configuration and a copy of this program (the launcher).
fn data_home() -> Result<PathBuf> {
    Ok(xdg("XDG_DATA_HOME", ".local/share")?.join("autocandle/kernel"))
}

/// The persistent build folders (`slot-N`), one per running kernel.
fn slots_home() -> Result<PathBuf> {
    Ok(xdg("XDG_CACHE_HOME", ".cache")?.join("autocandle/kernel"))
}

/// Where `cargo install` puts programs.
fn cargo_bin() -> Result<PathBuf> {
    if let Some(root) = std::env::var_os("CARGO_INSTALL_ROOT").filter(|v| !v.is_empty()) {
        return Ok(PathBuf::from(root).join("bin"));
    }
    Ok(xdg("CARGO_HOME", ".cargo")?.join("bin"))
}

/// Runs `cmd` with the terminal attached; an error names the command and how to get it.
fn run_command(cmd: &mut Command, hint: &str) -> Result<()> {
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
fn output(cmd: &mut Command, hint: &str) -> Result<String> {
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

const JUPYTER_HINT: &str = "install Jupyter (python3 -m venv ~/.venvs/jupyter && \
~/.venvs/jupyter/bin/pip install jupyterlab nbconvert) and put it on PATH \
(. ~/.venvs/jupyter/bin/activate) or pass --jupyter ~/.venvs/jupyter/bin/jupyter";

/// Jupyter's user data folder (kernelspecs live in its `kernels/`).
fn jupyter_data_dir(jupyter: &Path) -> Result<PathBuf> {
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

/// Whether `cargo install --list` shows `package vVERSION`.
fn cargo_installed(list: &str, package: &str, version: &str) -> bool {
    let wanted = format!("{package} v{version}:");
    list.lines().any(|l| l.trim_end() == wanted)
}

/// The pinned evcxr_jupyter: reused when `cargo install --list` has it, else installed.
fn ensure_evcxr() -> Result<PathBuf> {
    let hint = "install Rust with rustup (https://rustup.rs) so that cargo is on PATH";
    let bin = cargo_bin()?.join(format!("evcxr_jupyter{}", std::env::consts::EXE_SUFFIX));
    let list = output(Command::new("cargo").args(["install", "--list"]), hint)?;
    if cargo_installed(&list, "evcxr_jupyter", EVCXR_VERSION) && bin.is_file() {
        eprintln!(
            "evcxr_jupyter {EVCXR_VERSION} is installed: {}",
            bin.display()
        );
        return Ok(bin);
    }
    eprintln!(
        "installing evcxr_jupyter {EVCXR_VERSION} (a ~1,300 CPU-second build; needs Rust 1.95 or newer)"
    );
    let t = Instant::now();
    run_command(
        Command::new("cargo").args([
            "install",
            "evcxr_jupyter",
            "--version",
            EVCXR_VERSION,
            "--locked",
        ]),
        "evcxr_jupyter 0.22 needs Rust 1.95 or newer (rustup update stable) and a C toolchain",
    )?;
    eprintln!(
        "evcxr_jupyter installed in {:.0} s",
        t.elapsed().as_secs_f64()
    );
    if !bin.is_file() {
        return Err(config(format!(
            "cargo installed evcxr_jupyter but {} does not exist: set CARGO_HOME or CARGO_INSTALL_ROOT as cargo uses them",
            bin.display()
        )));
    }
    Ok(bin)
}

/// evcxr's type inference (rust-analyzer) reads the standard library's sources.
fn ensure_rust_src() {
    let sysroot = Command::new("rustc")
        .args(["--print", "sysroot"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()));
    if let Some(root) = sysroot {
        if root.join("lib/rustlib/src/rust/library").is_dir() {
            return;
        }
    }
    eprintln!("adding the rust-src component (evcxr infers variable types from std's sources)");
    let ok = Command::new("rustup")
        .args(["component", "add", "rust-src"])
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    if !ok {
        eprintln!(
            "warning: `rustup component add rust-src` failed; notebook cells may need type annotations"
        );
    }
}

/// The autocandle checkout the kernel loads.
fn crate_path(given: Option<&Path>) -> Result<PathBuf> {
    let dir = given
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")));
    let manifest = dir.join("Cargo.toml");
    let text = std::fs::read_to_string(&manifest).map_err(|_| {
        config(format!(
            "{} is not an autocandle checkout (no Cargo.toml): pass --path <your autocandle checkout>",
            dir.display()
        ))
    })?;
    if !text.contains("name = \"autocandle\"") {
        return Err(config(format!(
            "{} is not the autocandle crate: pass --path <your autocandle checkout>",
            manifest.display()
        )));
    }
    std::fs::canonicalize(&dir).map_err(io(&dir))
}

/// Dependencies of autocandle whose types a notebook keeps in variables (a `DataFrame`): evcxr
/// can only store a variable whose type it can name from the notebook, so the kernel depends on
/// them directly too, with autocandle's own version and features (nothing more to build).
const NAMED_DEPENDENCIES: &[&str] = &["polars"];

/// The `:dep` lines of [`NAMED_DEPENDENCIES`], from `cargo metadata` of the checkout.
fn named_dependencies(crate_dir: &Path) -> Result<Vec<String>> {
    let out = output(
        Command::new("cargo")
            .args([
                "metadata",
                "--no-deps",
                "--format-version",
                "1",
                "--manifest-path",
            ])
            .arg(crate_dir.join("Cargo.toml")),
        "cargo metadata reads the checkout's Cargo.toml",
    )?;
    let meta: serde_json::Value = serde_json::from_str(&out).map_err(|e| {
        config(format!(
            "cargo metadata printed something else than JSON: {e}"
        ))
    })?;
    let deps = meta["packages"]
        .as_array()
        .and_then(|p| p.iter().find(|p| p["name"] == "autocandle"))
        .and_then(|p| p["dependencies"].as_array())
        .cloned()
        .unwrap_or_default();
    Ok(deps
        .iter()
        .filter(|d| d["kind"].is_null())
        .filter(|d| NAMED_DEPENDENCIES.iter().any(|n| d["name"] == *n))
        .map(|d| {
            format!(
                ":dep {} = {{ version = {}, default-features = {}, features = {} }}",
                d["name"].as_str().unwrap_or_default(),
                d["req"],
                d["uses_default_features"].as_bool().unwrap_or(true),
                d["features"]
            )
        })
        .collect())
}

/// The evcxr start-up file: offline (cargo resolves the crate's dependencies from the crates
/// already downloaded, without the network at each start), the shared build cache, the crate
/// and the dependencies named in notebooks, the prelude. One block, so one compile at kernel
/// start.
pub fn init_evcxr(crate_dir: &Path, features: &[String], named: &[String]) -> String {
    let path = serde_json::to_string(&crate_dir.to_string_lossy()).unwrap_or_default();
    let features = if features.is_empty() {
        String::new()
    } else {
        format!(
            ", features = {}",
            serde_json::to_string(features).unwrap_or_default()
        )
    };
    let mut named: String = named.iter().map(|d| format!("{d}\n")).collect();
    named += "use autocandle::prelude::*;\n";
    format!(":offline 1\n:cache 2048\n:dep autocandle = {{ path = {path}{features} }}\n{named}")
}

/// The kernelspec (kernel.json).
pub fn kernel_json(
    launcher: &Path,
    evcxr: &Path,
    config_dir: &Path,
    slots_dir: &Path,
    slots: usize,
    tool_dir: Option<&Path>,
) -> serde_json::Value {
    let path = match tool_dir {
        Some(d) => format!("{}:${{PATH}}", d.display()),
        None => "${PATH}".into(),
    };
    json!({
        "argv": [launcher.display().to_string(), "kernel", "launch", "{connection_file}"],
        "display_name": DISPLAY_NAME,
        "language": "rust",
        "interrupt_mode": "message",
        "env": {
            "AUTOCANDLE_EVCXR_JUPYTER": evcxr.display().to_string(),
            "AUTOCANDLE_KERNEL_SLOTS": slots_dir.display().to_string(),
            "AUTOCANDLE_KERNEL_SLOT_COUNT": slots.to_string(),
            "EVCXR_CONFIG_DIR": config_dir.display().to_string(),
            // evcxr builds cells in cargo's dev profile with opt-level 2, debug assertions and
            // overflow checks; cargo's environment overrides it (training runs ~2.5x faster).
            "CARGO_PROFILE_DEV_OPT_LEVEL": "3",
            "CARGO_PROFILE_DEV_DEBUG_ASSERTIONS": "false",
            "CARGO_PROFILE_DEV_OVERFLOW_CHECKS": "false",
            // Tables (polars DataFrames) show up to 16 columns.
            "POLARS_FMT_MAX_COLS": "16",
            "PATH": path,
        },
        "metadata": {
            "autocandle": { "version": env!("CARGO_PKG_VERSION"), "evcxr_jupyter": EVCXR_VERSION }
        }
    })
}

fn write(path: &Path, text: &str) -> Result<()> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(io(parent))?;
    }
    std::fs::write(path, text).map_err(io(path))
}

fn install(args: &InstallArgs) -> Result<()> {
    let started = Instant::now();
    if args.slots == 0 {
        return Err(config("--slots must be at least 1"));
    }
    let crate_dir = crate_path(args.path.as_deref())?;
    let jupyter = &args.jupyter.jupyter;
    // Fail early (before a 20-minute build) when Jupyter is missing.
    let kernels = jupyter_data_dir(jupyter)?.join("kernels");
    ensure_rust_src();
    let evcxr = ensure_evcxr()?;
    // The kernel builds offline: the crate's dependencies must be downloaded.
    run_command(
        Command::new("cargo")
            .arg("fetch")
            .arg("--manifest-path")
            .arg(crate_dir.join("Cargo.toml")),
        "cargo fetch needs the network once, to download autocandle's dependencies",
    )?;

    let home = data_home()?;
    let config_dir = home.join("evcxr-config");
    write(
        &config_dir.join("init.evcxr"),
        &init_evcxr(&crate_dir, &args.features, &named_dependencies(&crate_dir)?),
    )?;
    // The launcher is a copy of this program: a rebuild of the checkout cannot pull it away
    // from under a running Jupyter.
    // (/proc/self/exe still reads when a rebuild has replaced the file since it started.)
    let proc_exe = Path::new("/proc/self/exe");
    let exe = if proc_exe.exists() {
        proc_exe.to_path_buf()
    } else {
        std::env::current_exe().map_err(|e| config(format!("cannot find this program: {e}")))?
    };
    let launcher = home
        .join("bin")
        .join(format!("autocandle{}", std::env::consts::EXE_SUFFIX));
    std::fs::create_dir_all(home.join("bin")).map_err(io(&home))?;
    let staging = launcher.with_extension("new");
    std::fs::copy(&exe, &staging).map_err(io(&exe))?;
    std::fs::rename(&staging, &launcher).map_err(io(&launcher))?;
    let slots_dir = slots_home()?;
    std::fs::create_dir_all(&slots_dir).map_err(io(&slots_dir))?;

    // cargo and rustc as this shell finds them, for a Jupyter started from elsewhere.
    let tool_dir = which("cargo").and_then(|p| p.parent().map(Path::to_path_buf));
    let spec = kernel_json(
        &launcher,
        &evcxr,
        &config_dir,
        &slots_dir,
        args.slots,
        tool_dir.as_deref(),
    );
    let spec_dir = kernels.join(KERNEL_NAME);
    let text = serde_json::to_string_pretty(&spec).unwrap_or_default();
    write(&spec_dir.join("kernel.json"), &(text + "\n"))?;
    eprintln!(
        "kernelspec {DISPLAY_NAME:?} written to {}\n  loads autocandle from {}",
        spec_dir.display(),
        crate_dir.display()
    );
    if args.no_prebuild {
        eprintln!("prebuild skipped: the first kernel start will compile the dependencies");
    } else {
        eprintln!("prebuilding the kernel's dependencies (cargo's output follows)");
        let t = Instant::now();
        warm(jupyter)?;
        eprintln!("prebuild: {:.0} s", t.elapsed().as_secs_f64());
    }
    eprintln!(
        "kernel installed in {:.0} s. Start `jupyter lab` and pick \"{DISPLAY_NAME}\".",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// The first file named `program` on PATH.
fn which(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(program))
        .find(|p| p.is_file())
}

/// The one-cell warm-up notebook: the kernel compiles autocandle at start-up (init.evcxr), and
/// the cell uses the prelude.
pub fn warmup_notebook() -> serde_json::Value {
    let source = format!(
        "let config = SearchConfig::default();\nprintln!(\"{READY}: max_trials = {{}}\", config.max_trials);"
    );
    json!({
        "cells": [{
            "cell_type": "code", "execution_count": null, "id": "warm-up", "metadata": {},
            "outputs": [], "source": source
        }],
        "metadata": {
            "kernelspec": { "name": KERNEL_NAME, "display_name": DISPLAY_NAME, "language": "rust" },
            "language_info": { "name": "rust" }
        },
        "nbformat": 4, "nbformat_minor": 5
    })
}

/// Executes the warm-up notebook through the installed kernel (no start-up time limit: the
/// first start compiles every dependency) and checks its output. Returns the wall seconds.
fn warm(jupyter: &Path) -> Result<f64> {
    let dir = std::env::temp_dir().join(format!("autocandle-warmup-{}", std::process::id()));
    let nb = dir.join("warmup.ipynb");
    let text = serde_json::to_string_pretty(&warmup_notebook()).unwrap_or_default();
    write(&nb, &text)?;
    let t = Instant::now();
    let mut cmd = Command::new(jupyter);
    cmd.arg("nbconvert")
        .args(["--to", "notebook", "--execute"])
        .arg(&nb)
        .arg("--output-dir")
        .arg(&dir)
        .args([
            "--output",
            "warmup.out",
            &format!("--ExecutePreprocessor.kernel_name={KERNEL_NAME}"),
            "--ExecutePreprocessor.startup_timeout=14400",
            "--ExecutePreprocessor.timeout=-1",
        ]);
    let ran = run_command(&mut cmd, JUPYTER_HINT);
    let seconds = t.elapsed().as_secs_f64();
    let out = dir.join("warmup.out.ipynb");
    let result = std::fs::read_to_string(&out).unwrap_or_default();
    let _ = std::fs::remove_dir_all(&dir);
    ran?;
    if !result.contains(READY) {
        return Err(config(format!(
            "the warm-up notebook ran but its cell did not print {READY:?}; run `jupyter lab`, \
             open a \"{DISPLAY_NAME}\" notebook and look at the error"
        )));
    }
    eprintln!("kernel start to first autocandle result: {seconds:.1} s (nbconvert, wall)");
    Ok(seconds)
}

fn uninstall(jupyter: &Path) -> Result<()> {
    let mut dirs = vec![data_home()?, slots_home()?];
    match jupyter_data_dir(jupyter) {
        Ok(d) => dirs.push(d.join("kernels").join(KERNEL_NAME)),
        Err(e) => eprintln!("warning: kernelspec left in place: {e}"),
    }
    for d in dirs {
        if d.exists() {
            std::fs::remove_dir_all(&d).map_err(io(&d))?;
            eprintln!("removed {}", d.display());
        }
    }
    eprintln!("evcxr_jupyter stays installed (cargo uninstall evcxr_jupyter removes it)");
    Ok(())
}

fn env_path(name: &str) -> Result<PathBuf> {
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
fn launch(connection_file: &Path) -> Result<()> {
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
fn library_path() -> Option<(&'static str, OsString)> {
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
fn remove_old_cells(slot: &Path) {
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

    #[test]
    fn finds_the_pinned_version_in_cargo_install_list() {
        let list =
            "cargo-edit v0.12.0:\n    cargo-add\nevcxr_jupyter v0.22.0:\n    evcxr_jupyter\n";
        assert!(cargo_installed(list, "evcxr_jupyter", "0.22.0"));
        assert!(!cargo_installed(list, "evcxr_jupyter", "0.21.1"));
        let older = "evcxr_jupyter v0.21.1:\n    evcxr_jupyter\n";
        assert!(!cargo_installed(older, "evcxr_jupyter", "0.22.0"));
    }

    #[test]
    fn init_evcxr_quotes_the_path_and_lists_features() {
        let polars = ":dep polars = { version = \"^0.55\" }".to_string();
        let s = init_evcxr(Path::new("/a b/\"c\""), &["cuda".to_string()], &[polars]);
        assert!(s.contains("}\n:dep polars = { version = \"^0.55\" }\nuse autocandle"));
        assert!(s.contains(r#":dep autocandle = { path = "/a b/\"c\"", features = ["cuda"] }"#));
        assert!(s.ends_with("use autocandle::prelude::*;\n"));
        assert!(s.starts_with(":offline 1\n:cache"));
    }

    #[test]
    fn polars_is_named_with_the_crate_s_own_version_and_features() {
        let deps = named_dependencies(Path::new(env!("CARGO_MANIFEST_DIR"))).unwrap();
        assert_eq!(deps.len(), 1, "{deps:?}");
        assert!(
            deps[0].starts_with(":dep polars = { version = \"^0.55"),
            "{}",
            deps[0]
        );
        assert!(deps[0].contains("default-features = false"), "{}", deps[0]);
        assert!(deps[0].contains("\"csv\""), "{}", deps[0]);
    }

    #[test]
    fn kernel_json_runs_the_launcher_with_an_optimised_profile() {
        let spec = kernel_json(
            Path::new("/k/autocandle"),
            Path::new("/c/evcxr_jupyter"),
            Path::new("/k/cfg"),
            Path::new("/s"),
            3,
            Some(Path::new("/c")),
        );
        assert_eq!(spec["argv"][3], "{connection_file}");
        assert_eq!(spec["display_name"], DISPLAY_NAME);
        assert_eq!(spec["interrupt_mode"], "message");
        assert_eq!(spec["env"]["CARGO_PROFILE_DEV_OPT_LEVEL"], "3");
        assert_eq!(spec["env"]["EVCXR_CONFIG_DIR"], "/k/cfg");
        assert_eq!(spec["env"]["AUTOCANDLE_KERNEL_SLOT_COUNT"], "3");
        assert_eq!(spec["env"]["PATH"], "/c:${PATH}");
    }

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
