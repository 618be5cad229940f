#!/usr/bin/env bash
# Build the WASM plugins (the guest workspace in plugins/) to components.
#
#   scripts/build-plugins.sh              # every member of plugins/Cargo.toml
#   scripts/build-plugins.sh template probe
#
# Picks the toolchain each time (see scripts/toolchain.sh): the rustup
# wasm32-wasip2 target where installed, else Debian's fallback toolchain
# (install it with scripts/setup.sh). Prints the path of each component:
#   plugins/target/wasm32-wasip2/release/<crate_name>.wasm
# Cargo's progress is hidden; warnings and errors are shown.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=scripts/toolchain.sh
source "$root/scripts/toolchain.sh"

plugins=$root/plugins
target_dir=$plugins/target
out_dir=$target_dir/$HOOKHOST_WASM_TARGET/release

# The workspace members, as listed in plugins/Cargo.toml.
members() {
    awk '/^members[[:space:]]*=/ { on = 1 } on { print; if (/\]/) exit }' "$plugins/Cargo.toml" |
        grep -o '"[^"]*"' | tr -d '"'
}

# The package name in a member's Cargo.toml.
package_name() {
    sed -n '/^\[package\]/,/^\[/s/^name[[:space:]]*=[[:space:]]*"\([^"]*\)".*/\1/p' "$1/Cargo.toml" |
        head -n1
}

declare -a crates=()
if (($# > 0)); then
    crates=("$@")
else
    while IFS= read -r member; do
        crates+=("$(package_name "$plugins/$member")")
    done < <(members)
fi

toolchain=$(hookhost_detect_toolchain)

declare -a package_args=()
for crate in "${crates[@]}"; do
    package_args+=(-p "$crate")
done

cd "$plugins"
if ! hookhost_guest_cargo "$toolchain" build --release --quiet \
    --target-dir "$target_dir" "${package_args[@]}"; then
    hookhost_log "build-plugins: building ${crates[*]} with the $toolchain toolchain failed"
    exit 1
fi

# A component starts with the magic and layer 1: 00 61 73 6d 0d 00 01 00
# (a core module has 01 00 00 00).
status=0
for crate in "${crates[@]}"; do
    wasm=$out_dir/${crate//-/_}.wasm
    if [[ ! -f $wasm ]]; then
        hookhost_log "build-plugins: $crate: no $wasm (is it a cdylib?)"
        status=1
        continue
    fi
    header=$(od -An -tx1 -N8 "$wasm" | tr -d ' \n')
    if [[ $header != 0061736d0d000100 ]]; then
        hookhost_log "build-plugins: $wasm is not a WebAssembly component (header $header)"
        status=1
        continue
    fi
    printf '%s\n' "$wasm"
done
exit "$status"
