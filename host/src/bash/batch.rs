//! Sourcing several consecutive bash hooks in one round trip.
//!
//! [`BashSession::source_hook`] sends one request and waits for its end
//! markers: per hook, bash and hookhost each wait for the other once.
//!
//! [`BashSession::source_hooks`] puts the requests of a run of hooks,
//! exactly as `source_hook` would send them one by one (each hook followed
//! by the session restore and its own end markers with a fresh token), into
//! one script that bash gets in one go (see `mailbox`), then reads the
//! markers in order. So every hook still gets its own output, status and
//! timing, and bash runs the same commands; the waiting per hook goes.
//!
//! Like the requests one by one, the batch stops where bash exits (`exit`,
//! errexit): the hooks after it never ran, and the caller learns how many
//! did.

use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use anyhow::{bail, Result};

use super::framing::{quote_checked, LineSplitter, Token};
use super::{push_args, request_script, BashSession, Outcome, Reply, Stream, RESTORE_LINE};

/// One hook of a batch: its path (relative to TOP_DIR or absolute) and
/// DevStack's arguments for the phase.
pub struct BatchHook<'a> {
    pub path: &'a Path,
    pub args: &'a [&'a str],
}

impl BashSession {
    /// Source `hooks` in one round trip. `out(i, stream, line)` gets hook
    /// `i`'s lines as they arrive; `done(i, outcome)` is called as soon as
    /// hook `i` ended, in order. Returns how many hooks ran (got `done`):
    /// fewer than `hooks.len()` only when one ended the session. A hook
    /// path that is not a file refuses the whole batch before it starts.
    pub fn source_hooks(
        &mut self,
        hooks: &[BatchHook],
        out: &mut dyn FnMut(usize, Stream, &str),
        done: &mut dyn FnMut(usize, &Outcome),
    ) -> Result<usize> {
        self.ensure_alive()?;
        let mut script = Vec::new();
        let mut tokens = Vec::with_capacity(hooks.len());
        let mut labels = Vec::with_capacity(hooks.len());
        for hook in hooks {
            let path = self.top_dir.join(hook.path);
            if !path.is_file() {
                bail!("hook {} is not a file", path.display());
            }
            let mut body = b"builtin source ".to_vec();
            body.extend(quote_checked(path.as_os_str().as_bytes(), "the hook path")?);
            push_args(&mut body, hook.args)?;
            let token = Token::new()?;
            if !tokens.is_empty() {
                script.extend_from_slice(RESTORE_LINE);
            }
            let label = self.label(&path);
            script.extend(request_script(&label, &body, &token));
            labels.push(label);
            tokens.push(token);
        }
        if tokens.is_empty() {
            return Ok(0);
        }
        // The last hook's restore waits for the sync: the host goes on as
        // soon as it has the markers and the variables.
        let sync = self.append_sync(&mut script)?;
        script.extend_from_slice(RESTORE_LINE);
        self.deliver(script);
        for (index, token) in tokens.iter().enumerate() {
            let outcome = self.await_hook(index, &labels[index], &token.needle(), out)?;
            done(index, &outcome);
            if matches!(outcome, Outcome::SessionEnded { .. }) {
                return Ok(index + 1);
            }
        }
        if let Some(token) = sync {
            self.finish_sync(&token)?;
        }
        Ok(hooks.len())
    }

