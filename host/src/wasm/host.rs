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
//!
//! Every string the plugin passes is checked before it goes further:
//! names against what they name ([`crate::model::names`]), sizes against
//! [`crate::model::limits`]. A bad argument to a call that returns a
//! `result` is that call's error ([`HostError`], which each WIT version's
//! module in [`super::wit`] converts to its own); one to a call without an
//! error channel (the service calls; 0.1.0's `get-var` and `trueorfalse`)
//! fails the hook with [`BadArgument`]. Messages are cut to [`MAX_MESSAGE`].

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use wasmtime::component::ResourceTable;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

use super::command::CommandOutput;
use super::output::{GuestOutput, Stream};
use super::refusal::HostError;
use crate::capabilities::audit::{self, At, Decision, Record};
use crate::capabilities::Policy;
use crate::model::inert::quoted;
use crate::model::limits::{
    cut, list_problem, MAX_ARGS, MAX_LINE, MAX_LIST, MAX_MESSAGE, MAX_NAME, MAX_PACKAGES_PER_RUN,
    MAX_VALUE, MAX_VARS_PER_RUN, MAX_WARNINGS_PER_CALL, MAX_WARNINGS_PER_RUN,
};
use crate::model::names;
use crate::model::units::{show_limit as show_duration, show_size};

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
    /// [`crate::model::errors::DeadlinePassed`]. Services that run nothing
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
            "ran past its time limit of {} in a host call ({} was stopped)",
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

/// A call without an error channel was given an argument hookhost refuses
/// (an invalid service or variable name); the hook fails with this.
#[derive(Debug)]
pub struct BadArgument(pub String);

