//! One run per stack: `stack`, `unstack` and `clean` take an exclusive
//! `flock(2)` on `<stack>/.hookhost/run.lock` before they touch anything
//! (logs, journal, hooks), and a second run on the same stack refuses at
//! once, naming the holder: its pid, its entry point and since when.
//!
//! Why flock: the kernel drops the lock when the holding process dies,
//! however it dies (SIGKILL, a crash, a power cut), so a crashed run never
//! leaves the stack locked and there is no stale-pid guessing. The lock
//! file's descriptor is close-on-exec (Rust opens every file so): a bash
//! hook's background process that outlives hookhost does not inherit it
//! and cannot keep the stack locked.
//!
//! The file also holds one JSON line describing the holder, for the
//! refusal message and for `hookhost status`. It is advisory only: what
//! decides is the flock, never the text, with one exception. The run's
//! bash session is not the lock's holder, and when hookhost is killed the
//! kernel frees the lock a moment before the session (killed with it, see
//! `bash::tied`) is gone. So the line also names the session (its pid and
//! start time), and a run that takes the lock waits until the previous
//! run's session has ended, or refuses naming it.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::os::fd::AsRawFd;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant, SystemTime};

use anyhow::Context;
use serde::{Deserialize, Serialize};

/// The lock file's name inside the stack's `.hookhost/`.
pub const LOCK_FILE: &str = "run.lock";

/// Who holds (or last held) a stack's lock.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Holder {
    pub pid: u32,
    /// `stack`, `unstack` or `clean`.
    pub entry: String,
    /// When the run took the lock, `YYYY-MM-DD HH:MM:SS` UTC.
    pub since: String,
    /// The run's id in the journal.
    pub run: String,
    /// The run's bash session, once started.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session: Option<Session>,
}

/// A bash session, named so that a reused pid is not mistaken for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    pub pid: u32,
    /// Its start time, in clock ticks after boot (`/proc/PID/stat`).
    pub start: u64,
}

/// How long a run waits for the previous run's session to end. The
/// kernel kills a session as its hookhost dies, so it is gone within
/// milliseconds; a session still there after this was not killed.
const SESSION_WAIT: Duration = Duration::from_secs(5);

impl std::fmt::Display for Holder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "pid {}, `hookhost {}`, since {} UTC",
            self.pid,
            crate::model::inert::inert(&self.entry),
            crate::model::inert::inert(&self.since)
        )
    }
}

/// A held run lock; dropping it (or the process ending) releases it.
#[derive(Debug)]
pub struct RunLock {
    /// Kept open: the flock lives as long as this descriptor. Shared with
    /// [`RunLock::session_recorder`]'s closure, which holds it weakly.
    held: Arc<Mutex<(File, Holder)>>,
    path: PathBuf,
}

