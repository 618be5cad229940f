//! Executing a [`Plan`]: every phase of the entry point, every hook in
//! order, bash hooks in the run's one bash session and WASM hooks in their
//! sandboxes, over one variable space.
//!
//! Failure policy (PRODUCT §2): `stack` stops at the first failing hook;
//! `unstack` and `clean` go on, report every failure and exit non-zero.

mod batch;
mod driver_steps;
pub mod dryrun;
mod merges;
mod prelude_steps;
pub mod space;

use std::cell::RefCell;
use std::collections::VecDeque;
use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context;

use crate::bash::{BatchHook, Outcome, SessionConfig, Stream as BashStream};
use crate::interrupt;
use crate::model::phases::Phase;
use crate::plan::discovery::HookKind;
use crate::plan::drivers::{self, LiveDriver};
use crate::plan::{Plan, PlannedHook};
use crate::report::{Reporter, Timing};
use crate::run::space::{describe, Space};
use crate::wasm::{self, CallFailure, LineSink, Plugin, PluginConfig, Runtime, SharedServices};

/// What a failure says after the session was restarted.
const RESTARTED: &str = "the bash session was restarted, and the DevStack prelude (if any) and \
                         every bash hook's `source` were run again";

/// Lines of a bash hook's output kept for its error report.
const TAIL_LINES: usize = 20;

/// The run's settings that are not part of the plan.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// `install_package` really installs.
    pub allow_install: bool,
    /// Record `sudo`, installs, `git_clone` and missing commands instead of
    /// running them (see `dryrun`); implies no installs.
    pub dry_run: bool,
}

/// One hook that failed, with everything needed to act on it.
#[derive(Debug, Clone)]
pub struct HookFailure {
    pub hook: String,
    pub kind: HookKind,
    pub phase: Phase,
    pub reason: String,
    pub output_tail: Vec<String>,
}

impl fmt::Display for HookFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "hook {} ({}) failed in `{}`: {}",
            self.hook, self.kind, self.phase, self.reason
        )?;
        if !self.output_tail.is_empty() {
            write!(f, "\n  last output of {}:", self.hook)?;
            for line in &self.output_tail {
                write!(f, "\n  | {line}")?;
            }
        }
        Ok(())
    }
}

/// Where Ctrl-C stopped a run.
#[derive(Debug, Clone)]
pub struct Interrupted {
    pub hook: String,
    pub kind: HookKind,
    pub phase: Phase,
    /// The hook was running and was stopped (else: the run stopped before it).
    pub during: bool,
}

/// How a run ended.
#[derive(Debug, Default)]
pub struct RunSummary {
    pub failures: Vec<HookFailure>,
    /// Set when `stack` stopped early at a failure, or at Ctrl-C.
    pub stopped_at: Option<(String, Phase)>,
    /// Set when Ctrl-C stopped the run.
    pub interrupted: Option<Interrupted>,
    pub duration: Duration,
    /// Packages hooks wanted installed that were only recorded.
    pub packages_wanted: Vec<String>,
    /// What `--dry-run` recorded instead of running, in order.
    pub dry_run: Vec<crate::run::dryrun::Record>,
}

impl RunSummary {
    pub fn ok(&self) -> bool {
        self.failures.is_empty() && self.interrupted.is_none()
    }
}

/// Everything live during a run.
struct Run<'a> {
    plan: &'a Plan,
    space: Arc<Mutex<Space>>,
    plugins: Vec<Option<Plugin>>,
    /// The hypervisor driver, once started.
    driver: Option<LiveDriver<'a>>,
    reporter: Arc<Mutex<Reporter>>,
    summary: RunSummary,
    /// Reads what `--dry-run` recorded, after each step.
    dry_run: Option<crate::run::dryrun::Recorder>,
}

