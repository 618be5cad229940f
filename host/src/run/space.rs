//! The run's one variable space, shared by both kinds of hook, and the
//! only door to the bash session: nothing outside this file (and `bash/`)
//! touches the session. Whether a session that ended is started again is
//! decided here once (`may_restart`), for a step that ended it
//! ([`Space::restart_after_end`]) and for a plugin's host call that did.
//!
//! The bash session holds it: DevStack hooks set variables with plain shell
//! assignments and define functions, so the shell is the only place their
//! state can live. WASM plugins reach the same space through the helpers
//! ([`HostServices`]); their reads and writes go to the session, so a bash
//! hook's assignment is what the next plugin reads and a plugin's `set-var`
//! is what the next bash hook sees. The helper functions themselves
//! (`is_service_enabled` and the rest) run in the session too, so both kinds
//! get exactly one implementation, overrides by `lib/` scripts included.

use std::fs::OpenOptions;
use std::io::Write;
use std::path::PathBuf;

use anyhow::{bail, Context};

use crate::bash::confine::Job;
use crate::bash::{BashSession, BatchHook, Outcome, SessionConfig, Stream as BashStream};
use crate::interrupt;
use crate::model::errors::{SessionEnded, SetRefused};
use crate::wasm::{HostServices, Stream};

/// The variable space of a run, kept in its bash session.
pub struct Space {
    session: BashSession,
    config: SessionConfig,
    warnings: Vec<(String, String)>,
    /// The WASM hook whose calls reach the session now, for messages.
    caller: String,
    /// What a restarted session runs again (the prelude, hooks' `source`).
    replay: crate::run::prelude_steps::Replay,
    /// How the session ended during a plugin's host call, until the run
    /// takes it for that plugin's failure.
    ended_in_call: Option<SessionEnded>,
    /// The run stops at its first failure (`stack`): a session that ended
    /// is not restarted, as nothing would use it.
    stops_at_failure: bool,
}

/// What became of a session that ended during a step.
#[derive(Debug)]
pub enum AfterEnd {
    /// A fresh session replaced it, with the prelude and the hooks'
    /// `source` run again.
    Restarted,
    /// Starting (or replaying into) a fresh session failed.
    NotRestarted(anyhow::Error),
    /// Ctrl-C (or SIGTERM) ended it: the run stops, nothing is restarted.
    Interrupted,
    /// The run stops at this failure (`stack`): nothing is restarted.
    Stopped,
}

impl Space {
    pub fn start(config: SessionConfig) -> anyhow::Result<Space> {
        let session = BashSession::start(&config)?;
        Ok(Space {
            session,
            config,
            warnings: Vec::new(),
            caller: "a plugin".to_string(),
            replay: Default::default(),
            ended_in_call: None,
            stops_at_failure: false,
        })
    }

    /// The run stops at its first failure: a step that ends the session
    /// ends the run, and the session is not restarted for nothing.
    pub fn stop_at_failure(&mut self) {
        self.stops_at_failure = true;
    }

    /// Source a bash hook into the session with `args`. With `replayed`,
    /// a restarted session sources it again (see [`Space::restart`]).
    pub fn source_hook(
        &mut self,
        path: &std::path::Path,
        args: &[&str],
        replayed: bool,
        out: &mut dyn FnMut(BashStream, &str),
    ) -> anyhow::Result<Outcome> {
        let outcome = self.session.source_hook(path, args, out);
        if replayed && self.session.is_alive() {
            self.replay.sourced(path, args);
        }
        outcome
    }

    /// Source consecutive bash hooks in one round trip (see
    /// `BashSession::source_hooks`); returns how many were sent.
    pub fn source_hooks(
        &mut self,
        hooks: &[BatchHook],
        out: &mut dyn FnMut(usize, BashStream, &str),
        done: &mut dyn FnMut(usize, &Outcome),
    ) -> anyhow::Result<usize> {
        self.session.source_hooks(hooks, out, done)
    }

