//! Children that die with hookhost: the bash session and a confined
//! hook's launcher. However hookhost ends (`kill -9` included), the kernel
//! sends them SIGKILL (`PR_SET_PDEATHSIG`, set in the child before exec),
//! so a session never keeps running a hook once its host is gone.
//!
//! The kernel sends that signal when the *thread* that forked the child
//! exits, not the process: a child spawned from a short-lived thread (the
//! session starts on one while the components load) would be killed as
//! that thread ends. So every tied child is forked by one keeper thread
//! that lives as long as the process.
//!
//! Whoever must know while a session lives (the run lock, which records
//! its pid so a later run waits for it) registers with [`on_session`].

use std::io;
use std::os::unix::process::CommandExt;
use std::process::{Child, Command};
use std::sync::mpsc::{channel, Sender};
use std::sync::{Mutex, OnceLock};
use std::thread;

type Job = (Command, Sender<io::Result<Child>>);

/// Spawn `command` so that the child is killed when hookhost ends.
pub fn spawn(mut command: Command) -> io::Result<Child> {
    let parent = std::process::id() as libc::pid_t;
    // SAFETY: the closure runs in the forked child before exec and calls
    // only prctl(2) and getppid(2), both async-signal-safe; it touches no
    // memory of the parent's but the copied integer `parent`.
    unsafe {
        command.pre_exec(move || {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL, 0, 0, 0) != 0 {
                return Err(io::Error::last_os_error());
            }
            // hookhost died between the fork and the prctl: no signal
            // will come for it.
            if libc::getppid() != parent {
                return Err(io::Error::other("hookhost ended while starting a child"));
            }
            Ok(())
        });
    }
    let (reply, answer) = channel();
    let gone = || io::Error::other("the thread that starts child processes is gone");
    keeper()
        .ok_or_else(gone)?
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .send((command, reply))
        .map_err(|_| gone())?;
    answer.recv().map_err(|_| gone())?
}

/// The keeper thread's queue; the thread is started at first use and
/// never ends. None when it could not be started.
fn keeper() -> Option<&'static Mutex<Sender<Job>>> {
    static KEEPER: OnceLock<Option<Mutex<Sender<Job>>>> = OnceLock::new();
    KEEPER
        .get_or_init(|| {
            let (jobs, queue) = channel::<Job>();
            thread::Builder::new()
                .name("hookhost-spawner".into())
                .spawn(move || {
                    for (mut command, reply) in queue {
                        let _ = reply.send(command.spawn());
                    }
                })
                .ok()?;
            Some(Mutex::new(jobs))
        })
        .as_ref()
}

type Watcher = Box<dyn Fn(u32) + Send + Sync>;

fn watchers() -> &'static Mutex<Vec<Watcher>> {
    static WATCHERS: OnceLock<Mutex<Vec<Watcher>>> = OnceLock::new();
    WATCHERS.get_or_init(Default::default)
}

/// Call `watcher` with the pid of every bash session started from now on
/// (a restarted session is a new one).
pub fn on_session(watcher: impl Fn(u32) + Send + Sync + 'static) {
    watchers()
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .push(Box::new(watcher));
}

/// A bash session was started with `pid`: tell the watchers.
pub(crate) fn session_started(pid: u32) {
    for watcher in watchers().lock().unwrap_or_else(|e| e.into_inner()).iter() {
        watcher(pid);
    }
}
