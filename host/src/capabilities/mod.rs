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

use std::time::Duration;

/// A duration as an operator writes it in a manifest (`30s`, `250ms`, `2m`).
pub fn show_duration(d: Duration) -> String {
    let ms = d.as_millis();
    if ms.is_multiple_of(60_000) && ms > 0 {
        format!("{}m", ms / 60_000)
    } else if ms.is_multiple_of(1000) {
        format!("{}s", ms / 1000)
    } else {
        format!("{ms}ms")
    }
}

/// A size as an operator writes it in a manifest (`64MiB`).
pub fn show_size(bytes: u64) -> String {
    const UNITS: [(u64, &str); 3] = [(1 << 30, "GiB"), (1 << 20, "MiB"), (1 << 10, "KiB")];
    UNITS
        .iter()
        .find(|(unit, _)| bytes >= *unit && bytes.is_multiple_of(*unit))
        .map(|(unit, name)| format!("{}{name}", bytes / unit))
        .unwrap_or_else(|| format!("{bytes}B"))
}
