//! Executes every notebook in notebooks/ with a real Jupyter (`jupyter nbconvert --execute`) and
//! the installed kernel "Rust (autocandle)", in quick mode (`AUTOCANDLE_QUICK=1`: smaller data,
//! fewer trials and epochs; every cell still runs). A notebook fails on any error output, a
//! panic message, a cell left unexecuted, or when it shows no `text/html` or no `image/svg+xml`
//! output. The committed notebooks are checked to carry both kinds of outputs too.
//!
//! Needs `jupyter` (on PATH, in `$AUTOCANDLE_JUPYTER`, or `~/.venvs/jupyter/bin/jupyter`) and the
//! kernel (`autocandle kernel install`); without them the tests fail and say how to install
//! them. `AUTOCANDLE_SKIP_NOTEBOOKS=1` skips the execution explicitly.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;

/// One kernel at a time: each kernel takes its own build folder, and only a warm one starts fast.
static KERNEL: Mutex<()> = Mutex::new(());

const INSTALL: &str = "install them with:\n\
    python3 -m venv ~/.venvs/jupyter && ~/.venvs/jupyter/bin/pip install jupyterlab nbconvert nbclient ipykernel\n\
    . ~/.venvs/jupyter/bin/activate\n\
    cargo run --release -- kernel install\n\
or set AUTOCANDLE_SKIP_NOTEBOOKS=1 to skip the notebook tests";

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn data_dir() -> PathBuf {
    std::env::var_os("AUTOCANDLE_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo().join("../shared/data"))
}

fn skipped() -> bool {
    std::env::var("AUTOCANDLE_SKIP_NOTEBOOKS").is_ok_and(|v| v == "1")
}

/// The `jupyter` program, or a panic that says how to install it.
fn jupyter() -> PathBuf {
    let candidates = std::env::var_os("AUTOCANDLE_JUPYTER")
        .map(PathBuf::from)
        .into_iter()
        .chain(std::env::var_os("PATH").into_iter().flat_map(|p| {
            std::env::split_paths(&p)
                .map(|d| d.join("jupyter"))
                .collect::<Vec<_>>()
        }))
        .chain(
            std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".venvs/jupyter/bin/jupyter")),
        );
    for c in candidates {
        if c.is_file() {
            return c;
        }
    }
    panic!("jupyter was not found (PATH, $AUTOCANDLE_JUPYTER, ~/.venvs/jupyter/bin/jupyter); {INSTALL}");
}

/// Checks that the kernelspecs `autocandle` and `autocandle-tables` are installed for this
/// jupyter and pin evcxr 0.22.0 (each notebook names its kernel in its metadata).
fn check_kernel(jupyter: &Path) {
    let out = Command::new(jupyter)
        .args(["kernelspec", "list", "--json"])
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "cannot run {} kernelspec list: {e}; {INSTALL}",
                jupyter.display()
            )
        });
    assert!(
        out.status.success(),
        "{} kernelspec list failed: {}; {INSTALL}",
        jupyter.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    let specs: Value = serde_json::from_slice(&out.stdout).expect("kernelspec list --json is JSON");
    for (name, shown) in [
        ("autocandle", "Rust (autocandle)"),
        ("autocandle-tables", "Rust (autocandle, tables)"),
    ] {
        let spec = &specs["kernelspecs"][name];
        assert!(
            spec.is_object(),
            "the Jupyter kernel \"{shown}\" is not installed; {INSTALL}"
        );
        let pinned = &spec["spec"]["metadata"]["autocandle"]["evcxr_jupyter"];
        assert_eq!(
            pinned, "0.22.0",
            "the installed kernel {shown:?} was made for another evcxr_jupyter: run `cargo run --release -- kernel install` again"
        );
    }
}

/// Every output of every code cell, with the cell's index.
fn outputs(nb: &Value) -> Vec<(usize, &Value)> {
    let cells = nb["cells"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default();
    cells
        .iter()
        .enumerate()
        .filter(|(_, c)| c["cell_type"] == "code")
        .flat_map(|(i, c)| {
            c["outputs"]
                .as_array()
                .map(Vec::as_slice)
                .unwrap_or_default()
                .iter()
                .map(move |o| (i, o))
        })
        .collect()
}

fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Array(a) => a.iter().filter_map(Value::as_str).collect(),
        _ => String::new(),
    }
}

