//! What operators see, with the real binary: rustc-style failures, the run
//! log, JSON events, verbose/quiet output, the spinner on a real terminal,
//! Ctrl-C (a real SIGINT) stopping bash and WASM hooks, `list`, shell
//! completions, `--help` examples, and `inspect`.

mod support;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{channel, Receiver};
use std::time::{Duration, Instant};

use support::{component, TestStack};

fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_hookhost")
}

/// Run `hookhost ARGS` (no `--top`).
fn hookhost(args: &[&str]) -> support::Run {
    Command::new(bin())
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .expect("run hookhost")
        .into()
}

/// The run logs of a stack (`latest.log` excluded), oldest first.
fn logs(stack: &TestStack) -> Vec<PathBuf> {
    let mut logs: Vec<PathBuf> = std::fs::read_dir(stack.path(".hookhost/logs"))
        .expect("the logs directory")
        .map(|e| e.unwrap().path())
        .filter(|p| p.file_name().unwrap() != "latest.log")
        .collect();
    logs.sort();
    logs
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn a_failing_hook_reads_like_a_rustc_error() {
    let stack = TestStack::new();
    stack.bash(
        "10-a.sh",
        "if [[ $2 == install ]]; then echo 'first line'; echo 'why it broke' >&2; false; fi\n",
    );
    let run = stack.hookhost(&["stack"]);
    run.assert_code(1)
        .assert_no_panic()
        .assert_stderr_has("error: hook 10-a (bash) failed in `stack install`\n  = reason: ")
        .assert_stderr_has("  = output (last ")
        .assert_stderr_has("   | why it broke")
        .assert_stderr_has(
            "  = help: the `hookhost:` line above names the command that failed and its line; \
             stack.sh's errexit stops at the first failing command; the whole run is in ",
        );
    for dump in ["Error {", "backtrace", "Some(", "RunSummary"] {
        assert!(!run.stderr.contains(dump), "{dump} shown\n{}", run.all());
    }
    // The same diagnostic is in the log, which the help line names.
    let log = read(&logs(&stack)[0]);
    assert!(
        log.contains("error: hook 10-a (bash) failed in `stack install`"),
        "{log}"
    );
    assert!(run.stderr.contains(&logs(&stack)[0].display().to_string()));
}

#[test]
fn every_run_has_a_log_and_latest_points_to_the_newest() {
    let stack = TestStack::new();
    stack.bash("10-a.sh", "echo \"hello from $*\"\n");
    stack.hookhost(&["stack"]).assert_code(0);
    stack.hookhost(&["unstack"]).assert_code(0);
    let logs = logs(&stack);
    assert_eq!(logs.len(), 2, "{logs:?}");
    let names: Vec<String> = logs
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert!(names
        .iter()
        .any(|n| n.starts_with("stack-") && n.ends_with(".log")));
    assert!(names.iter().any(|n| n.starts_with("unstack-")));
    let latest = stack.path(".hookhost/logs/latest.log");
    let target = std::fs::read_link(&latest).expect("latest.log is a symlink");
    assert!(
        target.to_string_lossy().starts_with("unstack-"),
        "{target:?}"
    );
    let stack_log = read(
        logs.iter()
            .find(|p| p.to_string_lossy().contains("/stack-"))
            .unwrap(),
    );
    for text in [
        "hookhost 0.1.0 stack in ",
        "==> stack install",
        "--> 10-a (bash) stack install",
        "[10-a] hello from stack install",
        "<-- 10-a stack install ok in ",
        "hookhost timing",
        "stack finished in ",
    ] {
        assert!(stack_log.contains(text), "log lacks {text:?}:\n{stack_log}");
    }
}

#[test]
fn log_flag_writes_the_log_where_asked() {
    let stack = TestStack::new();
    stack.bash("10-a.sh", "echo \"hi $*\"\n");
    let log = stack.path("elsewhere/run.log");
    stack
        .hookhost(&["unstack", "--log", log.to_str().unwrap()])
        .assert_code(0);
    assert!(read(&log).contains("[10-a] hi unstack"));
}

#[test]
fn json_is_one_event_object_per_line() {
    let stack = TestStack::new();
    stack
        .bash("10-a.sh", "echo \"hi $*\"\n")
        .wasm("20-probe", "probe", None);
    let run = stack.hookhost(&["unstack", "--json"]);
    run.assert_code(0);
    let events: Vec<serde_json::Value> = run
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l:?}: {e}")))
        .collect();
    let kinds: Vec<&str> = events
        .iter()
        .map(|e| e["event"].as_str().unwrap())
        .collect();
    assert_eq!(kinds.first(), Some(&"run-start"), "{kinds:?}");
    assert_eq!(kinds.last(), Some(&"summary"), "{kinds:?}");
    for kind in ["phase-start", "hook-start", "output", "hook-end"] {
        assert!(kinds.contains(&kind), "no {kind} in {kinds:?}");
    }
    let end = events
        .iter()
        .find(|e| e["event"] == "hook-end" && e["hook"] == "20-probe" && e["phase"] == "unstack")
        .expect("20-probe's unstack hook-end");
    assert_eq!(end["status"], "ok");
    assert_eq!(end["kind"], "wasm");
    assert!(end["duration_ms"].as_f64().unwrap() >= 0.0);
    assert!(events
        .iter()
        .any(|e| e["event"] == "output" && e["hook"] == "10-a" && e["line"] == "hi unstack"));
    let summary = events.last().unwrap();
    assert_eq!(summary["status"], "ok");
    assert_eq!(summary["hooks_run"], 4);
    assert!(summary["log"]
        .as_str()
        .unwrap()
        .contains(".hookhost/logs/unstack-"));
}

