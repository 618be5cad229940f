//! Confined bash hooks: a bash hook the operator does not fully trust runs
//! in a child bash that the kernel (Landlock) confines to its granted paths,
//! instead of in the run's shared session.
//!
//! A hook is confined by `confine = true` in its manifest, by
//! `confine = ["NN-name"]` in hookhost.toml or by `--confine NN-name`. Per
//! phase:
//!
//! 1. The session writes its variables (`declare -p`) and functions
//!    (`declare -f`) to `.hookhost/confine/<stem>.session.sh`.
//! 2. hookhost re-executes itself as the launcher ([`LAUNCHER`]): it applies
//!    the Landlock ruleset to itself, then execs `bash`, which sources that
//!    state and the functions the hook defined in earlier phases, then
//!    sources the hook with DevStack's arguments.
//! 3. When the child ends, it records its variable changes (set, exported,
//!    unset scalars) as NUL-separated records and the functions it defined.
//!    hookhost reads the records as data, checks every name, and applies
//!    them to the session with quoted assignments: nothing the confined
//!    hook wrote is ever run by the unconfined session. Functions it
//!    defined stay with it: they are given back to its own later phases
//!    (still confined), never to the session.
//!
//! What the child may touch: read (and execute) the system directories
//! bash and the usual tools need ([`SYSTEM_DIRS`]: /usr, /bin, /sbin, /lib*;
//! not /etc, /home, /root, /proc, /tmp), two harmless /etc files, the
//! devices /dev/null and /dev/zero (read-write) and /dev/urandom; its hook
//! file and the session state (read); its scratch directory
//! `.hookhost/confine/<stem>/` (read-write, also its `TMPDIR`); and the
//! manifest's granted `read`/`write` directories. Where the kernel has
//! them, TCP connects go only to the granted `net` ports (Landlock checks
//! ports, not hosts) and TCP binds are refused, and the child cannot signal
//! processes outside its domain or reach abstract UNIX sockets.
//!
//! The filesystem rules need Landlock ABI 3 (Linux 6.2) fully enforced;
//! where it is not, a confined hook is refused, never run open.

use std::collections::BTreeSet;
use std::ffi::OsString;
use std::fs::{self, File};
use std::io::Read;
use std::os::unix::fs::OpenOptionsExt;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::sync::mpsc::{channel, Receiver, Sender};
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use landlock::{
    path_beneath_rules, Access, AccessFs, AccessNet, CompatLevel, Compatible, NetPort, Ruleset,
    RulesetAttr, RulesetCreatedAttr, RulesetStatus, Scope, ABI,
};

use crate::bash::{BashSession, Outcome, Stream};
use crate::capabilities::audit::{self, At, Decision, Record};
use crate::capabilities::{NetGrant, Policy};

/// The hidden first argument that makes `hookhost` the launcher.
pub const LAUNCHER: &str = "__confine";

/// The Landlock ABI whose filesystem rights must be fully enforced.
const FS_ABI: ABI = ABI::V3;

/// Directories a confined bash may read and execute from.
pub const SYSTEM_DIRS: [&str; 7] = [
    "/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32",
];
/// Single files it may read: the dynamic linker's cache and the time zone.
const SYSTEM_FILES: [&str; 2] = ["/etc/ld.so.cache", "/etc/localtime"];
/// Devices it may read and write (bash opens /dev/null read-write).
const DEVICES_RW: [&str; 2] = ["/dev/null", "/dev/zero"];
/// Devices it may read.
const DEVICES_RO: [&str; 2] = ["/dev/urandom", "/dev/random"];

/// The launcher's exit status when it could not confine (nothing ran).
const LAUNCH_FAILED: u8 = 125;
/// How long output may still arrive after the child exited (a background
/// process holding its pipes).
const EXIT_DRAIN: Duration = Duration::from_millis(300);
/// The largest change record the host reads back.
const MAX_CHANGES: u64 = 16 << 20;

/// Whether this kernel can confine a bash hook; why not, if it cannot.
pub fn probe() -> Result<(), String> {
    Ruleset::default()
        .set_compatibility(CompatLevel::HardRequirement)
        .handle_access(AccessFs::from_all(FS_ABI))
        .and_then(|ruleset| ruleset.create())
        .map(|_| ())
        .map_err(|e| {
            format!(
                "this kernel cannot confine it: Landlock ABI {} (Linux 6.2) or later is needed ({e})",
                FS_ABI as i32
            )
        })
}

/// Whether this kernel also confines TCP ports (Landlock ABI 4) and
/// signals (ABI 6), the second layer added where available.
pub fn probe_net_and_signals() -> bool {
    Ruleset::default()
        .set_compatibility(CompatLevel::HardRequirement)
        .handle_access(AccessNet::from_all(ABI::V4))
        .and_then(|r| r.scope(Scope::from_all(ABI::V6)))
        .and_then(|r| r.create())
        .is_ok()
}

