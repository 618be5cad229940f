//! The long-lived bash session that sources every bash hook of a run.
//!
//! As DevStack's stack.sh sources its extras.d scripts into one shell, all
//! bash hooks of a run share ONE bash process, so variables and functions a
//! hook defines in the `source` phase exist in later phases. The host drives
//! that process over a pipe:
//!
//! - bash reads its script from the control pipe (see `process`); each
//!   request's script goes through the session's private request file
//!   (see `mailbox`), the pipe only carrying a short line to read it. Its
//!   stdin is /dev/null, put back after every request, so every hook and
//!   function reads nothing.
//! - Each request that runs shell code (source a hook, call a function) is
//!   followed by a line that restores the session (cwd, options, traps,
//!   IFS, umask, stdio) and a line printing an end marker with the
//!   request's status on stdout and stderr. The marker carries a fresh
//!   random token that bash only reads after the request returned, so a
//!   hook cannot forge it. The session's own queries skip the restore.
//! - The host keeps a copy of the variables plugins may touch, synced after
//!   each request that runs shell code (see `mirror`).
//! - stdout and stderr are read with poll(2) as they arrive and handed on
//!   line by line, lossily converted to text.
//! - A request that ends bash (`exit`, `exec`, errexit) is reported as
//!   [`Outcome::SessionEnded`] after draining its output; a background
//!   process holding the pipes open delays that by a bounded grace only.
//!
//! The shell side of the protocol is `session.sh`; the DevStack helper
//! functions hooks use are `helpers.sh`. Both are embedded in the binary.

mod batch;
pub mod confine;
pub(crate) mod framing;
mod mailbox;
mod mirror;
mod process;
mod protocol;
mod snapshot;
#[cfg(test)]
mod tests;
pub mod tied;

use std::os::unix::ffi::OsStrExt;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::ExitStatus;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

pub use batch::BatchHook;
use framing::{quote, quote_checked, Framer, LineSplitter, Token};
use mailbox::Mailbox;
use mirror::Mirror;
use process::{BashProcess, Event};

/// The shell side of the session protocol.
const SESSION_SH: &str = include_str!("session.sh");
/// DevStack's helper functions and common variables.
const HELPERS_SH: &str = include_str!("helpers.sh");
/// The session's dry-run layer (see dryrun.rs), after helpers.sh.
const DRYRUN_SH: &str = include_str!("dryrun.sh");

/// How long to wait for output before checking whether bash exited.
const POLL: Duration = Duration::from_millis(20);
/// While output keeps coming, how often to check whether bash exited.
const EXIT_CHECK: Duration = Duration::from_millis(5);
/// After bash exited, how long to keep reading output that is still in
/// flight (bounded, for pipes a background process keeps open).
const EXIT_DRAIN: Duration = Duration::from_millis(300);
/// How long `close` waits for bash to exit before killing it.
const CLOSE_GRACE: Duration = Duration::from_secs(5);
/// After a bounded call's deadline, how long each step of stopping it
/// (the stop signal, then SIGKILL to what the call started, then SIGKILL
/// to bash) may take.
const STOP_GRACE: Duration = Duration::from_secs(1);
/// While a bounded call is being stopped, how often the stop signal is sent.
const RESEND: Duration = Duration::from_millis(50);

// The errors a caller acts on by type (a plugin's time limit, bash's own
// refusal of a value) live in the model, so the WebAssembly host can
// downcast to them without depending on the session.
use crate::model::errors::{DeadlinePassed, SessionNote, SetRefused};

/// What the session's own lines in a hook's output say: session.sh's
/// errexit trap and the end of its loop, and the helpers' `die`. The one
/// place their wording is read back; callers get [`SessionNote`]s.
pub fn session_notes(lines: &[String]) -> Vec<SessionNote> {
    let ours = |l: &&String| l.starts_with("hookhost: ");
    let mut notes = Vec::new();
    if lines
        .iter()
        .filter(ours)
        .any(|l| l.contains(" failed with status "))
    {
        notes.push(SessionNote::CommandFailed);
    }
    if lines
        .iter()
        .filter(ours)
        .any(|l| l.contains("outside a loop"))
    {
        notes.push(SessionNote::StrayBreak);
    }
    if lines.iter().any(|l| l.starts_with("[ERROR] ")) {
        notes.push(SessionNote::Died);
    }
    if lines
        .iter()
        .filter(ours)
        .any(|l| l.contains(" returned status "))
    {
        notes.push(SessionNote::Returned);
    }
    if lines.last().is_some_and(|l| is_bash_error(l)) {
        notes.push(SessionNote::BashError);
    }
    notes
}

/// Bash's own error message: `FILE: line N: WHAT`.
fn is_bash_error(line: &str) -> bool {
    let Some((_, rest)) = line.split_once(": line ") else {
        return false;
    };
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    digits > 0 && rest[digits..].starts_with(": ")
}

