//! hookhost: runs DevStack-style installer hooks — bash scripts and sandboxed
//! WebAssembly components — in one ordered sequence through every phase.
//!
//! Data flows one way: [`discovery`] finds the hooks of a stack, [`plan`]
//! turns them and an entry point into an ordered sequence, and [`run`]
//! executes that sequence, handing each step to the [`bash`] session or the
//! [`wasm`] runtime over one shared variable space.

pub mod author;
pub mod bash;
pub mod capabilities;
pub mod commands;
pub mod config;
pub mod interrupt;
pub mod model;
pub mod plan;
pub mod report;
pub mod run;
pub mod state;
pub mod wasm;
