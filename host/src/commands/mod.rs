//! Subcommands that read a stack without running it: `list`, `status`
//! and its `--timeline` picture.

pub mod list;
pub mod status;
pub mod timeline;