/// How to start a session.
pub struct SessionConfig {
    /// Exported as TOP_DIR; each hook starts with this as cwd.
    pub top_dir: PathBuf,
    /// Exported as DEST.
    pub dest: PathBuf,
    /// A directory the session may write its own files into (exists).
    pub state_dir: PathBuf,
    /// `set -o errexit` semantics like stack.sh, with an ERR trap that says
    /// which command failed where.
    pub errexit: bool,
    /// `install_package` really installs (else it only records).
    pub allow_install: bool,
    /// `hookhost stack --dry-run`: `sudo`, package installs, `git_clone` and
    /// commands that do not exist are recorded in `<state_dir>/dry-run`
    /// instead of run (see helpers.sh).
    pub dry_run: bool,
    /// The entry script `$0` names, as DevStack's hooks saw `stack.sh`:
    /// `<TOP_DIR>/<script>`; `None` names `<TOP_DIR>/hookhost`.
    pub script: Option<String>,
    /// Initial shell variables (from local.conf), assigned literally, in
    /// order, not exported.
    pub vars: Vec<(String, String)>,
    /// Variables the host keeps a copy of, so reading them costs no round
    /// trip: those WASM plugins may read or write (see `mirror`).
    pub watch: Vec<String>,
    /// A DevStack tree (see `prelude`): DEST is not exported, helpers.sh's
    /// variable defaults and distribution detection are left to the tree's
    /// stackrc and functions, the umask is stack.sh's 022, and the tree's
    /// redefinitions of wrapped functions are wrapped again after each
    /// request.
    pub devstack: bool,
}

impl SessionConfig {
    /// A plain session at `top_dir`: DEST is `<top_dir>/dest`, the state
    /// directory `top_dir` itself, no errexit, nothing installed or
    /// recorded, no variables; set the fields that differ.
    pub fn new(top_dir: &Path) -> SessionConfig {
        SessionConfig {
            top_dir: top_dir.to_path_buf(),
            dest: top_dir.join("dest"),
            state_dir: top_dir.to_path_buf(),
            errexit: false,
            allow_install: false,
            dry_run: false,
            script: None,
            vars: Vec::new(),
            watch: Vec::new(),
            devstack: false,
        }
    }
}

/// Which output stream a line came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    Stdout,
    Stderr,
}

impl Stream {
    const BOTH: [Stream; 2] = [Stream::Stdout, Stream::Stderr];

    fn index(self) -> usize {
        match self {
            Stream::Stdout => 0,
            Stream::Stderr => 1,
        }
    }
}

/// How a hook or function call ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Success,
    /// The hook/function returned non-zero; the session is alive.
    Failed {
        status: i32,
    },
    /// bash itself exited (the hook called `exit` or `exec`, errexit fired,
    /// it was killed).
    SessionEnded {
        status: Option<i32>,
        signal: Option<i32>,
    },
}

/// How a function is called.
#[derive(Clone, Copy)]
struct CallKind {
    /// errexit stays as the session has it (else it is off for the call:
    /// the status is an answer).
    errexit: bool,
    /// Write a snapshot first when the call is bounded (see `ask_helper`).
    snapshot: bool,
}

/// [`BashSession::ask`]'s calls.
const ASK: CallKind = CallKind {
    errexit: false,
    snapshot: true,
};

/// How one request ended, before it is mapped to an [`Outcome`].
enum Reply {
    /// The end markers arrived, with this status.
    Done(i32),
    /// bash exited first ([`Outcome::SessionEnded`]).
    Ended(Outcome),
}

/// One long-lived bash process running every bash hook of a run.
pub struct BashSession {
    bash: BashProcess,
    /// Where request scripts go (None: down the pipe itself).
    mailbox: Option<Mailbox>,
    /// The host's copy of the watched variables.
    mirror: Mirror,
    top_dir: PathBuf,
    framers: [Framer; 2],
    eof: [bool; 2],
    /// Output that arrived around a query (background processes); handed
    /// to the next hook or call.
    stray: Vec<(Stream, Vec<u8>)>,
    /// Set once bash exited.
    ended: Option<Outcome>,
    /// Calls made now are stopped at this instant (see `set_deadline`).
    deadline: Option<Instant>,
    /// Stops the running bounded call at its deadline.
    stopper: Option<Stopper>,
    /// The token of the snapshot taken as the last bounded call started
    /// (see `__hh_snap`), while its file is kept: what a restart after
    /// that call replays.
    restore_point: Option<String>,
}

impl BashSession {
    /// Start bash, define the session code and helpers, assign the
    /// configuration variables.
    pub fn start(config: &SessionConfig) -> Result<BashSession> {
        let top_dir = absolute(&config.top_dir, "top directory")?;
        let state_dir = absolute(&config.state_dir, "state directory")?;
        if config.devstack {
            // Where the session keeps the tree's wrapped functions (helpers.sh).
            let dir = state_dir.join(crate::config::prelude::DIR);
            std::fs::create_dir_all(&dir)
                .with_context(|| format!("cannot create {}", dir.display()))?;
        }
        let mailbox = Mailbox::create().ok();
        let sandbox = config
            .dry_run
            .then(|| dry_run_sandbox(config, &top_dir, &state_dir, mailbox.as_ref()));
        let dest = (!config.devstack).then_some(&*config.dest);
        let mut session = BashSession {
            bash: BashProcess::spawn(&top_dir, dest, sandbox.as_ref())?,
            mailbox,
            mirror: Mirror::new(&config.watch),
            top_dir,
            framers: Default::default(),
            eof: [false; 2],
            stray: Vec::new(),
            ended: None,
            deadline: None,
            stopper: None,
            restore_point: None,
        };
        let setup = match &session.mailbox {
            Some(mailbox) => mailbox.setup_line(),
            None => mailbox::setup_without_mailbox(),
        };
        // A failed write means bash is gone; the request below sees it.
        let _ = session.bash.send(&setup);
        let mut script = bootstrap_script(config, &session.top_dir, &state_dir)?;
        if !session.mirror.is_empty() {
            script.splice(0..0, session.mirror.definition());
        }
        let mut out = [Vec::new(), Vec::new()];
        let reply = session.request("hookhost session start", &script, true, &mut |s, b| {
            out[s.index()].extend_from_slice(b)
        })?;
        if let Some(mailbox) = &mut session.mailbox {
            // It held local.conf's values, passwords included.
            mailbox.rotate();
        }
        let [stdout, stderr] = out;
        let why = String::from_utf8_lossy(&stderr).trim().replace('\n', "; ");
        match reply {
            Reply::Done(0) => {}
            Reply::Done(_) => bail!("the bash session could not start: {why}"),
            Reply::Ended(ended) => bail!(
                "bash exited while the session was starting ({}): {why}",
                describe(&ended)
            ),
        }
        session.keep_stray(Stream::Stdout, stdout);
        session.keep_stray(Stream::Stderr, stderr);
        Ok(session)
    }

