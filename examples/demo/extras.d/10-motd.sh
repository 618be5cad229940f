# 10-motd.sh - bash hook: defines a function and a variable for later hooks.

if is_service_enabled greeter; then
    if [[ "$1" == "source" ]]; then
        # Functions defined here stay defined for every later phase and hook.
        source $TOP_DIR/lib/motd
    elif [[ "$1" == "stack" && "$2" == "pre-install" ]]; then
        echo_summary "Preparing the greeting for $GREETING_NAME"
        GREETING_NAME="$GREETING_NAME (via bash)"
    fi
fi
