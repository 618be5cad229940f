//! The strings a plugin hands the host, attacked through the real binary
//! with `plugins/hostile` (built from source, `src/strings.rs`):
//!
//! - huge ones (100 × 16 MiB warnings, a 40 MB hook error, 40 × 8 MiB
//!   variable values) cost bounded log, journal, `status` output and
//!   memory;
//! - ESC, CR, BEL, C1 and newlines in every channel (`echo-summary`,
//!   `warn`, `die`, stdout, the hook's error) are inert on the terminal, in
//!   the log and in `status`, every line prefixed; `--json` keeps them;
//! - package, service and variable names outside their grammar are
//!   refused before they reach bash or the package manager.
//!
//! Layout: `<root>/stack` with `extras.d/50-hostile.wasm` and
//! `60-after.sh` (prints what it sees), and `<root>/marker`, the file a
//! successful injection would create.

mod support;

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use support::{Run, TestStack};

const AFTER: &str = r#"echo "AFTER $* BIG0=${HOSTILE_BIG0-unset}"
"#;

/// Text that would drive a terminal: erase the line, return, print a fake
/// verdict, start a line of its own, ring, and a C1 CSI.
const SPOOF: &str = r"\e[2K\r✓ stack finished\n12:00:00.000 [10-fake] FORGED\a\x9b31m";

/// What the log, journal and `status` of one attack may grow to: the
/// limits allow a few MiB (output and kept warnings), the attacks hand
/// over gigabytes.
const BOUND: u64 = 8 << 20;

/// A stack with the hostile plugin, its grants, and a marker path.
struct Arena {
    stack: TestStack,
    root: tempfile::TempDir,
}

impl Arena {
    /// `caps` is TOML for `[capabilities]` that the manifest requests and
    /// the operator grants, besides reading `HOSTILE_*`; the operator also
    /// raises the memory ceiling so the guest can build its big strings.
    fn new(caps: &str) -> Arena {
        let (root, stack) = TestStack::beside_outside();
        let caps = format!("vars-read = [\"HOSTILE_*\"]\n{caps}");
        stack
            .wasm(
                "50-hostile",
                "hostile",
                Some(&format!("[capabilities]\n{caps}")),
            )
            .bash("60-after.sh", AFTER)
            .write(
                "hookhost.toml",
                &format!("[grants.\"50-hostile\"]\n{caps}memory = \"256MiB\"\n"),
            );
        Arena { stack, root }
    }

    fn marker(&self) -> PathBuf {
        self.root.path().join("marker")
    }

    /// The attack's variables in local.conf, single-quoted: the escapes
    /// are decoded by the plugin, and `$(...)` must reach it unexpanded.
    fn configure(&self, vars: &[(&str, &str)]) {
        let mut conf = String::from("[[local|localrc]]\n");
        for (name, value) in vars {
            assert!(!value.contains('\''), "{value}");
            conf.push_str(&format!("{name}='{value}'\n"));
        }
        self.stack.write("local.conf", &conf);
    }

    fn attack(&self, entry: &str, vars: &[(&str, &str)]) -> Run {
        self.configure(vars);
        let run = self.stack.hookhost(&[entry]);
        run.assert_no_panic();
        run
    }

    /// Run the attack and return it with hookhost's peak resident memory
    /// (KiB), its bash session included.
    fn measured(&self, entry: &str, vars: &[(&str, &str)]) -> (Run, i64) {
        self.configure(vars);
        let (run, rss) = peak_rss(&self.stack, &[entry]);
        run.assert_no_panic();
        (run, rss)
    }

    fn log(&self) -> String {
        read_lossy(&self.stack.path(".hookhost/logs/latest.log"))
    }

    fn journal_size(&self) -> u64 {
        file_size(&self.stack.path(".hookhost/journal.jsonl"))
    }

    fn status(&self) -> Run {
        self.stack.hookhost(&["status"])
    }
}

fn read_lossy(path: &Path) -> String {
    String::from_utf8_lossy(&std::fs::read(path).unwrap_or_default()).into_owned()
}

fn file_size(path: &Path) -> u64 {
    std::fs::metadata(path).map_or(0, |m| m.len())
}

