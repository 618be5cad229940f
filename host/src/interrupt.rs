//! Ctrl-C during a run: stop the hook that is running, then let the run
//! end in order (the failure report, the timing table and the log are still
//! written) and exit with status 130.
//!
//! The handler only records the request and pokes what is running:
//! - every process below hookhost (the bash session, whatever a hook runs
//!   in the foreground, a command a plugin runs) gets SIGINT, as a terminal
//!   gives the whole foreground job, with hookhost's children stopped while
//!   the tree is read (see [`signal_tree_frozen`]). A hook started from a
//!   script or a test (`kill -INT <hookhost>`) is stopped the same way;
//! - callbacks the run registered run, e.g. pushing the WebAssembly epoch
//!   past every plugin's deadline so a running guest traps at once.
//!
//! The run checks [`requested`] before and after each hook. A second Ctrl-C
//! kills (SIGKILL) what is below hookhost, for a hook that traps SIGINT and
//! goes on; a third ends hookhost itself at once.
//!
//! SIGTERM (`kill`, systemd, a CI runner's timeout) is handled the same way
//! through the same handler, except that what runs below hookhost gets
//! SIGTERM and the exit status is 143 (128 + SIGTERM): see [`exit_status`].

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use signal_hook::iterator::Signals;

/// The exit status of an interrupted run (128 + SIGINT, as shells report it).
pub const EXIT_INTERRUPTED: u8 = 130;

/// The first stopping signal that arrived (0: none yet).
static FIRST_SIGNAL: AtomicI32 = AtomicI32::new(0);

/// Set in the signal handler itself, the moment SIGINT (first) or SIGTERM
/// (second) arrives, before the signals' thread gets to run. A terminal's
/// Ctrl-C reaches the bash session at the same time as hookhost: the run
/// can see the session die of it before that thread has counted the
/// signal, and must still take it for the interrupt it is, not a failure.
fn arrived() -> &'static [Arc<AtomicBool>; 2] {
    static ARRIVED: OnceLock<[Arc<AtomicBool>; 2]> = OnceLock::new();
    ARRIVED.get_or_init(Default::default)
}

type Callback = Arc<dyn Fn() + Send + Sync>;

/// How many Ctrl-Cs arrived, and what to run on each.
struct State {
    count: AtomicUsize,
    callbacks: Mutex<Vec<(usize, Callback)>>,
    next_id: AtomicUsize,
}

fn state() -> &'static State {
    static STATE: OnceLock<State> = OnceLock::new();
    STATE.get_or_init(|| State {
        count: AtomicUsize::new(0),
        callbacks: Mutex::new(Vec::new()),
        next_id: AtomicUsize::new(0),
    })
}

/// Take over SIGINT and SIGTERM for this process (once; later calls do nothing).
pub fn install_handler() -> anyhow::Result<()> {
    static INSTALLED: OnceLock<Result<(), String>> = OnceLock::new();
    INSTALLED
        .get_or_init(|| {
            let [int, term] = arrived();
            signal_hook::flag::register(libc::SIGINT, int.clone()).map_err(|e| e.to_string())?;
            signal_hook::flag::register(libc::SIGTERM, term.clone()).map_err(|e| e.to_string())?;
            let signals = Signals::new([libc::SIGINT, libc::SIGTERM]).map_err(|e| e.to_string())?;
            std::thread::Builder::new()
                .name("hookhost-signals".into())
                .spawn(move || watch(signals))
                .map(drop)
                .map_err(|e| e.to_string())
        })
        .clone()
        .map_err(|e| anyhow::anyhow!("cannot handle Ctrl-C: {e}"))
}

/// The signals' own thread: the signal-context part (signal-hook's) only
/// queues the signal; everything else runs here, one signal at a time.
fn watch(mut signals: Signals) {
    for signal in signals.forever() {
        let _ = FIRST_SIGNAL.compare_exchange(0, signal, Ordering::SeqCst, Ordering::SeqCst);
        on_signal();
    }
}

/// The signal that stopped the run (SIGINT or SIGTERM), once one arrived.
pub fn signal() -> Option<i32> {
    let [int, term] = arrived();
    match FIRST_SIGNAL.load(Ordering::SeqCst) {
        // Arrived, and the signals' thread has not seen it yet.
        0 if term.load(Ordering::SeqCst) => Some(libc::SIGTERM),
        0 if int.load(Ordering::SeqCst) => Some(libc::SIGINT),
        0 => None,
        signal => Some(signal),
    }
}

/// `SIGINT` or `SIGTERM`, once one arrived (for records).
pub fn signal_name() -> Option<&'static str> {
    signal().map(|s| {
        if s == libc::SIGTERM {
            "SIGTERM"
        } else {
            "SIGINT"
        }
    })
}

