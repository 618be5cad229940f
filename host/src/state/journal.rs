//! The state journal of a stack: `<stack>/.hookhost/journal.jsonl`, one
//! JSON record per line, appended while a run goes, so `hookhost status`
//! can say what the last run did, what failed and where it stopped — also
//! when it was interrupted, killed, or the machine went down.
//!
//! A run writes `run-start` (entry, pid, phases, hooks, log), then for every
//! hook and driver call `start` and `end` (phase, hook, kind, status,
//! duration, reason), `host-work` for the host's own timed work (start-up,
//! compile, session start: `work`, `detail`, duration; written when it
//! ends, so it began `duration_ms` before its `unix_ms`), `interrupted`
//! where a signal stopped it, and
//! `run-end` (ok, failed, interrupted or refused). A run without `run-end`
//! did not finish: the last `start` without its `end` is where it was.
//!
//! Crash safety:
//! - records are whole lines written with `write(2)` on an `O_APPEND`
//!   descriptor. A step's `end` record waits for the record after it (the
//!   next step's `start`, an interrupt, the run's end), microseconds later,
//!   and both go in one write: one system call per step instead of two. A
//!   SIGKILL or a panic at any point loses at most that end record (the
//!   step then reads as where the run stopped) and the record being built;
//! - the file is `fdatasync`ed at an interrupt, at the end of the run, and
//!   at the end of a phase when the last sync is [`SYNC_EVERY`] ago. Not per
//!   record, nor per phase of a quick run: a sync costs more than a whole
//!   no-op hook, and only a power cut (not a crash of
//!   hookhost) can lose unsynced records. A run that takes minutes, the
//!   case that matters after a power cut, is synced phase by phase;
//! - reading skips a line that does not parse (a record torn by a power
//!   cut or a full disk), and the next run starts on a fresh line.
//!
//! The journal stays small: when a run starts and the journal has grown
//! past [`COMPACT_AT`], it keeps the last [`KEEP_RUNS`] runs, fewer if they
//! take more than half of that (the last run is always kept), rewritten to
//! a temp file and renamed over, so the journal is whole at every instant.
//! Below that size a starting run reads nothing (a `stat` and one byte). Only
//! a run holding the stack's [`crate::state::runlock`] writes the journal.
//!
//! During a run the journal follows the run's events ([`JournalObserver`]);
//! the binary writes `run-start` and `run-end` around it.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::Context;
use serde::{Deserialize, Serialize};

use crate::model::events::{Event as RunEvent, RunObserver, RunStart, StepStatus};
use crate::model::held::HeldLine;
use crate::model::phases::Phase;
use crate::model::units::{file_timestamp, millis, utc_timestamp};

/// The journal's file name inside the stack's `.hookhost/`.
pub const JOURNAL_FILE: &str = "journal.jsonl";
/// How many runs the journal keeps when it is compacted.
pub const KEEP_RUNS: usize = 20;
/// The size past which a starting run compacts the journal.
pub const COMPACT_AT: u64 = 256 << 10;
/// How much of the journal is read at most (its tail). Only a run of tens
/// of thousands of hook calls writes that much.
const MAX_READ: u64 = 64 << 20;

/// What a record says.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Event {
    RunStart,
    /// A hook or driver call started.
    Start,
    /// A hook or driver call ended (see `status`).
    End,
    /// The host's own work (start-up, compile, session start) ended.
    HostWork,
    /// A signal stopped the run here.
    Interrupted,
    RunEnd,
    /// A record of a later hookhost version.
    #[default]
    #[serde(other)]
    Unknown,
}

