//! `hookhost status`: what the last run of a stack did, read from its state
//! journal ([`crate::state::journal`]): every hook and driver call with its phase
//! and result, what failed and why, and where the run stopped — at a
//! failure, at a signal, or (a run that never recorded its end) at the step
//! it was in when hookhost was killed or the machine went down. A run that
//! is still going is shown as running: its pid, the hook it is at and for
//! how long. `--timeline FILE` draws the run ([`crate::commands::timeline`]).
//!
//! The text form shows every recorded string inert ([`crate::model::inert`]): a
//! plugin's failure reason cannot move the cursor or start a line of its
//! own. `--json` keeps the exact text.

use std::path::{Path, PathBuf};

use serde_json::{json, Value};

use crate::model::inert::inert;
use crate::model::phases::{Phase, StackStep};
use crate::model::units::show_millis;
use crate::plan::drivers::{calls_at, At, DRIVER_PREFIX};
use crate::state::journal::{self, Event, Record};
use crate::state::runlock;

/// One hook or driver call of the last run.
#[derive(Debug, Clone, PartialEq)]
pub struct StepView {
    pub phase: String,
    pub hook: String,
    pub kind: String,
    /// ok, failed, interrupted, or `running` (started, never ended).
    pub status: String,
    pub duration_ms: Option<f64>,
    pub reason: Option<String>,
    /// When it started (milliseconds since the Unix epoch), when known.
    pub started_ms: Option<u64>,
}

/// The host's own timed work in the last run (start-up, compile, session start).
#[derive(Debug, Clone, PartialEq)]
pub struct HostWorkView {
    pub name: String,
    pub detail: String,
    pub started_ms: u64,
    pub duration_ms: f64,
}

/// The last run of a stack, as its journal has it.
#[derive(Debug, Clone)]
pub struct LastRun {
    pub journal: PathBuf,
    pub run: String,
    pub entry: String,
    pub top: String,
    pub pid: Option<u32>,
    pub started: String,
    /// When it started (milliseconds since the Unix epoch).
    pub started_ms: u64,
    pub log: Option<String>,
    pub steps: Vec<StepView>,
    /// Empty in a journal written before hookhost recorded its own work.
    pub host_work: Vec<HostWorkView>,
    /// Where a signal stopped it.
    pub interrupted: Option<Record>,
    /// Its `run-end`, if it got that far.
    pub end: Option<Record>,
    /// No end recorded, and its process still holds the stack's lock.
    pub running: bool,
    /// Journal lines that did not parse (a torn record).
    pub skipped_lines: usize,
}

/// The last run recorded in the stack whose state directory is `state_dir`;
/// None when no run was ever recorded there.
pub fn last_run(state_dir: &Path) -> anyhow::Result<Option<LastRun>> {
    let path = state_dir.join(journal::JOURNAL_FILE);
    let (records, skipped_lines) = journal::read(&path)?;
    let records = journal::last_run(&records);
    let Some(start) = records.first() else {
        return Ok(None);
    };
    let end = records.iter().find(|r| r.event == Event::RunEnd).cloned();
    let running = end.is_none()
        && runlock::current_holder(state_dir).is_some_and(|holder| holder.run == start.run);
    Ok(Some(LastRun {
        journal: path,
        run: start.run.clone(),
        entry: start.entry.clone().unwrap_or_default(),
        top: start.top.clone().unwrap_or_default(),
        pid: start.pid,
        started: start.time.clone(),
        started_ms: start.unix_ms,
        log: start.log.clone(),
        steps: name_driver_calls(steps(records)),
        host_work: host_work(records),
        interrupted: records
            .iter()
            .find(|r| r.event == Event::Interrupted)
            .cloned(),
        end,
        running,
        skipped_lines,
    }))
}

