//! The `hookhost` command line: subcommands, flags and their help.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use hookhost::config::operator::GrantFlags;
use hookhost::model::phases::{Entry, Extensions};

#[derive(Debug, Parser)]
#[command(
    name = "hookhost",
    version,
    about = "Run DevStack-style installer hooks: bash scripts and sandboxed WebAssembly components, in one ordered sequence.",
    after_help = "Examples:\n  hookhost stack --top examples/demo\n  hookhost plan stack --top examples/demo\n  hookhost list --top examples/demo\n  hookhost clean --top /opt/mystack --json\n  hookhost new my-hook && hookhost build my-hook\n  hookhost completions bash > ~/.local/share/bash-completion/completions/hookhost"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
    /// Keep the stack's state (journal, logs, lock, plugins' data, dry-run records) in DIR
    /// instead of STACK/.hookhost; a read-only stack then runs. Also HOOKHOST_STATE_DIR; the
    /// flag wins. One directory per stack, outside it.
    #[arg(long, global = true, value_name = "DIR")]
    pub state_dir: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run `source`, then `stack pre-install`, `install`, `post-config`, `extra` (stops at the first failure).
    #[command(
        after_help = "Ctrl-C stops the running hook and ends the run (exit status 130; SIGTERM: 143); the log and\n`hookhost status` keep everything. One run per stack at a time.\n\nExamples:\n  hookhost stack --top examples/demo\n  hookhost stack --allow-install --log /tmp/stack.log\n  hookhost stack --json > events.jsonl"
    )]
    Stack(RunArgs),
    /// Run `source`, then `unstack` (goes on past failures, reports them all).
    #[command(after_help = "Example:\n  hookhost unstack --top examples/demo")]
    Unstack(RunArgs),
    /// Run `source`, `unstack`, then `clean` (goes on past failures, reports them all).
    #[command(after_help = "Example:\n  hookhost clean --top examples/demo")]
    Clean(RunArgs),
    /// List a stack's hooks and hypervisor drivers: kind, manifest, capabilities requested and granted.
    #[command(
        after_help = "Examples:\n  hookhost list --top examples/demo\n  hookhost list --json | jq '.hooks[].hook'"
    )]
    List {
        #[command(flatten)]
        stack: StackArgs,
        /// Print the list as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Print a shell completion script for hookhost.
    #[command(
        after_help = "Examples:\n  hookhost completions bash > ~/.local/share/bash-completion/completions/hookhost\n  hookhost completions zsh > ~/.zfunc/_hookhost\n  hookhost completions fish > ~/.config/fish/completions/hookhost.fish"
    )]
    Completions {
        /// The shell to complete in.
        shell: clap_complete::Shell,
    },
    /// Scaffold a Rust plugin crate (Cargo.toml, manifest, a Hook with every phase, a test).
    #[command(
        after_help = "The crate depends on hookhost-sdk by path: --sdk PATH, else the sdk/ of the\nhookhost checkout this binary was built from, else version 0.1 from crates.io.\n\nExamples:\n  hookhost new my-hook\n  hookhost new my-hook --path plugins/my-hook\n  hookhost new my-hook --sdk ~/src/hookhost/sdk"
    )]
    New {
        /// The plugin's name: lowercase letters, digits and `-`, starting with a letter.
        name: String,
        /// The crate's directory (default: ./NAME); created, must be empty if it exists.
        #[arg(long, value_name = "DIR")]
        path: Option<PathBuf>,
        /// Depend on the hookhost-sdk crate at this path.
        #[arg(long, value_name = "PATH")]
        sdk: Option<PathBuf>,
    },
    /// Build a plugin crate into a component, ready to drop into extras.d/.
    #[command(
        after_help = "Uses the rustup wasm32-wasip2 target where it is installed, else Debian's\nrustc-web toolchain (scripts/setup.sh installs it); HOOKHOST_WASM_TOOLCHAIN=rustup|debian\nforces one. The component and its manifest land in PATH/target/hookhost/.\n\nExamples:\n  hookhost build\n  hookhost build plugins/my-hook"
    )]
    Build {
        /// The plugin crate (a directory with Cargo.toml).
        #[arg(default_value = ".")]
        path: PathBuf,
    },
    /// Show what a component is: world, WIT version, exports, imports, capabilities, size, sha256.
    #[command(
        after_help = "Examples:\n  hookhost inspect extras.d/50-template.wasm\n  hookhost inspect target/hookhost/my-hook.wasm --json"
    )]
    Inspect {
        /// The component file.
        file: PathBuf,
        /// Print the facts as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Manage the cache of compiled components (see `hookhost cache dir`).
    #[command(
        after_help = "The cache is $HOOKHOST_CACHE_DIR, else $XDG_CACHE_HOME/hookhost, else ~/.cache/hookhost.\n\nExamples:\n  hookhost cache clean\n  hookhost cache dir"
    )]
    Cache {
        #[command(subcommand)]
        action: CacheAction,
    },
    /// Show the last run of a stack from its state journal: what ran, what failed, where it stopped.
    #[command(
        after_help = "Reads DIR/.hookhost/journal.jsonl (or the --state-dir's), which every run of stack,\nunstack and clean writes as it goes; a run that was interrupted, killed or crashed shows\nwhere it was, and a run still going what it is doing.\n\nExamples:\n  hookhost status --top examples/demo\n  hookhost status --json | jq .status\n  hookhost status --timeline run.svg"
    )]
    Status {
        /// The stack directory.
        #[arg(long, value_name = "DIR", default_value = ".")]
        top: PathBuf,
        /// Print the last run as JSON.
        #[arg(long, conflicts_with = "timeline")]
        json: bool,
        /// Draw the last run as a waterfall (phases, hooks, hookhost's own work) into FILE.svg
        /// or FILE.html.
        #[arg(long, value_name = "FILE")]
        timeline: Option<PathBuf>,
    },
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
        /// Also say how a `--dry-run` would be confined on this machine (Landlock, network).
        #[arg(long)]
        dry_run: bool,
    },
}

