#!/usr/bin/env bash
# Soak: run `hookhost stack`, `unstack` and `clean` on a copy of the demo
# stack N times in a row (default 200) and check that nothing grows:
#
# - open descriptors, threads and peak RSS of each hookhost process at the
#   end of its run (HOOKHOST_RESOURCE_REPORT: each run is a fresh process,
#   so a leak shows as a count that differs between runs);
# - processes left behind (every process started for the soak carries a
#   marker in its environment, so other work on the machine is not counted);
# - temp files (hookhost and its hooks get a private TMPDIR);
# - the compiled-component cache (a private HOOKHOST_CACHE_DIR) and the
#   stack's own .hookhost/ (logs are pruned to 30; the journal is compacted
#   past 256 KiB, so its size is a sawtooth: the check is that the second
#   half's peak is no higher than the first half's).
#
#   scripts/soak.sh              # 200 rounds
#   scripts/soak.sh 20           # a quick one
#   scripts/soak.sh 200 --record # also put the result in BENCHMARKS.md's Soak section
#
# Exits 1 when something grew. Needs the plugins built (scripts/build-plugins.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

rounds=${1:-200}
record=false
[[ ${2-} == --record ]] && record=true

cargo build --release -p hookhost >/dev/null
scripts/build-plugins.sh >/dev/null
release=$root/plugins/target/wasm32-wasip2/release

work=$(mktemp -d "${TMPDIR:-/tmp}/hookhost-soak.XXXXXX")
trap 'rm -rf "$work"' EXIT
# A copy: a rebuild of target/ during the soak must not change what is measured.
hookhost=$work/hookhost
cp target/release/hookhost "$hookhost"
stack=$work/demo
cp -r examples/demo "$stack"
rm -rf "$stack/.hookhost"
cp "$release/demo_greeter.wasm" "$stack/extras.d/20-greeter.wasm"
cp "$release/template.wasm" "$stack/extras.d/50-template.wasm"
cp "$release/demo_auditor.wasm" "$stack/extras.d/60-auditor.wasm"
mkdir -p "$work/tmp" "$work/cache"
mark="hookhost-soak-$$-$RANDOM"
resources=$work/resources.jsonl
rounds_file=$work/rounds.tsv