    /// Run a confined bash hook in a child bash (see `bash::confine`).
    pub fn run_confined(
        &mut self,
        job: &Job<'_>,
        out: &mut dyn FnMut(BashStream, &str),
    ) -> anyhow::Result<Outcome> {
        crate::bash::confine::run_hook(&mut self.session, job, out)
    }

    /// Call a shell function as a hook's step (errexit as the session has it).
    pub fn call(
        &mut self,
        function: &str,
        args: &[&str],
        out: &mut dyn FnMut(BashStream, &str),
    ) -> anyhow::Result<Outcome> {
        self.session.call(function, args, out)
    }

    /// Whether the session defines a shell function `name`.
    pub fn function_exists(&mut self, name: &str) -> anyhow::Result<bool> {
        self.session.function_exists(name)
    }

    /// A variable of the session, as trusted code reads it.
    pub fn var(&mut self, name: &str) -> anyhow::Result<Option<String>> {
        self.session.get_var(name)
    }

    /// Set a variable of the session for trusted code (a plugin's settings
    /// file, read as sourcing it would): no plugin warnings.
    pub fn assign(&mut self, name: &str, value: &str) -> anyhow::Result<()> {
        self.session.set_var(name, value)
    }

    /// Ask the session a question through a function (its status is the
    /// answer; output dropped).
    pub fn ask(&mut self, function: &str, args: &[&str]) -> anyhow::Result<Outcome> {
        let mut ignore = |_: BashStream, _: &str| {};
        self.session.ask(function, args, &mut ignore)
    }

    /// The one restart policy. A step's bash session ended: unless Ctrl-C
    /// ended it (the run then stops), start a fresh one and run again what
    /// defined the shell state.
    pub fn restart_after_end(&mut self) -> AfterEnd {
        if !may_restart() {
            return AfterEnd::Interrupted;
        }
        if self.stops_at_failure {
            return AfterEnd::Stopped;
        }
        match self.restart() {
            Ok(()) => AfterEnd::Restarted,
            Err(e) => AfterEnd::NotRestarted(e),
        }
    }

    /// How the session ended during a plugin's host call since the last
    /// time this was asked, if it did.
    pub fn take_ended_in_call(&mut self) -> Option<SessionEnded> {
        self.ended_in_call.take()
    }

    /// `outcome` of a host call, described; an end of the session is kept
    /// for the calling plugin's failure.
    fn described(&mut self, outcome: &Outcome) -> String {
        if let Some(ended) = ended(outcome) {
            self.ended_in_call = Some(ended);
        }
        describe(outcome)
    }

    /// Replace a session that ended (a hook called `exit`) with a fresh one
    /// seeded from the same configuration, then run again what defined the
    /// shell state: the DevStack prelude and every bash hook's `source`
    /// (see `prelude::Replay`). Should the replay end bash, the run gets a
    /// session seeded from the configuration only, and the error says so.
    fn restart(&mut self) -> anyhow::Result<()> {
        self.session = BashSession::start(&self.config)?;
        // What the replay records in a dry run was recorded the first time.
        let record = self.config.state_dir.join(crate::run::dryrun::FILE);
        let recorded = std::fs::metadata(&record).map(|m| m.len()).ok();
        let replayed = self.replay.run(&mut self.session);
        if let (true, Some(len)) = (self.config.dry_run, recorded) {
            if let Ok(file) = OpenOptions::new().write(true).open(&record) {
                let _ = file.set_len(len);
            }
        }
        if let Err(e) = replayed {
            if !self.session.is_alive() {
                self.session = BashSession::start(&self.config)?;
            }
            return Err(e.context("replaying the prelude and the hooks' `source`"));
        }
        Ok(())
    }

    /// Name the WASM hook (or driver) whose host calls come next, for the
    /// message should one of them cost the session.
    pub fn set_caller(&mut self, hook: &str) {
        hook.clone_into(&mut self.caller);
    }