/// What stopped the run, for messages: `Ctrl-C` or `SIGTERM`.
pub fn cause() -> &'static str {
    match signal() {
        Some(libc::SIGTERM) => "SIGTERM",
        _ => "Ctrl-C",
    }
}

/// The exit status of a run the signal stopped: 128 + its number (130 for
/// SIGINT, 143 for SIGTERM), as shells report it.
pub fn exit_status() -> u8 {
    match signal() {
        Some(libc::SIGTERM) => 128 + libc::SIGTERM as u8,
        _ => EXIT_INTERRUPTED,
    }
}

/// Whether Ctrl-C was pressed (or SIGTERM came) during this process; true
/// from the moment the signal arrived (see [`arrived`]).
pub fn requested() -> bool {
    state().count.load(Ordering::SeqCst) > 0 || signal().is_some()
}

/// Run `callback` on every Ctrl-C while the returned guard lives.
pub fn on_interrupt(callback: impl Fn() + Send + Sync + 'static) -> Registration {
    let id = state().next_id.fetch_add(1, Ordering::SeqCst);
    lock_callbacks().push((id, Arc::new(callback)));
    Registration { id }
}

/// Keeps a callback registered; dropping it removes the callback.
pub struct Registration {
    id: usize,
}

impl Drop for Registration {
    fn drop(&mut self) {
        lock_callbacks().retain(|(id, _)| *id != self.id);
    }
}

fn lock_callbacks() -> std::sync::MutexGuard<'static, Vec<(usize, Callback)>> {
    state().callbacks.lock().unwrap_or_else(|e| e.into_inner())
}

/// The handler (runs on the signals' own thread, not in signal context).
fn on_signal() {
    let count = state().count.fetch_add(1, Ordering::SeqCst) + 1;
    if count >= 3 {
        // The run did not end after two: the operator wants out now. The
        // log is written line by line, so it holds everything until here.
        clear_terminal_line();
        std::process::exit(i32::from(exit_status()));
    }
    // The first signal is passed on as it came (a hook may trap TERM to
    // clean up); the second kills.
    let signal = match count {
        1 => FIRST_SIGNAL.load(Ordering::SeqCst),
        _ => libc::SIGKILL,
    };
    signal_descendants(signal);
    // Clone first: a callback must not run under the lock.
    let callbacks: Vec<Callback> = lock_callbacks().iter().map(|(_, c)| c.clone()).collect();
    for callback in callbacks {
        callback();
    }
}

/// Clear the line the cursor is on when stderr is a terminal: exiting at
/// once, hookhost would leave its spinner line there.
fn clear_terminal_line() {
    use std::io::{IsTerminal, Write};
    let mut stderr = std::io::stderr();
    if stderr.is_terminal() {
        let _ = stderr.write_all(b"\r\x1b[2K");
        let _ = stderr.flush();
    }
}

/// Make this process the one that orphans below it are re-parented to (a
/// daemon a hook double-forked, say), so [`descendants`] still finds them:
/// a dry run stops what its hooks left running.
pub fn adopt_orphans() {
    // SAFETY: prctl(2) with PR_SET_CHILD_SUBREAPER and plain integers
    // changes only this process's attributes.
    unsafe {
        libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
    }
}

/// Send `signal` to every process below this one (children first found,
/// then theirs), read from /proc. Processes that exited meanwhile are
/// skipped; a process cannot escape by re-parenting only if it was found
/// first, which is what a shell's own job control gives too.
pub fn signal_descendants(signal: i32) {
    signal_tree_frozen(std::process::id(), signal);
}

/// [`signal_tree`], with `root`'s own children stopped (SIGSTOP) while the
/// tree is read and signalled, and continued after. A child that forked
/// while the tree was read would otherwise leave its new process unfound:
/// bash dies of the SIGINT, and the process it had just started (a hook's
/// `sleep`, say) outlives the run, re-parented to init. A stopped process
/// cannot fork; a fork under way completes before the stop. The signal
/// stays pending in a stopped child and is delivered when it continues,
/// before the SIGCHLD of a child that died of it (lower number first), so
/// bash still sees its own SIGINT first.
pub fn signal_tree_frozen(root: u32, signal: i32) {
    let children = children_of(root);
    signal_pids(&children, libc::SIGSTOP);
    signal_tree(root, signal);
    signal_pids(&children, libc::SIGCONT);
}

/// The processes whose parent is `root`.
fn children_of(root: u32) -> Vec<u32> {
    process_parents()
        .filter(|&(_, ppid)| ppid == root)
        .map(|(pid, _)| pid)
        .collect()
}

