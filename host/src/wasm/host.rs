//! The helpers a plugin imports (`hookhost:plugin/host`), checked against
//! the plugin's [`Policy`] before they reach the run's shared variable space.
//!
//! The runtime does not know how the variable space is kept (the run keeps
//! it in its bash session); it talks to it through [`HostServices`].
//!
//! Every decision (a variable read or written, a function called, a
//! command run, a package install) is recorded in the audit log. A host
//! call runs on the plugin's clock: the services are told the deadline of
//! the hook call, and a command or shell function still running then is
//! stopped and fails the hook with [`TimeLimit`].

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use wasmtime::component::ResourceTable;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

use super::bindings::{host, types};
use super::output::{GuestOutput, Stream};
use crate::audit::{self, At, Decision, Record};
use crate::capabilities::{show_duration, Policy};

/// Warnings kept per plugin call; a plugin calling `warn` in a loop must
/// not grow the run's summary without bound.
const MAX_WARNINGS: u32 = 100;

/// What the run provides to every plugin: the shared variable space and the
/// DevStack helpers over it. Implemented by the run over its bash session.
pub trait HostServices: Send {
    fn get_var(&mut self, name: &str) -> anyhow::Result<Option<String>>;
    fn set_var(&mut self, name: &str, value: &str) -> anyhow::Result<()>;
    fn is_service_enabled(&mut self, services: &[String]) -> anyhow::Result<bool>;
    fn enable_service(&mut self, services: &[String]) -> anyhow::Result<()>;
    fn disable_service(&mut self, services: &[String]) -> anyhow::Result<()>;
    /// Call a shell function of the session; its output lines go to `out`.
    fn call_function(
        &mut self,
        name: &str,
        args: &[String],
        out: &mut dyn FnMut(Stream, &str),
    ) -> anyhow::Result<i32>;
    /// Install packages (`really`), or record that `hook` wanted them.
    fn install_packages(
        &mut self,
        hook: &str,
        names: &[String],
        really: bool,
    ) -> anyhow::Result<()>;
    /// A warning to collect for the run's summary.
    fn warn(&mut self, hook: &str, message: &str);
    /// Whether this is a `--dry-run`.
    fn is_dry_run(&self) -> bool {
        false
    }
    /// Record, in a dry run, that `hook` would have run `command` (`kind`:
    /// `sudo` or `undefined`, as the bash helpers record).
    fn record_dry_run(&mut self, _hook: &str, _kind: &str, _command: &str) -> anyhow::Result<()> {
        Ok(())
    }
    /// Bound what the services run from now on (helpers, shell functions)
    /// by `deadline`; `None` lifts the bound. A call still running at the
    /// deadline is stopped and fails with an error that downcasts to
    /// [`crate::bash::DeadlinePassed`]. Services that run nothing
    /// unbounded need not implement it.
    fn set_deadline(&mut self, _deadline: Option<Instant>) {}
}

/// A host call the plugin made was stopped at the plugin's time limit.
#[derive(Debug)]
pub struct TimeLimit {
    /// The plugin's time limit per call.
    pub limit: Duration,
    /// What was stopped (`the shell function spin`, `the command sleep 60`).
    pub what: String,
}

impl std::fmt::Display for TimeLimit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "ran past its time limit of {} in a host call ({} was stopped); raise it with \
             `timeout` in the operator's grants",
            show_duration(self.limit),
            self.what
        )
    }
}

impl std::error::Error for TimeLimit {}

/// The shared services, as each plugin's store holds them.
pub type SharedServices = Arc<Mutex<dyn HostServices>>;

/// The error a plugin's `die` raises; the run reports it as the hook's failure.
#[derive(Debug)]
pub struct Died(pub String);

impl std::fmt::Display for Died {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "died: {}", self.0)
    }
}

impl std::error::Error for Died {}

