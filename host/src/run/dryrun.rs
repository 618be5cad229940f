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
    /// Why it was recorded, when the record says (`missing` commands: a
    /// DevStack function not sourced, or a system command not allowed).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub note: String,
}

/// Reads the record file as it grows.
#[derive(Debug)]
pub struct Recorder {
    path: PathBuf,
    offset: u64,
    /// Values shown as `****` in every record (see [`Recorder::start`]).
    secrets: Vec<String>,
    /// Where `read_password` keeps the passwords it made up.
    passwords: PathBuf,
}

/// The shortest value masked: shorter ones would blot out ordinary words.
const MIN_SECRET: usize = 4;

/// How a secret is shown in a record.
const MASK: &str = "****";

impl Recorder {
    /// Start with an empty record file in `state_dir`, readable by its
    /// owner only (a recorded command may carry a password). The values of
    /// `vars` whose names say they are secret (`*PASSWORD*`, `*SECRET*`,
    /// `*TOKEN*`, `*_PASS`), and the passwords `read_password` made up,
    /// are masked in every record the run reports.
    pub fn start(state_dir: &Path, vars: &[(String, String)]) -> std::io::Result<Recorder> {
        use std::os::unix::fs::OpenOptionsExt;
        let path = state_dir.join(FILE);
        let _ = std::fs::remove_file(&path);
        std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&path)?;
        let secrets = vars
            .iter()
            .filter(|(name, _)| is_secret_name(name))
            .map(|(_, value)| value.clone())
            .collect();
        Ok(Recorder {
            path,
            offset: 0,
            secrets,
            passwords: state_dir.join("passwords"),
        })
    }

    /// Every secret known now: the configured ones and those in the
    /// password file, longest first (so a secret inside another is not
    /// masked half).
    fn secrets(&self) -> Vec<String> {
        let mut secrets = self.secrets.clone();
        if let Ok(text) = std::fs::read_to_string(&self.passwords) {
            secrets.extend(
                text.lines()
                    .filter_map(|l| l.split_once('=').map(|(_, v)| v.to_string())),
            );
        }
        secrets.retain(|s| s.len() >= MIN_SECRET);
        secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
        secrets.dedup();
        secrets
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
        let secrets = self.secrets();
        text.lines()
            .filter_map(|line| parse(line, hook, phase))
            .map(|record| masked(record, &secrets))
            .collect()
    }
}

/// Whether a variable's name says its value is secret.
fn is_secret_name(name: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    ["PASSWORD", "PASSWD", "SECRET", "TOKEN"]
        .iter()
        .any(|word| upper.contains(word))
        || upper.ends_with("_PASS")
}

/// `record` with every secret in its command and note shown as `****`.
fn masked(mut record: Record, secrets: &[String]) -> Record {
    for secret in secrets {
        if record.command.contains(secret.as_str()) {
            record.command = record.command.replace(secret.as_str(), MASK);
        }
        if record.note.contains(secret.as_str()) {
            record.note = record.note.replace(secret.as_str(), MASK);
        }
    }
    record
}

fn parse(line: &str, hook: &str, phase: &str) -> Option<Record> {
    let mut parts = line.splitn(4, '\t');
    let (kind, place, command) = (parts.next()?, parts.next()?, parts.next()?);
    Some(Record {
        hook: hook.to_string(),
        phase: phase.to_string(),
        kind: kind.to_string(),
        place: place.to_string(),
        command: command.trim_end().to_string(),
        note: parts.next().unwrap_or("").trim_end().to_string(),
    })
}

/// What a dry run's confinement refused, from the line bash printed for
/// it (`FILE: line N: PATH: Permission denied`, a redirection), as a record
/// line for the record file: kind `file`, the place mapped back to the
/// hook's (or the tree's) file relative to `top`. None for other lines.
/// `state_dir` is hookhost's state (the stack's `.hookhost`, or the
/// `--state-dir`), which a dry run may write.
pub fn refused_write(line: &str, top: &Path, state_dir: &Path) -> Option<String> {
    let body = line.strip_suffix(": Permission denied")?;
    let (file, rest) = body.split_once(": line ")?;
    let (number, path) = rest.split_once(": ")?;
    if number.is_empty() || !number.bytes().all(|b| b.is_ascii_digit()) || path.is_empty() {
        return None;
    }
    if !is_write_target(path, top, state_dir) {
        return None;
    }
    let place = format!("{}:{number}", place_file(file, top, state_dir));
    let path = path.replace(['\t', '\n'], " ");
    Some(format!(
        "file\t{place}\twould write {path}\trefused by the dry run's confinement\n"
    ))
}

