//! `autocandle kernel ...`: the Jupyter kernel "Rust (autocandle)".
//!
//! `install` puts evcxr_jupyter at the pinned version in place (reusing an installed binary of
//! that version), writes the kernelspec `autocandle` and its evcxr configuration (`init.evcxr`:
//! `:dep autocandle = { path = ... }` and `use autocandle::prelude::*;`), and prebuilds the
//! dependency cache by executing a one-cell notebook through the new kernel. The kernelspec
//! starts `autocandle kernel launch`, which takes a free build folder ("slot") under a lock and
//! replaces itself with evcxr_jupyter: each running kernel has its own persistent
//! `EVCXR_TMPDIR`, so a kernel started later finds the dependencies already compiled there.

mod install;
mod launch;
mod paths;
mod process;
mod spec;

use autocandle::{Error, Result};
use std::path::{Path, PathBuf};

/// The evcxr_jupyter version the kernel is built and tested with.
pub const EVCXR_VERSION: &str = "0.22.0";
/// One of the kernels: its kernelspec name (`jupyter nbconvert
/// --ExecutePreprocessor.kernel_name=...`), the name Jupyter shows, and whether it loads
/// autocandle's `tables` feature (polars DataFrames, CSV files). evcxr analyses every dependency's
/// sources when a kernel starts, and polars alone costs most of that, so only notebooks that read
/// tables pay for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Kernel {
    pub name: &'static str,
    pub display: &'static str,
    pub tables: bool,
}

/// The installed kernels: the plain one first (what a new notebook should pick), then the one
/// with tables.
pub const KERNELS: [Kernel; 2] = [
    Kernel {
        name: "autocandle",
        display: "Rust (autocandle)",
        tables: false,
    },
    Kernel {
        name: "autocandle-tables",
        display: "Rust (autocandle, tables)",
        tables: true,
    },
];
/// Build folders, i.e. kernels that can run at once with a warm build.
pub(super) const DEFAULT_SLOTS: usize = 4;
/// The line the warm-up cell prints.
pub(super) const READY: &str = "autocandle kernel ready";

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
    pub jupyter: PathBuf,
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
        KernelCommand::Install(args) => install::install(&args),
        KernelCommand::Warm(args) => KERNELS
            .iter()
            .try_for_each(|k| install::warm(&args.jupyter, *k).map(|_| ())),
        KernelCommand::Uninstall(args) => install::uninstall(&args.jupyter),
        KernelCommand::Launch { connection_file } => launch::launch(&connection_file),
    }
}

pub(super) fn config(msg: impl Into<String>) -> Error {
    Error::Config(msg.into())
}

pub(super) fn io(path: &Path) -> impl FnOnce(std::io::Error) -> Error + '_ {
    move |source| Error::Io {
        path: path.to_path_buf(),
        source,
    }
}
