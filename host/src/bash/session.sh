# session.sh - the shell side of hookhost's bash session protocol: the
# functions the host's requests call. protocol.sh states the protocol and
# holds the loop that reads and evaluates every request.
#
# bash reads its script from a pipe the host writes to (fd 255 inside bash,
# close-on-exec); its stdin is /dev/null. After a start-up line the pipe
# carries one byte per request, on which the session's loop reads the
# request's script from the session's private request file and evals it at
# top level.
# A request that runs shell code looks like:
#
#   __hh_b= __hh_current='<what runs>'
#   <body>                          (source a hook, call a function)
#   { __hh_st=$?; \builtin trap - DEBUG RETURN ERR; \builtin set +xv; } 2>&"$__hh_null"
#                                   (keep the status, quiet the session)
#   \__hh_end '<token>'             (markers; the token is fresh per request)
#   <the variable sync, after the last hook of a request>
#   \__hh_post                      (restore the rest of the session)
#
# A query (__hh_q_*, the session's own functions) skips the restore.
# bash parses the marker line only after the body returned and the session
# was quieted, and the script's copy in __hh_b is cleared first, so nothing
# the body runs can learn the token. DEBUG and RETURN traps are
# reset at top level: bash puts them back when a function that reset them
# returns. Descriptors are restored with `command exec`: `builtin exec`
# would undo its redirections when it returns. Everything here is named
# __hh_*, made readonly, and calls builtins through `builtin`, so hooks that
# redefine `cd`, `printf`, `set`... or change IFS/options cannot break it.
#
# Globals set by __hh_init (readonly): __hh_top (cwd for every hook),
# __hh_errexit (1: stack.sh's errexit semantics), __hh_allow_install,
# __hh_out/__hh_err (pristine copies of stdout/stderr), __hh_nul/__hh_null
# (/dev/null to read, to write), __hh_umask,
# __hh_main (BASH_SOURCE of this script, to tell session frames apart).

# __hh_init ERREXIT ALLOW_INSTALL TOP_DIR UMASK USER: record the session's
# settings (the host passes its umask and user name: no fork for them).
__hh_init() {
    __hh_errexit=$1
    __hh_allow_install=$2
    __hh_top=$3
    __hh_umask=$4
    __hh_user=$5
    builtin readonly __hh_errexit __hh_allow_install __hh_top __hh_umask __hh_user
    # No options recorded yet: the first __hh_post, after the start-up
    # script (which runs without errexit), resets them all.
    __hh_opts=
}

# __hh_reset_options: every option a hook may plausibly change, back to the
# session's value (errexit and errtrace on under stack.sh's semantics);
# then remember what that looks like, so __hh_post can tell with two string
# comparisons whether anything needs resetting (a hook that changes
# nothing, the usual case, costs no `set`/`shopt`).
__hh_reset_options() {
    builtin set +o errexit +o errtrace +o nounset +o noglob +o noclobber \
        +o allexport +o pipefail +o functrace +o posix +o keyword +o monitor \
        +o notify +o physical -o hashall -o braceexpand
    builtin shopt -u nullglob failglob nocaseglob nocasematch dotglob \
        expand_aliases extdebug xpg_echo
    if ((__hh_errexit)); then
        builtin set -eE
    fi
    __hh_opts=$SHELLOPTS
    __hh_bopts=$BASHOPTS
}

# __hh_post: put back what else the body may have changed (its status is
# in __hh_st; DEBUG, RETURN and ERR traps, xtrace and verbose were reset on
# the line after it, see QUIET_LINE in mod.rs, and the descriptors by
# __hh_end). Variables and functions the body defined stay. Options,
# IFS and the directory are compared first and reset only when they
# differ; the umask is always put back (it cannot be read without a fork).
# It runs after the markers and the variable sync, so the host goes on
# meanwhile. Signals are named by number: `trap` looks a name up by
# comparing it with every signal's name, twice as slow for this list
# (EXIT HUP INT QUIT USR1 USR2 PIPE ALRM TERM). An ERR trap set here stays
# set when the function returns (clearing one would not: see QUIET_LINE).
__hh_post() {
    IFS=$' \t\n'
    if [[ $SHELLOPTS != "$__hh_opts" || $BASHOPTS != "$__hh_bopts" ]]; then
        __hh_reset_options
    fi
    builtin umask "$__hh_umask"
    if [[ $PWD != "$__hh_top" ]] && ! builtin cd -- "$__hh_top"; then
        builtin printf 'hookhost: cannot return to %s\n' "$__hh_top" >&2
    fi
    builtin trap - 0 1 2 3 10 12 13 14 15
    if ((__hh_errexit)); then
        builtin trap '__hh_on_err "$?" "$BASH_COMMAND" "$LINENO"' ERR
    fi
    # A DevStack tree may have redefined a function hookhost wraps.
    if ((__hh_tree)); then __hh_wrap || builtin true; fi
}

