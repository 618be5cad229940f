//! Test fixture for WIT 0.2.0 (`hookhost_sdk::v0_2`), not shipped.
//!
//! Every phase prints `configurer <phase>`. Then:
//!
//! - `source`: for each name in `CONFIGURER_PEEK` (space-separated),
//!   prints `get-var NAME: set VALUE`, `get-var NAME: unset` or
//!   `get-var NAME: denied CAPABILITY / GRANT`;
//! - `stack post-config`: copies `PROBE_COPIED` (which a 0.1.0 plugin set
//!   earlier in the run) into `CONFIGURER_SAW` when it may read it, then runs the INI edits in
//!   `CONFIGURER_EDITS`: one per line, fields separated by `\x1f` (so that
//!   any value, with blanks, quotes or `=`, passes through):
//!   `set FILE SECTION KEY VALUE`, `multi FILE SECTION KEY V1 V2...`,
//!   `comment FILE SECTION KEY`, `get FILE SECTION KEY`,
//!   `has FILE SECTION KEY`, `clone URL DEST [REF]`,
//!   `pkg NAME...` (is-package-installed). Each prints `edit N: ok`, `edit N: value ...`,
//!   or `edit N: denied CAPABILITY ITEM / GRANT` (`not-found`, `invalid`,
//!   `failed` with the message).

use hookhost_sdk::v0_2::prelude::*;

#[derive(Default)]
struct Configurer;

/// A host error as one line of the fixture's output.
fn show(e: &HostError) -> String {
    match e {
        HostError::Denied {
            capability,
            item,
            grant,
            ..
        } => format!("denied {capability} {item} / {grant}"),
        HostError::NotFound(m) => format!("not-found {m}"),
        HostError::Invalid(m) => format!("invalid {m}"),
        HostError::Failed(m) => format!("failed {m}"),
    }
}

fn peek() -> Result {
    let names = get_var("CONFIGURER_PEEK")?.unwrap_or_default();
    for name in names.split_whitespace() {
        match get_var(name) {
            Ok(Some(value)) => println!("get-var {name}: set {value}"),
            Ok(None) => println!("get-var {name}: unset"),
            Err(e) => println!("get-var {name}: {}", show(&e)),
        }
    }
    Ok(())
}

/// Run one edit; what it answered, as a line.
fn edit(fields: &[&str]) -> String {
    let answer = match fields {
        ["set", file, section, key, value] => iniset(file, section, key, value).map(|()| None),
        ["multi", file, section, key, values @ ..] => {
            iniset_multiline(file, section, key, values).map(|()| None)
        }
        ["comment", file, section, key] => inicomment(file, section, key).map(|()| None),
        ["get", file, section, key] => iniget(file, section, key).map(|v| Some(format!("{v:?}"))),
        ["has", file, section, key] => {
            ini_has_option(file, section, key).map(|b| Some(b.to_string()))
        }
        ["pkg", names @ ..] => is_package_installed(names).map(|b| Some(b.to_string())),
        ["clone", url, dest] => git_clone(url, dest, None).map(|()| None),
        ["clone", url, dest, reference] => git_clone(url, dest, Some(reference)).map(|()| None),
        _ => return format!("bad edit {fields:?}"),
    };
    match answer {
        Ok(None) => "ok".to_string(),
        Ok(Some(value)) => format!("value {value}"),
        Err(e) => show(&e),
    }
}

fn edits() -> Result {
    let edits = get_var("CONFIGURER_EDITS")?.unwrap_or_default();
    for (n, line) in edits.lines().enumerate() {
        let fields: Vec<&str> = line.split('\x1f').collect();
        println!("edit {}: {}", n + 1, edit(&fields));
    }
    Ok(())
}

impl Configurer {
    fn record(&self, phase: &str) {
        println!("configurer {phase}");
    }
}

impl Hook for Configurer {
    fn override_defaults(&mut self) -> Result {
        self.record("override_defaults");
        Ok(())
    }

    fn source(&mut self) -> Result {
        self.record("source");
        peek()
    }

    fn pre_install(&mut self) -> Result {
        self.record("stack pre-install");
        Ok(())
    }

    fn install(&mut self) -> Result {
        self.record("stack install");
        Ok(())
    }

    fn post_config(&mut self) -> Result {
        self.record("stack post-config");
        // A test that does not grant it gets no hand-over, not a failure.
        match get_var("PROBE_COPIED") {
            Ok(Some(seen)) => set_var("CONFIGURER_SAW", seen)?,
            Ok(None) => {}
            Err(e) if e.is_denied() => {}
            Err(e) => return Err(e.into()),
        }
        edits()
    }

    fn extra(&mut self) -> Result {
        self.record("stack extra");
        Ok(())
    }

    fn test_config(&mut self) -> Result {
        self.record("stack test-config");
        Ok(())
    }

    fn unstack(&mut self) -> Result {
        self.record("unstack");
        Ok(())
    }

    fn clean(&mut self) -> Result {
        self.record("clean");
        Ok(())
    }
}

export_hook!(Configurer);