/// The problems of an executed (or committed) notebook: error outputs, panics, cells that did
/// not run or show no value, and missing HTML or SVG outputs.
fn problems(nb: &Value) -> Vec<String> {
    let mut found = Vec::new();
    let mut html = false;
    let mut svg = false;
    for (i, o) in outputs(nb) {
        match o["output_type"].as_str() {
            Some("error") => found.push(format!(
                "cell {i}: error output {}: {}\n{}",
                o["ename"],
                o["evalue"],
                text(&o["traceback"])
            )),
            Some("stream") => {
                let t = text(&o["text"]);
                if t.contains("panicked at") || t.contains("error[E") {
                    found.push(format!("cell {i}: {}", t.trim()));
                }
            }
            _ => {
                html |= o["data"].get("text/html").is_some();
                svg |= o["data"].get("image/svg+xml").is_some();
            }
        }
    }
    let cells = nb["cells"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default();
    for (i, c) in cells.iter().enumerate() {
        if c["cell_type"] != "code" {
            continue;
        }
        if c["execution_count"].is_null() {
            found.push(format!("cell {i} did not run"));
        }
        // evcxr reports an error returned by `?` on stderr only, and the cell's value is then
        // missing: a cell ending in an expression must show it.
        let shown = c["outputs"]
            .as_array()
            .is_some_and(|o| o.iter().any(|o| o["output_type"] == "execute_result"));
        if ends_in_expression(&text(&c["source"])) && !shown {
            found.push(format!(
                "cell {i} shows no value (an error returned by `?`?):\n{}",
                stderr_of(c)
            ));
        }
    }
    if !html {
        found.push("no text/html output".into());
    }
    if !svg {
        found.push("no image/svg+xml output".into());
    }
    found
}

/// Whether a cell's code ends in an expression whose value the notebook shows (not a
/// statement, an item, a block or a `:command`).
fn ends_in_expression(source: &str) -> bool {
    let last = source
        .lines()
        .map(str::trim)
        .rfind(|l| !l.is_empty() && !l.starts_with("//"));
    match last {
        None => false,
        Some(l) => {
            !(l.starts_with(':') || l.ends_with(';') || l.ends_with('}') || l.ends_with('{'))
        }
    }
}

/// A cell's standard-error text.
fn stderr_of(cell: &Value) -> String {
    cell["outputs"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .filter(|o| o["name"] == "stderr")
        .map(|o| text(&o["text"]))
        .collect()
}

fn read(path: &Path) -> Value {
    let s = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&s).unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display()))
}

/// Executes `notebooks/<name>.ipynb` in quick mode and checks its outputs.
fn execute(name: &str) {
    if skipped() {
        eprintln!("AUTOCANDLE_SKIP_NOTEBOOKS=1: {name} not executed");
        return;
    }
    let jupyter = jupyter();
    let _one = KERNEL.lock().unwrap_or_else(|e| e.into_inner());
    check_kernel(&jupyter);
    let input = repo().join("notebooks").join(format!("{name}.ipynb"));
    let out_dir = tempfile::tempdir().unwrap();
    let started = std::time::Instant::now();
    // The kernel runs in notebooks/ (the input's folder); the executed copy goes to out_dir.
    let run = Command::new(&jupyter)
        .args(["nbconvert", "--to", "notebook", "--execute"])
        .arg(&input)
        .arg("--output-dir")
        .arg(out_dir.path())
        .args([
            "--output",
            name,
            // A kernel in a cold build folder compiles autocandle first.
            "--ExecutePreprocessor.startup_timeout=3600",
            "--ExecutePreprocessor.timeout=1800",
        ])
        .env("AUTOCANDLE_QUICK", "1")
        .env("AUTOCANDLE_DATA", data_dir())
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}; {INSTALL}", jupyter.display()));
    let stderr = String::from_utf8_lossy(&run.stderr);
    let tail: String = {
        let lines: Vec<&str> = stderr.lines().collect();
        lines[lines.len().saturating_sub(60)..].join("\n")
    };
    assert!(
        run.status.success(),
        "notebook {name} failed to execute ({}):\n{tail}",
        run.status
    );
    let executed = read(&out_dir.path().join(format!("{name}.ipynb")));
    let found = problems(&executed);
    assert!(found.is_empty(), "notebook {name}:\n{}", found.join("\n"));
    eprintln!(
        "notebook {name}: executed in {:.0} s",
        started.elapsed().as_secs_f64()
    );
}

