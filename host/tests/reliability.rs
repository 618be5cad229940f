//! Reliability through the real binary: hooks that try to break the bash
//! session, signals, a run killed mid-hook, two runs on one stack, and
//! disks that are read-only or full. Each is reported against the right
//! hook and phase, later hooks see the shell state they should, and no run
//! hangs: every hookhost started here is killed by a watchdog after
//! [`LIMIT`] and the test fails.

mod support;

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{channel, Receiver};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use support::TestStack;

/// No hookhost started by these tests may run longer than this.
const LIMIT: Duration = Duration::from_secs(60);

/// A started hookhost: its stdout arrives line by line, stderr is
/// collected; the watchdog bounds it.
struct Live {
    child: Child,
    lines: Receiver<String>,
    seen: Vec<String>,
    stderr: Arc<Mutex<Vec<u8>>>,
    started: Instant,
}

/// How a hookhost run ended.
struct Ended {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

impl Ended {
    fn all(&self) -> String {
        format!("--- stdout\n{}\n--- stderr\n{}", self.stdout, self.stderr)
    }

    #[track_caller]
    fn code(&self, code: i32) -> &Ended {
        assert_eq!(self.code, Some(code), "exit status\n{}", self.all());
        self.no_panic()
    }

    #[track_caller]
    fn no_panic(&self) -> &Ended {
        for bad in ["panicked at", "RUST_BACKTRACE", "stack backtrace"] {
            assert!(!self.stderr.contains(bad), "a panic\n{}", self.all());
        }
        self
    }

    #[track_caller]
    fn out_has(&self, text: &str) -> &Ended {
        assert!(
            self.stdout.contains(text),
            "stdout lacks {text:?}\n{}",
            self.all()
        );
        self
    }

    #[track_caller]
    fn out_lacks(&self, text: &str) -> &Ended {
        assert!(
            !self.stdout.contains(text),
            "stdout has {text:?}\n{}",
            self.all()
        );
        self
    }

    #[track_caller]
    fn err_has(&self, text: &str) -> &Ended {
        assert!(
            self.stderr.contains(text),
            "stderr lacks {text:?}\n{}",
            self.all()
        );
        self
    }

