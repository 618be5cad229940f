//! The `hookhost` command line: subcommands, flags and their help.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use hookhost::capabilities::GrantFlags;
use hookhost::phases::{Entry, Extensions};

#[derive(Debug, Parser)]
#[command(
    name = "hookhost",
    version,
    about = "Run DevStack-style installer hooks: bash scripts and sandboxed WebAssembly components, in one ordered sequence.",
    after_help = "Examples:\n  hookhost stack --top examples/demo\n  hookhost plan stack --top examples/demo\n  hookhost clean --top /opt/mystack --json"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run `source`, then `stack pre-install`, `install`, `post-config`, `extra` (stops at the first failure).
    #[command(
        after_help = "Examples:\n  hookhost stack --top examples/demo\n  hookhost stack --allow-install --log /tmp/stack.log"
    )]
    Stack(RunArgs),
    /// Run `source`, then `unstack` (goes on past failures, reports them all).
    #[command(after_help = "Example:\n  hookhost unstack --top examples/demo")]
    Unstack(RunArgs),
    /// Run `source`, `unstack`, then `clean` (goes on past failures, reports them all).
    #[command(after_help = "Example:\n  hookhost clean --top examples/demo")]
    Clean(RunArgs),
    /// Print the ordered sequence an entry point would run, without running anything.
    #[command(
        after_help = "Examples:\n  hookhost plan stack --top examples/demo\n  hookhost plan clean --json"
    )]
    Plan {
        /// The entry point to plan.
        entry: EntryArg,
        #[command(flatten)]
        stack: StackArgs,
        /// Print the plan as JSON.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum EntryArg {
    Stack,
    Unstack,
    Clean,
}

impl From<EntryArg> for Entry {
    fn from(arg: EntryArg) -> Entry {
        match arg {
            EntryArg::Stack => Entry::Stack,
            EntryArg::Unstack => Entry::Unstack,
            EntryArg::Clean => Entry::Clean,
        }
    }
}

/// Which stack, and the operator's choices about it.
#[derive(Debug, Clone, Args)]
pub struct StackArgs {
    /// The stack directory (holds extras.d/, local.conf, hookhost.toml).
    #[arg(long, value_name = "DIR", default_value = ".")]
    pub top: PathBuf,
    /// Also run the opt-in `stack test-config` phase after `stack extra`.
    #[arg(long)]
    pub test_config: bool,
    /// Also run the opt-in `override_defaults` phase before `source`.
    #[arg(long)]
    pub override_defaults: bool,
    #[command(flatten)]
    pub grants: GrantArgs,
}

impl StackArgs {
    pub fn extensions(&self) -> Extensions {
        Extensions {
            test_config: self.test_config,
            override_defaults: self.override_defaults,
        }
    }
}

/// Grants for WASM plugins, Deno-style; `--deny-*` beats any allow.
#[derive(Debug, Clone, Args)]
pub struct GrantArgs {
    /// Let plugins read this stack-relative directory.
    #[arg(long, value_name = "PATH", value_delimiter = ',')]
    pub allow_read: Vec<String>,
    /// Let plugins read and write this stack-relative directory.
    #[arg(long, value_name = "PATH", value_delimiter = ',')]
    pub allow_write: Vec<String>,
    /// Let plugins read and set this variable (`PREFIX_*` for a prefix).
    #[arg(long, value_name = "VAR", value_delimiter = ',')]
    pub allow_env: Vec<String>,
    /// Let plugins run this program, with any arguments.
    #[arg(long, value_name = "CMD", value_delimiter = ',')]
    pub allow_run: Vec<String>,
    /// Let plugins connect to this host (`HOST[:PORT]`).
    #[arg(long, value_name = "HOST", value_delimiter = ',')]
    pub allow_net: Vec<String>,
    /// Let plugins call this shell function of the bash session.
    #[arg(long, value_name = "NAME", value_delimiter = ',')]
    pub allow_function: Vec<String>,
    #[arg(long, value_name = "PATH", value_delimiter = ',')]
    pub deny_read: Vec<String>,
    #[arg(long, value_name = "PATH", value_delimiter = ',')]
    pub deny_write: Vec<String>,
    #[arg(long, value_name = "VAR", value_delimiter = ',')]
    pub deny_env: Vec<String>,
    #[arg(long, value_name = "CMD", value_delimiter = ',')]
    pub deny_run: Vec<String>,
    #[arg(long, value_name = "HOST", value_delimiter = ',')]
    pub deny_net: Vec<String>,
    #[arg(long, value_name = "NAME", value_delimiter = ',')]
    pub deny_function: Vec<String>,
    /// Really install the packages hooks ask for (otherwise they are only recorded).
    #[arg(long)]
    pub allow_install: bool,
    /// Allow third-party hooks numbered 00-09 and 90-99 (reserved for hookhost).
    #[arg(long)]
    pub allow_reserved: bool,
}

impl GrantArgs {
    pub fn flags(&self) -> GrantFlags {
        GrantFlags {
            allow_read: self.allow_read.clone(),
            allow_write: self.allow_write.clone(),
            allow_env: self.allow_env.clone(),
            allow_run: self.allow_run.clone(),
            allow_net: self.allow_net.clone(),
            allow_function: self.allow_function.clone(),
            deny_read: self.deny_read.clone(),
            deny_write: self.deny_write.clone(),
            deny_env: self.deny_env.clone(),
            deny_run: self.deny_run.clone(),
            deny_net: self.deny_net.clone(),
            deny_function: self.deny_function.clone(),
            allow_install: self.allow_install,
            allow_reserved: self.allow_reserved,
        }
    }
}

/// Options of the three entry points.
#[derive(Debug, Clone, Args)]
pub struct RunArgs {
    #[command(flatten)]
    pub stack: StackArgs,
    /// One JSON object per event on stdout, for CI systems.
    #[arg(long, conflicts_with = "quiet")]
    pub json: bool,
    /// Only failures, warnings and the summary.
    #[arg(long, short)]
    pub quiet: bool,
    /// Write the whole run to this file (default: .hookhost/logs/<entry>.log in the stack).
    #[arg(long, value_name = "FILE")]
    pub log: Option<PathBuf>,
}
