# shellcheck shell=bash
# e2e fixture: compute nodes meet in `stack install`. Each leaves its name in
# $E2E_MEET_DIR and waits (at most 120 s) until all $E2E_COMPUTES are there,
# then records how many it met: run one after the other, the first would
# meet only itself.
if [[ "$1 $2" == "stack install" ]] && is_service_enabled n-cpu; then
    : >"$E2E_MEET_DIR/$NODE_NAME"
    met=0
    for ((i = 0; i < 1200; i++)); do
        met=$(find "$E2E_MEET_DIR" -mindepth 1 -maxdepth 1 | wc -l)
        ((met >= E2E_COMPUTES)) && break
        sleep 0.1
    done
    printf '%s\tmet\t%s\n' "$E2E_RUN" "$met" >>"$E2E_RECORD"
fi