/// What `hookhost cache` does.
#[derive(Debug, Clone, Copy, Subcommand)]
pub enum CacheAction {
    /// Remove every compiled component from the cache, printing each file removed.
    Clean,
    /// Print the cache directory.
    Dir,
}

impl Command {
    /// An entry point that runs hooks (`stack`, `unstack`, `clean`).
    pub fn is_run(&self) -> bool {
        matches!(
            self,
            Command::Stack(_) | Command::Unstack(_) | Command::Clean(_)
        )
    }
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
    /// Append every capability decision (granted, denied, used) to this file as JSON lines.
    #[arg(long, value_name = "FILE")]
    pub audit: Option<PathBuf>,
    /// Accept the external plugins' current content: rewrite hookhost.lock with their commits
    /// and sha256s (without it, a plugin that changed since the lock was written is refused).
    #[arg(long)]
    pub update_lock: bool,
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
    /// Never let plugins read this stack-relative directory (beats any grant).
    #[arg(long, value_name = "PATH", value_delimiter = ',')]
    pub deny_read: Vec<String>,
    /// Never let plugins write this stack-relative directory (beats any grant).
    #[arg(long, value_name = "PATH", value_delimiter = ',')]
    pub deny_write: Vec<String>,
    /// Never let plugins read or set this variable (`PREFIX_*` for a prefix; beats any grant).
    #[arg(long, value_name = "VAR", value_delimiter = ',')]
    pub deny_env: Vec<String>,
    /// Never let plugins run this program (beats any grant).
    #[arg(long, value_name = "CMD", value_delimiter = ',')]
    pub deny_run: Vec<String>,
    /// Never let plugins connect to this host (`HOST[:PORT]`; beats any grant).
    #[arg(long, value_name = "HOST", value_delimiter = ',')]
    pub deny_net: Vec<String>,
    /// Never let plugins call this shell function (beats any grant).
    #[arg(long, value_name = "NAME", value_delimiter = ',')]
    pub deny_function: Vec<String>,
    /// Really install the packages hooks ask for (otherwise they are only recorded).
    #[arg(long)]
    pub allow_install: bool,
    /// Allow third-party hooks numbered 00-09 and 90-99 (reserved for hookhost).
    #[arg(long)]
    pub allow_reserved: bool,
    /// Run this bash hook confined by Landlock to its manifest's granted paths (stem or name).
    #[arg(long, value_name = "HOOK", value_delimiter = ',')]
    pub confine: Vec<String>,
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
            confine: self.confine.clone(),
        }
    }
}

/// Options of the three entry points.
#[derive(Debug, Clone, Args)]
pub struct RunArgs {
    #[command(flatten)]
    pub stack: StackArgs,
    /// One JSON object per event on stdout, for CI systems.
    #[arg(long, conflicts_with_all = ["quiet", "verbose"])]
    pub json: bool,
    /// Only failures, warnings and the verdict.
    #[arg(long, short, conflicts_with = "verbose")]
    pub quiet: bool,
    /// Plain lines, with a line when each hook starts and ends (no spinner).
    #[arg(long, short)]
    pub verbose: bool,
    /// Write the whole run to this file (default: .hookhost/logs/<entry>-<time>.log in the
    /// stack, or logs/ in the --state-dir, with latest.log there pointing to the newest).
    #[arg(long, value_name = "FILE")]
    pub log: Option<PathBuf>,
    /// Run the hooks, but record `sudo`, package installs, `git_clone` and every call to a
    /// command or function that does not exist instead of running them; report them at the end.
    #[arg(long)]
    pub dry_run: bool,
}