impl RunLock {
    /// Take the lock of the stack whose state directory is `state_dir`
    /// (created if missing), or refuse naming who holds it.
    pub fn acquire(state_dir: &Path, entry: &str, run: &str) -> anyhow::Result<RunLock> {
        std::fs::create_dir_all(state_dir).with_context(|| {
            format!("cannot create the state directory {}", state_dir.display())
        })?;
        let path = state_dir.join(LOCK_FILE);
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .with_context(|| format!("cannot open the run lock {}", path.display()))?;
        if !try_flock(&file).with_context(|| format!("cannot lock {}", path.display()))? {
            let holder = match read_holder(&mut file) {
                Some(holder) => holder.to_string(),
                None => "a run that has not written its details yet".to_string(),
            };
            anyhow::bail!(
                "another hookhost run is using this stack ({holder}); \
                 wait for it to end or stop it, then run again (lock: {})",
                path.display()
            );
        }
        if let Some(previous) = read_once(&mut file) {
            await_session(&previous, &path)?;
        }
        let holder = Holder {
            pid: std::process::id(),
            entry: entry.to_string(),
            since: crate::model::units::utc_timestamp(SystemTime::now()),
            run: run.to_string(),
            session: None,
        };
        write_holder(&mut file, &holder)
            .with_context(|| format!("cannot write the run lock {}", path.display()))?;
        Ok(RunLock {
            held: Arc::new(Mutex::new((file, holder))),
            path,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// A function to call with the pid of each bash session the run
    /// starts: it records the session in the lock file. It does nothing
    /// once the lock was dropped.
    pub fn session_recorder(&self) -> impl Fn(u32) + Send + Sync + 'static {
        let held: Weak<Mutex<(File, Holder)>> = Arc::downgrade(&self.held);
        move |pid| {
            let Some(held) = held.upgrade() else {
                return;
            };
            let mut held = held.lock().unwrap_or_else(|e| e.into_inner());
            let (file, holder) = &mut *held;
            holder.session = start_time(pid).map(|start| Session { pid, start });
            // Best effort: without it a later run only misses the wait.
            let _ = write_holder(file, holder);
        }
    }
}

/// Wait until the session `previous` names (the last run's) has ended;
/// refuse when it is still there after [`SESSION_WAIT`].
fn await_session(previous: &Holder, path: &Path) -> anyhow::Result<()> {
    let Some(session) = previous.session else {
        return Ok(());
    };
    let deadline = Instant::now() + SESSION_WAIT;
    while start_time(session.pid) == Some(session.start) {
        if Instant::now() >= deadline {
            anyhow::bail!(
                "the bash session of an earlier hookhost run (pid {}, `hookhost {}` since {} UTC) \
                 is still running; stop it (`kill {}`), then run again (lock: {})",
                session.pid,
                crate::model::inert::inert(&previous.entry),
                crate::model::inert::inert(&previous.since),
                session.pid,
                path.display()
            );
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    Ok(())
}

/// A live process's start time (field 22 of `/proc/PID/stat`, after the
/// command name, which may hold spaces and parentheses). None once it is
/// gone; a zombie counts as gone: it runs nothing and holds nothing.
fn start_time(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    // Fields after the name: state is the 3rd of the file, start time the 22nd.
    if fields.first() == Some(&"Z") {
        return None;
    }
    fields.get(19)?.parse().ok()
}

/// Who holds the lock of the stack at `state_dir` right now, if anyone:
/// the holder the file names, when that process is still alive. (A probe
/// with flock itself would, for an instant, make a starting run refuse.)
pub fn current_holder(state_dir: &Path) -> Option<Holder> {
    let mut file = File::open(state_dir.join(LOCK_FILE)).ok()?;
    let holder = read_holder(&mut file)?;
    process_alive(holder.pid).then_some(holder)
}

/// `flock(LOCK_EX | LOCK_NB)`: Ok(false) when another process holds it.
fn try_flock(file: &File) -> std::io::Result<bool> {
    loop {
        // SAFETY: flock(2) on a descriptor this File owns; no memory involved.
        let rc = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
        if rc == 0 {
            return Ok(true);
        }
        let err = std::io::Error::last_os_error();
        match err.raw_os_error() {
            Some(libc::EWOULDBLOCK) => return Ok(false),
            Some(libc::EINTR) => continue,
            _ => return Err(err),
        }
    }
}

/// The holder line as the lock's new holder reads it: once (no one else
/// writes it now; a new lock file is empty).
fn read_once(file: &mut File) -> Option<Holder> {
    let mut text = String::new();
    file.seek(SeekFrom::Start(0)).ok()?;
    file.take(4096).read_to_string(&mut text).ok()?;
    serde_json::from_str(text.trim()).ok()
}

/// The holder line, retried briefly: the holder may be rewriting it.
fn read_holder(file: &mut File) -> Option<Holder> {
    for _ in 0..5 {
        let mut text = String::new();
        let read = file
            .seek(SeekFrom::Start(0))
            .and_then(|_| file.take(4096).read_to_string(&mut text));
        if read.is_ok() {
            if let Ok(holder) = serde_json::from_str::<Holder>(text.trim()) {
                return Some(holder);
            }
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    None
}

/// Replace the file's text by the holder line in one write, padded with
/// spaces to the old text's length rather than truncated: a truncation
/// waits for the file's last write to reach the disk (milliseconds on a
/// busy one), and a reader never sees the file empty.
/// The longest holder line padded over in place.
const MAX_HOLDER_LINE: usize = 4096;

fn write_holder(file: &mut File, holder: &Holder) -> std::io::Result<()> {
    let mut line = serde_json::to_string(holder).map_err(std::io::Error::other)?;
    let old = file.metadata()?.len() as usize;
    // A holder line is short: anything longer was not written here, and
    // is cut rather than padded over.
    if old > MAX_HOLDER_LINE {
        file.set_len(0)?;
    }
    let width = old.min(MAX_HOLDER_LINE).saturating_sub(1).max(line.len());
    line.extend(std::iter::repeat_n(' ', width - line.len()));
    line.push('\n');
    file.write_all_at(line.as_bytes(), 0)?;
    file.flush()
}

fn process_alive(pid: u32) -> bool {
    Path::new(&format!("/proc/{pid}")).exists()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_lock_is_refused_naming_the_holder_and_freed_on_drop() {
        let dir = tempfile::tempdir().unwrap();
        let state = dir.path().join(".hookhost");
        let first = RunLock::acquire(&state, "stack", "run-1").unwrap();
        // flock locks belong to the open file: a second open in the same
        // process conflicts just as another process would.
        let err = RunLock::acquire(&state, "clean", "run-2").unwrap_err();
        let text = err.to_string();
        let pid = std::process::id();
        assert!(text.contains(&format!("pid {pid}")), "{text}");
        assert!(text.contains("`hookhost stack`"), "{text}");
        assert!(text.contains("since 20"), "{text}");
        assert!(text.contains("run.lock"), "{text}");
        let holder = current_holder(&state).expect("a live holder");
        assert_eq!((holder.pid, holder.entry.as_str()), (pid, "stack"));
        drop(first);
        let again = RunLock::acquire(&state, "clean", "run-3").unwrap();
        assert_eq!(again.path(), state.join(LOCK_FILE));
        assert_eq!(current_holder(&state).unwrap().run, "run-3");
    }

    #[test]
    fn a_shorter_holder_line_replaces_a_longer_one_whole() {
        let dir = tempfile::tempdir().unwrap();
        let long = RunLock::acquire(dir.path(), "unstack", &"r".repeat(200)).unwrap();
        let mut session = std::process::Command::new("sleep")
            .arg("60")
            .spawn()
            .unwrap();
        long.session_recorder()(session.id());
        let recorded = current_holder(dir.path()).unwrap().session.unwrap();
        assert_eq!(recorded.pid, session.id());
        drop(long);
        // The next run would wait for a session still alive.
        session.kill().unwrap();
        session.wait().unwrap();
        let short = RunLock::acquire(dir.path(), "stack", "r1").unwrap();
        let holder = current_holder(dir.path()).unwrap();
        assert_eq!((holder.run.as_str(), holder.session), ("r1", None));
        let text = std::fs::read_to_string(short.path()).unwrap();
        assert_eq!(text.lines().count(), 1, "{text:?}");
    }

    #[test]
    fn a_dead_holder_is_not_current() {
        let dir = tempfile::tempdir().unwrap();
        let holder = Holder {
            pid: u32::MAX - 1,
            entry: "stack".into(),
            since: "2026-01-01 00:00:00".into(),
            run: "r".into(),
            session: None,
        };
        let line = serde_json::to_string(&holder).unwrap();
        std::fs::write(dir.path().join(LOCK_FILE), line).unwrap();
        assert_eq!(current_holder(dir.path()), None);
    }
}
