//! Executing a [`Plan`]: every phase of the entry point, every hook in
//! order, bash hooks in the run's one bash session and WASM hooks in their
//! sandboxes, over one variable space.
//!
//! Failure policy: `stack` stops at the first failing hook; `unstack` and
//! `clean` go on, report every failure and exit non-zero.
//!
//! The run reports only through a [`RunObserver`] (see `model::events`);
//! each step's start, output, timing and failure go through [`step::Step`].

mod batch;
mod driver;
pub(crate) mod dryrun;
mod merges;
mod prelude_steps;
mod settings;
pub mod space;
mod step;

use std::cell::RefCell;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context;

use crate::bash::{BatchHook, Outcome, SessionConfig, Stream as BashStream};
use crate::interrupt;
use crate::model::events::{Cause, Event, HostWork, RunEnd, RunStart, StepStatus};
use crate::model::hooks::HookKind;
use crate::model::phases::Phase;
use crate::model::problems::{Problem, Problems};
use crate::plan::drivers;
use crate::plan::{Plan, PlannedHook};
use crate::run::driver::LiveDriver;
use crate::run::space::{AfterEnd, Space};
use crate::run::step::{lock, tell, Step, StepFailure};
use crate::wasm::{self, LineSink, Plugin, PluginConfig, Runtime, SharedServices};

use crate::model::events::{HookFailure, Interrupted, RunObserver};
pub use step::Observer;

/// What a failure says after the session was restarted.
const RESTARTED: &str = "the bash session was restarted, and the DevStack prelude (if any) and \
                         every bash hook's `source` were run again";

/// The run's settings that are not part of the plan.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// `install_package` really installs.
    pub allow_install: bool,
    /// Record `sudo`, installs, `git_clone` and missing commands instead of
    /// running them (see `dryrun`); implies no installs.
    pub dry_run: bool,
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
    observer: Observer,
    summary: RunSummary,
    /// Reads what `--dry-run` recorded, after each step.
    dry_run: Option<crate::run::dryrun::Recorder>,
}

/// What a run of `plan` is about to do, for its observers.
pub fn run_start(plan: &Plan) -> RunStart {
    RunStart {
        entry: plan.entry.name().to_string(),
        top: plan.stack.top.clone(),
        hooks: plan.hooks.iter().map(|h| h.file.file_name()).collect(),
        phases: plan.phases.clone(),
        steps: planned_steps(plan),
    }
}

/// The steps a run of `plan` reports when nothing fails: each hook in each
/// phase, the driver's calls, local.conf's merges, the prelude's parts.
fn planned_steps(plan: &Plan) -> usize {
    let hooks = plan.hooks.len() * plan.phases.len();
    let driver = match &plan.driver {
        Some(driver) => driver.calls(&plan.phases).len(),
        None => 0,
    };
    let merges: usize = match &plan.stack.local_conf {
        Some(conf) => plan
            .phases
            .iter()
            .map(|&phase| {
                let groups = crate::config::ini::groups_after(phase);
                let meta = conf.meta.iter();
                meta.filter(|m| groups.contains(&m.phase.as_str())).count()
            })
            .sum(),
        None => 0,
    };
    let prelude = plan
        .prelude
        .as_ref()
        .map_or(0, |p| p.parts.len() + usize::from(p.post_source.is_some()));
    hooks + driver + merges + prelude
}