# __hh_end TOKEN: put stdin, stdout and stderr back (one `exec`; comparing
# a descriptor, `[[ /proc/self/fd/1 -ef ... ]]`, costs more than the dup2),
# then print the end marker, with the body's status, on stdout and stderr:
# one line each, one write each (a leading newline would be a write of its
# own: printf here is line-buffered). After a hook's unterminated last line
# it shares that line; the host finds the token anywhere. A function: its
# body is parsed once per session, where the same commands inline on every
# hook's marker line cost ~10 µs more per hook (parsing).
__hh_end() {
    command exec 0<&"$__hh_nul" 1>&"$__hh_out" 2>&"$__hh_err"
    # A dry run's die (dryrun.sh) returned instead of exiting: the request failed.
    if ((${__hh_died-0})); then
        __hh_died=0
        ((__hh_st)) || __hh_st=1
    fi
    builtin printf '%s %d\n' "$1" "$__hh_st"
    builtin printf '%s %d\n' "$1" "$__hh_st" >&2
}

# __hh_on_err STATUS COMMAND LINE: the ERR trap under errexit, run just
# before bash exits. Names the failing command and its place in the first
# frame that is not session code (helpers.sh is session code).
__hh_on_err() {
    [[ $- == *e* ]] || return 0
    builtin set +o xtrace
    builtin local i line n src
    i=1 line=$3 n=${#BASH_SOURCE[@]}
    while ((i < n - 1)) && [[ ${BASH_SOURCE[i]} == "$__hh_main" ]]; do
        line=${BASH_LINENO[i]}
        i=$((i + 1))
    done
    if ((n == 2)); then
        builtin printf 'hookhost: %s returned status %d\n' "${__hh_current-}" "$1" >&2
    elif ((i == n - 1)); then
        builtin printf "hookhost: '%s' failed with status %d in %s\n" \
            "$2" "$1" "${FUNCNAME[1]}" >&2
    else
        src=${BASH_SOURCE[i]#"$__hh_top"/}
        src=${src#.hookhost/prelude/*/}
        builtin printf "hookhost: '%s' failed with status %d at %s line %d\n" \
            "$2" "$1" "$src" "$line" >&2
    fi
}

# __hh_reply TOKEN PAYLOAD: a query's answer, framed so that stray output
# of background processes around it cannot be mistaken for it.
__hh_reply() {
    builtin printf '%s{%s}%s\n' "$1" "$2" "$1"
}

# __hh_q_get TOKEN NAME: reply S<value> when NAME is set, U when unset.
__hh_q_get() {
    if [[ -n ${!2+x} ]]; then
        __hh_reply "$1" "S${!2}"
    else
        __hh_reply "$1" U
    fi
}

# __hh_q_set TOKEN NAME VALUE: assign VALUE to the global NAME literally
# (called at top level, so printf -v reaches the global). A read-only
# variable is refused up front: assigning one would end bash under errexit.
# So is an integer one unless VALUE is a plain number: bash would evaluate
# it as arithmetic, where `a[$(cmd)]` runs cmd.
__hh_q_set() {
    if [[ -n ${!2+x} && ${!2@a} == *r* ]]; then
        __hh_reply "$1" readonly
    elif [[ ${!2@a} == *i* && ! $3 =~ ^[-+]?[0-9]+$ ]]; then
        __hh_reply "$1" integer
    elif builtin printf -v "$2" '%s' "$3" 2>/dev/null; then
        __hh_reply "$1" ok
    else
        __hh_reply "$1" failed
    fi
}

# __hh_q_fn TOKEN NAME: reply 1 when a function NAME exists, else 0.
__hh_q_fn() {
    if builtin declare -F -- "$2" >/dev/null; then
        __hh_reply "$1" 1
    else
        __hh_reply "$1" 0
    fi
}

# The watched variables' sync is a function the host generates for the
# session's names, __hh_collect (mirror.rs); bash keeps what the host was
# last told of NAME in __hh_s_NAME.

# __hh_assign NAME REFUSED VALUE: a plugin's VALUE for the watched NAME,
# assigned literally, and recorded as what the host knows of NAME; or, when
# NAME's attributes match the pattern REFUSED (read-only; integer unless
# VALUE is a plain number: bash would evaluate it as arithmetic), refused
# with a message, the record reset so the next sync tells the host.
__hh_assign() {
    case ${!1@a} in
    $2)
        builtin printf -v "__hh_s_$1" '?'
        builtin printf 'hookhost: a plugin could not set %s: bash has it read-only or integer\n' \
            "$1" >&2
        ;;
    *)
        builtin printf -v "$1" '%s' "$3"
        builtin printf -v "__hh_s_$1" 'S:%s' "$3"
        ;;
    esac
}

# __hh_call FUNCTION ARGS...: call a function so that the host's stop
# signal (a real-time signal, $__hh_stop_sig, never SIGINT: Ctrl-C must
# still end the session) ends the call without ending the session; the
# host sends it when a plugin's time limit passes during the call. The
# trap is (re)armed here and stays armed between calls, so a stop that
# arrives after the call returned (the host sends it until it sees the
# markers) finds nothing to stop and changes nothing. While a call runs,
# the trap marks it aborted and sets a DEBUG trap under which every
# function still running returns at its next command (the session's own
# frames finish); errexit is off while it unwinds. QUIET_LINE and
# __hh_post remove the DEBUG trap and restore the options.
__hh_call() {
    builtin trap '__hh_on_stop' "$__hh_stop_sig"
    __hh_abort=0 __hh_bounded=1
    "$@"
    builtin set -- "$?"
    __hh_bounded=0
    builtin return "$1"
}

__hh_on_stop() {
    ((__hh_bounded)) || builtin return 0
    __hh_abort=1
    builtin set +o errexit -o functrace
    builtin shopt -s extdebug
    builtin trap '__hh_unwind' DEBUG
}

# With extdebug, a DEBUG trap returning 2 makes the running function return.
# Every frame unwinds, the helpers' own (`__hh_list_without` over a huge
# list) included, but __hh_call's: it must clear __hh_bounded, or a later
# stop would unwind the next hook's functions.
__hh_unwind() {
    ((__hh_abort)) || return 0
    [[ ${FUNCNAME[1]-main} == @(main|__hh_call|__hh_on_stop|__hh_unwind) ]] && return 0
    return 2
}

# __hh_snap FILE TOKEN: write the session's variables and functions to
# FILE, ended by a line naming TOKEN (a file without it is incomplete), so
# that a session killed in a plugin's call can be restarted with the state
# it had before it (snapshot.rs filters and replays it). No fork: bash's
# own `declare` prints both in a form bash reads back. A snapshot that
# cannot be written is only missing later: it must not fail the call
# (under errexit it would end the session).
__hh_snap() {
    {
        builtin declare -p
        builtin printf '%s\n' '# hookhost functions'
        builtin declare -f
        builtin printf '# hookhost end %s\n' "$2"
    } 2>&"$__hh_null" >|"$1" || builtin return 0
}

# __hh_loop_end: the session's loop (mailbox.rs) ended. With the host's
# pipe closed, that is the end of the session. With a request still busy, a
# hook ran `break` or `continue` outside a loop of its own, which skipped
# the rest of its request, markers included: say so and end the session
# (DevStack's own loop would silently have skipped the hooks after it).
__hh_loop_end() {
    if [[ $__hh_busy != 0 ]]; then
        command exec 2>&"$__hh_err"
        builtin printf 'hookhost: %s ran `break` or `continue` outside a loop; the bash session cannot go on\n' \
            "${__hh_current-a request}" >&2
        builtin exit 70
    fi
    builtin exit 0
}

# __hh_conf NAME VALUE: assign one configuration variable at startup.
__hh_conf() {
    if ! builtin printf -v "$1" '%s' "$2"; then
        builtin printf 'hookhost: cannot set %s from the configuration\n' "$1" >&2
        __hh_conf_failed=1
    fi
}

__hh_conf_failed=0 __hh_bounded=0
__hh_main=${BASH_SOURCE[0]-}
command exec {__hh_out}>&1 {__hh_err}>&2 {__hh_nul}</dev/null {__hh_null}>/dev/null
builtin readonly __hh_main __hh_out __hh_err __hh_nul __hh_null
builtin readonly -f __hh_init __hh_reset_options __hh_post __hh_end __hh_on_err __hh_reply \
    __hh_q_get __hh_q_set __hh_q_fn __hh_assign __hh_conf __hh_call __hh_on_stop __hh_unwind \
    __hh_snap __hh_loop_end
