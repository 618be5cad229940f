//! What a failure report adds to the reason: the output tail and the
//! advice (`= help:`) that fits the failure's cause.

use std::path::Path;

use crate::model::errors::SessionNote;
use crate::model::events::{Cause, HookFailure};
use crate::model::inert::inert;

/// The output tail as rustc shows source: a gutter of `|`.
pub(super) fn tail_lines(tail: &[String]) -> Vec<String> {
    if tail.is_empty() {
        return Vec::new();
    }
    let mut lines = vec![format!(
        "  = output (last {} line{}):",
        tail.len(),
        if tail.len() == 1 { "" } else { "s" }
    )];
    lines.extend(tail.iter().map(|l| format!("   | {}", inert(l))));
    lines
}

/// What to do next, from what failed (its cause and what the bash session
/// said in its output, never the wording of its reason): the advice that
/// fits the cause, then where the whole run is.
pub(super) fn help_for(failure: &HookFailure, entry: &str, log: Option<&Path>) -> String {
    let log = match log {
        Some(path) => format!("the whole run is in {}", path.display()),
        None => "`--log FILE` keeps the whole run".to_string(),
    };
    match advice(failure, entry) {
        Some(advice) => format!("{advice}; {log}"),
        None => log,
    }
}

/// The advice that fits `failure`'s cause, if one does.
fn advice(failure: &HookFailure, entry: &str) -> Option<String> {
    let said = |note| failure.notes.contains(&note);
    let ended = match &failure.cause {
        Cause::SessionEnded(ended) => Some(ended),
        Cause::NotCalled => return Some("its first failure in this run is reported above".into()),
        Cause::Failed => None,
    };
    if said(SessionNote::StrayBreak) {
        return Some(
            "`break` and `continue` belong inside the hook's own loops; to leave the hook early use `return`".into(),
        );
    }
    let Some(ended) = ended else {
        return Some(format!("fix the hook, then run `hookhost {entry}` again"));
    };
    if let Some(signal) = ended.signal {
        return Some(format!(
            "signal {signal} killed the bash session (a `kill` from a hook or from \
             outside, or the out-of-memory killer): nothing in bash can catch it"
        ));
    }
    // DevStack's own `die` (its `[ERROR] file:line` message) stopped the
    // hook on purpose, as it stopped stack.sh: the message says why.
    if said(SessionNote::Died) {
        return Some("the [ERROR] line above says why the hook stopped (DevStack's `die`)".into());
    }
    // Under errexit the session's ERR trap names the failing command.
    if said(SessionNote::CommandFailed) {
        return Some(
            "the `hookhost:` line above names the command that failed and its line; \
             stack.sh's errexit stops at the first failing command"
                .into(),
        );
    }
    if said(SessionNote::Returned) {
        return Some(
            "the hook returned a non-zero status, which stops the run under errexit \
             as it stops stack.sh; end it with `return 0` when it succeeded"
                .into(),
        );
    }
    if said(SessionNote::BashError) {
        return Some(
            "bash stopped at its own error above (an unset variable under `set -u`, \
             `${VAR:?}`), which ends a non-interactive shell; fix that line"
                .into(),
        );
    }
    // Nothing said why: the hook itself ended the shell.
    Some("a bash hook is sourced into the run's shared shell: use `return N`, not `exit N` or `exec`".into())
}