/// What the launcher allows, in its command-line form.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
struct Rules {
    /// Read and execute beneath.
    read: Vec<PathBuf>,
    /// Everything beneath.
    write: Vec<PathBuf>,
    /// TCP ports it may connect to.
    ports: Vec<u16>,
    /// Enter a new network namespace first (only a loopback, down).
    netns: bool,
    /// A dry run's process: also refuse `connect(2)` (UNIX sockets reach
    /// local daemons, which a network namespace does not cut off) and
    /// changing a file's times.
    dry_run: bool,
    /// Where the launcher reports that it could not confine.
    error_file: Option<PathBuf>,
    /// The program and its arguments.
    argv: Vec<OsString>,
}

impl Rules {
    fn to_args(&self) -> Vec<OsString> {
        let mut args: Vec<OsString> = vec![LAUNCHER.into()];
        for (flag, paths) in [("--read", &self.read), ("--write", &self.write)] {
            for path in paths {
                args.push(flag.into());
                args.push(path.into());
            }
        }
        for port in &self.ports {
            args.push("--port".into());
            args.push(port.to_string().into());
        }
        if self.netns {
            args.push("--netns".into());
        }
        if self.dry_run {
            args.push("--dry-run".into());
        }
        if let Some(file) = &self.error_file {
            args.push("--error-file".into());
            args.push(file.into());
        }
        args.push("--".into());
        args.extend(self.argv.iter().cloned());
        args
    }

    fn parse(mut args: impl Iterator<Item = OsString>) -> Result<Rules, String> {
        let mut rules = Rules::default();
        while let Some(arg) = args.next() {
            let mut value = || args.next().ok_or(format!("{arg:?} needs a value"));
            match arg.to_str() {
                Some("--read") => rules.read.push(value()?.into()),
                Some("--write") => rules.write.push(value()?.into()),
                Some("--port") => {
                    let port = value()?;
                    let port = port.to_str().and_then(|p| p.parse().ok());
                    rules.ports.push(port.ok_or("--port needs a number")?);
                }
                Some("--error-file") => rules.error_file = Some(value()?.into()),
                Some("--netns") => rules.netns = true,
                Some("--dry-run") => rules.dry_run = true,
                Some("--") => {
                    rules.argv = args.collect();
                    break;
                }
                _ => return Err(format!("unknown argument {arg:?}")),
            }
        }
        if rules.argv.is_empty() {
            return Err("no program to run after --".into());
        }
        Ok(rules)
    }
}

/// The launcher (`hookhost __confine RULES -- PROGRAM ARGS...`): confine
/// this process, then exec the program. Returns only when it could not.
pub fn launcher_main() -> ExitCode {
    let rules = match Rules::parse(std::env::args_os().skip(2)) {
        Ok(rules) => rules,
        Err(e) => {
            eprintln!("hookhost {LAUNCHER}: {e}");
            return ExitCode::from(LAUNCH_FAILED);
        }
    };
    let why = match restrict(&rules) {
        Ok(()) => {
            let error = Command::new(&rules.argv[0]).args(&rules.argv[1..]).exec();
            format!("cannot run {}: {error}", rules.argv[0].to_string_lossy())
        }
        Err(why) => why,
    };
    if let Some(file) = &rules.error_file {
        let _ = fs::write(file, &why);
    }
    eprintln!("hookhost: {why}");
    ExitCode::from(LAUNCH_FAILED)
}

/// Apply the rulesets to this process: the filesystem one must be fully
/// enforced; network and scope restrictions are added where the kernel has
/// them (a second layer, so their absence cannot weaken the first).
fn restrict(rules: &Rules) -> Result<(), String> {
    if rules.netns {
        enter_network_namespace()?;
    }
    let fail = |e: landlock::RulesetError| format!("cannot confine it with Landlock: {e}");
    if !rules.read.is_empty() || !rules.write.is_empty() {
        restrict_files(rules)?;
    }
    let ports = rules
        .ports
        .iter()
        .map(|&port| NetPort::new(port, AccessNet::ConnectTcp));
    Ruleset::default()
        .set_compatibility(CompatLevel::BestEffort)
        .handle_access(AccessNet::from_all(ABI::V4))
        .and_then(|r| r.scope(Scope::from_all(ABI::V6)))
        .and_then(|r| r.create())
        .and_then(|r| r.add_rules(ports.map(Ok::<_, landlock::RulesetError>)))
        .and_then(|r| r.restrict_self())
        .map_err(fail)?;
    restrict_system_calls(rules.dry_run)
}

