//! The capability sandbox, attacked: `plugins/hostile` (built from source)
//! tries, one attack per test, to get what it was not granted. Each test
//! asserts the denial, that the host stayed healthy (the next hook of the
//! sequence runs, or `stack` stops cleanly) and that no file outside the
//! plugin's write grant changed — hashed over the whole stack and a sibling
//! directory outside it, before and after.
//!
//! Layout of each test: `<root>/stack` (the stack: `files/` granted
//! read-write, `ro/` read-only, `private.txt` not granted) beside
//! `<root>/outside/secret.txt`. Hooks: `10-before.sh` (defines a variable
//! and two slow functions in `source`), `50-hostile.wasm`, `60-after.sh`
//! (prints what it sees).

mod support;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use support::{Run, TestStack};

const BEFORE: &str = r#"if [[ $1 == source ]]; then
    KEPT=kept-from-source
    spin() { while :; do :; done; }
    sleeper() { sleep 30; }
    stubborn() { trap '' INT; while :; do :; done; }
fi
echo "BEFORE $*"
"#;

const AFTER: &str = r#"echo "AFTER $* KEPT=${KEPT-} ADMIN_PASSWORD=${ADMIN_PASSWORD-}"
"#;

/// A stack with the hostile plugin, beside a directory outside it.
struct Arena {
    stack: TestStack,
    root: tempfile::TempDir,
}

impl Arena {
    /// `extra` is TOML for `[capabilities]` that the manifest requests and
    /// the operator grants; `operator` goes under the plugin's grants only.
    fn new(extra: &str, operator: &str) -> Arena {
        let (root, stack) = TestStack::beside_outside();
        stack
            .write("files/data.txt", "data\n")
            .write("ro/readme.txt", "read me\n")
            .write("private.txt", "private\n")
            .bash("10-before.sh", BEFORE)
            .bash("60-after.sh", AFTER);
        std::os::unix::fs::symlink(root.path().join("outside"), stack.path("files/link-out"))
            .unwrap();
        std::os::unix::fs::symlink("../../outside/secret.txt", stack.path("files/secret-link"))
            .unwrap();
        let caps =
            format!("vars-read = [\"HOSTILE_*\"]\nread = [\"ro\"]\nwrite = [\"files\"]\n{extra}");
        stack.wasm(
            "50-hostile",
            "hostile",
            Some(&format!("[capabilities]\n{caps}")),
        );
        stack.write(
            "hookhost.toml",
            &format!("[grants.\"50-hostile\"]\n{caps}{operator}"),
        );
        Arena { stack, root }
    }

    fn outside(&self) -> PathBuf {
        self.root.path().join("outside")
    }

    /// Put the attack's variables in local.conf, with the secret the
    /// plugin must not see.
    fn configure(&self, vars: &[(&str, &str)]) {
        let mut conf = String::from("[[local|localrc]]\nADMIN_PASSWORD=s3cret-pw\n");
        for (name, value) in vars {
            conf.push_str(&format!("{name}=\"{value}\"\n"));
        }
        self.stack.write("local.conf", &conf);
    }

    /// Run `entry` with the attack's variables.
    fn attack(&self, entry: &str, vars: &[(&str, &str)]) -> Run {
        self.configure(vars);
        self.stack.hookhost(&[entry])
    }

    /// Run the attack and check that nothing outside the write grant
    /// changed, and that hookhost itself did not panic.
    fn contained(&self, entry: &str, vars: &[(&str, &str)]) -> Run {
        self.configure(vars);
        let before = snapshot(self.root.path());
        let run = self.stack.hookhost(&[entry]);
        assert_host_did_not_panic(&run);
        let after = snapshot(self.root.path());
        assert_eq!(
            before,
            after,
            "files outside the grants changed\n{}",
            run.all()
        );
        run
    }
}

/// Every file, directory and symlink under `root` with its content, except
/// hookhost's own state (logs, data dirs) and the plugin's write grant.
fn snapshot(root: &Path) -> BTreeMap<String, String> {
    let mut seen = BTreeMap::new();
    walk(root, root, &mut seen);
    seen
}

