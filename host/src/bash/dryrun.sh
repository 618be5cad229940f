# dryrun.sh - the session's side of `hookhost stack --dry-run`: what
# would change the machine is recorded instead of run, and a `die` is a
# finding, not the end of the run. Sourced after helpers.sh, in dry runs only.
#
# Three layers: PATH is only hookhost's shims (shim.sh under each name of a
# command that changes the system or reaches the network) and an allow-list
# of read-only commands, so whatever function calls `apt-get` or `curl`
# reaches a shim; functions of the same names in the session pass the
# caller's file:line to the shim (HOOKHOST_PLACE); and DevStack's helpers
# that write files, start services or install Python packages are wrapped
# to record (a tree's own definitions are kept as __hh_ds_NAME).

__hh_dry_dir=$HOOKHOST_STATE_DIR/dry-run.d
__hh_died=0

# __hh_record_at KIND PLACE TEXT [NOTE]: a record with an explicit place
# and a text that is already a message (not a command line to quote).
__hh_record_at() {
    builtin local text note
    text=${3//[$'\t\n']/ } note=${4-}
    note=${note//[$'\t\n']/ }
    builtin printf '%s\t%s\t%s\t%s\n' "$1" "$2" "$text" "$note" \
        2>/dev/null >>"$HOOKHOST_STATE_DIR/dry-run"
}

# __hh_w_die [LINE] MESSAGE...: DevStack's die in a dry run. Prints what
# DevStack's printed, records "would stop here: MESSAGE" at the caller's
# file:line, marks the running request as failed (__hh_end reports a
# non-zero status for it) and returns 1: the session and the run go on.
__hh_w_die() {
    builtin local line
    builtin set +o xtrace
    __hh_caller
    line=$__hh_line
    if [[ ${1-} =~ ^[0-9]+$ ]]; then
        line=$1
        builtin shift
    fi
    builtin local IFS=' '
    builtin printf '[ERROR] %s:%s %s\n' "$__hh_file" "$line" "$*" >&2
    __hh_record_at die "$__hh_file:$line" "would stop here: $*"
    __hh_died=1
    # DevStack's die ended stack.sh: end the request (the hook's phase)
    # here too, frame by frame (see __hh_die_unwind), but not the session.
    builtin set -o functrace
    builtin shopt -s extdebug
    builtin trap __hh_die_unwind DEBUG
    return 1
}

# __hh_die_unwind: the DEBUG trap after a dry run's die. With extdebug, a
# DEBUG trap returning 2 makes the running function (or sourced file)
# return; back at the request's top level (or at __hh_call, which must
# finish), the trap is cleared.
__hh_die_unwind() {
    if [[ ${FUNCNAME[1]-main} == @(main|__hh_call) ]]; then
        if [[ ${FUNCNAME[1]-main} == main ]]; then
            builtin trap - DEBUG
            builtin set +o functrace
            builtin shopt -u extdebug
        fi
        return 0
    fi
    return 2
}

die() {
    __hh_w_die "$@"
}

# __hh_w_record KIND NAME ARGS...: a DevStack helper recorded, not run.
__hh_w_record() {
    __hh_record "$@"
    return 0
}

# __hh_w_ini NAME [-sudo] FILE ARGS...: an ini writer: runs (the tree's
# own) on a file inside hookhost's state, else records a `file` effect;
# a FILE without a `/` that does not exist is most likely an empty
# variable (`iniset $NOVA_CONF DEFAULT ...` with NOVA_CONF unset).
__hh_w_ini() {
    builtin local name=$1 file
    builtin shift
    file=${1-}
    if [[ $file == -sudo ]]; then file=${2-}; fi
    if [[ $file == "$HOOKHOST_STATE_DIR"/* && $file != *..* ]]; then
        "__hh_ds_$name" "$@"
        return
    fi
    __hh_record file "$name" "$@"
    if (($# == 3)) && [[ $file != */* && ! -e $file ]]; then
        __hh_caller
        __hh_record_at file "$__hh_file:$__hh_line" "$name $*" \
            "the file argument is probably an empty variable"
    fi
    return 0
}

# __hh_dry_fn KIND NAME...: wrap the tree's functions NAME... to record KIND.
__hh_dry_fn() {
    builtin local kind=$1 name
    builtin shift
    for name in "$@"; do
        builtin eval "__hh_w_$name() { __hh_w_record $kind $name \"\$@\"; }"
        __hh_wrapped+=("$name")
    done
}

__hh_wrapped+=(die)
__hh_dry_fn pip pip_install pip_install_gr setup_develop setup_install setup_lib \
    setup_dev_lib setup_package setup_package_with_req_sync
__hh_dry_fn service run_process screen_process screen_it _run_process stop_process \
    screen_stop_service
__hh_dry_fn file screen_rc save_stackenv import_libvirt_secret_ceph
for __hh_n in iniset iniset_multiline iniadd iniadd_literal inicomment iniuncomment \
    inidelete; do
    builtin eval "__hh_w_$__hh_n() { __hh_w_ini $__hh_n \"\$@\"; }"
    __hh_wrapped+=("$__hh_n")
done

# __hh_cmd NAME ARGS...: run the command NAME (a shim, see shim.sh) with
# the caller's place, so its record names the hook's file and line.
__hh_cmd() {
    __hh_caller
    HOOKHOST_PLACE=$__hh_file:$__hh_line command "$@"
}

# timeout [OPTIONS] N COMMAND...: recorded as a wait; a function runs
# in the session (git_timed's `timeout -s SIGINT 0 git ...`), a command
# through the shim, which caps N at 2 s.
timeout() {
    builtin local -a opts
    opts=()
    while [[ ${1-} == -* ]]; do
        case $1 in
            -s | -k | --signal | --kill-after)
                opts+=("$1" "${2-}")
                builtin shift 2
                ;;
            *)
                opts+=("$1")
                builtin shift
                ;;
        esac
    done
    builtin local n=${1-0}
    builtin shift
    if [[ $n != 0 ]]; then __hh_record wait timeout "$n" "$@"; fi
    if builtin declare -F -- "${1-}" >/dev/null; then
        "$@"
        return
    fi
    __hh_cmd timeout "${opts[@]}" "$n" "$@"
}

