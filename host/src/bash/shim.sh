#!/bin/bash
# shim.sh - a dry run's stand-in for a command that could change the
# system or reach the network (`hookhost stack --dry-run`).
#
# hookhost links every such command name (apt-get, pip, git, curl, cp, ...)
# to this script in <state>/dry-run.d/shims/, first on the session's PATH.
# Called under one of those names, it runs the real command (linked in
# <state>/dry-run.d/real/) only for its read-only forms (`git rev-parse`,
# `dpkg -s`, `sed` without -i) or for writes that stay inside hookhost's
# state directory; anything else is appended to <state>/dry-run as
# KIND<TAB>PLACE<TAB>COMMAND<TAB>NOTE and the shim exits 0 printing nothing.
# PLACE is $HOOKHOST_PLACE (file:line), which the session sets when it
# calls a command; a grandchild's call shows `?`.

name=${0##*/}
dir=${0%/shims/*}
state=${dir%/dry-run.d}
real=$dir/real/$name
args=("$@")

# record KIND [NOTE]: append the call to the record and succeed.
record() {
    local cmd note
    printf -v cmd '%q ' "$name" "${args[@]}"
    note=${2-}
    if [[ ! -x $real ]]; then note=${note:+$note; }"not installed here"; fi
    cmd=${cmd% }
    cmd=${cmd//$'\t'/ }
    printf '%s\t%s\t%s\t%s\n' "$1" "${HOOKHOST_PLACE:-?}" "$cmd" "$note" \
        >>"$state/dry-run" 2>/dev/null
    # A writer into the shim (`echo x | sudo tee f`) must not block or die.
    if [[ ! -t 0 ]]; then head -c 1048576 >/dev/null 2>&1; fi
    exit 0
}

# run_real: the real command, for a form that changes nothing.
run_real() {
    [[ -x $real ]] || record system "read-only form, but not installed here"
    exec "$real" "${args[@]}"
}

# inside PATH...: every PATH is inside the state directory (or /dev/null).
inside() {
    local p
    for p in "$@"; do
        [[ $p == /* ]] || p=$PWD/$p
        [[ $p != *..* ]] || return 1
        case $p in
            "$state"/* | /dev/null | "${TOP_DIR-/nonexistent}"/.localrc.auto) ;;
            *) return 1 ;;
        esac
    done
}

# operands: the arguments that are not options.
operands() {
    local a
    ops=()
    for a in "${args[@]}"; do
        [[ $a == -* ]] || ops+=("$a")
    done
}

# write_tool: a tool that writes its operands; run when they are all ours.
write_tool() {
    operands
    case $name in
        chmod | chown | chgrp) ops=("${ops[@]:1}") ;;
        cp | ln | install) ((${#ops[@]} < 2)) || ops=("${ops[-1]}") ;;
        sed) ops=("${ops[@]:1}") ;;
    esac
    if ((${#ops[@]})) && inside "${ops[@]}"; then
        # stack.sh's `rm -f .localrc.auto` before it writes the file again:
        # the confined session may write that file but not remove it, so it
        # is emptied (stackrc then sources nothing from it, as if removed).
        if [[ $name == rm && ${ops[*]} == "${TOP_DIR-/nonexistent}/.localrc.auto" ]]; then
            : >"${ops[0]}" 2>/dev/null
            exit 0
        fi
        run_real
    fi
    record file
}

# timeout [OPTIONS] N COMMAND...: at most 2 s, so a wait on a service the
# dry run never started does not cost its full timeout.
capped_timeout() {
    local -a opts=()
    while [[ ${1-} == -* ]]; do
        case $1 in
            -s | -k | --signal | --kill-after)
                opts+=("$1" "${2-}")
                shift 2
                ;;
            *)
                opts+=("$1")
                shift
                ;;
        esac
    done
    shift
    [[ -x $real ]] || exit 0
    exec "$real" "${opts[@]}" 2 "$@"
}

case $name in
    sleep) exit 0 ;;
    timeout) capped_timeout "$@" ;;
    apt-get | apt | aptitude | yum | dnf | zypper | gem | npm) record package ;;
    dpkg)
        case ${1-} in
            -s | -l | -L | -S | --print-architecture | --get-selections | --status | --list) run_real ;;
        esac
        record package
        ;;
    rpm)
        [[ ${1-} != -q* && ${1-} != --query && ${1-} != -E && ${1-} != --eval ]] || run_real
        record package
        ;;
    pip | pip2 | pip3 | pip-python | easy_install | virtualenv | tox) record pip ;;
    python | python2 | python3 | python2.7)
        case ${1-} in
            -c | -V | --version) run_real ;;
            -m) [[ ${2-} == pip ]] && record pip ;;
        esac
        record system "runs a Python program"
        ;;
    git)
        sub=
        for a in "$@"; do
            case $a in
                -C | -c | --git-dir | --work-tree) skip=1 ;;
                -*) ;;
                *) if ((skip)); then skip=0; else
                    sub=$a
                    break
                fi ;;
            esac
        done
        case $sub in
            rev-parse | log | show | diff | status | describe | show-ref | ls-files | rev-list | cat-file) run_real ;;
            config) [[ " $* " == *" --get"* || " $* " == *" -l "* || " $* " == *" --list "* ]] && run_real ;;
            remote) [[ " $* " == *" -v "* || " $* " == *" get-url "* ]] && run_real ;;
        esac
        record git
        ;;
    curl | wget | ssh | scp | rsync | nc | ftp | openstack | keystone | nova | glance | neutron | cinder | \
        swift | heat | ironic | sahara | zaqar | mysql | mysqladmin | psql | mongo | rabbitmqctl | ceph | rados | rbd)
        record network
        ;;
    screen | tmux | service | systemctl | initctl | start-stop-daemon | update-rc.d | chkconfig | pkill | killall | kill)
        record service
        ;;
    su | runuser | sg) record sudo ;;
    hostname)
        for a in "$@"; do [[ $a == -* ]] || record system; done
        run_real
        ;;
    ip)
        for a in "$@"; do
            case $a in add | del | delete | set | flush | change | replace | append | exec) record system ;; esac
        done
        run_real
        ;;
    sysctl)
        for a in "$@"; do [[ $a != -w && $a != -p && $a != *=* ]] || record system; done
        run_real
        ;;
    qemu-img)
        case ${1-} in info | check) run_real ;; esac
        record file
        ;;
    find)
        for a in "$@"; do
            case $a in -delete | -exec | -execdir | -ok | -okdir | -fprint*) record file ;; esac
        done
        run_real
        ;;
    sed)
        for a in "$@"; do
            case $a in -i* | --in-place*) write_tool ;; esac
        done
        run_real
        ;;
    tar | unzip | patch | dd | ssh-keygen | logger | openssl) record file ;;
    cp | mv | rm | mkdir | rmdir | ln | touch | chmod | chown | chgrp | install | tee | truncate) write_tool ;;
    *) record system ;;
esac
