# helpers.sh - DevStack's helper functions and common variables for bash
# hooks, with DevStack's semantics (functions-common, stackrc).
#
# Sourced once when the session starts, after the configuration variables
# (local.conf) are assigned, so those win over every default below.
# Hooks may redefine any of these functions, as DevStack's lib files may;
# the __hh_* functions they use internally are read-only.

# --- common variables (stackrc); a default applies only when unset or empty.
# A DevStack tree's own stackrc sets them (its defaults test `isset`, so
# nothing may be set before it: __hh_tree).

# stack.sh's descriptors: 3 its console (`exec 3>&1`), 6 its summary log;
# lib code writes `>&3` (`_run_process`, `echo_nolog`). Both go where hook
# output goes.
if ((__hh_tree)); then
    command exec 3>&"$__hh_out" 6>&"$__hh_out"
fi

if ((!__hh_tree)); then
    : "${DATA_DIR:=$DEST/data}"
    : "${FILES:=$TOP_DIR/files}"
    : "${SERVICE_DIR:=$DEST/status}"
    : "${STACK_USER:=$__hh_user}"
    : "${ENABLED_SERVICES:=}"
    : "${SERVICE_HOST:=${HOST_IP:-127.0.0.1}}"
    : "${SERVICE_PROTOCOL:=http}"
    : "${SERVICE_TIMEOUT:=60}"
    : "${GIT_BASE:=https://opendev.org}"
    : "${VERBOSE:=True}"
    : "${OFFLINE:=False}"
    : "${RECLONE:=False}"
