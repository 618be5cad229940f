//! `hookhost stack --dry-run`: the hooks run, but what would change the
//! machine or what this machine lacks is recorded instead of run, so an
//! operator sees what an old stack would do here.
//!
//! The bash session (helpers.sh, with the session's `dry_run` set) appends
//! one line per recorded call to `<state>/dry-run`: `KIND<TAB>FILE:LINE<TAB>
//! COMMAND`, KIND one of `undefined` (bash's `command_not_found_handle`: a
//! function or command that does not exist), `sudo`, `package`
//! (`install_package`) and `git_clone`; a WASM plugin's `run-command` of
//! `sudo` or of a missing program is recorded the same way (space.rs). The
//! host reads what each hook added right after it ran and attributes it to
//! that hook and phase, and adds `merge` for each local.conf meta-section
//! it did not merge. A dry
//! run goes on past failures (a `sudo mkdir` that was not run leaves its
//! directory missing, so what follows may fail) and bash runs without
//! errexit, so the report covers the whole stack.

use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use serde::Serialize;

/// The record file's name in the state directory.
pub const FILE: &str = "dry-run";

/// One call the dry run recorded instead of running.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Record {
    /// The hook (or driver, or `hookhost`) that was running.
    pub hook: String,
    pub phase: String,
    /// `undefined`, `sudo`, `package`, `git_clone` or `merge`.
    pub kind: String,
    /// Where the call was made: `extras.d/50-x.sh:12`, `lib/ironic:40`.
    pub place: String,
    /// The command line, shell-quoted.
    pub command: String,
}

/// Reads the record file as it grows.
#[derive(Debug)]
pub struct Recorder {
    path: PathBuf,
    offset: u64,
}

impl Recorder {
    /// Start with an empty record file in `state_dir`.
    pub fn start(state_dir: &Path) -> std::io::Result<Recorder> {
        let path = state_dir.join(FILE);
        std::fs::write(&path, b"")?;
        Ok(Recorder { path, offset: 0 })
    }

    /// The records written since the last call, attributed to `hook` in `phase`.
    pub fn collect(&mut self, hook: &str, phase: &str) -> Vec<Record> {
        let Ok(mut file) = std::fs::File::open(&self.path) else {
            return Vec::new();
        };
        let mut bytes = Vec::new();
        if file.seek(SeekFrom::Start(self.offset)).is_err() || file.read_to_end(&mut bytes).is_err()
        {
            return Vec::new();
        }
        // Only whole lines: a background process may be mid-write.
        let Some(end) = bytes.iter().rposition(|b| *b == b'\n') else {
            return Vec::new();
        };
        self.offset += end as u64 + 1;
        let text = String::from_utf8_lossy(&bytes[..end]);
        text.lines()
            .filter_map(|line| parse(line, hook, phase))
            .collect()
    }
}

fn parse(line: &str, hook: &str, phase: &str) -> Option<Record> {
    let mut parts = line.splitn(3, '\t');
    let (kind, place, command) = (parts.next()?, parts.next()?, parts.next()?);
    Some(Record {
        hook: hook.to_string(),
        phase: phase.to_string(),
        kind: kind.to_string(),
        place: place.to_string(),
        command: command.trim_end().to_string(),
    })
}

/// The report's lines: one per record, grouped by kind, and a count.
pub fn render(records: &[Record]) -> Vec<String> {
    let mut lines = Vec::new();
    let kinds = [
        (
            "undefined",
            "not defined here (functions or commands that do not exist)",
        ),
        ("sudo", "sudo (not run)"),
        ("package", "package installs (not run)"),
        ("git_clone", "git_clone (not fetched)"),
        ("merge", "local.conf meta-sections (not merged)"),
    ];
    for (kind, title) in kinds {
        let of_kind: Vec<&Record> = records.iter().filter(|r| r.kind == kind).collect();
        if of_kind.is_empty() {
            continue;
        }
        lines.push(format!("{title}: {}", of_kind.len()));
        // The call as written: `sudo mkdir -p /opt/stack`, `install_package x`.
        let prefix = match kind {
            "sudo" => "sudo ",
            "package" => "install_package ",
            "git_clone" => "git_clone ",
            _ => "",
        };
        for r in of_kind {
            lines.push(format!(
                "  {prefix}{}  [{} in `{}`, {}]",
                r.command, r.hook, r.phase, r.place
            ));
        }
    }
    if lines.is_empty() {
        lines.push("nothing: every command existed and nothing needed sudo or packages".into());
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn collects_whole_new_lines_only() {
        let dir = tempfile::tempdir().unwrap();
        let mut recorder = Recorder::start(dir.path()).unwrap();
        let path = dir.path().join(FILE);
        std::fs::write(
            &path,
            "sudo\tx.sh:3\tmkdir -p /opt\nundefined\tlib/a:9\tpip_install",
        )
        .unwrap();
        let got = recorder.collect("50-x", "stack install");
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].command, "mkdir -p /opt");
        assert_eq!(got[0].place, "x.sh:3");
        std::fs::write(
            &path,
            "sudo\tx.sh:3\tmkdir -p /opt\nundefined\tlib/a:9\tpip_install x\n",
        )
        .unwrap();
        let got = recorder.collect("60-y", "stack extra");
        assert_eq!(got.len(), 1);
        assert_eq!(
            (got[0].hook.as_str(), got[0].kind.as_str()),
            ("60-y", "undefined")
        );
        assert!(recorder.collect("z", "p").is_empty());
        let lines = render(&got);
        assert_eq!(
            lines[0],
            "not defined here (functions or commands that do not exist): 1"
        );
        assert!(lines[1].contains("pip_install x  [60-y in `stack extra`, lib/a:9]"));
    }
}
