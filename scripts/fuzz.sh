#!/usr/bin/env bash
# Fuzz the parsers that read hand-written or untrusted input (fuzz/):
# local.conf, hook manifests, the operator's grants, component loading.
# Each target runs for SECONDS (default 60) from the committed seeds
# (fuzz/seeds/<target>) plus what earlier runs found (fuzz/corpus/<target>,
# not committed). A crash stops that target, leaves the input in
# fuzz/artifacts/<target>/ and makes the script exit 1.
#
#   scripts/fuzz.sh                 # every target, 60 s each
#   scripts/fuzz.sh 300 localconf   # one target, 5 minutes
#
# cargo-fuzz needs nightly compiler flags (-Zsanitizer=address). Without a
# nightly toolchain, the stable one is unlocked with RUSTC_BOOTSTRAP=1
# (the default here); HOOKHOST_FUZZ_TOOLCHAIN=nightly uses rustup's nightly.
# Results (and what was found and fixed) are recorded in docs/fuzzing.md.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${1:-60}
shift || true
targets=("$@")
if ((${#targets[@]} == 0)); then
    targets=(localconf manifest grants component boundary)
fi

if ! cargo fuzz --version >/dev/null 2>&1; then
    cargo install cargo-fuzz --locked
fi
toolchain=()
case ${HOOKHOST_FUZZ_TOOLCHAIN:-stable} in
    nightly) toolchain=(+nightly) ;;
    stable) export RUSTC_BOOTSTRAP=1 ;;
    *) echo "HOOKHOST_FUZZ_TOOLCHAIN must be stable or nightly" >&2; exit 2 ;;
esac

cd fuzz
# The harnesses write their inputs to files (grants, components): keep them here.
export TMPDIR=$PWD/target/tmp
rm -rf "$TMPDIR" && mkdir -p "$TMPDIR"
failed=()
summary=()
for target in "${targets[@]}"; do
    sanitizer=address
    mkdir -p "corpus/$target"
    log=$(mktemp)
    echo "==> $target: ${seconds}s (sanitizer: $sanitizer)"
    if cargo "${toolchain[@]}" fuzz run --release -s "$sanitizer" "$target" \
        "corpus/$target" "seeds/$target" -- \
        -max_total_time="$seconds" -timeout=30 -rss_limit_mb=4096 \
        -print_final_stats=1 >"$log" 2>&1; then
        result=ok
    else
        result=CRASH
        failed+=("$target")
        grep -E 'panicked|ERROR|SUMMARY|Test unit written' "$log" | head -20 || true
    fi
    runs=$(grep -Eo 'stat::number_of_executed_units: *[0-9]+' "$log" | grep -Eo '[0-9]+$' || echo '?')
    corpus=$(ls "corpus/$target" | wc -l)
    summary+=("$(printf '%-10s %-6s %10s runs  %6s corpus files  %ss' \
        "$target" "$result" "$runs" "$corpus" "$seconds")")
    tail -3 "$log"
    rm -f "$log"
done

echo
echo "fuzz summary ($(date -u +%Y-%m-%d), $(rustc --version)):"
printf '  %s\n' "${summary[@]}"
if ((${#failed[@]})); then
    echo "crashes in: ${failed[*]} (inputs in fuzz/artifacts/)" >&2
    exit 1
fi
