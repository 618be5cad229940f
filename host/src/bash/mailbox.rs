//! How a request's script reaches bash: the host's half of the protocol
//! that `protocol.sh` states (and whose shell text it holds).
//!
//! bash reads its script from the control pipe one byte per `read(2)`: it
//! must not read past the command it runs, and a pipe cannot seek back. So
//! the pipe carries one short start-up line, which runs the first request
//! of the request file: it defines `__hh_go` and enters the session's loop
//! ([`session_loop`]), which waits for one byte per request (`read -N 1`: one system
//! call) and `eval`s the request at top level, as if it had come down the
//! pipe.
//!
//! The requests themselves go through a mailbox: a private directory
//! (0700, a fresh random name; on tmpfs where there is one, see
//! `parent_dirs`) holding one request file. bash keeps it open; the host
//! appends each request, ended by a NUL (which no shell text holds), and
//! sends the byte `m`; bash reads up to the NUL from where it stopped last
//! time (a regular file can seek back: a few system calls per request
//! however long). When the file grows past [`ROTATE_AT`], or held secrets
//! (the start-up request holds local.conf's values), the next request
//! first tells bash to switch to a fresh file, and the old one is removed.
//!
//! Without a writable temp dir (or after a failed write to it) the byte is
//! `p` and the request follows it down the pipe, NUL-ended: slower, the
//! same for bash.
//!
//! Each request clears `__hh_b` (the copy of the script) before its body
//! runs, so no hook can read the tokens of the requests after it, and ends
//! by setting `__hh_busy=0`. A hook that runs `break` or `continue` outside
//! any loop of its own would reach the session's loop and skip the rest of
//! its request; the loop then ends with the request still busy, and bash
//! says so and exits with status 70 (see `__hh_loop_end` in session.sh).
//! Should the request not be there or not parse, bash exits with status 70
//! too and says why: the request fails and the session ends, where waiting
//! for its markers would hang.

use std::fs::{self, DirBuilder, File, OpenOptions};
use std::io::Write;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::PathBuf;

use anyhow::{Context, Result};

use super::framing::{quote, Token};
use super::protocol;

/// The session's loop (`loop` in protocol.sh), `go` written into its body
/// and polling `polls` times.
fn session_loop(polls: usize) -> Vec<u8> {
    let text = protocol::block("loop")
        .replace("@POLLS@", &polls.to_string())
        .replace("@GO@", protocol::block("go"));
    let mut s = text.into_bytes();
    s.push(b'\n');
    s
}

/// How often the loop polls before it sleeps: 25 times with two
/// cores or more, never on one, where polling only delays the host.
fn polls() -> usize {
    match std::thread::available_parallelism() {
        Ok(cores) if cores.get() >= 2 => 25,
        _ => 0,
    }
}

/// The last line of every request: the session's loop may read the next.
pub fn request_end() -> String {
    format!("{}\n", protocol::block("request_end"))
}

/// The request byte: the request is in the file.
const FROM_FILE: &[u8] = b"m";

/// The request file is replaced once it holds this much.
const ROTATE_AT: u64 = 1 << 20;

/// The session's private directory and its request file.
pub struct Mailbox {
    dir: PathBuf,
    file: PathBuf,
    /// The request file, appended to (bash reads it through its own
    /// descriptor).
    writer: File,
    /// Bytes in the request file.
    written: u64,
    /// Switch to a fresh file before the next request.
    rotate: bool,
}

impl Mailbox {
    /// Create the directory (0700, a fresh random name) in memory-backed
    /// storage where there is some (see [`parent_dirs`]), else in the temp
    /// dir, and an empty request file in it.
    pub fn create() -> Result<Mailbox> {
        let name = format!(
            "hookhost-session-{}-{}",
            std::process::id(),
            Token::new()?.as_str()
        );
        let mut last_error = None;
        for parent in parent_dirs() {
            let dir = parent.join(&name);
            // mkdir fails if the name exists: nobody can plant it first.
            match DirBuilder::new().mode(0o700).create(&dir) {
                Ok(()) => {
                    let file = dir.join("requests");
                    let writer = new_file(&file)?;
                    let mut mailbox = Mailbox {
                        dir,
                        file,
                        writer,
                        written: 0,
                        rotate: false,
                    };
                    // The first request bash reads: the loop itself.
                    let mut first = define_go_and_loop();
                    first.push(0);
                    mailbox.append(&first)?;
                    return Ok(mailbox);
                }
                Err(e) => last_error = Some(format!("cannot create {}: {e}", dir.display())),
            }
        }
        anyhow::bail!(last_error.unwrap_or_else(|| "no directory for the mailbox".into()))
    }

