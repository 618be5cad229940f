//! Consecutive bash hooks sent to the session as one batch, each still
//! reported on its own.

use super::*;

/// Batches of bash hooks: what [`Run::run_hook`] does for one bash hook,
/// for a run of them sent to the session at once
/// ([`crate::bash::BashSession::source_hooks`]). Each hook is still
/// reported on its own (start, output, end, timing, failure) as its end
/// marker arrives.
impl Run<'_> {
    /// The end of the run of plain (unconfined) bash hooks from `start`.
    pub(super) fn bash_run_end(&self, start: usize) -> usize {
        // External plugins source a file per phase; a dry run attributes
        // what it records hook by hook: both run one at a time.
        let batchable = |hook: &PlannedHook| {
            hook.file.kind == HookKind::Bash
                && !hook.policy.as_ref().is_some_and(|p| p.confine)
                && hook.external.is_none()
                && self.dry_run.is_none()
        };
        let hooks = &self.plan.hooks;
        (start..hooks.len())
            .find(|&i| !batchable(&hooks[i]))
            .unwrap_or(hooks.len())
    }

    /// Hooks `start..end` in one round trip. Returns the last hook that
    /// ran and Err if any failed (failures are recorded and reported).
    pub(super) fn run_bash_batch(
        &mut self,
        start: usize,
        end: usize,
        phase: Phase,
    ) -> (usize, Result<(), ()>) {
        let plan = self.plan;
        let hooks = &plan.hooks[start..end];
        let args = phase.args();
        let batch: Vec<BatchHook> = hooks
            .iter()
            .map(|h| BatchHook {
                path: &h.file.path,
                args: &args,
            })
            .collect();
        let first = Step::start(&self.observer, &hooks[0].file.stem, "bash", phase);
        let state = RefCell::new(Batch {
            hooks,
            phase,
            observer: self.observer.clone(),
            current: Some(first),
            ran: 0,
            failures: Vec::new(),
            ended: None,
        });
        let sent = lock(&self.space).source_hooks(
            &batch,
            &mut |i, stream, line| state.borrow_mut().line(i, stream, line),
            &mut |i, outcome| state.borrow_mut().done(i, outcome),
        );
        let state = state.into_inner();
        if super::prelude_steps::replayed(phase) {
            // The hooks that ran and left the session alive.
            let kept = state.ran - usize::from(state.ended.is_some());
            let mut space = lock(&self.space);
            for hook in &hooks[..kept.min(hooks.len())] {
                space.replay_log().sourced(&hook.file.path, &args);
            }
        }
        let failed = !state.failures.is_empty();
        self.summary.failures.extend(state.failures);
        match (sent, state.ended, state.current) {
            (Err(e), ended, current) => {
                // The hook the session was running when it failed.
                let (index, step) = match (current, ended) {
                    (Some(step), _) => (start + state.ran, step),
                    (None, Some((_, step))) => (start + state.ran - 1, step),
                    (None, None) => {
                        let last = start + state.ran.max(1) - 1;
                        let hook = &plan.hooks[last].file.stem;
                        (last, Step::start(&self.observer, hook, "bash", phase))
                    }
                };
                let reason = format!("could not be run in the bash session: {e:#}");
                let failure = step.fail(StepFailure::new(reason));
                self.fail(failure);
                (index, Err(()))
            }
            (Ok(_), Some((outcome, step)), _) => {
                let last = start + state.ran - 1;
                (last, self.finish_batch(last, phase, outcome, step))
            }
            (Ok(_), None, _) => {
                let last = start + state.ran.max(1) - 1;
                (last, if failed { Err(()) } else { Ok(()) })
            }
        }
    }

    /// The hook that ended a batch by ending the session (or during which
    /// Ctrl-C came): reported as `run_hook` reports it.
    pub(super) fn finish_batch(
        &mut self,
        index: usize,
        phase: Phase,
        outcome: Outcome,
        step: Step,
    ) -> Result<(), ()> {
        if self.stop_if_interrupted(index, phase, true) {
            step.finish(StepStatus::Interrupted, Some("interrupted"));
            return Err(());
        }
        let failure = super::after_end(&mut lock(&self.space), &outcome);
        let failure = step.fail(failure);
        self.fail(failure);
        Err(())
    }
}

/// What a batch of bash hooks reports while the session runs it.
struct Batch<'a> {
    hooks: &'a [PlannedHook],
    phase: Phase,
    observer: Observer,
    /// The running hook (none once the last ended, or the batch ended).
    current: Option<Step>,
    /// Hooks that ended so far.
    ran: usize,
    failures: Vec<HookFailure>,
    /// Set at Ctrl-C or when bash ended: the caller reports that hook once
    /// the session is restarted or the run stops; later callbacks are ignored.
    ended: Option<(Outcome, Step)>,
}

impl Batch<'_> {
    pub(super) fn line(&mut self, _index: usize, stream: BashStream, line: &str) {
        if let Some(step) = &mut self.current {
            step.output(stream, line);
        }
    }

    pub(super) fn done(&mut self, index: usize, outcome: &Outcome) {
        let Some(mut step) = self.current.take() else {
            return;
        };
        self.ran = index + 1;
        step.stop_clock();
        if interrupt::requested() || matches!(outcome, Outcome::SessionEnded { .. }) {
            self.ended = Some((outcome.clone(), step));
            return;
        }
        match outcome {
            Outcome::Failed { status } => {
                let reason = format!("exited with status {status}");
                let failure = step.fail(StepFailure::new(reason));
                tell(&self.observer, Event::HookFailed(&failure));
                self.failures.push(failure);
            }
            _ => step.succeeded(),
        }
        if let Some(next) = self.hooks.get(index + 1) {
            let next = Step::start(&self.observer, &next.file.stem, "bash", self.phase);
            self.current = Some(next);
        }
    }
}
