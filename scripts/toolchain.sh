# shellcheck shell=bash
# Shared toolchain detection for building the WASM guests (plugins/).
# Sourced by scripts/setup.sh and scripts/build-plugins.sh; defines functions
# only and changes nothing on its own.
#
# Two ways to build wasm32-wasip2 components:
#   rustup  - the rustup toolchain has the wasm32-wasip2 target (a normal
#             developer machine: `rustup target add wasm32-wasip2`).
#   debian  - no rustup target (offline machines, CI): Debian's second Rust
#             (rustc-web, cargo-web, rust-web-src) builds std from source with
#             -Zbuild-std, linking with lld-19 against wasi-libc.
# The rustup toolchain stays first on PATH for everything else: only the
# guest build runs /usr/bin/cargo, with its own PATH.

HOOKHOST_WASM_TARGET=wasm32-wasip2
HOOKHOST_DEBIAN_PACKAGES=(rustc-web cargo-web rust-web-src lld-19 wasi-libc)
HOOKHOST_DEBIAN_CARGO=/usr/bin/cargo
HOOKHOST_DEBIAN_RUSTC=/usr/bin/rustc
HOOKHOST_DEBIAN_LLVM_BIN=/usr/lib/llvm-19/bin
HOOKHOST_DEBIAN_WASI_LIBDIR=/usr/lib/wasm32-wasi

hookhost_log() { printf '%s\n' "$*" >&2; }

# True when the rustup toolchain that `cargo` runs has the wasm32-wasip2 target.
# Every rustup call is bounded: on machines without internet rustup can hang.
hookhost_rustup_has_target() {
    command -v rustup >/dev/null 2>&1 || return 1
    local installed
    # Capture first, then match: `rustup ... | grep -q` would make rustup
    # die of SIGPIPE and fail the pipeline under `set -o pipefail`.
    installed=$(timeout -k 5 20 rustup target list --installed </dev/null 2>/dev/null) || return 1
    grep -qx "$HOOKHOST_WASM_TARGET" <<<"$installed"
}

# The Debian fallback packages that are not installed (one per line).
hookhost_debian_missing() {
    local pkg status
    for pkg in "${HOOKHOST_DEBIAN_PACKAGES[@]}"; do
        status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
        [[ $status == "install ok installed" ]] || printf '%s\n' "$pkg"
    done
}

# True when the Debian fallback toolchain is complete and usable.
hookhost_debian_ready() {
    command -v dpkg-query >/dev/null 2>&1 || return 1
    [[ -z $(hookhost_debian_missing) ]] || return 1
    [[ -x $HOOKHOST_DEBIAN_CARGO && -x $HOOKHOST_DEBIAN_RUSTC ]] || return 1
    [[ -x $HOOKHOST_DEBIAN_LLVM_BIN/wasm-ld && -d $HOOKHOST_DEBIAN_WASI_LIBDIR ]]
}

# Print the toolchain to build guests with: `rustup` or `debian`; fail when
# neither is ready (run scripts/setup.sh). HOOKHOST_WASM_TOOLCHAIN=rustup|debian
# forces one.
hookhost_detect_toolchain() {
    case ${HOOKHOST_WASM_TOOLCHAIN:-} in
        rustup | debian)
            printf '%s\n' "$HOOKHOST_WASM_TOOLCHAIN"
            return 0
            ;;
        '') ;;
        *)
            hookhost_log "HOOKHOST_WASM_TOOLCHAIN must be rustup or debian, not '$HOOKHOST_WASM_TOOLCHAIN'"
            return 1
            ;;
    esac
    if hookhost_rustup_has_target; then
        echo rustup
    elif hookhost_debian_ready; then
        echo debian
    else
        hookhost_log "No toolchain can build $HOOKHOST_WASM_TARGET components:"
        hookhost_log "  the rustup toolchain lacks the target and the Debian fallback"
        hookhost_log "  (${HOOKHOST_DEBIAN_PACKAGES[*]}) is not installed."
        hookhost_log "Run scripts/setup.sh (or: rustup target add $HOOKHOST_WASM_TARGET)."
        return 1
    fi
}

# Run cargo for the guests with the chosen toolchain:
#   hookhost_guest_cargo TOOLCHAIN SUBCOMMAND [ARGS...]
# adds --target wasm32-wasip2 (and -Zbuild-std for debian) after SUBCOMMAND.
hookhost_guest_cargo() {
    local toolchain=$1 subcommand=$2
    shift 2
    # Variables a parent cargo (a build script or test of the host) may have
    # set for *its* build; they must not leak into the guest build.
    local -a clean_env=(
        -u RUSTC -u RUSTC_WRAPPER -u RUSTC_WORKSPACE_WRAPPER -u RUSTDOC
        -u CARGO_ENCODED_RUSTFLAGS -u CARGO_BUILD_RUSTFLAGS -u CARGO_BUILD_TARGET
        -u CARGO_TARGET_DIR -u CARGO_BUILD_TARGET_DIR
    )
    case $toolchain in
        rustup)
            env "${clean_env[@]}" \
                cargo "$subcommand" --target "$HOOKHOST_WASM_TARGET" "$@"
            ;;
        debian)
            # rustup's proxies must not answer for cargo/rustc here: Debian's
            # binaries first, and no rustup toolchain override.
            env "${clean_env[@]}" -u RUSTUP_TOOLCHAIN \
                PATH="$HOOKHOST_DEBIAN_LLVM_BIN:/usr/bin:$PATH" \
                RUSTC="$HOOKHOST_DEBIAN_RUSTC" \
                RUSTC_BOOTSTRAP=1 \
                RUSTFLAGS="-L $HOOKHOST_DEBIAN_WASI_LIBDIR${RUSTFLAGS:+ $RUSTFLAGS}" \
                "$HOOKHOST_DEBIAN_CARGO" "$subcommand" --target "$HOOKHOST_WASM_TARGET" \
                -Zbuild-std=std,panic_abort "$@"
            ;;
        *)
            hookhost_log "unknown toolchain '$toolchain'"
            return 1
            ;;
    esac
}
