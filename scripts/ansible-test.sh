#!/usr/bin/env bash
# The tests of the Ansible collection hookhost.stack (ansible/), with real
# Ansible and the real hookhost binary:
#   unit      pytest: the hookhost module against the binary
#   e2e       pytest: ansible-playbook hookhost.stack.multinode over three
#             nodes on this machine (ansible_connection=local)
#   sanity    ansible-test sanity on a staged copy of the collection
#   lint      ansible-lint (profile production)
#   ssh-e2e   the e2e play again over SSH to nodes in network namespaces
#             (ansible/tests/e2e/ssh-nodes.sh), where this machine can: root,
#             `ip netns` allowed, sshd there or installable with apt-get;
#             elsewhere (or with HOOKHOST_ANSIBLE_SSH=0) it says NOT RUN and
#             counts as skipped
#
# Every part runs even when an earlier one fails; the script exits non-zero
# when any failed and ends with the line `ansible: N passed, N failed,
# N skipped` (pytest's tests, plus sanity and lint as one each). Details of
# each part are in target/ansible-tests/.
set -euo pipefail
exec </dev/null

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
"$root/scripts/ansible-setup.sh"

venv=$root/target/ansible-venv
out=$root/target/ansible-tests
export PATH=$venv/bin:$PATH
# cryptography warns about DSA when ansible loads its ssh-agent support.
export PYTHONWARNINGS="ignore:DSA is deprecated"
export ANSIBLE_NOCOLOR=1 NO_COLOR=1
# No __pycache__ directories in the checkout from the test runs.
export PYTHONDONTWRITEBYTECODE=1

passed=0 failed=0 skipped=0
failures=()

# The binary under test and the probe plugin the grant tests load.
cargo build --release -q -p hookhost
if [[ ! -f plugins/target/wasm32-wasip2/release/probe.wasm ]]; then
    scripts/build-plugins.sh probe >/dev/null
fi
export HOOKHOST_BIN=$root/target/release/hookhost

rm -rf "$out"
mkdir -p "$out"

# pytest's counts from its JUnit report: passed failed skipped.
junit_counts() {
    python - "$1" <<'PY'
import sys
import xml.etree.ElementTree as ET

suite = ET.parse(sys.argv[1]).getroot()
suite = suite if suite.tag == "testsuite" else suite.find("testsuite")
tests, errors, fails, skips = (int(suite.get(k, 0)) for k in ("tests", "errors", "failures", "skipped"))
print(tests - errors - fails - skips, errors + fails, skips)
PY
}

# run_pytest NAME ARGS...: one pytest run, counted test by test.
run_pytest() {
    local name=$1 counts p f s
    shift
    echo "== ansible $name: pytest $*"
    python -m pytest -p no:cacheprovider -q --basetemp="$out/$name" \
        --junitxml="$out/$name.xml" "$@" || true
    if [[ ! -f $out/$name.xml ]]; then
        failed=$((failed + 1))
        failures+=("$name (pytest did not run)")
        return
    fi
    counts=$(junit_counts "$out/$name.xml")
    read -r p f s <<<"$counts"
    passed=$((passed + p)) failed=$((failed + f)) skipped=$((skipped + s))
    ((f == 0)) || failures+=("$name ($f failed)")
}

# count NAME STATUS: a part that is one check.
count() {
    if [[ $2 == 0 ]]; then
        passed=$((passed + 1))
    else
        failed=$((failed + 1))
        failures+=("$1")
    fi
}

# The collection as ansible-test and ansible-lint need it:
# ansible_collections/NS/NAME/, outside this git checkout (inside it,
# ansible-test lists the files through git, and target/ is ignored).
collections=$(mktemp -d "${TMPDIR:-/tmp}/hookhost-ansible-test.XXXXXX")
ssh_nodes=""
cleanup() {
    rm -rf "$collections"
    [[ -z $ssh_nodes ]] || ansible/tests/e2e/ssh-nodes.sh down "$ssh_nodes"
}
trap cleanup EXIT
stage=$collections/ansible_collections/hookhost/stack
mkdir -p "$stage"
cp -a ansible/. "$stage/"
rm -rf "$stage/tests/output"

run_sanity() {
    local status=0
    echo "== ansible sanity: ansible-test sanity --local --python 3.11 (log: $out/sanity.log)"
    (cd "$stage" && HOME=$root/target/ansible-test-home \
        ansible-test sanity --local --python 3.11 -vv) >"$out/sanity.log" 2>&1 || status=$?
    # The verdict lines, without -vv's environment dumps.
    grep -E '^(Running sanity test|No tests applicable|ERROR|FATAL|WARNING: .*[Ss]kip)' \
        "$out/sanity.log" || true
    count sanity "$status"
}

run_lint() {
    local status=0
    echo "== ansible lint: ansible-lint (profile production)"
    (cd ansible && ANSIBLE_COLLECTIONS_PATH=$collections ansible-lint --nocolor) || status=$?
    count lint "$status"
}

# The e2e play again over SSH, where this machine can make the nodes.
run_ssh_e2e() {
    local work=$out/ssh-nodes status=0
    mkdir -p "$work"
    echo "== ansible ssh-e2e: the e2e play over ssh to nodes in network namespaces"
    ansible/tests/e2e/ssh-nodes.sh up "$work" || status=$?
    if ((status == 3)); then
        echo "ansible ssh-e2e: NOT RUN (see the line above); the local e2e play ran instead"
        skipped=$((skipped + 1))
        return
    fi
    ssh_nodes=$work # taken down at exit, however the script ends
    if ((status != 0)); then
        count "ssh-e2e set-up" "$status"
        return
    fi
    E2E_SSH_NODES=$work/ssh-nodes.json ANSIBLE_PIPELINING=1 run_pytest ssh-e2e ansible/tests/e2e
}

run_pytest unit ansible/tests/unit
run_pytest e2e ansible/tests/e2e
run_sanity
run_lint
if [[ ${HOOKHOST_ANSIBLE_SSH-1} == 0 ]]; then
    echo "ansible ssh-e2e: NOT RUN (HOOKHOST_ANSIBLE_SSH=0)"
    skipped=$((skipped + 1))
else
    run_ssh_e2e
fi

if ((${#failures[@]} > 0)); then
    echo "ansible: FAILED: ${failures[*]}"
fi
echo "ansible: $passed passed, $failed failed, $skipped skipped"
((failed == 0))
