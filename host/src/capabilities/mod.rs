//! Capabilities: what a plugin requests in its manifest, what the operator
//! grants, and the effective [`Policy`] the runtime enforces.

mod advice;
pub mod audit;
mod grants;
mod policy;

pub use advice::grant_hint;
pub use policy::{
    matches_any, pattern_matches, CommandGrant, DirGrant, NetGrant, Policy, DEFAULT_MEMORY,
    DEFAULT_TIMEOUT,
};
