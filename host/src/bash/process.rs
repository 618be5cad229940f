//! The bash child process: spawning it, the control pipe it reads its
//! script from, and two reader threads that turn its stdout and stderr
//! into one channel of events, so neither stream can block the other.

use std::io::{Read, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::mpsc::{channel, Receiver, RecvTimeoutError, Sender};
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};

use super::Stream;

/// Output of the bash process, as the reader threads see it.
pub enum Event {
    Data(Stream, Vec<u8>),
    Eof(Stream),
}

/// Environment variables that would make bash run startup code or change
/// its options before the session's own script: dropped from the host's
/// environment (the rest is passed on).
const STARTUP_VARS: [&str; 4] = ["BASH_ENV", "ENV", "SHELLOPTS", "BASHOPTS"];

pub struct BashProcess {
    child: Child,
    control: Option<ChildStdin>,
    events: Option<Receiver<Event>>,
    exit: Option<ExitStatus>,
}

impl BashProcess {
    /// Start `bash --noprofile --norc /dev/stdin`: bash reads its script
    /// from the control pipe (reopened through /dev/stdin, so it lives on a
    /// close-on-exec descriptor inside bash and stdin can become /dev/null).
    pub fn spawn(top_dir: &Path, dest: &Path) -> Result<BashProcess> {
        let mut command = Command::new("bash");
        command
            .args(["--noprofile", "--norc", "/dev/stdin"])
            .current_dir(top_dir)
            .env("TOP_DIR", top_dir)
            .env("DEST", dest)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for var in STARTUP_VARS {
            command.env_remove(var);
        }
        let mut child = command.spawn().context("could not start bash")?;
        let (tx, rx) = channel();
        let stdout = child.stdout.take().context("bash has no stdout pipe")?;
        let stderr = child.stderr.take().context("bash has no stderr pipe")?;
        spawn_reader(Stream::Stdout, stdout, tx.clone())?;
        spawn_reader(Stream::Stderr, stderr, tx)?;
        Ok(BashProcess {
            control: child.stdin.take(),
            child,
            events: Some(rx),
            exit: None,
        })
    }

    /// The process id of bash.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Send `signal` to every process below bash, and to bash too when
    /// `bash_too`. Bash gets it first: a child that dies of SIGINT before
    /// bash has its own SIGINT makes bash finish the call as if nothing
    /// happened, and the SIGINT arriving after that would end the session.
    pub fn signal_tree(&self, signal: i32, bash_too: bool) {
        let below = crate::interrupt::descendants(self.pid());
        if bash_too && self.exit.is_none() {
            // SAFETY: kill(2) on our own child, not yet reaped (so its pid
            // cannot have been reused); no memory is involved.
            unsafe {
                libc::kill(self.pid() as libc::pid_t, signal);
            }
        }
        crate::interrupt::signal_pids(&below, signal);
    }

    /// Write script text to bash. Fails when bash no longer reads it.
    pub fn send(&mut self, script: &[u8]) -> std::io::Result<()> {
        let control = self
            .control
            .as_mut()
            .ok_or(std::io::ErrorKind::BrokenPipe)?;
        control.write_all(script)?;
        control.flush()
    }

    /// The next output event, or None after `timeout` without one.
    pub fn recv(&self, timeout: Duration) -> Option<Event> {
        let Some(events) = &self.events else {
            thread::sleep(timeout);
            return None;
        };
        match events.recv_timeout(timeout) {
            Ok(event) => Some(event),
            Err(RecvTimeoutError::Timeout) => None,
            Err(RecvTimeoutError::Disconnected) => {
                thread::sleep(timeout);
                None
            }
        }
    }

    /// The exit status once bash has exited (checked without blocking).
    pub fn exited(&mut self) -> Result<Option<ExitStatus>> {
        if self.exit.is_none() {
            self.exit = self
                .child
                .try_wait()
                .context("could not check on the bash session")?;
        }
        Ok(self.exit)
    }

    /// Stop listening to a dead or closing session: drop the control pipe
    /// and the channel (reader threads end at their next read).
    pub fn detach(&mut self) {
        self.control = None;
        self.events = None;
    }

    /// End bash: close its script (bash exits at end of input), wait up to
    /// `grace`, then kill it. Background processes a hook started are left
    /// alone, even if they still hold the output pipes.
    pub fn shutdown(&mut self, grace: Duration) -> Result<()> {
        self.control = None;
        let deadline = Instant::now() + grace;
        self.await_eof(deadline);
        while self.exited()?.is_none() {
            if Instant::now() >= deadline {
                let _ = self.child.kill();
                self.exit = Some(self.child.wait().context("could not reap bash")?);
                break;
            }
            thread::sleep(Duration::from_micros(500));
        }
        self.detach();
        Ok(())
    }

    /// Wait until both output streams ended (bash exiting closes them; a
    /// background process may keep them open) or until `deadline`,
    /// dropping what output still arrives.
    fn await_eof(&mut self, deadline: Instant) {
        let mut open = [true, true];
        while open != [false, false] {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() || matches!(self.exited(), Ok(Some(_)) | Err(_)) {
                return;
            }
            match self.recv(left.min(Duration::from_millis(5))) {
                Some(Event::Eof(Stream::Stdout)) => open[0] = false,
                Some(Event::Eof(Stream::Stderr)) => open[1] = false,
                Some(Event::Data(..)) | None => {}
            }
        }
    }
}

impl Drop for BashProcess {
    fn drop(&mut self) {
        if self.exit.is_none() {
            let _ = self.shutdown(Duration::from_millis(200));
        }
    }
}

fn spawn_reader(
    stream: Stream,
    mut pipe: impl Read + Send + 'static,
    tx: Sender<Event>,
) -> Result<()> {
    let name = format!("hookhost-bash-{}", stream.name());
    thread::Builder::new()
        .name(name)
        .spawn(move || {
            let mut buf = vec![0u8; 64 * 1024];
            loop {
                match pipe.read(&mut buf) {
                    Ok(0) => break,
                    Ok(n) => {
                        if tx.send(Event::Data(stream, buf[..n].to_vec())).is_err() {
                            return;
                        }
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                    Err(_) => break,
                }
            }
            let _ = tx.send(Event::Eof(stream));
        })
        .context("could not start a reader thread for the bash session")?;
    Ok(())
}