fn walk(root: &Path, dir: &Path, seen: &mut BTreeMap<String, String>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir).unwrap().flatten().collect();
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let path = entry.path();
        let rel = path
            .strip_prefix(root)
            .unwrap()
            .to_string_lossy()
            .into_owned();
        let name = entry.file_name();
        if name == ".hookhost" || (name == "files" && dir != root) {
            continue;
        }
        let meta = std::fs::symlink_metadata(&path).unwrap();
        let what = if meta.file_type().is_symlink() {
            format!("link {}", std::fs::read_link(&path).unwrap().display())
        } else if meta.is_dir() {
            walk(root, &path, seen);
            "dir".to_string()
        } else {
            format!("file {:?}", std::fs::read(&path).unwrap())
        };
        seen.insert(rel, what);
    }
}

/// The plugin reported the attack refused, with `why` in the message.
#[track_caller]
fn assert_refused(run: &Run, why: &str) {
    let all = run.all();
    let line = all
        .lines()
        .find(|l| l.contains("HOSTILE "))
        .unwrap_or_else(|| panic!("the plugin reported nothing\n{all}"));
    assert!(
        line.contains("HOSTILE refused: "),
        "not refused: {line}\n{all}"
    );
    assert!(line.contains(why), "{line:?} lacks {why:?}\n{all}");
}

/// `unstack`: the sequence went on past the plugin to the next hook, which
/// saw the session's state intact.
#[track_caller]
fn assert_next_hook_ran(run: &Run) {
    run.assert_stdout_has("AFTER source KEPT=kept-from-source ADMIN_PASSWORD=s3cret-pw")
        .assert_stdout_has("AFTER unstack");
}

/// hookhost itself did not panic (the plugin's own panic text, prefixed
/// with its name, may be in the output).
#[track_caller]
fn assert_host_did_not_panic(run: &Run) {
    for line in run.all().lines() {
        if line.contains("panicked at") || line.contains("RUST_BACKTRACE") {
            assert!(
                line.contains("50-hostile") || line.contains("| "),
                "hookhost panicked\n{}",
                run.all()
            );
        }
    }
}

/// `stack`: the run stopped at the plugin, reporting it, without running
/// the next hook.
#[track_caller]
fn assert_stopped_cleanly(run: &Run, why: &str) {
    run.assert_code(1);
    run.assert_stderr_has("50-hostile");
    run.assert_stderr_has(why);
    assert!(!run.stdout.contains("AFTER source"), "{}", run.all());
}

// --- files -----------------------------------------------------------------

#[test]
fn reading_outside_the_grant_through_dotdot_is_refused() {
    let arena = Arena::new("", "");
    let path = "/stack/files/../../outside/secret.txt";
    let run = arena.contained(
        "unstack",
        &[("HOSTILE_ATTACK", "read"), ("HOSTILE_PATH", path)],
    );
    run.assert_code(0);
    assert_refused(&run, "read /stack/files/../../outside");
    assert!(!run.all().contains("outside-secret"), "{}", run.all());
    assert_next_hook_ran(&run);
    // `..` out of one grant into the stack itself, which is not granted.
    let run = arena.contained(
        "unstack",
        &[
            ("HOSTILE_ATTACK", "read"),
            ("HOSTILE_PATH", "/stack/ro/../private.txt"),
        ],
    );
    assert_refused(&run, "read /stack/ro/../private.txt");
}

#[test]
fn writing_outside_the_grant_through_dotdot_is_refused() {
    let arena = Arena::new("", "");
    let run = arena.contained(
        "unstack",
        &[
            ("HOSTILE_ATTACK", "write"),
            ("HOSTILE_PATH", "/stack/files/../../outside/planted.txt"),
        ],
    );
    assert_refused(&run, "write /stack/files/../../outside/planted.txt");
    assert!(!arena.outside().join("planted.txt").exists());
    assert_next_hook_ran(&run);
}