#[test]
fn mnist_notebook_runs() {
    execute("mnist");
}

#[test]
fn cifar10_notebook_runs() {
    execute("cifar10");
}

#[test]
fn text_imdb_notebook_runs() {
    execute("text_imdb");
}

#[test]
fn timeseries_notebook_runs() {
    execute("timeseries");
}

#[test]
fn structured_titanic_notebook_runs() {
    execute("structured_titanic");
}

/// The notebooks are committed executed: they read well on a code host, with their HTML views
/// and SVG plots, and without errors.
#[test]
fn committed_notebooks_carry_their_outputs() {
    let dir = repo().join("notebooks");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.file_name().to_string_lossy().into_owned()))
        .filter(|n| n.ends_with(".ipynb"))
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "cifar10.ipynb",
            "mnist.ipynb",
            "structured_titanic.ipynb",
            "text_imdb.ipynb",
            "timeseries.ipynb"
        ]
    );
    for n in names {
        let nb = read(&dir.join(&n));
        // The notebooks that read tables name the kernel with polars; the others the plain one.
        let kernel = if n == "structured_titanic.ipynb" || n == "timeseries.ipynb" {
            "autocandle-tables"
        } else {
            "autocandle"
        };
        assert_eq!(nb["metadata"]["kernelspec"]["name"], kernel, "{n}");
        let found = problems(&nb);
        assert!(found.is_empty(), "{n}:\n{}", found.join("\n"));
    }
}

/// The checks themselves: an error output, a panic, a cell that did not run or shows no value,
/// and a missing SVG are caught.
#[test]
fn problems_are_found() {
    let ok: Value = serde_json::json!({"cells": [
        {"cell_type": "code", "execution_count": 1, "outputs": [
            {"output_type": "execute_result", "data": {"text/html": "<b>x</b>"}},
            {"output_type": "execute_result", "data": {"image/svg+xml": "<svg/>"}}]}
    ]});
    assert!(problems(&ok).is_empty());
    let bad: Value = serde_json::json!({"cells": [
        {"cell_type": "code", "execution_count": 1, "outputs": [
            {"output_type": "execute_result", "data": {"text/html": "<b>x</b>"}},
            {"output_type": "stream", "name": "stderr", "text": ["thread 'main' panicked at src/x.rs"]},
            {"output_type": "error", "ename": "Error", "evalue": "boom", "traceback": []}]},
        {"cell_type": "code", "execution_count": null, "outputs": []},
        {"cell_type": "code", "execution_count": 3, "source": "let t = read(\"x.csv\")?;\nt.head()",
         "outputs": [{"output_type": "stream", "name": "stderr", "text": "no such file x.csv\n"}]}
    ]});
    let found = problems(&bad);
    assert_eq!(found.len(), 5, "{found:?}");
    assert!(found
        .iter()
        .any(|f| f.contains("shows no value") && f.contains("no such file")));
    assert!(found.iter().any(|f| f.contains("boom")));
    assert!(found.iter().any(|f| f.contains("panicked")));
    assert!(found.iter().any(|f| f.contains("did not run")));
    assert!(found.iter().any(|f| f.contains("image/svg+xml")));
}

#[test]
fn trailing_expressions_are_told_from_statements() {
    assert!(ends_in_expression("let a = 1;\na + 1"));
    assert!(ends_in_expression("model.summary()?\n// done"));
    assert!(!ends_in_expression("let a = 1;"));
    assert!(!ends_in_expression("for x in v {\n    f(x);\n}"));
    assert!(!ends_in_expression(":dep polars = \"0.55\""));
    assert!(!ends_in_expression(""));
}