#[test]
fn json_reports_a_refused_stack_as_an_event() {
    let stack = TestStack::new();
    stack.bash("05-early.sh", "true\n");
    let run = stack.hookhost(&["stack", "--json"]);
    run.assert_code(2);
    let event: serde_json::Value = serde_json::from_str(run.stdout.trim()).unwrap();
    assert_eq!(event["event"], "refused");
    assert!(event["errors"][0].as_str().unwrap().contains("05-early.sh"));
}

#[test]
fn verbose_shows_each_hook_and_quiet_only_the_verdict() {
    let stack = TestStack::new();
    stack.bash("10-a.sh", "echo \"hi $*\"\n");
    let verbose = stack.hookhost(&["unstack", "--verbose"]);
    verbose
        .assert_code(0)
        .assert_stdout_has("--> 10-a (bash) unstack")
        .assert_stdout_has("[10-a] hi unstack")
        .assert_stdout_has("<-- 10-a unstack ok in ");
    let quiet = stack.hookhost(&["unstack", "--quiet"]);
    quiet
        .assert_code(0)
        .assert_stdout_has("unstack finished in ");
    assert!(!quiet.stdout.contains("[10-a]"), "{}", quiet.all());
    assert!(!quiet.stdout.contains("hookhost timing"), "{}", quiet.all());
}

/// Run `hookhost ARGS --top STACK` under a pseudo-terminal (`script`), as
/// an operator at a terminal would, and return everything it drew.
fn on_a_terminal(stack: &TestStack, args: &str, no_color: bool) -> String {
    let command = format!("{} {args} --top {}", bin(), stack.top().display());
    let mut script = Command::new("script");
    script
        .args(["-qefc", &command, "/dev/null"])
        .env("TERM", "xterm-256color")
        .env_remove("NO_COLOR");
    if no_color {
        script.env("NO_COLOR", "1");
    }
    let output = script.output().expect("run script(1)");
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// The text a terminal shows of `raw`: escape sequences dropped, each
/// carriage return starting a new segment.
fn segments(raw: &str) -> Vec<String> {
    let mut text = String::new();
    let mut chars = raw.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\x1b' {
            // CSI: ESC [ params final-byte
            if chars.next_if_eq(&'[').is_some() {
                for p in chars.by_ref() {
                    if ('@'..='~').contains(&p) {
                        break;
                    }
                }
            }
            continue;
        }
        text.push(if c == '\r' { '\n' } else { c });
    }
    text.lines().map(str::to_string).collect()
}

