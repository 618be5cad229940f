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
//! What hooks print is inert on the terminal and in the log
//! ([`crate::model::inert`]): control characters but tab are shown escaped, and
//! a line of output holding newlines is shown as several lines, each with
//! the hook's prefix (and, in the log, the time). A message shown as one
//! line (a warning, a failure's reason) shows a newline as `\n`. The same
//! applies to bash hooks' output: harmless for them, and one rule for all.
//! Every line written to the log passes [`Reporter::log_raw`], which makes
//! it inert whatever called it. `--json` keeps the exact text.

pub mod held;

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde_json::json;

use crate::model::inert::{inert, inert_lines};
use crate::model::phases::Phase;
use crate::plan::Plan;
use crate::report::held::HeldLine;
use crate::run::{HookFailure, Interrupted};
use crate::state::journal::{Journal, Step};

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

/// One finished step of the run, for the timing table.
#[derive(Debug, Clone)]
pub struct Timing {
    pub phase: Phase,
    pub hook: String,
    pub kind: String,
    pub duration: Duration,
    pub ok: bool,
}

/// ANSI colours for the hook-name prefixes, cycled in order of first output.
const PALETTE: [&str; 6] = ["36", "35", "32", "34", "33", "96"];

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
    hook_colors: HashMap<String, &'static str>,
    /// Set when Ctrl-C stopped the run.
    interrupted: Option<Interrupted>,
    /// The entry point being run (`stack`), for advice.
    entry: String,
    /// The stack's state journal: every step reported is recorded there too.
    journal: Option<Arc<Journal>>,
    /// The last step the journal recorded an end for (a failure reported
    /// after it is not recorded twice).
    journal_last_end: Option<(String, Phase)>,
    /// The first failed write to the log (reported at the end of the run).
    log_error: Option<String>,
}