    /// After a plugin's bounded call ended bash (a function that ignored
    /// the stop signal and was killed at the time limit, or that ran
    /// `exit`): a fresh session with the state the old one had when the
    /// call started, when a snapshot holds it (see `bash::snapshot`), else
    /// seeded from the configuration only. Either way the run goes on, and
    /// the operator is told.
    fn recover(&mut self) {
        let snapshot = self.session.take_snapshot();
        let ended = format!("the bash session ended during a call from {}", self.caller);
        let note = match self.restart() {
            Err(e) => format!("{ended} and could not be restarted: {e:#}"),
            Ok(()) => match snapshot.map(|dump| self.replay(&dump)) {
                None => {
                    format!("{ended} and was restarted; shell state from earlier hooks is lost")
                }
                Some(Ok(())) => format!(
                    "{ended} and was restarted with the shell state it had before that call"
                ),
                Some(Err(e)) => format!(
                    "{ended} and was restarted, but its shell state could not be replayed \
                     ({e:#}); shell state from earlier hooks is lost"
                ),
            },
        };
        self.warnings.push(("bash session".to_string(), note));
    }

    /// Give the fresh session a snapshot's state; should that end bash, the
    /// run still gets a session (one seeded from the configuration).
    fn replay(&mut self, dump: &[u8]) -> anyhow::Result<()> {
        let result = self.session.restore(dump);
        if result.is_err() && !self.session.is_alive() {
            self.restart().context("starting it again")?;
        }
        result
    }

    /// The prelude and the hooks' sources a restart replays.
    pub(crate) fn replay_log(&mut self) -> &mut crate::run::prelude_steps::Replay {
        &mut self.replay
    }

    /// Run the DevStack prelude's next part, if one is pending.
    pub fn run_prelude_part(
        &mut self,
        out: &mut dyn FnMut(BashStream, &str),
    ) -> anyhow::Result<()> {
        self.replay.run_part(&mut self.session, out)
    }

    /// Warnings plugins raised, as (hook, message).
    pub fn warnings(&self) -> &[(String, String)] {
        &self.warnings
    }

    /// The file where unperformed package installs are recorded.
    pub fn packages_wanted_file(&self) -> PathBuf {
        self.config.state_dir.join("packages-wanted")
    }

    pub fn close(self) -> anyhow::Result<()> {
        self.session.close()
    }

    /// One of hookhost's own helpers (see `BashSession::ask_helper`).
    fn helper(&mut self, function: &str, args: &[String]) -> anyhow::Result<Outcome> {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let mut ignore = |_: BashStream, _: &str| {};
        self.session.ask_helper(function, &args, &mut ignore)
    }

    fn helper_ok(&mut self, function: &str, args: &[String]) -> anyhow::Result<()> {
        match self.helper(function, args)? {
            Outcome::Success => Ok(()),
            other => bail!("{function} {} in the bash session", self.described(&other)),
        }
    }
}

/// Whether a session that ended is started again: not after Ctrl-C (or
/// SIGTERM), which ends bash on purpose and stops the run.
fn may_restart() -> bool {
    !interrupt::requested()
}

/// How a helper call ended, for a message ("failed with status 1").
pub fn describe(outcome: &Outcome) -> String {
    match outcome {
        Outcome::Success => "succeeded".to_string(),
        Outcome::Failed { status } => format!("failed with status {status}"),
        Outcome::SessionEnded { status, signal } => SessionEnded {
            status: *status,
            signal: *signal,
        }
        .to_string(),
    }
}

/// How the session ended, if `outcome` says it did.
pub fn ended(outcome: &Outcome) -> Option<SessionEnded> {
    match outcome {
        Outcome::SessionEnded { status, signal } => Some(SessionEnded {
            status: *status,
            signal: *signal,
        }),
        _ => None,
    }
}

fn to_stream(stream: BashStream) -> Stream {
    match stream {
        BashStream::Stdout => Stream::Stdout,
        BashStream::Stderr => Stream::Stderr,
    }
}

impl HostServices for Space {
    fn get_var(&mut self, name: &str) -> anyhow::Result<Option<String>> {
        self.session.get_var(name)
    }