fi

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
# elements and the given ITEMs, order kept. The list is split with
# mapfile: pattern removal (${rest%%,*}) is quadratic in the list's length.
__hh_list_without() {
    builtin local item drop
    builtin local -a items
    __hh_list=
    builtin mapfile -d , -t items <<<"$1"
    items[-1]=${items[-1]%$'\n'}
    builtin shift
    for item in "${items[@]}"; do
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
    builtin local i n
    i=2
    n=${#BASH_SOURCE[@]}
    while ((i < n - 1)) && [[ ${BASH_SOURCE[i]} == "$__hh_main" ]]; do
        i=$((i + 1))
    done
    __hh_line=${BASH_LINENO[i - 1]}
    if [[ ${BASH_SOURCE[i]-$__hh_main} == "$__hh_main" ]]; then
        __hh_file=hookhost
    else
        __hh_file=${BASH_SOURCE[i]#"$__hh_top"/}
        __hh_file=${__hh_file#.hookhost/prelude/*/}
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
    builtin local svc list prefix outer rc
    svc=$1
    list=${ENABLED_SERVICES-}
    prefix=
    rc=0
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
    builtin local xtrace service enabled guard
    xtrace=$-
    enabled=1
    # The caller's guard, read before the local below hides it.
    guard=${__hh_ise_guard-}
    builtin local __hh_ise_guard
    __hh_ise_guard=$guard
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

# echo_nolog MESSAGE...: stack.sh's console-only echo; one line on stdout.
echo_nolog() {
    builtin local IFS=' '
    builtin printf '%s\n' "$*"
}

# read_password NAME [PROMPT]: stack.sh's, without the prompt: NAME keeps a
# value it has; else the one hookhost generated for NAME in an earlier run
# ($HOOKHOST_STATE_DIR/passwords, mode 0600); else a new random one,
# recorded there. Never reads the terminal, never writes the tree.
read_password() {
    builtin local name file key value
    name=${1-}
    if ! __hh_valid_name "$name"; then
        builtin printf "read_password: invalid variable name '%s'\n" "$name" >&2
        return 2
    fi
    [[ -z ${!name-} ]] || return 0
    file=$HOOKHOST_STATE_DIR/passwords
    if [[ -r $file ]]; then
        while IFS='=' builtin read -r key value; do
            if [[ $key == "$name" ]]; then
                builtin printf -v "$name" '%s' "$value"
                return 0
            fi
        done <"$file"
    fi
    value=$(LC_ALL=C command tr -dc 0-9a-f </dev/urandom 2>/dev/null | command head -c 20)
    builtin printf -v "$name" '%s' "$value"
    (builtin umask 077 && builtin printf '%s=%s\n' "$name" "$value" >>"$file") ||
        builtin printf 'read_password: cannot keep %s in %s\n' "$name" "$file" >&2
}

# warn [LINE] MESSAGE...: print "[WARNING] <file>:<line> message" on stderr.
# DevStack callers pass $LINENO first; without it the caller's line is used.
# Returns the status it was called with, as DevStack's warn does.
warn() {
    builtin local status=$? xtrace line
    xtrace=$-
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
    builtin local xtrace __hh_default __hh_value
    xtrace=$-
    __hh_default=${1-}
    __hh_value=${2-}
    builtin set +o xtrace
    if __hh_valid_name "$__hh_value" && [[ -n ${!__hh_value+x} ]]; then
        __hh_value=${!__hh_value}
    fi
    __hh_bool "$__hh_value" || __hh_bool "$__hh_default" ||
        builtin printf '%s\n' "$__hh_default"
    if [[ $xtrace == *x* ]]; then builtin set -o xtrace; fi
}

# install_package PACKAGE...: in a dry run, record the call. With the install
# grant, a DevStack tree's own install_package (kept as
# __hh_ds_install_package), else `apt-get install -y -- PACKAGE...` (through
# sudo unless root), and return its status. Without it, append one line per package to
# $HOOKHOST_STATE_DIR/packages-wanted, say so on stdout, and return 0.
install_package() {
    __hh_w_install_package "$@"
}

__hh_w_install_package() {
    builtin local IFS=' '
    if (($# == 0)); then return 0; fi
    if ((__hh_dry_run)); then
        __hh_record package install_package "$@"
        return 0
    fi
    if ((__hh_allow_install)) && builtin declare -F __hh_ds_install_package >/dev/null; then
        __hh_ds_install_package "$@"
        return
    fi
    if ((__hh_allow_install)); then
        if ((EUID == 0)); then
            DEBIAN_FRONTEND=noninteractive apt-get install -y -- "$@" </dev/null
        else
            sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -- "$@" </dev/null
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

# set_var NAME VALUE: assign VALUE literally to the global variable NAME
# (element 0 when NAME is an array, as NAME=VALUE would).
set_var() {
    if ! __hh_valid_name "${1-}"; then
        builtin printf "set_var: invalid variable name '%s'\n" "${1-}" >&2
        return 2
    fi
    if [[ -n ${!1+x} && ${!1@a} == *[aA]* ]]; then
        builtin declare -g -- "$1[0]=${2-}"
    else
        builtin declare -g -- "$1=${2-}"
    fi
}

# --- DevStack compatibility: what old extras.d hooks and their lib/ files
# call beyond the helpers above (see docs/devstack.md for the whole table).

# The distribution, as DevStack's GetOSVersion/GetDistro set it (only
# where unset): os_VENDOR (first word of os-release's NAME), os_RELEASE,
# os_CODENAME, os_PACKAGE (deb or rpm) and DISTRO.
__hh_os_detect() {
    builtin local key value id like name
    id= like= name=
    [[ -r /etc/os-release ]] || return 0
    while IFS='=' builtin read -r key value; do
        value=${value#[\"\']}
        value=${value%[\"\']}
        case $key in
            ID) id=$value ;;
            ID_LIKE) like=$value ;;
            NAME) name=$value ;;
            VERSION_ID) : "${os_RELEASE:=$value}" ;;
            VERSION_CODENAME) : "${os_CODENAME:=$value}" ;;
        esac
    done </etc/os-release
    : "${os_VENDOR:=${name%% *}}"
    case " $id $like " in
        *" debian "* | *" ubuntu "*) : "${os_PACKAGE:=deb}" ;;
        *" fedora "* | *" rhel "* | *" centos "* | *" suse "*) : "${os_PACKAGE:=rpm}" ;;
    esac
    __hh_os_id=" $id $like "
    case $__hh_os_id in
        *" debian "* | *" ubuntu "*) : "${DISTRO:=${os_CODENAME-}}" ;;
        *" fedora "*) : "${DISTRO:=f${os_RELEASE-}}" ;;
        *) : "${DISTRO:=$id${os_RELEASE%%.*}}" ;;
    esac
}
__hh_os_id=
if ((!__hh_tree)); then __hh_os_detect; fi

# is_ubuntu: a deb-based system (DevStack tests os_PACKAGE, so Debian too).
is_ubuntu() {
    [[ ${os_PACKAGE-} == deb ]]
}

# is_fedora: Fedora, RHEL, CentOS and their rebuilds.
is_fedora() {
    [[ ${os_PACKAGE-} == rpm && $__hh_os_id != *" suse "* ]]
}

# is_suse: openSUSE and SLES.
is_suse() {
    [[ $__hh_os_id == *" suse "* ]]
}