/// Pair each `start` with its `end`; a start without one is `running`.
fn steps(records: &[Record]) -> Vec<StepView> {
    let mut steps: Vec<StepView> = Vec::new();
    for record in records {
        let same = |s: &StepView| {
            Some(&s.phase) == record.phase.as_ref()
                && Some(&s.hook) == record.hook.as_ref()
                && s.status == "running"
        };
        match record.event {
            Event::Start => steps.push(StepView {
                phase: record.phase.clone().unwrap_or_default(),
                hook: record.hook.clone().unwrap_or_default(),
                kind: record.kind.clone().unwrap_or_default(),
                status: "running".to_string(),
                duration_ms: None,
                reason: None,
                started_ms: Some(record.unix_ms),
            }),
            Event::End => {
                let view = StepView {
                    phase: record.phase.clone().unwrap_or_default(),
                    hook: record.hook.clone().unwrap_or_default(),
                    kind: record.kind.clone().unwrap_or_default(),
                    status: record.status.clone().unwrap_or_default(),
                    duration_ms: record.duration_ms,
                    reason: record.reason.clone(),
                    started_ms: Some(began(record)),
                };
                // A failure before any start (a plugin that could not be
                // instantiated) has no start to pair with.
                match steps.iter_mut().rev().find(|s| same(s)) {
                    Some(step) => {
                        let started_ms = step.started_ms;
                        *step = StepView { started_ms, ..view }
                    }
                    None => steps.push(view),
                }
            }
            _ => {}
        }
    }
    steps
}

/// A driver's steps are journaled under its plugin name in each phase;
/// shown as the function each one called (`hypervisor-fake:install_nova_hypervisor`,
/// as `plan` names them), from the order DevStack calls them in.
fn name_driver_calls(mut steps: Vec<StepView>) -> Vec<StepView> {
    let phases = all_phases();
    let mut seen: Vec<(String, String, usize)> = Vec::new();
    for step in steps.iter_mut() {
        if !step.hook.starts_with(DRIVER_PREFIX) || step.hook.contains(':') {
            continue;
        }
        let Some(phase) = phases.iter().find(|p| p.to_string() == step.phase) else {
            continue;
        };
        let calls = [At::BeforeHooks, At::AfterHooks].map(|at| calls_at(*phase, at));
        let mut calls = calls.into_iter().flatten();
        let index = match seen
            .iter_mut()
            .find(|(h, p, _)| *h == step.hook && *p == step.phase)
        {
            Some((_, _, n)) => {
                *n += 1;
                *n
            }
            None => {
                seen.push((step.hook.clone(), step.phase.clone(), 0));
                0
            }
        };
        if let Some(call) = calls.nth(index) {
            step.hook = format!("{}:{}", step.hook, call.function_name());
        }
    }
    steps
}

/// Every phase a run may have, to read one back from its name.
fn all_phases() -> Vec<Phase> {
    let stack = [
        StackStep::PreInstall,
        StackStep::Install,
        StackStep::PostConfig,
        StackStep::Extra,
        StackStep::TestConfig,
    ];
    let mut phases = vec![
        Phase::OverrideDefaults,
        Phase::Source,
        Phase::Unstack,
        Phase::Clean,
    ];
    phases.extend(stack.map(Phase::Stack));
    phases
}

/// The `host-work` records, each with when it began.
fn host_work(records: &[Record]) -> Vec<HostWorkView> {
    records
        .iter()
        .filter(|r| r.event == Event::HostWork)
        .map(|r| HostWorkView {
            name: r.work.clone().unwrap_or_default(),
            detail: r.detail.clone().unwrap_or_default(),
            started_ms: began(r),
            duration_ms: r.duration_ms.unwrap_or(0.0).max(0.0),
        })
        .collect()
}

/// When the work a record ends began: it is written when the work ends.
fn began(record: &Record) -> u64 {
    let took = record.duration_ms.unwrap_or(0.0).max(0.0) as u64;
    record.unix_ms.saturating_sub(took)
}

/// Milliseconds since the Unix epoch, now.
fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

impl StepView {
    /// `20-x (bash)`, inert.
    fn label(&self) -> String {
        inert(&format!("{} ({})", self.hook, self.kind)).into_owned()
    }

