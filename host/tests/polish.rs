//! The operator's second pass, through the real binary: a `--json`
//! refusal carries each problem's file, line and hook (one `errors` entry
//! per problem, warnings as events); the spinner never counts past its
//! total and follows the phase header; the verdict repeats the lines that
//! say why a hook failed and notes what plugins were denied; `list`,
//! `status` and a `--top` at a file refuse as `plan` does; an `--allow-*`
//! flag no plugin uses is warned about; driver rows name their function;
//! the demo runs without a warning of its own making.

mod support;

use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::Command;

use serde_json::Value;
use support::{component, repo_root, Run, TestStack};

/// The stack's directory as hookhost prints it (canonical).
fn top(stack: &TestStack) -> String {
    stack.top().canonicalize().unwrap().display().to_string()
}

#[track_caller]
fn assert_lacks(run: &Run, text: &str) {
    assert!(!run.all().contains(text), "{text:?} shown\n{}", run.all());
}

/// Every JSON line of a run's stdout.
fn events(run: &Run) -> Vec<Value> {
    let parse = |l: &str| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}"));
    run.stdout.lines().map(parse).collect()
}

/// The one `refused` event of a `--json` run.
fn refused(run: &Run) -> Value {
    let all = events(run);
    let found = all.into_iter().find(|e| e["event"] == "refused");
    found.unwrap_or_else(|| panic!("no refused event\n{}", run.all()))
}

/// The problem of `event` whose `text` contains `words`.
#[track_caller]
fn problem<'a>(event: &'a Value, words: &str) -> &'a Value {
    let problems = event["problems"].as_array().unwrap();
    let found = problems
        .iter()
        .find(|p| p["text"].as_str().unwrap().contains(words));
    found.unwrap_or_else(|| panic!("no problem with {words:?}: {event}"))
}

/// The bash driver of the demo, selected by local.conf.
fn with_fake_driver(stack: &TestStack) {
    let demo = repo_root().join("examples/demo/lib/nova_plugins/hypervisor-fake");
    let text = std::fs::read_to_string(demo).unwrap();
    stack.write("lib/nova_plugins/hypervisor-fake", &text);
    stack.write("local.conf", "[[local|localrc]]\nVIRT_DRIVER=fake\n");
}

// ------------------------------------------------------------ --json refused

#[test]
fn json_refused_gives_discovery_problems_their_file_line_and_hook() {
    let stack = TestStack::new();
    stack
        .bash("05-early.sh", "true\n")
        .bash("20-greeter.sh", "true\n")
        .bash("35-crlf.sh", "echo one\necho two\r\n")
        .bash("myhook.sh", "true\n")
        .write("extras.d/20-greeter.wasm", "junk");
    let run = stack.hookhost(&["stack", "--json"]);
    run.assert_code(2).assert_no_panic();
    let event = refused(&run);
    let extras = format!("{}/extras.d", top(&stack));
    let reserved = problem(&event, "is reserved");
    assert_eq!(reserved["file"], format!("{extras}/05-early.sh"), "{event}");
    assert_eq!(reserved["hook"], "05-early", "{event}");
    let crlf = problem(&event, "CRLF");
    assert_eq!(crlf["file"], format!("{extras}/35-crlf.sh"), "{event}");
    assert_eq!(crlf["line"], 2, "{event}");
    assert_eq!(crlf["hook"], "35-crlf", "{event}");
    let twice = problem(&event, "two hooks named 20-greeter");
    assert_eq!(twice["file"], format!("{extras}/20-greeter.sh"), "{event}");
    assert_eq!(twice["hook"], "20-greeter", "{event}");
    // A file skipped as not a hook is said, as an event, though refused.
    let warnings: Vec<Value> = events(&run)
        .into_iter()
        .filter(|e| e["event"] == "warning")
        .collect();
    assert!(
        warnings.iter().any(|w| w["message"]
            .as_str()
            .unwrap()
            .contains("myhook.sh: the name does not start")),
        "{}",
        run.all()
    );
}

