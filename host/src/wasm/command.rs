//! Running a command a plugin was granted: bounded output, bounded time.
//!
//! The command runs without a shell, in its own process group, with an
//! environment of `PATH` and the locale only (the host's other variables
//! may hold secrets the plugin was not granted). At the plugin's deadline
//! the whole group is killed, so a command that forked (`sh -c 'sleep 1d'`)
//! cannot outlive the limit either; if hookhost itself is killed, the
//! kernel kills the command.

use std::io::Read;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{channel, Receiver};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

/// What a granted command returned (each WIT version's `command-output`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CommandOutput {
    pub status: i32,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
}

/// The most output kept per stream of a command.
const MAX_OUTPUT: u64 = 1 << 20;
/// The host variables a command inherits.
const KEPT_ENV: [&str; 4] = ["PATH", "LANG", "LC_ALL", "TZ"];
/// How long output may still arrive after the command exited (from a
/// process that left its group and holds the pipes).
const DRAIN: Duration = Duration::from_millis(200);
/// `PATH` when the host has none.
const DEFAULT_PATH: &str = "/usr/local/bin:/usr/bin:/bin:/usr/local/sbin:/usr/sbin:/sbin";

/// What `--dry-run` records instead of running, as the bash helpers do for
/// a hook: `sudo ARGS` (kind `sudo`, recorded as ARGS) and a program that is
/// not on `PATH` (kind `undefined`). Anything else runs, dry run or not.
pub fn not_run_in_dry_run(program: &str, args: &[String]) -> Option<(&'static str, String)> {
    if program == "sudo" {
        return Some(("sudo", shell_words(args)));
    }
    let found = match program.contains('/') {
        true => Path::new(program).is_file(),
        false => search_path().any(|dir| dir.join(program).is_file()),
    };
    let mut all = vec![program.to_string()];
    all.extend_from_slice(args);
    (!found).then(|| ("undefined", shell_words(&all)))
}

/// The directories a command is looked up in: the host's `PATH`, as the
/// command gets it.
fn search_path() -> impl Iterator<Item = PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_else(|| DEFAULT_PATH.into());
    std::env::split_paths(&path).collect::<Vec<_>>().into_iter()
}

/// `words` as a shell would need them written, space-separated.
fn shell_words(words: &[String]) -> String {
    let quote = |word: &String| {
        let plain = !word.is_empty()
            && word
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_./=:,+@%".contains(&b));
        match plain {
            true => word.clone(),
            false => format!("'{}'", word.replace('\'', "'\\''")),
        }
    };
    words.iter().map(quote).collect::<Vec<_>>().join(" ")
}

/// Why a command gave no output.
#[derive(Debug, PartialEq, Eq)]
pub enum Failure {
    /// It was still running at the deadline and was killed.
    TimedOut,
    /// It could not be started or waited for: the plugin gets this message.
    Error(String),
}

/// Run `program args`, killed (with everything it started) at `deadline`.
pub fn run(program: &str, args: &[String], deadline: Instant) -> Result<CommandOutput, Failure> {
    if Instant::now() >= deadline {
        return Err(Failure::TimedOut);
    }
    let mut command = Command::new(program);
    command
        .args(args)
        .env_clear()
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0);
    for name in KEPT_ENV {
        if let Some(value) = std::env::var_os(name) {
            command.env(name, value);
        }
    }
    if std::env::var_os("PATH").is_none() {
        command.env("PATH", DEFAULT_PATH);
    }
    crate::interrupt::die_with_hookhost(&mut command);
    let mut child = command
        .spawn()
        .map_err(|e| Failure::Error(format!("cannot run {program}: {e}")))?;
    let (done, finished) = channel();
    let stdout = reader(child.stdout.take(), done.clone());
    let stderr = reader(child.stderr.take(), done);
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if Instant::now() >= deadline => {
                kill_group(&mut child);
                return Err(Failure::TimedOut);
            }
            Ok(None) => thread::sleep(Duration::from_millis(2)),
            Err(e) => return Err(Failure::Error(format!("cannot wait for {program}: {e}"))),
        }
    };
    // A background process the command left may still hold the pipes:
    // the group is killed so the readers see the end.
    kill_group(&mut child);
    wait_readers(&finished, Instant::now() + DRAIN);
    Ok(CommandOutput {
        status: status.code().unwrap_or(-1),
        stdout: take(&stdout),
        stderr: take(&stderr),
    })
}