    /// `source PATH ARGS...` in the session, as DevStack sources
    /// `extras.d/50-x.sh stack install` ($1, $2 are the args). A relative
    /// path is relative to TOP_DIR. Each output line goes to `out` as it
    /// arrives.
    pub fn source_hook(
        &mut self,
        path: &Path,
        args: &[&str],
        out: &mut dyn FnMut(Stream, &str),
    ) -> Result<Outcome> {
        self.ensure_alive()?;
        let path = self.top_dir.join(path);
        if !path.is_file() {
            bail!("hook {} is not a file", path.display());
        }
        let mut body = b"builtin source ".to_vec();
        body.extend(quote_checked(path.as_os_str().as_bytes(), "the hook path")?);
        push_args(&mut body, args)?;
        let label = self.label(&path);
        self.run(&label, &body, out)
    }

    /// Source a part of a DevStack tree's prelude at top level, with empty
    /// `$@` (openrc reads `$1`/`$2`) and without errexit: stack.sh ran most
    /// of it before `set -o errexit`, and a missing read-only command
    /// (`uuidgen`) must not end the session. `label` names it in messages.
    pub fn source_prelude(
        &mut self,
        path: &Path,
        label: &str,
        out: &mut dyn FnMut(Stream, &str),
    ) -> Result<Outcome> {
        self.ensure_alive()?;
        let mut body = b"\\builtin set +o errexit; \\builtin set --; builtin source ".to_vec();
        body.extend(quote_checked(
            path.as_os_str().as_bytes(),
            "the prelude path",
        )?);
        self.run(label, &body, out)
    }

    /// Call a shell function (helper or hook-defined) in the session itself,
    /// so its side effects stay. As in stack.sh, under errexit a non-zero
    /// return ends the session. A function that does not exist gives
    /// `Failed { status: 127 }`.
    pub fn call(
        &mut self,
        function: &str,
        args: &[&str],
        out: &mut dyn FnMut(Stream, &str),
    ) -> Result<Outcome> {
        self.call_with(
            CallKind {
                errexit: true,
                snapshot: true,
            },
            function,
            args,
            out,
        )
    }

    /// Call a shell function whose status is an answer, not a failure:
    /// errexit is off for the call, so `is_service_enabled` answering "no"
    /// (or a plugin's `call-function` getting a non-zero status back) never
    /// ends the session. Otherwise as [`BashSession::call`].
    pub fn ask(
        &mut self,
        function: &str,
        args: &[&str],
        out: &mut dyn FnMut(Stream, &str),
    ) -> Result<Outcome> {
        self.call_with(ASK, function, args, out)
    }

    /// [`BashSession::ask`] for one of hookhost's own helpers
    /// (`is_service_enabled`, `enable_service`, `disable_service`): builtins
    /// only, so the stop signal always ends a bounded call of one, and no
    /// snapshot is written first (they are on plugins' hot paths).
    pub fn ask_helper(
        &mut self,
        function: &str,
        args: &[&str],
        out: &mut dyn FnMut(Stream, &str),
    ) -> Result<Outcome> {
        let kind = CallKind {
            snapshot: false,
            ..ASK
        };
        self.call_with(kind, function, args, out)
    }

    fn call_with(
        &mut self,
        kind: CallKind,
        function: &str,
        args: &[&str],
        out: &mut dyn FnMut(Stream, &str),
    ) -> Result<Outcome> {
        if !self.function_exists(function)? {
            self.flush_stray(out);
            out(
                Stream::Stderr,
                &format!("hookhost: function '{function}' is not defined"),
            );
            return Ok(Outcome::Failed { status: 127 });
        }
        let mut body = Vec::new();
        self.restore_point = None;
        if self.deadline.is_some() && kind.snapshot {
            self.take_snapshot_first(&mut body)?;
        }
        if !kind.errexit {
            body.extend_from_slice(b"\\builtin set +o errexit; ");
        }
        if self.deadline.is_some() {
            // The session's wrapper lets the stop signal end the function,
            // not bash.
            body.extend_from_slice(b"\\__hh_call ");
        }
        body.extend(quote(function.as_bytes()));
        push_args(&mut body, args)?;
        body.extend_from_slice(b" </dev/null");
        self.stopper = self.deadline.map(|d| Stopper::new(d, &self.bash));
        let outcome = self.run(&format!("function {function}"), &body, out);
        let stopper = self.stopper.take();
        self.drop_snapshot_unless_ended();
        if let Some(stopper) = stopper.filter(Stopper::fired) {
            stopper.finish(&self.bash);
            return Err(anyhow::Error::new(DeadlinePassed {
                function: function.to_string(),
            }));
        }
        outcome
    }

    /// Bound the function calls made from now on (`call`, and the helpers
    /// over it): one still running at `deadline` is stopped — SIGINT to
    /// bash and what runs below it, which the session turns into a return
    /// from every running function; SIGKILL for a child that ignores it;
    /// as a last resort bash itself is killed and the session ends. Such a
    /// call fails with [`DeadlinePassed`]. `None` lifts the bound.
    pub fn set_deadline(&mut self, deadline: Option<Instant>) {
        self.deadline = deadline;
    }

