# protocol.sh - the fixed shell text of hookhost's bash session protocol.
#
# This file is never sourced as a whole: the host sends each block below
# (from a `#@ NAME` line to the next) as part of a script, in the places
# this header describes. Comment lines are dropped; `@NAME@` is replaced by
# the host. Read it with session.sh, which defines the functions called here.
#
# The conversation, in order:
#
# 1. The host starts `bash -s`-like with its script on a pipe (fd 255 in
#    bash). bash reads a pipe one byte per read(2), so the pipe carries only
#    one short start-up line: `__hh_req=<request file>` then `setup`. It
#    opens the session's private request file and runs the first request in
#    it, which defines `__hh_go` (the text of `go`) and enters `loop`.
# 2. Each later request is appended to the request file, ended by a NUL (no
#    shell text holds one), and announced by one byte on the pipe: `m` (read
#    it from the file) or `p` (it follows on the pipe, NUL-ended: the
#    fallback when no private directory could be made). `loop` reads the
#    byte, `go` reads the request up to its NUL and evals it at top level,
#    as if it had come down the pipe: hooks are sourced outside any function.
# 3. A request that runs shell code (session.sh's header shows its shape)
#    names itself (`__hh_current`), runs its body (source a hook, call a
#    function), keeps the status and quiets the session (`quiet`), prints
#    the end markers with a token fresh per request (`__hh_end TOKEN`),
#    syncs the variables that changed (`__hh_collect`, see mirror.rs),
#    restores what a hook may have changed (`__hh_post`), and ends with
#    `request_end`, which lets `loop` read the next byte. A query (the
#    session's own `__hh_q_*` functions) has neither markers nor restore:
#    its reply ends it.
# 4. When the request file has grown large, or held secrets, the host
#    appends `switch` to the old file: bash closes it, opens the new one
#    and runs `go` on it; the old file is removed.
# 5. The host closes the pipe: `loop` ends and `__hh_loop_end` exits. A
#    hook that ran `break` or `continue` outside a loop of its own reaches
#    `loop` and ends it with the request still busy: `__hh_loop_end` says so
#    and exits with status 70, as does a request that cannot be read or does
#    not parse, so the host never waits for markers that cannot come.

#@ setup
# After `__hh_req=<quoted path>; `; one line, read a byte at a time.
command exec {__hh_rq}<"$__hh_req"; builtin readonly __hh_req; IFS= builtin read -r -d '' -u "$__hh_rq" __hh_b && builtin eval "$__hh_b"; builtin exit 70

#@ go
# Read one request up to its NUL, from the request file for `m`, from the
# pipe for `p`, and run it at top level. A request ends with
# `__hh_busy=0`, whose status is 0, so eval fails only when the request
# did not parse; the rest of it, its markers included, then never runs.
# `TMOUT=` keeps a hook's TMOUT from timing out the session's reads.
__hh_b=
if [[ $__hh_c == m ]]; then
    TMOUT= IFS= builtin read -r -d '' -u "$__hh_rq" __hh_b || __hh_b=
else
    TMOUT= IFS= builtin read -r -d '' -u 255 __hh_b || __hh_b=
fi
[[ -n $__hh_b ]] || { builtin printf 'hookhost: cannot read the request\n' >&2; builtin exit 70; }
builtin eval "$__hh_b" || { builtin printf 'hookhost: a request did not parse (status %d)\n' "$?" >&2; builtin exit 70; }

#@ loop
# One byte per request. Before it blocks on the pipe it polls it @POLLS@
# times (`read -t 0`): a request sent meanwhile is taken without the cost
# of waking a sleeping process on another core (no polling on one core,
# where it only delays the host). `go` is written into the loop's body,
# not eval'ed from `__hh_go`: the loop is parsed once, not once a request.
__hh_busy=0
while [[ $__hh_busy == 0 ]] && {
    for ((__hh_n = 0; __hh_n < @POLLS@; __hh_n++)); do builtin read -t 0 -u 255 && break; done
    TMOUT= builtin read -r -N 1 -u 255 __hh_c
}; do
    __hh_busy=1
@GO@
done
__hh_loop_end

#@ switch
# Appended to the old request file: open the new one, read from it.
command exec {__hh_rq}<&-; command exec {__hh_rq}<"$__hh_req"; builtin eval "$__hh_go"

#@ quiet
# After a request's body: keep its status, reset the DEBUG, RETURN and ERR
# traps a hook may set (only at top level are they cleared for good: bash
# puts DEBUG and RETURN back when a function that reset them returns),
# turn xtrace and verbose off. stderr is hidden meanwhile, so a hook's
# xtrace traces neither this line nor the marker line after it, which
# holds the token. Backslashes defeat a hook's aliases.
{ __hh_st=$?; \builtin trap - DEBUG RETURN ERR; \builtin set +xv; } 2>&"$__hh_null"

#@ request_end
# The last line of every request: `loop` may read the next byte.
__hh_busy=0