impl Reporter {
    pub fn new(mode: Mode) -> Reporter {
        let color_out = color_allowed(io::stdout().is_terminal());
        let color_err = color_allowed(io::stderr().is_terminal());
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
            hook_colors: HashMap::new(),
            interrupted: None,
            entry: "stack".to_string(),
            journal: None,
            journal_last_end: None,
            log_error: None,
        }
    }

    /// Also record every hook and driver call in the stack's state journal.
    pub fn journal_to(&mut self, journal: Arc<Journal>) {
        self.journal = Some(journal);
    }

    fn journal_step<'a>(phase: Phase, hook: &'a str, kind: &'a str) -> Step<'a> {
        Step { phase, hook, kind }
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

    /// The log file, if there is one.
    pub fn log_path(&self) -> Option<&Path> {
        self.log_path.as_deref()
    }

    pub fn timings(&self) -> &[Timing] {
        &self.timings
    }

    /// The start of a run: a header in the log, the spinner on a terminal.
    pub fn run_started(&mut self, plan: &Plan) {
        self.started = Instant::now();
        let entry = plan.entry.name();
        self.entry = entry.to_string();
        self.log_raw(&format!(
            "hookhost {} {entry} in {} (started {} UTC)",
            env!("CARGO_PKG_VERSION"),
            plan.stack.top.display(),
            utc_timestamp(SystemTime::now())
        ));
        let hooks: Vec<String> = plan.hooks.iter().map(|h| h.file.file_name()).collect();
        self.log_raw(&format!("hooks: {}", hooks.join(" ")));
        if self.mode == Mode::Json {
            let phases: Vec<String> = plan.phases.iter().map(|p| p.to_string()).collect();
            self.json(json!({
                "event": "run-start", "entry": entry, "top": plan.stack.top,
                "hooks": hooks, "phases": phases, "log": self.log_path,
            }));
        }
        let steps = (plan.hooks.len() * plan.phases.len()) as u64;
        if self.mode == Mode::Human && live_terminal() && steps > 0 {
            self.spinner = Some(spinner(steps));
        }
    }

    pub fn phase_started(&mut self, phase: Phase) {
        // What the previous phase recorded is made durable.
        if let Some(journal) = &self.journal {
            journal.phase_ended();
        }
        self.log_line(&format!("==> {phase}"));
        match self.mode {
            Mode::Human | Mode::Verbose => {
                let line = paint(self.color_out, "1;34", &format!("==> {phase}"));
                self.print_out(&line);
            }
            Mode::Json => self.json(json!({"event": "phase-start", "phase": phase.to_string()})),
            Mode::Quiet => {}
        }
    }

    pub fn hook_started(&mut self, hook: &str, kind: &str, phase: Phase) {
        if let Some(journal) = &self.journal {
            journal.step_started(Self::journal_step(phase, hook, kind));
        }
        let json_hook = hook;
        let hook = &*inert(hook);
        self.log_line(&format!("--> {hook} ({kind}) {phase}"));
        match self.mode {
            Mode::Json => self.json(json!({
                "event": "hook-start", "hook": json_hook, "kind": kind, "phase": phase.to_string()
            })),
            Mode::Verbose => {
                let line = paint(self.color_out, "2", &format!("--> {hook} ({kind}) {phase}"));
                self.print_out(&line);
            }
            _ => {}
        }
        if let Some(bar) = &self.spinner {
            bar.set_prefix(phase.to_string());
            bar.set_message(format!("{hook} ({kind})"));
            bar.reset_elapsed();
        }
    }

    /// A line a hook printed: inert, and one prefixed line per line it
    /// holds (see the module).
    pub fn output(&mut self, hook: &str, stderr: bool, line: &str) {
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

    pub fn hook_finished(&mut self, timing: Timing, error: Option<&str>) {
        let status = match (&self.interrupted, timing.ok) {
            (Some(_), false) => "interrupted",
            (_, true) => "ok",
            (_, false) => "failed",
        };
        if let Some(journal) = &self.journal {
            let step = Self::journal_step(timing.phase, &timing.hook, &timing.kind);
            journal.step_ended(step, status, timing.duration, error);
            self.journal_last_end = Some((timing.hook.clone(), timing.phase));
        }
        let line = format!(
            "<-- {} {} {status} in {}",
            inert(&timing.hook),
            timing.phase,
            show_duration(timing.duration)
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
                let line = paint(self.color_out, "2", &line);
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
    pub fn warning(&mut self, message: &str) {
        let shown = inert(message);
        self.log_line(&format!("warning: {shown}"));
        match self.mode {
            Mode::Json => self.json(json!({"event": "warning", "message": message})),
            _ => {
                let label = paint(self.color_err, "1;33", "warning:");
                self.print_err(&format!("{label} {shown}"));
            }
        }
    }

    /// A failure that is not one hook's (shown in every mode).
    pub fn error(&mut self, message: &str) {
        let shown = inert(message);
        self.log_line(&format!("error: {shown}"));
        match self.mode {
            Mode::Json => self.json(json!({"event": "error", "message": message})),
            _ => {
                let label = paint(self.color_err, "1;31", "error:");
                self.print_err(&format!("{label} {shown}"));
            }
        }
    }

    /// A titled report that is not a hook's output (the dry run's record):
    /// the title and indented lines on stdout in every mode but JSON, and in
    /// the log; with `--json` one object `{"event": EVENT, "data": DATA}`.
    pub fn report(&mut self, event: &str, title: &str, lines: &[String], data: serde_json::Value) {
        let title = inert(title);
        let lines: Vec<String> = lines.iter().map(|l| format!("  {}", inert(l))).collect();
        self.log_line(&title);
        for line in &lines {
            self.log_raw(line);
        }
        match self.mode {
            Mode::Json => self.json(json!({"event": event, "data": data})),
            _ => {
                self.print_out(&paint(self.color_out, "1", &title));
                for line in &lines {
                    self.print_out(line);
                }
            }
        }
    }

    /// A hook failed: rustc-style, with the reason, its output tail and what to do.
    pub fn hook_failed(&mut self, failure: &HookFailure) {
        self.journal_failure(failure);
        let help = help_for(failure, &self.entry, self.log_path.as_deref());
        let (reason, extra_help) = split_help(&failure.reason);
        let headline = format!(
            "hook {} ({}) failed in `{}`",
            inert(&failure.hook),
            failure.kind,
            failure.phase
        );
        let mut body = vec![format!("  = reason: {}", inert(reason))];
        body.extend(tail_lines(&failure.output_tail));
        body.extend(extra_help.map(|h| format!("  = help: {}", inert(h))));
        body.push(format!("  = help: {help}"));
        if self.mode == Mode::Json {
            self.log_diagnostic(&headline, &body);
            self.json(json!({
                "event": "hook-failed", "hook": failure.hook, "kind": failure.kind.to_string(),
                "phase": failure.phase.to_string(), "reason": failure.reason,
                "output_tail": failure.output_tail, "help": help,
            }));
            return;
        }
        self.diagnostic(&headline, &body);
    }

    /// A failure that ended no step (a plugin that could not start) is a
    /// step of its own in the journal.
    fn journal_failure(&mut self, failure: &HookFailure) {
        let Some(journal) = &self.journal else {
            return;
        };
        let this = (failure.hook.clone(), failure.phase);
        if self.journal_last_end.as_ref() != Some(&this) {
            let kind = failure.kind.to_string();
            let step = Self::journal_step(failure.phase, &failure.hook, &kind);
            journal.step_ended(step, "failed", Duration::ZERO, Some(&failure.reason));
        }
    }

    /// Ctrl-C stopped the run: say where, and what did not run.
    pub fn interrupted(&mut self, at: &Interrupted, entry: &str) {
        self.interrupted = Some(at.clone());
        if let Some(journal) = &self.journal {
            let kind = at.kind.to_string();
            let signal = crate::interrupt::signal_name().unwrap_or("SIGINT");
            journal.interrupted(
                Self::journal_step(at.phase, &at.hook, &kind),
                at.during,
                signal,
            );
        }
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
                "event": "interrupted", "hook": at.hook, "kind": at.kind.to_string(),
                "phase": at.phase.to_string(), "during": at.during,
            }));
            return;
        }
        self.diagnostic(&headline, &body);
    }

    /// The end of the run: timing table and verdict (people), summary object (machines).
    pub fn finished(&mut self, entry: &str, failures: usize, total: Duration) {
        if let Some(bar) = self.spinner.take() {
            bar.finish_and_clear();
        }
        let stopped = self.interrupted.as_ref().map(|i| i.hook.as_str());
        let table = timing_table(&self.timings, total, stopped);
        for line in table.lines() {
            self.log_raw(line);
        }
        let (status, verdict, code) = match (&self.interrupted, failures) {
            (Some(_), _) => ("interrupted", format!("{entry} interrupted"), "1;31"),
            (None, 0) => ("ok", format!("{entry} finished"), "1;32"),
            (None, n) => (
                "failed",
                format!("{entry} finished with {n} failure(s)"),
                "1;31",
            ),
        };
        let verdict = format!("{verdict} in {}", show_duration(total));
        self.log_raw(&verdict);
        self.warn_incomplete_records();
        match self.mode {
            Mode::Json => self.json(json!({
                "event": "summary", "entry": entry, "status": status, "failures": failures,
                "hooks_run": self.timings.len(), "duration_ms": millis(total),
                "stopped_at": self.interrupted.as_ref().map(|i| json!({
                    "hook": i.hook, "phase": i.phase.to_string()
                })),
                "log": self.log_path,
            })),
            Mode::Quiet => out_line(&paint(self.color_out, code, &verdict)),
            Mode::Human | Mode::Verbose => {
                out_line(table.trim_end_matches('\n'));
                out_line(&paint(self.color_out, code, &verdict));
            }
        }
    }

    /// A log or journal that could not be written (a full disk) is said at
    /// the end, once, rather than on every line.
    fn warn_incomplete_records(&mut self) {
        if let (Some(error), Some(path)) = (self.log_error.clone(), self.log_path.clone()) {
            self.warning(&format!(
                "the log {} is incomplete: writing it failed: {error}",
                path.display()
            ));
        }
        if let Some(journal) = self.journal.clone() {
            if let Some(error) = journal.error() {
                self.warning(&format!(
                    "the state journal {} is incomplete (`hookhost status` misses the rest of this run): writing it failed: {error}",
                    journal.path().display()
                ));
            }
        }
    }

    fn hook_color(&mut self, hook: &str) -> &'static str {
        let next = PALETTE[self.hook_colors.len() % PALETTE.len()];
        self.hook_colors.entry(hook.to_string()).or_insert(next)
    }

    /// A headline and `= ...` lines, on stderr and in the log.
    fn diagnostic(&mut self, headline: &str, body: &[String]) {
        self.log_diagnostic(headline, body);
        let label = paint(self.color_err, "1;31", "error:");
        let head = paint(self.color_err, "1", headline);
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

/// `line` with the time of day in front, as log lines are.
fn stamped(line: &str) -> String {
    format!("{} {line}", utc_time_of_day(SystemTime::now()))
}

/// How many run logs a stack keeps in `.hookhost/logs/` (older ones are removed).
pub const KEEP_LOGS: usize = 30;

/// A fresh log file name for a run: `DIR/<entry>-YYYYMMDD-HHMMSS.log` (UTC),
/// with `-2`, `-3`... when a run of the same second already wrote one.
/// Old logs beyond [`KEEP_LOGS`] are removed first.
pub fn new_log_path(dir: &Path, entry: &str) -> PathBuf {
    prune_logs(dir, KEEP_LOGS.saturating_sub(1));
    let stamp = file_timestamp(SystemTime::now());
    let mut path = dir.join(format!("{entry}-{stamp}.log"));
    let mut n = 2;
    while path.exists() {
        path = dir.join(format!("{entry}-{stamp}-{n}.log"));
        n += 1;
    }
    path
}

/// Point `latest.log` beside `log` at it (a relative symlink), so
/// `less .hookhost/logs/latest.log` always shows the newest run. Best effort:
/// a file system without symlinks just has no `latest.log`.
pub fn link_latest(log: &Path) {
    let (Some(dir), Some(name)) = (log.parent(), log.file_name()) else {
        return;
    };
    let link = dir.join("latest.log");
    let _ = std::fs::remove_file(&link);
    let _ = std::os::unix::fs::symlink(name, &link);
}

/// Keep the `keep` newest run logs of `dir` (by name: they sort by time
/// within an entry; by modification time across entries).
fn prune_logs(dir: &Path, keep: usize) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut logs: Vec<(SystemTime, PathBuf)> = entries
        .flatten()
        .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "log"))
        .map(|p| {
            (
                p.metadata()
                    .and_then(|m| m.modified())
                    .unwrap_or(UNIX_EPOCH),
                p,
            )
        })
        .collect();
    if logs.len() <= keep {
        return;
    }
    logs.sort();
    let excess = logs.len() - keep;
    for (_, path) in logs.into_iter().take(excess) {
        let _ = std::fs::remove_file(path);
    }
}

