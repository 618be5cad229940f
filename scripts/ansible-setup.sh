#!/usr/bin/env bash
# Install what the Ansible collection's tests need (ansible/): a Python
# virtual environment under target/ansible-venv with pinned ansible-core,
# ansible-lint and pytest.
#
# Idempotent and non-interactive: when the environment already holds the
# pinned versions it does nothing (one `pip freeze`, well under a second).
# Prints the environment's directory on its last line of stderr only; the
# test script (scripts/ansible-test.sh) finds it at the same fixed place.
set -euo pipefail
exec </dev/null

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
venv=${HOOKHOST_ANSIBLE_VENV:-$root/target/ansible-venv}
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

if have_pins; then
    log "ansible-setup: $venv already has ${pins[*]}"
    exit 0
fi

if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
    log "ansible-setup: $python is $("$python" --version 2>&1); ansible-core 2.19 needs Python 3.11 or newer"
    log "  set HOOKHOST_ANSIBLE_PYTHON to one"
    exit 1
fi

if [[ ! -x $venv/bin/python ]]; then
    log "ansible-setup: creating $venv"
    "$python" -m venv "$venv"
fi
log "ansible-setup: installing ${pins[*]} into $venv"
"$venv/bin/python" -m pip install --disable-pip-version-check -q "${pins[@]}"
have_pins || {
    log "ansible-setup: $venv still lacks one of ${pins[*]} after pip install"
    exit 1
}
