//! How a request's script reaches bash.
//!
//! bash reads its script from the control pipe one byte per `read(2)`: it
//! must not read past the command it runs, and a pipe cannot seek back. A
//! 200-byte request costs 200 system calls that way, the 30 KB start-up
//! script 30,000. So the session keeps a mailbox: a private directory
//! (0700, a fresh random name; on tmpfs where there is one, see
//! `parent_dirs`) holding one request file.
//! The host writes each request's script there and sends bash one short
//! line (26 bytes) that reads the file in one `read(2)` (a regular file
//! can seek back) and `eval`s it at top level, where the script would have
//! run had it come down the pipe. Requests are strictly one after another,
//! so one file serves them all; the directory goes when the session does.
//!
//! Each request clears `__hh_b` (the copy of the script) before its body
//! runs, so no hook can read the tokens of the requests after it. Should
//! the file be unreadable (a hook removed the temp dir) or a script not
//! parse, bash exits with status 70 and says why: the request fails and the
//! session ends, where waiting for its markers would hang.
//!
//! Without a writable temp dir the scripts go down the pipe itself: slower,
//! the same for bash.

use std::fs::{self, DirBuilder, OpenOptions};
use std::io::Write;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::PathBuf;

use anyhow::{Context, Result};

use super::framing::{quote, Token};

/// What bash runs on the trigger line: read the request file, run the
/// script at top level. (`read -d ''` returns 1 at the end of the file:
/// `|| :` keeps errexit and the ERR trap quiet.) A script ends with an end
/// marker, whose status is 0, so `eval` fails only when the script did not
/// parse; the rest of it, its markers included, then never runs.
const GO: &str = "__hh_b=; IFS= builtin read -r -d '' __hh_b <\"$__hh_req\" || :; \
    [[ -n $__hh_b ]] || { builtin printf 'hookhost: cannot read the request %s\\n' \
    \"$__hh_req\" >&2; builtin exit 70; }; \
    builtin eval \"$__hh_b\" || { builtin printf 'hookhost: a request did not parse \
    (status %d)\\n' \"$?\" >&2; builtin exit 70; }";

/// The line bash reads from the pipe for each request (~26 bytes: bash
/// reads it one byte per system call).
const TRIGGER: &[u8] = b"\\builtin eval \"$__hh_go\"\n";

/// The session's private directory and its request file.
pub struct Mailbox {
    dir: PathBuf,
    file: PathBuf,
}

impl Mailbox {
    /// Create the directory (0700, a fresh random name) in memory-backed
    /// storage where there is some (see [`parent_dirs`]), else in the temp
    /// dir.
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
                    let file = dir.join("request.sh");
                    return Ok(Mailbox { dir, file });
                }
                Err(e) => last_error = Some(format!("cannot create {}: {e}", dir.display())),
            }
        }
        anyhow::bail!(last_error.unwrap_or_else(|| "no directory for the mailbox".into()))
    }

    /// The line that teaches a fresh session to read its requests from
    /// here (sent once, down the pipe).
    pub fn setup_line(&self) -> Vec<u8> {
        let mut s = b"__hh_req=".to_vec();
        s.extend(quote(self.file.as_os_str().as_bytes()));
        s.extend_from_slice(b"; __hh_go=");
        s.extend(quote(GO.as_bytes()));
        s.extend_from_slice(b"; builtin readonly __hh_req __hh_go\n");
        s
    }

    /// Put `script` in the request file; the line to send bash for it.
    pub fn post(&self, script: &[u8]) -> Result<&'static [u8]> {
        let mut handle = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&self.file)
            .with_context(|| format!("cannot write {}", self.file.display()))?;
        handle
            .write_all(script)
            .with_context(|| format!("cannot write {}", self.file.display()))?;
        Ok(TRIGGER)
    }

    /// Empty the request file (after one that held secrets was read).
    pub fn clear(&self) {
        let _ = fs::write(&self.file, b"");
    }

    #[cfg(test)]
    pub fn dir(&self) -> &std::path::Path {
        &self.dir
    }
}

/// Where the mailbox may go, best first: the user's runtime dir and
/// /dev/shm are tmpfs, where rewriting the request file costs a few
/// microseconds (on ext4, truncating and rewriting it measured ~100 µs a
/// request); then the temp dir (`$TMPDIR`, /tmp).
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