#[test]
fn json_refused_gives_a_broken_component_and_virt_driver_their_place() {
    let stack = TestStack::new();
    stack
        .bash("10-ok.sh", "true\n")
        .write("extras.d/85-broken.wasm", "not wasm at all\n")
        .write("lib/nova_plugins/hypervisor-fake", "true\n")
        .write("local.conf", "[[local|localrc]]\nA=1\nVIRT_DRIVER=fak\n");
    let run = stack.hookhost(&["stack", "--json"]);
    run.assert_code(2).assert_no_panic();
    let event = refused(&run);
    let broken = problem(&event, "is not a WebAssembly file");
    let path = format!("{}/extras.d/85-broken.wasm", top(&stack));
    assert_eq!(broken["file"], path.as_str(), "{event}");
    assert_eq!(broken["hook"], "85-broken", "{event}");
    // The path is said once, as the problem's file.
    assert_eq!(broken["text"].as_str().unwrap().matches(&path).count(), 1);
    let driver = problem(&event, "VIRT_DRIVER=fak");
    assert_eq!(
        driver["file"],
        format!("{}/local.conf", top(&stack)),
        "{event}"
    );
    assert_eq!(driver["line"], 3, "{event}");
    assert_eq!(driver["column"], 1, "{event}");
}

#[test]
fn json_refused_has_one_error_per_problem_and_the_warnings_as_events() {
    let stack = TestStack::new();
    stack
        .wasm(
            "20-greeter",
            "demo-greeter",
            Some("[capabilities]\nvars-read = [\"GREETING_NAME\"]\nvars-write = [\"GREETING\"]\n"),
        )
        .write("extras.d/85-broken.wasm", "junk\n")
        .write(
            "hookhost.toml",
            "[grants.greter]\nvars-read = [\"GREETING_NAME\"]\n",
        );
    let run = stack.hookhost(&["stack", "--json"]);
    run.assert_code(2).assert_no_panic();
    let event = refused(&run);
    // Two problems: the greeter's missing grants (one headline of three
    // lines) and the broken component.
    let errors = event["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 2, "{event}");
    let grants = errors[0].as_str().unwrap();
    assert!(
        grants.contains("has not granted:\n  vars-read GREETING_NAME"),
        "{event}"
    );
    assert!(grants.contains("\n  vars-write GREETING"), "{event}");
    let all = events(&run);
    let warning = all
        .iter()
        .find(|e| e["event"] == "warning")
        .unwrap_or_else(|| panic!("no warning event\n{}", run.all()));
    let message = warning["message"].as_str().unwrap();
    assert!(
        message.contains("[grants.greter] matches no hook"),
        "{message}"
    );
    assert!(message.contains("(did you mean `greeter`?)"), "{message}");
    // Events only on stdout: stderr carries no duplicate warning text.
    assert_lacks(&run, "warning: ");
}

// ------------------------------------------------------------ refused, in words

#[test]
fn skip_warnings_are_said_when_the_stack_is_refused() {
    let stack = TestStack::new();
    stack
        .bash("05-early.sh", "true\n")
        .bash("31-x.bash", "true\n")
        .bash("myhook.sh", "true\n");
    let run = stack.hookhost(&["stack"]);
    run.assert_code(2)
        .assert_no_panic()
        .assert_stderr_has("05-early.sh: sequence number 05 is reserved")
        .assert_stderr_has("warning: skipped ")
        .assert_stderr_has("31-x.bash: unknown extension `.bash`")
        .assert_stderr_has("myhook.sh: the name does not start with a two-digit");
}

#[test]
fn list_shows_every_problem_of_a_stack_stack_refuses_and_exits_2() {
    let stack = TestStack::new();
    stack
        .wasm(
            "20-greeter",
            "demo-greeter",
            Some("[capabilities]\nvars-read = [\"GREETING_NAME\"]\n"),
        )
        .write("extras.d/85-broken.wasm", "junk\n")
        .write(
            "hookhost.toml",
            "[grants.greter]\nvars-read = [\"GREETING_NAME\"]\n",
        );
    let run = stack.hookhost(&["list"]);
    run.assert_code(2)
        .assert_no_panic()
        .assert_stderr_has("warning: ")
        .assert_stderr_has("[grants.greter] matches no hook")
        .assert_stderr_has("20-greeter.wasm requests capabilities the operator has not granted")
        .assert_stderr_has("85-broken.wasm: is not a WebAssembly file");
    // The listing is still there to read beside the problems.
    run.assert_stdout_has("20-greeter.wasm");
    // Listing fetches and writes nothing.
    assert!(!stack.path(".hookhost").exists(), "{}", run.all());
    // Fixed, it lists as before.
    std::fs::remove_file(stack.path("extras.d/85-broken.wasm")).unwrap();
    stack.write(
        "hookhost.toml",
        "[grants.greeter]\nvars-read = [\"GREETING_NAME\"]\n",
    );
    stack
        .hookhost(&["list"])
        .assert_code(0)
        .assert_stdout_has("20-greeter");
}

#[test]
fn list_shows_a_local_conf_error_and_the_others_beside_it() {
    let stack = TestStack::new();
    stack
        .bash("10-ok.sh", "true\n")
        .write("extras.d/85-broken.wasm", "junk\n")
        .write("local.conf", "[[local|localrc]]\nA=$(hostname)\n");
    let run = stack.hookhost(&["list"]);
    run.assert_code(2)
        .assert_no_panic()
        .assert_stderr_has("local.conf:2: ")
        .assert_stderr_has("85-broken.wasm: is not a WebAssembly file");
}

#[test]
fn status_on_a_directory_that_is_not_a_stack_says_so() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("notes.txt"), "x\n").unwrap();
    let svg = dir.path().join("run.svg");
    for args in [
        vec!["status"],
        vec!["status", "--json"],
        vec!["status", "--timeline", svg.to_str().unwrap()],
    ] {
        let run = Run::from(
            Command::new(env!("CARGO_BIN_EXE_hookhost"))
                .args(&args)
                .arg("--top")
                .arg(dir.path())
                .output()
                .unwrap(),
        );
        run.assert_code(2)
            .assert_no_panic()
            .assert_stderr_has(": not a stack: it has no extras.d/");
        assert!(!dir.path().join(".hookhost").exists());
        assert!(!svg.exists());
    }
}