    fn phase_shown(&self) -> std::borrow::Cow<'_, str> {
        inert(&self.phase)
    }
}

impl LastRun {
    /// ok, failed, interrupted, refused, running, or unfinished (no end
    /// recorded and no process holding the stack: killed or crashed).
    pub fn status(&self) -> &str {
        match (&self.end, self.running) {
            (Some(end), _) => end.status.as_deref().unwrap_or("unknown"),
            (None, true) => "running",
            (None, false) => "unfinished",
        }
    }

    pub fn failures(&self) -> Vec<&StepView> {
        self.steps.iter().filter(|s| s.status == "failed").collect()
    }

    /// Where the run stopped, in words; None when it ran to its end.
    pub fn stopped_at(&self) -> Option<String> {
        if let Some(at) = &self.interrupted {
            let signal = inert(at.signal.as_deref().unwrap_or("a signal"));
            let hook = inert(at.hook.as_deref().unwrap_or("?"));
            let phase = inert(at.phase.as_deref().unwrap_or("?"));
            return Some(match at.during {
                Some(true) => format!(
                    "{signal} stopped hook {hook} ({}) in `{phase}`",
                    inert(at.kind.as_deref().unwrap_or("?"))
                ),
                _ => format!("{signal} stopped the run before hook {hook} in `{phase}`"),
            });
        }
        if self.running {
            return None;
        }
        if let Some(step) = self.steps.iter().find(|s| s.status == "running") {
            return Some(format!(
                "during {} in `{}` (it never ended)",
                step.label(),
                step.phase_shown()
            ));
        }
        match self.status() {
            "failed" if self.entry == "stack" => self
                .failures()
                .first()
                .map(|s| format!("at the failure of {} in `{}`", s.label(), s.phase_shown())),
            "unfinished" => Some(match self.steps.last() {
                Some(last) => format!("after {} in `{}`", last.label(), last.phase_shown()),
                None => "before its first hook".to_string(),
            }),
            _ => None,
        }
    }

    /// What a run still going is doing: `at 45-slow (bash) in stack
    /// install for 12.31 s`, or where it is between hooks.
    pub fn now_doing(&self) -> Option<String> {
        if !self.running {
            return None;
        }
        let at = self.steps.iter().rev().find(|s| s.status == "running");
        Some(match (at, self.steps.last()) {
            (Some(step), _) => {
                let since = step.started_ms.unwrap_or(self.started_ms);
                let took = now_ms().saturating_sub(since) as f64;
                format!(
                    "at {} in {} for {}",
                    step.label(),
                    step.phase_shown(),
                    show_millis(took)
                )
            }
            (None, Some(last)) => format!("after {} in {}", last.label(), last.phase_shown()),
            (None, None) => "starting, before its first hook".to_string(),
        })
    }

    fn result_line(&self) -> String {
        let took = self
            .end
            .as_ref()
            .and_then(|e| e.duration_ms)
            .map(|ms| format!(" in {}", show_millis(ms)))
            .unwrap_or_default();
        let failures = self.failures().len();
        match self.status() {
            "ok" => format!("ok{took}"),
            "failed" => format!("failed: {failures} failure(s){took}"),
            "interrupted" => format!(
                "interrupted by {}{took}",
                self.end
                    .as_ref()
                    .and_then(|e| e.signal.as_deref())
                    .unwrap_or("a signal")
            ),
            "refused" => format!(
                "refused before any hook ran: {}",
                inert(
                    self.end
                        .as_ref()
                        .and_then(|e| e.reason.as_deref())
                        .unwrap_or("?")
                )
            ),
            "running" => format!(
                "running: {}, {} (pid {})",
                inert(&self.entry),
                self.now_doing().unwrap_or_default(),
                self.pid.unwrap_or(0)
            ),
            "unfinished" => "did not finish: hookhost stopped without recording an end \
                             (killed, crashed, or the machine went down)"
                .to_string(),
            other => inert(other).into_owned(),
        }
    }

