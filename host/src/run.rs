//! Executing a [`Plan`]: every phase of the entry point, every hook in
//! order, bash hooks in the run's one bash session and WASM hooks in their
//! sandboxes, over one variable space.
//!
//! Failure policy (PRODUCT §2): `stack` stops at the first failing hook;
//! `unstack` and `clean` go on, report every failure and exit non-zero.

use std::collections::VecDeque;
use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context;

use crate::bash::{Outcome, SessionConfig, Stream as BashStream};
use crate::discovery::HookKind;
use crate::phases::Phase;
use crate::plan::{Plan, PlannedHook};
use crate::report::{Reporter, Timing};
use crate::space::{describe, Space};
use crate::wasm::{self, CallFailure, LineSink, Plugin, PluginConfig, Runtime, SharedServices};

/// Lines of a bash hook's output kept for its error report.
const TAIL_LINES: usize = 20;

/// The run's settings that are not part of the plan.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// `install_package` really installs.
    pub allow_install: bool,
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

/// How a run ended.
#[derive(Debug, Default)]
pub struct RunSummary {
    pub failures: Vec<HookFailure>,
    /// Set when `stack` stopped early at a failure.
    pub stopped_at: Option<(String, Phase)>,
    pub duration: Duration,
    /// Packages hooks wanted installed that were only recorded.
    pub packages_wanted: Vec<String>,
}

impl RunSummary {
    pub fn ok(&self) -> bool {
        self.failures.is_empty()
    }
}

/// Everything live during a run.
struct Run<'a> {
    plan: &'a Plan,
    space: Arc<Mutex<Space>>,
    plugins: Vec<Option<Plugin>>,
    reporter: Arc<Mutex<Reporter>>,
    summary: RunSummary,
}

/// Run `plan`: load every component, start the bash session, walk the phases.
pub fn execute(
    plan: &Plan,
    options: &RunOptions,
    reporter: Arc<Mutex<Reporter>>,
) -> anyhow::Result<RunSummary> {
    let started = Instant::now();
    let runtime = Runtime::new().context("cannot start the WebAssembly runtime")?;
    let loaded = load_components(&runtime, plan)?;
    prepare_dirs(plan)?;
    let space = Space::start(session_config(plan, options))?;
    let space = Arc::new(Mutex::new(space));
    let services: SharedServices = space.clone();
    let mut run = Run {
        plan,
        space,
        plugins: Vec::new(),
        reporter,
        summary: RunSummary::default(),
    };
    run.instantiate(&runtime, &loaded, &services);
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
    let mut loaded = Vec::new();
    let mut errors = Vec::new();
    for hook in &plan.hooks {
        if hook.file.kind != HookKind::Wasm {
            loaded.push(None);
            continue;
        }
        match wasm::load(runtime, &hook.file.path, wasm::Role::Hook) {
            Ok(component) => loaded.push(Some(component)),
            Err(e) => {
                errors.push(e.to_string());
                loaded.push(None);
            }
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
    let data_dirs = plan.hooks.iter().filter_map(|h| h.policy.as_ref());
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
        errexit: plan.entry.stops_at_first_failure(),
        allow_install: options.allow_install,
        vars: plan.vars.clone(),
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
            for index in 0..self.plan.hooks.len() {
                if self.run_hook(index, phase).is_err() && self.plan.entry.stops_at_first_failure()
                {
                    let hook = &self.plan.hooks[index];
                    self.summary.stopped_at = Some((hook.file.stem.clone(), phase));
                    return;
                }
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
        let error = result.as_ref().err().map(|f| f.reason.clone());
        lock(&self.reporter).hook_finished(timing, error.as_deref());
        result.map_err(|failure| self.fail(hook, phase, failure.reason, failure.output_tail))
    }

    fn run_wasm(&mut self, index: usize, phase: Phase) -> Result<(), CallFailure> {
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
        let mut out = |stream: BashStream, line: &str| {
            lock(&reporter).output(&name, stream == BashStream::Stderr, line);
            if tail.len() == TAIL_LINES {
                tail.pop_front();
            }
            tail.push_back(line.to_string());
        };
        let mut space = lock(&self.space);
        let outcome = space
            .session()
            .source_hook(&hook.file.path, &phase.args(), &mut out);
        let reason = match outcome {
            Ok(Outcome::Success) => return Ok(()),
            Ok(Outcome::Failed { status }) => format!("exited with status {status}"),
            Ok(ended @ Outcome::SessionEnded { .. }) => {
                let reason = describe(&ended);
                if let Err(e) = space.restart() {
                    format!("{reason}; the bash session could not be restarted: {e:#}")
                } else {
                    format!(
                        "{reason}; shell state from earlier hooks is lost for the rest of the run"
                    )
                }
            }
            Err(e) => format!("could not be run in the bash session: {e:#}"),
        };
        Err(CallFailure {
            reason,
            output_tail: tail.into_iter().collect(),
        })
    }

    fn fail(&mut self, hook: &PlannedHook, phase: Phase, reason: String, output_tail: Vec<String>) {
        let failure = HookFailure {
            hook: hook.file.stem.clone(),
            kind: hook.file.kind,
            phase,
            reason,
            output_tail,
        };
        lock(&self.reporter).error(&failure.to_string());
        self.summary.failures.push(failure);
    }

    fn finish(mut self, started: Instant) -> anyhow::Result<RunSummary> {
        self.plugins.clear();
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

/// The packages recorded as wanted, one per line (`name [hook]`), deduplicated.
fn read_wanted(path: &std::path::Path) -> Vec<String> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let mut names: Vec<String> = Vec::new();
    for name in text.lines().filter_map(|l| l.split_whitespace().next()) {
        if !names.iter().any(|n| n == name) {
            names.push(name.to_string());
        }
    }
    names
}

fn lock<T: ?Sized>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}