impl std::fmt::Display for BadArgument {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for BadArgument {}

/// What one plugin has spent of its per-run budgets.
#[derive(Debug, Default)]
pub struct Spent {
    /// Bytes of warnings kept for the run's summary.
    warning_bytes: usize,
    /// Set once the plugin was told its further warnings are not kept.
    warnings_full: bool,
    /// The size (name and value) of each variable it set, latest value.
    vars: HashMap<String, usize>,
    vars_bytes: usize,
    /// Packages it asked for; a repeat is not recorded again.
    packages: HashSet<String>,
    /// Commands a dry run did not run.
    dry_runs: usize,
}

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
    /// What it spent of its budgets over the run.
    pub(super) spent: Spent,
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
    pub(super) fn services(&self) -> std::sync::MutexGuard<'_, dyn HostServices + 'static> {
        self.services.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Record a run-time decision about this plugin.
    pub(super) fn audit(&self, kind: &str, item: &str, decision: Decision) {
        self.record(kind, item, decision, None);
    }

    pub(super) fn audit_detail(&self, kind: &str, item: &str, decision: Decision, detail: &str) {
        self.record(kind, item, decision, Some(detail));
    }

    fn record(&self, kind: &str, item: &str, decision: Decision, detail: Option<&str>) {
        audit::record(Record {
            hook: &self.name,
            at: At::Run,
            phase: Some(&self.phase),
            kind,
            item,
            decision,
            detail,
        });
    }

    /// `message` cut to [`MAX_MESSAGE`]; a cut is audited (kind `size`,
    /// item what carried it).
    fn message<'m>(&self, what: &str, message: &'m str) -> std::borrow::Cow<'m, str> {
        let kept = cut(message, MAX_MESSAGE);
        if kept.len() != message.len() {
            let detail = format!(
                "cut to {MAX_MESSAGE} bytes: {} more bytes dropped",
                message.len() - crate::model::limits::floor_char_boundary(message, MAX_MESSAGE)
            );
            self.audit_detail("size", what, Decision::Exceeded, &detail);
        }
        kept
    }

    /// The error a hook call returned, as the failure shows it: cut to
    /// [`MAX_MESSAGE`] like the plugin's other messages.
    pub(super) fn hook_error(&self, message: &str) -> String {
        self.message("hook error", message).into_owned()
    }

    /// The trap for a refused argument of a call without an error channel.
    fn bad_argument(&self, call: &str, what: &str, value: &str, rule: &str) -> wasmtime::Error {
        wasmtime::Error::new(BadArgument(format!(
            "{} called {call} with an invalid {what} {}: {rule}",
            self.name,
            shown(value)
        )))
    }

    /// Every name in `services` is a service name, and there are not too
    /// many of them; else the hook fails.
    fn check_services(&self, call: &str, services: &[String]) -> wasmtime::Result<()> {
        if services.len() > MAX_LIST {
            let why = format!(
                "{} services, more than the limit of {MAX_LIST}",
                services.len()
            );
            self.audit_detail("size", call, Decision::Exceeded, &why);
            return Err(wasmtime::Error::new(BadArgument(format!(
                "{} called {call} with {why}",
                self.name
            ))));
        }
        match services.iter().find(|s| !names::is_service_name(s)) {
            Some(bad) => {
                self.audit_detail("services", bad, Decision::Denied, "not a service name");
                Err(self.bad_argument(call, "service name", bad, SERVICE_NAME))
            }
            None => Ok(()),
        }
    }

    /// Why `set-var name value` is refused before the grant is looked at:
    /// a name that is no variable, or one bash runs code from.
    fn bad_variable(&self, name: &str) -> Option<String> {
        if !names::is_shell_name(name) {
            self.audit_detail("vars-write", name, Decision::Denied, "not a variable name");
            return Some(format!(
                "{} may not set variable {}: {SHELL_NAME}",
                self.name,
                shown(name)
            ));
        }
        let why = names::reserved_variable(name)?;
        self.audit_detail("vars-write", name, Decision::Denied, why);
        Some(format!(
            "{} may not set variable {name}, whatever it is granted: {why}",
            self.name
        ))
    }

    /// Why a value for `name` is refused: too big, a NUL byte, or past the
    /// plugin's budget of variables for the run.
    fn bad_value(&self, name: &str, value: &str) -> Option<String> {
        let why = if value.len() > MAX_VALUE {
            format!(
                "its value is {} bytes, more than the limit of {}",
                value.len(),
                show_size(MAX_VALUE as u64)
            )
        } else if value.contains('\0') {
            "its value contains a NUL byte, which a shell variable cannot hold".to_string()
        } else if self.vars_bytes_after(name, value) > MAX_VARS_PER_RUN {
            format!(
                "the variables it set in this run would hold more than {} (the limit per plugin)",
                show_size(MAX_VARS_PER_RUN as u64)
            )
        } else {
            return None;
        };
        self.audit_detail("size", &format!("set-var {name}"), Decision::Exceeded, &why);
        Some(format!("{} may not set variable {name}: {why}", self.name))
    }

    fn vars_bytes_after(&self, name: &str, value: &str) -> usize {
        let old = self.spent.vars.get(name).copied().unwrap_or(0);
        self.spent.vars_bytes - old + name.len() + value.len()
    }

    /// Why an `install-package` list is refused: too long, or a name that
    /// is no package name.
    fn bad_packages(&self, packages: &[String]) -> Option<String> {
        if let Some(why) = list_problem(packages, MAX_LIST * MAX_NAME) {
            self.audit_detail("size", "install-package", Decision::Exceeded, &why);
            return Some(format!("{} may not install packages: {why}", self.name));
        }
        let bad = packages.iter().find(|p| !names::is_package_name(p))?;
        self.audit_detail("packages", bad, Decision::Denied, "not a package name");
        Some(format!(
            "{} may not install package {}: not a package name ({PACKAGE_NAME})",
            self.name,
            shown(bad)
        ))
    }

    /// Why the arguments of `run-command` or `call-function` are refused.
    fn bad_args(&self, call: &str, args: &[String]) -> Option<String> {
        let why = match list_problem(args, MAX_ARGS) {
            Some(why) => format!("its arguments are {why}"),
            None if call == "call-function" && args.iter().any(|a| a.contains('\0')) => {
                "an argument contains a NUL byte, which bash cannot hold".to_string()
            }
            None => return None,
        };
        self.audit_detail("size", call, Decision::Exceeded, &why);
        Some(format!("{} may not {call}: {why}", self.name))
    }

    /// Record a command a dry run did not run, up to [`MAX_LIST`] records
    /// per run: a loop cannot grow the record without bound.
    pub(super) fn record_dry_run(&mut self, kind: &str, recorded: &str) -> anyhow::Result<()> {
        self.spent.dry_runs += 1;
        if self.spent.dry_runs > MAX_LIST {
            if self.spent.dry_runs == MAX_LIST + 1 {
                let why = format!("more than {MAX_LIST} commands not run; later ones not recorded");
                self.audit_detail("size", "run-command", Decision::Exceeded, &why);
            }
            return Ok(());
        }
        let name = self.name.clone();
        self.services().record_dry_run(&name, kind, recorded)
    }

    /// Keep a warning for the run's summary, within the call's and the
    /// run's budgets.
    fn keep_warning(&mut self, message: &str) {
        self.warnings = self.warnings.saturating_add(1);
        if self.warnings > MAX_WARNINGS_PER_CALL || self.spent.warnings_full {
            return;
        }
        if self.spent.warning_bytes + message.len() > MAX_WARNINGS_PER_RUN {
            self.spent.warnings_full = true;
            let why = format!(
                "more than {} of warnings in this run; later ones are shown, not kept",
                show_size(MAX_WARNINGS_PER_RUN as u64)
            );
            self.audit_detail("size", "warn", Decision::Exceeded, &why);
            self.services().warn(&self.name, &why);
            return;
        }
        self.spent.warning_bytes += message.len();
        self.services().warn(&self.name, message);
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
            Err(e)
                if e.chain()
                    .any(|c| c.is::<crate::model::errors::DeadlinePassed>()) =>
            {
                Err(self.time_limit(what))
            }
            other => host_result(other),
        }
    }

    pub(super) fn time_limit(&self, what: &str) -> wasmtime::Error {
        self.audit("timeout", what, Decision::Exceeded);
        wasmtime::Error::new(TimeLimit {
            limit: self.policy.timeout,
            what: cut(what, MAX_LINE).into_owned(),
        })
    }
}

