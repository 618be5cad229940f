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
//!   variables whose value, set-ness or attributes changed since the last
//!   such reply (nothing when nothing changed);
//! - a plugin's `get-var` of a watched name is answered from the copy;
//! - its `set-var` updates the copy and is queued as an assignment that
//!   goes in front of the next request bash gets, before anything else can
//!   run there (so the next bash hook, helper or function sees it).
//!
//! Both are short: the collecting is a function generated here for the
//! session's names (one line per name, no loop or lookup by name), defined
//! once at start-up ([`Mirror::definition`]); an assignment is a call of
//! session.sh's `__hh_assign`. bash parses every byte of a request each
//! time, and at every hand-over these are most of what bash does besides
//! the hook: as inline lines they would be parsed on every request. bash
//! remembers what the host was last told of `NAME` in `__hh_s_NAME`
//! (`S<attributes>:<value>`, empty when unset) and compares it as a
//! string, so no value is ever evaluated as arithmetic, whatever a hook
//! left in those variables.
//!
//! An assignment bash must refuse is refused in bash, with a message: a
//! read-only variable, and an integer one (`declare -i`) when the value is
//! not a plain number, since bash would evaluate it as arithmetic (where
//! `a[$(cmd)]` runs `cmd`). The next sync then tells the host the value
//! bash really has.
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
    /// The watched names, valid shell names all.
    names: Vec<String>,
    /// The lines that collect the changes into `__hh_o` (built once).
    collect: Vec<u8>,
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
        for name in names {
            if framing::is_var_name(name)
                && !name.starts_with("__hh_")
                && !mirror.names.contains(name)
            {
                mirror.collect.extend(collect_line(name));
                mirror.names.push(name.clone());
            }
        }
        mirror
    }

    /// Whether there is anything to watch.
    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    /// The session function `__hh_collect`, which adds the watched
    /// variables that changed to `__hh_o`: for the start-up script.
    pub fn definition(&self) -> Vec<u8> {
        let mut s = b"__hh_collect() {\n:\n".to_vec();
        s.extend_from_slice(&self.collect);
        s.extend_from_slice(b"}\nbuiltin readonly -f __hh_collect\n");
        s
    }

    /// The sync query, given its quoted token: the changes since the last
    /// one, in one `printf` (one write), each `NAME=<state>` ended by a
    /// NUL (the one byte no shell value holds), between `TOKEN{<NUL>` and
    /// `}TOKEN<NUL>`. The first sync reports every name.
    pub fn sync_body(&self, token: &[u8]) -> Vec<u8> {
        let mut body = b"__hh_o=()\n".to_vec();
        if self.known.is_empty() {
            for name in &self.names {
                body.extend_from_slice(format!("__hh_s_{name}='?'\n").as_bytes());
            }
        }
        body.extend_from_slice(b"\\__hh_collect\n");
        body.extend_from_slice(b"builtin printf '%s\\0' ");
        let mut open = token.to_vec();
        open.insert(open.len() - 1, b'{');
        body.extend(open);
        body.extend_from_slice(b" \"${__hh_o[@]}\" ");
        let mut close = token.to_vec();
        close.insert(1, b'}');
        body.extend(close);
        body
    }

    /// Take in a sync reply: `NAME=` followed by nothing (unset) or by
    /// `S<attributes>:<value>` (set), each entry ended by a NUL.
    pub fn update(&mut self, payload: &[u8]) -> Result<()> {
        for entry in payload.split(|&b| b == 0).filter(|e| !e.is_empty()) {
            let Some(eq) = entry.iter().position(|&b| b == b'=') else {
                bail!("the bash session sent a malformed variable update");
            };
            let name = String::from_utf8_lossy(&entry[..eq]).into_owned();
            let known = match parse_state(&entry[eq + 1..]) {
                Some(known) => known,
                None => bail!("the bash session sent a malformed update of {name}"),
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
            script.extend(assign_line(&name, &value));
        }
        script
    }
}

/// `S<attributes>:<value>` or nothing (unset), as `collect_line` prints it.
fn parse_state(state: &[u8]) -> Option<Known> {
    let Some(rest) = state.strip_prefix(b"S") else {
        return state.is_empty().then_some(Known {
            value: None,
            readonly: false,
        });
    };
    let colon = rest.iter().position(|&b| b == b':')?;
    Some(Known {
        value: Some(String::from_utf8_lossy(&rest[colon + 1..]).into_owned()),
        readonly: rest[..colon].contains(&b'r'),
    })
}