#[test]
fn absolute_host_paths_are_not_visible() {
    let arena = Arena::new("", "");
    let secret = arena.outside().join("secret.txt");
    let run = arena.contained(
        "unstack",
        &[
            ("HOSTILE_ATTACK", "read"),
            ("HOSTILE_PATH", secret.to_str().unwrap()),
        ],
    );
    assert_refused(&run, "read /");
    assert!(!run.all().contains("outside-secret"));
    let run = arena.contained(
        "unstack",
        &[("HOSTILE_ATTACK", "read"), ("HOSTILE_PATH", "/etc/passwd")],
    );
    assert_refused(&run, "read /etc/passwd");
    let target = arena.stack.path("planted.txt");
    let run = arena.contained(
        "unstack",
        &[
            ("HOSTILE_ATTACK", "write"),
            ("HOSTILE_PATH", target.to_str().unwrap()),
        ],
    );
    assert_refused(&run, "write /");
    assert_next_hook_ran(&run);
    // All the guest sees at its root: its grants.
    let run = arena.contained(
        "unstack",
        &[("HOSTILE_ATTACK", "list"), ("HOSTILE_PATH", "/stack")],
    );
    assert!(
        run.all().contains("HOSTILE got: list /stack: [files ro]")
            || run.all().contains("HOSTILE refused: list /stack"),
        "{}",
        run.all()
    );
}

#[test]
fn a_symlink_planted_in_the_grant_does_not_lead_out() {
    let arena = Arena::new("", "");
    for path in [
        "/stack/files/link-out/secret.txt",
        "/stack/files/secret-link",
    ] {
        let run = arena.contained(
            "unstack",
            &[("HOSTILE_ATTACK", "read"), ("HOSTILE_PATH", path)],
        );
        assert_refused(&run, &format!("read {path}"));
        assert!(!run.all().contains("outside-secret"), "{}", run.all());
        assert_next_hook_ran(&run);
    }
    let run = arena.contained(
        "unstack",
        &[
            ("HOSTILE_ATTACK", "write"),
            ("HOSTILE_PATH", "/stack/files/link-out/planted.txt"),
        ],
    );
    assert_refused(&run, "write /stack/files/link-out/planted.txt");
    assert!(!arena.outside().join("planted.txt").exists());
}

#[test]
fn a_read_only_grant_cannot_be_written() {
    let arena = Arena::new("", "");
    for path in ["/stack/ro/new.txt", "/stack/ro/readme.txt"] {
        let run = arena.contained(
            "unstack",
            &[("HOSTILE_ATTACK", "write"), ("HOSTILE_PATH", path)],
        );
        assert_refused(&run, &format!("write {path}"));
        assert_next_hook_ran(&run);
    }
    // Reading it works, and so does writing the read-write grant.
    let run = arena.contained(
        "unstack",
        &[
            ("HOSTILE_ATTACK", "read"),
            ("HOSTILE_PATH", "/stack/ro/readme.txt"),
        ],
    );
    run.assert_stdout_has("HOSTILE got: read /stack/ro/readme.txt: read me");
    arena.attack(
        "unstack",
        &[
            ("HOSTILE_ATTACK", "write"),
            ("HOSTILE_PATH", "/stack/files/new.txt"),
        ],
    );
    let written = std::fs::read_to_string(arena.stack.path("files/new.txt")).unwrap();
    assert_eq!(written, "pwned\n");
}

// --- variables --------------------------------------------------------------

#[test]
fn an_ungranted_variable_reads_as_unset() {
    let arena = Arena::new("", "");
    let run = arena.contained(
        "unstack",
        &[
            ("HOSTILE_ATTACK", "getvar"),
            ("HOSTILE_VAR", "ADMIN_PASSWORD"),
        ],
    );
    run.assert_code(0);
    assert_refused(&run, "ADMIN_PASSWORD reads as unset");
    // The secret is there for trusted bash hooks.
    assert_next_hook_ran(&run);
}

#[test]
fn an_ungranted_variable_cannot_be_set() {
    let arena = Arena::new("", "");
    let run = arena.contained(
        "unstack",
        &[
            ("HOSTILE_ATTACK", "setvar"),
            ("HOSTILE_VAR", "ADMIN_PASSWORD"),
        ],
    );
    assert_refused(
        &run,
        "may not set variable ADMIN_PASSWORD: not granted (vars-write)",
    );
    // 60-after still sees the original value.
    assert_next_hook_ran(&run);
}

// --- commands ---------------------------------------------------------------