/// Every process in /proc with its parent.
fn process_parents() -> impl Iterator<Item = (u32, u32)> {
    let entries = std::fs::read_dir("/proc").into_iter().flatten().flatten();
    entries.filter_map(|entry| {
        let pid = entry.file_name().to_str()?.parse().ok()?;
        Some((pid, parent_of(pid)?))
    })
}

/// Send `signal` to every process below `root`.
pub fn signal_tree(root: u32, signal: i32) {
    signal_pids(&descendants(root), signal);
}

/// Send `signal` to each of `pids` (found by [`descendants`] just before).
pub fn signal_pids(pids: &[u32], signal: i32) {
    for &pid in pids {
        // SAFETY: kill(2) with a pid we just read and a valid signal number
        // has no memory-safety preconditions.
        unsafe {
            libc::kill(pid as libc::pid_t, signal);
        }
    }
}

/// Every process whose chain of parents leads to `root` (not `root` itself).
pub fn descendants(root: u32) -> Vec<u32> {
    let mut children: HashMap<u32, Vec<u32>> = HashMap::new();
    for (pid, ppid) in process_parents() {
        children.entry(ppid).or_default().push(pid);
    }
    let mut found = Vec::new();
    let mut queue = vec![root];
    while let Some(pid) = queue.pop() {
        for &child in children.get(&pid).map(Vec::as_slice).unwrap_or(&[]) {
            found.push(child);
            queue.push(child);
        }
    }
    found
}

/// The parent pid from `/proc/PID/stat` (field 4; the command name before it
/// is in parentheses and may itself contain spaces or parentheses).
fn parent_of(pid: u32) -> Option<u32> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after_name = &stat[stat.rfind(')')? + 1..];
    after_name.split_whitespace().nth(1)?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::Command;

    #[test]
    fn a_grandchild_is_found_below_this_process() {
        let mut child = Command::new("bash")
            .args(["-c", "sleep 5 & wait"])
            .spawn()
            .expect("spawn bash");
        // Let bash start its sleep.
        // Wait until bash has started its sleep.
        for _ in 0..100 {
            if !descendants(child.id()).is_empty() {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        let found = descendants(std::process::id());
        assert!(found.contains(&child.id()), "{found:?}");
        let below_bash = descendants(child.id());
        assert_eq!(below_bash.len(), 1, "bash's sleep: {below_bash:?}");
        assert!(found.contains(&below_bash[0]), "{found:?}");
        // Only this test's own tree: other tests of this binary run beside it.
        signal_tree(child.id(), libc::SIGKILL);
        let _ = child.kill();
        child.wait().expect("reap bash");
    }

    /// The stop while the tree is read is undone: the child runs on, gets
    /// the signal (its trap runs) and ends as it would have without it.
    #[test]
    fn the_children_stopped_while_the_tree_is_signalled_go_on_and_get_it() {
        let inner = "trap 'exit 7' INT; while :; do sleep 0.05; done";
        let script = format!("bash -c \"{inner}\"; echo inner=$?");
        let mut root = Command::new("bash")
            .args(["-c", &script])
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("spawn bash");
        for _ in 0..250 {
            if descendants(root.id()).len() >= 2 {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        signal_tree_frozen(root.id(), libc::SIGINT);
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while root.try_wait().expect("wait for bash").is_none() {
            if std::time::Instant::now() > deadline {
                signal_tree(root.id(), libc::SIGKILL);
                let _ = root.kill();
                panic!("the stopped child was never continued");
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        let mut out = String::new();
        std::io::Read::read_to_string(&mut root.stdout.take().unwrap(), &mut out).unwrap();
        assert_eq!(out.trim(), "inner=7");
    }

    #[test]
    fn parent_of_self_is_the_real_parent() {
        let ppid = unsafe { libc::getppid() } as u32;
        assert_eq!(parent_of(std::process::id()), Some(ppid));
    }
}

/// Have the kernel kill `command`'s process when hookhost dies (`kill -9`
/// included). The signal is tied to the thread that forks the child, so
/// the caller forks from a thread that lives as long as the child.
pub fn die_with_hookhost(command: &mut std::process::Command) {
    use std::os::unix::process::CommandExt;
    let parent = std::process::id() as libc::pid_t;
    // SAFETY: the closure runs in the forked child before exec and calls
    // only prctl(2) and getppid(2), both async-signal-safe, on a copied
    // integer.
    unsafe {
        command.pre_exec(move || {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL, 0, 0, 0) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            // hookhost died between the fork and the prctl: no signal
            // will come for it.
            if libc::getppid() != parent {
                return Err(std::io::Error::other(
                    "hookhost ended while starting a child",
                ));
            }
            Ok(())
        });
    }
}