    /// The `TRACE ...` lines hooks printed, without the prefix.
    fn trace(&self) -> Vec<String> {
        self.stdout
            .lines()
            .filter_map(|l| l.split_once("TRACE ").map(|(_, t)| t.trim().to_string()))
            .collect()
    }
}

impl Live {
    /// Start `hookhost ARGS --top STACK`, its stdin an open pipe nobody
    /// writes to (a hook reading hookhost's stdin would block on it).
    fn start(stack: &TestStack, args: &[&str]) -> Live {
        let mut child = Command::new(env!("CARGO_BIN_EXE_hookhost"))
            .args(args)
            .arg("--top")
            .arg(stack.top())
            .env("NO_COLOR", "1")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start hookhost");
        let stdout = child.stdout.take().unwrap();
        let (tx, lines) = channel();
        std::thread::spawn(move || {
            let mut reader = std::io::BufReader::new(stdout);
            let mut line = Vec::new();
            while let Ok(n) = std::io::BufRead::read_until(&mut reader, b'\n', &mut line) {
                if n == 0
                    || tx
                        .send(String::from_utf8_lossy(&line).into_owned())
                        .is_err()
                {
                    break;
                }
                line.clear();
            }
        });
        let stderr = Arc::new(Mutex::new(Vec::new()));
        let mut pipe = child.stderr.take().unwrap();
        let sink = stderr.clone();
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = pipe.read(&mut buf) {
                if n == 0 {
                    break;
                }
                sink.lock().unwrap().extend_from_slice(&buf[..n]);
            }
        });
        Live {
            child,
            lines,
            seen: Vec::new(),
            stderr,
            started: Instant::now(),
        }
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Wait for a stdout line containing `marker` (within the watchdog's limit).
    fn wait_for(&mut self, marker: &str) {
        while self.started.elapsed() < LIMIT {
            match self.lines.recv_timeout(Duration::from_millis(50)) {
                Ok(line) => {
                    let found = line.contains(marker);
                    self.seen.push(line);
                    if found {
                        return;
                    }
                }
                // stdout closed: hookhost ended without printing it.
                Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => break,
                Err(_) => {}
            }
        }
        self.kill_tree();
        let stderr = String::from_utf8_lossy(&self.stderr.lock().unwrap()).into_owned();
        panic!("no {marker:?}; stdout: {:?}\nstderr: {stderr}", self.seen);
    }

    fn signal(&self, signal: &str) {
        let status = Command::new("kill")
            .args([&format!("-{signal}"), &self.pid().to_string()])
            .status()
            .expect("run kill");
        assert!(status.success());
    }

    /// Wait for the exit; past the limit, kill everything and fail.
    fn finish(mut self) -> Ended {
        loop {
            if self.child.try_wait().unwrap().is_some() {
                break;
            }
            if self.started.elapsed() > LIMIT {
                self.kill_tree();
                panic!(
                    "hookhost hung: killed after {LIMIT:?}; stdout: {:?}",
                    self.seen
                );
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        let code = self.child.wait().unwrap().code();
        // The readers end when hookhost's pipes close (a background process
        // of a hook holds its own pipe to the bash session, not these).
        let mut stdout = self.seen.join("");
        while let Ok(line) = self.lines.recv_timeout(Duration::from_secs(2)) {
            stdout.push_str(&line);
        }
        std::thread::sleep(Duration::from_millis(50));
        let stderr = String::from_utf8_lossy(&self.stderr.lock().unwrap()).into_owned();
        Ended {
            code,
            stdout,
            stderr,
        }
    }

    fn kill_tree(&mut self) {
        for pid in descendants(self.pid()) {
            kill(pid, 9);
        }
        let _ = self.child.kill();
    }
}

/// Run hookhost to its end, bounded by the watchdog.
fn run(stack: &TestStack, args: &[&str]) -> Ended {
    Live::start(stack, args).finish()
}

/// `hookhost status --json` of a stack.
fn status(stack: &TestStack) -> serde_json::Value {
    let ended = run(stack, &["status", "--json"]);
    ended.code(0);
    serde_json::from_str(ended.stdout.trim()).unwrap_or_else(|e| panic!("{e}: {}", ended.all()))
}

fn kill(pid: u32, signal: i32) {
    // SAFETY: kill(2) has no memory-safety preconditions.
    unsafe {
        libc::kill(pid as libc::pid_t, signal);
    }
}

/// Every process below `root`, from /proc.
fn descendants(root: u32) -> Vec<u32> {
    let parents: Vec<(u32, u32)> = std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter_map(|e| {
            let pid: u32 = e.file_name().to_str()?.parse().ok()?;
            let stat = std::fs::read_to_string(e.path().join("stat")).ok()?;
            let ppid = stat[stat.rfind(')')? + 1..]
                .split_whitespace()
                .nth(1)?
                .parse()
                .ok()?;
            Some((pid, ppid))
        })
        .collect();
    let mut found = Vec::new();
    let mut queue = vec![root];
    while let Some(parent) = queue.pop() {
        for &(pid, _) in parents.iter().filter(|(_, p)| *p == parent) {
            found.push(pid);
            queue.push(pid);
        }
    }
    found
}

/// Pids of processes whose command line contains `text`.
fn processes_running(text: &str) -> Vec<u32> {
    std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter_map(|e| {
            let pid: u32 = e.file_name().to_str()?.parse().ok()?;
            let cmdline = std::fs::read(e.path().join("cmdline")).ok()?;
            let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
            cmdline.contains(text).then_some(pid)
        })
        .collect()
}

/// Kill what a test left running (background processes of its hooks).
fn kill_all(text: &str) {
    for pid in processes_running(text) {
        kill(pid, 9);
    }
}

fn tracer(stem: &str) -> String {
    format!("echo \"TRACE {stem} $*\"\n")
}

// ---------------------------------------------------------------- exit

#[test]
fn exit_in_stack_stops_the_run_at_that_hook_and_phase() {
    let stack = TestStack::new();
    stack
        .bash("10-first.sh", &tracer("10-first"))
        .bash(
            "20-exit.sh",
            "if [[ $2 == install ]]; then echo about-to-exit; exit 3; fi\n",
        )
        .bash("30-after.sh", &tracer("30-after"));
    let ended = run(&stack, &["stack"]);
    ended
        .code(1)
        .err_has("error: hook 20-exit (bash) failed in `stack install`")
        .err_has("exit status 3")
        .err_has("use `return N`, not `exit N`")
        .err_has("| about-to-exit")
        .out_lacks("TRACE 30-after stack install");
    assert!(ended
        .trace()
        .contains(&"30-after stack pre-install".to_string()));
    let status = status(&stack);
    assert_eq!(status["status"], "failed");
    assert_eq!(
        status["stopped_at"],
        "at the failure of 20-exit (bash) in `stack install`"
    );
}

/// `break` at a hook's top level would end the loop that runs the hooks
/// (DevStack skipped the rest of its extras.d silently): the hook fails,
/// named, with advice; in `unstack` the hooks after it still run.
#[test]
fn a_stray_break_fails_that_hook_with_advice_and_skips_nothing_silently() {
    let stack = TestStack::new();
    stack
        .bash("10-first.sh", &tracer("10-first"))
        .bash("20-break.sh", "echo breaking\nbreak\necho not-reached\n")
        .bash("30-after.sh", &tracer("30-after"));
    run(&stack, &["stack"])
        .code(1)
        .err_has("error: hook 20-break (bash) failed in `source`")
        .err_has("20-break.sh ran `break` or `continue` outside a loop")
        .err_has("to leave the hook early use `return`")
        .out_lacks("not-reached")
        .out_lacks("TRACE 30-after");
    let ended = run(&stack, &["unstack"]);
    ended
        .code(1)
        .err_has("hook 20-break (bash) failed in `unstack`")
        .out_lacks("not-reached");
    assert!(ended.trace().contains(&"30-after unstack".to_string()));
}

/// After a hook ends the session in `unstack`/`clean`, the session is
/// started again: later hooks run, with local.conf's variables, the
/// helpers, and what earlier hooks' `source` defined (it is replayed, and
/// the failure says so).
#[test]
fn exit_in_unstack_and_clean_restarts_the_session_and_later_hooks_run() {
    let stack = TestStack::new();
    stack
        .write("local.conf", "[[local|localrc]]\nCONF_VAR=from-local-conf\n")
        .bash(
            "10-first.sh",
            "[[ $1 == source ]] && FIRST_VAR=defined\necho \"TRACE 10-first $*\"\n",
        )
        .bash(
            "20-exit.sh",
            "if [[ $1 == unstack || $1 == clean ]]; then echo \"exiting in $1\"; exit 3; fi\n",
        )
        .bash(
            "30-after.sh",
            "echo \"TRACE 30-after $* conf=$CONF_VAR first=${FIRST_VAR-unset} helper=$(type -t is_service_enabled)\"\n",
        );
    let ended = run(&stack, &["clean"]);
    ended
        .code(1)
        .err_has("error: hook 20-exit (bash) failed in `unstack`")
        .err_has("error: hook 20-exit (bash) failed in `clean`")
        .err_has("every bash hook's `source` were run again")
        .out_has("clean finished with 2 failure(s)");
    assert_eq!(
        ended.trace(),
        [
            "10-first source",
            "30-after source conf=from-local-conf first=defined helper=function",
            "10-first unstack",
            "30-after unstack conf=from-local-conf first=defined helper=function",
            "10-first clean",
            "30-after clean conf=from-local-conf first=defined helper=function",
        ],
        "{}",
        ended.all()
    );
    let status = status(&stack);
    assert_eq!(status["status"], "failed");
    assert_eq!(status["failures"], 2);
}

// ---------------------------------------------------------------- exec

#[test]
fn exec_of_another_program_is_a_failure_of_that_hook_in_every_entry() {
    let stack = TestStack::new();
    stack
        .bash(
            "20-exec.sh",
            "if [[ $2 == install || $1 == unstack ]]; then exec /bin/echo \"replaced in $*\"; fi\n",
        )
        .bash("30-after.sh", &tracer("30-after"));
    run(&stack, &["stack"])
        .code(1)
        .out_has("[20-exec] replaced in stack install")
        .err_has("error: hook 20-exec (bash) failed in `stack install`")
        .err_has("ended the bash session (exit status 0)")
        .out_lacks("TRACE 30-after stack install");
    let ended = run(&stack, &["unstack"]);
    ended
        .code(1)
        .out_has("[20-exec] replaced in unstack")
        .err_has("error: hook 20-exec (bash) failed in `unstack`");
    assert_eq!(ended.trace(), ["30-after source", "30-after unstack"]);
}

// ------------------------------------------------ set, traps, IFS, cwd

/// What a hook sees of the shell's settings, as one line.
const SHOW_STATE: &str = r#"echo "STATE $* opts=$- ifs=$(printf %q "$IFS") pwd=$PWD umask=$(umask) traps=$(trap -p | tr '\n' ';') glob=$(echo /et?) shellopts=$SHELLOPTS unset=${NOT_DEFINED_ANYWHERE}."
"#;

#[test]
fn set_options_traps_ifs_cwd_and_umask_do_not_leak_into_later_hooks() {
    let stack = TestStack::new();
    stack
        .bash("10-before.sh", SHOW_STATE)
        .bash(
            "20-breaker.sh",
            r#"set -u -o pipefail -o noglob -o xtrace +o errexit
shopt -s nullglob expand_aliases
trap 'echo TRAP-EXIT-FIRED' EXIT
trap 'echo TRAP-ERR-FIRED' ERR
trap 'echo TRAP-DEBUG' DEBUG
IFS=:
cd /
umask 077
alias echo='printf hijacked'
"#,
        )
        .bash("30-after.sh", SHOW_STATE);
    for entry in ["stack", "clean"] {
        let ended = run(&stack, &[entry]);
        ended.code(0);
        // Aliases stay defined (bash has no way to list only new ones) but
        // are not expanded in later hooks.
        for line in ended.stdout.lines().filter(|l| l.contains("hijacked")) {
            assert!(line.starts_with("[20-breaker] "), "{line}\n{}", ended.all());
        }
        // The breaker's traps fire in the breaker only (its DEBUG trap on
        // its own commands), never in a later hook or at the session's end.
        for line in ended.stdout.lines().filter(|l| l.contains("TRAP-")) {
            assert!(line.starts_with("[20-breaker] "), "{line}\n{}", ended.all());
            assert!(
                !line.ends_with("] TRAP-EXIT-FIRED"),
                "{line}\n{}",
                ended.all()
            );
        }
        let states: Vec<&str> = ended
            .stdout
            .lines()
            .filter_map(|l| l.split_once("STATE ").map(|(_, s)| s))
            .collect();
        assert_eq!(states.len() % 2, 0, "{}", ended.all());
        // Each phase: the hook after the breaker sees what the one before saw.
        for pair in states.chunks(2) {
            assert_eq!(pair[0], pair[1], "{entry}:\n{}", ended.all());
        }
        let top = stack.top().canonicalize().unwrap();
        assert!(states[0].contains(&format!("pwd={} ", top.display())));
        assert!(states[0].contains("glob=/etc "), "{}", states[0]);
        assert!(states[0].contains("ifs=$' \\t\\n'"), "{}", states[0]);
    }
}

// ---------------------------------------------------------------- stdin

#[test]
fn hooks_reading_stdin_get_end_of_file_not_the_operators_terminal() {
    let stack = TestStack::new();
    stack
        .bash(
            "20-reader.sh",
            "if read -r line; then r=0; else r=$?; fi; echo \"read=$r line=[$line]\"\ncat; echo \"cat=$?\"\nhead -c 10; echo \"TRACE 20-reader $*\"\n",
        )
        .bash("30-after.sh", &tracer("30-after"));
    // Live::start leaves hookhost's stdin an open pipe: reading it would block.
    for entry in ["stack", "clean"] {
        let ended = run(&stack, &[entry]);
        ended
            .code(0)
            .out_has("[20-reader] read=1 line=[]")
            .out_has("[20-reader] cat=0");
        let last = if entry == "stack" {
            "stack extra"
        } else {
            "clean"
        };
        assert!(
            ended.trace().contains(&format!("30-after {last}")),
            "{}",
            ended.all()
        );
    }
}

// ------------------------------------------------- background processes

#[test]
fn a_background_process_holding_stdout_hangs_neither_the_run_nor_the_next() {
    let stack = TestStack::new();
    stack
        .bash(
            "20-daemon.sh",
            "sleep 47.1 &\nsleep 47.1 >&2 &\necho \"started $*\"\n",
        )
        .bash(
            "25-exit-with-child.sh",
            "if [[ $1 == unstack ]]; then sleep 47.1 & exit 4; fi\n",
        )
        .bash("30-after.sh", &tracer("30-after"));
    let ended = run(&stack, &["stack"]);
    ended.code(0).out_has("[20-daemon] started stack extra");
    assert!(ended.trace().contains(&"30-after stack extra".to_string()));
    // The daemons still hold the old session's pipes; they hold no lock.
    assert!(!processes_running("sleep 47.1").is_empty());
    let ended = run(&stack, &["clean"]);
    ended
        .code(1)
        .err_has("error: hook 25-exit-with-child (bash) failed in `unstack`")
        .err_has("exit status 4");
    assert!(ended.trace().contains(&"30-after clean".to_string()));
    kill_all("sleep 47.1");
}

// -------------------------------------------------- invalid UTF-8, binary

#[test]
fn invalid_utf8_and_binary_output_is_shown_and_logged_and_json_stays_valid() {
    let stack = TestStack::new();
    stack
        .bash(
            "20-binary.sh",
            "printf 'bad \\xff\\xfe bytes\\n'\nhead -c 4096 /dev/urandom\necho\nprintf 'nul \\x00 and \\x1b[31m escape\\n'\nprintf 'no newline at the end'\n",
        )
        .bash(
            "30-fails.sh",
            "if [[ $1 == unstack ]]; then printf 'last words \\xc3\\x28\\n' >&2; return 5; fi\n",
        )
        .bash("40-after.sh", &tracer("40-after"));
    let ended = run(&stack, &["unstack", "--json"]);
    ended.code(1);
    let events: Vec<serde_json::Value> = ended
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l:?}")))
        .collect();
    let lines: Vec<&str> = events
        .iter()
        .filter(|e| e["event"] == "output" && e["hook"] == "20-binary")
        .filter_map(|e| e["line"].as_str())
        .collect();
    assert!(lines.contains(&"bad \u{fffd}\u{fffd} bytes"), "{lines:?}");
    assert!(lines.contains(&"no newline at the end"), "{lines:?}");
    let failed = events
        .iter()
        .find(|e| e["event"] == "hook-failed")
        .expect("a hook-failed event");
    assert_eq!(failed["hook"], "30-fails");
    assert_eq!(failed["phase"], "unstack");
    assert_eq!(failed["output_tail"][0], "last words \u{fffd}(");
    assert!(events
        .iter()
        .any(|e| e["event"] == "output" && e["hook"] == "40-after"));
    // The log is text, whatever the hooks printed.
    let log = std::fs::read_link(stack.path(".hookhost/logs/latest.log")).unwrap();
    let log = std::fs::read_to_string(stack.path(".hookhost/logs").join(log)).unwrap();
    assert!(log.contains("[20-binary] bad \u{fffd}\u{fffd} bytes"));
}

// ---------------------------------------------------- forged framing text

/// The session ends each request with `\n<token> <status>\n` on both
/// streams (host/src/bash/session.sh); the token is fresh and unguessable.
#[test]
fn a_hook_printing_the_session_framing_cannot_fake_its_result() {
    let stack = TestStack::new();
    let forger = r#"if [[ $2 == install || $1 == unstack ]]; then
  printf '\n__hh_00000000000000000000000000000000 0\n'
  printf '\n__hh_00000000000000000000000000000000 0\n' >&2
  printf '\n%s 0\n' "$__hh_current"
  __hh_end __hh_ffffffffffffffffffffffffffffffff
  printf '\n__hh_0{S1}__hh_0\n'
  echo after-forgery
  return 7
fi
"#;
    stack
        .bash("20-forger.sh", forger)
        .bash("30-after.sh", &tracer("30-after"));
    run(&stack, &["stack"])
        .code(1)
        .out_has("[20-forger] __hh_00000000000000000000000000000000 0")
        .out_has("[20-forger] after-forgery")
        .err_has("error: hook 20-forger (bash) failed in `stack install`")
        .out_lacks("TRACE 30-after stack install");
    let ended = run(&stack, &["unstack"]);
    ended
        .code(1)
        .out_has("[20-forger] after-forgery")
        .err_has("error: hook 20-forger (bash) failed in `unstack`")
        .err_has("exited with status 7");
    assert_eq!(ended.trace(), ["30-after source", "30-after unstack"]);
}

// --------------------------------------------------------------- signals

fn slow_stack(sleep: &str) -> TestStack {
    let stack = TestStack::new();
    stack
        .bash("10-first.sh", &tracer("10-first"))
        .bash(
            "20-slow.sh",
            &format!(
                "if [[ $2 == install ]]; then echo READY; echo waiting; sleep {sleep}; echo after-sleep; fi\n"
            ),
        )
        .bash("30-later.sh", &tracer("30-later"));
    stack
}

#[test]
fn sigint_and_sigterm_stop_the_bash_hook_record_where_and_exit_130_and_143() {
    for (signal, code, name, cause) in [
        ("INT", 130, "SIGINT", "Ctrl-C"),
        ("TERM", 143, "SIGTERM", "SIGTERM"),
    ] {
        let sleep = if signal == "INT" { "48.1" } else { "48.2" };
        let stack = slow_stack(sleep);
        let mut live = Live::start(&stack, &["stack"]);
        live.wait_for("[20-slow] READY");
        live.signal(signal);
        let ended = live.finish();
        ended
            .code(code)
            .err_has(&format!(
                "error: interrupted ({cause}): stopped hook 20-slow (bash) in `stack install`"
            ))
            .out_lacks("after-sleep")
            .out_lacks("TRACE 30-later stack install");
        assert!(
            processes_running(&format!("sleep {sleep}")).is_empty(),
            "the hook's sleep survived {name}"
        );
        let status = status(&stack);
        assert_eq!(status["status"], "interrupted", "{status}");
        assert_eq!(status["signal"], name);
        assert_eq!(
            status["stopped_at"],
            format!("{name} stopped hook 20-slow (bash) in `stack install`")
        );
        let last = status["steps"].as_array().unwrap().last().unwrap().clone();
        assert_eq!(last["hook"], "20-slow");
        assert_eq!(last["status"], "interrupted");
        // The log has it all, up to the interruption.
        let log = std::fs::read_to_string(status["log"].as_str().unwrap()).unwrap();
        assert!(log.contains(&format!("interrupted ({cause})")), "{log}");
        // What comes after works.
        std::fs::write(stack.path("extras.d/20-slow.sh"), "true\n").unwrap();
        run(&stack, &["unstack"]).code(0);
        run(&stack, &["clean"]).code(0);
        assert_eq!(last_status(&stack), "ok");
    }
}

fn last_status(stack: &TestStack) -> String {
    status(stack)["status"].as_str().unwrap().to_string()
}

#[test]
fn sigterm_stops_a_spinning_wasm_hook() {
    let stack = TestStack::new();
    let manifest = "[capabilities]\nvars-read = [\"HOSTILE_*\"]\ntimeout = \"10m\"\n";
    stack
        .bash("10-ready.sh", "echo READY\n")
        .wasm("20-spin", "hostile", Some(manifest))
        .write(
            "hookhost.toml",
            "[grants.spin]\nvars-read = [\"HOSTILE_*\"]\ntimeout = \"10m\"\n",
        )
        .write(
            "local.conf",
            "[[local|localrc]]\nHOSTILE_ATTACK=loop\nHOSTILE_PHASE=\"stack install\"\n",
        );
    let mut live = Live::start(&stack, &["stack", "--verbose"]);
    live.wait_for("--> 20-spin (wasm) stack install");
    std::thread::sleep(Duration::from_millis(300));
    live.signal("TERM");
    live.finish()
        .code(143)
        .err_has("error: interrupted (SIGTERM): stopped hook 20-spin (wasm) in `stack install`");
    let status = status(&stack);
    assert_eq!(status["status"], "interrupted");
    assert_eq!(
        status["stopped_at"],
        "SIGTERM stopped hook 20-spin (wasm) in `stack install`"
    );
    run(&stack, &["clean"]).code(0);
}

// ------------------------------------------ a killed run, a second run

#[test]
fn a_run_killed_mid_hook_leaves_no_stuck_lock_and_status_says_where_it_was() {
    let stack = slow_stack("49.3");
    let mut live = Live::start(&stack, &["stack"]);
    live.wait_for("[20-slow] READY");
    live.signal("KILL");
    let ended = live.finish();
    assert_eq!(ended.code, None, "SIGKILL leaves no exit status");
    // The killed run's session died with it; the sleep it ran is an orphan now.
    kill_all("sleep 49.3");
    let status = status(&stack);
    assert_eq!(status["status"], "unfinished", "{status}");
    assert_eq!(
        status["stopped_at"],
        "during 20-slow (bash) in `stack install` (it never ended)"
    );
    assert_eq!(status["skipped_lines"], 0);
    let text = run(&stack, &["status"]);
    text.code(0)
        .out_has("did not finish: hookhost stopped without recording an end");
    assert!(
        text.stdout.lines().any(|l| l.starts_with("stack install")
            && l.contains("20-slow (bash)")
            && l.ends_with("RUNNING")),
        "{}",
        text.all()
    );
    // The kernel released the lock with the process.
    std::fs::write(stack.path("extras.d/20-slow.sh"), "true\n").unwrap();
    run(&stack, &["unstack"]).code(0);
    assert_eq!(last_status(&stack), "ok");
}

/// Whether process `pid` is alive (a zombie is not: it runs nothing).
fn alive(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => stat
            .rsplit_once(')')
            .is_some_and(|(_, rest)| !rest.trim_start().starts_with('Z')),
        Err(_) => false,
    }
}

/// Wait (bounded by the watchdog's limit) until `pid` is gone; false if it
/// never was.
fn gone_within_limit(pid: u32) -> bool {
    let started = Instant::now();
    while started.elapsed() < LIMIT {
        if !alive(pid) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    false
}

#[test]
fn kill_9_of_hookhost_ends_its_bash_session_and_the_lock_names_it() {
    let stack = TestStack::new();
    stack.bash(
        "20-slow.sh",
        "if [[ $2 == install ]]; then echo $$ > \"$TOP_DIR/session.pid\"; echo READY; sleep 151.3; echo after; fi\n",
    );
    // The hook outlasts the wait below: only its being killed ends bash in time.
    let mut live = Live::start(&stack, &["stack"]);
    live.wait_for("[20-slow] READY");
    let session: u32 = std::fs::read_to_string(stack.path("session.pid"))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    assert_ne!(session, live.pid());
    assert!(alive(session));
    // While the run lives, its lock names the session, so that a later run
    // can wait for it.
    let lock = std::fs::read_to_string(stack.path(".hookhost/run.lock")).unwrap();
    let holder: serde_json::Value = serde_json::from_str(lock.trim()).unwrap();
    assert_eq!(holder["session"]["pid"], session, "{lock}");
    live.signal("KILL");
    assert_eq!(live.finish().code, None);
    let ended = gone_within_limit(session);
    if !ended {
        kill(session, 9);
    }
    kill_all("sleep 151.3");
    assert!(ended, "the bash session outlived a kill -9 of hookhost");
    std::fs::write(stack.path("extras.d/20-slow.sh"), "true\n").unwrap();
    run(&stack, &["unstack"]).code(0);
}

#[test]
fn kill_9_of_hookhost_ends_a_command_a_plugin_is_running() {
    let stack = TestStack::new();
    stack.write("long.sh", "echo $$ > \"$1\"\nexec sleep 153.6\n");
    let marker = stack.path("command.pid");
    let caps = "vars-read = [\"HOSTILE_*\"]\ncommands = [\"bash * *\"]\n";
    stack.wasm(
        "50-hostile",
        "hostile",
        Some(&format!("[capabilities]\n{caps}")),
    );
    stack.write("hookhost.toml", &format!("[grants.\"50-hostile\"]\n{caps}"));
    stack.write(
        "local.conf",
        &format!(
            "[[local|localrc]]\nHOSTILE_ATTACK=run\nHOSTILE_CMD=\"bash {} {}\"\n",
            stack.path("long.sh").display(),
            marker.display()
        ),
    );
    // The command outlasts the wait below: only its being killed ends it in time.
    let mut live = Live::start(&stack, &["stack"]);
    let started = Instant::now();
    while !marker.exists() && started.elapsed() < LIMIT {
        std::thread::sleep(Duration::from_millis(20));
    }
    let text = std::fs::read_to_string(&marker).unwrap_or_default();
    let Ok(command) = text.trim().parse::<u32>() else {
        live.kill_tree();
        panic!("the plugin's command never started: {text:?}");
    };
    live.signal("KILL");
    assert_eq!(live.finish().code, None);
    let ended = gone_within_limit(command);
    kill_all("sleep 153.6");
    assert!(ended, "a plugin's command outlived a kill -9 of hookhost");
}

#[test]
fn a_run_waits_for_the_last_runs_session_and_refuses_while_it_lives() {
    let stack = TestStack::new();
    stack.bash("10-marker.sh", "touch \"$TOP_DIR/ran-$1\"\n");
    // A session that was not killed with its hookhost (one from before
    // sessions were tied to it): a process the lock names as the session.
    let mut leftover = Command::new("sleep").arg("52.4").spawn().unwrap();
    let pid = leftover.id();
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let start: u64 = stat
        .rsplit_once(')')
        .unwrap()
        .1
        .split_whitespace()
        .nth(19)
        .unwrap()
        .parse()
        .unwrap();
    std::fs::create_dir_all(stack.path(".hookhost")).unwrap();
    std::fs::write(
        stack.path(".hookhost/run.lock"),
        serde_json::json!({"pid": 1, "entry": "stack", "since": "2026-01-01 00:00:00",
            "run": "old", "session": {"pid": pid, "start": start}})
        .to_string(),
    )
    .unwrap();
    let refused = run(&stack, &["unstack"]);
    let _ = leftover.kill();
    let _ = leftover.wait();
    refused.code(2).err_has(&format!(
        "error: the bash session of an earlier hookhost run (pid {pid}, `hookhost stack` since 2026-01-01 00:00:00 UTC) is still running; stop it (`kill {pid}`)"
    ));
    assert!(
        !stack.path("ran-unstack").exists(),
        "the refused run ran a hook"
    );
    // Once it is gone (the same pid with another start time is not it), the run goes on.
    run(&stack, &["unstack"]).code(0);
    assert!(stack.path("ran-unstack").exists());
}

#[test]
fn a_second_run_on_the_same_stack_is_refused_naming_the_holder() {
    let stack = slow_stack("50.7");
    stack.bash("15-marker.sh", "touch \"$TOP_DIR/ran-$1\"\n");
    let mut live = Live::start(&stack, &["stack"]);
    live.wait_for("[20-slow] READY");
    std::fs::remove_file(stack.path("ran-source")).unwrap();
    let second = run(&stack, &["unstack"]);
    second.code(2).err_has(&format!(
        "error: another hookhost run is using this stack (pid {}, `hookhost stack`, since ",
        live.pid()
    ));
    assert!(
        second.stderr.contains(".hookhost/run.lock"),
        "{}",
        second.all()
    );
    assert!(
        !stack.path("ran-source").exists(),
        "the refused run ran a hook"
    );
    // Read-only commands still work while the stack is in use.
    let status = status(&stack);
    assert_eq!(status["status"], "running");
    assert_eq!(status["pid"], live.pid());
    assert_eq!(status["stopped_at"], serde_json::Value::Null);
    let now = status["now"].as_str().unwrap();
    assert!(
        now.starts_with("at 20-slow (bash) in stack install for "),
        "{now}"
    );
    run(&stack, &["plan", "clean"]).code(0);
    live.signal("TERM");
    live.finish().code(143);
    run(&stack, &["unstack"]).code(0);
}

// ------------------------------------------- read-only and full disks

/// A directory that is read-only for hookhost: a read-only tmpfs mounted
/// on it when running as root (root ignores permission bits), else mode
/// 0555. None when neither is possible here.
struct Mounted {
    path: PathBuf,
    mounted: bool,
}

impl Mounted {
    fn read_only(path: &Path) -> Option<Mounted> {
        std::fs::create_dir_all(path).unwrap();
        if !is_root() {
            set_mode(path, 0o555);
            return Some(Mounted {
                path: path.to_path_buf(),
                mounted: false,
            });
        }
        Mounted::tmpfs(path, "ro,size=64k")
    }

    /// A tiny tmpfs (a disk that fills up), root only.
    fn small(path: &Path, size: &str) -> Option<Mounted> {
        std::fs::create_dir_all(path).unwrap();
        if !is_root() {
            return None;
        }
        Mounted::tmpfs(path, &format!("size={size}"))
    }

    fn tmpfs(path: &Path, options: &str) -> Option<Mounted> {
        let ok = Command::new("mount")
            .args(["-t", "tmpfs", "-o", options, "tmpfs"])
            .arg(path)
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !ok {
            eprintln!("note: cannot mount a tmpfs here (no CAP_SYS_ADMIN); skipped");
            return None;
        }
        Some(Mounted {
            path: path.to_path_buf(),
            mounted: true,
        })
    }
}

impl Drop for Mounted {
    fn drop(&mut self) {
        if self.mounted {
            let _ = Command::new("umount").arg("-l").arg(&self.path).status();
        } else {
            set_mode(&self.path, 0o755);
        }
    }
}

fn is_root() -> bool {
    // SAFETY: geteuid(2) cannot fail and touches no memory.
    unsafe { libc::geteuid() == 0 }
}

fn set_mode(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

fn marker_stack() -> TestStack {
    let stack = TestStack::new();
    stack.bash(
        "10-marker.sh",
        "touch \"$TOP_DIR/ran\"\necho \"TRACE marker $*\"\n",
    );
    stack
}

#[test]
fn a_read_only_state_directory_is_a_clear_error_and_nothing_runs() {
    let stack = marker_stack();
    let Some(_ro) = Mounted::read_only(&stack.path(".hookhost")) else {
        return;
    };
    let ended = run(&stack, &["stack"]);
    ended.code(2).err_has(&format!(
        "error: cannot open the run lock {}",
        stack
            .top()
            .canonicalize()
            .unwrap()
            .join(".hookhost/run.lock")
            .display()
    ));
    assert!(
        ended.stderr.contains("Read-only file system")
            || ended.stderr.contains("Permission denied"),
        "{}",
        ended.all()
    );
    assert_eq!(ended.stderr.lines().count(), 1, "{}", ended.all());
    assert!(!stack.path("ran").exists());
    run(&stack, &["status"]).code(0).out_has("no run recorded");
}

#[test]
fn a_log_file_in_a_read_only_directory_is_a_clear_error_recorded_in_the_journal() {
    let stack = marker_stack();
    let dir = tempfile::tempdir().unwrap();
    let Some(_ro) = Mounted::read_only(&dir.path().join("ro")) else {
        return;
    };
    let log = dir.path().join("ro/logs/run.log");
    let ended = run(&stack, &["stack", "--log", log.to_str().unwrap()]);
    ended.code(2).err_has(&format!(
        "error: cannot create the log directory {}",
        log.parent().unwrap().display()
    ));
    assert!(!stack.path("ran").exists());
    let status = status(&stack);
    assert_eq!(status["status"], "refused");
    let text = run(&stack, &["status"]);
    text.out_has("refused before any hook ran: cannot create the log directory");
}

/// `/dev/full` answers every write with ENOSPC, as a full disk does.
#[test]
fn a_log_on_a_full_disk_is_reported_at_the_end_and_the_run_goes_on() {
    let stack = marker_stack();
    let ended = run(&stack, &["stack", "--log", "/dev/full"]);
    ended.code(0).out_has("TRACE marker stack extra").err_has(
        "warning: the log /dev/full is incomplete: writing it failed: No space left on device",
    );
    assert!(stack.path("ran").exists());
}

#[test]
fn a_full_disk_under_the_journal_refuses_the_run_naming_the_journal() {
    let stack = marker_stack();
    let state = stack.path(".hookhost");
    let Some(_disk) = Mounted::small(&state, "64k") else {
        return;
    };
    // The lock file keeps its page; everything else is taken.
    std::fs::write(state.join("run.lock"), "x".repeat(100)).unwrap();
    fill(&state.join("filler"));
    let ended = run(&stack, &["stack"]);
    ended.code(2).err_has(&format!(
        "error: cannot write the state journal {}",
        stack
            .top()
            .canonicalize()
            .unwrap()
            .join(".hookhost/journal.jsonl")
            .display()
    ));
    ended.err_has("No space left on device");
    assert!(!stack.path("ran").exists());
}

#[test]
fn a_disk_that_fills_up_during_the_run_is_reported_at_the_end() {
    let stack = marker_stack();
    // Enough steps after the disk fills to need more than the journal's last page.
    for n in 0..10 {
        stack.bash(&format!("3{n}-talker.sh"), &tracer("talker"));
    }
    let state = stack.path(".hookhost");
    let Some(_disk) = Mounted::small(&state, "256k") else {
        return;
    };
    stack.bash(
        "20-filler.sh",
        "if [[ $2 == install ]]; then head -c 1M /dev/zero > \"$TOP_DIR/.hookhost/filler\" 2>/dev/null || echo filled; fi\n\
         for i in $(seq 200); do echo \"line $i of a hook that talks a lot\"; done\n",
    );
    let ended = run(&stack, &["stack"]);
    ended
        .code(0)
        .out_has("TRACE marker stack extra")
        .err_has("is incomplete: writing it failed: No space left on device")
        .err_has("warning: the state journal ");
    // What was written before the disk filled is whole and readable.
    let status = status(&stack);
    assert_eq!(status["status"], "unfinished");
    assert_eq!(status["steps"][0]["hook"], "10-marker");
}

/// Fill the file system holding `path` (writes until ENOSPC).
fn fill(path: &Path) {
    use std::io::Write;
    let mut file = std::fs::File::create(path).unwrap();
    let block = vec![0u8; 4096];
    while file.write_all(&block).is_ok() {}
}

// --------------------------------------------------------------- journal

#[test]
fn the_journal_records_driver_calls_and_refusals() {
    let stack = TestStack::new();
    let driver = "install_nova_hypervisor() { echo installing; return 1; }\n\
                  configure_nova_hypervisor() { :; }\nstart_nova_hypervisor() { :; }\n\
                  stop_nova_hypervisor() { :; }\ncleanup_nova_hypervisor() { :; }\n";
    stack
        .bash("10-first.sh", &tracer("10-first"))
        .write("lib/nova_plugins/hypervisor-x", driver)
        .write("local.conf", "[[local|localrc]]\nVIRT_DRIVER=x\n");
    run(&stack, &["stack"]).code(1);
    let status = status(&stack);
    assert_eq!(status["status"], "failed");
    let failed: Vec<&serde_json::Value> = status["steps"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["status"] == "failed")
        .collect();
    assert_eq!(failed.len(), 1, "{status}");
    assert_eq!(failed[0]["hook"], "hypervisor-x:install_nova_hypervisor");
    assert_eq!(failed[0]["phase"], "stack install");
    assert!(
        failed[0]["reason"]
            .as_str()
            .unwrap()
            .contains("install_nova_hypervisor"),
        "{status}"
    );
    // A refused run is the last run too, with why.
    stack.write("local.conf", "[[local|localrc]]\nVIRT_DRIVER=x\nBAD=\"\n");
    run(&stack, &["unstack"]).code(2);
    let refused = self::status(&stack);
    assert_eq!(refused["status"], "refused");
    assert_eq!(refused["entry"], "unstack");
    let text = run(&stack, &["status"]);
    text.code(0).out_has("refused before any hook ran: ");
    assert!(text.stdout.contains("local.conf:3:"), "{}", text.all());
    assert!(
        text.stdout
            .contains(&stack.top().canonicalize().unwrap().display().to_string()),
        "{}",
        text.all()
    );
}
