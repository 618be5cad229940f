//! What the operator sees of a run, and what the log file keeps.
//!
//! - On a terminal: a spinner line on stderr with the current phase and
//!   hook, each hook's output above it prefixed with the hook's name (one
//!   colour per hook), and a timing table at the end. Output is printed
//!   through the spinner (`suspend`), so no line is lost or cut by it.
//! - Not a terminal, or `--verbose`: the same as plain lines (verbose adds a
//!   line when each hook starts and ends); `--quiet`: only failures,
//!   warnings and the verdict.
//! - `--json`: one JSON object per event on stdout, for CI systems.
//! - Failures read like rustc's diagnostics: what failed, `= reason:`, the
//!   tail of the output, `= help:` what to do next.
//!
//! Every event also goes to the log file, one whole line per write, so a
//! run that fails, is interrupted or is killed leaves a complete log.
//!
//! The [`Reporter`] is a [`RunObserver`]: it knows the run only through
//! its events (`model::events`).
//!
//! What hooks print is inert on the terminal and in the log
//! ([`crate::model::inert`]): control characters but tab are shown escaped, and
//! a line of output holding newlines is shown as several lines, each with
//! the hook's prefix (and, in the log, the time). A message shown as one
//! line (a warning, a failure's reason) shows a newline as `\n`. The same
//! applies to bash hooks' output: harmless for them, and one rule for all.
//! Every line written to the log passes [`Reporter::log_raw`], which makes
//! it inert whatever called it. `--json` keeps the exact text.

mod advice;
mod logs;
mod refusal;
mod terminal;
mod timing;

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::{Instant, SystemTime};

use anstyle::Style;
use indicatif::ProgressBar;
use serde_json::json;

use crate::model::events::{
    Event, HookFailure, HostWork, Interrupted, RunEnd, RunObserver, RunStart, StepStatus, Timing,
};
use crate::model::held::HeldLine;
use crate::model::inert::{inert, inert_lines};
use crate::model::phases::Phase;
use crate::model::units::{millis, show_elapsed, utc_time_of_day, utc_timestamp};

use advice::{help_for, tail_lines};
pub use logs::{link_latest, new_log_path, KEEP_LOGS};
pub use refusal::{refusal_text, refused_event};
use terminal::{
    color_allowed, err_line, live_terminal, out_bytes, out_line, paint, spinner, BOLD, DIM, ERROR,
    GOOD, PHASE, WARNING,
};
pub use timing::timing_table;

/// The last lines of a failure's output the verdict repeats.
const VERDICT_TAIL: usize = 3;

/// How many requests a `denials` report counts (each denial's count, and
/// those left out of the list).
fn denied_count(data: &serde_json::Value) -> u64 {
    let listed = data["denials"].as_array().into_iter().flatten();
    let counted: u64 = listed.map(|d| d["count"].as_u64().unwrap_or(1)).sum();
    counted + data["more"].as_u64().unwrap_or(0)
}

/// How events are shown on the terminal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Progress and output for people (a spinner on a terminal).
    Human,
    /// Plain lines, one when each hook starts and ends too.
    Verbose,
    /// One JSON object per line, for machines.
    Json,
    /// Only failures, warnings and the verdict.
    Quiet,
}

/// Writes the run's events to the terminal and the log.
pub struct Reporter {
    mode: Mode,
    /// Colours on stdout / stderr (a terminal, and `NO_COLOR` unset).
    color_out: bool,
    color_err: bool,
    spinner: Option<ProgressBar>,
    log: Option<File>,
    /// A hook's end line, written with the next log line (see `held`).
    log_held: HeldLine,
    /// The same for `--json`: a `hook-end` event waits for the next event.
    json_held: HeldLine,
    log_path: Option<PathBuf>,
    started: Instant,
    timings: Vec<Timing>,
    /// The host's own work (start-up, compile, session start), in order.
    host_work: Vec<HostWork>,
    /// Each phase's wall time, and the phase running now with its start.
    phases: Vec<(Phase, std::time::Duration)>,
    phase_open: Option<(Phase, Instant)>,
    /// Components are being compiled (a `compiling` event came).
    compiling: bool,
    hook_colors: HashMap<String, Style>,
    /// Set when Ctrl-C stopped the run.
    interrupted: Option<Interrupted>,
    /// The entry point being run (`stack`), for advice.
    entry: String,
    /// The first failed write to the log (reported at the end of the run).
    log_error: Option<String>,
    /// The run's first hook failure, repeated under the verdict.
    first_failure: Option<HookFailure>,
    /// Requests denied to plugins (listed before the verdict, noted in it).
    denied: u64,
}