/// One line on stdout, flushed. A closed stdout (`hookhost stack | head`)
/// must not stop the installer halfway: the line is dropped there and kept
/// in the log.
fn out_line(line: &str) {
    out_bytes(format!("{line}\n").as_bytes());
}

/// Whole lines on stdout in one write_all (nothing when empty): stdout's
/// line buffering would cut `writeln!` at every newline inside (a held
/// event before this one). Errors ignored as for [`out_line`].
fn out_bytes(lines: &[u8]) {
    if lines.is_empty() {
        return;
    }
    let mut out = io::stdout().lock();
    let _ = out.write_all(lines);
    let _ = out.flush();
}

/// One line (or block) on stderr; errors ignored as for [`out_line`].
fn err_line(text: &str) {
    let _ = writeln!(io::stderr().lock(), "{text}");
}

/// Colour is for terminals, and never when `NO_COLOR` is set (no-color.org)
/// or the terminal is dumb.
fn color_allowed(terminal: bool) -> bool {
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    terminal && !no_color && !dumb_terminal()
}

fn dumb_terminal() -> bool {
    std::env::var_os("TERM").is_some_and(|t| t == "dumb")
}

/// A spinner needs stderr to be a terminal that can redraw a line.
fn live_terminal() -> bool {
    io::stderr().is_terminal() && !dumb_terminal()
}

