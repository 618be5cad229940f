//! The bash child process: spawning it, the control pipe it reads its
//! script from, and its stdout and stderr, read with poll(2) on the thread
//! that waits for them: output is taken as it comes, from whichever stream
//! has it, so neither can block the other, and a reply wakes the waiting
//! thread directly (no reader thread and channel in between, two thread
//! hand-offs less per round trip).

use std::collections::VecDeque;
use std::fs::File;
use std::io::{ErrorKind, Read, Write};
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};

use super::confine::DryRunSandbox;
use super::Stream;

/// Output of the bash process, as the reader sees it.
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
    /// stdout and stderr (non-blocking); None once at EOF or detached.
    outputs: [Option<File>; 2],
    /// Output read but not handed on yet.
    pending: VecDeque<Event>,
    /// Where reads land (reused: zeroing 64 KiB per read cost more than
    /// the read of a marker line).
    buf: Vec<u8>,
    exit: Option<ExitStatus>,
    /// When a request was last sent or output last came: a reply due soon
    /// is awaited spinning (see [`SPIN`]).
    active: Instant,
    /// `/proc/PID/task/PID/children`, kept open: read again from the
    /// start, it lists bash's children now, without the path lookup that
    /// opening it would add to every bounded call. None where the kernel
    /// has no such file.
    children: Option<File>,
}

/// How long after a request or a piece of output the reader keeps
/// checking the pipes without sleeping. Waking a sleeping reader on the
/// other core costs the writer and the reader more than a short spin does
/// (the benchmark's hand-over row shows it); most replies come within
/// this, and a long hook costs one spin.
const SPIN: Duration = Duration::from_micros(150);

impl BashProcess {
    /// Start `bash --noprofile --norc /dev/stdin`: bash reads its script
    /// from the control pipe (reopened through /dev/stdin, so it lives on a
    /// close-on-exec descriptor inside bash and stdin can become /dev/null).
    ///
    /// With a `sandbox` (a dry run), bash starts through hookhost's
    /// launcher, confined by Landlock and in a network namespace where the
    /// machine allows (see `confine::DryRunSandbox`).
    pub fn spawn(
        top_dir: &Path,
        dest: Option<&Path>,
        sandbox: Option<&DryRunSandbox<'_>>,
    ) -> Result<BashProcess> {
        const ARGV: [&str; 4] = ["bash", "--noprofile", "--norc", "/dev/stdin"];
        let confined = match sandbox {
            Some(sandbox) => sandbox.command(&ARGV)?,
            None => None,
        };
        let mut command = confined.unwrap_or_else(|| {
            let mut plain = Command::new(ARGV[0]);
            plain.args(&ARGV[1..]);
            plain
        });
        command.current_dir(top_dir).env("TOP_DIR", top_dir);
        // A DevStack tree's stackrc sets DEST itself (None).
        if let Some(dest) = dest {
            command.env("DEST", dest);
        }
        command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for var in STARTUP_VARS {
            command.env_remove(var);
        }
        // It must not outlive hookhost: see tied.rs.
        let mut child = super::tied::spawn(command).context("could not start bash")?;
        let pid = child.id();
        super::tied::session_started(pid);
        let children = File::open(format!("/proc/{pid}/task/{pid}/children")).ok();
        let stdout = child.stdout.take().context("bash has no stdout pipe")?;
        let stderr = child.stderr.take().context("bash has no stderr pipe")?;
        let control = child.stdin.take().context("bash has no control pipe")?;
        for fd in [stdout.as_raw_fd(), stderr.as_raw_fd(), control.as_raw_fd()] {
            set_nonblocking(fd).context("could not set up the pipes to bash")?;
        }
        Ok(BashProcess {
            control: Some(control),
            child,
            outputs: [
                Some(File::from(OwnedFd::from(stdout))),
                Some(File::from(OwnedFd::from(stderr))),
            ],
            pending: VecDeque::new(),
            buf: vec![0u8; 64 * 1024],
            exit: None,
            active: Instant::now(),
            children,
        })
    }

    /// The process id of bash.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Send `signal` to bash itself (not to what runs below it).
    pub fn signal(&self, signal: i32) {
        if self.exit.is_none() {
            // SAFETY: kill(2) on our own child, not yet reaped (so its pid
            // cannot have been reused); no memory is involved.
            unsafe {
                libc::kill(self.pid() as libc::pid_t, signal);
            }
        }
    }

    /// bash's children now (bash has one thread, so its thread's children
    /// are all of them); None where the kernel does not list them.
    pub fn children(&self) -> Option<Vec<u32>> {
        let file = self.children.as_ref()?;
        let mut list = Vec::new();
        let mut buf = [0u8; 4096];
        loop {
            let n = file.read_at(&mut buf, list.len() as u64).ok()?;
            if n == 0 {
                break;
            }
            list.extend_from_slice(&buf[..n]);
        }
        let list = String::from_utf8_lossy(&list);
        Some(
            list.split_whitespace()
                .filter_map(|p| p.parse().ok())
                .collect(),
        )
    }