impl Reporter {
    pub fn new(mode: Mode) -> Reporter {
        let color_out = color_allowed(&io::stdout());
        let color_err = color_allowed(&io::stderr());
        Reporter {
            mode,
            color_out,
            color_err,
            spinner: None,
            log: None,
            log_held: HeldLine::default(),
            json_held: HeldLine::default(),
            log_path: None,
            started: Instant::now(),
            timings: Vec::new(),
            host_work: Vec::new(),
            phases: Vec::new(),
            phase_open: None,
            compiling: false,
            hook_colors: HashMap::new(),
            interrupted: None,
            entry: "stack".to_string(),
            log_error: None,
            first_failure: None,
            denied: 0,
        }
    }

    /// Also write every event to `path` (created or truncated).
    pub fn log_to(&mut self, path: &Path) -> anyhow::Result<()> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| {
                anyhow::anyhow!("cannot create the log directory {}: {e}", dir.display())
            })?;
        }
        let file = File::create(path)
            .map_err(|e| anyhow::anyhow!("cannot write the log file {}: {e}", path.display()))?;
        self.log = Some(file);
        self.log_path = Some(path.to_path_buf());
        Ok(())
    }

    /// The start of a run: a header in the log, the spinner on a terminal.
    fn run_started(&mut self, start: &RunStart) {
        self.started = Instant::now();
        let entry = start.entry.as_str();
        self.entry = entry.to_string();
        self.log_raw(&format!(
            "hookhost {} {entry} in {} (started {} UTC)",
            env!("CARGO_PKG_VERSION"),
            start.top.display(),
            utc_timestamp(SystemTime::now())
        ));
        let hooks = &start.hooks;
        self.log_raw(&format!("hooks: {}", hooks.join(" ")));
        if self.mode == Mode::Json {
            let phases: Vec<String> = start.phases.iter().map(|p| p.to_string()).collect();
            self.json(json!({
                "event": "run-start", "entry": entry, "top": start.top,
                "hooks": hooks, "phases": phases, "log": self.log_path,
            }));
        }
        let steps = start.steps as u64;
        if self.mode == Mode::Human && live_terminal() && steps > 0 {
            self.spinner = Some(spinner(steps));
        }
    }

    fn phase_started(&mut self, phase: Phase) {
        self.close_phase();
        self.phase_open = Some((phase, Instant::now()));
        self.log_line(&format!("==> {phase}"));
        if let Some(bar) = &self.spinner {
            // The label leads the header: the last phase's hook is done.
            bar.set_message("");
            bar.set_prefix(phase.to_string());
        }
        match self.mode {
            Mode::Human | Mode::Verbose => {
                let line = paint(self.color_out, PHASE, &format!("==> {phase}"));
                self.print_out(&line);
            }
            Mode::Json => self.json(json!({"event": "phase-start", "phase": phase.to_string()})),
            Mode::Quiet => {}
        }
    }

    fn hook_started(&mut self, hook: &str, kind: &str, phase: Phase) {
        let json_hook = hook;
        let hook = &*inert(hook);
        self.log_line(&format!("--> {hook} ({kind}) {phase}"));
        match self.mode {
            Mode::Json => self.json(json!({
                "event": "hook-start", "hook": json_hook, "kind": kind, "phase": phase.to_string()
            })),
            Mode::Verbose => {
                let line = paint(self.color_out, DIM, &format!("--> {hook} ({kind}) {phase}"));
                self.print_out(&line);
            }
            _ => {}
        }
        if let Some(bar) = &self.spinner {
            bar.set_prefix(phase.to_string());
            bar.set_message(format!("{hook} ({kind})"));
            bar.reset_elapsed();
            // A step the count did not foresee never shows past the total.
            if bar.length().is_some_and(|len| bar.position() >= len) {
                bar.set_length(bar.position() + 1);
            }
        }
    }

    /// The phase running until now ended: its wall time is its row.
    fn close_phase(&mut self) {
        if let Some((phase, since)) = self.phase_open.take() {
            self.phases.push((phase, since.elapsed()));
        }
    }

    /// The host's own work under way (on the spinner, and a line when
    /// there is no spinner).
    fn host_progress(&mut self, work: &HostWork) {
        if !self.compiling {
            self.log_line(&format!("{} {}", work.name, work.detail));
        }
        self.compiling_progress(work);
    }

    /// The host's own finished work, for the timing table; `compile` also
    /// gets a line when something compiled.
    fn host_work(&mut self, work: &HostWork) {
        if work.name == "compile" && self.compiling {
            let line = format!(
                "compiled {} in {}",
                work.detail,
                show_elapsed(work.duration)
            );
            self.log_line(&line);
            if self.spinner.is_none() && matches!(self.mode, Mode::Human | Mode::Verbose) {
                self.print_out(&paint(self.color_out, DIM, &line));
            }
        }
        self.host_work.push(work.clone());
    }

    /// What the spinner says while components compile; without a spinner,
    /// one line when compiling starts.
    fn compiling_progress(&mut self, work: &HostWork) {
        let first = !std::mem::replace(&mut self.compiling, true);
        match &self.spinner {
            Some(bar) => {
                bar.set_prefix("compiling");
                bar.set_message(work.detail.clone());
            }
            None if first && matches!(self.mode, Mode::Human | Mode::Verbose) => {
                let line = format!("compiling {}", work.detail);
                self.print_out(&paint(self.color_out, DIM, &line));
            }
            None => {}
        }
    }

    /// A line a hook printed: inert, and one prefixed line per line it
    /// holds (see the module).
    fn output(&mut self, hook: &str, stderr: bool, line: &str) {
        if self.mode == Mode::Json {
            self.json(json!({
                "event": "output", "hook": hook,
                "stream": if stderr { "stderr" } else { "stdout" }, "line": line
            }));
        }
        let label = format!("[{}]", inert(hook));
        let shown = matches!(self.mode, Mode::Human | Mode::Verbose);
        let prefix = match shown {
            true => paint(self.color_out, self.hook_color(hook), &label),
            false => String::new(),
        };
        for piece in inert_lines(line) {
            self.log_line(&format!("{label} {piece}"));
            if shown {
                self.print_out(&format!("{prefix} {piece}"));
            }
        }
    }

    fn hook_finished(&mut self, timing: Timing, status: StepStatus, error: Option<&str>) {
        let status = status.as_str();
        let line = format!(
            "<-- {} {} {status} in {}",
            inert(&timing.hook),
            timing.phase,
            show_elapsed(timing.duration)
        );
        self.log_held
            .hold(format!("{}\n", stamped(&line)).as_bytes());
        match self.mode {
            Mode::Json => self.json(json!({
                "event": "hook-end", "hook": timing.hook, "kind": timing.kind,
                "phase": timing.phase.to_string(), "status": status,
                "duration_ms": millis(timing.duration), "error": error,
            })),
            Mode::Verbose => {
                let line = paint(self.color_out, DIM, &line);
                self.print_out(&line);
            }
            _ => {}
        }
        if let Some(bar) = &self.spinner {
            bar.inc(1);
        }
        self.timings.push(timing);
    }

    /// A warning that is not a hook's output (skipped files, recorded
    /// installs, a plugin's warnings in the summary): one inert line.
    fn warning(&mut self, message: &str) {
        let shown = inert(message);
        self.log_line(&format!("warning: {shown}"));
        match self.mode {
            Mode::Json => self.json(json!({"event": "warning", "message": message})),
            _ => {
                let label = paint(self.color_err, WARNING, "warning:");
                self.print_err(&format!("{label} {shown}"));
            }
        }
    }

    /// A failure that is not one hook's (shown in every mode).
    fn error(&mut self, message: &str) {
        let shown = inert(message);
        self.log_line(&format!("error: {shown}"));
        match self.mode {
            Mode::Json => self.json(json!({"event": "error", "message": message})),
            _ => {
                let label = paint(self.color_err, ERROR, "error:");
                self.print_err(&format!("{label} {shown}"));
            }
        }
    }

    /// A titled report that is not a hook's output (the dry run's record):
    /// the title and indented lines on stdout in every mode but JSON, and in
    /// the log; with `--json` one object `{"event": EVENT, "data": DATA}`.
    fn report(&mut self, event: &str, title: &str, lines: &[String], data: serde_json::Value) {
        if event == "denials" {
            self.denied += denied_count(&data);
        }
        let title = inert(title);
        let lines: Vec<String> = lines.iter().map(|l| format!("  {}", inert(l))).collect();
        self.log_line(&title);
        for line in &lines {
            self.log_raw(line);
        }
        match self.mode {
            Mode::Json => self.json(json!({"event": event, "data": data})),
            _ => {
                self.print_out(&paint(self.color_out, BOLD, &title));
                for line in &lines {
                    self.print_out(line);
                }
            }
        }
    }

    /// A hook failed: rustc-style, with the reason, its output tail and what to do.
    fn hook_failed(&mut self, failure: &HookFailure) {
        if self.first_failure.is_none() {
            self.first_failure = Some(failure.clone());
        }
        let help = help_for(failure, &self.entry, self.log_path.as_deref());
        let (reason, extra_help) = (failure.reason.as_str(), failure.help.as_deref());
        let headline = inert(&failure_headline(failure)).into_owned();
        let mut body = vec![format!("  = reason: {}", inert(reason))];
        body.extend(tail_lines(&failure.output_tail));
        body.extend(extra_help.map(|h| format!("  = help: {}", inert(h))));
        body.push(format!("  = help: {help}"));
        if self.mode == Mode::Json {
            self.log_diagnostic(&headline, &body);
            self.json(json!({
                "event": "hook-failed", "hook": failure.hook, "kind": failure.kind.to_string(),
                "phase": failure.phase.to_string(), "reason": reason,
                "limit_help": extra_help,
                "output_tail": failure.output_tail, "help": help,
            }));
            return;
        }
        self.diagnostic(&headline, &body);
    }

    /// Ctrl-C stopped the run: say where, and what did not run.
    fn interrupted(&mut self, at: &Interrupted) {
        self.interrupted = Some(at.clone());
        let entry = self.entry.clone();
        let hook = inert(&at.hook);
        let place = match at.during {
            true => format!("stopped hook {hook} ({}) in `{}`", at.kind, at.phase),
            false => format!("stopped before hook {hook} in `{}`", at.phase),
        };
        let headline = format!("interrupted ({}): {place}", crate::interrupt::cause());
        let mut body = vec![
            "  = note: the hooks and phases after it did not run".to_string(),
            format!(
                "  = help: run `hookhost {entry}` again when ready: every run starts over from `source`"
            ),
        ];
        if let Some(log) = &self.log_path {
            body.push(format!("  = note: the whole run is in {}", log.display()));
        }
        if self.mode == Mode::Json {
            self.log_diagnostic(&headline, &body);
            self.json(json!({
                "event": "interrupted", "hook": at.hook, "kind": at.kind,
                "phase": at.phase.to_string(), "during": at.during,
            }));
            return;
        }
        self.diagnostic(&headline, &body);
    }

    /// The end of the run: timing table and verdict (people), summary object (machines).
    fn finished(&mut self, end: &RunEnd) {
        let (entry, failures, total) = (end.entry.as_str(), end.failures, end.duration);
        if let Some(bar) = self.spinner.take() {
            bar.finish_and_clear();
        }
        self.close_phase();
        let stopped = self.interrupted.as_ref().map(|i| i.hook.as_str());
        let rows = timing::Rows {
            host: &self.host_work,
            phases: &self.phases,
            hooks: &self.timings,
        };
        let table = timing_table(&rows, total, stopped);
        for line in table.lines() {
            self.log_raw(line);
        }
        let status = match (&self.interrupted, failures, &end.stopped_at) {
            (Some(_), _, _) => "interrupted",
            (None, 0, None) => "ok",
            _ => "failed",
        };
        let code = if status == "ok" { GOOD } else { ERROR };
        let verdict = self.verdict(end);
        let notes = self.verdict_notes();
        self.log_raw(&verdict);
        for note in &notes {
            self.log_raw(note);
        }
        self.warn_incomplete_records(&end.incomplete);
        let stopped_at = self.stopped_at(end);
        match self.mode {
            Mode::Json => self.json(json!({
                "event": "summary", "entry": entry, "status": status, "failures": failures,
                "hooks_run": self.timings.len(), "duration_ms": millis(total),
                "stopped_at": stopped_at,
                "first_error": self.first_failure.as_ref().map(first_error),
                "log": self.log_path,
            })),
            Mode::Quiet => self.print_verdict(&verdict, &notes, code),
            Mode::Human | Mode::Verbose => {
                out_line(table.trim_end_matches('\n'));
                self.print_verdict(&verdict, &notes, code);
            }
        }
    }

    /// The verdict: how the run ended, where it stopped, how long it took.
    /// `stack failed at 35-fail (bash) in stack install after 40 ms`.
    fn verdict(&self, end: &RunEnd) -> String {
        let (entry, total) = (end.entry.as_str(), show_elapsed(end.duration));
        if self.interrupted.is_some() {
            return format!("{entry} interrupted in {total}");
        }
        if let Some((step, phase)) = &end.stopped_at {
            let kind = self
                .first_failure
                .as_ref()
                .filter(|f| &f.hook == step && f.phase == *phase)
                .map(|f| format!(" ({})", f.kind))
                .unwrap_or_default();
            return format!(
                "{entry} failed at {}{kind} in {phase} after {total}",
                inert(step)
            );
        }
        match end.failures {
            0 => format!("{entry} finished in {total}"),
            n => format!("{entry} finished with {n} failure(s) in {total}"),
        }
    }

    /// Under the verdict: the first error again (it may have scrolled far
    /// away in a big stack), its last line of output, and where the log is.
    fn verdict_notes(&self) -> Vec<String> {
        let mut notes = Vec::new();
        if let Some(failure) = &self.first_failure {
            // As the failure was shown: its output under a `|` gutter.
            notes.push(format!("  = error: {}", inert(&failure_headline(failure))));
            notes.push(format!("  = reason: {}", inert(&failure.reason)));
            // hookhost's own line, and the lines above it that say why.
            let tail = &failure.output_tail;
            if !tail.is_empty() {
                notes.push("  = last output:".to_string());
                for line in &tail[tail.len().saturating_sub(VERDICT_TAIL)..] {
                    notes.push(format!("   | {}", inert(line)));
                }
            }
        }
        if self.denied > 0 {
            let requests = match self.denied {
                1 => "1 request".to_string(),
                n => format!("{n} requests"),
            };
            notes.push(format!(
                "  = note: {requests} denied to plugins (listed above)"
            ));
        }
        if let Some(log) = &self.log_path {
            notes.push(format!("  = note: the whole run is in {}", log.display()));
        }
        notes
    }

    fn print_verdict(&self, verdict: &str, notes: &[String], code: Style) {
        out_line(&paint(self.color_out, code, verdict));
        for note in notes {
            out_line(note);
        }
    }

    /// Where the run stopped early, for `--json`: Ctrl-C's place, else
    /// the step `stack` stopped at.
    fn stopped_at(&self, end: &RunEnd) -> Option<serde_json::Value> {
        if let Some(at) = &self.interrupted {
            return Some(json!({"hook": at.hook, "kind": at.kind, "phase": at.phase.to_string()}));
        }
        let (step, phase) = end.stopped_at.as_ref()?;
        let kind = self
            .first_failure
            .as_ref()
            .filter(|f| &f.hook == step && f.phase == *phase)
            .map(|f| f.kind.clone());
        Some(json!({"hook": step, "kind": kind, "phase": phase.to_string()}))
    }

    /// A log (or another observer's record, `others`) that could not be
    /// written (a full disk) is said at the end, once, rather than on every
    /// line.
    fn warn_incomplete_records(&mut self, others: &[String]) {
        if let (Some(error), Some(path)) = (self.log_error.clone(), self.log_path.clone()) {
            self.warning(&format!(
                "the log {} is incomplete: writing it failed: {error}",
                path.display()
            ));
        }
        for note in others {
            self.warning(note);
        }
    }

    fn hook_color(&mut self, hook: &str) -> Style {
        let next = terminal::hook_style(self.hook_colors.len());
        *self.hook_colors.entry(hook.to_string()).or_insert(next)
    }

    /// A headline and `= ...` lines, on stderr and in the log.
    fn diagnostic(&mut self, headline: &str, body: &[String]) {
        self.log_diagnostic(headline, body);
        let label = paint(self.color_err, ERROR, "error:");
        let head = paint(self.color_err, BOLD, headline);
        let mut text = format!("{label} {head}");
        for line in body {
            text.push('\n');
            text.push_str(line);
        }
        self.print_err(&text);
    }

    fn log_diagnostic(&mut self, headline: &str, body: &[String]) {
        self.log_line(&format!("error: {headline}"));
        for line in body {
            self.log_raw(line);
        }
    }

    /// A line on stdout, above the spinner when there is one.
    fn print_out(&self, line: &str) {
        match &self.spinner {
            Some(bar) => bar.suspend(|| out_line(line)),
            None => out_line(line),
        }
    }

    /// A line on stderr, above the spinner when there is one.
    fn print_err(&self, text: &str) {
        match &self.spinner {
            Some(bar) => bar.suspend(|| err_line(text)),
            None => err_line(text),
        }
    }

    /// One JSON event per line. A `hook-end` waits for the next event (the
    /// next hook's start, a phase, the summary: microseconds later) and
    /// both go out in one write, as in the log.
    fn json(&mut self, mut value: serde_json::Value) {
        let hold = value["event"] == "hook-end";
        if let Some(object) = value.as_object_mut() {
            object.insert("elapsed_ms".into(), json!(millis(self.started.elapsed())));
        }
        let line = format!("{value}\n");
        if hold {
            self.json_held.hold(line.as_bytes());
        } else {
            out_bytes(&self.json_held.before(line.as_bytes()));
        }
    }

    /// An event line in the log, with the time of day.
    fn log_line(&mut self, line: &str) {
        self.log_raw(&stamped(line));
    }

    /// Whole lines per write(2), nothing kept back but a hook's end line,
    /// which goes with the next line (the next hook's start, its output, a
    /// phase, the summary: microseconds later). So an interrupted or
    /// killed run loses at most that one line. Every line is made inert
    /// here, so no caller can put a control character or a line of its
    /// own in the log.
    fn log_raw(&mut self, line: &str) {
        let line = inert(line);
        let bytes = self.log_held.before(format!("{line}\n").as_bytes());
        self.write_log(&bytes);
    }

    fn write_log(&mut self, bytes: &[u8]) {
        if let Some(log) = &mut self.log {
            // A failing log write must not stop the run; it is reported at the end.
            if let Err(e) = log.write_all(bytes) {
                self.log_error.get_or_insert_with(|| e.to_string());
            }
        }
    }
}

