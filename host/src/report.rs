//! What the operator sees of a run: live progress, each hook's output
//! prefixed with its name, a timing table at the end; or, with `--json`,
//! one JSON object per event. Every event also goes to the log file.

use std::fs::File;
use std::io::{self, IsTerminal, Write};
use std::path::Path;
use std::time::Duration;

use serde_json::json;

use crate::phases::Phase;

/// How events are shown on the terminal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Progress and output for people.
    Human,
    /// One JSON object per line, for machines.
    Json,
    /// Only failures and the summary.
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

/// Writes the run's events to the terminal and the log.
pub struct Reporter {
    mode: Mode,
    color: bool,
    log: Option<File>,
    timings: Vec<Timing>,
}

impl Reporter {
    pub fn new(mode: Mode) -> Reporter {
        let color = std::env::var_os("NO_COLOR").is_none() && io::stdout().is_terminal();
        Reporter {
            mode,
            color,
            log: None,
            timings: Vec::new(),
        }
    }

    /// Also write every event to `path` (created or truncated).
    pub fn log_to(&mut self, path: &Path) -> anyhow::Result<()> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let file = File::create(path)
            .map_err(|e| anyhow::anyhow!("cannot write the log file {}: {e}", path.display()))?;
        self.log = Some(file);
        Ok(())
    }

    pub fn timings(&self) -> &[Timing] {
        &self.timings
    }

    pub fn phase_started(&mut self, phase: Phase) {
        self.log_line(&format!("==> {phase}"));
        match self.mode {
            Mode::Human => println!("{}", self.paint("1;34", &format!("==> {phase}"))),
            Mode::Json => self.json(json!({"event": "phase-start", "phase": phase.to_string()})),
            Mode::Quiet => {}
        }
    }

    pub fn hook_started(&mut self, hook: &str, kind: &str, phase: Phase) {
        self.log_line(&format!("--- {hook} ({kind}) {phase}"));
        if self.mode == Mode::Json {
            self.json(json!({"event": "hook-start", "hook": hook, "kind": kind, "phase": phase.to_string()}));
        }
    }

    /// A line a hook printed.
    pub fn output(&mut self, hook: &str, stderr: bool, line: &str) {
        self.log_line(&format!("[{hook}] {line}"));
        match self.mode {
            Mode::Human => {
                let prefix = self.paint(if stderr { "33" } else { "36" }, &format!("[{hook}]"));
                println!("{prefix} {line}");
            }
            Mode::Json => self.json(json!({
                "event": "output", "hook": hook, "stream": if stderr { "stderr" } else { "stdout" }, "line": line
            })),
            Mode::Quiet => {}
        }
    }

    pub fn hook_finished(&mut self, timing: Timing, error: Option<&str>) {
        let status = if timing.ok { "ok" } else { "failed" };
        self.log_line(&format!(
            "--- {} {} {} in {}",
            timing.hook,
            timing.phase,
            status,
            show_ms(timing.duration)
        ));
        if self.mode == Mode::Json {
            self.json(json!({
                "event": "hook-end", "hook": timing.hook, "kind": timing.kind,
                "phase": timing.phase.to_string(), "status": status,
                "duration_ms": timing.duration.as_secs_f64() * 1000.0, "error": error,
            }));
        }
        self.timings.push(timing);
    }

    /// A warning that is not a hook's output (skipped files, recorded installs).
    pub fn warning(&mut self, message: &str) {
        self.log_line(&format!("warning: {message}"));
        match self.mode {
            Mode::Json => self.json(json!({"event": "warning", "message": message})),
            _ => eprintln!("{} {message}", self.paint("1;33", "warning:")),
        }
    }

    /// A failure, shown in every mode.
    pub fn error(&mut self, message: &str) {
        self.log_line(&format!("error: {message}"));
        match self.mode {
            Mode::Json => self.json(json!({"event": "error", "message": message})),
            _ => eprintln!("{} {message}", self.paint("1;31", "error:")),
        }
    }

    /// The end of the run: timing table (people) or summary object (machines).
    pub fn finished(&mut self, entry: &str, failures: usize, total: Duration) {
        let table = timing_table(&self.timings, total);
        if let Some(log) = &mut self.log {
            let _ = writeln!(log, "{table}");
            let _ = log.flush();
        }
        match self.mode {
            Mode::Json => self.json(json!({
                "event": "summary", "entry": entry, "failures": failures,
                "hooks_run": self.timings.len(), "duration_ms": total.as_secs_f64() * 1000.0,
            })),
            _ => {
                print!("{table}");
                let verdict = match failures {
                    0 => self.paint("1;32", &format!("{entry} finished")),
                    n => self.paint("1;31", &format!("{entry} finished with {n} failure(s)")),
                };
                println!("{verdict} in {}", show_ms(total));
            }
        }
        let _ = io::stdout().flush();
    }

    fn paint(&self, code: &str, text: &str) -> String {
        match self.color {
            true => format!("\x1b[{code}m{text}\x1b[0m"),
            false => text.to_string(),
        }
    }

    fn json(&self, value: serde_json::Value) {
        println!("{value}");
    }

    fn log_line(&mut self, line: &str) {
        if let Some(log) = &mut self.log {
            // A failing log write must not stop the run; the run reports it at the end.
            let _ = writeln!(log, "{line}");
        }
    }
}

/// DevStack-style timing table: per phase, then per hook, then the total.
pub fn timing_table(timings: &[Timing], total: Duration) -> String {
    let mut out = String::from("\n=========================\nhookhost timing\n");
    let mut phases: Vec<(Phase, Duration)> = Vec::new();
    for t in timings {
        match phases.iter_mut().find(|(p, _)| *p == t.phase) {
            Some((_, d)) => *d += t.duration,
            None => phases.push((t.phase, t.duration)),
        }
    }
    let width = timings
        .iter()
        .map(|t| t.hook.len())
        .max()
        .unwrap_or(4)
        .max(18);
    out.push_str("per phase:\n");
    for (phase, d) in &phases {
        out.push_str(&format!(
            "  {:<width$} {:>10}\n",
            phase.to_string(),
            show_ms(*d)
        ));
    }
    out.push_str("per hook:\n");
    let mut hooks: Vec<(&str, &str, Duration)> = Vec::new();
    for t in timings {
        match hooks.iter_mut().find(|(h, _, _)| *h == t.hook) {
            Some((_, _, d)) => *d += t.duration,
            None => hooks.push((&t.hook, &t.kind, t.duration)),
        }
    }
    for (hook, kind, d) in hooks {
        out.push_str(&format!("  {hook:<width$} {:>10}  {kind}\n", show_ms(d)));
    }
    out.push_str(&format!("  {:<width$} {:>10}\n", "total", show_ms(total)));
    out.push_str("=========================\n");
    out
}

/// Milliseconds with two decimals: hooks are often well under one.
pub fn show_ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}