# GITREPO, GITBRANCH, GITDIR: DevStack's associative arrays (by project
# name), declared here so hooks may assign elements; each external plugin
# (enable_plugin) has its URL, REF and checkout. DEVSTACK_PLUGINS lists the
# enabled plugins, comma-separated, in order.
if [[ ${GITREPO@a} != *A* ]]; then builtin unset -v GITREPO; fi
if [[ ${GITBRANCH@a} != *A* ]]; then builtin unset -v GITBRANCH; fi
if [[ ${GITDIR@a} != *A* ]]; then builtin unset -v GITDIR; fi
builtin declare -gA GITREPO GITBRANCH GITDIR
: "${DEVSTACK_PLUGINS:=}"
if [[ -n ${__hh_plugin_table-} ]]; then
    while IFS=$'\x1f' builtin read -r __hh_n __hh_u __hh_r __hh_d; do
        GITREPO[$__hh_n]=$__hh_u
        GITBRANCH[$__hh_n]=$__hh_r
        GITDIR[$__hh_n]=$__hh_d
    done <<<"$__hh_plugin_table"
fi
builtin unset -v __hh_plugin_table __hh_n __hh_u __hh_r __hh_d

# __hh_record KIND ARGS...: a dry run's record of a call that was not run,
# appended to $HOOKHOST_STATE_DIR/dry-run as KIND<TAB>FILE:LINE<TAB>COMMAND
# (the host attributes it to the hook and phase), and said on stderr
# (stdout may be a command substitution's value).
__hh_record() {
    builtin local kind cmd
    kind=$1
    builtin shift
    __hh_caller
    builtin printf -v cmd '%q ' "$@"
    cmd=${cmd% }
    builtin printf '%s\t%s:%s\t%s\n' "$kind" "$__hh_file" "$__hh_line" "$cmd" \
        2>/dev/null >>"$HOOKHOST_STATE_DIR/dry-run"
    builtin printf 'dry run: not run (%s): %s\n' "$kind" "$cmd" >&2
}

# command_not_found_handle: bash calls it (in a subshell) for a command
# that is neither a function, a builtin nor on PATH — typically a DevStack
# function hookhost does not provide (pip_install, run_process...). In a
# dry run the call is recorded and succeeds; otherwise it fails with 127
# and says where it was called.
if ((__hh_dry_run)); then
    command_not_found_handle() {
        __hh_record undefined "$@"
        return 0
    }
else
    command_not_found_handle() {
        __hh_caller
        builtin printf '%s: line %s: %s: command not found (hookhost stack --dry-run lists every missing command)\n' \
            "$__hh_file" "$__hh_line" "$1" >&2
        return 127
    }
fi

# sudo ARGS...: what old hooks call directly. Dry run: recorded, returns 0.
# Otherwise the real sudo with -n (fail at once rather than prompt for a
# password behind hookhost's progress display), or, when hookhost runs as
# root where sudo is not installed (containers), the command itself.
sudo() {
    if ((__hh_dry_run)); then
        __hh_dry_sudo "$@"
        return 0
    fi
    if builtin type -P sudo >/dev/null; then
        command sudo -n "$@"
        return
    fi
    if ((EUID != 0)); then
        builtin printf 'sudo: not installed, and hookhost is not running as root\n' >&2
        return 1
    fi
    __hh_sudo_as_root "$@"
}

