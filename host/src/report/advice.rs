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
/// said in its output, never the wording of its reason).
pub(super) fn help_for(failure: &HookFailure, entry: &str, log: Option<&Path>) -> String {
    let log = match log {
        Some(path) => format!("the whole run is in {}", path.display()),
        None => "`--log FILE` keeps the whole run".to_string(),
    };
    let said = |note| failure.notes.contains(&note);
    let ended = match &failure.cause {
        Cause::SessionEnded(ended) => Some(ended),
        _ => None,
    };
    if said(SessionNote::StrayBreak) {
        return format!(
            "`break` and `continue` belong inside the hook's own loops; to leave the hook early use `return`; {log}"
        );
    }
    // DevStack's own `die` (its `[ERROR] file:line` message) stopped the
    // hook on purpose, as it stopped stack.sh: the message says why.
    if said(SessionNote::Died) && ended.is_some() {
        return format!(
            "the [ERROR] line above says why the hook stopped (DevStack's `die`); {log}"
        );
    }
    // Under errexit the session's ERR trap names the failing command; without
    // that line, the hook itself ended the shell.
    let by_hook = ended.is_some_and(|e| e.signal.is_none());
    if by_hook && !said(SessionNote::CommandFailed) {
        return format!(
            "a bash hook is sourced into the run's shared shell: use `return N`, not `exit N` or `exec`; {log}"
        );
    }
    if failure.cause == Cause::NotCalled {
        return format!("its first failure in this run is reported above; {log}");
    }
    format!("fix the hook, then run `hookhost {entry}` again; {log}")
}