/// Whether bash's `PATH: Permission denied` is about writing PATH: bash
/// words a refused exec the same way, so a PATH that is an executable file,
/// or lies inside hookhost's state (which a dry run may write; the shims
/// live there), is not taken for a write.
fn is_write_target(path: &str, top: &Path, state_dir: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    let absolute = top.join(path);
    if absolute.starts_with(state_dir) {
        return false;
    }
    let executable = std::fs::metadata(&absolute)
        .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0);
    !executable
}

/// A file bash named, as the report names it: relative to the stack, and
/// the prelude's padded copies (`STATE/prelude/N/stack.sh`) as the
/// tree's own script.
fn place_file(file: &str, top: &Path, state_dir: &Path) -> String {
    let under = |dir: &Path| {
        file.strip_prefix(dir.to_string_lossy().as_ref())
            .and_then(|r| r.strip_prefix('/'))
    };
    if let Some(padded) = under(state_dir).and_then(|r| r.strip_prefix("prelude/")) {
        return padded
            .split_once('/')
            .map_or(padded, |(_, script)| script)
            .to_string();
    }
    under(top).unwrap_or(file).to_string()
}

/// In a dry run, note a refused write `line` (see [`refused_write`]) in the
/// record file of `state_dir`, for the step running now.
pub fn note_refused_write(line: &str, top: &Path, state_dir: &Path) {
    use std::io::Write;
    let Some(record) = refused_write(line, top, state_dir) else {
        return;
    };
    let file = std::fs::OpenOptions::new()
        .append(true)
        .open(state_dir.join(FILE));
    if let Ok(mut file) = file {
        let _ = file.write_all(record.as_bytes());
    }
}

/// Whether a hook's output ends with a write the confinement refused: its
/// non-zero status then comes from that refusal, which the dry run reports
/// as a finding (`would write PATH`), not as the hook's failure.
pub fn ended_at_refused_write(last_line: Option<&str>, top: &Path, state_dir: &Path) -> bool {
    last_line.is_some_and(|line| refused_write(line, top, state_dir).is_some())
}

/// The report's sections: record kind, title, and how a record's command
/// is written (`sudo mkdir ...`, `install_package x`).
const SECTIONS: [(&str, &str, &str); 13] = [
    (
        "die",
        "would stop here (DevStack's die; the run went on)",
        "",
    ),
    (
        "undefined",
        "not defined here (functions or commands that do not exist)",
        "",
    ),
    ("pip", "Python packages (not installed)", ""),
    ("service", "services started or stopped (not run)", ""),
    ("sudo", "sudo (not run)", "sudo "),
    ("package", "package installs (not run)", ""),
    ("git_clone", "git_clone (not fetched)", "git_clone "),
    ("git", "git (not run)", ""),
    ("network", "network (not reached)", ""),
    (
        "file",
        "files outside the state directory (not written)",
        "",
    ),
    ("system", "other system changes (not run)", ""),
    ("wait", "waits (not waited for)", ""),
    ("merge", "local.conf meta-sections (not merged)", ""),
];

/// The report's lines: how this dry run was confined, the count of each
/// kind, then a block per hook (in the order they ran), a block per phase
/// inside it, and in each the records of that step by kind, each with its
/// file:line.
pub fn render(records: &[Record]) -> Vec<String> {
    render_with(&crate::bash::confine::dry_run_status(), records)
}

fn render_with(status: &crate::bash::confine::DryRunStatus, records: &[Record]) -> Vec<String> {
    let mut lines = status.lines();
    if records.is_empty() {
        lines.push("nothing: every command existed and nothing needed sudo or packages".into());
        return lines;
    }
    lines.push(format!("in all: {} records", records.len()));
    for (kind, title, _) in SECTIONS {
        let count = records.iter().filter(|r| r.kind == kind).count();
        if count > 0 {
            lines.push(format!("  {title}: {count}"));
        }
    }
    for hook in first_seen(records.iter().map(|r| r.hook.as_str())) {
        lines.push(hook.to_string());
        let of_hook: Vec<&Record> = records.iter().filter(|r| r.hook == hook).collect();
        for phase in first_seen(of_hook.iter().map(|r| r.phase.as_str())) {
            lines.push(format!("  {phase}"));
            let step: Vec<&Record> = of_hook
                .iter()
                .copied()
                .filter(|r| r.phase == phase)
                .collect();
            render_step(&step, &mut lines);
        }
    }
    lines
}

