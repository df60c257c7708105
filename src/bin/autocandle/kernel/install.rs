//! `autocandle kernel install | warm | uninstall`: evcxr_jupyter at the pinned version, the
//! kernelspec and its configuration, the prebuild through the warm-up notebook.

use super::paths::{cargo_bin, data_home, slots_home, which};
use super::process::{jupyter_data_dir, output, run_command, JUPYTER_HINT};
use super::spec::{init_evcxr, kernel_json, named_dependencies, warmup_notebook};
use super::{config, io, InstallArgs, Kernel, EVCXR_VERSION, KERNELS, READY};
use autocandle::Result;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

/// Whether `cargo install --list` shows `package vVERSION`.
pub(super) fn cargo_installed(list: &str, package: &str, version: &str) -> bool {
    let wanted = format!("{package} v{version}:");
    list.lines().any(|l| l.trim_end() == wanted)
}

/// The pinned evcxr_jupyter: reused when `cargo install --list` has it, else installed.
pub(super) fn ensure_evcxr() -> Result<PathBuf> {
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
pub(super) fn ensure_rust_src() {
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
pub(super) fn crate_path(given: Option<&Path>) -> Result<PathBuf> {
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

pub(super) fn write(path: &Path, text: &str) -> Result<()> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(io(parent))?;
    }
    autocandle::durable::write_atomic(path, text.as_bytes())
}

pub(super) fn install(args: &InstallArgs) -> Result<()> {
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
    let named = named_dependencies(&crate_dir)?;
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
    std::fs::File::open(&staging)
        .and_then(|f| f.sync_all())
        .map_err(io(&staging))?;
    std::fs::rename(&staging, &launcher).map_err(io(&launcher))?;
    autocandle::durable::sync_parent(&launcher)?;
    let slots_dir = slots_home()?;
    std::fs::create_dir_all(&slots_dir).map_err(io(&slots_dir))?;

    // cargo and rustc as this shell finds them, for a Jupyter started from elsewhere.
    let tool_dir = which("cargo").and_then(|p| p.parent().map(Path::to_path_buf));
    for kernel in KERNELS {
        // Each kernel has its own evcxr configuration; they share the build folders, where
        // cargo keeps both builds of autocandle side by side over the same dependencies.
        let config_dir = home.join("evcxr-config").join(kernel.name);
        write(
            &config_dir.join("init.evcxr"),
            &init_evcxr(kernel, &crate_dir, &args.features, &named),
        )?;
        let spec = kernel_json(
            kernel,
            &launcher,
            &evcxr,
            &config_dir,
            &slots_dir,
            args.slots,
            tool_dir.as_deref(),
        );
        let spec_dir = kernels.join(kernel.name);
        let text = serde_json::to_string_pretty(&spec).unwrap_or_default();
        write(&spec_dir.join("kernel.json"), &(text + "\n"))?;
        eprintln!(
            "kernelspec {:?} written to {}\n  loads autocandle from {}",
            kernel.display,
            spec_dir.display(),
            crate_dir.display()
        );
    }
    if args.no_prebuild {
        eprintln!("prebuild skipped: the first kernel start will compile the dependencies");
    } else {
        for kernel in KERNELS {
            eprintln!("prebuilding {:?} (cargo's output follows)", kernel.display);
            let t = Instant::now();
            warm(jupyter, kernel)?;
            eprintln!(
                "prebuild of {:?}: {:.0} s",
                kernel.display,
                t.elapsed().as_secs_f64()
            );
        }
    }
    eprintln!(
        "kernels installed in {:.0} s. Start `jupyter lab` and pick \"{}\" (\"{}\" for notebooks that read tables).",
        started.elapsed().as_secs_f64(),
        KERNELS[0].display,
        KERNELS[1].display
    );
    Ok(())
}

/// Executes the warm-up notebook through the installed kernel (no start-up time limit: the
/// first start compiles every dependency) and checks its output. Returns the wall seconds.
pub(super) fn warm(jupyter: &Path, kernel: Kernel) -> Result<f64> {
    let dir = std::env::temp_dir().join(format!(
        "autocandle-warmup-{}-{}",
        kernel.name,
        std::process::id()
    ));
    let nb = dir.join("warmup.ipynb");
    let text = serde_json::to_string_pretty(&warmup_notebook(kernel)).unwrap_or_default();
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
            &format!("--ExecutePreprocessor.kernel_name={}", kernel.name),
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
             open a \"{}\" notebook and look at the error",
            kernel.display
        )));
    }
    eprintln!("kernel start to first autocandle result: {seconds:.1} s (nbconvert, wall)");
    Ok(seconds)
}

pub(super) fn uninstall(jupyter: &Path) -> Result<()> {
    let mut dirs = vec![data_home()?, slots_home()?];
    match jupyter_data_dir(jupyter) {
        Ok(d) => dirs.extend(KERNELS.iter().map(|k| d.join("kernels").join(k.name))),
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
}