fn spinner(steps: u64) -> ProgressBar {
    let bar = ProgressBar::with_draw_target(Some(steps), ProgressDrawTarget::stderr());
    let template = if color_allowed(true) {
        "{spinner:.cyan} [{pos}/{len}] {prefix:.bold} {msg} {elapsed:.dim}"
    } else {
        "{spinner} [{pos}/{len}] {prefix} {msg} {elapsed}"
    };
    if let Ok(style) = ProgressStyle::with_template(template) {
        bar.set_style(style);
    }
    bar.enable_steady_tick(Duration::from_millis(100));
    bar
}

fn paint(on: bool, code: &str, text: &str) -> String {
    match on {
        true => format!("\x1b[{code}m{text}\x1b[0m"),
        false => text.to_string(),
    }
}

/// The output tail as rustc shows source: a gutter of `|`.
fn tail_lines(tail: &[String]) -> Vec<String> {
    if tail.is_empty() {
        return Vec::new();
    }
    let mut lines = vec![format!(
        "  = output (last {} line{}):",
        tail.len(),
        if tail.len() == 1 { "" } else { "s" }
    )];
    lines.extend(tail.iter().map(|l| format!("   | {}", inert(l))));
    lines
}

/// Reasons from the runtime may end in advice (`...; raise it with ...`):
/// that part is shown as help.
fn split_help(reason: &str) -> (&str, Option<&str>) {
    for marker in ["; raise it with ", "; rerun with "] {
        if let Some(at) = reason.find(marker) {
            return (&reason[..at], Some(reason[at + 2..].trim()));
        }
    }
    (reason, None)
}