impl Drop for Reporter {
    fn drop(&mut self) {
        let held = self.log_held.take();
        self.write_log(&held);
        out_bytes(&self.json_held.take());
    }
}

/// `hook X (bash) failed in `PHASE``.
fn failure_headline(failure: &HookFailure) -> String {
    format!(
        "hook {} ({}) failed in `{}`",
        failure.hook, failure.kind, failure.phase
    )
}

/// A failure as one line, for `--json`: its headline and reason.
fn first_error(failure: &HookFailure) -> String {
    format!("{}: {}", failure_headline(failure), failure.reason)
}

/// `line` with the time of day in front, as log lines are.
fn stamped(line: &str) -> String {
    format!("{} {line}", utc_time_of_day(SystemTime::now()))
}

impl RunObserver for Reporter {
    fn event(&mut self, event: &Event) {
        match *event {
            Event::RunStarted(start) => self.run_started(start),
            Event::PhaseStarted(phase) => self.phase_started(phase),
            Event::StepStarted { hook, kind, phase } => self.hook_started(hook, kind, phase),
            Event::Output { hook, stderr, line } => self.output(hook, stderr, line),
            Event::StepFinished {
                timing,
                status,
                error,
            } => self.hook_finished(timing.clone(), status, error),
            Event::HookFailed(failure) => self.hook_failed(failure),
            Event::HostWork(work) => self.host_work(work),
            Event::HostProgress(work) => self.host_progress(work),
            Event::Interrupted(at) => self.interrupted(at),
            Event::Warning(message) => self.warning(message),
            Event::Error(message) => self.error(message),
            Event::Report {
                event,
                title,
                lines,
                data,
            } => self.report(event, title, lines, data.clone()),
            Event::Finished(end) => self.finished(end),
        }
    }
}