/// Run `hookhost <args> --top <stack>` and reap it with `wait4`, which
/// gives the peak resident set of the process and of the children it
/// reaped (its bash session): `ru_maxrss`, in KiB. The child is reaped by
/// `wait4`, not `Child::wait`, which would drop the usage.
#[allow(clippy::zombie_processes)]
fn peak_rss(stack: &TestStack, args: &[&str]) -> (Run, i64) {
    let dir = tempfile::tempdir().unwrap();
    let (out, err) = (dir.path().join("out"), dir.path().join("err"));
    let child = Command::new(env!("CARGO_BIN_EXE_hookhost"))
        .args(args)
        .arg("--top")
        .arg(stack.top())
        .env("NO_COLOR", "1")
        .stdout(Stdio::from(File::create(&out).unwrap()))
        .stderr(Stdio::from(File::create(&err).unwrap()))
        .spawn()
        .expect("run hookhost");
    let pid = child.id() as libc::pid_t;
    let mut status = 0;
    // SAFETY: an all-zero rusage is a valid value for wait4 to fill.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `pid` is our child, not yet reaped (the `Child` is never
    // waited on); `status` and `usage` are valid for writes.
    let reaped = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    assert_eq!(reaped, pid, "wait4 failed");
    let run = Run {
        code: libc::WIFEXITED(status).then(|| libc::WEXITSTATUS(status)),
        stdout: read_lossy(&out),
        stderr: read_lossy(&err),
    };
    (run, usage.ru_maxrss)
}

/// The attack's peak memory is under twice that of a control run: the
/// same plugin building as much text, handing the host nothing. (The
/// guest's memory is part of hookhost's process, so it is part of the
/// figure; what the host spends on top must stay below it.)
#[track_caller]
fn assert_memory_bounded(arena: &Arena, entry: &str, attack: i64, size: &str) {
    let (control, held) =
        arena.measured(entry, &[("HOSTILE_ATTACK", "hold"), ("HOSTILE_SIZE", size)]);
    assert!(
        control.stdout.contains("HOSTILE got: held"),
        "{}",
        control.all()
    );
    assert!(
        attack < 2 * held,
        "peak memory {attack} KiB under attack, {held} KiB for the control run"
    );
}

/// Log, journal and `status` stayed small.
#[track_caller]
fn assert_records_bounded(arena: &Arena, run: &Run) {
    let log = arena.log();
    let status = arena.status();
    for (what, size) in [
        ("the terminal", (run.stdout.len() + run.stderr.len()) as u64),
        ("the log", log.len() as u64),
        ("the journal", arena.journal_size()),
        ("status", (status.stdout.len() + status.stderr.len()) as u64),
    ] {
        assert!(size < BOUND, "{what} holds {size} bytes");
    }
}

// --- sizes -------------------------------------------------------------------

#[test]
fn huge_warnings_are_cut_and_cost_bounded_memory_and_log() {
    let arena = Arena::new("");
    let size = (16 << 20).to_string();
    let (run, rss) = arena.measured(
        "unstack",
        &[
            ("HOSTILE_ATTACK", "warn"),
            ("HOSTILE_SIZE", &size),
            ("HOSTILE_COUNT", "100"),
        ],
    );
    run.assert_code(0)
        .assert_stdout_has("HOSTILE got: warned 100 times")
        .assert_stdout_has("AFTER unstack");
    // Every warning is shown, cut; the summary keeps what its budget allows.
    let shown = run
        .stdout
        .lines()
        .filter(|l| l.contains("[WARNING] x"))
        .count();
    assert_eq!(shown, 100, "{}", &run.stdout[..2000]);
    assert!(run.stdout.contains("… [cut: "), "no cut marker");
    run.assert_stderr_has("later ones are shown, not kept");
    assert_records_bounded(&arena, &run);
    assert_memory_bounded(&arena, "unstack", rss, &size);
}

