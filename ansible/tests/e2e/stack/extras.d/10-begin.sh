# shellcheck shell=bash
# e2e fixture: record when each phase begins on this node (nanoseconds), and
# in `stack install` what this node's local.conf gave the hooks.
# Lines: RUN <tab> begin <tab> PHASE <tab> NS
printf '%s\tbegin\t%s\t%s\n' "$E2E_RUN" "$1${2:+ $2}" "$(date +%s%N)" >>"$E2E_RECORD"
if [[ "$1 $2" == "stack install" ]]; then
    printf '%s\tsaw\tNODE_NAME=%s HOST_IP=%s SERVICE_HOST=%s MYSQL_HOST=%s ENABLED_SERVICES=%s\n' \
        "$E2E_RUN" "$NODE_NAME" "$HOST_IP" "$SERVICE_HOST" "$MYSQL_HOST" "$ENABLED_SERVICES" >>"$E2E_RECORD"
fi
