//! Benchmark fixture: hands one variable on in every phase.
//!
//! Reads `RELAY_IN` (which the bash hook before it set) and writes its value
//! to `RELAY_OUT` (which the bash hook after it reads), so each bash↔WASM
//! hand-over of `cargo bench --bench stack` carries a variable both ways,
//! as the "hand-over, including the variable sync" row asks (BENCHMARKS.md).
//! Its manifest requests exactly those two variables: `relay.toml`.

use hookhost_sdk::prelude::*;

#[derive(Default)]
struct Relay;

/// Copy `RELAY_IN` to `RELAY_OUT` (empty when unset).
fn pass_on() -> Result {
    set_var("RELAY_OUT", get_var("RELAY_IN").unwrap_or_default())
}

impl Hook for Relay {
    fn source(&mut self) -> Result {
        pass_on()
    }

    fn pre_install(&mut self) -> Result {
        pass_on()
    }

    fn install(&mut self) -> Result {
        pass_on()
    }

    fn post_config(&mut self) -> Result {
        pass_on()
    }

    fn extra(&mut self) -> Result {
        pass_on()
    }

    fn unstack(&mut self) -> Result {
        pass_on()
    }

    fn clean(&mut self) -> Result {
        pass_on()
    }
}

export_hook!(Relay);