#[test]
fn a_huge_hook_error_is_cut_and_costs_bounded_memory_journal_and_status() {
    let arena = Arena::new("");
    let size = "40000000";
    let (run, rss) = arena.measured(
        "stack",
        &[("HOSTILE_ATTACK", "error"), ("HOSTILE_SIZE", size)],
    );
    run.assert_code(1)
        .assert_stderr_has("hook 50-hostile (wasm) failed in `source`")
        .assert_stderr_has("= reason: returned an error: xxxx");
    let reason = run
        .stderr
        .lines()
        .find(|l| l.contains("= reason:"))
        .unwrap();
    assert!(
        reason.ends_with(" more bytes]"),
        "{}",
        &reason[reason.len() - 80..]
    );
    let status = arena.status();
    status.assert_code(0).assert_stdout_has("… [cut: ");
    assert_records_bounded(&arena, &run);
    assert_memory_bounded(&arena, "stack", rss, size);
}

#[test]
fn huge_variable_values_are_refused_and_cost_bounded_memory() {
    let arena = Arena::new("vars-write = [\"HOSTILE_BIG*\"]\n");
    let size = (8 << 20).to_string();
    let big = [
        ("HOSTILE_ATTACK", "setvar-big"),
        ("HOSTILE_VAR", "HOSTILE_BIG"),
        ("HOSTILE_COUNT", "40"),
        ("HOSTILE_SIZE", size.as_str()),
    ];
    let (run, rss) = arena.measured("unstack", &big);
    run.assert_code(0)
        .assert_stdout_has("HOSTILE refused: 40 of 40 set-var refused: 50-hostile may not set variable HOSTILE_BIG0: its value is 8388608 bytes, more than the limit of 1MiB")
        .assert_stdout_has("AFTER unstack BIG0=unset");
    assert_records_bounded(&arena, &run);
    assert_memory_bounded(&arena, "unstack", rss, &size);

    // Values within the limit are taken until the plugin's budget for the
    // run is spent.
    let run = arena.attack(
        "unstack",
        &[
            ("HOSTILE_ATTACK", "setvar-big"),
            ("HOSTILE_VAR", "HOSTILE_BIG"),
            ("HOSTILE_COUNT", "40"),
            ("HOSTILE_SIZE", "1000000"),
        ],
    );
    run.assert_code(0).assert_stdout_has(
        "HOSTILE refused: 32 of 40 set-var refused: 50-hostile may not set variable HOSTILE_BIG8: the variables it set in this run would hold more than 8MiB",
    );
    assert!(
        run.stdout.contains("AFTER unstack BIG0=xxx"),
        "{}",
        run.all()
    );
}

// --- terminal controls -------------------------------------------------------

/// No raw control character but tab and newline; no C1 character.
#[track_caller]
fn assert_inert(what: &str, text: &str) {
    let bad = text.chars().find(|&c| {
        (c.is_control() && c != '\n' && c != '\t') || ('\u{80}'..='\u{9f}').contains(&c)
    });
    assert!(bad.is_none(), "{what} holds {bad:?}:\n{text}");
}

/// Every line holding the forged text also holds `prefix` (the hook's
/// name, or the failure's `= reason:`), so no forged line stands alone.
#[track_caller]
fn assert_no_line_of_its_own(what: &str, text: &str, prefix: &str) {
    let lines: Vec<&str> = text.lines().filter(|l| l.contains("FORGED")).collect();
    assert!(!lines.is_empty(), "{what} lacks the text:\n{text}");
    for line in lines {
        assert!(line.contains(prefix), "{what}: a line of its own: {line:?}");
        assert!(
            !line.starts_with("✓") && !line.starts_with("12:00:00.000"),
            "{what}: {line:?}"
        );
    }
}

#[test]
fn controls_and_newlines_from_every_channel_are_inert_and_prefixed() {
    let arena = Arena::new("");
    for (attack, entry, prefix) in [
        ("echo", "unstack", "[50-hostile] "),
        ("warn", "unstack", "50-hostile"),
        ("stdout", "unstack", "[50-hostile] "),
        ("die", "stack", "= reason: died: "),
        ("error", "stack", "= reason: returned an error: "),
    ] {
        let run = arena.attack(
            entry,
            &[("HOSTILE_ATTACK", attack), ("HOSTILE_TEXT", SPOOF)],
        );
        let what = format!("{attack}: the terminal");
        assert_inert(&what, &run.stdout);
        assert_inert(&what, &run.stderr);
        assert_no_line_of_its_own(&what, &run.all(), prefix);
        let log = arena.log();
        assert_inert(&format!("{attack}: the log"), &log);
        assert_no_line_of_its_own(&format!("{attack}: the log"), &log, prefix);
        // A log line of the plugin's starts with the time and its name.
        for line in log.lines().filter(|l| l.contains("[50-hostile]")) {
            let stamp = line.split(' ').next().unwrap();
            assert!(stamp.len() == 12 && stamp.as_bytes()[2] == b':', "{line:?}");
        }
        let status = arena.status();
        assert_inert(&format!("{attack}: status"), &status.stdout);
        if entry == "stack" {
            assert_no_line_of_its_own(&format!("{attack}: status"), &status.stdout, "failed: ");
        }
        assert!(
            run.all().contains(r"\e[2K\r✓ stack finished"),
            "{}",
            run.all()
        );
    }
}

