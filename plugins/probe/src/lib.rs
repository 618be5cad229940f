//! Test fixture for hookhost's integration tests (not shipped in the demo).
//!
//! Every phase prints `probe <id> <phase>`, where `<id>` is the hook's stem
//! (the host puts it in the guest's environment as `HOOKHOST_HOOK`) and
//! `<phase>` is DevStack's arguments joined by a space (`source`,
//! `stack pre-install`, ..., `unstack`, `clean`, `override_defaults`).
//! It needs no grant for that, so it also runs without a manifest.
//! Then, when the variable equals `<phase>`:
//!
//! - `PROBE_FAIL`: returns the error `probe failed on purpose in <phase>`;
//! - `PROBE_PANIC`: panics with `probe panicked in <phase>`;
//! - `PROBE_DIE`: calls `die("probe died in <phase>")`.
//!
//! In `stack install`, if `PROBE_COPY_FROM` names a variable, copies its
//! value into `PROBE_COPY_TO` (default `PROBE_COPIED`); an unset (or
//! unreadable) source is an error. In `stack extra`, if `PROBE_CALL` names a
//! shell function, calls it with the argument `from-probe` and stores its exit
//! status in `PROBE_CALL_STATUS`.
//!
//! Each phase is a separate `Hook` method, so the trace also checks the SDK's
//! phase dispatch.

use hookhost_sdk::prelude::*;

#[derive(Default)]
struct Probe;

/// `name`'s value, treating empty as unset.
fn var(name: &str) -> Option<String> {
    get_var(name).filter(|v| !v.is_empty())
}

impl Probe {
    fn record(&mut self, phase: &str) -> Result {
        let id = std::env::var("HOOKHOST_HOOK").unwrap_or_else(|_| "probe".to_string());
        println!("probe {id} {phase}");

        let is = |switch: &str| var(switch).as_deref() == Some(phase);
        if is("PROBE_FAIL") {
            bail!("probe failed on purpose in {phase}");
        }
        if is("PROBE_PANIC") {
            panic!("probe panicked in {phase}");
        }
        if is("PROBE_DIE") {
            die(format!("probe died in {phase}"));
        }
        Ok(())
    }

    /// bash -> WASM -> bash variable hand-over.
    fn copy_var(&mut self) -> Result {
        let Some(from) = var("PROBE_COPY_FROM") else {
            return Ok(());
        };
        let to = var("PROBE_COPY_TO").unwrap_or_else(|| "PROBE_COPIED".to_string());
        let value = get_var(&from)
            .with_context(|| format!("probe: variable {from} is unset or not readable"))?;
        set_var(&to, value)
    }

    /// WASM -> bash function call.
    fn call(&mut self) -> Result {
        let Some(function) = var("PROBE_CALL") else {
            return Ok(());
        };
        let status = call_function(&function, &["from-probe"])?;
        set_var("PROBE_CALL_STATUS", status.to_string())
    }
}

impl Hook for Probe {
    fn override_defaults(&mut self) -> Result {
        self.record("override_defaults")
    }

    fn source(&mut self) -> Result {
        self.record("source")
    }

    fn pre_install(&mut self) -> Result {
        self.record("stack pre-install")
    }

    fn install(&mut self) -> Result {
        self.record("stack install")?;
        self.copy_var()
    }

    fn post_config(&mut self) -> Result {
        self.record("stack post-config")
    }

    fn extra(&mut self) -> Result {
        self.record("stack extra")?;
        self.call()
    }

    fn test_config(&mut self) -> Result {
        self.record("stack test-config")
    }

    fn unstack(&mut self) -> Result {
        self.record("unstack")
    }

    fn clean(&mut self) -> Result {
        self.record("clean")
    }
}

export_hook!(Probe);
