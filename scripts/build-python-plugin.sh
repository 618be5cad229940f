#!/usr/bin/env bash
# Build the Python example plugin (examples/python-plugin) into a component.
#
#   scripts/build-python-plugin.sh             # build; prints the .wasm's path
#   scripts/build-python-plugin.sh --install   # install the pinned componentize-py
#
# The plugin is Python compiled with componentize-py (from PyPI) against
# wit/v0.1.0, world hook-plugin. The component and its manifest land in
#   target/python-plugin/py-greeter.wasm
#   target/python-plugin/py-greeter.toml
# and are rebuilt only when the source, the WIT or componentize-py changed.
#
# componentize-py is looked up as: $HOOKHOST_COMPONENTIZE_PY, else the
# virtual environment that --install makes (target/componentize-py), else
# PATH. When none is there the build exits 3, saying how to install it
# (host/tests/python_plugin.rs skips on that status).
#
# --install is idempotent and non-interactive (scripts/setup.sh runs it): it
# does nothing when the pinned version is already there. Without python3 it
# only warns, unless CI=true, where it fails.
set -euo pipefail
exec </dev/null

COMPONENTIZE_PY_VERSION=0.25.1
PLUGIN=py-greeter
MISSING_STATUS=3

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
source_dir=$root/examples/python-plugin
wit_dir=$root/wit/v0.1.0
venv=$root/target/componentize-py
out_dir=$root/target/python-plugin

partial= # the component being written, removed on exit

log() { printf '%s\n' "$*" >&2; }

# True when the virtual environment holds the pinned componentize-py.
venv_has_pinned() {
    local version
    version=$("$venv/bin/componentize-py" --version 2>/dev/null) || return 1
    [[ $version == "componentize-py $COMPONENTIZE_PY_VERSION" ]]
}

# Make the virtual environment and install the pinned componentize-py in it.
# A Debian python3 without python3-venv has no ensurepip: the environment is
# then made without pip and filled by the system's pip (`pip --python`).
install_componentize_py() {
    if venv_has_pinned; then
        log "python-plugin: componentize-py $COMPONENTIZE_PY_VERSION already installed ($venv)"
        return 0
    fi
    if ! command -v python3 >/dev/null 2>&1; then
        log "python-plugin: no python3 here: the Python example plugin cannot be built"
        log "  (install CPython 3.11 or later with pip, then rerun scripts/setup.sh)"
        [[ ${CI-} == true ]] && return 1
        return 0
    fi
    log "python-plugin: installing componentize-py $COMPONENTIZE_PY_VERSION into $venv"
    rm -rf "$venv"
    local -a pip
    if python3 -m venv "$venv" >/dev/null 2>&1; then
        pip=("$venv/bin/python3" -m pip)
    else
        rm -rf "$venv"
        python3 -m venv --without-pip "$venv"
        pip=(python3 -m pip --python "$venv/bin/python3")
    fi
    PIP_NO_INPUT=1 "${pip[@]}" install --quiet --disable-pip-version-check \
        --root-user-action=ignore "componentize-py==$COMPONENTIZE_PY_VERSION"
    if ! venv_has_pinned; then
        log "python-plugin: componentize-py $COMPONENTIZE_PY_VERSION did not install into $venv"
        return 1
    fi
}

# The componentize-py to build with, or nothing.
find_componentize_py() {
    if [[ -n ${HOOKHOST_COMPONENTIZE_PY-} ]]; then
        printf '%s\n' "$HOOKHOST_COMPONENTIZE_PY"
    elif [[ -x $venv/bin/componentize-py ]]; then
        printf '%s\n' "$venv/bin/componentize-py"
    else
        command -v componentize-py || true
    fi
}

# True when the built component is newer than everything it is made from.
up_to_date() {
    local wasm=$1 tool=$2
    [[ -f $wasm && -f $out_dir/$PLUGIN.toml ]] || return 1
    [[ -z $(find "$source_dir" "$wit_dir" "$tool" -newer "$wasm" -print -quit) ]]
}

build() {
    local tool
    tool=$(find_componentize_py)
    if [[ -z $tool ]]; then
        log "python-plugin: componentize-py is not installed, so $PLUGIN cannot be built."
        log "  Install it with scripts/setup.sh (or scripts/build-python-plugin.sh --install),"
        log "  or point HOOKHOST_COMPONENTIZE_PY at a componentize-py $COMPONENTIZE_PY_VERSION."
        exit "$MISSING_STATUS"
    fi
    tool=$(realpath "$tool")
    local version
    version=$("$tool" --version) || {
        log "python-plugin: $tool does not run"
        exit 1
    }
    if [[ $version != "componentize-py $COMPONENTIZE_PY_VERSION" ]]; then
        log "python-plugin: warning: $tool is $version; $PLUGIN is tested with $COMPONENTIZE_PY_VERSION"
    fi

    local wasm=$out_dir/$PLUGIN.wasm
    mkdir -p "$out_dir"
    if ! up_to_date "$wasm" "$tool"; then
        # Build beside the result and rename, so a reader never sees half a file.
        partial=$out_dir/.$PLUGIN.wasm.$$
        trap 'rm -f "$partial"' EXIT
        # Built from a copy: componentize-py leaves __pycache__ beside the source.
        local staged=$out_dir/src
        rm -rf "$staged"
        mkdir -p "$staged"
        cp "$source_dir"/*.py "$staged/"
        if ! "$tool" --quiet -d "$wit_dir" -w hook-plugin \
            componentize -p "$staged" app -o "$partial" >&2; then
            log "python-plugin: componentize-py failed to build $source_dir/app.py"
            exit 1
        fi
        cp "$source_dir/$PLUGIN.toml" "$out_dir/$PLUGIN.toml"
        mv "$partial" "$wasm"
    fi
    printf '%s\n' "$wasm"
}

case ${1-} in
    --install) install_componentize_py ;;
    '') build ;;
    *)
        log "usage: scripts/build-python-plugin.sh [--install]"
        exit 2
        ;;
esac