#[test]
fn json_keeps_the_exact_text() {
    let arena = Arena::new("");
    arena.configure(&[("HOSTILE_ATTACK", "echo"), ("HOSTILE_TEXT", SPOOF)]);
    let run = arena.stack.hookhost(&["unstack", "--json"]);
    run.assert_code(0);
    let lines: Vec<String> = run
        .stdout
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|e| e["event"] == "output" && e["hook"] == "50-hostile")
        .map(|e| e["line"].as_str().unwrap_or_default().to_string())
        .collect();
    // One event per line of the message, each line exact.
    assert_eq!(
        lines[..2],
        [
            "\u{1b}[2K\r✓ stack finished",
            "12:00:00.000 [10-fake] FORGED\u{7}\u{9b}31m"
        ],
        "{}",
        run.all()
    );
}

// --- packages ----------------------------------------------------------------

#[test]
fn any_package_is_refused_in_a_manifest() {
    let arena = Arena::new("packages = [\"*\"]\n");
    let run = arena.stack.hookhost(&["stack"]);
    run.assert_code(2)
        .assert_stderr_has("extras.d/50-hostile.toml: line 3: capabilities.packages: \"*\" would let the plugin install any package — list the packages it needs by name");
    assert!(!run.stdout.contains("AFTER"), "{}", run.all());
}

