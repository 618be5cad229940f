# helpers.sh - DevStack's helper functions and common variables for bash
# hooks, with DevStack's semantics (functions-common, stackrc).
#
# Sourced once when the session starts, after the configuration variables
# (local.conf) are assigned, so those win over every default below.
# Hooks may redefine any of these functions, as DevStack's lib files may;
# the __hh_* functions they use internally are read-only.

# --- common variables (stackrc); a default applies only when unset or empty

: "${DATA_DIR:=$DEST/data}"
: "${FILES:=$TOP_DIR/files}"
: "${SERVICE_DIR:=$DEST/status}"
: "${STACK_USER:=$(id -un 2>/dev/null || builtin printf '%s' "${USER-}")}"
: "${ENABLED_SERVICES:=}"
: "${SERVICE_HOST:=${HOST_IP:-127.0.0.1}}"
: "${SERVICE_PROTOCOL:=http}"
: "${SERVICE_TIMEOUT:=60}"
: "${GIT_BASE:=https://opendev.org}"
: "${VERBOSE:=True}"
: "${OFFLINE:=False}"
: "${RECLONE:=False}"

# --- internal helpers

# __hh_valid_name NAME: true when NAME is a valid shell variable name.
__hh_valid_name() {
    [[ $1 =~ ^[A-Za-z_][A-Za-z0-9_]*$ ]]
}

# __hh_has_item ITEM LIST: true when ITEM is an element of the
# comma-separated LIST (exact match).
__hh_has_item() {
    [[ ,$2, == *,"$1",* ]]
}

# __hh_has_prefix PREFIX LIST: true when an element of LIST starts with PREFIX.
__hh_has_prefix() {
    [[ ,$2 == *,"$1"* ]]
}

# __hh_list_without LIST ITEM...: set __hh_list to LIST minus empty
# elements and the given ITEMs, order kept.
__hh_list_without() {
    builtin local rest=$1, item drop
    __hh_list=
    builtin shift
    while [[ -n $rest ]]; do
        item=${rest%%,*}
        rest=${rest#*,}
        for drop in "" "$@"; do
            if [[ $item == "$drop" ]]; then
                continue 2
            fi
        done
        __hh_list=${__hh_list:+$__hh_list,}$item
    done
}

# __hh_caller: set __hh_file and __hh_line to the place that called the
# helper running this: the first frame outside session code, its file
# relative to TOP_DIR ("hookhost" when the host called the helper itself).
__hh_caller() {
    builtin local i=2 n=${#BASH_SOURCE[@]}
    while ((i < n - 1)) && [[ ${BASH_SOURCE[i]} == "$__hh_main" ]]; do
        i=$((i + 1))
    done
    __hh_line=${BASH_LINENO[i - 1]}
    if [[ ${BASH_SOURCE[i]-$__hh_main} == "$__hh_main" ]]; then
        __hh_file=hookhost
    else
        __hh_file=${BASH_SOURCE[i]#"$__hh_top"/}
    fi
}

# __hh_bool VALUE: print True or False for DevStack's spellings of a
# boolean; fail (printing nothing) for anything else.
__hh_bool() {
    case $1 in
        1 | yes | Yes | YES | true | True | TRUE | on | On | ON) builtin echo True ;;
        0 | no | No | NO | false | False | FALSE | off | Off | OFF) builtin echo False ;;
        *) return 1 ;;
    esac
}

# __hh_service_enabled SERVICE: one service of is_service_enabled. An
# is_SERVICE_enabled function decides when it exists (unless it is already
# deciding, so it may call is_service_enabled SERVICE itself); otherwise
# SERVICE must be in ENABLED_SERVICES or match a catch-all: nova n-*,
# glance g-*, cinder c-*, neutron q-*, ironic ir-*, trove tr-*, swift s-*,
# ceilometer ceilometer-*, and any s-* when swift is enabled.
__hh_service_enabled() {
    builtin local svc=$1 list=${ENABLED_SERVICES-} prefix= outer rc=0
    if [[ ,$__hh_ise_guard, != *,"$svc",* ]] &&
        builtin declare -F -- "is_${svc}_enabled" >/dev/null; then
        outer=$__hh_ise_guard
        __hh_ise_guard=$outer,$svc
        "is_${svc}_enabled" || rc=$?
        __hh_ise_guard=$outer
        return "$rc"
    fi
    if __hh_has_item "$svc" "$list"; then
        return 0
    fi
    case $svc in
        nova) prefix=n- ;;
        glance) prefix=g- ;;
        cinder) prefix=c- ;;
        neutron) prefix=q- ;;
        ironic) prefix=ir- ;;
        trove) prefix=tr- ;;
        swift) prefix=s- ;;
        ceilometer) prefix=ceilometer- ;;
        s-*) prefix=swift ;;
    esac
    if [[ $prefix == swift ]]; then
        __hh_has_item swift "$list"
    else
        [[ -n $prefix ]] && __hh_has_prefix "$prefix" "$list"
    fi
}

# --- DevStack's helpers

# is_service_enabled SERVICE...: true (0) when ANY of the named services is
# enabled in the comma-separated ENABLED_SERVICES, with DevStack's
# catch-alls and is_<service>_enabled overrides (see __hh_service_enabled).
# Leaves the caller's xtrace setting as it was.
is_service_enabled() {
    builtin local xtrace=$- service enabled=1
    builtin local __hh_ise_guard=${__hh_ise_guard-}
    builtin set +o xtrace
    for service in "$@"; do
        if __hh_service_enabled "$service"; then
            enabled=0
            break
        fi
    done
    if [[ $xtrace == *x* ]]; then builtin set -o xtrace; fi
    return "$enabled"
}

