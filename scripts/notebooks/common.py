"""Helpers of the notebook generators: each `<name>.py` here writes notebooks/<name>.ipynb
(without outputs); scripts/execute_notebooks.sh then runs it and keeps its outputs."""
import json, os, textwrap

NOTEBOOKS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "notebooks")

def md(src):
    return {"cell_type": "markdown", "metadata": {}, "source": textwrap.dedent(src).strip("\n")}

def code(src):
    return {"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [],
            "source": textwrap.dedent(src).strip("\n")}

def notebook(cells, name, kernel=("autocandle", "Rust (autocandle)")):
    """Writes notebooks/<name>.ipynb for `kernel` (its kernelspec name and display name): the
    notebooks that read tables use ("autocandle-tables", "Rust (autocandle, tables)")."""
    path = os.path.join(NOTEBOOKS, name + ".ipynb")
    for i, c in enumerate(cells):
        c["id"] = f"cell-{i:02d}"
        src = c["source"]
        lines = src.split("\n")
        c["source"] = [l + "\n" for l in lines[:-1]] + [lines[-1]]
    nb = {"cells": cells,
          "metadata": {"kernelspec": {"name": kernel[0], "display_name": kernel[1], "language": "rust"},
                       "language_info": {"name": "rust", "file_extension": ".rs", "mimetype": "text/rust",
                                         "codemirror_mode": "rust", "pygment_lexer": "rust"}},
          "nbformat": 4, "nbformat_minor": 5}
    with open(path, "w") as f:
        json.dump(nb, f, indent=1, ensure_ascii=False)
        f.write("\n")

SETUP = code('''
    // AUTOCANDLE_QUICK=1: a smaller run (fewer rows, trials and epochs) in which every cell still runs.
    // AUTOCANDLE_DATA: the datasets' folder (default: ../shared/data beside the repository).
    let quick = std::env::var("AUTOCANDLE_QUICK").map(|v| v == "1").unwrap_or(false);
    let data_dir = std::env::var_os("AUTOCANDLE_DATA")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| std::path::PathBuf::from("../../shared/data"));
    // Search projects (trials, checkpoints, best model) go to a temporary folder.
    let projects = std::env::temp_dir().join("autocandle_notebooks");
    println!("quick mode: {quick}; data: {}", data_dir.display());
''')

# The kernel of the notebooks that read tables (polars DataFrames, CSV files).
TABLES = ("autocandle-tables", "Rust (autocandle, tables)")
