//! A DevStack tree's prelude as steps of a run (see `prelude`): the first
//! part once the session started, the second after `override_defaults`,
//! each reported as a step named `prelude`; and the hooks' sources a
//! restarted session replays.

use super::*;

/// The step name the prelude is reported under.
const STEP: &str = "prelude";

/// Start the prelude of `plan` in `space`, and run its first part (all of
/// it unless `override_defaults` belongs between its parts). An error stops
/// the run before any hook: the hooks need what it defines.
pub(super) fn start(
    space: &mut Space,
    plan: &Plan,
    options: &RunOptions,
    reporter: &Arc<Mutex<Reporter>>,
) -> anyhow::Result<()> {
    let Some(prelude) = &plan.prelude else {
        return Ok(());
    };
    let runner = crate::config::prelude::Runner::new(
        prelude,
        &plan.stack.top,
        &plan.stack.state_dir,
        options.dry_run,
    )?;
    let split = runner.split() && plan.phases.first() == Some(&Phase::OverrideDefaults);
    space.replay_log().set_runner(runner);
    let phase = plan.phases.first().copied().unwrap_or(Phase::Source);
    run_part(space, phase, reporter)?;
    if !split {
        finish(space, phase, reporter)?;
    }
    Ok(())
}

/// Run the parts still pending (before a phase other than `override_defaults`).
pub(super) fn finish(
    space: &mut Space,
    phase: Phase,
    reporter: &Arc<Mutex<Reporter>>,
) -> anyhow::Result<()> {
    while space.replay_log().runner().is_some_and(|r| r.pending()) {
        run_part(space, phase, reporter)?;
    }
    Ok(())
}

fn run_part(
    space: &mut Space,
    phase: Phase,
    reporter: &Arc<Mutex<Reporter>>,
) -> anyhow::Result<()> {
    lock(reporter).hook_started(STEP, "bash", phase);
    let started = Instant::now();
    let mut out = |stream: BashStream, line: &str| {
        lock(reporter).output(STEP, stream == BashStream::Stderr, line);
    };
    let result = space.run_prelude_part(&mut out);
    let timing = Timing {
        phase,
        hook: STEP.to_string(),
        kind: "bash".to_string(),
        duration: started.elapsed(),
        ok: result.is_ok(),
    };
    let error = result.as_ref().err().map(|e| format!("{e:#}"));
    lock(reporter).hook_finished(timing, error.as_deref());
    result
}

impl Run<'_> {
    /// Before `phase`: the prelude's parts still pending. False when one
    /// failed (the run stops: the hooks need what it defines).
    pub(super) fn finish_prelude(&mut self, phase: Phase) -> bool {
        if phase == Phase::OverrideDefaults {
            return true;
        }
        let result = finish(&mut lock(&self.space), phase, &self.reporter);
        self.collect_dry_run(STEP, &phase.to_string());
        let Err(e) = result else {
            return true;
        };
        let failure = HookFailure {
            hook: STEP.to_string(),
            kind: HookKind::Bash,
            phase,
            reason: format!("{e:#}"),
            output_tail: Vec::new(),
        };
        lock(&self.reporter).hook_failed(&failure);
        self.summary.failures.push(failure);
        self.summary.stopped_at = Some((STEP.to_string(), phase));
        false
    }
}

/// Whether a bash hook's file sourced in `phase` is replayed after a
/// restart: the phases that define (functions, variables).
pub(super) fn replayed(phase: Phase) -> bool {
    matches!(phase, Phase::Source | Phase::OverrideDefaults)
}