    /// Before a bounded call: `body` starts by writing a snapshot of the
    /// session as it is (when it has a private directory for it), the
    /// state to restart with should the call cost the session.
    fn take_snapshot_first(&mut self, body: &mut Vec<u8>) -> Result<()> {
        let Some(path) = self.mailbox.as_ref().map(Mailbox::snapshot_path) else {
            return Ok(());
        };
        let token = Token::new()?;
        body.extend_from_slice(b"\\__hh_snap ");
        body.extend(quote_checked(
            path.as_os_str().as_bytes(),
            "the snapshot path",
        )?);
        body.push(b' ');
        body.extend(quote(token.as_str().as_bytes()));
        body.push(b'\n');
        self.restore_point = Some(token.as_str().to_string());
        Ok(())
    }

    /// After a bounded call: its snapshot is only needed when the call
    /// ended bash (the next call takes its own); it holds every value,
    /// passwords included, so it does not stay.
    fn drop_snapshot_unless_ended(&mut self) {
        if self.restore_point.is_none() || !self.is_alive() {
            return;
        }
        self.restore_point = None;
        if let Some(mailbox) = &self.mailbox {
            let _ = std::fs::remove_file(mailbox.snapshot_path());
        }
    }

    /// The state the session had when its last bounded call started, as
    /// `__hh_snap` wrote it, when that call ended bash and a complete
    /// snapshot holds it: for [`BashSession::restore`] in the session that
    /// replaces this one. The file is removed (it holds every value,
    /// passwords included).
    pub fn take_snapshot(&mut self) -> Option<Vec<u8>> {
        let token = self.restore_point.take()?;
        let path = self.mailbox.as_ref()?.snapshot_path();
        let dump = std::fs::read(&path).ok();
        let _ = std::fs::remove_file(&path);
        dump.filter(|dump| snapshot::is_complete(dump, &token))
    }

    /// Give a fresh session the state a snapshot holds (see
    /// [`BashSession::take_snapshot`]): variables (bash's own and the
    /// session's aside, see `snapshot`) and functions, replayed as bash
    /// printed them; variables the snapshot did not have are unset.
    pub fn restore(&mut self, dump: &[u8]) -> Result<()> {
        self.ensure_alive()?;
        let script = snapshot::replay_script(dump)?;
        let mut ignore = |_: Stream, _: &[u8]| {};
        let reply = self.request("hookhost session restore", &script, true, &mut ignore)?;
        if let Some(mailbox) = &mut self.mailbox {
            // The request held every value, passwords included.
            mailbox.rotate();
        }
        match reply {
            Reply::Done(_) => Ok(()),
            Reply::Ended(ended) => bail!(
                "bash exited while its state was restored ({})",
                describe(&ended)
            ),
        }
    }

    /// Whether a shell function of that name is defined in the session.
    pub fn function_exists(&mut self, name: &str) -> Result<bool> {
        if !framing::is_function_name(name) {
            bail!("'{name}' is not a valid function name");
        }
        let name = quote(name.as_bytes());
        let payload = self.query("checking for a function", |token| {
            words(&[b"__hh_q_fn", token, &name])
        })?;
        match payload.as_slice() {
            b"1" => Ok(true),
            b"0" => Ok(false),
            _ => bail!("the bash session gave an unexpected answer about a function"),
        }
    }

    /// The value of a shell variable; None when it is unset.
    pub fn get_var(&mut self, name: &str) -> Result<Option<String>> {
        if let Some(value) = self.mirror.get(name) {
            return Ok(value);
        }
        check_var_name(name)?;
        let quoted = quote(name.as_bytes());
        let payload = self.query(&format!("reading {name}"), |token| {
            words(&[b"__hh_q_get", token, &quoted])
        })?;
        match payload.split_first() {
            Some((b'S', value)) => Ok(Some(String::from_utf8_lossy(value).into_owned())),
            Some((b'U', [])) => Ok(None),
            _ => bail!("the bash session gave an unexpected value for {name}"),
        }
    }

    /// Assign a global shell variable, literally.
    /// A watched variable is assigned with the next request (see `mirror`).
    pub fn set_var(&mut self, name: &str, value: &str) -> Result<()> {
        if self.mirror.set(name, value)? {
            return Ok(());
        }
        check_var_name(name)?;
        let quoted_name = quote(name.as_bytes());
        let quoted_value = quote_checked(value.as_bytes(), "the value")?;
        let payload = self.query(&format!("setting {name}"), |token| {
            words(&[b"__hh_q_set", token, &quoted_name, &quoted_value])
        })?;
        match payload.as_slice() {
            b"ok" => Ok(()),
            b"readonly" => Err(SetRefused {
                name: name.to_string(),
                integer: false,
            }
            .into()),
            b"integer" => Err(SetRefused {
                name: name.to_string(),
                integer: true,
            }
            .into()),
            b"failed" => bail!("cannot set {name}: bash refused the value"),
            _ => bail!("the bash session gave an unexpected answer setting {name}"),
        }
    }

    /// Whether bash is still running.
    pub fn is_alive(&mut self) -> bool {
        if self.ended.is_some() {
            return false;
        }
        match self.bash.exited() {
            Ok(None) => true,
            Ok(Some(exit)) => {
                self.mark_ended(exit);
                false
            }
            Err(_) => false,
        }
    }

    /// End bash (closing its script makes it exit). Does not hang on a
    /// background process that still holds the output pipes.
    pub fn close(mut self) -> Result<()> {
        if self.ended.is_some() {
            return Ok(());
        }
        self.bash.shutdown(CLOSE_GRACE)
    }

