#!/usr/bin/env bash
# Fuzzes autocandle's loaders with cargo-fuzz (libFuzzer, no sanitizer, debug assertions on).
#
#   scripts/fuzz.sh [target|all] [seconds]      (default: all, 600 seconds each)
#
# Targets run one after the other, each for the given wall-clock seconds, with inputs over
# 2 GB of memory and inputs running over 10 s counted as findings. The committed seeds in
# fuzz/corpus/<target>/ are only read; the corpus grows in fuzz/target/corpus/<target>/
# (ignored by git), and findings are saved in fuzz/artifacts/<target>/. Needs `cargo install cargo-fuzz`.
set -euo pipefail
cd "$(dirname "$0")/.."

target="${1:-all}"
seconds="${2:-600}"
# cargo-fuzz passes nightly flags; this lets the stable toolchain take them.
export RUSTC_BOOTSTRAP=1

all_targets() { grep -E '^name = ' fuzz/Cargo.toml | sed -E 's/name = "(.*)"/\1/' | grep -v '^autocandle-fuzz$'; }

if [ "$target" = all ]; then
    targets=$(all_targets)
else
    targets="$target"
fi

nice -n 10 cargo fuzz build -O -a -s none --codegen-units 16 $([ "$target" = all ] || echo "$target")

for t in $targets; do
    mkdir -p "fuzz/artifacts/$t" "fuzz/target/corpus/$t"
    echo "== $t: ${seconds}s"
    log="fuzz/artifacts/$t/fuzz.log"
    set +e
    (cd fuzz && nice -n 19 "target/x86_64-unknown-linux-gnu/release/$t" \
        -max_total_time="$seconds" -rss_limit_mb=2048 -malloc_limit_mb=2048 -timeout=10 \
        -print_final_stats=1 -artifact_prefix="artifacts/$t/" "target/corpus/$t" "corpus/$t") >"$log" 2>&1
    rc=$?
    set -e
    execs=$(grep -E '^stat::number_of_executed_units' "$log" | awk '{print $2}')
    echo "   executions: ${execs:-?}  exit status: $rc"
    findings=$(find "fuzz/artifacts/$t" -type f \( -name 'crash-*' -o -name 'timeout-*' -o -name 'oom-*' -o -name 'leak-*' \) | sort)
    if [ -n "$findings" ]; then
        echo "   findings:"
        echo "$findings" | sed 's/^/     /'
        grep -E 'panicked at|ERROR: libFuzzer|allocation over' "$log" | head -n 5 | sed 's/^/     /'
    else
        echo "   findings: none"
    fi
done