#[test]
fn top_at_a_file_says_it_is_not_a_directory() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("passwd");
    std::fs::write(&file, "root:x:0:0\n").unwrap();
    for command in ["stack", "list", "status"] {
        let run = Run::from(
            Command::new(env!("CARGO_BIN_EXE_hookhost"))
                .args([command, "--top"])
                .arg(&file)
                .output()
                .unwrap(),
        );
        run.assert_code(2)
            .assert_no_panic()
            .assert_stderr_has(&format!("{}: is not a directory", file.display()));
        assert_lacks(&run, "no such stack directory");
    }
}

#[test]
fn status_prints_the_journal_path_absolute_from_a_relative_top() {
    let stack = TestStack::new();
    stack.bash("10-ok.sh", "true\n");
    stack.hookhost(&["stack", "--quiet"]).assert_code(0);
    let parent = stack.top().parent().unwrap();
    let name = stack.top().file_name().unwrap();
    let run = Run::from(
        Command::new(env!("CARGO_BIN_EXE_hookhost"))
            .args(["status", "--top"])
            .arg(name)
            .current_dir(parent)
            .output()
            .unwrap(),
    );
    run.assert_code(0).assert_stdout_has(&format!(
        "  journal  {}/.hookhost/journal.jsonl\n",
        top(&stack)
    ));
}

// ------------------------------------------------------------ grant flags

