# 30-check.sh - bash hook: reads what the WASM plugin before it set.

if [[ "$1" == "stack" && "$2" == "install" ]]; then
    # GREETING was set by the WASM plugin 20-greeter a moment ago.
    echo_summary "bash sees GREETING='$GREETING'"
    GREETING="$GREETING, from bash too"
fi
