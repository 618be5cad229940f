//! The host's copy of the variables WASM plugins may touch.
//!
//! The session is the one variable space (bash hooks assign with plain
//! shell syntax), but asking bash for each variable a plugin reads costs a
//! round trip, and a plugin reads at every hand-over. So the session is told
//! up front which variables are *watched* (every name a plugin of the run
//! was granted, globs aside), and keeps the host's copy of them current:
//!
//! - after each request that runs shell code (a batch of hooks, a function
//!   call, the start-up), bash appends one reply listing the watched
//!   variables whose value, set-ness or read-only flag changed since the
//!   last such reply (`__hh_q_sync`, nothing when nothing changed);
//! - a plugin's `get-var` of a watched name is answered from the copy;
//! - its `set-var` updates the copy and is queued as an assignment that
//!   goes in front of the next request bash gets, before anything else can
//!   run there (so the next bash hook, helper or function sees it).
//!
//! Names outside the watch list (a glob grant) still go to bash one query at
//! a time, after the queued assignments.

use std::collections::HashMap;

use anyhow::{bail, Result};

use super::framing::{self, quote, quote_checked};

/// What the host knows of one watched variable.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Known {
    value: Option<String>,
    readonly: bool,
}

/// The watched variables: their names and last known state, and the
/// assignments not yet sent.
#[derive(Default)]
pub struct Mirror {
    /// The sync request's arguments (the quoted names), built once.
    names: Vec<u8>,
    known: HashMap<String, Known>,
    /// Assignments not sent yet, in order; a name set again keeps its
    /// place and takes the new value (only the last one matters).
    queued: Vec<(String, String)>,
}

impl Mirror {
    /// Watch `names`; invalid names and the session's own `__hh_*` are
    /// left out (they go to bash one query at a time).
    pub fn new(names: &[String]) -> Mirror {
        let mut mirror = Mirror::default();
        let mut seen = std::collections::HashSet::new();
        for name in names {
            if framing::is_var_name(name) && !name.starts_with("__hh_") && seen.insert(name) {
                mirror.names.push(b' ');
                mirror.names.extend(quote(name.as_bytes()));
            }
        }
        mirror
    }

    /// Whether there is anything to watch.
    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    /// The body of the sync query, given its quoted token.
    pub fn sync_body(&self, token: &[u8]) -> Vec<u8> {
        let mut body = b"__hh_q_sync ".to_vec();
        body.extend_from_slice(token);
        body.extend_from_slice(&self.names);
        body
    }

    /// Take in a sync reply: `NAME=<flag><value>` entries, each ended by a
    /// NUL; flag `S` set, `R` set and read-only, `U` unset.
    pub fn update(&mut self, payload: &[u8]) -> Result<()> {
        for entry in payload.split(|&b| b == 0).filter(|e| !e.is_empty()) {
            let Some(eq) = entry.iter().position(|&b| b == b'=') else {
                bail!("the bash session sent a malformed variable update");
            };
            let name = String::from_utf8_lossy(&entry[..eq]).into_owned();
            let value = || String::from_utf8_lossy(&entry[eq + 2..]).into_owned();
            let known = match entry.get(eq + 1) {
                Some(b'S') => Known {
                    value: Some(value()),
                    readonly: false,
                },
                Some(b'R') => Known {
                    value: Some(value()),
                    readonly: true,
                },
                Some(b'U') => Known {
                    value: None,
                    readonly: false,
                },
                _ => bail!("the bash session sent a malformed update of {name}"),
            };
            self.known.insert(name, known);
        }
        Ok(())
    }

    /// The value of a watched variable; None (outer) when it is not watched.
    pub fn get(&self, name: &str) -> Option<Option<String>> {
        self.known.get(name).map(|k| k.value.clone())
    }

    /// Assign a watched variable: the copy now, bash with the next request.
    /// Returns false when `name` is not watched (the caller asks bash).
    pub fn set(&mut self, name: &str, value: &str) -> Result<bool> {
        let Some(known) = self.known.get_mut(name) else {
            return Ok(false);
        };
        if known.readonly {
            bail!("cannot set {name}: it is a read-only variable");
        }
        quote_checked(value.as_bytes(), "the value")?;
        known.value = Some(value.to_string());
        match self.queued.iter_mut().find(|(queued, _)| queued == name) {
            Some(entry) => entry.1 = value.to_string(),
            None => self.queued.push((name.to_string(), value.to_string())),
        }
        Ok(true)
    }

    /// The queued assignments, as script lines, to run before the next
    /// request; the queue is empty afterwards.
    pub fn take_queued(&mut self) -> Vec<u8> {
        let mut script = Vec::new();
        for (name, value) in std::mem::take(&mut self.queued) {
            script.extend_from_slice(b"__hh_q_assign ");
            script.extend(quote(name.as_bytes()));
            script.push(b' ');
            script.extend(quote(value.as_bytes()));
            script.push(b'\n');
        }
        script
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn updates_track_value_set_ness_and_read_only() {
        let mut mirror = Mirror::new(&["A".into(), "B".into(), "C".into()]);
        mirror.update(b"A=Sone=two\0B=U\0C=Rfixed\0").unwrap();
        assert_eq!(mirror.get("A"), Some(Some("one=two".into())));
        assert_eq!(mirror.get("B"), Some(None));
        assert_eq!(mirror.get("D"), None);
        let err = mirror.set("C", "x").unwrap_err();
        assert_eq!(err.to_string(), "cannot set C: it is a read-only variable");
        assert!(mirror.set("B", "first").unwrap());
        assert!(mirror.set("A", "a").unwrap());
        assert!(mirror.set("B", "it's").unwrap());
        assert_eq!(mirror.get("B"), Some(Some("it's".into())));
        assert_eq!(
            mirror.take_queued(),
            b"__hh_q_assign 'B' 'it'\\''s'\n__hh_q_assign 'A' 'a'\n"
        );
        assert!(mirror.take_queued().is_empty());
        assert!(!mirror.set("D", "x").unwrap());
    }

    #[test]
    fn invalid_and_reserved_names_are_not_watched_and_bad_updates_refused() {
        let mirror = Mirror::new(&["OK".into(), "no-dash".into(), "__hh_top".into()]);
        assert_eq!(mirror.sync_body(b"T"), b"__hh_q_sync T 'OK'");
        assert!(Mirror::new(&[]).is_empty());
        let mut mirror = Mirror::new(&["A".into()]);
        assert!(mirror.update(b"A\0").is_err());
        assert!(mirror.update(b"A=X\0").is_err());
    }
}
