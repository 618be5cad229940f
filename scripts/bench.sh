#!/usr/bin/env bash
# Measure hookhost against the performance targets of BENCHMARKS.md and print
# the table (one row per target: median, target, ratio, met?).
#
#   scripts/bench.sh                 # every row except the clean build
#   scripts/bench.sh --clean-build   # also time a release build from clean (minutes)
#   scripts/bench.sh --only bash     # one step: wasm-call, bash, hand-over, warm,
#                                    # cold, first-run, large, write,
#                                    # call-vs-source, rss, build, instance,
#                                    # parts, batch
#   scripts/bench.sh --runs 50       # hyperfine runs per command (default 30)
#
# Installs what it needs first (the guest toolchain through scripts/setup.sh,
# hyperfine and GNU time through apt-get). Run it on a quiet machine: the
# figures are medians, but other load still shows in them.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
scripts/setup.sh
for tool in hyperfine:hyperfine /usr/bin/time:time; do
    if ! command -v "${tool%%:*}" >/dev/null; then
        apt-get install -y "${tool#*:}" >/dev/null
    fi
done
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), $(awk '/MemTotal/ { printf "%.0f GB", $2 / 1048576 }' /proc/meminfo)" >&2
exec cargo bench -p hookhost --bench stack -- "$@"