#[test]
fn on_a_terminal_a_spinner_shows_the_hook_and_no_output_line_is_cut() {
    let stack = TestStack::new();
    stack.bash(
        "10-slow.sh",
        "if [[ $2 == install ]]; then for i in $(seq 1 40); do echo \"line $i of slow output\"; sleep 0.03; done; fi\n",
    );
    let raw = on_a_terminal(&stack, "stack", false);
    let lines = segments(&raw);
    for i in 1..=40 {
        let wanted = format!("[10-slow] line {i} of slow output");
        let count = lines.iter().filter(|l| l.trim_end() == wanted).count();
        assert_eq!(count, 1, "{wanted:?} shown {count} times whole:\n{raw:?}");
    }
    assert!(
        lines
            .iter()
            .any(|l| l.contains("stack install 10-slow (bash)")),
        "no spinner line with the phase and hook:\n{raw:?}"
    );
    assert!(
        raw.contains("\x1b[36m[10-slow]"),
        "hook names are coloured: {raw:?}"
    );
    assert!(lines.iter().any(|l| l.starts_with("stack finished in ")));
}

#[test]
fn no_color_turns_colours_off_on_a_terminal() {
    let stack = TestStack::new();
    stack.bash("10-a.sh", "echo \"hi $*\"\n");
    let raw = on_a_terminal(&stack, "unstack", true);
    assert!(raw.contains("[10-a] hi unstack"), "{raw:?}");
    for colour in ["\x1b[36m", "\x1b[1;34m", "\x1b[1;32m"] {
        assert!(!raw.contains(colour), "{colour:?} with NO_COLOR: {raw:?}");
    }
}

/// A started `hookhost` whose stdout lines arrive on a channel.
struct Live {
    child: Child,
    lines: Receiver<String>,
    seen: Vec<String>,
}

impl Live {
    fn start(stack: &TestStack, args: &[&str]) -> Live {
        let mut child = Command::new(bin())
            .args(args)
            .arg("--top")
            .arg(stack.top())
            .env("NO_COLOR", "1")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start hookhost");
        let stdout = child.stdout.take().unwrap();
        let (tx, lines) = channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Live {
            child,
            lines,
            seen: Vec::new(),
        }
    }

    /// Wait (bounded) for a stdout line containing `marker`.
    fn wait_for(&mut self, marker: &str) {
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if let Ok(line) = self.lines.recv_timeout(Duration::from_millis(100)) {
                let found = line.contains(marker);
                self.seen.push(line);
                if found {
                    return;
                }
            }
        }
        panic!("no {marker:?} within 30 s; stdout so far: {:?}", self.seen);
    }

    /// `kill -INT` it, as a terminal's Ctrl-C would.
    fn interrupt(&self) {
        let status = Command::new("kill")
            .args(["-INT", &self.child.id().to_string()])
            .status()
            .expect("run kill");
        assert!(status.success());
    }

    /// Wait (bounded) for it to exit; returns its status, stdout and stderr.
    fn finish(mut self) -> (Option<i32>, String, String, Duration) {
        let started = Instant::now();
        while self.child.try_wait().unwrap().is_none() {
            if started.elapsed() > Duration::from_secs(20) {
                let _ = self.child.kill();
                panic!("hookhost did not end within 20 s of Ctrl-C");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let took = started.elapsed();
        let output = self.child.wait_with_output().unwrap();
        let mut stdout = self.seen.join("\n");
        while let Ok(line) = self.lines.recv_timeout(Duration::from_millis(200)) {
            stdout.push('\n');
            stdout.push_str(&line);
        }
        let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
        (output.status.code(), stdout, stderr, took)
    }
}

/// Processes whose command line contains `text`.
fn processes_running(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        if let Ok(cmdline) = std::fs::read(entry.path().join("cmdline")) {
            let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
            if cmdline.contains(text) {
                found.push(cmdline);
            }
        }
    }
    found
}