    /// Run a hook or function: stray output first, then its lines, as they
    /// arrive; a final line without newline at the end.
    fn run(
        &mut self,
        label: &str,
        body: &[u8],
        out: &mut dyn FnMut(Stream, &str),
    ) -> Result<Outcome> {
        self.ensure_alive()?;
        let mut splitters: [LineSplitter; 2] = Default::default();
        let stray = std::mem::take(&mut self.stray);
        let mut out = |s: Stream, l: &str| out(s, &session_frames(l, label));
        let mut sink =
            |s: Stream, bytes: &[u8]| splitters[s.index()].push(bytes, &mut |l| out(s, l));
        for (stream, bytes) in &stray {
            sink(*stream, bytes);
        }
        let reply = self.request(label, body, true, &mut sink)?;
        for stream in Stream::BOTH {
            splitters[stream.index()].finish(&mut |l| out(stream, l));
        }
        Ok(match reply {
            Reply::Done(0) => Outcome::Success,
            Reply::Done(status) => Outcome::Failed { status },
            Reply::Ended(ended) => ended,
        })
    }

    /// Run a query function that answers through `__hh_reply`; `body` gets
    /// the quoted reply token. Output around the reply is kept as stray.
    fn query(&mut self, what: &str, body: impl FnOnce(&[u8]) -> Vec<u8>) -> Result<Vec<u8>> {
        self.ensure_alive()?;
        let token = Token::new()?;
        let script = query_script(&body(&quote(token.as_str().as_bytes())));
        self.deliver(script);
        self.take_answer(&token, what)
    }

    /// The reply to the query with `token` (already sent): stdout up to
    /// the reply's end (a query prints its reply and nothing else, and ends
    /// with it: no end markers, one write). Output before it is kept as
    /// stray; stderr is left for the next request.
    fn take_answer(&mut self, token: &Token, what: &str) -> Result<Vec<u8>> {
        self.await_reply(&framing::ReplyFrame::of(token), what)
    }

    /// Read stdout until the whole of `reply` arrived (or bash exited).
    fn await_reply(&mut self, reply: &framing::ReplyFrame, what: &str) -> Result<Vec<u8>> {
        let stdout = Stream::Stdout.index();
        loop {
            if let Some((before, payload)) = self.framers[stdout].take(reply) {
                self.keep_stray(Stream::Stdout, before);
                return Ok(payload);
            }
            if let Some(exit) = self.bash.exited()? {
                let ended = self.mark_ended(exit);
                bail!("the bash session ended ({}) while {what}", describe(&ended));
            }
            if let Some(event) = self.bash.recv(POLL) {
                self.take_event(event);
            }
        }
    }

    /// Append the sync query of the watched variables to `script` (after
    /// a request that runs shell code); its token, when anything is watched.
    fn append_sync(&mut self, script: &mut Vec<u8>) -> Result<Option<Token>> {
        if self.mirror.is_empty() {
            return Ok(None);
        }
        let token = Token::new()?;
        let body = self.mirror.sync_body(&quote(token.as_str().as_bytes()));
        script.extend(query_script(&body));
        Ok(Some(token))
    }

    /// Read the sync reply `append_sync` asked for into the mirror.
    fn finish_sync(&mut self, token: &Token) -> Result<()> {
        let payload = self.await_reply(
            &framing::ReplyFrame::sync_of(token),
            "reading the watched variables",
        )?;
        self.mirror.update(&payload)
    }

    /// Send one request and read both streams up to its end markers (or
    /// until bash exits), handing the output before the markers to `sink`.
    /// With `sync`, the request runs shell code: the watched variables are
    /// read back after it.
    fn request(
        &mut self,
        label: &str,
        body: &[u8],
        sync: bool,
        sink: &mut dyn FnMut(Stream, &[u8]),
    ) -> Result<Reply> {
        let token = Token::new()?;
        let mut script = request_script(label, body, &token);
        let sync = if sync {
            self.append_sync(&mut script)?
        } else {
            None
        };
        script.extend_from_slice(RESTORE_LINE);
        self.deliver(script);
        let reply = self.await_markers(&token.needle(), sink)?;
        if let (Some(sync), Reply::Done(_)) = (sync, &reply) {
            self.finish_sync(&sync)?;
        }
        Ok(reply)
    }

    /// The waiting half of a request: both streams up to `needle`'s
    /// markers, or until bash exits. A bounded call is stopped at its
    /// deadline meanwhile.
    fn await_markers(
        &mut self,
        needle: &[u8],
        sink: &mut dyn FnMut(Stream, &[u8]),
    ) -> Result<Reply> {
        let mut status = [None, None];
        // Whether bash exited is checked at most once per EXIT_CHECK while
        // output keeps coming (a wait4 after every piece of it cost more
        // than the piece), and at once when a stream ends or output stops:
        // a background process that goes on printing cannot hide the exit.
        let mut next_exit_check = Instant::now();
        loop {
            self.scan(needle, &mut status, sink);
            if let [Some(code), Some(_)] = status {
                return Ok(Reply::Done(code));
            }
            if Instant::now() >= next_exit_check {
                if let Some(exit) = self.bash.exited()? {
                    return Ok(self.finish_after_exit(exit, needle, &mut status, sink));
                }
                next_exit_check = Instant::now() + EXIT_CHECK;
            }
            if let Some(stopper) = &mut self.stopper {
                stopper.check(&self.bash);
            }
            match self.bash.recv(POLL) {
                Some(event @ Event::Eof(_)) => {
                    self.take_event(event);
                    next_exit_check = Instant::now();
                }
                Some(event) => self.take_event(event),
                None => next_exit_check = Instant::now(),
            }
        }
    }

