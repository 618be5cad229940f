//! The hypervisor driver in a run (see `plan::drivers` for how it is
//! chosen): checked before any hook runs (a component must export the
//! driver interface; a bash driver is sourced into the session and must
//! define all five functions), started, and called at its points of the
//! run under the hooks' failure policy and Ctrl-C, each call a step.

use super::*;

use crate::model::errors::CallEndedSession;
use crate::plan::drivers::{PlannedDriver, FUNCTIONS, VIRT_DRIVER};
use crate::wasm::{CallFailure, DriverCall};

/// Compile and check a WASM driver before anything runs: it must export
/// the driver interface (a hook component is refused here).
pub(super) fn load_component(
    runtime: &Runtime,
    driver: Option<&PlannedDriver>,
) -> anyhow::Result<Option<wasm::LoadedComponent>> {
    let Some(driver) = driver.filter(|d| d.kind == HookKind::Wasm) else {
        return Ok(None);
    };
    match wasm::load(runtime, &driver.path, wasm::Role::Driver) {
        Ok(component) => Ok(Some(component)),
        Err(e) => anyhow::bail!(
            "{e}; {VIRT_DRIVER}={} selects it as the hypervisor driver",
            driver.name
        ),
    }
}

/// Source a bash driver into the run's session before any hook runs (as
/// DevStack's `lib/nova` did, before the extras.d `source` phase) and check
/// it defines all five functions; its output is shown under its name. Any
/// problem refuses the run. A WASM driver (or none) needs nothing here.
pub(super) fn load_bash(
    space: &mut Space,
    driver: Option<&PlannedDriver>,
    observer: &Observer,
) -> anyhow::Result<()> {
    let Some(driver) = driver.filter(|d| d.kind == HookKind::Bash) else {
        return Ok(());
    };
    let mut out = |stream: BashStream, line: &str| {
        let stderr = stream == BashStream::Stderr;
        let hook = &driver.plugin;
        tell(observer, Event::Output { hook, stderr, line });
    };
    source_bash(space, driver, &mut out)
}

/// Source a bash driver and check its five functions; output to `out`.
fn source_bash(
    space: &mut Space,
    driver: &PlannedDriver,
    out: &mut dyn FnMut(BashStream, &str),
) -> anyhow::Result<()> {
    let path = driver.path.display();
    match space.source_hook(&driver.path, &[], false, out)? {
        Outcome::Success => {}
        Outcome::Failed { status } => {
            anyhow::bail!("{path}: sourcing the driver failed with status {status}")
        }
        ended => {
            let ended = space::ended(&ended).unwrap_or(crate::model::errors::SessionEnded {
                status: None,
                signal: None,
            });
            let what = format!("{path}: sourcing the driver");
            return Err(CallEndedSession { what, ended }.into());
        }
    }
    let mut missing = Vec::new();
    for call in FUNCTIONS {
        if !space.function_exists(call.function_name())? {
            missing.push(call.function_name());
        }
    }
    if !missing.is_empty() {
        anyhow::bail!(
            "{path}: does not define {}; a bash hypervisor driver must define {}",
            missing.join(", "),
            FUNCTIONS.map(DriverCall::function_name).join(", ")
        );
    }
    Ok(())
}

/// The driver of a run while it runs: for a WASM driver, its instance.
pub(super) struct LiveDriver<'a> {
    pub planned: &'a PlannedDriver,
    /// `None` for a bash driver, or a component that could not start.
    plugin: Option<Plugin>,
}

impl<'a> LiveDriver<'a> {
    /// Start the driver: instantiate a WASM driver in its sandbox (a bash
    /// driver was already sourced). A failure to start is returned to be
    /// reported like a hook's; the driver's calls then fail in turn.
    fn start(
        planned: &'a PlannedDriver,
        runtime: &Runtime,
        component: Option<&wasm::LoadedComponent>,
        services: &wasm::SharedServices,
        sink: LineSink,
    ) -> (LiveDriver<'a>, Option<HookFailure>) {
        let mut live = LiveDriver {
            planned,
            plugin: None,
        };
        let Some(component) = component else {
            return (live, None);
        };
        let config = PluginConfig {
            name: planned.plugin.clone(),
            policy: planned.policy.clone().unwrap_or_default(),
            services: services.clone(),
            sink,
        };
        match runtime.instantiate(component, config) {
            Ok(plugin) => live.plugin = Some(plugin),
            Err(failure) => {
                let kind = planned.kind.to_string();
                let failure =
                    step::hook_failure(&planned.plugin, &kind, Phase::Source, failure.into());
                return (live, Some(failure));
            }
        }
        (live, None)
    }

    /// Run one driver call in `phase`, reported and timed like a hook;
    /// its failure, if it failed.
    fn call(
        &mut self,
        call: DriverCall,
        phase: Phase,
        space: &Mutex<Space>,
        observer: &Observer,
    ) -> Option<HookFailure> {
        let planned = self.planned;
        let kind = planned.kind.to_string();
        let mut step = Step::start(observer, &planned.plugin, &kind, phase);
        let result = match planned.kind {
            HookKind::Bash => call_bash(planned, call, space, &mut step),
            HookKind::Wasm => self.call_wasm(call).map_err(StepFailure::from),
        };
        match result {
            Ok(()) => {
                step.succeeded();
                None
            }
            Err(failure) => Some(step.fail(StepFailure {
                reason: format!("{} {}", call.function_name(), failure.reason),
                ..failure
            })),
        }
    }