/// One line of the journal. Fields that do not apply to an event are left
/// out of the line.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Record {
    pub run: String,
    pub event: Event,
    /// `YYYY-MM-DD HH:MM:SS` UTC.
    pub time: String,
    /// Milliseconds since the Unix epoch.
    pub unix_ms: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub entry: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pid: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub top: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub phases: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub hooks: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phase: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hook: Option<String>,
    /// `bash` or `wasm`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// `end`: ok, failed, interrupted; `run-end`: ok, failed, interrupted, refused.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duration_ms: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// `SIGINT` or `SIGTERM`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signal: Option<String>,
    /// `interrupted`: the hook was running (else the run stopped before it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub during: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failures: Option<usize>,
    /// `host-work`: what the host did (`compile`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub work: Option<String>,
    /// `host-work`: what it was, for people (`3 components (2 cached)`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// A hook or driver call, as the journal names it (a driver by its
/// plugin name, `hypervisor-<name>`).
#[derive(Debug, Clone, Copy)]
pub struct Step<'a> {
    pub phase: Phase,
    pub hook: &'a str,
    pub kind: &'a str,
}

/// The journal of the current run, open for appending.
#[derive(Debug)]
pub struct Journal {
    path: PathBuf,
    run: String,
    file: Mutex<File>,
    /// The first write that failed; the run goes on without the journal.
    error: Mutex<Option<String>>,
    started: AtomicBool,
    /// When the records written so far were last made durable.
    synced: Mutex<Instant>,
    /// A step's end record, written with the next record (see `held`).
    held: Mutex<HeldLine>,
}

impl Drop for Journal {
    fn drop(&mut self) {
        // A run that ends on an error path still gets its last end record.
        let _ = self.flush();
    }
}

/// A phase end syncs the journal when the last sync is this long ago.
const SYNC_EVERY: Duration = Duration::from_secs(1);