/// A failure of the host side (e.g. the bash session ended) traps the guest.
fn host_result<T>(result: anyhow::Result<T>) -> wasmtime::Result<T> {
    result.map_err(|e| wasmtime::Error::msg(format!("host call failed: {e:#}")))
}

/// What a host call answers: a value, or the plugin's error; a broken
/// host (or a call that must end the hook) traps.
pub(super) type Reply<T> = wasmtime::Result<Result<T, HostError>>;

/// The helpers every WIT version offers, in the host's own types; each
/// version's module ([`super::wit`]) converts to and from its bindings.
impl PluginState {
    /// `get-var`: `None` when unset; a denial when not granted (0.1.0
    /// plugins see that as unset, so they cannot probe for a secret; the
    /// denial does not depend on whether the variable is set).
    pub(super) fn var(&self, call: &str, name: &str) -> Reply<Option<String>> {
        if !names::is_shell_name(name) {
            self.audit_detail("vars-read", name, Decision::Denied, "not a variable name");
            return Ok(Err(HostError::Invalid(format!(
                "{} called {call} with an invalid variable name {}: {SHELL_NAME}",
                self.name,
                shown(name)
            ))));
        }
        if !self.policy.may_read_var(name) {
            self.audit("vars-read", name, Decision::Denied);
            let message = format!(
                "{} may not read variable {name}: not granted (vars-read)",
                self.name
            );
            return Ok(Err(HostError::denied(
                &self.name,
                "vars-read",
                name,
                name,
                message,
            )));
        }
        self.audit("vars-read", name, Decision::Used);
        host_result(self.services().get_var(name)).map(Ok)
    }

    /// A 0.1.0 call without an error channel: an invalid argument fails
    /// the hook.
    pub(super) fn bad_argument_trap(error: HostError) -> wasmtime::Error {
        wasmtime::Error::new(BadArgument(error.message().to_string()))
    }

    /// DevStack's `trueorfalse` over a value read with [`Self::var`].
    pub(super) fn truth(default: bool, value: Option<&str>) -> bool {
        value
            .and_then(crate::model::truth::truth)
            .unwrap_or(default)
    }

    pub(super) fn set_variable(&mut self, name: &str, value: &str) -> Reply<()> {
        if let Some(why) = self.bad_variable(name) {
            return Ok(Err(HostError::Invalid(why)));
        }
        if !self.policy.may_write_var(name) {
            self.audit("vars-write", name, Decision::Denied);
            let message = format!(
                "{} may not set variable {name}: not granted (vars-write)",
                self.name
            );
            return Ok(Err(HostError::denied(
                &self.name,
                "vars-write",
                name,
                name,
                message,
            )));
        }
        if let Some(why) = self.bad_value(name, value) {
            return Ok(Err(HostError::Invalid(why)));
        }
        self.audit("vars-write", name, Decision::Used);
        match self.services().set_var(name, value) {
            Ok(()) => {}
            // Bash's own refusal (read-only, or integer) is the plugin's
            // error to handle, not a broken host.
            Err(e) if e.is::<crate::model::errors::SetRefused>() => {
                return Ok(Err(HostError::Failed(e.to_string())))
            }
            Err(e) => return host_result(Err(e)),
        }
        let bytes = self.vars_bytes_after(name, value);
        self.spent.vars_bytes = bytes;
        self.spent
            .vars
            .insert(name.to_string(), name.len() + value.len());
        Ok(Ok(()))
    }