    fn set_var(&mut self, name: &str, value: &str) -> anyhow::Result<()> {
        let result = self.session.set_var(name, value);
        let refused = result
            .as_ref()
            .err()
            .and_then(|e| e.downcast_ref::<SetRefused>());
        if let Some(refused) = refused.filter(|r| r.integer) {
            // The operator granted a plugin a variable a trusted hook made
            // an integer: every value the plugin may write there is
            // arithmetic to bash. Say so, whatever the plugin does with
            // its error.
            let note = format!(
                "{} is declared -i in the bash session: a plugin's value for it was refused, \
                 since bash evaluates values of integer variables as arithmetic (which can run \
                 commands); declare it without -i or do not grant it to plugins",
                refused.name
            );
            self.warnings.push((self.caller.clone(), note));
        }
        result
    }

    fn is_service_enabled(&mut self, services: &[String]) -> anyhow::Result<bool> {
        match self.helper("is_service_enabled", services)? {
            Outcome::Success => Ok(true),
            Outcome::Failed { .. } => Ok(false),
            ended => bail!(
                "is_service_enabled {} in the bash session",
                self.described(&ended)
            ),
        }
    }

    fn enable_service(&mut self, services: &[String]) -> anyhow::Result<()> {
        self.helper_ok("enable_service", services)
    }

    fn disable_service(&mut self, services: &[String]) -> anyhow::Result<()> {
        self.helper_ok("disable_service", services)
    }

    fn call_function(
        &mut self,
        name: &str,
        args: &[String],
        out: &mut dyn FnMut(Stream, &str),
    ) -> anyhow::Result<i32> {
        if !self.session.function_exists(name)? {
            bail!("no shell function named {name} is defined in the bash session");
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let mut forward = |stream: BashStream, line: &str| out(to_stream(stream), line);
        match self.session.ask(name, &args, &mut forward)? {
            Outcome::Success => Ok(0),
            Outcome::Failed { status } => Ok(status),
            ended => bail!("{name} {}", self.described(&ended)),
        }
    }

    fn install_packages(
        &mut self,
        hook: &str,
        names: &[String],
        really: bool,
    ) -> anyhow::Result<()> {
        if really {
            let mut ignore = |_: BashStream, _: &str| {};
            let args: Vec<&str> = names.iter().map(String::as_str).collect();
            return match self.session.ask("install_package", &args, &mut ignore)? {
                Outcome::Success => Ok(()),
                other => bail!("installing {} {}", names.join(" "), self.described(&other)),
            };
        }
        let path = self.packages_wanted_file();
        let mut file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .with_context(|| format!("cannot record wanted packages in {}", path.display()))?;
        for name in names {
            writeln!(file, "{name} {hook}")?;
        }
        Ok(())
    }

    fn warn(&mut self, hook: &str, message: &str) {
        self.warnings.push((hook.to_string(), message.to_string()));
    }

    fn is_dry_run(&self) -> bool {
        self.config.dry_run
    }

    /// The record goes where the bash helpers write theirs, so the run
    /// attributes it to the hook and phase the same way; the place is the
    /// host call (a component has no line numbers).
    fn record_dry_run(&mut self, hook: &str, kind: &str, command: &str) -> anyhow::Result<()> {
        let path = self.config.state_dir.join(crate::run::dryrun::FILE);
        let mut file = OpenOptions::new()
            .append(true)
            .open(&path)
            .with_context(|| format!("cannot write the dry run's record {}", path.display()))?;
        let line = format!("{kind}\t{hook} run-command\t{command}\n");
        file.write_all(line.as_bytes())
            .with_context(|| format!("cannot write the dry run's record {}", path.display()))
    }

    fn set_deadline(&mut self, deadline: Option<std::time::Instant>) {
        self.session.set_deadline(deadline);
        // A plugin's call that ended bash must not cost the rest of the
        // run its session. After Ctrl-C (which ends bash on purpose) the
        // run stops: nothing to restart.
        if deadline.is_none() && !self.session.is_alive() && may_restart() {
            self.recover();
        }
    }
}