/// Everything one plugin's store holds.
pub struct PluginState {
    pub(super) name: String,
    pub(super) policy: Policy,
    pub(super) services: SharedServices,
    pub(super) output: GuestOutput,
    pub(super) wasi: WasiCtx,
    pub(super) table: ResourceTable,
    pub(super) limiter: super::sandbox::Limiter,
    /// What it leaves in the directories it may write.
    pub(super) files: super::files::FileGuard,
    /// When the current call must end (set as each call starts).
    pub(super) deadline: Instant,
    /// The phase being run, for the audit log.
    pub(super) phase: String,
    /// Warnings raised during the current call.
    pub(super) warnings: u32,
}

impl WasiView for PluginState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl PluginState {
    fn services(&self) -> std::sync::MutexGuard<'_, dyn HostServices + 'static> {
        self.services.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn read(&self, name: &str) -> wasmtime::Result<Option<String>> {
        if !self.policy.may_read_var(name) {
            // Ungranted variables read as unset: a plugin cannot tell a
            // secret exists. The denial is still recorded for the operator.
            self.audit("vars-read", name, Decision::Denied);
            return Ok(None);
        }
        self.audit("vars-read", name, Decision::Used);
        host_result(self.services().get_var(name))
    }

    /// Record a run-time decision about this plugin.
    pub(super) fn audit(&self, kind: &str, item: &str, decision: Decision) {
        audit::record(Record {
            hook: &self.name,
            at: At::Run,
            phase: Some(&self.phase),
            kind,
            item,
            decision,
            detail: None,
        });
    }

    /// Run `f` on the services within what is left of the call's time; a
    /// call stopped at the deadline becomes a [`TimeLimit`] trap.
    fn bounded<T>(
        &self,
        what: &str,
        f: impl FnOnce(&mut dyn HostServices) -> anyhow::Result<T>,
    ) -> wasmtime::Result<T> {
        if Instant::now() >= self.deadline {
            return Err(self.time_limit(what));
        }
        let mut services = self.services();
        services.set_deadline(Some(self.deadline));
        let result = f(&mut *services);
        services.set_deadline(None);
        drop(services);
        match result {
            Err(e) if e.chain().any(|c| c.is::<crate::bash::DeadlinePassed>()) => {
                Err(self.time_limit(what))
            }
            other => host_result(other),
        }
    }

    fn time_limit(&self, what: &str) -> wasmtime::Error {
        self.audit("timeout", what, Decision::Exceeded);
        wasmtime::Error::new(TimeLimit {
            limit: self.policy.timeout,
            what: what.to_string(),
        })
    }
}

/// A failure of the host side (e.g. the bash session ended) traps the guest.
fn host_result<T>(result: anyhow::Result<T>) -> wasmtime::Result<T> {
    result.map_err(|e| wasmtime::Error::msg(format!("host call failed: {e:#}")))
}

impl types::Host for PluginState {}

impl host::Host for PluginState {
    fn get_var(&mut self, name: String) -> wasmtime::Result<Option<String>> {
        self.read(&name)
    }

    fn set_var(&mut self, name: String, value: String) -> wasmtime::Result<Result<(), String>> {
        if !self.policy.may_write_var(&name) {
            self.audit("vars-write", &name, Decision::Denied);
            return Ok(Err(format!(
                "{} may not set variable {name}: not granted (vars-write)",
                self.name
            )));
        }
        self.audit("vars-write", &name, Decision::Used);
        host_result(self.services().set_var(&name, &value)).map(Ok)
    }

    fn is_service_enabled(&mut self, services: Vec<String>) -> wasmtime::Result<bool> {
        self.bounded("is_service_enabled", |s| s.is_service_enabled(&services))
    }

    fn enable_service(&mut self, services: Vec<String>) -> wasmtime::Result<()> {
        self.bounded("enable_service", |s| s.enable_service(&services))
    }

    fn disable_service(&mut self, services: Vec<String>) -> wasmtime::Result<()> {
        self.bounded("disable_service", |s| s.disable_service(&services))
    }

