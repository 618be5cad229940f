# shellcheck shell=bash
# e2e fixture: record when each phase ends on this node (nanoseconds).
printf '%s\tend\t%s\t%s\n' "$E2E_RUN" "$1${2:+ $2}" "$(date +%s%N)" >>"$E2E_RECORD"
