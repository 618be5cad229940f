#!/usr/bin/env bash
# devstack-conformance.sh TREE: hookhost's dry run over a DevStack tree.
#
# Copies TREE to a temp dir, enables every extras.d hook's service in a
# local.conf, runs `hookhost plan`, then `stack`, `unstack` and `clean`
# with `--dry-run --json` for VIRT_DRIVER fake, libvirt and ironic in turn,
# and checks: every hook reaches every phase (a hook-end event for each
# hook and phase of the plan, failed or not), nothing outside `.hookhost/`
# changed in the copy, and nothing under /etc, /opt, /var/lib or
# /usr/local was modified meanwhile. Prints a table hook x phase.
# Exit status 0 when every check holds. HOOKHOST names the binary
# (default: target/release/hookhost, built when missing).
set -euo pipefail
cd "$(dirname "$0")/.."

tree=${1:?usage: scripts/devstack-conformance.sh DEVSTACK_TREE}
if [[ ! -f $tree/functions || ! -f $tree/stackrc ]]; then
    echo "devstack-conformance: $tree is not a DevStack tree (no functions/stackrc)" >&2
    exit 2
fi
command -v python3 >/dev/null || {
    echo "devstack-conformance: needs python3 to read hookhost's --json events" >&2
    exit 2
}
bin=${HOOKHOST:-$PWD/target/release/hookhost}
if [[ ! -x $bin ]]; then cargo build --release -p hookhost; fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
top=$work/devstack
cp -a "$tree/." "$top"

# Every service an extras.d hook tests for.
services=$(grep -ho 'is_service_enabled [A-Za-z0-9_-]*' "$top"/extras.d/*.sh |
    awk '{print $2}' | sort -u | paste -sd, -)

# listing: the copy's files (but .hookhost/) with size and mtime.
listing() {
    find "$top" -path "$top/.hookhost" -prune -o -type d -printf '%P/\n' -o -printf '%P %s %T@\n' | sort
}

marker=$work/marker
touch "$marker"
before=$(listing)
failed=0
table=$work/table
: >"$table"

for driver in fake libvirt ironic; do
    printf '[[local|localrc]]\nENABLED_SERVICES+=,%s\nVIRT_DRIVER=%s\n' "$services" "$driver" >"$top/local.conf"
    before=$(listing)
    if ! "$bin" plan stack --top "$top" >"$work/plan.txt" 2>&1; then
        echo "FAIL: hookhost plan stack ($driver):" && cat "$work/plan.txt"
        failed=1
    fi
    for entry in stack unstack clean; do
        "$bin" plan "$entry" --json --top "$top" >"$work/plan.json"
        "$bin" "$entry" --dry-run --json --top "$top" >"$work/events.jsonl" 2>"$work/stderr" || true
        python3 - "$work/plan.json" "$work/events.jsonl" "$driver" "$entry" >>"$table" <<'PY' || failed=1
import json, sys
plan = json.load(open(sys.argv[1]))
driver, entry = sys.argv[3], sys.argv[4]
ends = {}
records = []
for line in open(sys.argv[2]):
    try:
        e = json.loads(line)
    except ValueError:
        continue
    if e.get("event") == "hook-end":
        ends[(e["hook"], e["phase"])] = "ok" if e.get("error") is None else "FAILED"
    if e.get("event") == "dry-run":
        records = (e.get("data") or {}).get("records") or []
dies = {(r["hook"], r["phase"]) for r in records if r["kind"] == "die"}
missing = 0
for h in plan["hooks"]:
    for p in plan["phases"]:
        state = ends.get((h["hook"], p), "NOT REACHED")
        if (h["hook"], p) in dies:
            state = "die"
        if state == "NOT REACHED":
            missing = 1
        print(f"{driver:8} {entry:8} {h['hook']:18} {p:20} {state}")
sys.exit(missing)
PY
    done
    after=$(listing)
    if [[ $before != "$after" ]]; then
        echo "FAIL: the dry run ($driver) changed the tree outside .hookhost/:"
        diff <(echo "$before") <(echo "$after") || true
        failed=1
    fi
done

echo "hook x phase (ok / FAILED / die = would stop there; NOT REACHED fails the check)"
cat "$table"

# How this machine confined the dry runs (Landlock, network namespace).
confinement=$("$bin" plan stack --dry-run --top "$top" | sed -n '/^dry run (--dry-run) on this machine:/,$p')
echo "$confinement"
if grep -q 'NOT ' <<<"$confinement"; then
    echo "WARNING: the dry runs above were not fully confined on this machine (see above)"
fi

# System paths modified while the dry runs ran (others' builds excepted).
changed=$(find /etc /opt /var/lib /usr/local -xdev -newer "$marker" \
    -not -path '/usr/local/cargo/*' -not -path '/usr/local/rustup/*' 2>/dev/null | head -20 || true)
if [[ -n $changed ]]; then
    echo "FAIL: modified under /etc, /opt, /var/lib or /usr/local during the dry runs:"
    echo "$changed"
    failed=1
fi
if ((failed)); then
    echo "devstack-conformance: FAILED"
    exit 1
fi
echo "devstack-conformance: every hook reached every phase; nothing changed outside .hookhost/"
