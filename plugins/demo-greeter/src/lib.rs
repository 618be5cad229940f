//! Demo hook: a variable and a function handed between bash and WASM.
//!
//! Acts only when the `greeter` service is enabled.
//!
//! - `stack install`: reads `GREETING_NAME` (set by an earlier bash hook;
//!   `world` with a warning if unset) and sets `GREETING="Hello, <name>"` for
//!   later hooks.
//! - `stack post-config`: calls the bash function `render_motd "$GREETING"`
//!   (defined by a bash hook in `source`); a non-zero status fails the hook.
//!
//! Built for WIT 0.2.0 (`hookhost_sdk::v0_2`): a `GREETING_NAME` it may
//! not read fails the hook instead of reading as unset.

use hookhost_sdk::v0_2::prelude::*;

#[derive(Default)]
struct Greeter {
    /// Set in `stack install`, used in `stack post-config`.
    greeting: Option<String>,
}

impl Hook for Greeter {
    fn install(&mut self) -> Result {
        if !is_service_enabled("greeter") {
            return Ok(());
        }
        let name = match get_var("GREETING_NAME")?.filter(|n| !n.is_empty()) {
            Some(name) => name,
            None => {
                warn("GREETING_NAME is not set; greeting the world");
                "world".to_string()
            }
        };
        let greeting = format!("Hello, {name}");
        echo_summary(format!("Greeter: GREETING={greeting}"));
        set_var("GREETING", &greeting)?;
        self.greeting = Some(greeting);
        Ok(())
    }

    fn post_config(&mut self) -> Result {
        if !is_service_enabled("greeter") {
            return Ok(());
        }
        // Kept from `stack install`: the component lives for the whole run.
        let Some(greeting) = self.greeting.as_deref() else {
            bail!("no greeting: stack install did not run");
        };
        echo_summary("Greeter: rendering the motd");
        let status = call_function("render_motd", &[greeting])?;
        if status != 0 {
            bail!("render_motd exited with status {status}");
        }
        Ok(())
    }
}

export_hook!(Greeter);
