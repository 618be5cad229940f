//! The vocabulary every layer shares: phases and entry points, the name
//! grammars a value must pass before it reaches bash, the size limits on
//! anything a plugin hands the host, inert text for terminals and logs, the
//! events a run reports to its observers, the errors that cross layers,
//! how durations, sizes and times are shown, the hook files every layer
//! talks about, and the problems that refuse a stack.

pub(crate) mod errors;
pub mod events;
pub(crate) mod held;
pub mod hooks;
pub(crate) mod inert;
pub(crate) mod limits;
pub(crate) mod names;
pub mod phases;
pub mod problems;
pub(crate) mod shell;
pub mod snippet;
pub(crate) mod suggest;
pub(crate) mod truth;
pub(crate) mod units;