# Processes (other than this script's own) that carry the soak's marker.
leftovers() {
    local count=0 pid
    for pid in /proc/[0-9]*; do
        pid=${pid#/proc/}
        [[ $pid == "$$" || $pid == "$BASHPID" ]] && continue
        if grep -qz "^HOOKHOST_SOAK_MARK=$mark\$" "/proc/$pid/environ" 2>/dev/null; then
            count=$((count + 1))
        fi
    done
    echo "$count"
}

files_in() { find "$1" -mindepth 1 | wc -l; }
bytes_in() { du -sb "$1" | cut -f1; }

started=$(date +%s)
printf 'round\tleftover_procs\ttmp_files\tcache_bytes\tstate_files\tstate_bytes\n' >"$rounds_file"
for ((round = 1; round <= rounds; round++)); do
    for entry in stack unstack clean; do
        if ! env HOOKHOST_SOAK_MARK="$mark" HOOKHOST_RESOURCE_REPORT="$resources" \
            HOOKHOST_CACHE_DIR="$work/cache" TMPDIR="$work/tmp" XDG_RUNTIME_DIR="$work/tmp" \
            "$hookhost" "$entry" --top "$stack" --quiet >"$work/last.out" 2>&1; then
            echo "round $round: hookhost $entry failed:" >&2
            cat "$work/last.out" >&2
            exit 1
        fi
    done
    printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$round" "$(leftovers)" "$(files_in "$work/tmp")" \
        "$(bytes_in "$work/cache")" "$(files_in "$stack/.hookhost")" \
        "$(bytes_in "$stack/.hookhost")" >>"$rounds_file"
    ((round % 20 == 0)) && echo "round $round/$rounds"
done
took=$(($(date +%s) - started))

# Per run: fds, threads, peak RSS; compare the first tenth with the last.
python3 - "$resources" "$rounds_file" "$rounds" "$took" "$work/result.md" <<'PY'
import json, statistics, sys
resources, rounds_file, rounds, took, out = sys.argv[1:]
runs = [json.loads(l) for l in open(resources)]
rows = [l.rstrip("\n").split("\t") for l in open(rounds_file)][1:]
rows = [[int(x) for x in r] for r in rows]
tenth = max(1, len(runs) // 10)
first, last = runs[:tenth], runs[-tenth:]
problems = []

def span(key, items):
    values = [r[key] for r in items]
    return min(values), max(values)

def flat(key, tolerance):
    a, b = span(key, first), span(key, last)
    grew = b[1] > a[1] * (1 + tolerance)
    if grew:
        problems.append(f"{key} grew: first runs {a[0]}-{a[1]}, last runs {b[0]}-{b[1]}")
    return a, b

fds = flat("fds", 0)
threads = flat("threads", 0)
hwm = flat("hwm_kb", 0.10)
# Steady state: the state dir stops growing once logs and journal are pruned.
settle = min(len(rows) - 1, 15)
steady = rows[settle:]
for name, col in [("leftover processes", 1), ("temp files", 2)]:
    if max(r[col] for r in rows) > 0:
        problems.append(f"{name}: up to {max(r[col] for r in rows)}")
for name, col in [("cache bytes", 3), ("state files", 4)]:
    if len({r[col] for r in steady}) > 1:
        problems.append(f"{name} changed after round {settle + 1}: "
                        f"{min(r[col] for r in steady)}-{max(r[col] for r in steady)}")
state_bytes = [r[5] for r in steady]
half = len(state_bytes) // 2
if half and max(state_bytes[half:]) > max(state_bytes[:half]) * 1.05:
    problems.append(f"state bytes grew: peak {max(state_bytes[:half])} in the first half, "
                    f"{max(state_bytes[half:])} in the second")

verdict = "flat" if not problems else "GREW: " + "; ".join(problems)
lines = [
    f"{rounds} rounds of `stack`, `unstack`, `clean` on examples/demo "
    f"({len(runs)} hookhost runs, {took} s): **{verdict}**.",
    "",
    "| measure | first 10% of runs | last 10% of runs |",
    "|---|---|---|",
    f"| open descriptors at exit | {fds[0][0]}-{fds[0][1]} | {fds[1][0]}-{fds[1][1]} |",
    f"| threads at exit | {threads[0][0]}-{threads[0][1]} | {threads[1][0]}-{threads[1][1]} |",
    f"| peak RSS (VmHWM) | {hwm[0][0] // 1024}-{hwm[0][1] // 1024} MiB | {hwm[1][0] // 1024}-{hwm[1][1] // 1024} MiB |",
    f"| processes left behind (max, any round) | {max(r[1] for r in rows)} | |",
    f"| temp files (max, any round) | {max(r[2] for r in rows)} | |",
    f"| compiled cache | {rows[0][3] // 1024} KiB after round 1 | {rows[-1][3] // 1024} KiB |",
    f"| stack .hookhost/ (logs, journal): files | {rows[settle][4]} at round {settle + 1} | {rows[-1][4]} |",
    f"| stack .hookhost/: peak size, first / second half | {max(state_bytes[:half] or [0]) // 1024} KiB | {max(state_bytes[half:] or [0]) // 1024} KiB |",
]
open(out, "w").write("\n".join(lines) + "\n")
print("\n".join(lines))
sys.exit(1 if problems else 0)
PY
status=$?

if $record; then
    python3 - "$work/result.md" "$(date -u +%Y-%m-%d)" "$(nproc)" <<'PY'
import re, sys
result, day, cores = sys.argv[1:]
body = open(result).read()
section = (
    "<!-- soak:start (scripts/soak.sh --record writes this section) -->\n"
    f"Last run {day} on {cores} cores (`scripts/soak.sh 200 --record`):\n\n{body}"
    "<!-- soak:end -->\n"
)
text = open("BENCHMARKS.md").read() if __import__("os").path.exists("BENCHMARKS.md") else ""
pattern = re.compile(r"<!-- soak:start.*?<!-- soak:end -->\n", re.S)
if pattern.search(text):
    text = pattern.sub(lambda _: section, text)
else:
    text = text.rstrip("\n") + "\n\n## Soak\n\n" + section
open("BENCHMARKS.md", "w").write(text)
PY
    echo "recorded in BENCHMARKS.md"
fi
exit $status
