#!/usr/bin/env bash
# The whole test suite on a fresh Debian machine with Rust: set-up (the
# wasm32-wasip2 toolchain and the plugins), lints, then every test.
# Tests build the example plugins from source themselves too.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup.sh
cargo fmt --all --check
cargo clippy --release --workspace --all-targets -- -D warnings
cargo test --release --workspace

# The Ansible collection (ansible/): its module against the binary, the
# multi-node play, ansible-test sanity and ansible-lint.
scripts/ansible-test.sh

# A DevStack tree's dry run, end to end (see scripts/devstack-conformance.sh).
if [[ -n ${HOOKHOST_DEVSTACK_TREE-} && -d $HOOKHOST_DEVSTACK_TREE ]]; then
    scripts/devstack-conformance.sh "$HOOKHOST_DEVSTACK_TREE"
else
    echo "devstack-conformance: NOT RUN (set HOOKHOST_DEVSTACK_TREE to a DevStack tree to run it)"
fi