/// One hook's phase: its records by kind.
fn render_step(step: &[&Record], lines: &mut Vec<String>) {
    for (kind, title, prefix) in SECTIONS {
        let of_kind: Vec<&&Record> = step.iter().filter(|r| r.kind == kind).collect();
        if of_kind.is_empty() {
            continue;
        }
        lines.push(format!("    {title}: {}", of_kind.len()));
        for r in of_kind {
            let mut line = format!("      {prefix}{}  [{}]", r.command, r.place);
            if !r.note.is_empty() {
                line.push_str(&format!(" ({})", r.note));
            }
            lines.push(line);
        }
    }
}

/// The distinct items of `items`, in the order they first appear.
fn first_seen<'a>(items: impl Iterator<Item = &'a str>) -> Vec<&'a str> {
    let mut seen: Vec<&str> = Vec::new();
    for item in items {
        if !seen.contains(&item) {
            seen.push(item);
        }
    }
    seen
}

/// The report as JSON (`--json`'s `dry-run` event's data): how the run
/// was confined, every record (its place also as `file` and `line`), and
/// the same records by hook, phase and kind.
pub fn to_json(records: &[Record]) -> serde_json::Value {
    let status = crate::bash::confine::dry_run_status();
    let hooks: Vec<serde_json::Value> = first_seen(records.iter().map(|r| r.hook.as_str()))
        .into_iter()
        .map(|hook| hook_json(hook, records))
        .collect();
    serde_json::json!({
        "confinement": {
            "writes": status.writes.is_ok(),
            "network": format!("{:?}", status.network).to_lowercase(),
            "lines": status.lines(),
        },
        "records": records.iter().map(record_json).collect::<Vec<_>>(),
        "hooks": hooks,
    })
}

/// One hook's records: by phase, then kind.
fn hook_json(hook: &str, records: &[Record]) -> serde_json::Value {
    let of_hook: Vec<&Record> = records.iter().filter(|r| r.hook == hook).collect();
    let phases: Vec<serde_json::Value> = first_seen(of_hook.iter().map(|r| r.phase.as_str()))
        .into_iter()
        .map(|phase| {
            let mut kinds = serde_json::Map::new();
            for (kind, _, _) in SECTIONS {
                let of_kind: Vec<serde_json::Value> = of_hook
                    .iter()
                    .filter(|r| r.phase == phase && r.kind == kind)
                    .map(|r| record_json(r))
                    .collect();
                if !of_kind.is_empty() {
                    kinds.insert(kind.to_string(), of_kind.into());
                }
            }
            serde_json::json!({"phase": phase, "kinds": kinds})
        })
        .collect();
    serde_json::json!({"hook": hook, "phases": phases})
}

fn record_json(r: &Record) -> serde_json::Value {
    let (file, line) = split_place(&r.place);
    serde_json::json!({
        "hook": r.hook, "phase": r.phase, "kind": r.kind, "place": r.place,
        "file": file, "line": line, "command": r.command, "note": r.note,
    })
}

/// `lib/ironic:40` as its file and line (no line when it has none).
fn split_place(place: &str) -> (&str, Option<u64>) {
    match place.rsplit_once(':') {
        Some((file, line)) => match line.parse() {
            Ok(line) => (file, Some(line)),
            Err(_) => (place, None),
        },
        None => (place, None),
    }
}

/// The directory of a dry run's commands, under the state directory.
pub const BIN: &str = "dry-run.d";

