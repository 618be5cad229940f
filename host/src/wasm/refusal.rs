//! Why a host call a plugin made did not do what it asked: the host's own
//! error type, as rich as the latest WIT version's `error` variant. Each
//! WIT version's module converts it to what its plugins understand (0.1.0:
//! the message string; 0.2.0: the typed variant).

use std::fmt;

/// A host call refused or failed (the call returns it to the plugin; a
/// broken host traps instead).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HostError {
    /// The plugin lacks a capability.
    Denied(Denied),
    /// What was named is not there.
    NotFound(String),
    /// An argument refused whatever is granted.
    Invalid(String),
    /// Permitted and valid, but it did not work.
    Failed(String),
}

/// A missing capability: which, for what, and the grant that would allow it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Denied {
    /// The manifest key (`vars-read`, `write`, `git`, ...).
    pub capability: String,
    /// What was asked for, as the plugin named it.
    pub item: String,
    /// The grant that would allow it, in the operator's words.
    pub grant: String,
    /// The whole refusal as one line.
    pub message: String,
}

impl HostError {
    /// A denial of `item` under `capability` for `hook`, with the grant
    /// (`granted` is the item as the operator would write it) and the
    /// refusal line.
    pub fn denied(
        hook: &str,
        capability: &str,
        item: &str,
        granted: &str,
        message: String,
    ) -> Self {
        HostError::Denied(Denied {
            capability: capability.to_string(),
            item: item.to_string(),
            grant: grant_hint(hook, capability, granted),
            message,
        })
    }

    /// The refusal as one line (what a 0.1.0 plugin gets).
    pub fn message(&self) -> &str {
        match self {
            HostError::Denied(d) => &d.message,
            HostError::NotFound(m) | HostError::Invalid(m) | HostError::Failed(m) => m,
        }
    }
}

impl fmt::Display for HostError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.message())
    }
}

/// How the operator grants `item` under `key` to `hook`: the hookhost.toml
/// line and, where one exists, the flag (the words `plan` uses when a
/// request is not granted). The plugin's manifest must request it as well.
pub fn grant_hint(hook: &str, key: &str, item: &str) -> String {
    crate::capabilities::grant_hint(hook, key, item)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_grant_is_written_as_the_operator_writes_it() {
        assert_eq!(
            grant_hint("50-x", "write", "etc/x"),
            "[grants.x] write = [\"etc/x\"] in hookhost.toml, or --allow-write=etc/x"
        );
        assert_eq!(
            grant_hint("50-x", "git", "https://opendev.org/*"),
            "[grants.x] git = [\"https://opendev.org/*\"] in hookhost.toml"
        );
        assert!(
            grant_hint("x", "vars-read", "A").ends_with("(--allow-env=A would let it set it too)")
        );
    }
}