#[test]
fn an_allow_flag_no_plugin_requests_is_warned_about_with_the_nearest() {
    let stack = TestStack::new();
    stack.wasm(
        "20-greeter",
        "demo-greeter",
        Some("[capabilities]\nvars-read = [\"GREETING_NAME\"]\n"),
    );
    let used = "--allow-env=GREETING_NAME";
    let run = stack.hookhost(&[
        "stack",
        used,
        "--allow-env=GREETING_NAM",
        "--allow-write=files",
    ]);
    run.assert_code(0)
        .assert_no_panic()
        .assert_stderr_has(
            "warning: --allow-env=GREETING_NAM: no plugin of this run requests it, so it grants \
             nothing (did you mean `GREETING_NAME`?)",
        )
        .assert_stderr_has("warning: --allow-write=files: no plugin of this run requests it");
    assert_lacks(&run, "--allow-env=GREETING_NAME:");
    // `plan` says it too.
    let run = stack.hookhost(&["plan", "stack", used, "--allow-write=files"]);
    run.assert_code(0)
        .assert_stdout_has("--allow-write=files: no plugin of this run requests it");
}

// ------------------------------------------------------------ the verdict

#[test]
fn the_verdict_repeats_the_lines_that_say_why_a_hook_failed() {
    let stack = TestStack::new();
    stack.bash(
        "33-copy.sh",
        "if [[ $2 == install ]]; then\n  echo preparing\n  echo one more\n  \
         cp /nonexistent/config.ini /tmp/\nfi\n",
    );
    let run = stack.hookhost(&["stack"]);
    run.assert_code(1).assert_no_panic();
    let verdict = run
        .stdout
        .split("stack failed at 33-copy (bash)")
        .nth(1)
        .unwrap_or_else(|| panic!("no verdict\n{}", run.all()));
    let lines: Vec<&str> = verdict.lines().collect();
    let at = lines
        .iter()
        .position(|l| *l == "  = last output:")
        .unwrap_or_else(|| panic!("no last output\n{}", run.all()));
    assert_eq!(lines[at + 1], "   | one more", "{}", run.all());
    assert!(
        lines[at + 2].starts_with("   | cp: cannot stat '/nonexistent/config.ini'"),
        "{}",
        run.all()
    );
    assert!(
        lines[at + 3].starts_with("   | hookhost: 'cp /nonexistent/config.ini /tmp/' failed"),
        "{}",
        run.all()
    );
    // A bounded few: not the whole output again.
    assert!(!lines[at + 4].starts_with("   | "), "{}", run.all());
}

// ------------------------------------------------------------ drivers in status

#[test]
fn driver_rows_in_status_name_the_function_called() {
    let stack = TestStack::new();
    stack.bash("10-ok.sh", "true\n");
    with_fake_driver(&stack);
    stack.hookhost(&["stack", "--quiet"]).assert_code(0);
    let run = stack.hookhost(&["status"]);
    run.assert_code(0);
    let rows: Vec<&str> = run
        .stdout
        .lines()
        .filter(|l| l.contains("hypervisor-fake"))
        .collect();
    let called: Vec<&str> = rows
        .iter()
        .filter_map(|l| {
            l.split_whitespace()
                .find(|w| w.starts_with("hypervisor-fake:"))
        })
        .collect();
    assert_eq!(
        called,
        [
            "hypervisor-fake:install_nova_hypervisor",
            "hypervisor-fake:configure_nova_hypervisor",
            "hypervisor-fake:start_nova_hypervisor"
        ],
        "{}",
        run.all()
    );
    let json: Value = serde_json::from_str(&stack.hookhost(&["status", "--json"]).stdout).unwrap();
    let text = json.to_string();
    assert!(
        text.contains("\"hypervisor-fake:configure_nova_hypervisor\""),
        "{text}"
    );
}

// ------------------------------------------------------------ the spinner