    fn call_wasm(&mut self, call: DriverCall) -> Result<(), CallFailure> {
        match &mut self.plugin {
            Some(plugin) => plugin.driver_call(call),
            None => Err(CallFailure {
                reason: "was not called: the driver could not be started in this run".into(),
                help: None,
                output_tail: Vec::new(),
            }),
        }
    }
}

/// Call a bash driver's function in the session. A hook that ended the
/// session (`exit`) took the driver's functions with it; the driver is
/// sourced again into the fresh session first.
fn call_bash(
    driver: &PlannedDriver,
    call: DriverCall,
    space: &Mutex<Space>,
    step: &mut Step,
) -> Result<(), StepFailure> {
    let mut out = |stream: BashStream, line: &str| step.output(stream, line);
    let mut space = lock(space);
    let function = call.function_name();
    let outcome = reload_if_lost(&mut space, driver, function, &mut out)
        .and_then(|()| space.call(function, &[], &mut out));
    match outcome {
        Ok(Outcome::Success) => Ok(()),
        Ok(Outcome::Failed { status }) => {
            Err(StepFailure::new(format!("returned status {status}")))
        }
        Ok(ended) => Err(driver_after_end(&mut space, &ended)),
        Err(e) => {
            let cause = match e.downcast_ref::<CallEndedSession>() {
                Some(call) => Cause::SessionEnded(call.ended),
                None => Cause::Failed,
            };
            let reason = format!("could not be run in the bash session: {e:#}");
            Err(StepFailure {
                cause,
                ..StepFailure::new(reason)
            })
        }
    }
}

/// A driver call ended the session: the space's restart policy decides.
fn driver_after_end(space: &mut Space, outcome: &Outcome) -> StepFailure {
    let Some(ended) = space::ended(outcome) else {
        return StepFailure::new(space::describe(outcome));
    };
    let reason = match space.restart_after_end() {
        AfterEnd::Restarted => format!("{ended}; shell state is lost for the rest of the run"),
        AfterEnd::Stopped => ended.to_string(),
        AfterEnd::NotRestarted(e) => {
            format!("{ended}; the bash session could not be restarted: {e:#}")
        }
        AfterEnd::Interrupted => format!("{ended}; the run stops ({})", interrupt::cause()),
    };
    StepFailure {
        cause: Cause::SessionEnded(ended),
        ..StepFailure::new(reason)
    }
}

/// Source the driver again when its function is gone from the session.
fn reload_if_lost(
    space: &mut Space,
    driver: &PlannedDriver,
    function: &str,
    out: &mut dyn FnMut(BashStream, &str),
) -> anyhow::Result<()> {
    match space.function_exists(function)? {
        true => Ok(()),
        false => source_bash(space, driver, out),
    }
}

impl<'a> Run<'a> {
    /// Start the hypervisor driver, if the plan has one; a WASM driver that
    /// cannot start fails like a hook that cannot.
    pub(super) fn start_driver(
        &mut self,
        runtime: &Runtime,
        component: Option<&wasm::LoadedComponent>,
        services: &SharedServices,
    ) {
        let plan: &'a Plan = self.plan;
        let Some(planned) = &plan.driver else {
            return;
        };
        let sink = self.sink(&planned.plugin);
        let (driver, failure) = LiveDriver::start(planned, runtime, component, services, sink);
        self.driver = Some(driver);
        if let Some(failure) = failure {
            self.fail(failure);
        }
    }

    /// The driver's calls at this point of `phase`, under the hooks'
    /// failure policy; false when the run stops here (a failure in `stack`,
    /// or Ctrl-C before or during a call).
    pub(super) fn driver_calls(&mut self, phase: Phase, at: drivers::At) -> bool {
        for &call in drivers::calls_at(phase, at) {
            if self.driver_interrupted(phase, false) {
                return false;
            }
            let Some(driver) = &mut self.driver else {
                return true;
            };
            lock(&self.space).set_caller(&driver.planned.plugin);
            let result = driver.call(call, phase, &self.space, &self.observer);
            let plugin = driver.planned.plugin.clone();
            self.collect_dry_run(&plugin, &phase.to_string());
            if self.driver_interrupted(phase, true) {
                return false;
            }
            let Some(failure) = result else {
                continue;
            };
            let name = failure.hook.clone();
            self.fail(failure);
            if self.plan.entry.stops_at_first_failure() {
                self.summary.stopped_at = Some((name, phase));
                return false;
            }
        }
        true
    }

    /// After Ctrl-C: record that the run stopped at the driver; true if so.
    pub(super) fn driver_interrupted(&mut self, phase: Phase, during: bool) -> bool {
        let Some(driver) = self.plan.driver.as_ref() else {
            return false;
        };
        if !interrupt::requested() {
            return false;
        }
        self.record_interrupt(Interrupted {
            hook: driver.plugin.clone(),
            kind: driver.kind.to_string(),
            phase,
            during,
        });
        true
    }
}
