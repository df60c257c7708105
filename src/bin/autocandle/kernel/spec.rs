//! What the kernel is: its kernelspec (kernel.json), its evcxr start-up file (init.evcxr) and
//! the one-cell warm-up notebook.

use super::process::output;
use super::{config, Kernel, EVCXR_VERSION, READY};
use autocandle::Result;
use serde_json::json;
use std::path::Path;
use std::process::Command;

/// Dependencies of autocandle whose types a notebook keeps in variables (a `DataFrame`): evcxr
/// can only store a variable whose type it can name from the notebook, so the kernel depends on
/// them directly too, with autocandle's own version and features (nothing more to build).
pub(super) const NAMED_DEPENDENCIES: &[&str] = &["polars"];

/// The `:dep` lines of [`NAMED_DEPENDENCIES`], from `cargo metadata` of the checkout.
pub(super) fn named_dependencies(crate_dir: &Path) -> Result<Vec<String>> {
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
pub fn init_evcxr(
    kernel: Kernel,
    crate_dir: &Path,
    features: &[String],
    named: &[String],
) -> String {
    let path = serde_json::to_string(&crate_dir.to_string_lossy()).unwrap_or_default();
    let mut features = features.to_vec();
    if kernel.tables {
        features.push("tables".into());
    }
    let features = serde_json::to_string(&features).unwrap_or_default();
    let mut lines = format!(
        ":offline 1\n:cache 2048\n:dep autocandle = {{ path = {path}, default-features = false, features = {features} }}\n"
    );
    if kernel.tables {
        lines.extend(named.iter().map(|d| format!("{d}\n")));
    }
    lines + "use autocandle::prelude::*;\n"
}

/// The kernelspec (kernel.json).
pub fn kernel_json(
    kernel: Kernel,
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
        "display_name": kernel.display,
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

/// The one-cell warm-up notebook: the kernel compiles autocandle at start-up (init.evcxr), and
/// the cell uses the prelude.
pub fn warmup_notebook(kernel: Kernel) -> serde_json::Value {
    let source = format!(
        "let config = SearchConfig::default();\nprintln!(\"{READY}: max_trials = {{}}\", config.max_trials);"
    );
    json!({
        "cells": [{
            "cell_type": "code", "execution_count": null, "id": "warm-up", "metadata": {},
            "outputs": [], "source": source
        }],
        "metadata": {
            "kernelspec": { "name": kernel.name, "display_name": kernel.display, "language": "rust" },
            "language_info": { "name": "rust" }
        },
        "nbformat": 4, "nbformat_minor": 5
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn init_evcxr_quotes_the_path_and_loads_polars_only_in_the_tables_kernel() {
        use crate::kernel::KERNELS;
        let polars = ":dep polars = { version = \"^0.55\" }".to_string();
        let dir = Path::new("/a b/\"c\"");
        let plain = init_evcxr(
            KERNELS[0],
            dir,
            &["cuda".to_string()],
            std::slice::from_ref(&polars),
        );
        assert!(plain.contains(
            r#":dep autocandle = { path = "/a b/\"c\"", default-features = false, features = ["cuda"] }"#
        ));
        assert!(!plain.contains("polars"), "{plain}");
        assert!(plain.ends_with("}\nuse autocandle::prelude::*;\n"));
        assert!(plain.starts_with(":offline 1\n:cache"));
        let tables = init_evcxr(KERNELS[1], dir, &["cuda".to_string()], &[polars]);
        assert!(
            tables.contains(r#"default-features = false, features = ["cuda","tables"] }"#),
            "{tables}"
        );
        assert!(tables.contains("}\n:dep polars = { version = \"^0.55\" }\nuse autocandle"));
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
            crate::kernel::KERNELS[1],
            Path::new("/k/autocandle"),
            Path::new("/c/evcxr_jupyter"),
            Path::new("/k/cfg"),
            Path::new("/s"),
            3,
            Some(Path::new("/c")),
        );
        assert_eq!(spec["argv"][3], "{connection_file}");
        assert_eq!(spec["display_name"], "Rust (autocandle, tables)");
        assert_eq!(spec["interrupt_mode"], "message");
        assert_eq!(spec["env"]["CARGO_PROFILE_DEV_OPT_LEVEL"], "3");
        assert_eq!(spec["env"]["EVCXR_CONFIG_DIR"], "/k/cfg");
        assert_eq!(spec["env"]["AUTOCANDLE_KERNEL_SLOT_COUNT"], "3");
        assert_eq!(spec["env"]["PATH"], "/c:${PATH}");
    }
}