/// System calls a confined process may not make (they fail with EPERM):
/// those that change files in ways Landlock's rules do not cover (mode,
/// owner, extended attributes: Landlock confines writes to a file's
/// contents and names, not these, so a dry run or a confined hook could
/// otherwise chmod or chown anything root owns), those that change the
/// machine itself (host name, clock, mounts, swap, kernel modules,
/// reboot), and those that would leave the network cut (`setns`,
/// `unshare`). In a dry run also `connect` and changing a file's times
/// (a confined hook keeps `touch` on its own files).
fn restrict_system_calls(dry_run: bool) -> Result<(), String> {
    use seccompiler::{BpfProgram, SeccompAction, SeccompFilter};
    let mut calls: Vec<i64> = vec![
        libc::SYS_fchmod,
        libc::SYS_fchmodat,
        libc::SYS_fchown,
        libc::SYS_fchownat,
        libc::SYS_setxattr,
        libc::SYS_lsetxattr,
        libc::SYS_fsetxattr,
        libc::SYS_removexattr,
        libc::SYS_lremovexattr,
        libc::SYS_fremovexattr,
        libc::SYS_sethostname,
        libc::SYS_setdomainname,
        libc::SYS_settimeofday,
        libc::SYS_clock_settime,
        libc::SYS_clock_adjtime,
        libc::SYS_adjtimex,
        libc::SYS_mount,
        libc::SYS_umount2,
        libc::SYS_pivot_root,
        libc::SYS_swapon,
        libc::SYS_swapoff,
        libc::SYS_reboot,
        libc::SYS_init_module,
        libc::SYS_finit_module,
        libc::SYS_delete_module,
        libc::SYS_kexec_load,
        libc::SYS_setns,
        libc::SYS_unshare,
    ];
    #[cfg(target_arch = "x86_64")]
    calls.extend([libc::SYS_chmod, libc::SYS_chown, libc::SYS_lchown]);
    if dry_run {
        calls.extend([libc::SYS_connect, libc::SYS_utimensat]);
        #[cfg(target_arch = "x86_64")]
        calls.extend([libc::SYS_utime, libc::SYS_utimes, libc::SYS_futimesat]);
    }
    let rules = calls.into_iter().map(|call| (call, Vec::new())).collect();
    let arch = std::env::consts::ARCH
        .try_into()
        .map_err(|e| format!("cannot filter its system calls: {e:?}"))?;
    let filter = SeccompFilter::new(
        rules,
        SeccompAction::Allow,
        SeccompAction::Errno(libc::EPERM as u32),
        arch,
    )
    .map_err(|e| format!("cannot filter its system calls: {e}"))?;
    let program: BpfProgram = filter
        .try_into()
        .map_err(|e| format!("cannot filter its system calls: {e:?}"))?;
    seccompiler::apply_filter(&program).map_err(|e| format!("cannot filter its system calls: {e}"))
}

/// The filesystem ruleset, which must be fully enforced.
fn restrict_files(rules: &Rules) -> Result<(), String> {
    let fail = |e: landlock::RulesetError| format!("cannot confine it with Landlock: {e}");
    let status = Ruleset::default()
        .set_compatibility(CompatLevel::HardRequirement)
        .handle_access(AccessFs::from_all(FS_ABI))
        .map_err(fail)?
        .create()
        .map_err(fail)?
        .add_rules(path_beneath_rules(&rules.read, AccessFs::from_read(FS_ABI)))
        .map_err(fail)?
        .add_rules(path_beneath_rules(&rules.write, AccessFs::from_all(FS_ABI)))
        .map_err(fail)?
        .restrict_self()
        .map_err(fail)?;
    if status.ruleset != RulesetStatus::FullyEnforced {
        return Err(format!(
            "cannot confine it: the kernel enforces the Landlock ruleset only {:?}, and a \
             confined hook is not run open",
            status.ruleset
        ));
    }
    Ok(())
}

/// unshare(CLONE_NEWNET): from here on this process (and what it starts)
/// sees only a loopback device that is down.
fn enter_network_namespace() -> Result<(), String> {
    // SAFETY: unshare(2) with a flag constant; it changes only this
    // process's namespace membership (the launcher has one thread).
    match unsafe { libc::unshare(libc::CLONE_NEWNET) } {
        0 => Ok(()),
        _ => Err(format!(
            "cannot enter a network namespace of its own: {}",
            std::io::Error::last_os_error()
        )),
    }
}

/// How a dry run's session is kept from changing the machine beyond the
/// command layer (see `dry_run_status`): the filesystem ruleset and the
/// network cut that apply here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DryRunStatus {
    /// Writes are confined; else why not.
    pub writes: Result<(), String>,
    pub network: NetworkCut,
}

/// How a dry run's session is kept off the network.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NetworkCut {
    /// A network namespace of its own: no device but a loopback that is down.
    Namespace,
    /// Landlock refuses every TCP connect and bind (UDP, DNS included, is not
    /// covered).
    LandlockTcp,
    /// Neither is available here: only the command layer keeps it off.
    None,
}

