#!/usr/bin/env bash
# Make this machine able to build hookhost's WASM plugins, then build them.
#
# Idempotent and non-interactive (never reads stdin; fine under CI=true):
#   1. the rustup toolchain has wasm32-wasip2        -> use it;
#   2. else Debian's fallback toolchain is installed -> use it;
#   3. else, with rustup, try `rustup target add wasm32-wasip2` (bounded:
#      without internet it hangs);
#   4. else install the fallback with apt-get (sudo when not root):
#      rustc-web cargo-web rust-web-src lld-19 wasi-libc.
# Then builds every plugin with scripts/build-plugins.sh.
# With CI=true it also installs headless Chromium (Debian's `chromium`): the
# test of `hookhost status --timeline` renders the picture in a real browser.
set -euo pipefail
exec </dev/null

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=scripts/toolchain.sh
source "$root/scripts/toolchain.sh"

install_debian_fallback() {
    if ! command -v apt-get >/dev/null 2>&1; then
        hookhost_log "setup: no apt-get here; install the $HOOKHOST_WASM_TARGET target with"
        hookhost_log "  rustup target add $HOOKHOST_WASM_TARGET"
        return 1
    fi
    local -a sudo=()
    if [[ $(id -u) != 0 ]]; then
        if ! command -v sudo >/dev/null 2>&1; then
            hookhost_log "setup: not root and no sudo; as root run:"
            hookhost_log "  apt-get install -y ${HOOKHOST_DEBIAN_PACKAGES[*]}"
            return 1
        fi
        sudo=(sudo -n) # -n: fail rather than prompt for a password
    fi
    local -a missing
    mapfile -t missing < <(hookhost_debian_missing)
    hookhost_log "setup: installing the Debian fallback toolchain: ${missing[*]}"
    local -a apt=("${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get)
    "${apt[@]}" update -qq
    "${apt[@]}" install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# Headless Chromium for tests/observe.rs (the timeline rendered in a browser).
install_chromium() {
    if command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1; then
        hookhost_log "setup: chromium is installed"
        return 0
    fi
    if ! command -v apt-get >/dev/null 2>&1; then
        hookhost_log "setup: no apt-get here; install Chromium for the timeline test"
        return 1
    fi
    local -a sudo=()
    if [[ $(id -u) != 0 ]]; then
        sudo=(sudo -n)
    fi
    hookhost_log "setup: installing chromium (headless, for the timeline test)"
    local -a apt=("${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get)
    "${apt[@]}" update -qq
    "${apt[@]}" install -y -qq --no-install-recommends chromium >/dev/null
}

if [[ ${CI:-} == true ]]; then
    install_chromium
fi

if hookhost_rustup_has_target; then
    hookhost_log "setup: using the rustup $HOOKHOST_WASM_TARGET target"
elif hookhost_debian_ready; then
    hookhost_log "setup: using the Debian fallback toolchain (already installed)"
elif command -v rustup >/dev/null 2>&1 &&
    timeout -k 5 20 rustup target add "$HOOKHOST_WASM_TARGET" >/dev/null 2>&1 &&
    hookhost_rustup_has_target; then
    hookhost_log "setup: installed the rustup $HOOKHOST_WASM_TARGET target"
else
    install_debian_fallback
    if ! hookhost_debian_ready; then
        hookhost_log "setup: the Debian fallback toolchain is still incomplete; missing:"
        hookhost_log "  $(hookhost_debian_missing | tr '\n' ' ')"
        exit 1
    fi
    hookhost_log "setup: using the Debian fallback toolchain"
fi

# The Python example plugin's toolchain: componentize-py, pinned, in target/.
"$root/scripts/build-python-plugin.sh" --install

hookhost_log "setup: building the plugins"
"$root/scripts/build-plugins.sh"
"$root/scripts/ansible-setup.sh"