# sleep: returns at once (a dry run waits for nothing).
sleep() {
    return 0
}

# __hh_sudo_kind COMMAND...: the record kind of what sudo would run, in
# __hh_kind: the kind of the command itself (sudo's options and NAME=VALUE
# words skipped, a path's directory ignored), as the shims classify it;
# `sudo` when it is none of those (a shell, a program of the stack).
__hh_sudo_kind() {
    while (($#)); do
        case $1 in
            -u | -g | -C | -D | -h | -p | -r | -t | -U | -T) builtin shift 2 ;;
            --) builtin shift && break ;;
            -* | [A-Za-z_]*=*) builtin shift ;;
            *) break ;;
        esac
    done
    case ${1##*/} in
        apt-get | apt | aptitude | yum | dnf | zypper | dpkg | rpm | gem | npm) __hh_kind=package ;;
        pip | pip2 | pip3 | pip-python | easy_install | virtualenv | tox) __hh_kind=pip ;;
        git) __hh_kind=git ;;
        curl | wget | ssh | scp | rsync | nc | ftp | openstack | keystone | nova | glance | neutron | \
            cinder | swift | heat | ironic | sahara | zaqar | mysql | mysqladmin | psql | mongo | \
            rabbitmqctl | ceph | rados | rbd) __hh_kind=network ;;
        screen | tmux | service | systemctl | initctl | start-stop-daemon | update-rc.d | chkconfig | \
            pkill | killall | kill) __hh_kind=service ;;
        cp | mv | rm | mkdir | rmdir | ln | touch | chmod | chown | chgrp | install | tee | truncate | \
            sed | tar | unzip | patch | dd) __hh_kind=file ;;
        *) __hh_kind=sudo ;;
    esac
}