impl DryRunStatus {
    /// What a dry run's report and `plan --dry-run` say about it.
    pub fn lines(&self) -> Vec<String> {
        let writes = match &self.writes {
            Ok(()) => "writes: confined by Landlock to hookhost's state directory (the stack's \
                       .hookhost/, or --state-dir) and /dev/null; \
                       a refused write is reported as `would write PATH`"
                .to_string(),
            Err(why) => format!(
                "writes: NOT confined ({why}); only the shims keep commands from writing, \
                 a shell redirection (`>`, `>>`) still writes"
            ),
        };
        let network = match self.network {
            NetworkCut::Namespace => "network: cut off (a network namespace of its own)",
            NetworkCut::LandlockTcp => {
                "network: TCP connects refused by Landlock (no network namespace permitted \
                 here; UDP and DNS are not covered)"
            }
            NetworkCut::None => {
                "network: NOT cut off (neither a network namespace nor Landlock's TCP rules \
                 are available); only the shims keep commands off it"
            }
        };
        vec![writes, network.to_string()]
    }
}

/// What this machine allows a dry run's session (probed once).
pub fn dry_run_status() -> DryRunStatus {
    static STATUS: std::sync::OnceLock<DryRunStatus> = std::sync::OnceLock::new();
    STATUS
        .get_or_init(|| DryRunStatus {
            writes: probe(),
            network: match (netns_permitted(), probe_net()) {
                (true, _) => NetworkCut::Namespace,
                (false, true) => NetworkCut::LandlockTcp,
                (false, false) => NetworkCut::None,
            },
        })
        .clone()
}

/// Whether this process may create a network namespace: tried on a thread
/// of its own, which ends right after (a namespace is a thread's).
fn netns_permitted() -> bool {
    // SAFETY: unshare(2) with a flag constant on a thread that does nothing
    // else and ends at once; no other thread's namespaces change.
    thread::spawn(|| unsafe { libc::unshare(libc::CLONE_NEWNET) } == 0)
        .join()
        .unwrap_or(false)
}

/// Whether Landlock confines TCP ports here (ABI 4).
fn probe_net() -> bool {
    Ruleset::default()
        .set_compatibility(CompatLevel::HardRequirement)
        .handle_access(AccessNet::from_all(ABI::V4))
        .and_then(|r| r.create())
        .is_ok()
}

/// A dry run's session: what it may write beside the state directory.
pub struct DryRunSandbox<'a> {
    /// Everything beneath is writable: hookhost's state, the mailbox.
    pub dirs: Vec<PathBuf>,
    /// Single files it may write (they exist): the tree's `.localrc.auto`.
    pub files: Vec<PathBuf>,
    /// Variables the session starts with (HOST_IP, found outside the
    /// namespace).
    pub env: Vec<(&'a str, String)>,
}

/// Devices a dry run's session may write.
const DRY_RUN_DEVICES: [&str; 3] = ["/dev/null", "/dev/zero", "/dev/tty"];

impl DryRunSandbox<'_> {
    /// `hookhost __confine ... -- PROGRAM ARGS`: the command that starts
    /// `argv` confined as far as this machine allows; None when it allows
    /// nothing (the report says so).
    pub fn command(&self, argv: &[&str]) -> anyhow::Result<Option<Command>> {
        let status = dry_run_status();
        let mut rules = Rules {
            netns: status.network == NetworkCut::Namespace,
            dry_run: true,
            argv: argv.iter().map(OsString::from).collect(),
            ..Rules::default()
        };
        if status.writes.is_ok() {
            rules.read.push("/".into());
            rules.write.extend(self.dirs.iter().cloned());
            rules
                .write
                .extend(self.files.iter().filter(|f| f.exists()).cloned());
            let devices = DRY_RUN_DEVICES.iter().map(PathBuf::from);
            rules.write.extend(devices.filter(|d| d.exists()));
        }
        if status.writes.is_err() && status.network == NetworkCut::None {
            return Ok(None);
        }
        let launcher = std::env::current_exe().context("cannot find the hookhost binary")?;
        let mut command = Command::new(launcher);
        command.args(rules.to_args());
        for (name, value) in &self.env {
            command.env(name, value);
        }
        Ok(Some(command))
    }
}

/// This machine's address on its default route, as DevStack's
/// `get_default_host_ip` would find it outside a network namespace (no
/// packet is sent: a UDP socket is only connected).
pub fn default_host_ip() -> Option<String> {
    let socket = std::net::UdpSocket::bind("0.0.0.0:0").ok()?;
    socket.connect("192.0.2.1:9").ok()?;
    let ip = socket.local_addr().ok()?.ip();
    (!ip.is_unspecified()).then(|| ip.to_string())
}

/// One phase of a confined bash hook.
pub struct Job<'a> {
    /// The hook's stem, for files and messages.
    pub stem: &'a str,
    pub hook: &'a Path,
    pub args: &'a [&'a str],
    pub policy: &'a Policy,
    pub top_dir: &'a Path,
    /// hookhost's state directory of the stack (`.hookhost`).
    pub state_dir: &'a Path,
    /// stack.sh's errexit semantics (the `stack` entry point).
    pub errexit: bool,
    /// A dry run: the child may run the dry run's shims (and append to its
    /// record), connects nowhere, and is kept off the network as the
    /// session is (see [`dry_run_status`]).
    pub dry_run: bool,
}

