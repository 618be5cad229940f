//! Benchmark fixture: a hook that does nothing in every phase.
//!
//! Every phase is the SDK's default no-op, so a call into it measures what
//! hookhost itself costs per WASM hook (`cargo bench --bench stack`, see
//! BENCHMARKS.md). It requests no capabilities and needs no manifest.

use hookhost_sdk::prelude::*;

#[derive(Default)]
struct Noop;

impl Hook for Noop {}

export_hook!(Noop);