    /// The processes below bash that are not in the trees of `before`
    /// (bash's children at some earlier moment, see [`BashProcess::children`]):
    /// what bash started since, with everything they started. With no
    /// `before`, everything below bash. Nothing once bash was reaped (its
    /// pid may belong to another process by then).
    pub fn started_since(&self, before: Option<&[u32]>) -> Vec<u32> {
        if self.exit.is_some() {
            return Vec::new();
        }
        let (Some(before), Some(now)) = (before, self.children()) else {
            return crate::interrupt::descendants(self.pid());
        };
        let mut found = Vec::new();
        for child in now.into_iter().filter(|c| !before.contains(c)) {
            found.push(child);
            found.extend(crate::interrupt::descendants(child));
        }
        found
    }

    /// Write script text to bash. Fails when bash no longer reads it.
    /// While the pipe is full, output is read meanwhile (kept for `recv`):
    /// bash may be blocked writing it before it reads on.
    pub fn send(&mut self, script: &[u8]) -> std::io::Result<()> {
        self.active = Instant::now();
        let mut rest = script;
        while !rest.is_empty() {
            let control = self.control.as_mut().ok_or(ErrorKind::BrokenPipe)?;
            match control.write(rest) {
                Ok(n) => rest = &rest[n..],
                Err(e) if e.kind() == ErrorKind::WouldBlock => {
                    let fd = control.as_raw_fd();
                    self.pump(Some(fd), Duration::from_millis(20));
                }
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    /// The next output event, or None after `timeout` without one.
    pub fn recv(&mut self, timeout: Duration) -> Option<Event> {
        if self.pending.is_empty() {
            self.spin();
        }
        if self.pending.is_empty() {
            self.pump(None, timeout);
        }
        if self.pending.is_empty() {
            return None;
        }
        self.active = Instant::now();
        self.pending.pop_front()
    }

    /// Read the pipes without sleeping until output comes or [`SPIN`]
    /// after the last activity has passed.
    fn spin(&mut self) {
        while self.active.elapsed() < SPIN {
            for stream in Stream::BOTH {
                self.read_out(stream);
            }
            if !self.pending.is_empty() {
                return;
            }
            std::thread::yield_now();
        }
    }

    /// Wait up to `timeout` for output (or for `writable` to take more),
    /// and read what is there into `pending`.
    fn pump(&mut self, writable: Option<RawFd>, timeout: Duration) {
        let mut fds: Vec<libc::pollfd> = Vec::with_capacity(3);
        let mut streams = Vec::with_capacity(2);
        for stream in [Stream::Stdout, Stream::Stderr] {
            if let Some(file) = &self.outputs[stream.index()] {
                fds.push(pollfd(file.as_raw_fd(), libc::POLLIN));
                streams.push(stream);
            }
        }
        if let Some(fd) = writable {
            fds.push(pollfd(fd, libc::POLLOUT));
        }
        if fds.is_empty() {
            thread::sleep(timeout);
            return;
        }
        // Round up: a wait shorter than 1 ms must not become a busy loop.
        let millis = timeout.as_micros().div_ceil(1000).min(i32::MAX as u128) as i32;
        // SAFETY: `fds` is a valid, initialised array of its length.
        let ready = unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, millis) };
        if ready <= 0 {
            return;
        }
        for (pfd, stream) in fds.iter().zip(streams) {
            if pfd.revents != 0 {
                self.read_out(stream);
            }
        }
    }

    /// Read what `stream` has now; note its end.
    fn read_out(&mut self, stream: Stream) {
        let Some(file) = &mut self.outputs[stream.index()] else {
            return;
        };
        match file.read(&mut self.buf) {
            Ok(0) => {
                self.outputs[stream.index()] = None;
                self.pending.push_back(Event::Eof(stream));
            }
            Ok(n) => {
                let data = self.buf[..n].to_vec();
                self.pending.push_back(Event::Data(stream, data));
            }
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::Interrupted) => {}
            Err(_) => {
                self.outputs[stream.index()] = None;
                self.pending.push_back(Event::Eof(stream));
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
        self.outputs = [None, None];
        self.pending.clear();
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

fn pollfd(fd: RawFd, events: libc::c_short) -> libc::pollfd {
    libc::pollfd {
        fd,
        events,
        revents: 0,
    }
}

fn set_nonblocking(fd: RawFd) -> std::io::Result<()> {
    // SAFETY: fcntl on a descriptor we own, with integer arguments only.
    let flags = unsafe { libc::fcntl(fd, libc::F_GETFL) };
    // SAFETY: as above.
    if flags < 0 || unsafe { libc::fcntl(fd, libc::F_SETFL, flags | libc::O_NONBLOCK) } < 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(())
}