/// The files of one confined hook.
struct Files {
    /// `.hookhost/confine/`: written by hookhost only.
    dir: PathBuf,
    /// The session's state, for the child.
    session: PathBuf,
    /// The script that writes it, run in the session.
    dump: PathBuf,
    /// The checked changes, run in the session.
    apply: PathBuf,
    /// The launcher's complaint, when it could not confine.
    error: PathBuf,
    /// The hook's read-write scratch directory.
    scratch: PathBuf,
}

impl Files {
    fn new(state_dir: &Path, stem: &str) -> Files {
        let dir = state_dir.join("confine");
        Files {
            session: dir.join(format!("{stem}.session.sh")),
            dump: dir.join("dump.sh"),
            apply: dir.join(format!("{stem}.apply.sh")),
            error: dir.join(format!("{stem}.error")),
            scratch: dir.join(stem),
            dir,
        }
    }
}

/// Run one phase of a confined hook; its output lines go to `out` as they
/// come. Its variable changes are applied to the session, even when it
/// failed (as a sourced hook's would be).
pub fn run_hook(
    session: &mut BashSession,
    job: &Job<'_>,
    out: &mut dyn FnMut(Stream, &str),
) -> anyhow::Result<Outcome> {
    let files = Files::new(job.state_dir, job.stem);
    prepare(&files)?;
    match session.source_hook(&files.dump, &[path_str(&files.session)?], out)? {
        Outcome::Success => {}
        other => {
            bail!("the bash session could not hand its state to the confined hook ({other:?})")
        }
    }
    let rules = rules_for(job, &files)?;
    record_use(job);
    let status = run_child(job, &rules, out)?;
    if let Ok(why) = fs::read_to_string(&files.error) {
        bail!("{}", why.trim());
    }
    apply_changes(session, &files, out)?;
    Ok(match (status.code(), status.signal()) {
        (Some(0), _) => Outcome::Success,
        (Some(code), _) => Outcome::Failed { status: code },
        (None, Some(signal)) => Outcome::Failed {
            status: 128 + signal,
        },
        (None, None) => Outcome::Failed { status: -1 },
    })
}

/// Create the directories; write the dump script; clear the last run's files.
fn prepare(files: &Files) -> anyhow::Result<()> {
    for dir in [&files.dir, &files.scratch, &files.scratch.join("tmp")] {
        fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    fs::write(&files.dump, DUMP_SH)
        .with_context(|| format!("cannot write {}", files.dump.display()))?;
    for stale in [&files.error, &files.apply, &files.scratch.join("changes")] {
        match fs::remove_file(stale) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                return Err(e).with_context(|| format!("cannot remove {}", stale.display()))
            }
            _ => {}
        }
    }
    Ok(())
}

fn path_str(path: &Path) -> anyhow::Result<&str> {
    path.to_str()
        .with_context(|| format!("{} is not valid UTF-8", path.display()))
}

/// The launcher's rules and the child's command line.
fn rules_for(job: &Job<'_>, files: &Files) -> anyhow::Result<Rules> {
    let mut read: Vec<PathBuf> = SYSTEM_DIRS.iter().map(PathBuf::from).collect();
    read.extend(SYSTEM_FILES.iter().map(PathBuf::from));
    read.extend(DEVICES_RO.iter().map(PathBuf::from));
    read.extend([job.hook.to_path_buf(), files.session.clone()]);
    let mut write: Vec<PathBuf> = DEVICES_RW.iter().map(PathBuf::from).collect();
    write.push(files.scratch.clone());
    for dir in &job.policy.dirs {
        match dir.writable {
            true => write.push(dir.host.clone()),
            false => read.push(dir.host.clone()),
        }
    }
    let ports: BTreeSet<u16> = job
        .policy
        .net
        .iter()
        .filter_map(|n| NetGrant::parse(n)?.port)
        .collect();
    let mut ports: Vec<u16> = ports.into_iter().collect();
    let mut netns = false;
    if job.dry_run {
        // The session's PATH, which the child inherits, is the shims.
        read.push(job.state_dir.join("dry-run.d"));
        write.push(job.state_dir.join("dry-run"));
        ports.clear();
        netns = dry_run_status().network == NetworkCut::Namespace;
    }
    let bash = find_bash().context("cannot find bash on PATH")?;
    let mut argv: Vec<OsString> = vec![
        bash.into(),
        "--noprofile".into(),
        "--norc".into(),
        "-c".into(),
        CHILD_SH.into(),
        "hookhost".into(),
        files.session.clone().into(),
        files.scratch.clone().into(),
        job.hook.into(),
        if job.errexit { "1" } else { "0" }.into(),
    ];
    argv.extend(job.args.iter().map(OsString::from));
    Ok(Rules {
        read,
        write,
        ports,
        error_file: Some(files.error.clone()),
        argv,
        netns,
        dry_run: job.dry_run,
    })
}