impl Journal {
    /// Open the journal of the stack whose state directory is `state_dir`
    /// for run `run`, compacting it when it is big. Fails with a
    /// message naming the file when it cannot be written.
    pub fn open(state_dir: &Path, run: &str) -> anyhow::Result<Journal> {
        std::fs::create_dir_all(state_dir).with_context(|| {
            format!("cannot create the state directory {}", state_dir.display())
        })?;
        let path = state_dir.join(JOURNAL_FILE);
        compact(&path, KEEP_RUNS.saturating_sub(1), COMPACT_AT)
            .with_context(|| format!("cannot rewrite the state journal {}", path.display()))?;
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .with_context(|| format!("cannot write the state journal {}", path.display()))?;
        Ok(Journal {
            path,
            run: run.to_string(),
            file: Mutex::new(file),
            error: Mutex::new(None),
            started: AtomicBool::new(false),
            synced: Mutex::new(Instant::now()),
            held: Mutex::default(),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn run(&self) -> &str {
        &self.run
    }

    /// Whether this run's `run-start` was written.
    pub fn has_started(&self) -> bool {
        self.started.load(Ordering::SeqCst)
    }

    /// The first record of a run; unlike later records, a failure to
    /// write it refuses the run (nothing has run yet).
    pub fn run_started(&self, mut record: Record) -> anyhow::Result<()> {
        record.event = Event::RunStart;
        record.pid = Some(std::process::id());
        self.started.store(true, Ordering::SeqCst);
        self.append(record)
            .with_context(|| format!("cannot write the state journal {}", self.path.display()))
    }

    pub fn step_started(&self, step: Step) {
        self.record(step_record(Event::Start, step));
    }

    /// A step ended: `status` is ok, failed or interrupted.
    pub fn step_ended(&self, step: Step, status: &str, took: Duration, reason: Option<&str>) {
        let mut record = step_record(Event::End, step);
        record.status = Some(status.to_string());
        record.duration_ms = Some(millis(took));
        record.reason = reason.map(kept_reason);
        match self.line(record) {
            Ok(line) => lock(&self.held).hold(&line),
            Err(e) => self.note_error(e),
        }
    }

    /// The host's own work `name` ended, having taken `took`.
    pub fn host_work(&self, name: &str, detail: &str, took: Duration) {
        self.record(Record {
            event: Event::HostWork,
            work: Some(kept_reason(name)),
            detail: Some(kept_reason(detail)),
            duration_ms: Some(millis(took)),
            ..Record::default()
        });
    }

    /// A signal stopped the run at `step` (during it, or before it started).
    pub fn interrupted(&self, step: Step, during: bool, signal: &str) {
        let mut record = step_record(Event::Interrupted, step);
        record.during = Some(during);
        record.signal = Some(signal.to_string());
        self.record(record);
        self.sync_quietly();
    }

    /// The end of a phase: what it recorded is made durable, unless the
    /// last sync was less than [`SYNC_EVERY`] ago.
    pub fn phase_ended(&self) {
        if lock(&self.synced).elapsed() >= SYNC_EVERY {
            self.sync_quietly();
        } else if let Err(e) = self.flush() {
            self.note_error(e);
        }
    }

    /// The last record of a run: `status` ok, failed, interrupted or refused.
    pub fn run_ended(&self, status: &str, failures: usize, took: Duration, reason: Option<&str>) {
        self.record(Record {
            event: Event::RunEnd,
            status: Some(status.to_string()),
            failures: Some(failures),
            duration_ms: Some(millis(took)),
            reason: reason.map(kept_reason),
            signal: crate::interrupt::signal_name().map(str::to_string),
            ..Record::default()
        });
        self.sync_quietly();
    }

    /// The first write that failed, if any (for a warning at the end).
    pub fn error(&self) -> Option<String> {
        lock(&self.error).clone()
    }

    /// Append a record; a failure is kept (the first) and the run goes on:
    /// a full disk must not stop an installer halfway because of its journal.
    fn record(&self, record: Record) {
        if let Err(e) = self.append(record) {
            self.note_error(e);
        }
    }

    fn note_error(&self, e: std::io::Error) {
        lock(&self.error).get_or_insert_with(|| e.to_string());
    }

    /// Write `record`, after the held end record if there is one.
    fn append(&self, record: Record) -> std::io::Result<()> {
        let line = self.line(record)?;
        let bytes = lock(&self.held).before(&line);
        lock(&self.file).write_all(&bytes)
    }

    /// Write the held end record, if any.
    fn flush(&self) -> std::io::Result<()> {
        let bytes = lock(&self.held).take();
        if bytes.is_empty() {
            return Ok(());
        }
        lock(&self.file).write_all(&bytes)
    }

    /// `record` as a line of the journal, stamped with this run and now.
    fn line(&self, mut record: Record) -> std::io::Result<Vec<u8>> {
        let now = SystemTime::now();
        record.run = self.run.clone();
        record.time = utc_timestamp(now);
        record.unix_ms = now
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as u64);
        let mut line = serde_json::to_vec(&record).map_err(std::io::Error::other)?;
        line.push(b'\n');
        Ok(line)
    }

    fn sync(&self) -> std::io::Result<()> {
        self.flush()?;
        lock(&self.file).sync_data()?;
        *lock(&self.synced) = Instant::now();
        Ok(())
    }

    fn sync_quietly(&self) {
        if let Err(e) = self.sync() {
            lock(&self.error).get_or_insert_with(|| e.to_string());
        }
    }
}

/// A fresh run id: the UTC start time and the pid (`20261122-014000-4242`).
pub fn new_run_id() -> String {
    format!(
        "{}-{}",
        file_timestamp(SystemTime::now()),
        std::process::id()
    )
}

/// The `run-start` record of a run (`start`) logging to `log`.
pub fn start_record(start: &RunStart, log: &Path) -> Record {
    Record {
        entry: Some(start.entry.clone()),
        top: Some(start.top.display().to_string()),
        log: Some(log.display().to_string()),
        phases: start.phases.iter().map(|p| p.to_string()).collect(),
        hooks: start.hooks.clone(),
        ..Record::default()
    }
}

/// The journal as an observer of a run: every step's start and end, a
/// failure that ended no step, where a signal stopped the run, and a sync
/// at each phase's end.
pub struct JournalObserver {
    journal: std::sync::Arc<Journal>,
    /// The last step an end was recorded for (a failure reported after it
    /// is not recorded twice).
    last_end: Option<(String, Phase)>,
}

impl JournalObserver {
    pub fn new(journal: std::sync::Arc<Journal>) -> JournalObserver {
        JournalObserver {
            journal,
            last_end: None,
        }
    }
}

impl RunObserver for JournalObserver {
    fn event(&mut self, event: &RunEvent) {
        let journal = &self.journal;
        match *event {
            // What the previous phase recorded is made durable.
            RunEvent::PhaseStarted(_) => journal.phase_ended(),
            RunEvent::StepStarted { hook, kind, phase } => {
                journal.step_started(Step { phase, hook, kind })
            }
            RunEvent::StepFinished {
                timing,
                status,
                error,
            } => {
                let step = Step {
                    phase: timing.phase,
                    hook: &timing.hook,
                    kind: &timing.kind,
                };
                journal.step_ended(step, status.as_str(), timing.duration, error);
                self.last_end = Some((timing.hook.clone(), timing.phase));
            }
            // A failure that ended no step (a plugin that could not start)
            // is a step of its own.
            RunEvent::HookFailed(failure) => {
                let this = (failure.hook.clone(), failure.phase);
                if self.last_end.as_ref() != Some(&this) {
                    let step = Step {
                        phase: failure.phase,
                        hook: &failure.hook,
                        kind: &failure.kind,
                    };
                    let status = StepStatus::Failed.as_str();
                    journal.step_ended(step, status, Duration::ZERO, Some(&failure.reason));
                }
            }
            RunEvent::HostWork(work) => journal.host_work(&work.name, &work.detail, work.duration),
            RunEvent::Interrupted(at) => {
                let signal = crate::interrupt::signal_name().unwrap_or("SIGINT");
                let step = Step {
                    phase: at.phase,
                    hook: &at.hook,
                    kind: &at.kind,
                };
                journal.interrupted(step, at.during, signal);
            }
            _ => {}
        }
    }

    fn incomplete(&self) -> Option<String> {
        let error = self.journal.error()?;
        Some(format!(
            "the state journal {} is incomplete (`hookhost status` misses the rest of this run): writing it failed: {error}",
            self.journal.path().display()
        ))
    }
}

/// A failure's reason as the journal keeps it: exact (control characters
/// are JSON-escaped), cut to [`MAX_REASON`] so one failure cannot grow the
/// journal without bound.
fn kept_reason(reason: &str) -> String {
    crate::model::limits::cut(reason, crate::model::limits::MAX_REASON).into_owned()
}

fn step_record(event: Event, step: Step) -> Record {
    Record {
        event,
        phase: Some(step.phase.to_string()),
        hook: Some(step.hook.to_string()),
        kind: Some(step.kind.to_string()),
        ..Record::default()
    }
}

/// Every whole record of the journal at `path`, oldest first (lines that do
/// not parse are skipped), and how many lines were skipped. A missing
/// journal has no records.
pub fn read(path: &Path) -> anyhow::Result<(Vec<Record>, usize)> {
    let Some(text) = read_tail(path)
        .with_context(|| format!("cannot read the state journal {}", path.display()))?
    else {
        return Ok((Vec::new(), 0));
    };
    let mut records = Vec::new();
    let mut skipped = 0;
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        match serde_json::from_str::<Record>(line) {
            Ok(record) if !record.run.is_empty() => records.push(record),
            _ => skipped += 1,
        }
    }
    Ok((records, skipped))
}

/// The records of the last run in `records` (those of the last `run-start`'s id).
pub fn last_run(records: &[Record]) -> &[Record] {
    let Some(start) = records.iter().rposition(|r| r.event == Event::RunStart) else {
        return &[];
    };
    let run = &records[start].run;
    let end = records[start..]
        .iter()
        .position(|r| &r.run != run)
        .map_or(records.len(), |n| start + n);
    &records[start..end]
}

/// The journal's text (its last [`MAX_READ`] bytes, from a line start);
/// None when there is no journal. Only a regular file is read.
fn read_tail(path: &Path) -> std::io::Result<Option<String>> {
    let mut file = match File::open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
    };
    let meta = file.metadata()?;
    if !meta.is_file() {
        return Err(std::io::Error::other("it is not a regular file"));
    }
    let skip = meta.len().saturating_sub(MAX_READ);
    file.seek(SeekFrom::Start(skip))?;
    let mut bytes = Vec::new();
    file.take(MAX_READ).read_to_end(&mut bytes)?;
    if skip > 0 {
        let first = bytes.iter().position(|&b| b == b'\n').map_or(0, |n| n + 1);
        bytes.drain(..first);
    }
    Ok(Some(String::from_utf8_lossy(&bytes).into_owned()))
}

