//! Errors that cross layers as types: raised by one layer (the bash
//! session, the variable space), acted on by another (the WebAssembly host
//! functions, the reporter's advice). A layer that needs to know what went
//! wrong downcasts or matches one of these, never the wording of a message.

use thiserror::Error;

/// A function called with a deadline (`BashSession::set_deadline`) was
/// still running at the deadline and was stopped.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{function} was stopped at its deadline")]
pub struct DeadlinePassed {
    pub function: String,
}

/// Bash refused a value for a variable it holds read-only, or as an
/// integer (`declare -i`) when the value is not a plain number: bash
/// evaluates every value assigned to an integer variable as arithmetic,
/// where `a[$(cmd)]` runs `cmd`.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{}", set_refused_message(.name, *.integer))]
pub struct SetRefused {
    pub name: String,
    /// An integer variable (else a read-only one).
    pub integer: bool,
}

fn set_refused_message(name: &str, integer: bool) -> String {
    match integer {
        true => format!(
            "cannot set {name}: bash has it as an integer variable and the value is not a number"
        ),
        false => format!("cannot set {name}: it is a read-only variable"),
    }
}

/// The bash session ended (a hook or function ran `exit`, errexit fired,
/// bash was killed).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub struct SessionEnded {
    /// bash's exit status, when it exited.
    pub status: Option<i32>,
    /// The signal that killed bash, if one did.
    pub signal: Option<i32>,
}

impl std::fmt::Display for SessionEnded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (self.signal, self.status) {
            (Some(signal), _) => write!(f, "ended the bash session (killed by signal {signal})"),
            (None, Some(status)) => write!(f, "ended the bash session (exit status {status})"),
            (None, None) => f.write_str("ended the bash session (exit status unknown)"),
        }
    }
}

/// A call into the bash session ended the session: `what` (a function,
/// `sourcing the driver`) and how it ended.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{what} {ended}")]
pub struct CallEndedSession {
    pub what: String,
    pub ended: SessionEnded,
}

/// What the bash session itself says in a hook's output (its own lines,
/// not the hook's), which decides the advice for a failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionNote {
    /// errexit's trap named the command that failed.
    CommandFailed,
    /// The hook ran `break` or `continue` outside a loop of its own.
    StrayBreak,
    /// DevStack's `die` (or `err`) printed its `[ERROR] file:line` message.
    Died,
    /// The hook (or function) returned a non-zero status, which errexit
    /// turned into the end of the session.
    Returned,
    /// Bash itself stopped at an error of its own (`FILE: line N: ...`:
    /// an unbound variable under `set -u`, `${VAR:?}`), which ends a
    /// non-interactive shell.
    BashError,
}