/// bash on the host's PATH, resolved before the child's environment is
/// cleared.
fn find_bash() -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_else(|| "/usr/bin:/bin".into());
    std::env::split_paths(&path)
        .map(|dir| dir.join("bash"))
        .find(|candidate| candidate.is_file())
}

fn record_use(job: &Job<'_>) {
    let paths: Vec<String> = job
        .policy
        .dirs
        .iter()
        .map(|d| {
            format!(
                "{}{}",
                if d.writable { "rw " } else { "ro " },
                d.host.display()
            )
        })
        .collect();
    audit::record(Record {
        hook: job.stem,
        at: At::Run,
        phase: Some(&job.args.join(" ")),
        kind: "confine",
        item: "landlock",
        decision: Decision::Used,
        detail: Some(&paths.join(", ")),
    });
}

/// Output of the child, as its reader threads see it.
enum Event {
    Line(Stream, String),
    Eof,
}

/// Start the launcher, hand each output line to `out`, wait for the end.
fn run_child(
    job: &Job<'_>,
    rules: &Rules,
    out: &mut dyn FnMut(Stream, &str),
) -> anyhow::Result<std::process::ExitStatus> {
    let launcher = std::env::current_exe().context("cannot find the hookhost binary")?;
    let mut command = Command::new(&launcher);
    command
        .args(rules.to_args())
        .env_clear()
        .env("PATH", "/usr/local/bin:/usr/bin:/bin")
        .current_dir(job.top_dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    // A confined hook must not outlive hookhost either (tied.rs).
    let mut child = super::tied::spawn(command)
        .with_context(|| format!("cannot start {}", launcher.display()))?;
    let (tx, rx) = channel();
    spawn_reader(Stream::Stdout, child.stdout.take(), tx.clone());
    spawn_reader(Stream::Stderr, child.stderr.take(), tx);
    let mut open = 2;
    let mut exited: Option<(std::process::ExitStatus, Instant)> = None;
    loop {
        pump(&rx, &mut open, out);
        if open == 0 {
            // Both pipes closed: the child is ending (or has ended).
            return child.wait().context("cannot wait for the confined hook");
        }
        match exited {
            // A background process still holds the pipes: bounded wait.
            Some((status, at)) if at.elapsed() >= EXIT_DRAIN => return Ok(status),
            Some(_) => {}
            None => {
                let status = child
                    .try_wait()
                    .context("cannot wait for the confined hook")?;
                exited = status.map(|s| (s, Instant::now()));
            }
        }
    }
}

fn pump(rx: &Receiver<Event>, open: &mut usize, out: &mut dyn FnMut(Stream, &str)) {
    match rx.recv_timeout(Duration::from_millis(20)) {
        Ok(Event::Line(stream, line)) => out(stream, &line),
        Ok(Event::Eof) => *open -= 1,
        Err(_) => {}
    }
}

fn spawn_reader(stream: Stream, pipe: Option<impl Read + Send + 'static>, tx: Sender<Event>) {
    thread::spawn(move || {
        if let Some(pipe) = pipe {
            let mut reader = std::io::BufReader::new(pipe);
            let mut line = Vec::new();
            loop {
                line.clear();
                match std::io::BufRead::read_until(&mut reader, b'\n', &mut line) {
                    Ok(0) | Err(_) => break,
                    Ok(_) => {
                        let text = String::from_utf8_lossy(&line);
                        let text = text.trim_end_matches('\n').trim_end_matches('\r');
                        if tx.send(Event::Line(stream, text.to_string())).is_err() {
                            return;
                        }
                    }
                }
            }
        }
        let _ = tx.send(Event::Eof);
    });
}

/// One change the child reported.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Change {
    Set(String, String),
    Export(String),
    Unset(String),
}

/// Read the child's change records (without following a symlink the hook
/// may have planted), check them, and apply them in the session.
fn apply_changes(
    session: &mut BashSession,
    files: &Files,
    out: &mut dyn FnMut(Stream, &str),
) -> anyhow::Result<()> {
    let path = files.scratch.join("changes");
    let bytes = match read_no_follow(&path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => bail!(
            "cannot read the confined hook's changes {}: {e}",
            path.display()
        ),
    };
    let (changes, ignored) = parse_changes(&bytes);
    for name in ignored {
        out(
            Stream::Stderr,
            &format!("hookhost: ignored a change to {name:?}: not a variable a hook may set"),
        );
    }
    if changes.is_empty() {
        return Ok(());
    }
    fs::write(&files.apply, apply_script(&changes))
        .with_context(|| format!("cannot write {}", files.apply.display()))?;
    match session.source_hook(&files.apply, &[], out)? {
        Outcome::Success => Ok(()),
        other => bail!("the confined hook's variable changes could not be applied ({other:?})"),
    }
}

fn read_no_follow(path: &Path) -> std::io::Result<Vec<u8>> {
    let file = fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(path)?;
    if !file.metadata()?.is_file() {
        return Err(std::io::Error::other("not a regular file"));
    }
    let mut bytes = Vec::new();
    File::take(file, MAX_CHANGES).read_to_end(&mut bytes)?;
    Ok(bytes)
}