/// When the journal is bigger than `limit` or does not end on a whole line
/// (a record torn by a power cut must not swallow the next run's first
/// record): keep the last `keep` runs, fewer when they take more than half
/// of `limit` (the last run always), and drop damaged lines.
fn compact(path: &Path, keep: usize, limit: u64) -> std::io::Result<()> {
    let meta = match std::fs::metadata(path) {
        Ok(meta) => meta,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e),
    };
    if !meta.is_file() {
        return Err(std::io::Error::other("it is not a regular file"));
    }
    if meta.len() <= limit && ends_with_newline(path, meta.len())? {
        return Ok(());
    }
    let text = read_tail(path)?.unwrap_or_default();
    let lines: Vec<&str> = text
        .lines()
        .filter(|l| serde_json::from_str::<Record>(l).is_ok())
        .collect();
    // Walk back over runs while they fit (`run-start` begins a run).
    let mut first = lines.len();
    let (mut runs, mut bytes) = (0, 0u64);
    for (i, line) in lines.iter().enumerate().rev() {
        bytes += line.len() as u64 + 1;
        if bytes > limit / 2 && runs > 0 {
            break;
        }
        if line.contains(r#""event":"run-start""#) {
            first = i;
            runs += 1;
            if runs >= keep.max(1) {
                break;
            }
        }
    }
    let mut kept = String::new();
    for line in &lines[first..] {
        kept.push_str(line);
        kept.push('\n');
    }
    let temp = path.with_extension("jsonl.tmp");
    let mut file = File::create(&temp)?;
    file.write_all(kept.as_bytes())?;
    file.sync_data()?;
    drop(file);
    std::fs::rename(&temp, path)
}