#[test]
fn package_names_outside_the_grammar_are_refused() {
    let arena = Arena::new("packages = [\"a*\", \"vim\"]\n");
    let marker = arena.marker();
    let option = format!("-oDPkg::Pre-Invoke::=touch {}", marker.display());
    for (name, shown) in [
        (option.as_str(), format!("\"{option}\"")),
        ("a/b", "\"a/b\"".to_string()),
        (r"a\nb", r#""a\nb""#.to_string()),
        (r"a\e[2K", r#""a\e[2K""#.to_string()),
        ("a -y", "\"a -y\"".to_string()),
    ] {
        let run = arena.attack(
            "unstack",
            &[
                ("HOSTILE_ATTACK", "install"),
                ("HOSTILE_PACKAGES", &format!("vim,{name}")),
            ],
        );
        run.assert_code(0).assert_stdout_has(&format!(
            "HOSTILE refused: 50-hostile may not install package {shown}: not a package name"
        ));
        // Nothing of the call was recorded: not even the good name.
        assert!(!run.all().contains("not installed"), "{}", run.all());
        assert!(!arena.stack.path(".hookhost/packages-wanted").exists());
    }
    assert!(!marker.exists());
    // A good name still goes through.
    let run = arena.attack(
        "unstack",
        &[
            ("HOSTILE_ATTACK", "install"),
            ("HOSTILE_PACKAGES", "vim,a-b"),
        ],
    );
    run.assert_code(0).assert_stderr_has(
        "not installed (no install grant; rerun with --allow-install): vim, a-b",
    );
}

// --- services and variables ---------------------------------------------------

#[test]
fn bad_service_names_fail_the_hook_with_the_name_escaped() {
    let arena = Arena::new("");
    let marker = arena.marker();
    let injection = format!("x b[$(touch {})]=1", marker.display());
    for call in ["is", "enable", "disable"] {
        let helper = format!("{call}-service");
        let helper = if call == "is" {
            "is-service-enabled".to_string()
        } else {
            helper
        };
        for (name, shown) in [
            (injection.as_str(), format!("\"{injection}\"")),
            (r"n-cpu\e[2K\nx", r#""n-cpu\e[2K\nx""#.to_string()),
            ("-rabbit", "\"-rabbit\"".to_string()),
        ] {
            let run = arena.attack(
                "stack",
                &[
                    ("HOSTILE_ATTACK", "service"),
                    ("HOSTILE_CALL", call),
                    ("HOSTILE_SERVICES", &format!("n-cpu,{name}")),
                ],
            );
            run.assert_code(1).assert_stderr_has(&format!(
                "= reason: 50-hostile called {helper} with an invalid service name {shown}: a service name is letters, digits, _ and -"
            ));
            assert!(!run.stdout.contains("AFTER source"), "{}", run.all());
            assert_inert(&helper, &run.stderr);
        }
    }
    // In `unstack` the run goes on past the failed hook.
    let run = arena.attack(
        "unstack",
        &[
            ("HOSTILE_ATTACK", "service"),
            ("HOSTILE_CALL", "enable"),
            ("HOSTILE_SERVICES", &injection),
        ],
    );
    run.assert_code(1).assert_stdout_has("AFTER unstack");
    assert!(!marker.exists(), "the service name ran as code");
}

#[test]
fn bad_variable_names_are_refused() {
    let arena = Arena::new("vars-write = [\"HOSTILE_*\", \"PS4\", \"BASH_ENV\"]\n");
    let marker = arena.marker();
    let injection = format!("HOSTILE_x[$(touch {})]", marker.display());
    for (name, why) in [
        (injection.as_str(), format!("may not set variable \"{injection}\": a variable name is letters, digits and _")),
        ("PS4", "may not set variable PS4, whatever it is granted: bash or the dynamic linker reads it as code".to_string()),
        ("BASH_ENV", "may not set variable BASH_ENV, whatever it is granted".to_string()),
    ] {
        let run = arena.attack(
            "unstack",
            &[("HOSTILE_ATTACK", "setvar"), ("HOSTILE_VAR", name)],
        );
        run.assert_code(0)
            .assert_stdout_has(&format!("HOSTILE refused: set {name}: 50-hostile {why}"));
    }
    // get-var has no error channel: the hook fails.
    let run = arena.attack(
        "stack",
        &[
            ("HOSTILE_ATTACK", "getvar-name"),
            ("HOSTILE_NAME", &injection),
        ],
    );
    run.assert_code(1).assert_stderr_has(&format!(
        "= reason: 50-hostile called get-var with an invalid variable name \"{injection}\""
    ));
    assert!(!marker.exists(), "the variable name ran as code");
}

/// The advice under a failure follows what happened, never the words of
/// the failure: a plugin whose error reads like the host's own messages
/// (the session ended, the plugin was not called) still gets the plain
/// advice, and the session's own advice is kept for the session's ends.
#[test]
fn a_plugins_error_text_cannot_choose_the_hosts_advice() {
    let arena = Arena::new("");
    for text in [
        "ended the bash session (exit status 3)",
        "was not called: it could not be started in this run",
    ] {
        let run = arena.attack(
            "stack",
            &[("HOSTILE_ATTACK", "error"), ("HOSTILE_TEXT", text)],
        );
        run.assert_code(1)
            .assert_stderr_has(&format!("= reason: returned an error: {text}"))
            .assert_stderr_has("= help: fix the hook, then run `hookhost stack` again");
        let all = run.all();
        assert!(!all.contains("use `return N`"), "{text}: {all}");
        assert!(!all.contains("first failure in this run"), "{text}: {all}");
    }
}

/// A plugin's call of a shell function that ran `exit` ended the session:
/// the host knows that from the session, and gives the advice for it.
#[test]
fn a_shell_function_that_exits_under_a_plugin_gets_the_sessions_advice() {
    let arena = Arena::new("functions = [\"quits\"]\n");
    arena.stack.bash("10-define.sh", "quits() { exit 3; }\n");
    let run = arena.attack(
        "stack",
        &[("HOSTILE_ATTACK", "call"), ("HOSTILE_FUNC", "quits")],
    );
    run.assert_code(1)
        .assert_stderr_has("hook 50-hostile (wasm) failed in `source`")
        .assert_stderr_has("quits ended the bash session (exit status 3)")
        .assert_stderr_has("use `return N`, not `exit N` or `exec`");
}