#[test]
fn ctrl_c_stops_the_running_bash_hook_and_exits_130() {
    let stack = TestStack::new();
    // `echo waiting` after the marker: the marker line is then complete.
    stack
        .bash(
            "20-slow.sh",
            "if [[ $2 == install ]]; then echo READY; echo waiting; sleep 31.7; echo after-sleep; fi\n",
        )
        .bash("30-later.sh", "echo \"TRACE later $*\"\n");
    let mut live = Live::start(&stack, &["stack"]);
    live.wait_for("[20-slow] READY");
    live.interrupt();
    let (code, stdout, stderr, took) = live.finish();
    assert_eq!(code, Some(130), "stdout:\n{stdout}\nstderr:\n{stderr}");
    assert!(
        took < Duration::from_secs(10),
        "took {took:?}: the hook was not stopped"
    );
    assert!(
        stderr.contains(
            "error: interrupted (Ctrl-C): stopped hook 20-slow (bash) in `stack install`"
        ),
        "{stderr}"
    );
    assert!(!stdout.contains("after-sleep"), "{stdout}");
    assert!(!stdout.contains("TRACE later stack install"), "{stdout}");
    assert!(stdout.contains("stack interrupted in "), "{stdout}");
    assert!(
        processes_running("sleep 31.7").is_empty(),
        "the hook's sleep survived Ctrl-C"
    );
    let log = read(&logs(&stack)[0]);
    for text in [
        "[20-slow] READY",
        "interrupted (Ctrl-C): stopped hook 20-slow (bash)",
        "<-- 20-slow stack install interrupted in ",
        "20-slow",
        "INTERRUPTED",
        "stack interrupted in ",
    ] {
        assert!(log.contains(text), "log lacks {text:?}:\n{log}");
    }
}

#[test]
fn ctrl_c_stops_a_spinning_wasm_hook() {
    let stack = TestStack::new();
    let manifest = "[capabilities]\nvars-read = [\"HOSTILE_*\"]\ntimeout = \"10m\"\n";
    stack
        .bash("10-ready.sh", "echo READY\necho set\n")
        .wasm("20-spin", "hostile", Some(manifest))
        .write(
            "hookhost.toml",
            "[grants.spin]\nvars-read = [\"HOSTILE_*\"]\ntimeout = \"10m\"\n",
        )
        .write("local.conf", "[[local|localrc]]\nHOSTILE_ATTACK=loop\n");
    let mut live = Live::start(&stack, &["stack", "--json"]);
    live.wait_for("\"hook\":\"20-spin\"");
    // It is in its loop now (its time limit is 10 minutes).
    std::thread::sleep(Duration::from_millis(300));
    live.interrupt();
    let (code, stdout, stderr, took) = live.finish();
    assert_eq!(code, Some(130), "stdout:\n{stdout}\nstderr:\n{stderr}");
    assert!(took < Duration::from_secs(5), "took {took:?}");
    let events: Vec<serde_json::Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let stopped = events
        .iter()
        .find(|e| e["event"] == "interrupted")
        .expect("an interrupted event");
    assert_eq!(stopped["hook"], "20-spin");
    assert_eq!(stopped["phase"], "source");
    assert_eq!(stopped["during"], true);
    let end = events
        .iter()
        .find(|e| e["event"] == "hook-end" && e["hook"] == "20-spin")
        .unwrap();
    assert_eq!(end["status"], "interrupted");
    assert_eq!(events.last().unwrap()["status"], "interrupted");
}