/// Whether the file of `len` bytes at `path` is empty or ends with `\n`.
fn ends_with_newline(path: &Path, len: u64) -> std::io::Result<bool> {
    if len == 0 {
        return Ok(true);
    }
    let mut file = File::open(path)?;
    file.seek(SeekFrom::Start(len - 1))?;
    let mut last = [0u8; 1];
    file.read_exact(&mut last)?;
    Ok(last[0] == b'\n')
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::phases::StackStep;

    fn step(hook: &str) -> Step<'_> {
        Step {
            phase: Phase::Stack(StackStep::Install),
            hook,
            kind: "bash",
        }
    }

    fn one_run(state: &Path, run: &str, hooks: &[&str]) {
        let journal = Journal::open(state, run).unwrap();
        journal
            .run_started(Record {
                entry: Some("stack".into()),
                ..Record::default()
            })
            .unwrap();
        for hook in hooks {
            journal.step_started(step(hook));
            journal.step_ended(step(hook), "ok", Duration::from_millis(1), None);
        }
        journal.run_ended("ok", 0, Duration::from_millis(5), None);
        assert_eq!(journal.error(), None);
    }

    #[test]
    fn records_round_trip_and_the_last_run_is_found() {
        let dir = tempfile::tempdir().unwrap();
        one_run(dir.path(), "r1", &["10-a"]);
        one_run(dir.path(), "r2", &["10-a", "20-b"]);
        let (records, skipped) = read(&dir.path().join(JOURNAL_FILE)).unwrap();
        assert_eq!(skipped, 0);
        let last = last_run(&records);
        assert_eq!(last.len(), 6, "{last:?}");
        assert!(last.iter().all(|r| r.run == "r2"));
        assert_eq!(last[0].pid, Some(std::process::id()));
        assert_eq!(last[4].hook.as_deref(), Some("20-b"));
        assert_eq!(last[4].phase.as_deref(), Some("stack install"));
        assert_eq!(last[5].event, Event::RunEnd);
    }

    #[test]
    fn a_huge_reason_is_cut_and_its_control_characters_kept_exact() {
        let dir = tempfile::tempdir().unwrap();
        let journal = Journal::open(dir.path(), "r").unwrap();
        let reason = format!("x\u{1b}[2K\r\n{}", "y".repeat(8 << 20));
        journal.step_ended(step("50-w"), "failed", Duration::ZERO, Some(&reason));
        journal.run_ended("failed", 1, Duration::ZERO, Some(&reason));
        drop(journal);
        let path = dir.path().join(JOURNAL_FILE);
        let size = std::fs::metadata(&path).unwrap().len();
        assert!(
            size < 3 * crate::model::limits::MAX_REASON as u64,
            "{size} bytes"
        );
        let (records, _) = read(&path).unwrap();
        let kept = records[0].reason.as_deref().unwrap();
        assert!(kept.starts_with("x\u{1b}[2K\r\nyyy"), "{:?}", &kept[..10]);
        assert!(kept.ends_with(" more bytes]"));
    }

    #[test]
    fn a_torn_last_line_is_skipped_and_the_next_run_starts_on_a_new_line() {
        let dir = tempfile::tempdir().unwrap();
        one_run(dir.path(), "r1", &["10-a"]);
        let path = dir.path().join(JOURNAL_FILE);
        let mut file = OpenOptions::new().append(true).open(&path).unwrap();
        file.write_all(br#"{"run":"r1","event":"sta"#).unwrap();
        let (records, skipped) = read(&path).unwrap();
        assert_eq!((records.len(), skipped), (4, 1));
        one_run(dir.path(), "r2", &["10-a"]);
        let (records, skipped) = read(&path).unwrap();
        assert_eq!((records.len(), skipped), (8, 0));
        assert_eq!(last_run(&records).len(), 4);
    }

    fn runs_in(path: &Path) -> Vec<String> {
        let (records, _) = read(path).unwrap();
        records
            .iter()
            .filter(|r| r.event == Event::RunStart)
            .map(|r| r.run.clone())
            .collect()
    }

    #[test]
    fn a_big_journal_keeps_only_the_last_runs() {
        let dir = tempfile::tempdir().unwrap();
        for n in 0..KEEP_RUNS + 5 {
            one_run(dir.path(), &format!("r{n}"), &["10-a"]);
        }
        let path = dir.path().join(JOURNAL_FILE);
        // Small: nothing is dropped.
        assert_eq!(runs_in(&path).len(), KEEP_RUNS + 5);
        compact(&path, KEEP_RUNS, 1).unwrap();
        // Past the limit: the last run only, as the others do not fit.
        assert_eq!(runs_in(&path), [format!("r{}", KEEP_RUNS + 4)]);
        for n in 0..30 {
            one_run(dir.path(), &format!("s{n}"), &["10-a"]);
        }
        compact(&path, 3, 1 << 20).unwrap();
        assert_eq!(runs_in(&path).len(), 31, "under the limit: untouched");
        compact(&path, 3, 4096).unwrap();
        assert_eq!(runs_in(&path), ["s27", "s28", "s29"]);
        assert!(!dir.path().join("journal.jsonl.tmp").exists());
    }

    #[test]
    fn unknown_events_and_fields_of_later_versions_are_tolerated() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(JOURNAL_FILE);
        std::fs::write(
            &path,
            "{\"run\":\"r\",\"event\":\"run-start\",\"new\":1}\n{\"run\":\"r\",\"event\":\"later\"}\n",
        )
        .unwrap();
        let (records, skipped) = read(&path).unwrap();
        assert_eq!(skipped, 0);
        assert_eq!(records[1].event, Event::Unknown);
    }

    #[test]
    fn host_work_is_recorded_and_a_journal_without_it_still_reads() {
        use crate::model::events::HostWork;
        let dir = tempfile::tempdir().unwrap();
        let journal = std::sync::Arc::new(Journal::open(dir.path(), "r").unwrap());
        let mut observer = JournalObserver::new(journal.clone());
        observer.event(&RunEvent::HostWork(&HostWork {
            name: "compile".into(),
            detail: "3 components (2 cached)".into(),
            duration: Duration::from_millis(1500),
        }));
        drop(observer);
        drop(journal);
        let path = dir.path().join(JOURNAL_FILE);
        let (records, _) = read(&path).unwrap();
        assert_eq!(records[0].event, Event::HostWork);
        assert_eq!(records[0].work.as_deref(), Some("compile"));
        assert_eq!(
            records[0].detail.as_deref(),
            Some("3 components (2 cached)")
        );
        assert_eq!(records[0].duration_ms, Some(1500.0));
        // A line of an older hookhost has neither field.
        std::fs::write(
            &path,
            "{\"run\":\"r\",\"event\":\"end\",\"status\":\"ok\"}\n",
        )
        .unwrap();
        let (records, skipped) = read(&path).unwrap();
        assert_eq!((records.len(), skipped), (1, 0));
        assert_eq!(records[0].work, None);
    }

    #[test]
    fn a_journal_that_is_not_a_file_is_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join(JOURNAL_FILE)).unwrap();
        let err = Journal::open(dir.path(), "r").unwrap_err();
        let text = format!("{err:#}");
        assert!(text.contains("journal.jsonl"), "{text}");
        assert!(text.contains("not a regular file"), "{text}");
    }

    #[test]
    fn as_an_observer_it_records_each_step_once_and_where_the_run_stopped() {
        use crate::model::events::{Cause, HookFailure, Interrupted, Timing};
        let dir = tempfile::tempdir().unwrap();
        let journal = std::sync::Arc::new(Journal::open(dir.path(), "r").unwrap());
        let mut observer = JournalObserver::new(journal.clone());
        let phase = Phase::Stack(StackStep::Install);
        let failure = |hook: &str| HookFailure {
            hook: hook.into(),
            kind: "wasm".into(),
            phase,
            reason: "broke".into(),
            help: None,
            output_tail: Vec::new(),
            cause: Cause::Failed,
            notes: Vec::new(),
        };
        let timing = Timing {
            phase,
            hook: "10-a".into(),
            kind: "bash".into(),
            duration: Duration::from_millis(1),
            ok: false,
        };
        observer.event(&RunEvent::StepStarted {
            hook: "10-a",
            kind: "bash",
            phase,
        });
        observer.event(&RunEvent::StepFinished {
            timing: &timing,
            status: StepStatus::Failed,
            error: Some("broke"),
        });
        // Its failure ended a step already recorded; a plugin that could
        // not start ended none, and is a step of its own.
        observer.event(&RunEvent::HookFailed(&failure("10-a")));
        observer.event(&RunEvent::HookFailed(&failure("20-b")));
        observer.event(&RunEvent::Interrupted(&Interrupted {
            hook: "30-c".into(),
            kind: "bash".into(),
            phase,
            during: false,
        }));
        drop(observer);
        drop(journal);
        let (records, _) = read(&dir.path().join(JOURNAL_FILE)).unwrap();
        let seen: Vec<(Event, &str, &str)> = records
            .iter()
            .map(|r| {
                let hook = r.hook.as_deref().unwrap_or("");
                (r.event, hook, r.status.as_deref().unwrap_or(""))
            })
            .collect();
        assert_eq!(
            seen,
            [
                (Event::Start, "10-a", ""),
                (Event::End, "10-a", "failed"),
                (Event::End, "20-b", "failed"),
                (Event::Interrupted, "30-c", ""),
            ]
        );
    }
}
