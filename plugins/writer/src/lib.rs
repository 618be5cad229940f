//! Benchmark fixture: a hook that writes one small file in every `stack`
//! step, so the benchmark can set a WASM plugin's file write beside a bash
//! hook's `printf > file` (`cargo bench --bench stack`, see BENCHMARKS.md).
//!
//! Each step writes 1 KiB to `/data/<hook>-<step>` (its private directory:
//! no grant needed), replacing what the last run left.

use hookhost_sdk::prelude::*;

#[derive(Default)]
struct Writer;

/// The bytes every write puts down: 1 KiB.
const CONTENT: [u8; 1024] = [b'x'; 1024];

fn write(step: &str) -> Result {
    let hook = std::env::var("HOOKHOST_HOOK").unwrap_or_else(|_| "writer".to_string());
    std::fs::write(format!("/data/{hook}-{step}"), CONTENT)
        .map_err(|e| Error::msg(format!("cannot write /data/{hook}-{step}: {e}")))?;
    Ok(())
}

impl Hook for Writer {
    fn pre_install(&mut self) -> Result {
        write("pre-install")
    }

    fn install(&mut self) -> Result {
        write("install")
    }

    fn post_config(&mut self) -> Result {
        write("post-config")
    }

    fn extra(&mut self) -> Result {
        write("extra")
    }
}

export_hook!(Writer);