# enable_service SERVICE...: add each service to ENABLED_SERVICES unless it
# is already an element (comma-separated, no empty elements).
enable_service() {
    builtin local service
    __hh_list_without "${ENABLED_SERVICES-}"
    for service in "$@"; do
        if [[ -n $service ]] && ! __hh_has_item "$service" "$__hh_list"; then
            __hh_list=${__hh_list:+$__hh_list,}$service
        fi
    done
    ENABLED_SERVICES=$__hh_list
}

# disable_service SERVICE...: remove each service (exact name) from
# ENABLED_SERVICES.
disable_service() {
    __hh_list_without "${ENABLED_SERVICES-}" "$@"
    ENABLED_SERVICES=$__hh_list
}

# disable_all_services: empty ENABLED_SERVICES.
disable_all_services() {
    ENABLED_SERVICES=""
}

# echo_summary MESSAGE...: print the message as one line on stdout (the
# host shows it as progress).
echo_summary() {
    builtin local IFS=' '
    builtin printf '%s\n' "$*"
}

# warn [LINE] MESSAGE...: print "[WARNING] <file>:<line> message" on stderr.
# DevStack callers pass $LINENO first; without it the caller's line is used.
# Returns the status it was called with, as DevStack's warn does.
warn() {
    builtin local status=$? xtrace=$- line
    builtin set +o xtrace
    __hh_caller
    line=$__hh_line
    if [[ ${1-} =~ ^[0-9]+$ ]]; then
        line=$1
        builtin shift
    fi
    builtin local IFS=' '
    builtin printf '[WARNING] %s:%s %s\n' "$__hh_file" "$line" "$*" >&2
    if [[ $xtrace == *x* ]]; then builtin set -o xtrace; fi
    return "$status"
}

# die [LINE] MESSAGE...: print "[ERROR] <file>:<line> message" on stderr and
# exit the session, as DevStack's die exits stack.sh: with the status it was
# called with, or 1 when that was 0.
die() {
    builtin local status=$? line
    builtin set +o xtrace
    if ((status == 0)); then status=1; fi
    __hh_caller
    line=$__hh_line
    if [[ ${1-} =~ ^[0-9]+$ ]]; then
        line=$1
        builtin shift
    fi
    builtin local IFS=' '
    builtin printf '[ERROR] %s:%s %s\n' "$__hh_file" "$line" "$*" >&2
    builtin exit "$status"
}

# trueorfalse DEFAULT NAME_OR_VALUE: print True or False. Both DevStack
# forms work: `trueorfalse False NAME` reads the variable NAME when it is
# set; otherwise the argument itself is the value (`trueorfalse False $X`).
# 1/yes/true/on (and capitalised forms) are True, 0/no/false/off are False,
# anything else (or nothing) gives DEFAULT.
trueorfalse() {
    builtin local xtrace=$- __hh_default=${1-} __hh_value=${2-}
    builtin set +o xtrace
    if __hh_valid_name "$__hh_value" && [[ -n ${!__hh_value+x} ]]; then
        __hh_value=${!__hh_value}
    fi
    __hh_bool "$__hh_value" || __hh_bool "$__hh_default" ||
        builtin printf '%s\n' "$__hh_default"
    if [[ $xtrace == *x* ]]; then builtin set -o xtrace; fi
}

# install_package PACKAGE...: with the install grant, run
# `apt-get install -y PACKAGE...` (through sudo unless root) and return its
# status. Without it, append one line per package to
# $HOOKHOST_STATE_DIR/packages-wanted, say so on stdout, and return 0.
install_package() {
    builtin local IFS=' '
    if (($# == 0)); then return 0; fi
    if ((__hh_allow_install)); then
        if ((EUID == 0)); then
            DEBIAN_FRONTEND=noninteractive apt-get install -y "$@" </dev/null
        else
            sudo DEBIAN_FRONTEND=noninteractive apt-get install -y "$@" </dev/null
        fi
        return
    fi
    if ! builtin printf '%s\n' "$@" 2>/dev/null >>"$HOOKHOST_STATE_DIR/packages-wanted"; then
        builtin printf 'install_package: cannot record to %s\n' \
            "$HOOKHOST_STATE_DIR/packages-wanted" >&2
    fi
    builtin printf 'install_package: would install %s (no install grant; pass --allow-install)\n' "$*"
}

# get_var NAME: print the value of the variable NAME (nothing when unset).
get_var() {
    if ! __hh_valid_name "${1-}"; then
        builtin printf "get_var: invalid variable name '%s'\n" "${1-}" >&2
        return 2
    fi
    if [[ -n ${!1+x} ]]; then builtin printf '%s\n' "${!1}"; fi
}

# set_var NAME VALUE: assign VALUE literally to the global variable NAME.
set_var() {
    if ! __hh_valid_name "${1-}"; then
        builtin printf "set_var: invalid variable name '%s'\n" "${1-}" >&2
        return 2
    fi
    builtin declare -g -- "$1=${2-}"
}

builtin readonly -f __hh_valid_name __hh_has_item __hh_has_prefix \
    __hh_list_without __hh_caller __hh_bool __hh_service_enabled
