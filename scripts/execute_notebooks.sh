#!/usr/bin/env bash
# Executes the notebooks in place with their default settings (or AUTOCANDLE_QUICK=1), through
# the kernel each one names ("Rust (autocandle)" or "... tables)"), and merges each cell's consecutive output lines, so
# that they are committed with their outputs. Needs `jupyter` on PATH and `autocandle kernel
# install`. Usage: scripts/execute_notebooks.sh [name ...]   (default: all of notebooks/)
set -euo pipefail
cd "$(dirname "$0")/../notebooks"
if [ "$#" -eq 0 ]; then
  set -- $(ls *.ipynb | sed 's/\.ipynb$//')
fi
for nb in "$@"; do
  start=$(date +%s)
  jupyter nbconvert --to notebook --execute --inplace "$nb.ipynb" \
    --ExecutePreprocessor.timeout=1800 --ExecutePreprocessor.startup_timeout=3600 \
    --NotebookExporter.preprocessors='["nbconvert.preprocessors.CoalesceStreamsPreprocessor"]' \
    --CoalesceStreamsPreprocessor.enabled=True
  echo "$nb: $(( $(date +%s) - start )) s"
done
