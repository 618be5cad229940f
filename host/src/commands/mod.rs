//! Subcommands that read a stack without running it: `list` and `status`.

pub mod list;
pub mod status;
