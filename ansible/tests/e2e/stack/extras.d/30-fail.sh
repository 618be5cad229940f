# shellcheck shell=bash
# e2e fixture: fail in `stack post-config` on the node $E2E_FAIL_NODE names.
if [[ "$1 $2" == "stack post-config" && "${E2E_FAIL_NODE-}" == "$NODE_NAME" ]]; then
    echo "failing on purpose on $NODE_NAME"
    return 1
fi