/// Run `plan`: load every component, start the bash session, walk the
/// phases, telling `observer` what happens.
pub fn execute(
    plan: &Plan,
    options: &RunOptions,
    observer: Observer,
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
    let sources = wasm::load::read_all(&runtime, &wasm_hooks(plan));
    let mut clock = HostClock::new(started, observer.clone());
    clock.done(
        "start-up",
        "WebAssembly runtime, component files read".into(),
    );
    // The bash session starts (mostly waiting on bash) while the components
    // load; a refused run closes it again before any hook ran.
    let (loaded, driver_component, compiled, space) = std::thread::scope(|scope| {
        let space = scope.spawn(|| Space::start(session_config(plan, options)));
        let loaded = load_components(&runtime, plan, &sources, &observer);
        // A refused hook component refuses the run before the driver is loaded.
        let driver = match &loaded {
            Ok(_) => driver::load_component(&runtime, plan.driver.as_ref()),
            Err(_) => Ok(None),
        };
        // Waiting for bash after this is the session's time, not the compile's.
        (loaded, driver, Instant::now(), space.join())
    });
    let loaded = loaded?;
    let space = space.map_err(|_| anyhow::anyhow!("starting the bash session panicked"))?;
    let driver_component = driver_component?;
    clock.done_at(
        compiled,
        "compile",
        compile_detail(wasm::load::count(&sources)),
    );
    runtime.upgrade_in_background();
    for warning in runtime.take_warnings() {
        tell(&observer, Event::Warning(&warning));
    }
    prepare_dirs(plan)?;
    let dry_run = match options.dry_run {
        true => Some({
            // What a hook starts in the background is stopped at the end.
            interrupt::adopt_orphans();
            crate::run::dryrun::Recorder::start(&plan.stack.state_dir, &plan.stack.vars)
                .with_context(|| {
                    format!(
                        "cannot write the dry run's record in {}",
                        plan.stack.state_dir.display()
                    )
                })?
        }),
        false => None,
    };
    let mut space = space?;
    if plan.entry.stops_at_first_failure() && !options.dry_run {
        space.stop_at_failure();
    }
    // A DevStack tree's prelude (its first part) before anything else.
    prelude_steps::start(&mut space, plan, options, &observer)?;
    // A bash driver is sourced and checked before any hook runs.
    driver::load_bash(&mut space, plan.driver.as_ref(), &observer)?;
    let space = Arc::new(Mutex::new(space));
    let services: SharedServices = space.clone();
    let mut run = Run {
        plan,
        space,
        plugins: Vec::new(),
        driver: None,
        observer,
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
    clock.done(
        "session start",
        "bash started, prelude, plugin instances".into(),
    );
    if run.summary.failures.is_empty() || !plan.entry.stops_at_first_failure() {
        run.walk_phases();
    }
    run.finish(started)
}

/// The WASM hooks of the plan, as components to load.
fn wasm_hooks(plan: &Plan) -> Vec<(&std::path::Path, wasm::Role)> {
    plan.hooks
        .iter()
        .filter(|hook| hook.file.kind == HookKind::Wasm)
        .map(|hook| (hook.file.path.as_path(), wasm::Role::Hook))
        .collect()
}

/// Compile and check every WASM hook before anything runs: a broken
/// component refuses the whole run, naming every bad file. While some
/// compile, the observers hear how many are done (`compiling`).
fn load_components(
    runtime: &Runtime,
    plan: &Plan,
    sources: &[wasm::load::Source],
    observer: &Observer,
) -> anyhow::Result<Vec<Option<wasm::LoadedComponent>>> {
    let count = wasm::load::count(sources);
    let started = Instant::now();
    let progress = |done: usize| {
        let detail = format!(
            "{}: {done}/{} compiled",
            compile_detail(count),
            count.compiled
        );
        tell(
            observer,
            Event::HostProgress(&HostWork {
                name: "compiling".into(),
                detail,
                duration: started.elapsed(),
            }),
        );
    };
    if count.compiled > 0 {
        progress(0);
    }
    // Compiled in parallel (or read from the compiled cache).
    let mut results = wasm::load::load_sources(runtime, sources, &progress).into_iter();
    let mut loaded = Vec::new();
    let mut problems = Problems::new();
    for hook in &plan.hooks {
        let result = match hook.file.kind {
            HookKind::Wasm => results.next(),
            _ => None,
        };
        match result {
            Some(Ok(component)) => loaded.push(Some(component)),
            Some(Err(e)) => {
                problems.push(Problem::new(e.to_string()));
                loaded.push(None);
            }
            None => loaded.push(None),
        }
    }
    Ok(problems.or_ok(loaded)?)
}

/// `3 components (2 cached)`.
fn compile_detail(count: wasm::CompileCount) -> String {
    let total = count.cached + count.compiled;
    let plural = if total == 1 { "" } else { "s" };
    format!("{total} component{plural} ({} cached)", count.cached)
}

/// Times the host's own work as consecutive spans from the start of the
/// run, each told as [`HostWork`] when done: with the phases after them,
/// they add up to the run's total.
struct HostClock {
    last: Instant,
    observer: Observer,
}

impl HostClock {
    fn new(started: Instant, observer: Observer) -> HostClock {
        HostClock {
            last: started,
            observer,
        }
    }

    /// The span from the end of the last one until now is `name`'s.
    fn done(&mut self, name: &str, detail: String) {
        self.done_at(Instant::now(), name, detail);
    }

    /// The span from the end of the last one until `end` is `name`'s.
    fn done_at(&mut self, end: Instant, name: &str, detail: String) {
        let work = HostWork {
            name: name.into(),
            detail,
            duration: end.saturating_duration_since(self.last),
        };
        self.last = end;
        tell(&self.observer, Event::HostWork(&work));
    }
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
    empty_root(&plan.stack.empty_root())
}

/// The directory plugins see as `/`: empty, and read-only for everyone,
/// whatever was left there.
fn empty_root(root: &std::path::Path) -> anyhow::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let fail = || format!("cannot prepare the empty directory {}", root.display());
    match std::fs::symlink_metadata(root) {
        Ok(meta) if meta.is_dir() => {
            std::fs::set_permissions(root, std::fs::Permissions::from_mode(0o755))
                .with_context(fail)?;
            std::fs::remove_dir_all(root).with_context(fail)?;
        }
        Ok(_) => std::fs::remove_file(root).with_context(fail)?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(anyhow::Error::new(e).context(fail())),
    }
    std::fs::create_dir(root).with_context(fail)?;
    std::fs::set_permissions(root, std::fs::Permissions::from_mode(0o555)).with_context(fail)
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
                    let kind = hook.file.kind.to_string();
                    let failure =
                        step::hook_failure(&hook.file.stem, &kind, Phase::Source, failure.into());
                    self.fail(failure);
                    self.plugins.push(None);
                }
            }
        }
    }

    /// Where a plugin's output lines go: the observers, under its name.
    fn sink(&self, hook: &str) -> LineSink {
        let observer = self.observer.clone();
        let hook = hook.to_string();
        Arc::new(move |stream, line| {
            let stderr = stream == wasm::Stream::Stderr;
            tell(
                &observer,
                Event::Output {
                    hook: &hook,
                    stderr,
                    line,
                },
            );
        })
    }

    fn walk_phases(&mut self) {
        for &phase in &self.plan.phases {
            tell(&self.observer, Event::PhaseStarted(phase));
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
        let mut step = Step::start(&self.observer, &hook.file.stem, &kind, phase);
        let result = match hook.file.kind {
            HookKind::Bash => self.run_bash(hook, phase, &mut step),
            HookKind::Wasm => self.run_wasm(index, phase),
        };
        step.stop_clock();
        // Ctrl-C during the hook: whatever it returned, the run stops here.
        if self.stop_if_interrupted(index, phase, true) {
            step.finish(StepStatus::Interrupted, Some("interrupted"));
            return Err(());
        }
        self.collect_dry_run(&hook.file.stem, &phase.to_string());
        let Err(mut failure) = result else {
            step.succeeded();
            return Ok(());
        };
        if let Some(died) = self.died_in(&hook.file.stem, phase) {
            failure.reason = died;
        }
        let failure = step.fail(failure);
        self.fail(failure);
        Err(())
    }

    /// After Ctrl-C: record and report where the run stopped; true if it did.
    fn stop_if_interrupted(&mut self, index: usize, phase: Phase, during: bool) -> bool {
        if !interrupt::requested() {
            return false;
        }
        let hook = &self.plan.hooks[index];
        self.record_interrupt(Interrupted {
            hook: hook.file.stem.clone(),
            kind: hook.file.kind.to_string(),
            phase,
            during,
        });
        true
    }

    /// Report where Ctrl-C stopped the run and keep it in the summary.
    fn record_interrupt(&mut self, at: Interrupted) {
        tell(&self.observer, Event::Interrupted(&at));
        self.summary.stopped_at = Some((at.hook.clone(), at.phase));
        self.summary.interrupted = Some(at);
    }

    fn run_wasm(&mut self, index: usize, phase: Phase) -> Result<(), StepFailure> {
        let plan = self.plan;
        // An external WASM plugin's settings (read, never run) come first.
        if let Some(external) = &plan.hooks[index].external {
            let ops = external.wasm_ops(phase);
            if !ops.is_empty() {
                let mut space = lock(&self.space);
                settings::apply_ops(&mut space, ops).map_err(StepFailure::new)?;
            }
        }
        {
            let mut space = lock(&self.space);
            space.set_caller(&plan.hooks[index].file.stem);
            space.take_ended_in_call();
        }
        let result = match &mut self.plugins[index] {
            Some(plugin) => plugin.run_phase(phase).map_err(StepFailure::from),
            None => Err(StepFailure {
                cause: Cause::NotCalled,
                ..StepFailure::new("was not called: it could not be started in this run".into())
            }),
        };
        result.map_err(|mut failure| {
            // A host call that ended the bash session failed the plugin.
            if let Some(ended) = lock(&self.space).take_ended_in_call() {
                failure.cause = Cause::SessionEnded(ended);
            }
            failure
        })
    }

    fn run_bash(
        &self,
        hook: &PlannedHook,
        phase: Phase,
        step: &mut Step,
    ) -> Result<(), StepFailure> {
        let stack = &self.plan.stack;
        let dry_run = self.dry_run.is_some();
        let mut out = |stream: BashStream, line: &str| {
            if dry_run && stream == BashStream::Stderr {
                dryrun::note_refused_write(line, &stack.top, &stack.state_dir);
            }
            step.output(stream, line)
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
                space.run_confined(&job, &mut out)
            }
            None => {
                let replayed = prelude_steps::replayed(phase);
                space.source_hook(&path, &args, replayed, &mut out)
            }
        };
        match outcome {
            Ok(Outcome::Success) => Ok(()),
            // A dry run's refused write is a finding (`would write PATH`).
            Ok(Outcome::Failed { .. })
                if dry_run
                    && dryrun::ended_at_refused_write(
                        step.last_line(),
                        &stack.top,
                        &stack.state_dir,
                    ) =>
            {
                Ok(())
            }
            Ok(Outcome::Failed { status }) => {
                Err(StepFailure::new(format!("exited with status {status}")))
            }
            Ok(ended) => Err(after_end(&mut space, &ended)),
            Err(e) => Err(StepFailure::new(format!(
                "could not be run in the bash session: {e:#}"
            ))),
        }
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

    /// Report a failure and keep it in the summary.
    fn fail(&mut self, failure: HookFailure) {
        tell(&self.observer, Event::HookFailed(&failure));
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
        let mut observer = lock(&self.observer);
        for (hook, message) in space.warnings() {
            observer.event(&Event::Warning(&format!("{hook}: {message}")));
        }
        self.summary.packages_wanted = read_wanted(&space.packages_wanted_file());
        if !self.summary.packages_wanted.is_empty() {
            observer.event(&Event::Warning(&format!(
                "not installed (no install grant; rerun with --allow-install): {}",
                self.summary.packages_wanted.join(", ")
            )));
        }
        space.close()?;
        if self.dry_run.is_some() {
            stop_what_is_left(&mut *observer);
        }
        self.summary.duration = started.elapsed();
        observer.event(&Event::Finished(&RunEnd {
            entry: self.plan.entry.name().to_string(),
            failures: self.summary.failures.len(),
            duration: self.summary.duration,
            stopped_at: self.summary.stopped_at.clone(),
            incomplete: Vec::new(),
        }));
        drop(observer);
        Ok(self.summary)
    }
}

