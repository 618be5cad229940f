//! The capability audit (`--audit FILE`): every capability decision of a
//! run as one JSON object per line.
//!
//! ```json
//! {"ts":"2026-11-21T10:00:00.123Z","hook":"50-x","at":"plan","kind":"vars-read","item":"DEST","decision":"granted"}
//! {"ts":"2026-11-21T10:00:01.004Z","hook":"50-x","at":"run","phase":"source","kind":"vars-read","item":"ADMIN_PASSWORD","decision":"denied"}
//! ```
//!
//! - `at` is `plan` (the operator's grants checked against a manifest,
//!   before anything runs) or `run` (a plugin using a capability).
//! - `decision` is `granted` or `denied` at plan time, `used` or `denied`
//!   at run time; a limit a plugin ran into is `exceeded`.
//! - `kind` is the manifest's name for the capability (`read`, `write`,
//!   `vars-read`, `vars-write`, `functions`, `commands`, `net`, `packages`,
//!   `memory`, `timeout`, `confine`), `services` for a service name
//!   refused, or `size` for a string or list past its limit
//!   ([`crate::model::limits`]: `exceeded`, item the call, detail what was cut or
//!   refused); `item` what was asked for.
//! - `detail`, when present, says why.
//! - `item` and `detail` are cut to [`MAX_AUDIT_ITEM`] bytes (marked), so
//!   a plugin's huge argument cannot fill the disk through the audit.
//!
//! The log is process-wide (one run per process), so deep code such as a
//! socket check can record without the log being threaded through every
//! layer. Nothing is recorded until [`start`] opens the file; each line is
//! written whole with `O_APPEND` and flushed, so a crash keeps what was
//! decided until then and two runs may share one file.

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::Path;
use std::sync::{Mutex, OnceLock};
use std::time::SystemTime;

use anyhow::Context;
use serde::Serialize;

use crate::model::limits::{cut, MAX_AUDIT_ITEM};

/// Where a decision was taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum At {
    Plan,
    Run,
}

/// What was decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Plan time: the operator granted it.
    Granted,
    /// Refused, at plan or run time.
    Denied,
    /// Run time: a granted capability was used.
    Used,
    /// Run time: a limit (memory, time) was hit.
    Exceeded,
}

impl Decision {
    fn name(self) -> &'static str {
        match self {
            Decision::Granted => "granted",
            Decision::Denied => "denied",
            Decision::Used => "used",
            Decision::Exceeded => "exceeded",
        }
    }
}

/// One decision, before it is written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record<'a> {
    pub hook: &'a str,
    pub at: At,
    /// The phase, at run time.
    pub phase: Option<&'a str>,
    pub kind: &'a str,
    pub item: &'a str,
    pub decision: Decision,
    pub detail: Option<&'a str>,
}

impl Record<'_> {
    /// One line of JSON (without the newline), stamped with `ts`, keys
    /// in the order documented above.
    pub fn to_line(&self, ts: &str) -> String {
        let detail = self.detail.map(|d| cut(d, MAX_AUDIT_ITEM));
        serde_json::to_string(&Line {
            ts,
            hook: self.hook,
            at: match self.at {
                At::Plan => "plan",
                At::Run => "run",
            },
            phase: self.phase,
            kind: self.kind,
            item: &cut(self.item, MAX_AUDIT_ITEM),
            decision: self.decision.name(),
            detail: detail.as_deref(),
        })
        .unwrap_or_default()
    }
}

/// One line as written (field order is the order of the keys).
#[derive(Serialize)]
struct Line<'a> {
    ts: &'a str,
    hook: &'a str,
    at: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    phase: Option<&'a str>,
    kind: &'a str,
    item: &'a str,
    decision: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    detail: Option<&'a str>,
}

/// Records kept per hook and run; past it, one record says so and the
/// rest are dropped.
pub const MAX_RECORDS_PER_HOOK: usize = 10_000;

/// An open audit file.
struct AuditFile {
    file: File,
    /// Set after the first failed write, so the operator hears of it once.
    failed: bool,
    /// Records written per hook: a plugin repeating a denied call must not
    /// fill the disk through the audit file.
    written: HashMap<String, usize>,
}

