//! hookhost: runs DevStack-style installer hooks — bash scripts and sandboxed
//! WebAssembly components — in one ordered sequence through every phase.
//!
//! Data flows one way: [`discovery`] finds the hooks of a stack, [`plan`]
//! turns them and an entry point into an ordered sequence, and [`run`]
//! executes that sequence, handing each step to the [`bash`] session or the
//! [`wasm`] runtime over one shared variable space.

pub mod audit;
pub mod author;
pub mod bash;
pub mod capabilities;
pub mod confine;
pub mod discovery;
pub mod drivers;
pub mod dryrun;
pub mod external;
pub mod held;
pub mod inert;
pub mod iniconf;
pub mod interrupt;
pub mod journal;
pub mod limits;
pub mod list;
pub mod localconf;
pub mod lockfile;
pub mod manifest;
pub mod names;
pub mod phases;
pub mod plan;
pub mod prelude;
pub mod report;
pub mod run;
pub mod runlock;
pub mod space;
pub mod stack;
pub mod status;
pub mod wasm;