/// What Ctrl-C does to running guests: advance the engine's epoch past the
/// longest time limit of the plan, so the running call traps at its next
/// epoch check instead of running to its own deadline.
fn epoch_bumper(runtime: &Runtime, plan: &Plan) -> impl Fn() + Send + Sync + 'static {
    let longest = plan.policies().map(|p| p.timeout).max().unwrap_or_default();
    // Capped: a bump costs one atomic add per tick; a day of ticks is ~9M.
    let ticks = (longest.as_millis() / wasm::EPOCH_TICK.as_millis().max(1) + 2).min(100_000_000);
    runtime.epoch_bumper(ticks as u64)
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

/// A bash step's session ended: the space's restart policy decides what
/// happens, the failure says what did.
fn after_end(space: &mut Space, outcome: &Outcome) -> StepFailure {
    let Some(ended) = space::ended(outcome) else {
        return StepFailure::new(space::describe(outcome));
    };
    let reason = match space.restart_after_end() {
        // Ctrl-C ended the session: the run stops, nothing to restart.
        AfterEnd::Interrupted => {
            return StepFailure::new(format!("was interrupted ({})", interrupt::cause()))
        }
        AfterEnd::Restarted => format!("{ended}; {RESTARTED}"),
        AfterEnd::Stopped => ended.to_string(),
        AfterEnd::NotRestarted(e) => {
            format!("{ended}; the bash session could not be restarted: {e:#}")
        }
    };
    StepFailure {
        cause: Cause::SessionEnded(ended),
        ..StepFailure::new(reason)
    }
}

/// A dry run leaves nothing running: what its hooks started in the
/// background (orphans included, see `interrupt::adopt_orphans`) is killed,
/// and the operator is told.
fn stop_what_is_left(observer: &mut dyn RunObserver) {
    let left = interrupt::descendants(std::process::id());
    if left.is_empty() {
        return;
    }
    interrupt::signal_descendants(libc::SIGKILL);
    observer.event(&Event::Warning(&format!(
        "dry run: stopped {} process{} its hooks left running",
        left.len(),
        if left.len() == 1 { "" } else { "es" }
    )));
}
