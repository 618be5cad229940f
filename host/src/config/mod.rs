//! The files of a stack, parsed: `local.conf`, ini files, plugin manifests,
//! `hookhost.lock`, the operator's `hookhost.toml`, the stack directory
//! itself and a DevStack tree's prelude.

pub(crate) mod ini;
pub mod localconf;
pub(crate) mod lockfile;
pub mod manifest;
pub mod operator;
pub(crate) mod prelude;
pub mod services;
pub mod stack;