    /// Release what each stream has up to its marker; note markers found.
    fn scan(
        &mut self,
        needle: &[u8],
        status: &mut [Option<i32>; 2],
        sink: &mut dyn FnMut(Stream, &[u8]),
    ) {
        for stream in Stream::BOTH {
            let i = stream.index();
            if status[i].is_none() {
                status[i] = self.framers[i].scan(needle, &mut |b| sink(stream, b));
            }
        }
    }

    /// bash exited during a request: read what is still in flight (for a
    /// bounded time), hand it all on, and mark the session ended.
    fn finish_after_exit(
        &mut self,
        exit: ExitStatus,
        needle: &[u8],
        status: &mut [Option<i32>; 2],
        sink: &mut dyn FnMut(Stream, &[u8]),
    ) -> Reply {
        let deadline = Instant::now() + EXIT_DRAIN;
        while self.eof != [true, true] {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            if let Some(event) = self.bash.recv(left.min(POLL)) {
                self.take_event(event);
            }
        }
        self.scan(needle, status, sink);
        for stream in Stream::BOTH {
            if status[stream.index()].is_none() {
                self.framers[stream.index()].flush(&mut |b| sink(stream, b));
            }
        }
        let ended = self.mark_ended(exit);
        match status {
            [Some(code), Some(_)] => Reply::Done(*code),
            _ => Reply::Ended(ended),
        }
    }

    /// Hand bash a script of requests: through the mailbox, else down the
    /// pipe.
    fn deliver(&mut self, script: Vec<u8>) {
        // Plugins' assignments go first, before any shell code can look.
        let mut request = self.mirror.take_queued();
        request.extend(script);
        request.extend_from_slice(mailbox::request_end().as_bytes());
        let sent = match self.mailbox.as_mut().map(|m| m.post(&request)) {
            Some(Ok(byte)) => self.bash.send(byte),
            Some(Err(_)) | None => {
                // A mailbox that failed once (its file may hold half a
                // request) is not used again.
                self.mailbox = None;
                self.bash.send(&mailbox::through_pipe(&request))
            }
        };
        // A failed write means bash is gone; reading the markers sees it exit.
        let _ = sent;
    }

    fn take_event(&mut self, event: Event) {
        match event {
            Event::Data(stream, bytes) => self.framers[stream.index()].push(&bytes),
            Event::Eof(stream) => self.eof[stream.index()] = true,
        }
    }

    fn mark_ended(&mut self, exit: ExitStatus) -> Outcome {
        let ended = Outcome::SessionEnded {
            status: exit.code(),
            signal: exit.signal(),
        };
        self.ended = Some(ended.clone());
        self.bash.detach();
        ended
    }

    fn ensure_alive(&self) -> Result<()> {
        match &self.ended {
            Some(ended) => bail!("the bash session has ended ({})", describe(ended)),
            None => Ok(()),
        }
    }

    fn keep_stray(&mut self, stream: Stream, bytes: Vec<u8>) {
        if !bytes.is_empty() {
            self.stray.push((stream, bytes));
        }
    }

    /// Hand stray output to `out` as lines (used when no request follows).
    fn flush_stray(&mut self, out: &mut dyn FnMut(Stream, &str)) {
        for (stream, bytes) in std::mem::take(&mut self.stray) {
            let mut lines = LineSplitter::default();
            lines.push(&bytes, &mut |l| out(stream, l));
            lines.finish(&mut |l| out(stream, l));
        }
    }

    /// How a hook is named in messages: relative to TOP_DIR when inside it.
    fn label(&self, path: &Path) -> String {
        path.strip_prefix(&self.top_dir)
            .unwrap_or(path)
            .display()
            .to_string()
    }
}

/// Stops a bounded call that runs past its deadline without ending the
/// session when it can: from the deadline on, the stop signal goes to bash
/// every [`RESEND`] (its trap unwinds the call, see `__hh_call`; sent
/// again because one that comes before the call started is a no-op) and
/// SIGINT to the processes the call started; after [`STOP_GRACE`] those processes get SIGKILL; after another,
/// bash itself (the session ends, and is restarted by the caller).
/// Processes bash started before the call (a trusted hook's service in the
/// background) are never signalled.
struct Stopper {
    deadline: Instant,
    /// bash's children when the call started (None: not known; then every
    /// process below bash counts as the call's).
    before: Option<Vec<u32>>,
    /// When the stop signal goes out again.
    next: Instant,
    /// Escalation so far: 0 nothing sent, 1 stopping, 2 the call's
    /// processes killed, 3 bash killed.
    step: u32,
}

impl Stopper {
    fn new(deadline: Instant, bash: &BashProcess) -> Stopper {
        Stopper {
            deadline,
            before: bash.children(),
            next: deadline,
            step: 0,
        }
    }

    fn check(&mut self, bash: &BashProcess) {
        let now = Instant::now();
        if now < self.deadline || self.step == 3 {
            return;
        }
        if now >= self.next {
            bash.signal(stop_signal());
            if self.step <= 1 {
                crate::interrupt::signal_pids(&self.call_processes(bash), libc::SIGINT);
            }
            self.step = self.step.max(1);
            self.next = now + RESEND;
        }
        if self.step == 1 && now >= self.deadline + STOP_GRACE {
            crate::interrupt::signal_pids(&self.call_processes(bash), libc::SIGKILL);
            self.step = 2;
        }
        if self.step == 2 && now >= self.deadline + STOP_GRACE * 2 {
            // What it started since the last kill, then bash: nothing of
            // the call outlives it.
            crate::interrupt::signal_pids(&self.call_processes(bash), libc::SIGKILL);
            bash.signal(libc::SIGKILL);
            self.step = 3;
        }
    }

