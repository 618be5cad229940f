# 70-summary.sh - bash hook: what the WASM plugins left for bash.

if [[ "$1" == "stack" && "$2" == "extra" ]]; then
    echo_summary "bash sees TEMPLATE_INSTALLED=$TEMPLATE_INSTALLED (set by 50-template)"
    if is_service_enabled auditor; then
        echo "the WASM plugin 60-auditor enabled the 'auditor' service"
    fi
    echo "motd: $(cat "$DEST/motd")"
fi