#[test]
fn an_ungranted_command_is_refused() {
    let arena = Arena::new("commands = [\"echo hello *\"]\n", "");
    let marker = arena.outside().join("touched");
    let cmd = format!("touch {}", marker.display());
    let run = arena.contained(
        "unstack",
        &[("HOSTILE_ATTACK", "run"), ("HOSTILE_CMD", &cmd)],
    );
    assert_refused(&run, "may not run `touch ");
    assert_refused(&run, "not granted (commands)");
    assert!(!marker.exists());
    assert_next_hook_ran(&run);
}

#[test]
fn a_granted_command_with_ungranted_arguments_is_refused() {
    let arena = Arena::new("commands = [\"echo hello *\"]\n", "");
    for cmd in ["echo goodbye world", "echo hello two words", "echo hello"] {
        let run = arena.contained(
            "unstack",
            &[("HOSTILE_ATTACK", "run"), ("HOSTILE_CMD", cmd)],
        );
        assert_refused(&run, &format!("may not run `{cmd}`"));
        assert_next_hook_ran(&run);
    }
    // The granted pattern itself runs, and its output comes back.
    let run = arena.contained(
        "unstack",
        &[
            ("HOSTILE_ATTACK", "run"),
            ("HOSTILE_CMD", "echo hello world"),
        ],
    );
    run.assert_stdout_has("HOSTILE got: ran echo hello world: status 0 stdout \"hello world\"");
}

/// `--dry-run` treats a plugin's commands as the bash helpers treat a
/// hook's: `sudo` and programs that do not exist are recorded, not run;
/// anything else runs.
#[test]
fn a_dry_run_records_a_plugins_sudo_and_missing_commands_instead_of_running_them() {
    let arena = Arena::new(
        "commands = [\"sudo touch *\", \"no-such-tool-hh --flag *\", \"touch *\"]\n",
        "",
    );
    let by_sudo = arena.stack.path("files/by-sudo");
    let cmd = format!("sudo touch {}", by_sudo.display());
    arena.configure(&[("HOSTILE_ATTACK", "run"), ("HOSTILE_CMD", &cmd)]);
    let run = arena.stack.hookhost(&["stack", "--dry-run"]);
    run.assert_code(0)
        .assert_stdout_has("HOSTILE got: ran sudo touch")
        .assert_stdout_has("[50-hostile] dry run: not run (sudo): touch ");
    // The report's block of the hook's phase holds the record and its place.
    let block = support::dry_run_block(&run.stdout, "50-hostile", "source");
    assert!(
        block.contains(&format!(
            "sudo touch {}  [50-hostile run-command]",
            by_sudo.display()
        )),
        "{}",
        run.all()
    );
    assert!(!by_sudo.exists());

    let cmd = "no-such-tool-hh --flag x";
    arena.configure(&[("HOSTILE_ATTACK", "run"), ("HOSTILE_CMD", cmd)]);
    let run = arena.stack.hookhost(&["stack", "--dry-run"]);
    run.assert_code(0);
    let block = support::dry_run_block(&run.stdout, "50-hostile", "source");
    assert!(
        block.contains("no-such-tool-hh --flag x  [50-hostile run-command]"),
        "{}",
        run.all()
    );
    // Outside a dry run the same command fails, as it would anyway.
    let run = arena.stack.hookhost(&["stack"]);
    run.assert_stdout_has("HOSTILE refused: run no-such-tool-hh --flag x");

    let plain = arena.stack.path("files/plain");
    let cmd = format!("touch {}", plain.display());
    arena.configure(&[("HOSTILE_ATTACK", "run"), ("HOSTILE_CMD", &cmd)]);
    arena.stack.hookhost(&["stack", "--dry-run"]).assert_code(0);
    assert!(plain.exists(), "a command that exists runs in a dry run");
}

#[test]
fn a_granted_command_is_killed_at_the_time_limit() {
    let arena = Arena::new("commands = [\"sleep *\"]\ntimeout = \"500ms\"\n", "");
    let started = Instant::now();
    let run = arena.contained(
        "unstack",
        &[("HOSTILE_ATTACK", "run"), ("HOSTILE_CMD", "sleep 30")],
    );
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "{:?}",
        started.elapsed()
    );
    run.assert_code(1).assert_stderr_has(
        "ran past its time limit of 500ms in a host call (the command sleep 30 was stopped)",
    );
    assert_next_hook_ran(&run);
}

// --- network ----------------------------------------------------------------