    /// What the call started (and what those started), still running.
    fn call_processes(&self, bash: &BashProcess) -> Vec<u32> {
        bash.started_since(self.before.as_deref())
    }

    /// After a stopped call: what it started in the background ends with it
    /// (a child left holding the session's pipes would print into later
    /// hooks' output).
    fn finish(&self, bash: &BashProcess) {
        if self.fired() {
            crate::interrupt::signal_pids(&self.call_processes(bash), libc::SIGKILL);
        }
    }

    fn fired(&self) -> bool {
        self.step > 0
    }
}

/// The signal that stops a bounded call (see session.sh's `__hh_call`): a
/// real-time one, which hooks and the tools they run leave alone; SIGINT
/// is left to Ctrl-C, which must still end the session.
fn stop_signal() -> i32 {
    libc::SIGRTMIN() + 7
}

/// What a dry run's session may write: hookhost's state, the mailbox (its
/// snapshots), and a DevStack tree's `.localrc.auto` (stack.sh's prelude
/// writes it; the run puts it back). In a network namespace a tree's
/// stackrc would find no address: HOST_IP is found here, unless set.
fn dry_run_sandbox<'a>(
    config: &SessionConfig,
    top_dir: &Path,
    state_dir: &Path,
    mailbox: Option<&Mailbox>,
) -> confine::DryRunSandbox<'a> {
    let mut dirs = vec![state_dir.to_path_buf()];
    dirs.extend(mailbox.and_then(|m| m.snapshot_path().parent().map(Path::to_path_buf)));
    let mut sandbox = confine::DryRunSandbox {
        dirs,
        files: Vec::new(),
        env: Vec::new(),
    };
    if config.devstack {
        sandbox.files.push(top_dir.join(".localrc.auto"));
        let netns = confine::dry_run_status().network == confine::NetworkCut::Namespace;
        if netns && std::env::var_os("HOST_IP").is_none() {
            sandbox
                .env
                .extend(confine::default_host_ip().map(|ip| ("HOST_IP", ip)));
        }
    }
    sandbox
}

/// The script that turns a fresh bash into a session: stdin to /dev/null
/// first (bash reads its script elsewhere), then the session code, the
/// configuration variables, and the helpers with their defaults.
fn bootstrap_script(config: &SessionConfig, top_dir: &Path, state_dir: &Path) -> Result<Vec<u8>> {
    let mut s = b"command exec 0</dev/null\nBASH_ARGV0=".to_vec();
    let script = config.script.as_deref().unwrap_or("hookhost");
    s.extend(quote(top_dir.join(script).as_os_str().as_bytes()));
    s.push(b'\n');
    s.extend(without_comment_lines(SESSION_SH));
    let flag = |on: bool| if on { "1 " } else { "0 " };
    // The stop signal's trap stays armed (see `__hh_call`).
    s.extend_from_slice(
        format!(
            "\n__hh_stop_sig={}; builtin readonly __hh_stop_sig; builtin trap __hh_on_stop {}",
            stop_signal(),
            stop_signal()
        )
        .as_bytes(),
    );
    s.extend_from_slice(b"\n__hh_init ");
    s.extend_from_slice(flag(config.errexit).as_bytes());
    s.extend_from_slice(flag(config.allow_install).as_bytes());
    s.extend(quote_checked(
        top_dir.as_os_str().as_bytes(),
        "the top directory",
    )?);
    s.push(b' ');
    // stack.sh's `umask 022`, which the session puts back after each request.
    let umask = match config.devstack {
        true => "0022".to_string(),
        false => process_umask(),
    };
    s.extend(quote(umask.as_bytes()));
    s.push(b' ');
    s.extend(quote(user_name().as_bytes()));
    s.push(b'\n');
    for (name, value) in &config.vars {
        check_var_name(name)?;
        s.extend_from_slice(b"__hh_conf ");
        s.extend(quote(name.as_bytes()));
        s.push(b' ');
        s.extend(quote_checked(
            value.as_bytes(),
            &format!("the value of {name}"),
        )?);
        s.push(b'\n');
    }
    s.extend_from_slice(b"HOOKHOST_STATE_DIR=");
    s.extend(quote_checked(
        state_dir.as_os_str().as_bytes(),
        "the state directory",
    )?);
    s.push(b'\n');
    s.extend_from_slice(if config.dry_run {
        b"__hh_dry_run=1\n"
    } else {
        b"__hh_dry_run=0\n"
    });
    s.extend_from_slice(if config.devstack {
        b"__hh_tree=1\n"
    } else {
        b"__hh_tree=0\n"
    });
    s.extend(without_comment_lines(HELPERS_SH));
    if config.dry_run {
        s.push(b'\n');
        s.extend(without_comment_lines(DRYRUN_SH));
    }
    s.extend_from_slice(b"\n((__hh_conf_failed == 0))");
    Ok(s)
}

/// `script` with its comment lines emptied (not removed: line numbers stay):
/// bash reads and parses every byte it is given, and much of the session's
/// own scripts is comments, parsed at every run's start-up. A line is a
/// comment when its first non-blank character is `#`; the scripts hold no
/// multi-line strings or here-documents where that would change a value
/// (the tests compare every function and variable defined both ways).
fn without_comment_lines(script: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(script.len());
    for line in script.split_inclusive('\n') {
        if line.trim_start().starts_with('#') {
            out.push(b'\n');
        } else {
            out.extend_from_slice(line.as_bytes());
        }
    }
    out
}