#[test]
fn list_shows_hooks_manifests_grants_and_drivers() {
    let stack = TestStack::new();
    stack
        .bash("10-a.sh", "true\n")
        .wasm(
            "20-probe",
            "probe",
            Some("[plugin]\ndescription = \"records phases\"\n[capabilities]\nvars-read = [\"PROBE_*\"]\n"),
        )
        .wasm(
            "30-greedy",
            "probe",
            Some("[capabilities]\nnet = [\"example.org:443\"]\n"),
        )
        .write("extras.d/70-trove", "true\n")
        .write(
            "hookhost.toml",
            "[grants.probe]\nvars-read = [\"PROBE_*\"]\n",
        )
        .write(
            "lib/nova_plugins/hypervisor-fake",
            "install_nova_hypervisor() { :; }\n",
        )
        .write("lib/nova_plugins/hypervisor-other.wasm", "")
        .write("local.conf", "[[local|localrc]]\nVIRT_DRIVER=fake\n");
    let run = stack.hookhost(&["list"]);
    // The listing shows what 30-greedy is refused; `stack` would refuse
    // it, so list says so too, as `plan` does.
    run.assert_code(2)
        .assert_no_panic()
        .assert_stderr_has("30-greedy.wasm requests capabilities the operator has not granted")
        .assert_stdout_has("3 hook(s), 2 driver(s)")
        .assert_stdout_has("10-a.sh")
        .assert_stdout_has("trusted")
        .assert_stdout_has("20-probe.toml")
        .assert_stdout_has("records phases")
        .assert_stdout_has("requests vars-read PROBE_*")
        .assert_stdout_has("granted  vars-read PROBE_*")
        .assert_stdout_has("REFUSED")
        .assert_stdout_has("70-trove")
        .assert_stdout_has("hypervisor-fake  <- VIRT_DRIVER")
        .assert_stdout_has("hypervisor-other.wasm");
    let json = stack.hookhost(&["list", "--json"]);
    let value: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(value["hooks"][1]["hook"], "20-probe");
    assert_eq!(value["hooks"][2]["granted"], serde_json::Value::Null);
    assert!(value["hooks"][2]["refused"]
        .as_str()
        .unwrap()
        .contains("example.org"));
    assert_eq!(value["drivers"][0]["selected"], true);
}

#[test]
fn bash_completion_completes_subcommands_and_flags() {
    let script = hookhost(&["completions", "bash"]);
    script.assert_code(0);
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), &script.stdout).unwrap();
    let complete = |words: &str| -> String {
        let probe = format!(
            "source {}; COMP_WORDS=({words}); COMP_CWORD=$((${{#COMP_WORDS[@]}} - 1)); \
             _hookhost hookhost \"${{COMP_WORDS[-1]}}\" \"${{COMP_WORDS[-2]}}\"; echo \"${{COMPREPLY[*]}}\"",
            file.path().display()
        );
        let out = Command::new("bash").args(["-c", &probe]).output().unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let subcommands = complete("hookhost in");
    assert!(
        subcommands.split_whitespace().any(|w| w == "inspect"),
        "{subcommands}"
    );
    let flags = complete("hookhost stack --ve");
    assert!(
        flags.split_whitespace().any(|w| w == "--verbose"),
        "{flags}"
    );
    for shell in ["zsh", "fish"] {
        hookhost(&["completions", shell])
            .assert_code(0)
            .assert_stdout_has("hookhost");
    }
}

#[test]
fn every_subcommand_has_help_with_examples() {
    let help = hookhost(&["--help"]);
    help.assert_code(0).assert_stdout_has("Examples:");
    let subcommands: Vec<String> = help
        .stdout
        .lines()
        .skip_while(|l| !l.starts_with("Commands:"))
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .filter_map(|l| l.split_whitespace().next().map(str::to_string))
        .filter(|c| c != "help")
        .collect();
    assert!(subcommands.len() >= 9, "{subcommands:?}");
    for sub in &subcommands {
        let run = hookhost(&[sub, "--help"]);
        run.assert_code(0);
        assert!(
            run.stdout.contains("Example"),
            "`hookhost {sub} --help` has no example:\n{}",
            run.stdout
        );
    }
}

