#!/usr/bin/env bash
# Nodes reached over SSH for the e2e play: one network namespace per node,
# each with its own sshd listening on the node's address on that
# namespace's own loopback (127.0.0.11-13; no traffic leaves a namespace's
# loopback). The ssh, sftp and scp Ansible runs for a node are wrappers that
# enter the node's namespace first, so a node is reachable only through its
# own sshd.
#
#   ssh-nodes.sh up WORK     start them; writes WORK/ssh-nodes.json (node ->
#                            host, port, user, key, python, ssh, sftp, scp)
#   ssh-nodes.sh down WORK   stop the sshds it started, delete the namespaces
#
# `up` exits 3, saying why, when this machine cannot do it: not root, no
# `ip netns`, no sshd and no apt-get to install openssh-server.
set -euo pipefail
exec </dev/null

nodes=(controller1:127.0.0.11 compute1:127.0.0.12 compute2:127.0.0.13)

cannot() {
    echo "ssh-nodes: cannot run here: $*" >&2
    exit 3
}

# openssh-server from the distribution, without starting the system's sshd
# (policy-rc.d tells the package scripts not to start services).
install_sshd() {
    [[ -x /usr/sbin/sshd ]] && return 0
    command -v apt-get >/dev/null 2>&1 || cannot "no /usr/sbin/sshd and no apt-get to install openssh-server"
    local policy=/usr/sbin/policy-rc.d made_policy=0
    if [[ ! -e $policy ]]; then
        printf '#!/bin/sh\nexit 101\n' >"$policy"
        chmod 755 "$policy"
        made_policy=1
    fi
    echo "ssh-nodes: installing openssh-server" >&2
    local apt=(env DEBIAN_FRONTEND=noninteractive apt-get) status=0
    { "${apt[@]}" update -qq && "${apt[@]}" install -y -qq --no-install-recommends openssh-server >/dev/null; } ||
        status=$?
    ((made_policy == 0)) || rm -f "$policy"
    ((status == 0)) || cannot "apt-get install openssh-server failed"
}

# Named after the work directory, so two checkouts testing at once never share one.
namespace() { echo "hhe2e-$(printf %s "$1" | md5sum | cut -c1-8)-$2"; }

# A program that runs `ssh`/`sftp`/`scp` inside the node's namespace.
wrapper() {
    local file=$1 ns=$2 program=$3
    printf '#!/bin/sh\nexec ip netns exec %s %s "$@"\n' "$ns" "$(command -v "$program")" >"$file"
    chmod 755 "$file"
}

sshd_config() {
    local dir=$1 address=$2
    cat <<EOF
ListenAddress $address:22
HostKey $dir/host_key
AuthorizedKeysFile $dir/authorized_keys
PidFile $dir/sshd.pid
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
Subsystem sftp internal-sftp
EOF
}

# Wait (bounded) until the node's sshd accepts connections.
wait_for_sshd() {
    local ns=$1 address=$2 i
    for ((i = 0; i < 100; i++)); do
        if ip netns exec "$ns" bash -c "exec 3<>/dev/tcp/$address/22" 2>/dev/null; then
            return 0
        fi
        sleep 0.1
    done
    return 1
}

up() {
    local work=$1 entry name address ns dir python
    [[ $(id -u) == 0 ]] || cannot "not root (network namespaces and sshd need root)"
    command -v ip >/dev/null 2>&1 || cannot "no ip(8)"
    local probe
    probe=$(namespace "$work" probe)
    ip netns add "$probe" 2>/dev/null || cannot "\`ip netns add\` is not allowed"
    ip netns del "$probe"
    down "$work" # what a run of the same WORK killed halfway left
    install_sshd
    mkdir -p /run/sshd
    python=/usr/bin/python3
    [[ -x $python ]] || python=$(command -v python3)
    ssh-keygen -q -t ed25519 -N '' -f "$work/client_key"
    local json="{"
    for entry in "${nodes[@]}"; do
        name=${entry%%:*} address=${entry#*:}
        ns=$(namespace "$work" "$name") dir=$work/sshd/$name
        mkdir -p "$dir"
        ssh-keygen -q -t ed25519 -N '' -f "$dir/host_key"
        cp "$work/client_key.pub" "$dir/authorized_keys"
        sshd_config "$dir" "$address" >"$dir/sshd_config"
        ip netns add "$ns"
        ip netns exec "$ns" ip link set lo up
        ip netns exec "$ns" /usr/sbin/sshd -f "$dir/sshd_config" -E "$dir/sshd.log"
        wait_for_sshd "$ns" "$address" || {
            echo "ssh-nodes: sshd of $name did not start; see $dir/sshd.log" >&2
            exit 1
        }
        wrapper "$dir/ssh" "$ns" ssh
        wrapper "$dir/sftp" "$ns" sftp
        wrapper "$dir/scp" "$ns" scp
        json+=$(printf '"%s":{"host":"%s","port":22,"user":"root","key":"%s","python":"%s","ssh":"%s","sftp":"%s","scp":"%s"},' \
            "$name" "$address" "$work/client_key" "$python" "$dir/ssh" "$dir/sftp" "$dir/scp")
    done
    echo "${json%,}}" >"$work/ssh-nodes.json"
}

# Every process in a node's namespace was started there by `up` or by the
# wrappers: its sshd, the sessions, and the ssh masters Ansible keeps
# (ControlPersist). They end with the namespace.
down() {
    local work=$1 entry ns pids
    for entry in "${nodes[@]}"; do
        ns=$(namespace "$work" "${entry%%:*}")
        ip netns list | grep -qw "^$ns" || continue
        mapfile -t pids < <(ip netns pids "$ns")
        ((${#pids[@]} == 0)) || kill "${pids[@]}" 2>/dev/null || true
        ip netns del "$ns"
    done
}

case ${1-} in
    up) up "$(cd "$2" && pwd)" ;;
    down) down "$(cd "$2" && pwd)" ;;
    *)
        echo "usage: $0 up|down WORK" >&2
        exit 2
        ;;
esac