    pub(super) fn services_enabled(&mut self, services: &[String]) -> wasmtime::Result<bool> {
        self.check_services("is-service-enabled", services)?;
        self.bounded("is_service_enabled", |s| s.is_service_enabled(services))
    }

    pub(super) fn enable_services(&mut self, services: &[String]) -> wasmtime::Result<()> {
        self.check_services("enable-service", services)?;
        self.bounded("enable_service", |s| s.enable_service(services))
    }

    pub(super) fn disable_services(&mut self, services: &[String]) -> wasmtime::Result<()> {
        self.check_services("disable-service", services)?;
        self.bounded("disable_service", |s| s.disable_service(services))
    }

    pub(super) fn summary(&mut self, message: &str) {
        let message = self.message("echo-summary", message);
        self.output.line(Stream::Stdout, &message);
    }

    pub(super) fn warning(&mut self, message: &str) {
        let message = self.message("warn", message).into_owned();
        let shown: Vec<String> = message
            .split('\n')
            .map(|l| format!("[WARNING] {l}"))
            .collect();
        self.output.line(Stream::Stderr, &shown.join("\n"));
        self.keep_warning(&message);
    }

    /// `die`: always the trap that ends the hook.
    pub(super) fn died(&self, message: &str) -> wasmtime::Error {
        let message = self.message("die", message).into_owned();
        wasmtime::Error::new(Died(message))
    }