fn log() -> &'static Mutex<Option<AuditFile>> {
    static LOG: OnceLock<Mutex<Option<AuditFile>>> = OnceLock::new();
    LOG.get_or_init(|| Mutex::new(None))
}

/// Open (create, or append to) the audit file; from now on every decision
/// is recorded there.
pub fn start(path: &Path) -> anyhow::Result<()> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).with_context(|| {
            format!(
                "cannot create the audit file {}: its directory",
                path.display()
            )
        })?;
    }
    let file = OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .with_context(|| format!("cannot open the audit file {}", path.display()))?;
    let mut log = log().lock().unwrap_or_else(|e| e.into_inner());
    *log = Some(AuditFile {
        file,
        failed: false,
        written: HashMap::new(),
    });
    Ok(())
}

/// Whether decisions are being recorded.
pub fn enabled() -> bool {
    log().lock().map(|l| l.is_some()).unwrap_or(false)
}

/// A run-time denial, kept whether or not an audit file is open, so that
/// the end of every run can list them ([`take_denials`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Denial {
    pub hook: String,
    /// The manifest key (`vars-read`, `write`, `net`, ...).
    pub kind: String,
    /// What was asked for, cut to [`MAX_AUDIT_ITEM`] bytes.
    pub item: String,
    /// Why, when no grant could allow it (not a variable name, inside
    /// `.git`); None when a grant would.
    pub detail: Option<String>,
    /// How many times it was asked for.
    pub count: usize,
}

/// Distinct denials kept per run; past it, they are counted only, so a
/// plugin asking for a million names cannot grow the host's memory.
pub const MAX_DENIALS: usize = 200;

/// The denials of this run, and how many distinct ones were not kept.
fn denials() -> &'static Mutex<(Vec<Denial>, usize)> {
    static DENIALS: OnceLock<Mutex<(Vec<Denial>, usize)>> = OnceLock::new();
    DENIALS.get_or_init(|| Mutex::new((Vec::new(), 0)))
}

fn keep_denial(record: &Record<'_>) {
    if record.at != At::Run || record.decision != Decision::Denied {
        return;
    }
    let mut guard = denials().lock().unwrap_or_else(|e| e.into_inner());
    let (kept, dropped) = &mut *guard;
    let item = cut(record.item, MAX_AUDIT_ITEM);
    let same = |d: &Denial| d.hook == record.hook && d.kind == record.kind && d.item == *item;
    match kept.iter().position(same) {
        Some(at) => kept[at].count += 1,
        None if kept.len() < MAX_DENIALS => kept.push(Denial {
            hook: record.hook.to_string(),
            kind: record.kind.to_string(),
            item: item.into_owned(),
            detail: record.detail.map(|d| cut(d, MAX_AUDIT_ITEM).into_owned()),
            count: 1,
        }),
        None => *dropped += 1,
    }
}

/// Every run-time denial since the last call, in the order first seen,
/// and how many more distinct ones there were past [`MAX_DENIALS`].
pub fn take_denials() -> (Vec<Denial>, usize) {
    let mut guard = denials().lock().unwrap_or_else(|e| e.into_inner());
    std::mem::take(&mut *guard)
}

/// Record one decision (nothing is written unless [`start`] was called;
/// run-time denials are kept for [`take_denials`] in any case).
pub fn record(record: Record<'_>) {
    keep_denial(&record);
    let mut guard = log().lock().unwrap_or_else(|e| e.into_inner());
    let Some(audit) = guard.as_mut() else {
        return;
    };
    let written = audit.written.entry(record.hook.to_string()).or_default();
    *written += 1;
    if *written > MAX_RECORDS_PER_HOOK + 1 {
        return;
    }
    let mut line = match *written > MAX_RECORDS_PER_HOOK {
        false => record.to_line(&timestamp(SystemTime::now())),
        true => Record {
            kind: "size",
            item: "audit",
            decision: Decision::Exceeded,
            detail: Some("this hook's further decisions in this run are not recorded"),
            ..record
        }
        .to_line(&timestamp(SystemTime::now())),
    };
    line.push('\n');
    if let Err(e) = audit.file.write_all(line.as_bytes()) {
        if !audit.failed {
            eprintln!("warning: cannot write to the audit file: {e}");
            audit.failed = true;
        }
    }
}

