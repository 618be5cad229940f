//! The one lifecycle of a step of a run (a hook, a batch's hook, a driver
//! call, a local.conf merge, a part of the DevStack prelude): it starts,
//! its output goes to the observers while its last lines are kept for a
//! failure, it is timed, and it ends ok, failed or interrupted. Every kind
//! of step goes through [`Step`], so each is reported the same way.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::bash::Stream as BashStream;
use crate::model::events::{Cause, Event, HookFailure, RunObserver, StepStatus, Timing};
use crate::model::phases::Phase;
use crate::wasm::CallFailure;

/// The run's observers, shared with plugins' output sinks.
pub type Observer = Arc<Mutex<dyn RunObserver>>;

/// Lines of a step's output kept for its error report.
const TAIL_LINES: usize = 20;

/// Tell the observers one event.
pub fn tell(observer: &Observer, event: Event) {
    lock(observer).event(&event);
}

/// Why a step failed, before it is reported.
#[derive(Debug)]
pub struct StepFailure {
    pub reason: String,
    /// What the operator can do about this failure, when its cause says.
    pub help: Option<String>,
    /// Its last lines of output (a WASM plugin keeps its own).
    pub output_tail: Vec<String>,
    pub cause: Cause,
}

impl StepFailure {
    pub fn new(reason: String) -> StepFailure {
        StepFailure {
            reason,
            help: None,
            output_tail: Vec::new(),
            cause: Cause::Failed,
        }
    }
}

impl From<CallFailure> for StepFailure {
    fn from(failure: CallFailure) -> StepFailure {
        StepFailure {
            reason: failure.reason,
            help: failure.help,
            output_tail: failure.output_tail,
            cause: Cause::Failed,
        }
    }
}

/// A step while it runs.
pub struct Step {
    observer: Observer,
    hook: String,
    kind: String,
    phase: Phase,
    started: Instant,
    /// Set when the step's time was taken before it is reported.
    took: Option<Duration>,
    tail: VecDeque<String>,
}

impl Step {
    /// A step starts: the observers are told.
    pub fn start(observer: &Observer, hook: &str, kind: &str, phase: Phase) -> Step {
        tell(observer, Event::StepStarted { hook, kind, phase });
        Step {
            observer: observer.clone(),
            hook: hook.to_string(),
            kind: kind.to_string(),
            phase,
            started: Instant::now(),
            took: None,
            tail: VecDeque::new(),
        }
    }

    /// A line the step printed: to the observers, and into the tail kept
    /// for its failure.
    pub fn output(&mut self, stream: BashStream, line: &str) {
        let stderr = stream == BashStream::Stderr;
        tell(
            &self.observer,
            Event::Output {
                hook: &self.hook,
                stderr,
                line,
            },
        );
        if self.tail.len() == TAIL_LINES {
            self.tail.pop_front();
        }
        self.tail.push_back(line.to_string());
    }

    /// The step's time is what it took until now, whenever it is reported.
    pub fn stop_clock(&mut self) {
        self.took.get_or_insert_with(|| self.started.elapsed());
    }

    /// The last line of output so far.
    pub fn last_line(&self) -> Option<&str> {
        self.tail.back().map(String::as_str)
    }

    /// The last lines of output so far (taken: the step keeps none).
    pub fn take_tail(&mut self) -> Vec<String> {
        self.tail.drain(..).collect()
    }

    /// The step ended as `status`; `error` says why it did not succeed.
    pub fn finish(mut self, status: StepStatus, error: Option<&str>) {
        self.stop_clock();
        let timing = Timing {
            phase: self.phase,
            hook: std::mem::take(&mut self.hook),
            kind: std::mem::take(&mut self.kind),
            duration: self.took.unwrap_or_default(),
            ok: status == StepStatus::Ok,
        };
        tell(
            &self.observer,
            Event::StepFinished {
                timing: &timing,
                status,
                error,
            },
        );
    }

    /// The step succeeded.
    pub fn succeeded(self) {
        self.finish(StepStatus::Ok, None);
    }

    /// The step failed: it ends, and its failure (to be reported by the
    /// caller, with [`Event::HookFailed`]) is returned. Without a tail of
    /// its own, the failure gets the step's last lines.
    pub fn fail(mut self, mut failure: StepFailure) -> HookFailure {
        if failure.output_tail.is_empty() {
            failure.output_tail = self.take_tail();
        }
        let failure = hook_failure(&self.hook, &self.kind, self.phase, failure);
        self.finish(StepStatus::Failed, Some(&failure.reason));
        failure
    }
}

/// A failure as the observers get it; what the bash session itself said
/// in its output tail is read once, here.
pub fn hook_failure(hook: &str, kind: &str, phase: Phase, failure: StepFailure) -> HookFailure {
    HookFailure {
        hook: hook.to_string(),
        kind: kind.to_string(),
        phase,
        notes: crate::bash::session_notes(&failure.output_tail),
        reason: failure.reason,
        help: failure.help,
        output_tail: failure.output_tail,
        cause: failure.cause,
    }
}

pub fn lock<T: ?Sized>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}
