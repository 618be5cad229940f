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
        lock(&self.reporter).hook_started(&hooks[0].file.stem, "bash", phase);
        let state = RefCell::new(Batch {
            hooks,
            phase,
            reporter: self.reporter.clone(),
            tail: VecDeque::new(),
            clock: Instant::now(),
            ran: 0,
            failures: Vec::new(),
            ended: None,
        });
        let sent = lock(&self.space).session().source_hooks(
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
        let last = start + state.ran.max(1) - 1;
        let failed = !state.failures.is_empty();
        self.summary.failures.extend(state.failures);
        let tail: Vec<String> = state.tail.into();
        let reason = match (sent, state.ended) {
            (Err(e), _) => format!("could not be run in the bash session: {e:#}"),
            (Ok(_), None) => return (last, if failed { Err(()) } else { Ok(()) }),
            (Ok(_), Some((outcome, duration))) => {
                let result = self.finish_batch(last, phase, outcome, duration, tail);
                return (last, result);
            }
        };
        let hook = &plan.hooks[last];
        let timing = Timing {
            phase,
            hook: hook.file.stem.clone(),
            kind: "bash".into(),
            duration: state.clock.elapsed(),
            ok: false,
        };
        lock(&self.reporter).hook_finished(timing, Some(&reason));
        self.fail(hook, phase, reason, tail);
        (last, Err(()))
    }

    /// The hook that ended a batch by ending the session (or during which
    /// Ctrl-C came): reported as `run_hook` reports it.
    pub(super) fn finish_batch(
        &mut self,
        index: usize,
        phase: Phase,
        outcome: Outcome,
        duration: Duration,
        tail: Vec<String>,
    ) -> Result<(), ()> {
        let hook = &self.plan.hooks[index];
        let timing = Timing {
            phase,
            hook: hook.file.stem.clone(),
            kind: "bash".into(),
            duration,
            ok: false,
        };
        if self.stop_if_interrupted(index, phase, true) {
            lock(&self.reporter).hook_finished(timing, Some("interrupted"));
            return Err(());
        }
        let reason = match &outcome {
            Outcome::Success => "succeeded".to_string(),
            Outcome::Failed { status } => format!("exited with status {status}"),
            ended => {
                let reason = describe(ended);
                match lock(&self.space).restart() {
                    Err(e) => format!("{reason}; the bash session could not be restarted: {e:#}"),
                    Ok(()) => format!("{reason}; {}", super::RESTARTED),
                }
            }
        };
        lock(&self.reporter).hook_finished(timing, Some(&reason));
        self.fail(hook, phase, reason, tail);
        Err(())
    }
}

/// What a batch of bash hooks reports while the session runs it.
struct Batch<'a> {
    hooks: &'a [PlannedHook],
    phase: Phase,
    reporter: Arc<Mutex<Reporter>>,
    /// The running hook's last lines, for its failure.
    tail: VecDeque<String>,
    /// When the running hook started (the previous one ended).
    clock: Instant,
    /// Hooks that ended so far.
    ran: usize,
    failures: Vec<HookFailure>,
    /// Set at Ctrl-C or when bash ended: the caller reports that hook once
    /// the session is restarted or the run stops; later callbacks are ignored.
    ended: Option<(Outcome, Duration)>,
}

impl Batch<'_> {
    pub(super) fn line(&mut self, index: usize, stream: BashStream, line: &str) {
        if self.ended.is_some() {
            return;
        }
        let hook = &self.hooks[index].file.stem;
        lock(&self.reporter).output(hook, stream == BashStream::Stderr, line);
        if self.tail.len() == TAIL_LINES {
            self.tail.pop_front();
        }
        self.tail.push_back(line.to_string());
    }

    pub(super) fn done(&mut self, index: usize, outcome: &Outcome) {
        if self.ended.is_some() {
            return;
        }
        self.ran = index + 1;
        let duration = std::mem::replace(&mut self.clock, Instant::now()).elapsed();
        if interrupt::requested() || matches!(outcome, Outcome::SessionEnded { .. }) {
            self.ended = Some((outcome.clone(), duration));
            return;
        }
        let hook = &self.hooks[index];
        let reason = match outcome {
            Outcome::Failed { status } => Some(format!("exited with status {status}")),
            _ => None,
        };
        let timing = Timing {
            phase: self.phase,
            hook: hook.file.stem.clone(),
            kind: "bash".into(),
            duration,
            ok: reason.is_none(),
        };
        let mut reporter = lock(&self.reporter);
        reporter.hook_finished(timing, reason.as_deref());
        let output_tail: Vec<String> = self.tail.drain(..).collect();
        if let Some(reason) = reason {
            let failure = HookFailure {
                hook: hook.file.stem.clone(),
                kind: HookKind::Bash,
                phase: self.phase,
                reason,
                output_tail,
            };
            reporter.hook_failed(&failure);
            self.failures.push(failure);
        }
        if let Some(next) = self.hooks.get(index + 1) {
            reporter.hook_started(&next.file.stem, "bash", self.phase);
        }
    }
}