/// A loopback listener for the test, not blocking.
fn loopback() -> (TcpListener, String) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    (listener, addr)
}

#[track_caller]
fn assert_no_connection(listener: &TcpListener) {
    match listener.accept() {
        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
        other => panic!("the listener got a connection: {other:?}"),
    }
}

#[test]
fn a_socket_without_a_net_grant_is_refused() {
    let (listener, addr) = loopback();
    let arena = Arena::new("", "");
    let run = arena.contained(
        "unstack",
        &[("HOSTILE_ATTACK", "connect"), ("HOSTILE_ADDR", &addr)],
    );
    assert_refused(&run, &format!("connect {addr}"));
    assert_no_connection(&listener);
    // A name cannot even be looked up.
    let run = arena.contained(
        "unstack",
        &[
            ("HOSTILE_ATTACK", "connect"),
            ("HOSTILE_ADDR", "localhost:80"),
        ],
    );
    assert_refused(&run, "look up localhost");
    assert_next_hook_ran(&run);
}

#[test]
fn a_net_grant_opens_only_its_endpoint() {
    let (listener, addr) = loopback();
    let (other, other_addr) = loopback();
    let arena = Arena::new(&format!("net = [\"{addr}\"]\n"), "");
    let run = arena.contained(
        "unstack",
        &[("HOSTILE_ATTACK", "connect"), ("HOSTILE_ADDR", &other_addr)],
    );
    assert_refused(&run, &format!("connect {other_addr}"));
    assert_no_connection(&other);
    let run = arena.contained(
        "unstack",
        &[("HOSTILE_ATTACK", "connect"), ("HOSTILE_ADDR", &addr)],
    );
    run.assert_stdout_has(&format!("HOSTILE got: connected to {addr}"));
    let (stream, _) = listener.accept().expect("the granted connection");
    stream.set_nonblocking(false).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let mut line = String::new();
    BufReader::new(stream).read_line(&mut line).unwrap();
    assert_eq!(line, "hello\n");
}

#[test]
fn an_ungranted_net_request_is_refused_with_the_flag_to_grant_it() {
    let arena = Arena::new("", "");
    arena.stack.write(
        "extras.d/50-hostile.toml",
        "[capabilities]\nvars-read = [\"HOSTILE_*\"]\nnet = [\"127.0.0.1:9\"]\n",
    );
    let run = arena.attack("stack", &[]);
    run.assert_code(2)
        .assert_stderr_has("net 127.0.0.1:9: add `net = [\"127.0.0.1:9\"]` under [grants.hostile]")
        .assert_stderr_has("--allow-net=127.0.0.1:9");
    // The flag grants it; a host-only grant covers every port.
    let run = arena
        .stack
        .hookhost(&["plan", "stack", "--allow-net=127.0.0.1"]);
    run.assert_code(0)
        .assert_stdout_has("granted  net 127.0.0.1:9");
}

// --- limits -----------------------------------------------------------------

#[test]
fn an_endless_loop_is_stopped_at_the_time_limit() {
    // The operator's grant sets the limit; the manifest asks for nothing.
    let arena = Arena::new("", "timeout = \"500ms\"\n");
    let started = Instant::now();
    let run = arena.contained("unstack", &[("HOSTILE_ATTACK", "loop")]);
    assert!(started.elapsed() < Duration::from_secs(15));
    run.assert_code(1)
        .assert_stderr_has("ran past its time limit of 500ms")
        .assert_stderr_has("raise it with `timeout` in the operator's grants");
    assert_next_hook_ran(&run);
    let run = arena.contained("stack", &[("HOSTILE_ATTACK", "loop")]);
    assert_stopped_cleanly(&run, "ran past its time limit of 500ms");
}

