//! Capabilities: what a plugin requests in its manifest, what the operator
//! grants, and the effective [`Policy`] the runtime enforces.

pub mod audit;
mod grants;
mod policy;

pub use crate::config::operator::{GrantFlags, GrantSet, OperatorConfig};

pub use policy::{
    matches_any, pattern_matches, CommandGrant, DirGrant, NetGrant, Policy, DEFAULT_MEMORY,
    DEFAULT_TIMEOUT,
};

/// Limits are shown as an operator writes them in a manifest (`30s`, `64MiB`).
pub use crate::model::units::{show_limit as show_duration, show_size};
