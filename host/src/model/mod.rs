//! The vocabulary every layer shares: phases and entry points, the name
//! grammars a value must pass before it reaches bash, the size limits on
//! anything a plugin hands the host, and inert text for terminals and logs.

pub mod hooks;
pub mod inert;
pub mod limits;
pub mod names;
pub mod phases;