/// Run `plan`: load every component, start the bash session, walk the phases.
pub fn execute(
    plan: &Plan,
    options: &RunOptions,
    reporter: Arc<Mutex<Reporter>>,
) -> anyhow::Result<RunSummary> {
    let started = Instant::now();
    if options.dry_run {
        // Before the session starts: its PATH is these shims.
        crate::run::dryrun::prepare_bin(
            &plan.stack.top,
            &plan.stack.state_dir,
            plan.prelude.is_some(),
        )
        .with_context(|| {
            format!(
                "cannot prepare the dry run's commands in {}",
                plan.stack.state_dir.display()
            )
        })?;
    }
    let runtime = Runtime::new().context("cannot start the WebAssembly runtime")?;
    // Ctrl-C: push the epoch past every plugin's deadline, so a running guest traps.
    let _stop_guests = interrupt::on_interrupt(epoch_bumper(&runtime, plan));
    // The bash session starts (mostly waiting on bash) while the components
    // load; a refused run closes it again before any hook ran.
    let (loaded, space) = std::thread::scope(|scope| {
        let space = scope.spawn(|| Space::start(session_config(plan, options)));
        let loaded = load_components(&runtime, plan);
        (loaded, space.join())
    });
    let loaded = loaded?;
    let space = space.map_err(|_| anyhow::anyhow!("starting the bash session panicked"))?;
    let driver_component = drivers::load_component(&runtime, plan.driver.as_ref())?;
    for warning in runtime.take_warnings() {
        lock(&reporter).warning(&warning);
    }
    prepare_dirs(plan)?;
    let dry_run = match options.dry_run {
        true => Some(
            crate::run::dryrun::Recorder::start(&plan.stack.state_dir).with_context(|| {
                format!(
                    "cannot write the dry run's record in {}",
                    plan.stack.state_dir.display()
                )
            })?,
        ),
        false => None,
    };
    let mut space = space?;
    // A DevStack tree's prelude (its first part) before anything else.
    prelude_steps::start(&mut space, plan, options, &reporter)?;
    // A bash driver is sourced and checked before any hook runs.
    drivers::load_bash(&mut space, plan.driver.as_ref(), &reporter)?;
    let space = Arc::new(Mutex::new(space));
    let services: SharedServices = space.clone();
    let mut run = Run {
        plan,
        space,
        plugins: Vec::new(),
        driver: None,
        reporter,
        summary: RunSummary::default(),
        dry_run,
    };
    run.collect_dry_run(
        "prelude",
        &plan
            .phases
            .first()
            .copied()
            .unwrap_or(Phase::Source)
            .to_string(),
    );
    run.instantiate(&runtime, &loaded, &services);
    run.start_driver(&runtime, driver_component.as_ref(), &services);
    // Plugins hold their own handles; the run's must not outlive them.
    drop(services);
    if run.summary.failures.is_empty() || !plan.entry.stops_at_first_failure() {
        run.walk_phases();
    }
    run.finish(started)
}

/// Compile and check every WASM hook before anything runs: a broken
/// component refuses the whole run, naming every bad file.
fn load_components(
    runtime: &Runtime,
    plan: &Plan,
) -> anyhow::Result<Vec<Option<wasm::LoadedComponent>>> {
    let wanted: Vec<_> = plan
        .hooks
        .iter()
        .filter(|hook| hook.file.kind == HookKind::Wasm)
        .map(|hook| (hook.file.path.as_path(), wasm::Role::Hook))
        .collect();
    // Compiled in parallel (or read from the compiled cache).
    let mut results = wasm::load_all(runtime, &wanted).into_iter();
    let mut loaded = Vec::new();
    let mut errors = Vec::new();
    for hook in &plan.hooks {
        let result = match hook.file.kind {
            HookKind::Wasm => results.next(),
            _ => None,
        };
        match result {
            Some(Ok(component)) => loaded.push(Some(component)),
            Some(Err(e)) => {
                errors.push(e.to_string());
                loaded.push(None);
            }
            None => loaded.push(None),
        }
    }
    if !errors.is_empty() {
        anyhow::bail!("{}", errors.join("\n"));
    }
    Ok(loaded)
}

/// Create what a run writes into: the state directory (a fresh record of
/// wanted packages) and each plugin's private data directory.
fn prepare_dirs(plan: &Plan) -> anyhow::Result<()> {
    let state = &plan.stack.state_dir;
    std::fs::create_dir_all(state)
        .with_context(|| format!("cannot create the state directory {}", state.display()))?;
    let wanted = state.join("packages-wanted");
    if wanted.exists() {
        std::fs::remove_file(&wanted)
            .with_context(|| format!("cannot reset {}", wanted.display()))?;
    }
    let data_dirs = plan.policies();
    for dir in data_dirs
        .flat_map(|p| &p.dirs)
        .filter(|d| d.guest == "/data")
    {
        std::fs::create_dir_all(&dir.host)
            .with_context(|| format!("cannot create the data directory {}", dir.host.display()))?;
    }
    Ok(())
}

