#!/usr/bin/env bash
# Install what the Ansible collection's tests need (ansible/, run by
# scripts/ansible-test.sh):
#   1. a Python virtual environment, target/ansible-venv, with pinned
#      ansible-core, ansible-lint and pytest;
#   2. ansible-test's home, target/ansible-test-home, with a stand-in for
#      pip's get-pip.py (see below);
#   3. shellcheck (Debian's), which `ansible-test sanity` runs on the test
#      stack's hooks; without it that one test is skipped.
#
# Idempotent and non-interactive: when everything is there it does nothing
# but check (well under a second).
set -euo pipefail
exec </dev/null

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
venv=${HOOKHOST_ANSIBLE_VENV:-$root/target/ansible-venv}
test_home=$root/target/ansible-test-home
python=${HOOKHOST_ANSIBLE_PYTHON:-python3}

# The pins: ansible-core 2.19 is the newest line that runs on CPython 3.11
# (CI's Python); ansible-lint and pytest are pinned so a new release never
# changes what "clean" means under us.
pins=(
    "ansible-core==2.19.14"
    "ansible-lint==26.10.1"
    "pytest==8.4.2"
)

log() { printf '%s\n' "$*" >&2; }

have_pins() {
    [[ -x $venv/bin/python ]] || return 1
    local frozen pin
    frozen=$("$venv/bin/python" -m pip freeze --disable-pip-version-check 2>/dev/null) || return 1
    for pin in "${pins[@]}"; do
        grep -qixF "$pin" <<<"$frozen" || return 1
    done
}

install_venv() {
    if have_pins; then
        log "ansible-setup: $venv already has ${pins[*]}"
        return 0
    fi
    if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
        log "ansible-setup: $python is $("$python" --version 2>&1); ansible-core 2.19 needs Python 3.11 or newer"
        log "  set HOOKHOST_ANSIBLE_PYTHON to one"
        return 1
    fi
    if [[ ! -x $venv/bin/python ]]; then
        log "ansible-setup: creating $venv"
        "$python" -m venv "$venv"
    fi
    log "ansible-setup: installing ${pins[*]} into $venv"
    "$venv/bin/python" -m pip install --disable-pip-version-check -q "${pins[@]}"
    have_pins || {
        log "ansible-setup: $venv still lacks one of ${pins[*]} after pip install"
        return 1
    }
}

# ansible-test makes a virtual environment per sanity test and puts pip in
# each with get-pip.py, which it downloads from a host outside the package
# registries (unreachable here and in CI). It first looks for the script in
# its cache, $HOME/.ansible/test/cache/get_pip_<version>.py, the place its
# own error message names for a copy saved by hand: this stand-in puts
# Python's bundled pip in with ensurepip, then pip installs what
# ansible-test asked for (the pinned pip) from the package registry.
install_get_pip_stand_in() {
    local requirements version file
    requirements=$("$venv/bin/python" -c 'import ansible_test, os; print(os.path.dirname(ansible_test.__file__))')/_internal/python_requirements.py
    version=$(sed -n "s/^ *pip='\([0-9.]*\)',\$/\1/p" "$requirements")
    if [[ -z $version ]]; then
        log "ansible-setup: cannot find the pip version ansible-test bootstraps in $requirements"
        return 1
    fi
    file=$test_home/.ansible/test/cache/get_pip_${version//./_}.py
    mkdir -p "$(dirname "$file")"
    cat >"$file.new" <<'PY'
"""Stand-in for get-pip.py, written by scripts/ansible-setup.sh: pip from
Python's own ensurepip, then `pip install ARGS` from the package registry."""
import ensurepip
import os
import runpy
import sys

saved = dict(os.environ)
ensurepip.bootstrap()  # it points PIP_CONFIG_FILE at /dev/null: undo that
os.environ.clear()
os.environ.update(saved)
args = [a for a in sys.argv[1:] if a not in ("--no-setuptools", "--no-wheel")]
sys.argv = ["pip", "install"] + args
runpy.run_module("pip", run_name="__main__", alter_sys=True)
PY
    if cmp -s "$file.new" "$file"; then
        rm "$file.new"
    else
        mv "$file.new" "$file"
        log "ansible-setup: wrote ansible-test's get-pip stand-in $file"
    fi
}

install_shellcheck() {
    command -v shellcheck >/dev/null 2>&1 && return 0
    if [[ $(id -u) != 0 ]] || ! command -v apt-get >/dev/null 2>&1; then
        log "ansible-setup: no shellcheck (as root: apt-get install shellcheck); ansible-test will skip that sanity test"
        return 0
    fi
    log "ansible-setup: installing shellcheck"
    local apt=(env DEBIAN_FRONTEND=noninteractive apt-get)
    if ! { "${apt[@]}" update -qq && "${apt[@]}" install -y -qq --no-install-recommends shellcheck >/dev/null; }; then
        log "ansible-setup: could not install shellcheck; ansible-test will skip that sanity test"
    fi
}

install_venv
install_get_pip_stand_in
install_shellcheck
