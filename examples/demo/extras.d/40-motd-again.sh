# 40-motd-again.sh - bash hook: calls the function 10-motd defined in `source`.

if [[ "$1" == "stack" && "$2" == "extra" ]]; then
    render_motd "$GREETING (again, from bash)"
elif [[ "$1" == "unstack" ]]; then
    echo_summary "Removing the motd"
    rm -f "$DEST/motd"
elif [[ "$1" == "clean" ]]; then
    echo_summary "Cleaning $DEST"
fi