#[test]
fn a_shell_function_that_never_returns_is_stopped_and_the_session_lives_on() {
    let arena = Arena::new(
        "functions = [\"spin\", \"sleeper\"]\ntimeout = \"500ms\"\n",
        "",
    );
    for function in ["spin", "sleeper"] {
        let started = Instant::now();
        let run = arena.contained(
            "unstack",
            &[("HOSTILE_ATTACK", "call"), ("HOSTILE_FUNC", function)],
        );
        assert!(
            started.elapsed() < Duration::from_secs(15),
            "{:?}",
            started.elapsed()
        );
        run.assert_code(1).assert_stderr_has(&format!(
            "ran past its time limit of 500ms in a host call (the shell function {function} was stopped)"
        ));
        // The same session goes on: 60-after sees what 10-before set.
        assert_next_hook_ran(&run);
        assert!(!run.all().contains("was restarted"), "{}", run.all());
    }
    let run = arena.contained(
        "stack",
        &[("HOSTILE_ATTACK", "call"), ("HOSTILE_FUNC", "spin")],
    );
    assert_stopped_cleanly(&run, "the shell function spin was stopped");
}

#[test]
fn a_shell_function_that_ignores_the_interrupt_is_stopped_and_the_session_lives_on() {
    let arena = Arena::new("functions = [\"stubborn\"]\ntimeout = \"500ms\"\n", "");
    let started = Instant::now();
    let run = arena.contained(
        "unstack",
        &[("HOSTILE_ATTACK", "call"), ("HOSTILE_FUNC", "stubborn")],
    );
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "{:?}",
        started.elapsed()
    );
    run.assert_code(1)
        .assert_stderr_has("the shell function stubborn was stopped");
    // The stop is not SIGINT: the same session goes on, with what
    // 10-before set in `source`.
    assert_next_hook_ran(&run);
    assert!(!run.all().contains("was restarted"), "{}", run.all());
}

#[test]
fn allocating_without_bound_hits_the_memory_limit() {
    let arena = Arena::new("", "memory = \"32MiB\"\n");
    let run = arena.contained("unstack", &[("HOSTILE_ATTACK", "alloc")]);
    run.assert_code(1)
        .assert_stderr_has("hit its memory limit of 32MiB (it asked for");
    assert_next_hook_ran(&run);
    // Without a grant the default ceiling applies.
    let arena = Arena::new("", "");
    let run = arena.contained("stack", &[("HOSTILE_ATTACK", "alloc")]);
    assert_stopped_cleanly(&run, "hit its memory limit of 64MiB");
}

#[test]
fn printing_without_bound_is_cut_and_stopped() {
    let arena = Arena::new("", "timeout = \"1s\"\n");
    let run = arena.contained("unstack", &[("HOSTILE_ATTACK", "print")]);
    run.assert_code(1)
        .assert_stderr_has("ran past its time limit of 1s")
        .assert_stderr_has("more bytes of output not shown");
    // What the host kept is bounded: about 1 MiB forwarded per call.
    assert!(
        run.stdout.len() < 4 << 20,
        "{} bytes of output",
        run.stdout.len()
    );
    let logs = arena.stack.path(".hookhost/logs");
    let logged: u64 = std::fs::read_dir(&logs)
        .unwrap()
        .flatten()
        .filter_map(|e| e.metadata().ok())
        .map(|m| m.len())
        .sum();
    assert!(logged < 8 << 20, "{logged} bytes of logs");
    assert_next_hook_ran(&run);
}

#[test]
fn recursing_until_the_stack_overflows_is_a_trap() {
    let arena = Arena::new("", "");
    let run = arena.contained("unstack", &[("HOSTILE_ATTACK", "recurse")]);
    run.assert_code(1)
        .assert_stderr_has("overflowed its stack (wasm trap)");
    assert_next_hook_ran(&run);
    let run = arena.contained("stack", &[("HOSTILE_ATTACK", "recurse")]);
    assert_stopped_cleanly(&run, "overflowed its stack");
    // Big frames exhaust the stack Rust keeps in linear memory first.
    let run = arena.contained("unstack", &[("HOSTILE_ATTACK", "recurse-frames")]);
    run.assert_code(1)
        .assert_stderr_has("out of bounds memory access (a guest that overflows the stack");
    assert_next_hook_ran(&run);
}

#[test]
fn a_panic_fails_the_hook_with_its_message() {
    let arena = Arena::new("", "");
    let run = arena.contained("unstack", &[("HOSTILE_ATTACK", "panic")]);
    run.assert_code(1)
        .assert_stderr_has("panicked: hostile panic");
    assert_next_hook_ran(&run);
    let run = arena.contained("stack", &[("HOSTILE_ATTACK", "panic")]);
    assert_stopped_cleanly(&run, "panicked: hostile panic");
}