/// Parse `S\0name\0value\0`, `X\0name\0`, `U\0name\0` records; names that
/// are not plain variable names (or are hookhost's own, `__hh*`) are
/// returned apart, to be reported and ignored.
fn parse_changes(bytes: &[u8]) -> (Vec<Change>, Vec<String>) {
    // Every field ends with a NUL; nothing follows the last one.
    let bytes = bytes.strip_suffix(&[0]).unwrap_or(bytes);
    let mut fields = bytes
        .split(|b| *b == 0)
        .map(|f| String::from_utf8_lossy(f).into_owned());
    let mut changes = Vec::new();
    let mut ignored = Vec::new();
    while let (Some(op), Some(name)) = (fields.next(), fields.next()) {
        let change = match op.as_str() {
            "S" => match fields.next() {
                Some(value) => Change::Set(name.clone(), value),
                None => break,
            },
            "X" => Change::Export(name.clone()),
            "U" => Change::Unset(name.clone()),
            _ => break,
        };
        match settable(&name) {
            true => changes.push(change),
            false => ignored.push(name),
        }
    }
    (changes, ignored)
}

/// A plain variable name that is not hookhost's own.
fn settable(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !name.starts_with("__hh")
}

/// The script that applies checked changes in the session: every value
/// single-quoted, every name checked; a read-only variable is reported,
/// not fatal (the session may run under errexit).
fn apply_script(changes: &[Change]) -> String {
    let mut script = String::from("# Generated by hookhost: a confined hook's variable changes.\n");
    for change in changes {
        let line = match change {
            Change::Set(name, value) => format!(
                "builtin printf -v {name} '%s' {} 2>/dev/null || builtin printf 'hookhost: cannot set %s (read-only)\\n' {name} >&2\n",
                quote(value)
            ),
            Change::Export(name) => format!("builtin export {name} 2>/dev/null || :\n"),
            Change::Unset(name) => format!(
                "builtin unset -v {name} 2>/dev/null || builtin printf 'hookhost: cannot unset %s (read-only)\\n' {name} >&2\n"
            ),
        };
        script.push_str(&line);
    }
    script
}

/// Single-quote for bash (the session's one quoting function).
fn quote(value: &str) -> String {
    String::from_utf8_lossy(&super::framing::quote(value.as_bytes())).into_owned()
}

/// Sourced in the session: write its variables and functions to "$1".
/// bash's own read-only and dynamic variables are left out.
const DUMP_SH: &str = r#"# Generated by hookhost: the session's state for a confined hook.
# Names go through a file, not $(...): no fork of the session.
builtin compgen -v >"$1.names"
builtin mapfile -t __hh_cns <"$1.names"
{
    for __hh_cn in "${__hh_cns[@]}"; do
        case $__hh_cn in
        BASH* | EUID | UID | PPID | SHELLOPTS | FUNCNAME | GROUPS | RANDOM | SRANDOM | \
            SECONDS | LINENO | HISTCMD | EPOCHSECONDS | EPOCHREALTIME | DIRSTACK | \
            PIPESTATUS | _ | __hh_cn | __hh_cns) continue ;;
        # The session's functions are defined in this file in the child:
        # frames there are the session's own (see __hh_caller).
        __hh_main)
            builtin printf 'declare -r __hh_main=%q\n' "$1"
            continue
            ;;
        esac
        builtin declare -p -- "$__hh_cn"
    done
    builtin declare -f
} >"$1" 2>/dev/null
builtin unset -v __hh_cn __hh_cns
"#;

/// The child's script (`bash -c`): $1 the session state, $2 the scratch
/// directory, $3 the hook, $4 errexit, then the hook's arguments.
const CHILD_SH: &str = r#"__hhc_state=$1 __hhc_scratch=$2 __hhc_hook=$3 __hhc_errexit=$4
shift 4
builtin source "$__hhc_state"
export TMPDIR=$__hhc_scratch/tmp
# Variables never handed back: hookhost's, bash's own, the shell's state.
# (A case pattern: a regex here costs a compile per variable.)
__hhc_skip='@(__hh*|BASH*|EUID|UID|PPID|SHELLOPTS|FUNCNAME|GROUPS|RANDOM|SRANDOM|SECONDS|LINENO|HISTCMD|EPOCHSECONDS|EPOCHREALTIME|DIRSTACK|PIPESTATUS|_|PWD|OLDPWD|SHLVL|IFS|OPTIND|OPTARG|OPTERR|COLUMNS|LINES|PS[0-9])'
declare -A __hhc_val=() __hhc_attr=() __hhc_fn=()
# __hhc_names -v|-A function: the names in __hhc_list (through a file: no fork).
__hhc_names() {
    builtin compgen $1 $2 >"$__hhc_scratch/tmp/.names"
    builtin mapfile -t __hhc_list <"$__hhc_scratch/tmp/.names"
}
__hhc_names -v
for __hhc_n in "${__hhc_list[@]}"; do
    [[ $__hhc_n == $__hhc_skip ]] && continue
    __hhc_a=${!__hhc_n@a}
    [[ $__hhc_a == *[aAn]* ]] && continue
    __hhc_val[$__hhc_n]=${!__hhc_n-}
    __hhc_attr[$__hhc_n]=$__hhc_a
