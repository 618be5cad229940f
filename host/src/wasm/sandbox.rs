//! The sandbox of one plugin: a WASI context holding only what its
//! [`Policy`] grants (its directories, no environment, no network, captured
//! output) and a memory limiter that names the limit it enforces.

use std::sync::atomic::{AtomicU64, Ordering};

use wasmtime::ResourceLimiter;
use wasmtime_wasi::{FsPerms, WasiCtx, WasiCtxBuilder};

use super::output::{GuestOutput, Stream};
use crate::capabilities::{show_size, Policy};

/// Build the WASI context for a plugin.
/// The guest's environment holds only `HOOKHOST_HOOK`, its own stem, so a
/// plugin installed under several names can tell which one it is.
pub fn wasi_ctx(name: &str, policy: &Policy, output: &GuestOutput) -> anyhow::Result<WasiCtx> {
    let mut builder = WasiCtxBuilder::new();
    builder
        .env("HOOKHOST_HOOK", name)
        .stdout(output.stream(Stream::Stdout))
        .stderr(output.stream(Stream::Stderr))
        .allow_ip_name_lookup(false)
        .allow_tcp(false)
        .allow_udp(false);
    for dir in &policy.dirs {
        let perms = match dir.writable {
            true => FsPerms::ReadWrite,
            false => FsPerms::ReadOnly,
        };
        builder
            .preopened_dir(&dir.host, &dir.guest, perms)
            .map_err(|e| anyhow::anyhow!("cannot open {}: {e}", dir.host.display()))?;
    }
    Ok(builder.build())
}

/// Enforces a plugin's memory ceiling and remembers a breach, so the
/// failure can say which limit was hit rather than show a bare trap.
pub struct Limiter {
    max: u64,
    exceeded: AtomicU64,
}

impl Limiter {
    pub fn new(max: u64) -> Limiter {
        Limiter {
            max,
            exceeded: AtomicU64::new(0),
        }
    }

    pub fn max(&self) -> u64 {
        self.max
    }

    /// The size a refused growth asked for, if any growth was refused.
    pub fn exceeded(&self) -> Option<u64> {
        match self.exceeded.load(Ordering::Relaxed) {
            0 => None,
            wanted => Some(wanted),
        }
    }
}

impl ResourceLimiter for Limiter {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if desired as u64 <= self.max {
            return Ok(true);
        }
        self.exceeded.store(desired as u64, Ordering::Relaxed);
        Err(wasmtime::Error::msg(format!(
            "memory limit of {} exceeded",
            show_size(self.max)
        )))
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(desired <= 1_000_000)
    }
}
