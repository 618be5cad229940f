#!/usr/bin/env bash
# Run the demo stack (examples/demo) on a fresh Debian machine with Rust:
# set-up, build the demo's WASM plugins into its extras.d, then
# `hookhost stack` and `hookhost clean`. Extra arguments go to `hookhost stack`.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup.sh
release=plugins/target/wasm32-wasip2/release
demo=examples/demo/extras.d
cp "$release/demo_greeter.wasm" "$demo/20-greeter.wasm"
cp "$release/template.wasm" "$demo/50-template.wasm"
cp "$release/demo_auditor.wasm" "$demo/60-auditor.wasm"
cp plugins/demo-greeter/demo-greeter.toml "$demo/20-greeter.toml"
cp plugins/template/template.toml "$demo/50-template.toml"
cp plugins/demo-auditor/demo-auditor.toml "$demo/60-auditor.toml"

cargo build --release -p hookhost
hookhost=target/release/hookhost
"$hookhost" plan stack --top examples/demo
"$hookhost" stack --top examples/demo "$@"
"$hookhost" clean --top examples/demo