/// The line that adds `NAME=<state>` to `__hh_o` when the state changed
/// since the host was last told.
fn collect_line(name: &str) -> Vec<u8> {
    format!(
        "__hh_x=${{{name}+S${{{name}@a}}:}}${{{name}-}}; [[ $__hh_x == \"${{__hh_s_{name}-}}\" ]] \
         || {{ __hh_s_{name}=$__hh_x; __hh_o+=(\"{name}=$__hh_x\"); }}\n"
    )
    .into_bytes()
}

/// The line that assigns a plugin's value to `NAME`, literally, and records
/// it as known to the host; or refuses, for a read-only variable or (for
/// anything but a plain number) an integer one, and forgets what the host
/// was told so the next sync corrects its copy (session.sh's `__hh_assign`).
fn assign_line(name: &str, value: &str) -> Vec<u8> {
    let number = {
        let digits = value.strip_prefix(['-', '+']).unwrap_or(value);
        !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())
    };
    let refused = if number { "'*r*'" } else { "'*[ri]*'" };
    let mut line = format!("\\__hh_assign {name} {refused} ").into_bytes();
    line.extend(quote(value.as_bytes()));
    line.push(b'\n');
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn updates_track_value_set_ness_and_read_only() {
        let mut mirror = Mirror::new(&["A".into(), "B".into(), "C".into()]);
        mirror.update(b"A=S:one=two:x\0B=\0C=Srx:fixed\0").unwrap();
        assert_eq!(mirror.get("A"), Some(Some("one=two:x".into())));
        assert_eq!(mirror.get("B"), Some(None));
        assert_eq!(mirror.get("D"), None);
        let err = mirror.set("C", "x").unwrap_err();
        assert_eq!(err.to_string(), "cannot set C: it is a read-only variable");
        assert!(mirror.set("B", "first").unwrap());
        assert!(mirror.set("A", "a").unwrap());
        assert!(mirror.set("B", "it's").unwrap());
        assert_eq!(mirror.get("B"), Some(Some("it's".into())));
        let queued = String::from_utf8(mirror.take_queued()).unwrap();
        let lines: Vec<&str> = queued.lines().collect();
        assert_eq!(lines.len(), 2, "{queued}");
        assert_eq!(lines[0], "\\__hh_assign B '*[ri]*' 'it'\\''s'");
        assert_eq!(lines[1], "\\__hh_assign A '*[ri]*' 'a'");
        assert!(mirror.take_queued().is_empty());
        assert!(!mirror.set("D", "x").unwrap());
        // A plain number may go to an integer variable.
        mirror.set("A", "-42").unwrap();
        let queued = String::from_utf8(mirror.take_queued()).unwrap();
        assert_eq!(queued, "\\__hh_assign A '*r*' '-42'\n");
    }

    #[test]
    fn invalid_and_reserved_names_are_not_watched_and_bad_updates_refused() {
        let mirror = Mirror::new(&[
            "OK".into(),
            "no-dash".into(),
            "__hh_top".into(),
            "OK".into(),
        ]);
        assert_eq!(mirror.names, ["OK"]);
        let body = String::from_utf8(mirror.sync_body(b"'T'")).unwrap();
        assert_eq!(
            body,
            "__hh_o=()\n__hh_s_OK='?'\n\\__hh_collect\n\
             builtin printf '%s\\0' 'T{' \"${__hh_o[@]}\" '}T'"
        );
        let definition = String::from_utf8(mirror.definition()).unwrap();
        assert!(
            definition.starts_with("__hh_collect() {\n:\n__hh_x=${OK+S${OK@a}:}${OK-}; "),
            "{definition}"
        );
        assert!(
            body.ends_with("builtin printf '%s\\0' 'T{' \"${__hh_o[@]}\" '}T'"),
            "{body}"
        );
        assert!(Mirror::new(&[]).is_empty());
        let mut mirror = Mirror::new(&["A".into()]);
        assert!(mirror.update(b"A\0").is_err());
        assert!(mirror.update(b"A=X\0").is_err());
        assert!(mirror.update(b"A=Sr\0").is_err());
    }
}