# __hh_dry_sudo ARGS...: `sudo ARGS` in a dry run: recorded, by the kind of
# the command it runs (`sudo apt-get install x` is a package record, `sudo
# systemctl start x` a service), the line keeping its `sudo`.
__hh_dry_sudo() {
    builtin local __hh_kind
    __hh_sudo_kind "$@"
    if [[ $__hh_kind == sudo ]]; then
        __hh_record sudo "$@"
    else
        __hh_record "$__hh_kind" sudo "$@"
    fi
}

# Commands the session itself names: each gets a function passing the place.
for __hh_n in "$__hh_dry_dir"/shims/* env xargs nohup setsid; do
    __hh_n=${__hh_n##*/}
    case $__hh_n in sleep | timeout | sudo | '*') continue ;; esac
    builtin eval "$__hh_n() { __hh_cmd $__hh_n \"\$@\"; }"
done
builtin unset -v __hh_n

# __hh_missing_note NAME: why NAME is missing: a function of the tree
# that was not sourced, a system command that is not on the allow-list,
# or neither.
__hh_missing_note() {
    builtin local hit path plugin
    builtin local -a dirs
    if [[ $1 =~ ^[A-Za-z_][A-Za-z0-9_-]*$ ]]; then
        if ((__hh_tree)); then
            dirs=("$__hh_top"/functions "$__hh_top"/functions-common "$__hh_top"/lib "$__hh_top"/inc)
        fi
        # An external plugin's own files (plugin.sh that forgot to source one).
        for plugin in ${DEVSTACK_PLUGINS//,/ }; do
            path=${GITDIR[$plugin]-}
            [[ -n $path && -d $path/devstack ]] && dirs+=("$path/devstack")
        done
        if ((${#dirs[@]})); then
            hit=$(command grep -rlE -m1 "^(function[[:space:]]+$1[[:space:]]*(\(\))?|$1[[:space:]]*\(\))[[:space:]]*\{?[[:space:]]*$" \
                "${dirs[@]}" 2>/dev/null | command head -n 1)
        fi
        # A dry run's own checkouts of plugins are under .hookhost/.
        if [[ -n $hit && $hit == "$__hh_top"/* && $hit != "$__hh_top"/.hookhost/* ]]; then
            builtin printf 'DevStack function, defined in %s (not sourced here)' "${hit#"$__hh_top"/}"
            return
        elif [[ -n $hit ]]; then
            builtin printf "a function of an external plugin, defined in %s (not sourced here)" "${hit#"$__hh_top"/}"
            return
        fi
    fi
    path=$(PATH=$__hh_orig_path builtin type -P -- "$1" 2>/dev/null)
    if [[ -n $path ]]; then
        builtin printf 'system command %s, not run in a dry run (not on the read-only allow-list)' "$path"
    elif [[ $1 == */* ]]; then
        builtin printf 'no such file'
    elif ((__hh_tree)); then
        builtin printf 'neither a function of this tree nor a command installed here'
    else
        builtin printf 'neither a function nor a command installed here'
    fi
}

# command_not_found_handle: a dry run's record of a missing function or
# command, told apart (see __hh_missing_note); it succeeds, so the survey
# goes on.
command_not_found_handle() {
    builtin local cmd
    __hh_caller
    builtin printf -v cmd '%q ' "$@"
    __hh_record_at undefined "$__hh_file:$__hh_line" "${cmd% }" "$(__hh_missing_note "$1")"
    builtin printf 'dry run: not run (undefined): %s\n' "${cmd% }" >&2
    return 0
}

# PATH: the shims, then the allow-list; nothing else (hookhost prepared
# both directories before the session started). TMPDIR inside the state.
__hh_orig_path=$PATH
if [[ -d $__hh_dry_dir/shims ]]; then
    PATH=$__hh_dry_dir/shims:$__hh_dry_dir/allow
    TMPDIR=$__hh_dry_dir/tmp
    builtin export PATH TMPDIR
fi

builtin readonly __hh_orig_path __hh_dry_dir
builtin readonly -f __hh_record_at __hh_w_die __hh_die_unwind __hh_w_record __hh_w_ini __hh_cmd \
    __hh_missing_note __hh_sudo_kind __hh_dry_sudo