/// Wait until both readers saw the end of their pipe, or `until`.
fn wait_readers(finished: &Receiver<()>, until: Instant) {
    for _ in 0..2 {
        let left = until.saturating_duration_since(Instant::now());
        if finished.recv_timeout(left).is_err() {
            return;
        }
    }
}

fn take(buffer: &Arc<Mutex<Vec<u8>>>) -> Vec<u8> {
    std::mem::take(&mut *buffer.lock().unwrap_or_else(|e| e.into_inner()))
}

/// Kill the command's process group and reap the command.
fn kill_group(child: &mut Child) {
    // SAFETY: kill(2) on the group the child leads (its pid is the pgid,
    // from `process_group(0)`); no memory is involved.
    unsafe {
        libc::kill(-(child.id() as libc::pid_t), libc::SIGKILL);
    }
    let _ = child.kill();
    let _ = child.wait();
}

/// Read a pipe into a shared buffer (up to [`MAX_OUTPUT`], the rest is
/// drained so the child never blocks); signal `done` at its end.
fn reader<R: Read + Send + 'static>(
    pipe: Option<R>,
    done: std::sync::mpsc::Sender<()>,
) -> Arc<Mutex<Vec<u8>>> {
    let buffer = Arc::new(Mutex::new(Vec::new()));
    let kept = buffer.clone();
    thread::spawn(move || {
        if let Some(mut pipe) = pipe {
            let mut chunk = [0u8; 16 * 1024];
            loop {
                match pipe.read(&mut chunk) {
                    Ok(0) => break,
                    Ok(n) => {
                        let mut kept = kept.lock().unwrap_or_else(|e| e.into_inner());
                        let room = (MAX_OUTPUT as usize).saturating_sub(kept.len());
                        kept.extend_from_slice(&chunk[..n.min(room)]);
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                    Err(_) => break,
                }
            }
        }
        let _ = done.send(());
    });
    buffer
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_dry_run_keeps_back_sudo_and_missing_programs_only() {
        let words = |w: &[&str]| w.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            not_run_in_dry_run("sudo", &words(&["mkdir", "-p", "/opt/a b", "it's"])),
            Some(("sudo", "mkdir -p '/opt/a b' 'it'\\''s'".to_string()))
        );
        assert_eq!(
            not_run_in_dry_run("no-such-tool-hh", &words(&["x"])),
            Some(("undefined", "no-such-tool-hh x".to_string()))
        );
        assert_eq!(
            not_run_in_dry_run("/no/such/tool", &[]),
            Some(("undefined", "/no/such/tool".to_string()))
        );
        assert_eq!(not_run_in_dry_run("true", &[]), None);
        assert_eq!(not_run_in_dry_run("/bin/sh", &words(&[""])), None);
    }

    fn soon(ms: u64) -> Instant {
        Instant::now() + Duration::from_millis(ms)
    }

    #[test]
    fn output_and_status_come_back() {
        let out = run(
            "sh",
            &["-c".into(), "echo hi; echo err >&2; exit 3".into()],
            soon(5000),
        )
        .unwrap();
        assert_eq!(out.status, 3);
        assert_eq!(out.stdout, b"hi\n");
        assert_eq!(out.stderr, b"err\n");
    }

    #[test]
    fn the_host_environment_is_not_passed_on() {
        // SAFETY: set before the child is spawned; other tests of this
        // module do not read it.
        unsafe { std::env::set_var("HOOKHOST_TEST_SECRET", "s3cret") };
        let out = run("sh", &["-c".into(), "env".into()], soon(5000)).unwrap();
        let env = String::from_utf8_lossy(&out.stdout);
        assert!(!env.contains("s3cret"), "{env}");
        assert!(env.contains("PATH="), "{env}");
    }

    #[test]
    fn a_command_and_what_it_forked_die_at_the_deadline() {
        let started = Instant::now();
        let result = run(
            "sh",
            &["-c".into(), "sleep 30 & sleep 30; echo never".into()],
            soon(300),
        );
        assert_eq!(result.unwrap_err(), Failure::TimedOut);
        assert!(started.elapsed() < Duration::from_secs(5));
    }

    #[test]
    fn a_missing_program_is_an_error_for_the_plugin() {
        let err = run("/nonexistent/prog", &[], soon(1000)).unwrap_err();
        assert!(
            matches!(&err, Failure::Error(m) if m.contains("cannot run /nonexistent/prog")),
            "{err:?}"
        );
    }
}