    /// The start-up line, sent once down the pipe (one byte per system
    /// call, so it is short): open the request file and run its first
    /// request, which defines `__hh_go` and enters the loop. (Should that fail,
    /// bash exits with status 70.)
    pub fn setup_line(&self) -> Vec<u8> {
        let mut s = b"__hh_req=".to_vec();
        s.extend(quote(self.file.as_os_str().as_bytes()));
        s.extend_from_slice(b"; ");
        s.extend_from_slice(protocol::block("setup").as_bytes());
        s.push(b'\n');
        s
    }

    /// Append `script` to the request file; the byte to send bash for it.
    pub fn post(&mut self, script: &[u8]) -> Result<&'static [u8]> {
        if self.rotate || self.written > ROTATE_AT {
            self.switch_files()?;
        }
        let mut request = Vec::with_capacity(script.len() + 1);
        request.extend_from_slice(script);
        request.push(0);
        self.append(&request)?;
        Ok(FROM_FILE)
    }

    /// Switch to a fresh request file at the next request (the last one
    /// held secrets: local.conf's values, passwords included).
    pub fn rotate(&mut self) {
        self.rotate = true;
    }

    /// Tell bash, through the old file, to open the new one; replace it.
    fn switch_files(&mut self) -> Result<()> {
        let mut switch = protocol::block("switch").as_bytes().to_vec();
        switch.push(0);
        self.append(&switch)?;
        fs::remove_file(&self.file)
            .with_context(|| format!("cannot remove {}", self.file.display()))?;
        self.writer = new_file(&self.file)?;
        self.written = 0;
        self.rotate = false;
        Ok(())
    }

    fn append(&mut self, bytes: &[u8]) -> Result<()> {
        self.writer
            .write_all(bytes)
            .with_context(|| format!("cannot write {}", self.file.display()))?;
        self.written += bytes.len() as u64;
        Ok(())
    }

    /// Where the session writes its snapshot before a plugin's call (see
    /// `snapshot`): in the same private directory.
    pub fn snapshot_path(&self) -> PathBuf {
        self.dir.join("snapshot")
    }

    #[cfg(test)]
    pub fn dir(&self) -> &std::path::Path {
        &self.dir
    }
}

/// The start-up line of a session without a mailbox: define `__hh_go`, enter
/// the loop; every request comes down the pipe.
pub fn setup_without_mailbox() -> Vec<u8> {
    define_go_and_loop()
}

/// Define `__hh_go` (for protocol.sh's `switch`), enter the loop.
fn define_go_and_loop() -> Vec<u8> {
    let mut s = b"__hh_go=".to_vec();
    s.extend(quote(protocol::block("go").as_bytes()));
    s.extend_from_slice(b"; builtin readonly __hh_go\n");
    s.extend(session_loop(polls()));
    s
}

/// A request sent down the pipe: the byte `p`, the script, a NUL.
pub fn through_pipe(script: &[u8]) -> Vec<u8> {
    let mut s = Vec::with_capacity(script.len() + 2);
    s.push(b'p');
    s.extend_from_slice(script);
    s.push(0);
    s
}

/// A new, empty request file only this user can read.
fn new_file(path: &std::path::Path) -> Result<File> {
    OpenOptions::new()
        .append(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("cannot create {}", path.display()))
}

/// Where the mailbox may go, best first: the user's runtime dir and
/// /dev/shm are tmpfs, where writing a request costs far less than on a
/// disk file system; then the temp dir (`$TMPDIR`, /tmp).
fn parent_dirs() -> Vec<PathBuf> {
    let mut dirs = Vec::new();
    if let Some(runtime) = std::env::var_os("XDG_RUNTIME_DIR").filter(|d| !d.is_empty()) {
        dirs.push(PathBuf::from(runtime));
    }
    dirs.push(PathBuf::from("/dev/shm"));
    dirs.push(std::env::temp_dir());
    dirs.retain(|d| d.is_dir());
    dirs
}

impl Drop for Mailbox {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.dir);
    }
}