done
__hhc_names -A function
for __hhc_n in "${__hhc_list[@]}"; do __hhc_fn[$__hhc_n]=1; done
[[ -f $__hhc_scratch/functions.sh ]] && builtin source "$__hhc_scratch/functions.sh"

# At exit, whatever ended the hook: its scalar variable changes as records,
# and the functions it defined, for its own later phases.
__hhc_after() {
    builtin set +o errexit
    local __hhc_n __hhc_a __hhc_new=()
    {
        __hhc_names -v
        for __hhc_n in "${__hhc_list[@]}"; do
            [[ $__hhc_n == $__hhc_skip ]] && continue
            __hhc_a=${!__hhc_n@a}
            [[ $__hhc_a == *[aAn]* ]] && continue
            if [[ -n ${__hhc_val[$__hhc_n]+x} && ${__hhc_val[$__hhc_n]} == "${!__hhc_n-}" &&
                ${__hhc_attr[$__hhc_n]} == "$__hhc_a" ]]; then
                continue
            fi
            builtin printf 'S\0%s\0%s\0' "$__hhc_n" "${!__hhc_n-}"
            [[ $__hhc_a == *x* ]] && builtin printf 'X\0%s\0' "$__hhc_n"
        done
        for __hhc_n in "${!__hhc_val[@]}"; do
            [[ -v $__hhc_n ]] || builtin printf 'U\0%s\0' "$__hhc_n"
        done
    } >"$__hhc_scratch/changes"
    __hhc_names -A function
    for __hhc_n in "${__hhc_list[@]}"; do
        [[ -n ${__hhc_fn[$__hhc_n]+x} ]] || __hhc_new+=("$__hhc_n")
    done
    if ((${#__hhc_new[@]})); then
        builtin declare -f -- "${__hhc_new[@]}" >"$__hhc_scratch/functions.sh"
    else
        : >"$__hhc_scratch/functions.sh"
    fi
}
builtin trap '__hhc_after' EXIT
if ((__hhc_errexit)); then
    builtin set -o errexit -o errtrace
    builtin trap 'builtin printf "hookhost: %s failed with status %d\n" "$BASH_COMMAND" "$?" >&2' ERR
fi
builtin source "$__hhc_hook" "$@"
"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn launcher_arguments_round_trip() {
        let rules = Rules {
            read: vec!["/usr".into(), "/a b".into()],
            write: vec!["/dev/null".into()],
            ports: vec![8080],
            error_file: Some("/tmp/err".into()),
            argv: vec!["/bin/bash".into(), "-c".into(), "--read".into()],
            netns: true,
            dry_run: true,
        };
        let args = rules.to_args();
        assert_eq!(args[0], LAUNCHER);
        assert_eq!(Rules::parse(args.into_iter().skip(1)).unwrap(), rules);
        let err = Rules::parse(["--read".into()].into_iter()).unwrap_err();
        assert!(err.contains("needs a value"), "{err}");
        let err = Rules::parse(["--read".into(), "/x".into()].into_iter()).unwrap_err();
        assert!(err.contains("no program"), "{err}");
        let err = Rules::parse(["--bogus".into()].into_iter()).unwrap_err();
        assert!(err.contains("unknown argument"), "{err}");
    }

    #[test]
    fn change_records_are_data() {
        let bytes = b"S\0A\0one two\0X\0A\0U\0B\0S\0__hh_top\0/\0S\0a[$(rm)]\0x\0S\0C\0it's\0";
        let (changes, ignored) = parse_changes(bytes);
        assert_eq!(
            changes,
            [
                Change::Set("A".into(), "one two".into()),
                Change::Export("A".into()),
                Change::Unset("B".into()),
                Change::Set("C".into(), "it's".into()),
            ]
        );
        assert_eq!(ignored, ["__hh_top", "a[$(rm)]"]);
        let script = apply_script(&changes);
        assert!(
            script.contains("builtin printf -v A '%s' 'one two'"),
            "{script}"
        );
        assert!(script.contains(r"'it'\''s'"), "{script}");
        assert!(script.contains("builtin export A"), "{script}");
        assert!(script.contains("builtin unset -v B"), "{script}");
    }

    #[test]
    fn a_truncated_record_stops_parsing() {
        let (changes, ignored) = parse_changes(b"S\0A\0");
        assert!(changes.is_empty() && ignored.is_empty());
        let (changes, _) = parse_changes(b"Q\0A\0S\0B\0x\0");
        assert!(changes.is_empty());
    }
}