/// Commands that could change the system or reach the network: each name
/// runs `shim.sh` (recorded, or run for its read-only forms).
const SHIMS: &[&str] = &[
    "apt-get",
    "apt",
    "aptitude",
    "dpkg",
    "yum",
    "dnf",
    "zypper",
    "rpm",
    "gem",
    "npm",
    "pip",
    "pip2",
    "pip3",
    "pip-python",
    "easy_install",
    "virtualenv",
    "tox",
    "python",
    "python2",
    "python3",
    "python2.7",
    "git",
    "curl",
    "wget",
    "ssh",
    "scp",
    "rsync",
    "nc",
    "ftp",
    "openstack",
    "keystone",
    "nova",
    "glance",
    "neutron",
    "cinder",
    "swift",
    "heat",
    "ironic",
    "sahara",
    "zaqar",
    "mysql",
    "mysqladmin",
    "psql",
    "mongo",
    "rabbitmqctl",
    "ceph",
    "rados",
    "rbd",
    "su",
    "runuser",
    "sg",
    "screen",
    "tmux",
    "service",
    "systemctl",
    "initctl",
    "start-stop-daemon",
    "update-rc.d",
    "chkconfig",
    "pkill",
    "killall",
    "useradd",
    "usermod",
    "userdel",
    "groupadd",
    "gpasswd",
    "passwd",
    "chpasswd",
    "visudo",
    "mount",
    "umount",
    "losetup",
    "mkfs",
    "mkfs.xfs",
    "mkfs.ext4",
    "fdisk",
    "parted",
    "pvcreate",
    "vgcreate",
    "lvcreate",
    "vgremove",
    "lvremove",
    "tgtadm",
    "tgt-admin",
    "iscsiadm",
    "modprobe",
    "rmmod",
    "sysctl",
    "iptables",
    "ip6tables",
    "ebtables",
    "brctl",
    "ovs-vsctl",
    "ovs-ofctl",
    "virsh",
    "qemu-img",
    "a2ensite",
    "a2dissite",
    "a2enmod",
    "update-alternatives",
    "restorecon",
    "setsebool",
    "semanage",
    "disk-image-create",
    "ramdisk-image-create",
    "hostname",
    "ip",
    "find",
    "sed",
    "tar",
    "unzip",
    "patch",
    "dd",
    "ssh-keygen",
    "logger",
    "openssl",
    "cp",
    "mv",
    "rm",
    "mkdir",
    "rmdir",
    "ln",
    "touch",
    "chmod",
    "chown",
    "chgrp",
    "install",
    "tee",
    "truncate",
    "sleep",
    "timeout",
];

/// Read-only commands a dry run runs for real (linked from the system).
const ALLOWED: &[&str] = &[
    "cat",
    "head",
    "tail",
    "grep",
    "egrep",
    "fgrep",
    "awk",
    "gawk",
    "mawk",
    "cut",
    "tr",
    "sort",
    "uniq",
    "wc",
    "tac",
    "rev",
    "comm",
    "join",
    "paste",
    "fold",
    "nl",
    "expand",
    "column",
    "basename",
    "dirname",
    "readlink",
    "realpath",
    "pwd",
    "date",
    "id",
    "whoami",
    "groups",
    "uname",
    "nproc",
    "getent",
    "stat",
    "ls",
    "file",
    "which",
    "lsb_release",
    "dpkg-query",
    "seq",
    "expr",
    "bc",
    "test",
    "[",
    "true",
    "false",
    "printf",
    "echo",
    "env",
    "xargs",
    "uuidgen",
    "hexdump",
    "od",
    "base64",
    "md5sum",
    "sha1sum",
    "sha256sum",
    "cmp",
    "diff",
    "getconf",
    "locale",
    "tput",
    "zcat",
    "gzip",
    "mktemp",
    "ps",
    "pgrep",
    "sh",
    "bash",
    "dash",
    "free",
    "df",
    "du",
    "lsmod",
    "getopt",
    "numfmt",
    "shuf",
    "yes",
    "sum",
];

/// Prepare `<state>/dry-run.d`: `shims/NAME` -> `shim.sh` for each
/// command of SHIMS, `real/NAME` -> the system's NAME (when installed),
/// `allow/NAME` -> the system's NAME for each read-only command, `tmp/`.
/// Made afresh for each run (the system's commands may have moved).
///
/// For a DevStack tree, `.localrc.auto` is made to exist (empty) before the
/// confined session starts, since Landlock can let it write only a file
/// that exists (stack.sh's prelude writes it); `CREATED_LOCALRC` in the
/// directory says the run made it, so the prelude's restore removes it.
pub fn prepare_bin(top: &Path, state_dir: &Path, devstack: bool) -> std::io::Result<PathBuf> {
    let dir = state_dir.join(BIN);
    if dir.exists() {
        std::fs::remove_dir_all(&dir)?;
    }
    std::fs::create_dir_all(&dir)?;
    let localrc = top.join(".localrc.auto");
    if devstack && !localrc.exists() {
        std::fs::write(&localrc, b"")?;
        std::fs::write(dir.join(CREATED_LOCALRC), b"")?;
    }
    for sub in ["shims", "real", "allow", "tmp"] {
        std::fs::create_dir_all(dir.join(sub))?;
    }
    let shim = dir.join("shim.sh");
    std::fs::write(&shim, SHIM_SH)?;
    std::fs::set_permissions(&shim, std::os::unix::fs::PermissionsExt::from_mode(0o755))?;
    let search = std::env::var_os("PATH").unwrap_or_default();
    for name in SHIMS {
        std::os::unix::fs::symlink("../shim.sh", dir.join("shims").join(name))?;
        if let Some(found) = find_on(&search, name) {
            std::os::unix::fs::symlink(found, dir.join("real").join(name))?;
        }
    }
    for name in ALLOWED {
        if let Some(found) = find_on(&search, name) {
            std::os::unix::fs::symlink(found, dir.join("allow").join(name))?;
        }
    }
    Ok(dir)
}

