//! What a run tells its observers, and the trait they implement.
//!
//! The run (the `run` layer) reports only through [`RunObserver`]: the
//! terminal and `--json` reporter, the log and the state journal are
//! observers, wired together by the binary. The events carry everything an
//! observer needs, so no observer reads the plan or the run's internals.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use crate::model::errors::{SessionEnded, SessionNote};
use crate::model::phases::Phase;

/// What a run is about to do, for the log's header, `--json`'s
/// `run-start` and the journal's first record.
#[derive(Debug, Clone)]
pub struct RunStart {
    /// The entry point (`stack`).
    pub entry: String,
    /// The stack's directory.
    pub top: PathBuf,
    /// The hooks' file names, in order.
    pub hooks: Vec<String>,
    pub phases: Vec<Phase>,
    /// Every step the run will report, when all goes well: each hook in
    /// each phase, the driver's calls, local.conf's merges and the
    /// prelude's parts (what a progress counter counts to).
    pub steps: usize,
}

/// How a step ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StepStatus {
    Ok,
    Failed,
    /// Ctrl-C (or SIGTERM) stopped it.
    Interrupted,
}

impl StepStatus {
    /// As the journal and `--json` write it.
    pub fn as_str(self) -> &'static str {
        match self {
            StepStatus::Ok => "ok",
            StepStatus::Failed => "failed",
            StepStatus::Interrupted => "interrupted",
        }
    }
}

/// One finished step of the run, for the timing table.
#[derive(Debug, Clone)]
pub struct Timing {
    pub phase: Phase,
    pub hook: String,
    /// `bash`, `wasm` or `merge`.
    pub kind: String,
    pub duration: Duration,
    pub ok: bool,
}

/// Work of the host itself rather than of a hook, timed so that the
/// timing table's rows add up to its total: `start-up` (reading the stack,
/// planning), `compile` (components not found in the cache), `session
/// start` (the bash session and any DevStack prelude).
#[derive(Debug, Clone)]
pub struct HostWork {
    /// `start-up`, `compile` or `session start`.
    pub name: String,
    /// What it was, for people: `3 components (2 cached)`.
    pub detail: String,
    pub duration: Duration,
}

/// Why a step failed, as far as what to do next depends on it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Cause {
    /// The step ran and failed (a status, a trap, a refusal).
    #[default]
    Failed,
    /// The bash session ended during the step.
    SessionEnded(SessionEnded),
    /// The step was not called: its plugin could not start in this run.
    NotCalled,
}

/// One hook that failed, with everything needed to act on it.
#[derive(Debug, Clone)]
pub struct HookFailure {
    pub hook: String,
    /// `bash` or `wasm`.
    pub kind: String,
    pub phase: Phase,
    pub reason: String,
    /// What the operator can do, when the cause says (a limit to raise).
    pub help: Option<String>,
    pub output_tail: Vec<String>,
    pub cause: Cause,
    /// What the bash session itself said in the output tail.
    pub notes: Vec<SessionNote>,
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
    /// `bash` or `wasm`.
    pub kind: String,
    pub phase: Phase,
    /// The hook was running and was stopped (else: the run stopped before it).
    pub during: bool,
}

/// The end of a run, as its observers see it.
#[derive(Debug, Clone)]
pub struct RunEnd {
    pub entry: String,
    pub failures: usize,
    pub duration: Duration,
    /// Where the run stopped early (`stack` at its first failure, or
    /// Ctrl-C): the hook (or step) and the phase.
    pub stopped_at: Option<(String, Phase)>,
    /// Records an observer could not write completely (a full disk), one
    /// sentence each; filled in by the observers, not by the run.
    pub incomplete: Vec<String>,
}

/// One thing that happened in a run.
#[derive(Debug, Clone, Copy)]
pub enum Event<'a> {
    RunStarted(&'a RunStart),
    PhaseStarted(Phase),
    StepStarted {
        hook: &'a str,
        kind: &'a str,
        phase: Phase,
    },
    /// A line a step printed (on stderr when `stderr`).
    Output {
        hook: &'a str,
        stderr: bool,
        line: &'a str,
    },
    StepFinished {
        timing: &'a Timing,
        status: StepStatus,
        error: Option<&'a str>,
    },
    HookFailed(&'a HookFailure),
    /// The host's own work finished (see [`HostWork`]).
    HostWork(&'a HostWork),
    /// The host's own work under way (compiling components): `name` says
    /// what, `detail` how far, `duration` how long so far.
    HostProgress(&'a HostWork),
    Interrupted(&'a Interrupted),
    /// A warning that is not a step's output.
    Warning(&'a str),
    /// A failure that is not one step's.
    Error(&'a str),
    /// A titled report (the dry run's record): `event` names it in `--json`,
    /// which gets `data`; people get `title` and `lines`.
    Report {
        event: &'a str,
        title: &'a str,
        lines: &'a [String],
        data: &'a serde_json::Value,
    },
    Finished(&'a RunEnd),
}

/// Whoever follows a run: the reporter, the log, the journal.
pub trait RunObserver: Send {
    fn event(&mut self, event: &Event);

    /// Records this observer could not write completely, said at the end
    /// of the run (by whoever shows [`Event::Finished`]).
    fn incomplete(&self) -> Option<String> {
        None
    }
}

/// Several observers, each told every event in order.
#[derive(Default)]
pub struct Observers(Vec<Box<dyn RunObserver>>);

impl Observers {
    pub fn new() -> Observers {
        Observers::default()
    }

    pub fn add(&mut self, observer: impl RunObserver + 'static) {
        self.0.push(Box::new(observer));
    }
}

impl RunObserver for Observers {
    fn event(&mut self, event: &Event) {
        // The end of the run carries what any of them could not record.
        let end;
        let event = match event {
            Event::Finished(run_end) => {
                let mut with = (*run_end).clone();
                with.incomplete
                    .extend(self.0.iter().filter_map(|o| o.incomplete()));
                end = with;
                Event::Finished(&end)
            }
            other => *other,
        };
        for observer in &mut self.0 {
            observer.event(&event);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    /// Keeps what it was told, and may say that its records are incomplete.
    struct Recorder {
        seen: Arc<Mutex<Vec<String>>>,
        broken: Option<&'static str>,
    }

    impl RunObserver for Recorder {
        fn event(&mut self, event: &Event) {
            let line = match event {
                Event::Warning(message) => format!("warning {message}"),
                Event::Finished(end) => format!("finished {}", end.incomplete.join("|")),
                _ => "other".to_string(),
            };
            self.seen.lock().unwrap().push(line);
        }

        fn incomplete(&self) -> Option<String> {
            self.broken.map(str::to_string)
        }
    }

    #[test]
    fn every_observer_gets_every_event_and_the_end_carries_what_any_could_not_record() {
        let first = Arc::new(Mutex::new(Vec::new()));
        let second = Arc::new(Mutex::new(Vec::new()));
        let mut observers = Observers::new();
        observers.add(Recorder {
            seen: first.clone(),
            broken: Some("the journal is incomplete"),
        });
        observers.add(Recorder {
            seen: second.clone(),
            broken: None,
        });
        observers.event(&Event::Warning("w"));
        observers.event(&Event::Finished(&RunEnd {
            stopped_at: None,
            entry: "stack".into(),
            failures: 0,
            duration: Duration::ZERO,
            incomplete: Vec::new(),
        }));
        let expected = ["warning w", "finished the journal is incomplete"];
        assert_eq!(*first.lock().unwrap(), expected);
        assert_eq!(*second.lock().unwrap(), expected);
    }
}