    /// The human form of `hookhost status`.
    pub fn render(&self) -> String {
        let mut out = format!(
            "last run: hookhost {} in {} (run {})\n",
            inert(&self.entry),
            inert(&self.top),
            inert(&self.run)
        );
        out.push_str(&format!(
            "  started  {} UTC, pid {}\n",
            inert(&self.started),
            self.pid.map_or("?".to_string(), |p| p.to_string())
        ));
        out.push_str(&format!("  result   {}\n", self.result_line()));
        if let Some(stopped) = self.stopped_at() {
            out.push_str(&format!("  stopped  {stopped}\n"));
        }
        if let Some(log) = &self.log {
            out.push_str(&format!("  log      {}\n", inert(log)));
        }
        let journal = self.journal.display().to_string();
        out.push_str(&format!("  journal  {}\n", inert(&journal)));
        if self.skipped_lines > 0 {
            out.push_str(&format!(
                "  note     {} damaged journal line(s) were skipped\n",
                self.skipped_lines
            ));
        }
        out.push_str(&self.step_table());
        for failure in self.failures() {
            out.push_str(&format!(
                "failed: {} in `{}`: {}\n",
                failure.label(),
                failure.phase_shown(),
                inert(failure.reason.as_deref().unwrap_or("?"))
            ));
        }
        out
    }

    fn step_table(&self) -> String {
        if self.steps.is_empty() {
            return "no hook ran\n".to_string();
        }
        let phase_w = self
            .steps
            .iter()
            .map(|s| s.phase_shown().len())
            .max()
            .unwrap_or(5);
        let hook_w = self
            .steps
            .iter()
            .map(|s| s.label().len())
            .max()
            .unwrap_or(4);
        let mut out = format!(
            "\n{:<phase_w$}  {:<hook_w$}  {:<11}  time\n",
            "phase", "hook", "status"
        );
        for step in &self.steps {
            let status = match step.status.as_str() {
                "ok" => "ok".to_string(),
                other => other.to_uppercase(),
            };
            let took = step.duration_ms.map(show_millis).unwrap_or_default();
            let line = format!(
                "{:<phase_w$}  {:<hook_w$}  {:<11}  {took}",
                step.phase_shown(),
                step.label(),
                inert(&status)
            );
            out.push_str(line.trim_end());
            out.push('\n');
        }
        out
    }

    /// The `--json` form.
    pub fn to_json(&self) -> Value {
        let steps: Vec<Value> = self
            .steps
            .iter()
            .map(|s| {
                json!({
                    "phase": s.phase, "hook": s.hook, "kind": s.kind,
                    "status": s.status, "duration_ms": s.duration_ms, "reason": s.reason,
                    "started_ms": s.started_ms,
                })
            })
            .collect();
        json!({
            "run": self.run, "entry": self.entry, "top": self.top, "pid": self.pid,
            "started": self.started, "status": self.status(),
            "signal": self.interrupted.as_ref().and_then(|i| i.signal.clone()),
            "stopped_at": self.stopped_at(), "now": self.now_doing(),
            "failures": self.failures().len(),
            "steps": steps, "log": self.log, "journal": self.journal,
            "skipped_lines": self.skipped_lines,
        })
    }
}

/// `hookhost status` for the stack at `top` whose state directory is
/// `state_dir`: its text (or JSON) output.
pub fn show(top: &Path, state_dir: &Path, as_json: bool) -> anyhow::Result<String> {
    if !top.is_dir() {
        anyhow::bail!(
            "{}: no such stack directory (pass --top DIR)",
            top.display()
        );
    }
    let last = last_run(state_dir)?;
    Ok(match (last, as_json) {
        (Some(last), true) => format!("{}\n", last.to_json()),
        (Some(last), false) => last.render(),
        (None, true) => format!("{}\n", json!({"status": "none", "top": top})),
        (None, false) => format!(
            "no run recorded for {} yet (no {})\n",
            top.display(),
            state_dir.join(journal::JOURNAL_FILE).display()
        ),
    })
}