/// The marker of a `.localrc.auto` the dry run created (see [`prepare_bin`]).
pub const CREATED_LOCALRC: &str = "created-localrc.auto";

/// The shim every recorded command runs.
const SHIM_SH: &str = include_str!("../bash/shim.sh");

/// `name`'s executable on the search path `search`, as a shell finds it.
fn find_on(search: &std::ffi::OsStr, name: &str) -> Option<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    std::env::split_paths(search)
        .filter(|dir| dir.is_absolute())
        .map(|dir| dir.join(name))
        .find(|path| {
            std::fs::metadata(path)
                .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_masked_in_every_record_and_the_file_is_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let vars = [
            ("ADMIN_PASSWORD".to_string(), "labstack9".to_string()),
            ("HOST_IP".to_string(), "10.0.0.5".to_string()),
            ("short_pass".to_string(), "ab".to_string()),
        ];
        let mut recorder = Recorder::start(dir.path(), &vars).unwrap();
        let mode = std::fs::metadata(dir.path().join(FILE))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        // A password read_password made up during the run.
        std::fs::write(dir.path().join("passwords"), "SERVICE_PASSWORD=0f3a9c\n").unwrap();
        std::fs::write(
            dir.path().join(FILE),
            "undefined\tx:1\topenstack user create --password labstack9 --os-token 0f3a9c on 10.0.0.5 ab\tnote labstack9\n",
        )
        .unwrap();
        let records = recorder.collect("10-a", "stack install");
        assert_eq!(
            records[0].command,
            "openstack user create --password **** --os-token **** on 10.0.0.5 ab"
        );
        assert_eq!(records[0].note, "note ****");
    }

    #[test]
    fn a_refused_redirection_becomes_a_file_record_at_the_hook_s_line() {
        let top = Path::new("/srv/tree");
        let state = top.join(".hookhost");
        let line = "/srv/tree/extras.d/50-x.sh: line 25: /etc/x.conf: Permission denied";
        assert_eq!(
            refused_write(line, top, &state).as_deref(),
            Some("file\textras.d/50-x.sh:25\twould write /etc/x.conf\trefused by the dry run's confinement\n")
        );
        let padded = "/srv/tree/.hookhost/prelude/1/stack.sh: line 9: /opt/x: Permission denied";
        assert!(refused_write(padded, top, &state)
            .unwrap()
            .contains("\tstack.sh:9\t"));
        let dir = tempfile::tempdir().unwrap();
        let tool = dir.path().join("tool");
        std::fs::write(&tool, "#!/bin/sh\n").unwrap();
        std::fs::set_permissions(&tool, std::os::unix::fs::PermissionsExt::from_mode(0o755))
            .unwrap();
        let exec = format!("x.sh: line 3: {}: Permission denied", tool.display());
        let shim = "x.sh: line 3: /srv/tree/.hookhost/dry-run.d/shims/apt-get: Permission denied";
        for other in [
            exec.as_str(),
            shim,
            "cp: cannot create regular file '/x': Permission denied",
            "x.sh: line : /x: Permission denied",
            "x.sh: line 3: /x: No such file or directory",
        ] {
            assert_eq!(refused_write(other, top, &state), None, "{other}");
        }
    }

    #[test]
    fn collects_whole_new_lines_only() {
        let dir = tempfile::tempdir().unwrap();
        let mut recorder = Recorder::start(dir.path(), &[]).unwrap();
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
        let status = crate::bash::confine::DryRunStatus {
            writes: Err("no Landlock".into()),
            network: crate::bash::confine::NetworkCut::None,
        };
        let lines = render_with(&status, &got);
        assert!(lines[0].starts_with("writes: NOT confined (no Landlock)"));
        assert!(lines[1].starts_with("network: NOT cut off"));
        assert_eq!(
            lines[2..],
            [
                "in all: 1 records",
                "  not defined here (functions or commands that do not exist): 1",
                "60-y",
                "  stack extra",
                "    not defined here (functions or commands that do not exist): 1",
                "      pip_install x  [lib/a:9]",
            ]
        );
        let json = to_json(&got);
        let record = &json["hooks"][0]["phases"][0]["kinds"]["undefined"][0];
        assert_eq!(record["file"], "lib/a");
        assert_eq!(record["line"], 9);
        assert_eq!(json["records"][0]["command"], "pip_install x");
    }
}