#[test]
fn inspect_names_world_version_exports_capabilities_size_and_sha256() {
    let dir = tempfile::tempdir().unwrap();
    let wasm = dir.path().join("50-probe.wasm");
    std::fs::copy(component("probe"), &wasm).unwrap();
    std::fs::write(
        dir.path().join("50-probe.toml"),
        "[capabilities]\nvars-read = [\"PROBE_*\"]\n",
    )
    .unwrap();
    let run = hookhost(&["inspect", wasm.to_str().unwrap()]);
    run.assert_code(0)
        .assert_no_panic()
        .assert_stdout_has("world       hookhost:plugin/hook-plugin@0.1.0")
        .assert_stdout_has("hookhost:plugin/hook@0.1.0")
        .assert_stdout_has("run(phase), called for: override-defaults, source, stack pre-install")
        .assert_stdout_has("hookhost:plugin/host@0.1.0")
        .assert_stdout_has("requests vars-read PROBE_*");
    let size = std::fs::metadata(&wasm).unwrap().len();
    run.assert_stdout_has(&format!("size        {size} bytes"));
    let sum = Command::new("sha256sum").arg(&wasm).output().unwrap();
    let sum = String::from_utf8_lossy(&sum.stdout);
    run.assert_stdout_has(&format!(
        "sha256      {}",
        sum.split_whitespace().next().unwrap()
    ));
    let json = hookhost(&["inspect", wasm.to_str().unwrap(), "--json"]);
    let value: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(value["world"], "hook-plugin");
    assert_eq!(value["wit_version"], "0.1.0");
    assert_eq!(value["size"], size);
    assert_eq!(value["phases"].as_array().unwrap().len(), 9);
}

#[test]
fn inspect_refuses_a_broken_file_with_the_same_line_as_a_run() {
    let stack = TestStack::new();
    stack.write("extras.d/50-bad.wasm", "not a component");
    let path = stack.path("extras.d/50-bad.wasm");
    let inspect = hookhost(&["inspect", path.to_str().unwrap()]);
    inspect.assert_code(2).assert_no_panic();
    let run = stack.hookhost(&["stack"]);
    run.assert_code(2);
    let line = inspect.stderr.lines().next().unwrap().to_string();
    assert!(line.starts_with("error: "), "{line}");
    assert!(line.contains("is not a WebAssembly file"), "{line}");
    assert!(
        run.stderr.lines().any(|l| l == line),
        "inspect said {line:?}, stack said:\n{}",
        run.stderr
    );
}

#[test]
fn new_scaffolds_a_crate_and_refuses_bad_names() {
    let dir = tempfile::tempdir().unwrap();
    let crate_dir = dir.path().join("my-hook");
    let run = hookhost(&["new", "my-hook", "--path", crate_dir.to_str().unwrap()]);
    run.assert_code(0)
        .assert_stdout_has("created plugin crate `my-hook`")
        .assert_stdout_has("hookhost build");
    let cargo = read(&crate_dir.join("Cargo.toml"));
    let sdk = support::repo_root().join("sdk");
    assert!(
        cargo.contains(&format!(
            "hookhost-sdk = {{ path = \"{}\" }}",
            sdk.display()
        )),
        "{cargo}"
    );
    assert!(cargo.contains("crate-type = [\"cdylib\"]"), "{cargo}");
    let lib = read(&crate_dir.join("src/lib.rs"));
    for phase in [
        "fn override_defaults",
        "fn source",
        "fn pre_install",
        "fn install",
        "fn post_config",
        "fn extra",
        "fn test_config",
        "fn unstack",
        "fn clean",
        "export_hook!(MyHook);",
        "#[test]",
    ] {
        assert!(lib.contains(phase), "lib.rs lacks {phase}");
    }
    assert!(read(&crate_dir.join("my-hook.toml")).contains("[capabilities]"));
    // Again into the same, now non-empty, directory: refused.
    hookhost(&["new", "my-hook", "--path", crate_dir.to_str().unwrap()])
        .assert_code(2)
        .assert_stderr_has("not empty");
    hookhost(&["new", "50-x"])
        .assert_code(2)
        .assert_stderr_has("leave the number out");
}