    pub(super) fn install_packages(&mut self, names: Vec<String>) -> Reply<()> {
        if let Some(why) = self.bad_packages(&names) {
            return Ok(Err(HostError::Invalid(why)));
        }
        if let Some(name) = names.iter().find(|n| !self.policy.may_install(n)) {
            self.audit("packages", name, Decision::Denied);
            let message = format!(
                "{} may not install package {name}: not requested in its manifest (packages)",
                self.name
            );
            return Ok(Err(HostError::denied(
                &self.name, "packages", name, name, message,
            )));
        }
        for name in &names {
            self.audit("packages", name, Decision::Used);
        }
        let really = self.policy.install;
        // A package asked for again is recorded once: a loop cannot fill
        // the disk with the record.
        let names: Vec<String> = match really {
            true => names,
            false => names
                .into_iter()
                .filter(|n| !self.spent.packages.contains(n))
                .collect(),
        };
        if self.spent.packages.len() + names.len() > MAX_PACKAGES_PER_RUN {
            self.audit_detail(
                "size",
                "install-package",
                Decision::Exceeded,
                "packages per run",
            );
            return Ok(Err(HostError::Invalid(format!(
                "{} asked for more than {MAX_PACKAGES_PER_RUN} different packages in one run",
                self.name
            ))));
        }
        self.spent.packages.extend(names.iter().cloned());
        if names.is_empty() {
            return Ok(Ok(()));
        }
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

    /// `is-package-installed`: the session's `is_package_installed`
    /// (dpkg or rpm), for valid package names only; needs no grant.
    pub(super) fn packages_installed(&mut self, names: Vec<String>) -> Reply<bool> {
        if let Some(why) = self.bad_packages(&names) {
            return Ok(Err(HostError::Invalid(why)));
        }
        if names.is_empty() {
            return Ok(Ok(false));
        }
        for name in &names {
            self.audit("packages-installed", name, Decision::Used);
        }
        let mut ignore = |_: Stream, _: &str| {};
        let status = self.bounded("is_package_installed", |s| {
            s.call_function("is_package_installed", &names, &mut ignore)
        })?;
        Ok(Ok(status == 0))
    }

    pub(super) fn run_granted(&mut self, command: &str, args: &[String]) -> Reply<CommandOutput> {
        if command.len() > MAX_NAME {
            self.audit_detail("size", "run-command", Decision::Exceeded, "command name");
            return Ok(Err(HostError::Invalid(format!(
                "{} may not run a command named by {} bytes: the limit is {MAX_NAME}",
                self.name,
                command.len()
            ))));
        }
        if let Some(why) = self.bad_args("run-command", args) {
            return Ok(Err(HostError::Invalid(why)));
        }
        let shown = shown_command(command, args);
        if !self.policy.may_run(command, args) {
            self.audit("commands", &shown, Decision::Denied);
            let message = format!(
                "{} may not run `{shown}`: not granted (commands)",
                self.name
            );
            return Ok(Err(HostError::denied(
                &self.name, "commands", &shown, &shown, message,
            )));
        }
        self.audit("commands", &shown, Decision::Used);
        let not_run = match self.services().is_dry_run() {
            true => super::command::not_run_in_dry_run(command, args),
            false => None,
        };
        if let Some((kind, recorded)) = not_run {
            let recorded = dry_run_line(&recorded);
            if let Err(e) = self.record_dry_run(kind, &recorded) {
                return Ok(Err(HostError::Failed(format!("{e:#}"))));
            }
            let note = format!("dry run: not run ({kind}): {recorded}");
            self.output.line(Stream::Stderr, &note);
            return Ok(Ok(CommandOutput::default()));
        }
        match super::command::run(command, args, self.deadline) {
            Ok(output) => Ok(Ok(output)),
            Err(super::command::Failure::TimedOut) => {
                Err(self.time_limit(&format!("the command {shown}")))
            }
            Err(super::command::Failure::Error(message)) => Ok(Err(HostError::Failed(message))),
        }
    }

    pub(super) fn call_shell_function(&mut self, name: &str, args: &[String]) -> Reply<i32> {
        if !names::is_function_name(name) {
            self.audit_detail("functions", name, Decision::Denied, "not a function name");
            return Ok(Err(HostError::Invalid(format!(
                "{} may not call function {}: not a function name ({FUNCTION_NAME})",
                self.name,
                shown(name)
            ))));
        }
        if let Some(why) = self.bad_args("call-function", args) {
            return Ok(Err(HostError::Invalid(why)));
        }
        if !self.policy.may_call_function(name) {
            self.audit("functions", name, Decision::Denied);
            let message = format!(
                "{} may not call function {name}: not granted (functions)",
                self.name
            );
            return Ok(Err(HostError::denied(
                &self.name,
                "functions",
                name,
                name,
                message,
            )));
        }
        self.audit("functions", name, Decision::Used);
        let output = self.output.clone();
        let mut out = |stream: Stream, line: &str| output.line(stream, line);
        let what = format!("the shell function {name}");
        self.bounded(&what, |s| s.call_function(name, args, &mut out))
            .map(Ok)
    }
}

/// What a valid name of each kind looks like, for refusals.
const SHELL_NAME: &str = "a variable name is letters, digits and _, not starting with a digit";
const SERVICE_NAME: &str =
    "a service name is letters, digits, _ and -, starting with a letter or digit (\"n-cpu\")";
const FUNCTION_NAME: &str =
    "letters, digits, _, :, . and -, starting with a letter or _ (\"is_service_enabled\")";
const PACKAGE_NAME: &str = "letters, digits and + - . _ :, starting with a letter or digit, \
     not ending in -";

/// A command a dry run did not run, as one field of the dry run's record
/// (one record per line, fields separated by tabs): inert, tabs shown as
/// `\t`, cut to a line.
pub(super) fn dry_run_line(recorded: &str) -> String {
    let line = crate::model::inert::inert(recorded).replace('\t', "\\t");
    cut(&line, MAX_LINE).into_owned()
}

/// A string of the plugin's, quoted and inert, cut short for a message.
fn shown(text: &str) -> String {
    quoted(&cut(text, 100))
}

fn shown_command(command: &str, args: &[String]) -> String {
    std::iter::once(command)
        .chain(args.iter().map(String::as_str))
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_dry_run_record_is_one_field_of_one_line() {
        let line = dry_run_line("mkdir 'a\nundefined\tx.sh:1\tforged'\u{1b}");
        assert_eq!(line, "mkdir 'a\\nundefined\\tx.sh:1\\tforged'\\e");
        let long = dry_run_line(&"y".repeat(MAX_LINE * 2));
        assert!(long.ends_with(&format!("[cut: {MAX_LINE} more bytes]")));
    }

    #[test]
    fn a_plugin_string_in_a_message_is_quoted_inert_and_short() {
        assert_eq!(shown("x b[$(id)]\n"), "\"x b[$(id)]\\n\"");
        assert!(shown(&"z".repeat(1000)).len() < 200);
    }
}