    /// Read hook `index`'s output up to its end markers (or until bash
    /// exits), handing it to `out` line by line.
    fn await_hook(
        &mut self,
        index: usize,
        label: &str,
        needle: &[u8],
        out: &mut dyn FnMut(usize, Stream, &str),
    ) -> Result<Outcome> {
        let mut splitters: [LineSplitter; 2] = Default::default();
        let mut out = |i: usize, s: Stream, l: &str| out(i, s, &super::session_frames(l, label));
        let mut sink = |s: Stream, bytes: &[u8]| {
            splitters[s.index()].push(bytes, &mut |l| out(index, s, l));
        };
        // Output a query left behind goes to the first hook, as with
        // `source_hook`.
        for (stream, bytes) in std::mem::take(&mut self.stray) {
            sink(stream, &bytes);
        }
        let reply = self.await_markers(needle, &mut sink)?;
        for stream in Stream::BOTH {
            splitters[stream.index()].finish(&mut |l| out(index, stream, l));
        }
        Ok(match reply {
            Reply::Done(0) => Outcome::Success,
            Reply::Done(status) => Outcome::Failed { status },
            Reply::Ended(ended) => ended,
        })
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;
    use crate::bash::SessionConfig;

    fn session(dir: &Path, errexit: bool) -> BashSession {
        BashSession::start(&SessionConfig {
            errexit,
            ..SessionConfig::new(dir)
        })
        .unwrap()
    }

    fn hooks(dir: &Path, scripts: &[&str]) -> Vec<PathBuf> {
        scripts
            .iter()
            .enumerate()
            .map(|(i, script)| {
                let path = dir.join(format!("{i}.sh"));
                std::fs::write(&path, script).unwrap();
                path
            })
            .collect()
    }

    /// What one hook of a batch did: its lines ("out:" / "err:") and outcome.
    type Seen = (Vec<String>, Option<Outcome>);

    /// Run a batch: how many hooks ran, and what each did.
    fn run(session: &mut BashSession, paths: &[PathBuf], args: &[&str]) -> (usize, Vec<Seen>) {
        let batch: Vec<BatchHook> = paths
            .iter()
            .map(|p| BatchHook {
                path: p.as_path(),
                args,
            })
            .collect();
        let mut seen = vec![(Vec::new(), None); paths.len()];
        let ran = {
            let seen = std::cell::RefCell::new(&mut seen);
            session
                .source_hooks(
                    &batch,
                    &mut |i, s, l| {
                        let tag = if s == Stream::Stdout { "out" } else { "err" };
                        seen.borrow_mut()[i].0.push(format!("{tag}:{l}"));
                    },
                    &mut |i, o| seen.borrow_mut()[i].1 = Some(o.clone()),
                )
                .unwrap()
        };
        (ran, seen)
    }

    #[test]
    fn each_hook_gets_its_own_output_and_status_and_state_carries_over() {
        let dir = tempfile::tempdir().unwrap();
        let paths = hooks(
            dir.path(),
            &[
                "echo one $1 $2; X=from-first\n",
                "echo two $X >&2; set -u; cd /; return 3\n",
                "echo three $PWD ${UNSET_IS_FINE-ok}\n",
            ],
        );
        let mut session = session(dir.path(), false);
        let (ran, seen) = run(&mut session, &paths, &["stack", "install"]);
        assert_eq!(ran, 3);
        assert_eq!(seen[0].0, ["out:one stack install"]);
        assert_eq!(seen[0].1, Some(Outcome::Success));
        assert_eq!(seen[1].0, ["err:two from-first"]);
        assert_eq!(seen[1].1, Some(Outcome::Failed { status: 3 }));
        // The session was restored between hooks: cwd and options.
        let top = std::path::absolute(dir.path()).unwrap();
        assert_eq!(seen[2].0, [format!("out:three {} ok", top.display())]);
        assert_eq!(session.get_var("X").unwrap().as_deref(), Some("from-first"));
        session.close().unwrap();
    }

    #[test]
    fn a_hook_that_ends_bash_ends_the_batch_there() {
        let dir = tempfile::tempdir().unwrap();
        let paths = hooks(
            dir.path(),
            &["echo first\n", "false\necho not-reached\n", "echo never\n"],
        );
        let mut session = session(dir.path(), true);
        let (ran, seen) = run(&mut session, &paths, &["stack", "install"]);
        assert_eq!(ran, 2, "{seen:?}");
        assert_eq!(seen[0].1, Some(Outcome::Success));
        assert!(
            matches!(seen[1].1, Some(Outcome::SessionEnded { .. })),
            "{seen:?}"
        );
        assert!(seen[1].0.iter().any(|l| l.contains("'false' failed")));
        assert!(seen[2].0.is_empty() && seen[2].1.is_none());
    }

    #[test]
    fn errexit_names_the_failing_command_file_and_line_and_no_file_is_left() {
        let dir = tempfile::tempdir().unwrap();
        let paths = hooks(
            dir.path(),
            &["echo ok\n", "true\nfalse\necho not-reached\n"],
        );
        let mut session = session(dir.path(), true);
        let mailbox = session.mailbox.as_ref().unwrap().dir().to_path_buf();
        assert!(mailbox.is_dir());
        let (_, seen) = run(&mut session, &paths, &["stack", "install"]);
        assert!(
            seen[1]
                .0
                .iter()
                .any(|l| l.contains("'false' failed with status 1 at 1.sh line 2")),
            "{seen:?}"
        );
        drop(session);
        assert!(!mailbox.exists(), "the session left {}", mailbox.display());
    }

    #[test]
    fn an_unreadable_request_file_or_one_that_does_not_parse_ends_the_session() {
        let dir = tempfile::tempdir().unwrap();
        for (script, says) in [
            (&b"echo ran\nif then fi (\n"[..], "a request did not parse"),
            (b"echo never\n", "cannot read the request"),
        ] {
            let mut session = session(dir.path(), false);
            let token = Token::new().unwrap();
            let mailbox = session.mailbox.as_mut().unwrap();
            if says.contains("cannot read") {
                // The request byte comes, the request is not there.
                session.bash.send(b"m").unwrap();
            } else {
                let byte = mailbox.post(script).unwrap();
                session.bash.send(byte).unwrap();
            }
            let mut lines = Vec::new();
            let outcome = session
                .await_hook(0, "x", &token.needle(), &mut |_, _, l| {
                    lines.push(l.to_string())
                })
                .unwrap();
            let ended = Outcome::SessionEnded {
                status: Some(70),
                signal: None,
            };
            assert_eq!(outcome, ended, "{lines:?}");
            assert!(lines.iter().any(|l| l.contains(says)), "{lines:?}");
            assert!(!lines.iter().any(|l| l.contains("never")), "{lines:?}");
        }
    }

    #[test]
    fn without_a_mailbox_a_long_script_and_much_output_go_through_the_pipe() {
        // 400 requests (~100 KB of script) down the pipe while the hooks
        // print 1 KB each: bash blocks on full output pipes before it has
        // read the script, so the host must read while it writes.
        let dir = tempfile::tempdir().unwrap();
        let line = "x".repeat(1023);
        let paths = hooks(dir.path(), &[&format!("echo {line}; echo \"$1\" >&2\n")]);
        let mut session = session(dir.path(), false);
        session.mailbox = None;
        let batch: Vec<BatchHook> = (0..400)
            .map(|_| BatchHook {
                path: &paths[0],
                args: &["stack"],
            })
            .collect();
        let mut lines = 0;
        let ran = session
            .source_hooks(
                &batch,
                &mut |_, s, l| {
                    lines += 1;
                    let want = if s == Stream::Stdout {
                        line.as_str()
                    } else {
                        "stack"
                    };
                    assert_eq!(l, want);
                },
                &mut |_, o| assert_eq!(o, &Outcome::Success),
            )
            .unwrap();
        assert_eq!((ran, lines), (400, 800));
        assert_eq!(session.get_var("HOME").unwrap(), std::env::var("HOME").ok());
        session.close().unwrap();
    }

    #[test]
    fn a_missing_hook_refuses_the_batch_before_anything_runs() {
        let dir = tempfile::tempdir().unwrap();
        let mut paths = hooks(dir.path(), &["touch ran\n"]);
        paths.push(dir.path().join("missing.sh"));
        let mut session = session(dir.path(), false);
        let batch: Vec<BatchHook> = paths
            .iter()
            .map(|p| BatchHook { path: p, args: &[] })
            .collect();
        let err = session
            .source_hooks(&batch, &mut |_, _, _| {}, &mut |_, _| {})
            .unwrap_err();
        assert!(err.to_string().contains("missing.sh"), "{err}");
        assert!(!dir.path().join("ran").exists());
        session.close().unwrap();
    }
}