// --- what the operator sees -------------------------------------------------

#[test]
fn plan_shows_requested_and_granted() {
    let arena = Arena::new("commands = [\"echo hello *\"]\n", "memory = \"32MiB\"\n");
    let run = arena.stack.hookhost(&["plan", "unstack"]);
    run.assert_code(0)
        .assert_stdout_has("sandboxed: memory 32MiB, time limit 30s per call")
        .assert_stdout_has("requests vars-read HOSTILE_*")
        .assert_stdout_has("requests commands echo hello *")
        .assert_stdout_has("granted  vars-read HOSTILE_*")
        .assert_stdout_has("granted  command echo hello *")
        .assert_stdout_has("/ro as /stack/ro");
}

/// The audit file's lines, parsed.
fn audit_lines(path: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l}: {e}")))
        .collect()
}

#[test]
fn every_capability_decision_goes_to_the_audit_file() {
    let (_listener, addr) = loopback();
    let arena = Arena::new("commands = [\"echo hello *\"]\n", "");
    let audit = arena.root.path().join("audit.jsonl");
    let conf = format!(
        "[[local|localrc]]\nADMIN_PASSWORD=s3cret-pw\nHOSTILE_ATTACK=getvar\nHOSTILE_VAR=ADMIN_PASSWORD\n\
         HOSTILE_CMD=\"echo goodbye\"\nHOSTILE_ADDR={addr}\n"
    );
    arena.stack.write("local.conf", &conf);
    let run = arena
        .stack
        .hookhost(&["unstack", "--audit", audit.to_str().unwrap()]);
    run.assert_code(0);
    // A second run appends: an ungranted command, then a socket.
    for attack in ["run", "connect"] {
        arena.stack.write(
            "local.conf",
            &conf.replace("=getvar", &format!("={attack}")),
        );
        arena
            .stack
            .hookhost(&["unstack", "--audit", audit.to_str().unwrap()])
            .assert_code(0);
    }
    let lines = audit_lines(&audit);
    let has = |at: &str, kind: &str, item: &str, decision: &str| {
        lines.iter().any(|l| {
            l["at"] == at
                && l["kind"] == kind
                && l["item"] == item
                && l["decision"] == decision
                && l["hook"] == "50-hostile"
        })
    };
    assert!(
        has("plan", "vars-read", "HOSTILE_*", "granted"),
        "{lines:#?}"
    );
    assert!(has("plan", "write", "files", "granted"), "{lines:#?}");
    assert!(
        has("plan", "commands", "echo hello *", "granted"),
        "{lines:#?}"
    );
    assert!(has("plan", "memory", "64MiB", "granted"), "{lines:#?}");
    assert!(
        has("run", "vars-read", "HOSTILE_ATTACK", "used"),
        "{lines:#?}"
    );
    assert!(
        has("run", "vars-read", "ADMIN_PASSWORD", "denied"),
        "{lines:#?}"
    );
    assert!(
        has("run", "commands", "echo goodbye", "denied"),
        "{lines:#?}"
    );
    assert!(has("run", "net", &addr, "denied"), "{lines:#?}");
    for line in &lines {
        let ts = line["ts"].as_str().unwrap();
        assert!(ts.len() == 24 && ts.ends_with('Z'), "{ts}");
    }
    let denied_run = lines
        .iter()
        .find(|l| l["item"] == "ADMIN_PASSWORD")
        .unwrap();
    assert_eq!(denied_run["phase"], "source");
    // A request the operator denies is recorded at plan time too.
    arena.stack.write(
        "hookhost.toml",
        "[grants.\"50-hostile\"]\nvars-read = [\"HOSTILE_*\"]\nread = [\"ro\"]\nwrite = [\"files\"]\n\
         commands = [\"echo hello *\"]\n[deny]\ncommands = [\"echo\"]\n",
    );
    arena
        .stack
        .hookhost(&["plan", "stack", "--audit", audit.to_str().unwrap()])
        .assert_code(2)
        .assert_stderr_has("commands echo hello *: denied by the operator ([deny] or --deny-run)");
    let lines = audit_lines(&audit);
    assert!(lines
        .iter()
        .any(|l| l["at"] == "plan" && l["kind"] == "commands" && l["decision"] == "denied"));
}