/// Shorthand for a plan-time decision.
pub fn plan(hook: &str, kind: &str, item: &str, decision: Decision, detail: Option<&str>) {
    record(Record {
        hook,
        at: At::Plan,
        phase: None,
        kind,
        item,
        decision,
        detail,
    });
}

/// An RFC 3339 UTC timestamp with milliseconds (`2026-11-21T10:00:00.123Z`).
pub fn timestamp(time: SystemTime) -> String {
    crate::model::units::rfc3339_millis(time)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, UNIX_EPOCH};

    fn deny(hook: &str, item: &str) {
        record(Record {
            hook,
            at: At::Run,
            phase: None,
            kind: "vars-read",
            item,
            decision: Decision::Denied,
            detail: None,
        });
    }

    #[test]
    fn denials_are_kept_without_an_audit_file_counted_and_bounded() {
        take_denials();
        for _ in 0..3 {
            deny("unit-repeat", "SECRET");
        }
        for i in 0..MAX_DENIALS + 5 {
            deny("unit-flood", &format!("V{i}"));
        }
        let (kept, more) = take_denials();
        assert!(kept.len() <= MAX_DENIALS, "{}", kept.len());
        assert!(more >= 5, "{more}");
        let repeat = kept.iter().find(|d| d.hook == "unit-repeat").unwrap();
        assert_eq!((repeat.item.as_str(), repeat.count), ("SECRET", 3));
        assert!(take_denials()
            .0
            .iter()
            .all(|d| !d.hook.starts_with("unit-")));
    }

    #[test]
    fn timestamps_are_rfc3339_utc() {
        assert_eq!(timestamp(UNIX_EPOCH), "1970-01-01T00:00:00.000Z");
        let t = UNIX_EPOCH + Duration::from_millis(1_795_255_200_123);
        assert_eq!(timestamp(t), "2026-11-21T10:00:00.123Z");
        // A leap day.
        let t = UNIX_EPOCH + Duration::from_secs(951_782_400);
        assert_eq!(timestamp(t), "2000-02-29T00:00:00.000Z");
    }

    #[test]
    fn a_record_is_one_flat_object() {
        let record = Record {
            hook: "50-x",
            at: At::Run,
            phase: Some("stack install"),
            kind: "vars-read",
            item: "ADMIN_PASSWORD",
            decision: Decision::Denied,
            detail: None,
        };
        let line = record.to_line("T");
        assert_eq!(
            line,
            r#"{"ts":"T","hook":"50-x","at":"run","phase":"stack install","kind":"vars-read","item":"ADMIN_PASSWORD","decision":"denied"}"#
        );
        let plan = Record {
            at: At::Plan,
            phase: None,
            decision: Decision::Granted,
            detail: Some("by hookhost.toml"),
            ..record
        };
        let value: serde_json::Value = serde_json::from_str(&plan.to_line("T")).unwrap();
        assert_eq!(value["at"], "plan");
        assert_eq!(value["decision"], "granted");
        assert_eq!(value["detail"], "by hookhost.toml");
        assert!(value.get("phase").is_none());
    }

    #[test]
    fn a_huge_item_is_cut_and_control_characters_stay_exact() {
        let item = format!("a\u{1b}[2K\n{}", "x".repeat(1 << 20));
        let record = Record {
            hook: "50-x",
            at: At::Run,
            phase: None,
            kind: "commands",
            item: &item,
            decision: Decision::Denied,
            detail: Some(&item),
        };
        let line = record.to_line("T");
        assert!(line.len() < 3 * MAX_AUDIT_ITEM, "{} bytes", line.len());
        let value: serde_json::Value = serde_json::from_str(&line).unwrap();
        let kept = value["item"].as_str().unwrap();
        assert!(kept.starts_with("a\u{1b}[2K\nxxx"), "{kept:?}");
        assert!(kept.ends_with(" more bytes]"), "{kept:?}");
    }
}