/// Run `hookhost stack --top STACK` under a pseudo-terminal (`script`)
/// and return what it drew, escape sequences dropped, one entry per line
/// or carriage-return segment.
fn drawn_on_a_terminal(stack: &TestStack) -> Vec<String> {
    let command = format!(
        "{} stack --top {}",
        env!("CARGO_BIN_EXE_hookhost"),
        stack.top().display()
    );
    let output = Command::new("script")
        .args(["-qefc", &command, "/dev/null"])
        .env("TERM", "xterm-256color")
        .env("NO_COLOR", "1")
        .output()
        .expect("run script(1)");
    support::terminal_segments(&String::from_utf8_lossy(&output.stdout))
}

/// `(position, total, label)` of a spinner line `⠋ [3/8] stack install ...`.
fn counter(line: &str) -> Option<(u64, u64, String)> {
    let open = line.find('[')?;
    let close = open + line[open..].find(']')?;
    let (at, total) = line[open + 1..close].split_once('/')?;
    let label = line[close + 1..].trim().to_string();
    Some((at.parse().ok()?, total.parse().ok()?, label))
}

#[test]
fn the_spinner_counts_driver_calls_and_its_label_follows_the_phase_header() {
    let stack = TestStack::new();
    // Slow enough steps that the spinner is drawn at each of them.
    let slow = "sleep 0.15\n";
    stack.bash("10-a.sh", slow).bash("20-b.sh", slow);
    with_fake_driver(&stack);
    let driver: String = ["install", "configure", "start", "stop", "cleanup"]
        .iter()
        .map(|f| format!("{f}_nova_hypervisor() {{ {slow}}}\n"))
        .collect();
    stack.write("lib/nova_plugins/hypervisor-fake", &driver);
    let lines = drawn_on_a_terminal(&stack);
    let shown = || lines.join("\n");
    // 2 hooks in 5 phases, and the driver's 3 calls in `stack`.
    let counters: Vec<(u64, u64, String)> = lines.iter().filter_map(|l| counter(l)).collect();
    assert!(!counters.is_empty(), "no spinner drawn:\n{}", shown());
    for (at, total, _) in &counters {
        assert_eq!(*total, 13, "{}", shown());
        assert!(at <= total, "[{at}/{total}]\n{}", shown());
    }
    assert!(
        counters
            .iter()
            .any(|(_, _, l)| l.contains("hypervisor-fake (bash)")),
        "{}",
        shown()
    );
    // After a phase's header, the spinner never names an earlier phase
    // (it may name the next one just before that one's header).
    let phases = [
        "source",
        "stack pre-install",
        "stack install",
        "stack post-config",
        "stack extra",
    ];
    let index = |label: &str| phases.iter().rposition(|p| label.starts_with(p));
    let mut header = None;
    for line in &lines {
        if let Some(name) = line.strip_prefix("==> ") {
            header = index(name.trim());
            continue;
        }
        if let (Some(header), Some((_, _, label))) = (header, counter(line)) {
            let drawn = index(&label);
            assert!(
                drawn.is_some_and(|d| d >= header),
                "{label:?} drawn after `==> {}`\n{}",
                phases[header],
                shown()
            );
        }
    }
}

// ------------------------------------------------------------ the demo

/// Copy `from` into `to`, recursively.
fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap().flatten() {
        let target = to.join(entry.file_name());
        match entry.path().is_dir() {
            true => copy_tree(&entry.path(), &target),
            false => {
                std::fs::copy(entry.path(), target).unwrap();
            }
        }
    }
}

