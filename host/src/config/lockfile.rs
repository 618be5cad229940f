//! `hookhost.lock` at the stack root: what each external plugin was when
//! the operator accepted it — the commit its checkout was at, a digest of
//! uncommitted changes to tracked files, and the sha256 of every file of
//! `devstack/` that hookhost sources or loads (settings, override-defaults,
//! plugin.sh, the component plugin.wasm and its manifest plugin.toml).
//!
//! ```toml
//! version = 1
//!
//! [plugins.heat]
//! url = "https://opendev.org/openstack/heat"
//! ref = "stable/2024.1"
//! commit = "8f6c0e1..."
//!
//! [plugins.heat.files]
//! "devstack/plugin.sh" = "sha256:4c1f..."
//! ```
//!
//! A plugin the lock does not know yet is recorded (trust on first use, as
//! Cargo.lock). A plugin whose state differs from its entry is refused,
//! naming what changed, until the operator accepts it (`--update-lock`).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io;
use std::path::Path;

use anyhow::Context;

use crate::model::problems::Problems;
use serde::{Deserialize, Serialize};

/// The lock file's name, at the stack root.
pub const LOCK_FILE: &str = "hookhost.lock";
/// The format version written and understood.
const VERSION: u32 = 1;

const HEADER: &str =
    "# hookhost.lock: the external plugins of this stack as the operator accepted them.\n\
# hookhost refuses a plugin whose content differs from its entry here; review the\n\
# change, then accept it with `hookhost stack --update-lock` (or `hookhost plan stack\n\
# --update-lock`, which runs nothing). Written by hookhost: do not edit by hand.\n\n";

/// The whole lock file.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Lock {
    pub version: u32,
    #[serde(default)]
    pub plugins: BTreeMap<String, LockedPlugin>,
}

/// One plugin as it was accepted.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct LockedPlugin {
    pub url: String,
    #[serde(rename = "ref", default, skip_serializing_if = "Option::is_none")]
    pub git_ref: Option<String>,
    pub commit: String,
    /// `sha256:` of `git diff HEAD` when tracked files had uncommitted changes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub local_changes: Option<String>,
    /// `sha256:<hex>` per file, by its path in the plugin repository.
    #[serde(default)]
    pub files: BTreeMap<String, String>,
}

impl Lock {
    /// Read the lock file; a missing file is an empty lock.
    pub fn load(path: &Path) -> anyhow::Result<Lock> {
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return Ok(Lock {
                    version: VERSION,
                    ..Lock::default()
                })
            }
            Err(e) => return Err(e).with_context(|| format!("{}: cannot read", path.display())),
        };
        let lock: Lock = toml::from_str(&text).map_err(|e| {
            let mut problem = crate::config::manifest::toml_problem(path, &text, &e)
                .advise("fix it, or delete it to record the plugins again");
            problem.message = format!("not a valid lock file: {}", problem.message);
            anyhow::Error::new(Problems::from(problem))
        })?;
        if lock.version != VERSION {
            anyhow::bail!(
                "{}: lock file version {} is not one this hookhost reads ({VERSION})",
                path.display(),
                lock.version
            );
        }
        Ok(lock)
    }

    /// Write the lock file (only when its content changes).
    pub fn save(&self, path: &Path) -> anyhow::Result<()> {
        let body = toml::to_string(self).context("cannot write the lock file")?;
        let text = format!("{HEADER}{body}");
        if std::fs::read_to_string(path).ok().as_deref() == Some(text.as_str()) {
            return Ok(());
        }
        std::fs::write(path, text).with_context(|| format!("{}: cannot write", path.display()))
    }
}

impl LockedPlugin {
    /// What differs between the accepted state (`self`) and `now`, one
    /// phrase per difference; empty when they are the same content.
    pub fn changes(&self, now: &LockedPlugin) -> Vec<String> {
        let mut out = Vec::new();
        if self.commit != now.commit {
            out.push(format!(
                "commit {} -> {}",
                short(&self.commit),
                short(&now.commit)
            ));
        }
        if self.local_changes != now.local_changes {
            out.push(match now.local_changes {
                Some(_) => "uncommitted changes to tracked files".to_string(),
                None => "the uncommitted changes it had are gone".to_string(),
            });
        }
        let names = self.files.keys().chain(now.files.keys());
        let mut seen = Vec::new();
        for name in names {
            if seen.contains(&name) {
                continue;
            }
            seen.push(name);
            let line = match (self.files.get(name), now.files.get(name)) {
                (Some(a), Some(b)) if a != b => format!("{name} changed"),
                (Some(_), None) => format!("{name} was removed"),
                (None, Some(_)) => format!("{name} was added"),
                _ => continue,
            };
            out.push(line);
        }
        out
    }

    /// "commit abc1234" (and "+ local changes"), for messages.
    pub fn describe(&self) -> String {
        let mut text = format!("commit {}", short(&self.commit));
        if self.local_changes.is_some() {
            let _ = write!(text, " with uncommitted changes");
        }
        text
    }
}

fn short(commit: &str) -> &str {
    commit.get(..12).unwrap_or(commit)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plugin(commit: &str, file: &str) -> LockedPlugin {
        LockedPlugin {
            url: "/r".into(),
            git_ref: Some("main".into()),
            commit: commit.into(),
            local_changes: None,
            files: [("devstack/plugin.sh".to_string(), file.to_string())].into(),
        }
    }

    #[test]
    fn round_trips_through_toml() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(LOCK_FILE);
        assert_eq!(Lock::load(&path).unwrap().plugins.len(), 0);
        let mut lock = Lock::load(&path).unwrap();
        lock.plugins
            .insert("heat".into(), plugin("a".repeat(40).as_str(), "sha256:1"));
        lock.save(&path).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.starts_with("# hookhost.lock"), "{text}");
        assert!(text.contains("[plugins.heat]"), "{text}");
        assert!(text.contains("ref = \"main\""), "{text}");
        assert_eq!(Lock::load(&path).unwrap(), lock);
    }

    #[test]
    fn changes_name_what_differs() {
        let old = plugin("1111111111111111", "sha256:1");
        assert!(old.changes(&old.clone()).is_empty());
        let mut now = plugin("2222222222222222", "sha256:2");
        now.local_changes = Some("sha256:x".into());
        now.files
            .insert("devstack/settings".into(), "sha256:3".into());
        assert_eq!(
            old.changes(&now),
            [
                "commit 111111111111 -> 222222222222",
                "uncommitted changes to tracked files",
                "devstack/plugin.sh changed",
                "devstack/settings was added",
            ]
        );
    }

    #[test]
    fn a_broken_lock_names_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(LOCK_FILE);
        std::fs::write(&path, "version = 1\n[plugins.x]\nurl = 3\n").unwrap();
        let err = Lock::load(&path).unwrap_err().to_string();
        assert!(
            err.contains("hookhost.lock: not a valid lock file: line 3: invalid type"),
            "{err}"
        );
        assert!(err.contains("hookhost.lock:3:7\n"), "{err}");
        assert!(err.contains("3 | url = 3\n  |       ^"), "{err}");
    }
}