/// What to do next, from what failed.
fn help_for(failure: &HookFailure, entry: &str, log: Option<&Path>) -> String {
    let log = match log {
        Some(path) => format!("the whole run is in {}", path.display()),
        None => "`--log FILE` keeps the whole run".to_string(),
    };
    let reason = failure.reason.as_str();
    // Under errexit the session's ERR trap names the failing command; without
    // that line, the hook itself ended the shell.
    let errexit = failure
        .output_tail
        .iter()
        .any(|l| l.starts_with("hookhost: ") && l.contains(" failed with status "));
    let stray_break = failure
        .output_tail
        .iter()
        .any(|l| l.starts_with("hookhost: ") && l.contains("outside a loop"));
    if stray_break {
        return format!(
            "`break` and `continue` belong inside the hook's own loops; to leave the hook early use `return`; {log}"
        );
    }
    // DevStack's own `die` (its `[ERROR] file:line` message) stopped the
    // hook on purpose, as it stopped stack.sh: the message says why.
    let died = failure
        .output_tail
        .iter()
        .any(|l| l.starts_with("[ERROR] "));
    if died && reason.contains("ended the bash session") {
        return format!(
            "the [ERROR] line above says why the hook stopped (DevStack's `die`); {log}"
        );
    }
    if reason.contains("ended the bash session") && !reason.contains("signal") && !errexit {
        return format!(
            "a bash hook is sourced into the run's shared shell: use `return N`, not `exit N` or `exec`; {log}"
        );
    }
    if reason.starts_with("was not called") {
        return format!("its first failure in this run is reported above; {log}");
    }
    format!("fix the hook, then run `hookhost {entry}` again; {log}")
}

/// DevStack-style timing table: per phase, then per hook, then the total.
/// A hook that failed is marked, and so is the one Ctrl-C stopped.
pub fn timing_table(timings: &[Timing], total: Duration, interrupted: Option<&str>) -> String {
    let mut out = String::from("\n=========================\nhookhost timing\n");
    let width = timings
        .iter()
        .map(|t| t.hook.len())
        .max()
        .unwrap_or(4)
        .max(18);
    out.push_str("per phase:\n");
    for (phase, d, _) in sums(timings, |t| t.phase.to_string()) {
        out.push_str(&format!("  {phase:<width$} {:>10}\n", show_duration(d)));
    }
    out.push_str("per hook:\n");
    for (hook, d, failed) in sums(timings, |t| t.hook.clone()) {
        let shown = inert(&hook);
        let kind = timings
            .iter()
            .find(|t| t.hook == hook)
            .map_or("", |t| t.kind.as_str());
        let mark = match (interrupted == Some(hook.as_str()), failed) {
            (true, _) => "  INTERRUPTED",
            (false, true) => "  FAILED",
            (false, false) => "",
        };
        out.push_str(&format!(
            "  {shown:<width$} {:>10}  {kind}{mark}\n",
            show_duration(d)
        ));
    }
    out.push_str(&format!(
        "  {:<width$} {:>10}\n",
        "total",
        show_duration(total)
    ));
    out.push_str("=========================\n");
    out
}

/// Durations summed by `key`, in order of first appearance, with whether
/// any of them failed.
fn sums(timings: &[Timing], key: impl Fn(&Timing) -> String) -> Vec<(String, Duration, bool)> {
    let mut out: Vec<(String, Duration, bool)> = Vec::new();
    for t in timings {
        let k = key(t);
        match out.iter_mut().find(|(name, _, _)| *name == k) {
            Some((_, d, failed)) => {
                *d += t.duration;
                *failed |= !t.ok;
            }
            None => out.push((k, t.duration, !t.ok)),
        }
    }
    out
}