fn session_config(plan: &Plan, options: &RunOptions) -> SessionConfig {
    SessionConfig {
        top_dir: plan.stack.top.clone(),
        dest: plan.stack.dest.clone(),
        state_dir: plan.stack.state_dir.clone(),
        // A dry run surveys: no errexit, and it goes on past failures.
        errexit: plan.entry.stops_at_first_failure() && !options.dry_run,
        allow_install: options.allow_install && !options.dry_run,
        dry_run: options.dry_run,
        // `$0` names the entry script, as stack.sh/unstack.sh/clean.sh did.
        script: Some(format!("{}.sh", plan.entry.name())),
        vars: plan.vars.clone(),
        watch: plan.watched_vars(),
        devstack: plan.prelude.is_some(),
    }
}

impl Run<'_> {
    fn instantiate(
        &mut self,
        runtime: &Runtime,
        loaded: &[Option<wasm::LoadedComponent>],
        services: &SharedServices,
    ) {
        for (hook, component) in self.plan.hooks.iter().zip(loaded) {
            let Some(component) = component else {
                self.plugins.push(None);
                continue;
            };
            let config = PluginConfig {
                name: hook.file.stem.clone(),
                policy: hook.policy.clone().unwrap_or_default(),
                services: services.clone(),
                sink: self.sink(&hook.file.stem),
            };
            match runtime.instantiate(component, config) {
                Ok(plugin) => self.plugins.push(Some(plugin)),
                Err(failure) => {
                    self.fail(hook, Phase::Source, failure.reason, failure.output_tail);
                    self.plugins.push(None);
                }
            }
        }
    }

    /// Where a plugin's output lines go: the reporter, under its name.
    fn sink(&self, hook: &str) -> LineSink {
        let reporter = self.reporter.clone();
        let hook = hook.to_string();
        Arc::new(move |stream, line| {
            let stderr = stream == wasm::Stream::Stderr;
            lock(&reporter).output(&hook, stderr, line);
        })
    }

    fn walk_phases(&mut self) {
        for &phase in &self.plan.phases {
            lock(&self.reporter).phase_started(phase);
            if !self.finish_prelude(phase) {
                return;
            }
            if !self.driver_calls(phase, drivers::At::BeforeHooks) {
                return;
            }
            let mut index = 0;
            while index < self.plan.hooks.len() {
                if self.stop_if_interrupted(index, phase, false) {
                    return;
                }
                // Plain bash hooks (one, or consecutive ones): one round trip.
                let (last, result) = match self.bash_run_end(index) {
                    end if end > index => self.run_bash_batch(index, end, phase),
                    _ => (index, self.run_hook(index, phase)),
                };
                if self.summary.interrupted.is_some() {
                    return;
                }
                let stops = self.plan.entry.stops_at_first_failure() && self.dry_run.is_none();
                if result.is_err() && stops {
                    let hook = &self.plan.hooks[last];
                    self.summary.stopped_at = Some((hook.file.stem.clone(), phase));
                    return;
                }
                index = last + 1;
            }
            // local.conf's [[post-config|FILE]]... after the phase's hooks.
            if !self.merge_local_conf(phase) {
                return;
            }
            if !self.driver_calls(phase, drivers::At::AfterHooks) {
                return;
            }
        }
    }

    fn run_hook(&mut self, index: usize, phase: Phase) -> Result<(), ()> {
        let plan = self.plan;
        let hook = &plan.hooks[index];
        let kind = hook.file.kind.to_string();
        lock(&self.reporter).hook_started(&hook.file.stem, &kind, phase);
        let started = Instant::now();
        let result = match hook.file.kind {
            HookKind::Bash => self.run_bash(hook, phase),
            HookKind::Wasm => self.run_wasm(index, phase),
        };
        let timing = Timing {
            phase,
            hook: hook.file.stem.clone(),
            kind,
            duration: started.elapsed(),
            ok: result.is_ok(),
        };
        // Ctrl-C during the hook: whatever it returned, the run stops here.
        if self.stop_if_interrupted(index, phase, true) {
            let timing = Timing {
                ok: false,
                ..timing
            };
            lock(&self.reporter).hook_finished(timing, Some("interrupted"));
            return Err(());
        }
        self.collect_dry_run(&hook.file.stem, &phase.to_string());
        let result = result.map_err(|mut failure| {
            if let Some(died) = self.died_in(&hook.file.stem, phase) {
                failure.reason = died;
            }
            failure
        });
        let error = result.as_ref().err().map(|f| f.reason.clone());
        lock(&self.reporter).hook_finished(timing, error.as_deref());
        result.map_err(|failure| self.fail(hook, phase, failure.reason, failure.output_tail))
    }

    /// After Ctrl-C: record and report where the run stopped; true if it did.
    fn stop_if_interrupted(&mut self, index: usize, phase: Phase, during: bool) -> bool {
        if !interrupt::requested() {
            return false;
        }
        let hook = &self.plan.hooks[index];
        self.record_interrupt(Interrupted {
            hook: hook.file.stem.clone(),
            kind: hook.file.kind,
            phase,
            during,
        });
        true
    }

    /// Report where Ctrl-C stopped the run and keep it in the summary.
    fn record_interrupt(&mut self, at: Interrupted) {
        lock(&self.reporter).interrupted(&at, self.plan.entry.name());
        self.summary.stopped_at = Some((at.hook.clone(), at.phase));
        self.summary.interrupted = Some(at);
    }

    fn run_wasm(&mut self, index: usize, phase: Phase) -> Result<(), CallFailure> {
        let plan = self.plan;
        // An external WASM plugin's settings (read, never run) come first.
        if let Some(external) = &plan.hooks[index].external {
            let ops = external.wasm_ops(phase);
            if !ops.is_empty() {
                let mut space = lock(&self.space);
                crate::plan::external::apply_ops(&mut space, ops).map_err(|reason| {
                    CallFailure {
                        reason,
                        output_tail: Vec::new(),
                    }
                })?;
            }
        }
        lock(&self.space).set_caller(&plan.hooks[index].file.stem);
        match &mut self.plugins[index] {
            Some(plugin) => plugin.run_phase(phase),
            None => Err(CallFailure {
                reason: "was not called: it could not be started in this run".into(),
                output_tail: Vec::new(),
            }),
        }
    }

    fn run_bash(&self, hook: &PlannedHook, phase: Phase) -> Result<(), CallFailure> {
        let mut tail = VecDeque::new();
        let reporter = self.reporter.clone();
        let name = hook.file.stem.clone();
        let stack = &self.plan.stack;
        let dry_run = self.dry_run.is_some();
        let mut out = |stream: BashStream, line: &str| {
            lock(&reporter).output(&name, stream == BashStream::Stderr, line);
            if dry_run && stream == BashStream::Stderr {
                dryrun::note_refused_write(line, &stack.top, &stack.state_dir);
            }
            if tail.len() == TAIL_LINES {
                tail.pop_front();
            }
            tail.push_back(line.to_string());
        };
        // An external plugin sources another file per phase (or none).
        let (path, args) = match &hook.external {
            Some(plugin) => match plugin.bash_step(phase) {
                Some((path, args)) => (path.to_path_buf(), args),
                None => return Ok(()),
            },
            None => (hook.file.path.clone(), phase.args()),
        };
        let mut space = lock(&self.space);
        let outcome = match hook.policy.as_ref().filter(|p| p.confine) {
            // A confined hook runs in a child bash under Landlock.
            Some(policy) => {
                let path = self.plan.stack.top.join(&path);
                let job = crate::bash::confine::Job {
                    stem: &hook.file.stem,
                    hook: &path,
                    args: &args,
                    policy,
                    top_dir: &self.plan.stack.top,
                    state_dir: &self.plan.stack.state_dir,
                    // A dry run surveys: no errexit, as in the session.
                    errexit: self.plan.entry.stops_at_first_failure() && !dry_run,
                    dry_run,
                };
                crate::bash::confine::run_hook(space.session(), &job, &mut out)
            }
            None => {
                let outcome = space.session().source_hook(&path, &args, &mut out);
                if prelude_steps::replayed(phase) && space.session().is_alive() {
                    space.replay_log().sourced(&path, &args);
                }
                outcome
            }
        };
        let reason = match outcome {
            Ok(Outcome::Success) => return Ok(()),
            // A dry run's refused write is a finding (`would write PATH`).
            Ok(Outcome::Failed { .. })
                if dry_run
                    && dryrun::ended_at_refused_write(tail.make_contiguous(), &stack.top) =>
            {
                return Ok(())
            }
            Ok(Outcome::Failed { status }) => format!("exited with status {status}"),
            // Ctrl-C ended the session: the run stops, nothing to restart.
            Ok(Outcome::SessionEnded { .. }) if interrupt::requested() => {
                format!("was interrupted ({})", interrupt::cause())
            }
            Ok(ended @ Outcome::SessionEnded { .. }) => {
                let reason = describe(&ended);
                if let Err(e) = space.restart() {
                    format!("{reason}; the bash session could not be restarted: {e:#}")
                } else {
                    format!("{reason}; {RESTARTED}")
                }
            }
            Err(e) => format!("could not be run in the bash session: {e:#}"),
        };
        Err(CallFailure {
            reason,
            output_tail: tail.into_iter().collect(),
        })
    }

    /// In a dry run, the `die` that ended `hook`'s `phase`, as a reason:
    /// the phase failed because DevStack would have stopped there.
    fn died_in(&self, hook: &str, phase: Phase) -> Option<String> {
        self.dry_run.as_ref()?;
        let phase = phase.to_string();
        let died = self
            .summary
            .dry_run
            .iter()
            .rev()
            .find(|r| r.kind == "die" && r.hook == hook && r.phase == phase)?;
        Some(format!(
            "DevStack's die at {}: {} (the dry run goes on)",
            died.place, died.command
        ))
    }

    fn fail(&mut self, hook: &PlannedHook, phase: Phase, reason: String, output_tail: Vec<String>) {
        let failure = HookFailure {
            hook: hook.file.stem.clone(),
            kind: hook.file.kind,
            phase,
            reason,
            output_tail,
        };
        lock(&self.reporter).hook_failed(&failure);
        self.summary.failures.push(failure);
    }

    fn finish(mut self, started: Instant) -> anyhow::Result<RunSummary> {
        self.plugins.clear();
        self.driver = None;
        self.report_dry_run();
        let space = Arc::try_unwrap(self.space)
            .map_err(|_| {
                anyhow::anyhow!("the variable space is still in use at the end of the run")
            })?
            .into_inner()
            .unwrap_or_else(|e| e.into_inner());
        let mut reporter = lock(&self.reporter);
        for (hook, message) in space.warnings() {
            reporter.warning(&format!("{hook}: {message}"));
        }
        self.summary.packages_wanted = read_wanted(&space.packages_wanted_file());
        if !self.summary.packages_wanted.is_empty() {
            reporter.warning(&format!(
                "not installed (no install grant; rerun with --allow-install): {}",
                self.summary.packages_wanted.join(", ")
            ));
        }
        space.close()?;
        self.summary.duration = started.elapsed();
        reporter.finished(
            self.plan.entry.name(),
            self.summary.failures.len(),
            self.summary.duration,
        );
        Ok(self.summary)
    }
}

/// What Ctrl-C does to running guests: advance the engine's epoch past the
/// longest time limit of the plan, so the running call traps at its next
/// epoch check instead of running to its own deadline.
fn epoch_bumper(runtime: &Runtime, plan: &Plan) -> impl Fn() + Send + Sync + 'static {
    let engine = runtime.engine().clone();
    let longest = plan.policies().map(|p| p.timeout).max().unwrap_or_default();
    // Capped: a bump costs one atomic add per tick; a day of ticks is ~9M.
    let ticks = (longest.as_millis() / wasm::EPOCH_TICK.as_millis().max(1) + 2).min(100_000_000);
    move || {
        for _ in 0..ticks {
            engine.increment_epoch();
        }
    }
}

/// The packages recorded as wanted, one per line (`name [hook]`), deduplicated.
fn read_wanted(path: &std::path::Path) -> Vec<String> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let mut seen = std::collections::HashSet::new();
    text.lines()
        .filter_map(|l| l.split_whitespace().next())
        .filter(|name| seen.insert(*name))
        .map(str::to_string)
        .collect()
}

fn lock<T: ?Sized>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}
