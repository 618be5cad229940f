//! Capabilities: what a plugin requests in its manifest, what the operator
//! grants, and the effective [`Policy`] the runtime enforces.

pub mod audit;
mod grants;
mod policy;

pub use grants::grant_hint;
pub use policy::{
    matches_any, pattern_matches, CommandGrant, DirGrant, NetGrant, Policy, DEFAULT_MEMORY,
    DEFAULT_TIMEOUT,
};