/// This process's umask, as `umask` prints it, read from /proc (asking
/// the kernel with umask(2) would change it for a moment under the other
/// threads). Hooks start with it, as they would under a plain shell.
fn process_umask() -> String {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|l| l.strip_prefix("Umask:").map(|m| m.trim().to_string()))
        })
        .unwrap_or_else(|| "0022".to_string())
}

/// The effective user's login name (DevStack's `STACK_USER` default, which
/// it takes from `id -un`); the numeric id when it has no name.
fn user_name() -> String {
    // SAFETY: geteuid has no preconditions.
    let uid = unsafe { libc::geteuid() };
    let mut buf = vec![0u8; 4096];
    // SAFETY: an all-zero passwd is a valid value of this plain C struct.
    let mut entry: libc::passwd = unsafe { std::mem::zeroed() };
    let mut found: *mut libc::passwd = std::ptr::null_mut();
    // SAFETY: every pointer is valid for the call and `buf` outlives the
    // use of `entry`'s strings, which point into it.
    let rc = unsafe {
        libc::getpwuid_r(
            uid,
            &mut entry,
            buf.as_mut_ptr().cast(),
            buf.len(),
            &mut found,
        )
    };
    if rc == 0 && !found.is_null() && !entry.pw_name.is_null() {
        // SAFETY: pw_name is a NUL-terminated string inside `buf`.
        let name = unsafe { std::ffi::CStr::from_ptr(entry.pw_name) };
        return name.to_string_lossy().into_owned();
    }
    std::env::var("USER").unwrap_or_else(|_| uid.to_string())
}

/// Restores what else a hook may have changed (session.sh's `__hh_post`):
/// after the markers and the variable sync, so the host goes on while
/// bash restores.
const RESTORE_LINE: &[u8] = b"\\__hh_post\n";

/// One request: name it, run the body, quiet the session, print markers.
/// The marker line is parsed only after the body returned. The restore
/// follows separately ([`RESTORE_LINE`]), after the variable sync where
/// there is one.
fn request_script(label: &str, body: &[u8], token: &Token) -> Vec<u8> {
    // Clears the mailbox's copies of the script first (see mailbox.rs).
    let mut s = b"__hh_b= __hh_current=".to_vec();
    s.extend(quote(label.as_bytes()));
    s.push(b'\n');
    s.extend_from_slice(body);
    s.push(b'\n');
    s.extend_from_slice(protocol::block("quiet").as_bytes());
    s.push(b'\n');
    s.extend_from_slice(b"\\__hh_end ");
    s.extend(quote(token.as_str().as_bytes()));
    s.push(b'\n');
    s
}

/// A query: one of the session's own functions (`__hh_q_*`), which change
/// nothing a hook could notice, so no restore follows it, and whose reply
/// ends it (no end markers).
fn query_script(body: &[u8]) -> Vec<u8> {
    let mut s = b"__hh_b=\n".to_vec();
    s.extend_from_slice(body);
    s.push(b'\n');
    s
}

/// bash names the session's own code after its script, `/dev/stdin`; in a
/// line for the operator that name means nothing. `/dev/stdin: line N: msg`
/// (an error at the session line that sourced a hook or called a function)
/// becomes `<label>: msg`, naming the hook or call; a frame of DevStack's
/// backtrace, `/dev/stdin:N:FUNC`, becomes `hookhost:FUNC`.
pub(crate) fn session_frames<'a>(line: &'a str, label: &str) -> std::borrow::Cow<'a, str> {
    const NAME: &str = "/dev/stdin";
    if !line.contains(NAME) {
        return std::borrow::Cow::Borrowed(line);
    }
    let digits = |s: &str| s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let mut out = String::with_capacity(line.len());
    let mut rest = line;
    while let Some(at) = rest.find(NAME) {
        out.push_str(&rest[..at]);
        let after = &rest[at + NAME.len()..];
        if let Some(tail) = after.strip_prefix(": line ") {
            let n = digits(tail);
            if n > 0 && tail[n..].starts_with(": ") {
                out.push_str(label);
                out.push_str(": ");
                rest = &tail[n + 2..];
                continue;
            }
        }
        if let Some(tail) = after.strip_prefix(':') {
            let n = digits(tail);
            if n > 0 && tail[n..].starts_with(':') {
                out.push_str("hookhost:");
                rest = &tail[n + 1..];
                continue;
            }
        }
        out.push_str("hookhost");
        rest = after;
    }
    out.push_str(rest);
    std::borrow::Cow::Owned(out)
}

/// Join already-quoted words with spaces.
fn words(parts: &[&[u8]]) -> Vec<u8> {
    parts.join(&b' ')
}

fn push_args(body: &mut Vec<u8>, args: &[&str]) -> Result<()> {
    for arg in args {
        body.push(b' ');
        body.extend(quote_checked(arg.as_bytes(), "an argument")?);
    }
    Ok(())
}

fn check_var_name(name: &str) -> Result<()> {
    if !framing::is_var_name(name) {
        bail!("'{name}' is not a valid variable name");
    }
    Ok(())
}

fn absolute(path: &Path, what: &str) -> Result<PathBuf> {
    std::path::absolute(path)
        .with_context(|| format!("cannot resolve the {what} {}", path.display()))
}

/// "exit status 3" / "killed by signal 9", for messages.
fn describe(ended: &Outcome) -> String {
    match ended {
        Outcome::SessionEnded {
            signal: Some(signal),
            ..
        } => format!("killed by signal {signal}"),
        Outcome::SessionEnded {
            status: Some(status),
            ..
        } => format!("exit status {status}"),
        _ => "ended".to_string(),
    }
}