/// Milliseconds with two decimals: hooks are often well under one.
pub fn show_ms(d: Duration) -> String {
    format!("{:.2} ms", millis(d))
}

/// A duration as people read it: `0.42 ms`, `512.30 ms`, `3.21 s`, `2m 05s`.
pub fn show_duration(d: Duration) -> String {
    let secs = d.as_secs_f64();
    if secs < 1.0 {
        show_ms(d)
    } else if secs < 60.0 {
        format!("{secs:.2} s")
    } else {
        format!("{}m {:02}s", d.as_secs() / 60, d.as_secs() % 60)
    }
}

/// Milliseconds to the microsecond (JSON consumers need no more digits).
fn millis(d: Duration) -> f64 {
    (d.as_secs_f64() * 1_000_000.0).round() / 1000.0
}

/// `YYYYMMDD-HHMMSS` in UTC, for log file names.
pub fn file_timestamp(time: SystemTime) -> String {
    let (y, mo, d, h, mi, s, _) = utc_parts(time);
    format!("{y:04}{mo:02}{d:02}-{h:02}{mi:02}{s:02}")
}

/// `YYYY-MM-DD HH:MM:SS` in UTC.
pub fn utc_timestamp(time: SystemTime) -> String {
    let (y, mo, d, h, mi, s, _) = utc_parts(time);
    format!("{y:04}-{mo:02}-{d:02} {h:02}:{mi:02}:{s:02}")
}

/// `HH:MM:SS.mmm` in UTC, the stamp of each log line.
fn utc_time_of_day(time: SystemTime) -> String {
    let (_, _, _, h, mi, s, ms) = utc_parts(time);
    format!("{h:02}:{mi:02}:{s:02}.{ms:03}")
}

/// Civil UTC date and time (the audit log's days-to-date conversion), so
/// the log needs no date crate.
fn utc_parts(time: SystemTime) -> (i64, u32, u32, u32, u32, u32, u32) {
    let since = time.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = since.as_secs() as i64;
    let (days, rest) = (secs.div_euclid(86_400), secs.rem_euclid(86_400) as u32);
    let (year, month, day) = crate::capabilities::audit::civil_from_days(days);
    (
        year,
        month,
        day,
        rest / 3600,
        rest / 60 % 60,
        rest % 60,
        since.subsec_millis(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_dates_are_civil() {
        let at = |secs| UNIX_EPOCH + Duration::from_secs(secs);
        assert_eq!(utc_timestamp(at(0)), "1970-01-01 00:00:00");
        assert_eq!(utc_timestamp(at(951_782_400)), "2000-02-29 00:00:00");
        assert_eq!(file_timestamp(at(1_795_000_000)), "20261118-110640");
        assert_eq!(
            utc_time_of_day(at(3_661) + Duration::from_millis(7)),
            "01:01:01.007"
        );
    }

    #[test]
    fn advice_in_a_reason_becomes_help() {
        let (reason, help) = split_help(
            "ran past its time limit of 2 s; raise it with `timeout` in the operator's grants",
        );
        assert_eq!(reason, "ran past its time limit of 2 s");
        assert_eq!(
            help,
            Some("raise it with `timeout` in the operator's grants")
        );
        assert_eq!(
            split_help("exited with status 1"),
            ("exited with status 1", None)
        );
    }

    #[test]
    fn durations_read_as_people_write_them() {
        assert_eq!(show_duration(Duration::from_micros(420)), "0.42 ms");
        assert_eq!(show_duration(Duration::from_millis(3210)), "3.21 s");
        assert_eq!(show_duration(Duration::from_secs(125)), "2m 05s");
    }

    #[test]
    fn the_table_sums_per_phase_and_hook_and_marks_failures() {
        let t = |hook: &str, phase, ms, ok| Timing {
            phase,
            hook: hook.into(),
            kind: "bash".into(),
            duration: Duration::from_millis(ms),
            ok,
        };
        let table = timing_table(
            &[
                t("10-a", Phase::Source, 1, true),
                t("20-b", Phase::Source, 2, true),
                t("10-a", Phase::Unstack, 4, false),
            ],
            Duration::from_millis(10),
            None,
        );
        assert!(table.contains("source"), "{table}");
        assert!(table.contains("3.00 ms"), "{table}");
        assert!(table.contains("5.00 ms  bash  FAILED"), "{table}");
        assert!(table.contains("total"), "{table}");
    }
}