    fn trueorfalse(&mut self, default: bool, name: String) -> wasmtime::Result<bool> {
        Ok(match self.read(&name)?.as_deref() {
            Some("1" | "yes" | "Yes" | "YES" | "true" | "True" | "TRUE" | "on" | "On" | "ON") => {
                true
            }
            Some(
                "0" | "no" | "No" | "NO" | "false" | "False" | "FALSE" | "off" | "Off" | "OFF",
            ) => false,
            _ => default,
        })
    }

    fn echo_summary(&mut self, message: String) -> wasmtime::Result<()> {
        self.output.line(Stream::Stdout, &message);
        Ok(())
    }

    fn warn(&mut self, message: String) -> wasmtime::Result<()> {
        self.output
            .line(Stream::Stderr, &format!("[WARNING] {message}"));
        self.warnings = self.warnings.saturating_add(1);
        if self.warnings <= MAX_WARNINGS {
            self.services().warn(&self.name, &message);
        }
        Ok(())
    }

    fn die(&mut self, message: String) -> wasmtime::Result<()> {
        Err(wasmtime::Error::new(Died(message)))
    }

    fn install_package(&mut self, names: Vec<String>) -> wasmtime::Result<Result<(), String>> {
        if let Some(name) = names.iter().find(|n| !self.policy.may_install(n)) {
            self.audit("packages", name, Decision::Denied);
            return Ok(Err(format!(
                "{} may not install package {name}: not requested in its manifest (packages)",
                self.name
            )));
        }
        for name in &names {
            self.audit("packages", name, Decision::Used);
        }
        let really = self.policy.install;
        if !really {
            let note = format!(
                "install_package: would install {} (no install grant; pass --allow-install)",
                names.join(" ")
            );
            self.output.line(Stream::Stdout, &note);
        }
        let name = self.name.clone();
        self.bounded("install_package", |s| {
            s.install_packages(&name, &names, really)
        })
        .map(Ok)
    }

    fn run_command(
        &mut self,
        command: String,
        args: Vec<String>,
    ) -> wasmtime::Result<Result<types::CommandOutput, String>> {
        let shown = shown_command(&command, &args);
        if !self.policy.may_run(&command, &args) {
            self.audit("commands", &shown, Decision::Denied);
            return Ok(Err(format!(
                "{} may not run `{shown}`: not granted (commands)",
                self.name
            )));
        }
        self.audit("commands", &shown, Decision::Used);
        let not_run = match self.services().is_dry_run() {
            true => super::command::not_run_in_dry_run(&command, &args),
            false => None,
        };
        if let Some((kind, recorded)) = not_run {
            let name = self.name.clone();
            if let Err(e) = self.services().record_dry_run(&name, kind, &recorded) {
                return Ok(Err(format!("{e:#}")));
            }
            let note = format!("dry run: not run ({kind}): {recorded}");
            self.output.line(Stream::Stderr, &note);
            return Ok(Ok(types::CommandOutput {
                status: 0,
                stdout: Vec::new(),
                stderr: Vec::new(),
            }));
        }
        match super::command::run(&command, &args, self.deadline) {
            Ok(output) => Ok(Ok(output)),
            Err(super::command::Failure::TimedOut) => {
                Err(self.time_limit(&format!("the command {shown}")))
            }
            Err(super::command::Failure::Error(message)) => Ok(Err(message)),
        }
    }

    fn call_function(
        &mut self,
        name: String,
        args: Vec<String>,
    ) -> wasmtime::Result<Result<i32, String>> {
        if !self.policy.may_call_function(&name) {
            self.audit("functions", &name, Decision::Denied);
            return Ok(Err(format!(
                "{} may not call function {name}: not granted (functions)",
                self.name
            )));
        }
        self.audit("functions", &name, Decision::Used);
        let output = self.output.clone();
        let mut out = |stream: Stream, line: &str| output.line(stream, line);
        let what = format!("the shell function {name}");
        self.bounded(&what, |s| s.call_function(&name, &args, &mut out))
            .map(Ok)
    }
}

fn shown_command(command: &str, args: &[String]) -> String {
    std::iter::once(command)
        .chain(args.iter().map(String::as_str))
        .collect::<Vec<_>>()
        .join(" ")
}