#[test]
fn the_demo_runs_without_a_warning_about_what_it_enables() {
    let dir = tempfile::tempdir().unwrap();
    let demo = dir.path().join("demo");
    copy_tree(&repo_root().join("examples/demo"), &demo);
    let _ = std::fs::remove_dir_all(demo.join(".hookhost"));
    let extras = demo.join("extras.d");
    for (stem, name) in [
        ("20-greeter", "demo-greeter"),
        ("50-template", "template"),
        ("60-auditor", "demo-auditor"),
    ] {
        std::fs::copy(component(name), extras.join(format!("{stem}.wasm"))).unwrap();
        let manifest = repo_root().join(format!("plugins/{name}/{name}.toml"));
        std::fs::copy(manifest, extras.join(format!("{stem}.toml"))).unwrap();
    }
    let run = Run::from(
        Command::new(env!("CARGO_BIN_EXE_hookhost"))
            .args(["stack", "--top"])
            .arg(&demo)
            .env("NO_COLOR", "1")
            .env_remove("VIRT_DRIVER")
            .output()
            .unwrap(),
    );
    run.assert_code(0)
        .assert_no_panic()
        .assert_stdout_has("[60-auditor] Auditor: 3 services enabled")
        .assert_stdout_has("[70-summary] the WASM plugin 60-auditor enabled the 'auditor' service");
    // The one warning left is the documented one: cowsay is only recorded.
    let warnings: Vec<&str> = run
        .stderr
        .lines()
        .filter(|l| l.starts_with("warning: "))
        .collect();
    assert_eq!(
        warnings,
        ["warning: not installed (no install grant; rerun with --allow-install): cowsay"],
        "{}",
        run.all()
    );
}

#[test]
fn a_bad_virt_driver_in_local_conf_is_shown_at_its_line() {
    let stack = TestStack::new();
    stack
        .bash("10-ok.sh", "true\n")
        .write("local.conf", "[[local|localrc]]\nVIRT_DRIVER=../evil\n");
    let run = stack.hookhost(&["stack"]);
    run.assert_code(2)
        .assert_no_panic()
        .assert_stderr_has(&format!(
            "error: {}/local.conf:2: VIRT_DRIVER=\"../evil\" is not a driver name",
            top(&stack)
        ))
        .assert_stderr_has(&format!(" --> {}/local.conf:2:1\n", top(&stack)))
        .assert_stderr_has("2 | VIRT_DRIVER=../evil\n");
}

// ------------------------------------------------------------ Ctrl-C while starting

/// Ctrl-C on a terminal while the run starts (here: while the driver is
/// sourced; the terminal signals the whole foreground group, the bash
/// session too) is an interruption, exit 130, not a refusal blaming what
/// was starting.
#[test]
fn an_interrupt_while_starting_is_an_interruption() {
    let stack = TestStack::new();
    let functions: String = ["install", "configure", "start", "stop", "cleanup"]
        .iter()
        .map(|f| format!("{f}_nova_hypervisor() {{ :; }}\n"))
        .collect();
    stack
        .bash("10-a.sh", "echo \"a $*\"\n")
        .write(
            "lib/nova_plugins/hypervisor-slow",
            &format!("touch \"$TOP_DIR/sourcing\"\nsleep 30\n{functions}"),
        )
        .write("local.conf", "[[local|localrc]]\nVIRT_DRIVER=slow\n");
    let child = Command::new(env!("CARGO_BIN_EXE_hookhost"))
        .args(["stack", "--top"])
        .arg(stack.top())
        .env("NO_COLOR", "1")
        .process_group(0)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("start hookhost");
    let started = std::time::Instant::now();
    while !stack.path("sourcing").exists() {
        assert!(
            started.elapsed() < std::time::Duration::from_secs(60),
            "the driver was never sourced"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    // SAFETY: kill(2) on the process group our child leads, not yet
    // waited for.
    unsafe {
        libc::kill(-(child.id() as libc::pid_t), libc::SIGINT);
    }
    let output = child.wait_with_output().expect("wait for hookhost");
    let run = Run::from(output);
    assert_eq!(run.code, Some(130), "{}", run.all());
    assert!(
        run.stderr
            .contains("interrupted (Ctrl-C) while starting, before the first hook ran"),
        "{}",
        run.all()
    );
    assert_lacks(&run, "hypervisor-slow: sourcing");
    let status = stack.hookhost(&["status"]);
    assert!(status.stdout.contains("interrupted"), "{}", status.all());
}