# __hh_sudo_as_root [OPTIONS] [NAME=VALUE...] COMMAND ARGS...: sudo's job
# when already root: options that do not change the user are dropped;
# NAME=VALUE words set the command's environment, as sudo's do.
__hh_sudo_as_root() {
    while (($#)); do
        case $1 in
            -u | -g)
                if [[ ${2-} != @(root|0|\#0) ]]; then
                    builtin printf 'sudo: cannot switch to %s: sudo is not installed\n' "${2-}" >&2
                    return 1
                fi
                builtin shift 2
                ;;
            -E | -H | -n | -S | -k | -A | --preserve-env | --preserve-env=*) builtin shift ;;
            --)
                builtin shift
                break
                ;;
            -*)
                builtin printf 'sudo: option %s is not supported when sudo is not installed\n' "$1" >&2
                return 1
                ;;
            *) break ;;
        esac
    done
    if (($# == 0)); then
        builtin printf 'sudo: no command given\n' >&2
        return 1
    fi
    command env -- "$@"
}

# is_package_installed PACKAGE...: true when every package is installed
# (dpkg on deb systems, rpm on rpm systems); false with no argument.
is_package_installed() {
    builtin local package status
    (($#)) || return 1
    if builtin type -P dpkg-query >/dev/null; then
        for package in "$@"; do
            status=$(dpkg-query -W -f='${Status}' -- "$package" 2>/dev/null) || return 1
            [[ $status == *" installed" ]] || return 1
        done
        return 0
    fi
    if builtin type -P rpm >/dev/null; then
        rpm --quiet -q -- "$@"
        return
    fi
    return 1
}

# git_clone REPO DEST [REF]: DevStack's git_clone. A missing DEST is cloned
# (at REF, else the default branch); an existing checkout is left as it is
# unless RECLONE is true (then REF is fetched and checked out); with
# OFFLINE true nothing is fetched and a missing DEST is an error. A dry run
# records the call instead.
git_clone() {
    __hh_w_git_clone "$@"
}

__hh_w_git_clone() {
    builtin local repo dest ref
    repo=${1-} dest=${2-} ref=${3-}
    if ((__hh_dry_run)); then
        __hh_record git_clone "$@"
        return 0
    fi
    if [[ -z $repo || -z $dest ]]; then
        builtin printf 'git_clone: needs REPO DEST [REF]\n' >&2
        return 2
    fi
    # git reads a word starting with `-` as an option wherever it is.
    if [[ $ref == -* || $repo == -* || $dest == -* ]]; then
        builtin printf 'git_clone: %s is not a repository, directory or ref (it starts with -)\n' \
            "$([[ $ref == -* ]] && builtin echo "$ref" || builtin echo "$repo $dest")" >&2
        return 2
    fi
    if [[ -d $dest/.git ]]; then
        if [[ $(trueorfalse False RECLONE) == True && $(trueorfalse False OFFLINE) != True ]]; then
            GIT_TERMINAL_PROMPT=0 command git -C "$dest" fetch --quiet -- "$repo" ${ref:+"$ref"} </dev/null &&
                command git -C "$dest" checkout --quiet --force FETCH_HEAD || return
        fi
    elif [[ $(trueorfalse False OFFLINE) == True ]]; then
        builtin printf 'git_clone: %s does not exist and OFFLINE is True\n' "$dest" >&2
        return 1
    else
        GIT_TERMINAL_PROMPT=0 command git clone --quiet -- "$repo" "$dest" </dev/null || return
        if [[ -n $ref ]]; then
            command git -C "$dest" -c advice.detachedHead=false checkout --quiet "$ref" || return
        fi
    fi
    builtin printf 'git_clone: %s at %s\n' "$dest" "$(command git -C "$dest" log -1 --format='%h %s')"
}

# is_set NAME: true when the variable NAME is set and not empty.
is_set() {
    __hh_valid_name "${1-}" && [[ -n ${!1-} ]]
}

# die_if_not_set LINE NAME MESSAGE...: die with MESSAGE unless NAME is set
# (and not empty).
die_if_not_set() {
    builtin local line name
    line=${1-} name=${2-}
    builtin shift 2 2>/dev/null || builtin shift $#
    if ! is_set "$name"; then
        die "$line" "$@"
    fi
}

# err [LINE] MESSAGE...: print "[ERROR] <file>:<line> message" on stderr
# and return the status it was called with; unlike die, nothing exits.
err() {
    builtin local status=$? xtrace line
    xtrace=$-
    builtin set +o xtrace
    __hh_caller
    line=$__hh_line
    if [[ ${1-} =~ ^[0-9]+$ ]]; then
        line=$1
        builtin shift
    fi
    builtin local IFS=' '
    builtin printf '[ERROR] %s:%s %s\n' "$__hh_file" "$line" "$*" >&2
    if [[ $xtrace == *x* ]]; then builtin set -o xtrace; fi
    return "$status"
}

# define_plugin NAME: what an external plugin's settings declare first; the
# host already knows its plugins, so nothing to do.
define_plugin() {
    return 0
}

# is_plugin_enabled NAME: true when local.conf enables the external plugin.
is_plugin_enabled() {
    __hh_has_item "${1-}" "${DEVSTACK_PLUGINS-}"
}

# plugin_requires NAME OTHER: the plugin NAME needs the plugin OTHER. The
# host checks literal lines before the run; this catches the rest: dies
# naming both when OTHER is not enabled (DevStack never checked).
plugin_requires() {
    if ! is_plugin_enabled "${2-}"; then
        die "plugin ${1-} requires plugin ${2-}, which local.conf does not enable (add: enable_plugin ${2-} URL)"
    fi
}

# __hh_ini_find FILE SECTION OPTION: read FILE into __hh_ini (empty when
# missing); set __hh_ini_head to the index of SECTION's first header (-1)
# and __hh_ini_hits to the indices of its `OPTION = ...` lines, in every
# occurrence of the section (DevStack's sed ranges do the same).
__hh_ini_find() {
    builtin local i line rest inside
    inside=0
    __hh_ini=()
    __hh_ini_head=-1
    __hh_ini_hits=()
    if [[ -f $1 ]]; then builtin mapfile -t __hh_ini <"$1"; fi
    for ((i = 0; i < ${#__hh_ini[@]}; i++)); do
        line=${__hh_ini[i]%"${__hh_ini[i]##*[![:space:]]}"}
        if [[ $line == \[*\] ]]; then
            inside=0
            if [[ $line == "[$2]" ]]; then
                inside=1
                ((__hh_ini_head >= 0)) || __hh_ini_head=$i
            fi
            continue
        fi
        ((inside)) || continue
        rest=${line#"$3"}
        [[ $rest != "$line" ]] || continue
        rest=${rest#"${rest%%[!$' \t']*}"}
        if [[ $rest == =* ]]; then __hh_ini_hits+=("$i"); fi
    done
}

# __hh_ini_save FILE SUDO: write __hh_ini back (through sudo tee when SUDO
# is 1 and FILE is not writable).
__hh_ini_save() {
    if [[ $2 == 1 && -e $1 && ! -w $1 ]]; then
        builtin printf '%s\n' "${__hh_ini[@]}" | sudo tee -- "$1" >/dev/null
    else
        builtin printf '%s\n' "${__hh_ini[@]}" >"$1"
    fi
}

# iniset [-sudo] FILE SECTION OPTION VALUE: set OPTION in SECTION of the INI
# file, as local.conf's meta-sections are merged (every existing line of the
# option in the section is replaced; a missing option goes right after the
# section header; a missing section is appended; a missing file created).
iniset() {
    builtin local xtrace sudo i
    xtrace=$- sudo=0
    builtin set +o xtrace
    if [[ ${1-} == -sudo ]]; then
        sudo=1
        builtin shift
    fi
    builtin local file section option value
    file=${1-} section=${2-} option=${3-} value=${4-}
    # A newline (or a carriage return, a line break to Python's readers)
    # would start a line of its own: a value (from a plugin, say) could add
    # sections and options to the file.
    if [[ $section$option$value == *[$'\n\r']* ]]; then
        builtin printf 'iniset: a line break in the section, option or value for %s is refused\n' \
            "$file" >&2
        if [[ $xtrace == *x* ]]; then builtin set -o xtrace; fi
        return 1
    fi
    if [[ -n $file && -n $section && -n $option ]]; then
        __hh_ini_find "$file" "$section" "$option"
        for i in "${__hh_ini_hits[@]}"; do
            __hh_ini[i]="$option = $value"
        done
        if ((${#__hh_ini_hits[@]} == 0)); then
            if ((__hh_ini_head < 0)); then
                if ((${#__hh_ini[@]})) && [[ -n ${__hh_ini[-1]//[[:space:]]/} ]]; then
                    __hh_ini+=("")
                fi
                __hh_ini+=("[$section]")
                __hh_ini_head=$((${#__hh_ini[@]} - 1))
            fi
            __hh_ini=("${__hh_ini[@]:0:__hh_ini_head+1}" "$option = $value" \
                "${__hh_ini[@]:__hh_ini_head+1}")
        fi
        __hh_ini_save "$file" "$sudo"
    fi
    if [[ $xtrace == *x* ]]; then builtin set -o xtrace; fi
}

# iniget FILE SECTION OPTION: print the option's value (its first line in
# the section), blanks trimmed; nothing when it is not there.
iniget() {
    builtin local value
    __hh_ini_find "${1-}" "${2-}" "${3-}"
    ((${#__hh_ini_hits[@]})) || return 0
    value=${__hh_ini[__hh_ini_hits[0]]#*=}
    value=${value#"${value%%[![:space:]]*}"}
    builtin printf '%s\n' "${value%"${value##*[![:space:]]}"}"
}

# ini_has_option FILE SECTION OPTION: true when the option is set there.
ini_has_option() {
    __hh_ini_find "${1-}" "${2-}" "${3-}"
    ((${#__hh_ini_hits[@]}))
}

# inicomment [-sudo] FILE SECTION OPTION: comment out the option's lines.
inicomment() {
    builtin local sudo i
    sudo=0
    if [[ ${1-} == -sudo ]]; then
        sudo=1
        builtin shift
    fi
    __hh_ini_find "${1-}" "${2-}" "${3-}"
    ((${#__hh_ini_hits[@]})) || return 0
    for i in "${__hh_ini_hits[@]}"; do
        __hh_ini[i]="#${__hh_ini[i]}"
    done
    __hh_ini_save "$1" "$sudo"
}

# --- DevStack trees: the tree's own functions win (its prelude defines them
# after this file); hookhost wraps the few whose policy is its own.

# What is wrapped: install_package always (the install grant: without it
# packages are recorded as wanted, with it the tree's own installer runs),
# git_clone in a dry run (recorded, not run; a real run uses the tree's).
__hh_wrapped=(install_package)
if ((__hh_dry_run)); then __hh_wrapped+=(git_clone); fi
__hh_ds_probe=$HOOKHOST_STATE_DIR/prelude/.where

# __hh_ds_where NAME: set __hh_ds_line and __hh_ds_file to where the
# function NAME is defined (extdebug's `declare -F`, read back through a
# file: no fork, as this runs after every request in a tree).
__hh_ds_where() {
    builtin local had name
    had=0
    if [[ :$BASHOPTS: == *:extdebug:* ]]; then had=1; fi
    builtin shopt -s extdebug
    builtin declare -F -- "$1" 2>/dev/null >"$__hh_ds_probe"
    if ((!had)); then builtin shopt -u extdebug; fi
    __hh_ds_line= __hh_ds_file=
    builtin read -r name __hh_ds_line __hh_ds_file <"$__hh_ds_probe" || builtin true
}

# __hh_ds_save NAME: keep the tree's function NAME as __hh_ds_NAME. It is
# sourced from a padded copy of its file (every other line blank, under
# .hookhost/prelude/ds/), so $LINENO and file names in its messages stay
# the tree's (the session maps the copy's path back); a definition not
# found in its file is copied with declare -f.
__hh_ds_save() {
    builtin local name rel pad body i copy
    builtin local -a lines
    name=$1
    __hh_ds_where "$name"
    rel=${__hh_ds_file#"$__hh_top"/}
    if [[ $__hh_ds_line =~ ^[0-9]+$ && $rel != "$__hh_ds_file" && -r $__hh_ds_file ]]; then
        builtin mapfile -t -s $((__hh_ds_line - 1)) lines <"$__hh_ds_file"
        body=${lines[0]/"$name"/__hh_ds_$name}$'\n'
        for ((i = 1; i < ${#lines[@]}; i++)); do
            body+=${lines[i]}$'\n'
            if [[ ${lines[i]} == '}'* ]]; then
                builtin printf -v pad '%*s' $((__hh_ds_line - 1)) ''
                copy=$HOOKHOST_STATE_DIR/prelude/ds/$rel
                command mkdir -p -- "${copy%/*}" &&
                    builtin printf '%s%s' "${pad// /$'\n'}" "$body" >"$copy" &&
                    builtin source "$copy" && return 0
                break
            fi
        done
    fi
    builtin eval "__hh_ds_$name() $(builtin declare -f -- "$name" | command tail -n +2)"
}

# __hh_wrap: for each wrapped function the tree defined (after the prelude,
# and again whenever the tree redefined it, e.g. by re-sourcing
# `functions` as stackrc and openrc do), keep the tree's definition and put
# hookhost's wrapper in its place. Cheap when nothing changed.
__hh_wrap() {
    builtin local name
    for name in "${__hh_wrapped[@]}"; do
        __hh_ds_where "$name"
        if [[ -n $__hh_ds_file && $__hh_ds_file != "$__hh_main" ]]; then
            __hh_ds_save "$name"
            builtin eval "$name() { __hh_w_$name \"\$@\"; }"
        fi
    done
}

builtin readonly __hh_dry_run __hh_ds_probe
builtin readonly -f __hh_valid_name __hh_has_item __hh_has_prefix \
    __hh_list_without __hh_caller __hh_bool __hh_service_enabled \
    __hh_record __hh_sudo_as_root __hh_ini_find __hh_ini_save \
    __hh_w_install_package __hh_w_git_clone __hh_ds_where __hh_ds_save __hh_wrap
