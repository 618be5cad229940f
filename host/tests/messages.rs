//! What the operator reads when something is wrong, through the real
//! binary: config errors show the source line with a caret under one
//! headline, typos get "did you mean", each failure gets the advice that
//! fits its cause (or none), the verdict says where `stack` stopped and
//! repeats the first error, and `--json` carries the same as fields.

mod support;

use support::{Run, TestStack};

/// A bash hook that runs `body` in `stack install` only.
fn at_install(body: &str) -> String {
    format!("if [[ $1 == stack && $2 == install ]]; then\n  {body}\nfi\n")
}

/// The stack's directory as hookhost prints it (canonical).
fn top(stack: &TestStack) -> String {
    stack.top().canonicalize().unwrap().display().to_string()
}

#[track_caller]
fn assert_lacks(run: &Run, text: &str) {
    assert!(!run.all().contains(text), "{text:?} shown\n{}", run.all());
}

/// The line of stdout that starts with `prefix`.
#[track_caller]
fn line_starting<'a>(run: &'a Run, prefix: &str) -> &'a str {
    run.stdout
        .lines()
        .find(|l| l.starts_with(prefix))
        .unwrap_or_else(|| panic!("no line starting {prefix:?}\n{}", run.all()))
}

// ------------------------------------------------------------ advice

#[test]
fn devstacks_die_gets_its_own_advice_and_stack_restarts_nothing() {
    let stack = TestStack::new();
    stack.bash("35-die.sh", &at_install("die $LINENO \"the disk is full\""));
    let run = stack.hookhost(&["stack"]);
    run.assert_code(1)
        .assert_no_panic()
        .assert_stderr_has("[ERROR] extras.d/35-die.sh:2 the disk is full")
        .assert_stderr_has("the [ERROR] line above says why the hook stopped (DevStack's `die`)");
    assert_lacks(&run, "use `return N`");
    // `stack` stops at the failure: no session is restarted, nothing said
    // about state lost "for the rest of the run".
    assert_lacks(&run, "were run again");
    assert_lacks(&run, "is lost");
    run.assert_stderr_has("  = reason: ended the bash session (exit status 1)\n");
}

#[test]
fn a_crlf_hook_is_refused_for_its_line_endings_not_told_about_exit() {
    let stack = TestStack::new();
    stack.bash("30-crlf.sh", "echo one\r\necho two\r\n");
    let run = stack.hookhost(&["stack"]);
    run.assert_code(2)
        .assert_no_panic()
        .assert_stderr_has(&format!(
            "error: {}/extras.d/30-crlf.sh:1: has Windows (CRLF) line endings",
            top(&stack)
        ))
        // The fix runs from wherever the operator is: the path is absolute.
        .assert_stderr_has(&format!(
            "sed -i 's/\\r$//' {}/extras.d/30-crlf.sh`",
            top(&stack)
        ));
    assert_lacks(&run, "return N");
    assert!(!stack.path(".hookhost/logs").exists(), "{}", run.all());
}

#[test]
fn an_unreadable_hook_is_named_and_skipped_not_told_about_exit() {
    let stack = TestStack::new();
    stack.bash("10-ok.sh", "echo ran-ok\n");
    stack.bash("20-locked.sh", "echo never\n");
    let locked = stack.path("extras.d/20-locked.sh");
    let run = run_unprivileged(&stack, &locked);
    run.assert_code(0)
        .assert_no_panic()
        .assert_stderr_has("20-locked.sh: cannot be read (Permission denied)")
        .assert_stdout_has("[10-ok] ran-ok");
    assert_lacks(&run, "return N");
    assert_lacks(&run, "never");
}

/// `hookhost stack` with `locked` unreadable to it. Root reads any file,
/// so as root the run drops to `nobody` (setpriv), on a stack it may use.
fn run_unprivileged(stack: &TestStack, locked: &std::path::Path) -> Run {
    use std::os::unix::fs::PermissionsExt;
    let mode = |path: &std::path::Path, mode| {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap()
    };
    let binary = env!("CARGO_BIN_EXE_hookhost");
    // SAFETY: geteuid has no preconditions and cannot fail.
    let mut command = match unsafe { libc::geteuid() } {
        0 => {
            // nobody must reach the binary, the stack and its extras.d.
            let copy = stack.path("hookhost-bin");
            std::fs::copy(binary, &copy).unwrap();
            for dir in [stack.top().to_path_buf(), stack.path("extras.d")] {
                mode(&dir, 0o777);
            }
            for file in std::fs::read_dir(stack.path("extras.d")).unwrap() {
                mode(&file.unwrap().path(), 0o644);
            }
            mode(&copy, 0o755);
            let mut command = std::process::Command::new("setpriv");
            command
                .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
                .arg(copy)
                .env("HOME", stack.top());
            command
        }
        _ => std::process::Command::new(binary),
    };
    mode(locked, 0o000);
    let output = command
        .args(["stack", "--top"])
        .arg(stack.top())
        .env("NO_COLOR", "1")
        .env("HOOKHOST_CACHE_DIR", stack.path("cache"))
        .output()
        .expect("run hookhost");
    Run::from(output)
}

#[test]
fn a_hook_that_returns_non_zero_is_told_about_errexit_not_exit() {
    let stack = TestStack::new();
    stack.bash("35-ret.sh", &at_install("return 4"));
    let run = stack.hookhost(&["stack"]);
    run.assert_code(1)
        .assert_stderr_has("hookhost: extras.d/35-ret.sh returned status 4")
        .assert_stderr_has(
            "the hook returned a non-zero status, which stops the run under errexit",
        );
    assert_lacks(&run, "use `return N`");
}

#[test]
fn bashs_own_fatal_error_is_told_as_such() {
    let stack = TestStack::new();
    stack.bash(
        "35-unset.sh",
        &at_install("set -u; echo \"$NOT_SET_ANYWHERE\""),
    );
    let run = stack.hookhost(&["stack"]);
    run.assert_code(1)
        .assert_stderr_has("NOT_SET_ANYWHERE: unbound variable")
        .assert_stderr_has("bash stopped at its own error above");
    assert_lacks(&run, "use `return N`");
}

#[test]
fn exit_still_gets_the_return_advice() {
    let stack = TestStack::new();
    stack.bash("35-exit.sh", &at_install("exit 3"));
    let run = stack.hookhost(&["stack"]);
    run.assert_code(1)
        .assert_stderr_has("use `return N`, not `exit N` or `exec`");
}

// ------------------------------------------------------------ verdict

#[test]
fn the_verdict_names_where_stack_stopped_and_repeats_the_first_error() {
    let stack = TestStack::new();
    stack.bash("10-ok.sh", "true\n");
    stack.bash(
        "35-fail.sh",
        &at_install("echo 'the real cause' >&2; false"),
    );
    let run = stack.hookhost(&["stack"]);
    run.assert_code(1);
    let verdict = line_starting(&run, "stack failed at ");
    assert!(
        verdict.starts_with("stack failed at 35-fail (bash) in stack install after "),
        "{}",
        run.all()
    );
    // After the timing table: the verdict, the first error again, its
    // last lines of output (what says why, then hookhost's line), and the
    // log.
    let after_table = run
        .stdout
        .rsplit("=========================\n")
        .next()
        .unwrap();
    let lines: Vec<&str> = after_table.lines().collect();
    assert_eq!(lines[0], verdict, "{}", run.all());
    assert_eq!(
        lines[1..6],
        [
            "  = error: hook 35-fail (bash) failed in `stack install`",
            "  = reason: ended the bash session (exit status 1)",
            "  = last output:",
            "   | the real cause",
            "   | hookhost: 'false' failed with status 1 at extras.d/35-fail.sh line 2",
        ],
        "{}",
        run.all()
    );
    assert!(
        lines[6].starts_with(&format!(
            "  = note: the whole run is in {}/.hookhost/logs/stack-",
            top(&stack)
        )),
        "{}",
        run.all()
    );
    // The log ends the same way.
    let log = lines[6].rsplit(' ').next().unwrap();
    let text = std::fs::read_to_string(log).unwrap();
    assert!(text.contains(verdict), "{text}");
    assert!(
        text.contains("  = error: hook 35-fail (bash) failed in `stack install`\n  = reason: "),
        "{text}"
    );
}

#[test]
fn a_successful_run_says_where_its_log_is() {
    let stack = TestStack::new();
    stack.bash("10-ok.sh", "true\n");
    for args in [&["stack"][..], &["stack", "--quiet"]] {
        let run = stack.hookhost(args);
        run.assert_code(0);
        let note = line_starting(&run, "  = note: the whole run is in ");
        let log = note.rsplit(' ').next().unwrap();
        assert!(std::path::Path::new(log).is_file(), "{}", run.all());
        assert!(run.stdout.contains("stack finished in "), "{}", run.all());
    }
}

#[test]
fn unstack_keeps_counting_failures_and_repeats_the_first() {
    let stack = TestStack::new();
    stack.bash("20-a.sh", "[[ $1 == unstack ]] && exit 3\ntrue\n");
    stack.bash("30-b.sh", "[[ $1 == unstack ]] && exit 4\ntrue\n");
    let run = stack.hookhost(&["unstack"]);
    run.assert_code(1);
    line_starting(&run, "unstack finished with 2 failure(s) in ");
    line_starting(&run, "  = error: hook 20-a (bash) failed in `unstack`");
}

// ------------------------------------------------------------ --json

fn json_lines(run: &Run) -> Vec<serde_json::Value> {
    run.stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

#[test]
fn json_summary_says_where_stack_stopped_at_a_failure() {
    let stack = TestStack::new();
    stack.bash("35-fail.sh", &at_install("false"));
    let run = stack.hookhost(&["stack", "--json"]);
    run.assert_code(1);
    let events = json_lines(&run);
    let summary = events.last().unwrap();
    assert_eq!(summary["event"], "summary");
    assert_eq!(summary["status"], "failed");
    assert_eq!(
        summary["stopped_at"],
        serde_json::json!({"hook": "35-fail", "kind": "bash", "phase": "stack install"})
    );
    assert!(summary["first_error"]
        .as_str()
        .unwrap()
        .starts_with("hook 35-fail (bash) failed in `stack install`"));
    // A run that did not stop early has none.
    let ok = TestStack::new();
    ok.bash("10-ok.sh", "true\n");
    let run = ok.hookhost(&["stack", "--json"]);
    let events = json_lines(&run);
    assert!(events.last().unwrap()["stopped_at"].is_null());
}

#[test]
fn json_refused_lists_each_problem_with_its_fields() {
    let stack = TestStack::new();
    stack.bash("10-ok.sh", "true\n");
    stack.write(
        "local.conf",
        "[[local|localrc]]\nA=1\nB=$(hostname)\nC=`date`\n",
    );
    let run = stack.hookhost(&["stack", "--json"]);
    run.assert_code(2);
    let event: serde_json::Value = serde_json::from_str(run.stdout.trim()).unwrap();
    assert_eq!(event["event"], "refused");
    let problems = event["problems"].as_array().unwrap();
    assert_eq!(problems.len(), 2, "{event}");
    let conf = format!("{}/local.conf", top(&stack));
    // `$(` is shown with its whole line, a backtick at its column.
    for (problem, (line, column)) in problems.iter().zip([(3, 1), (4, 3)]) {
        assert_eq!(problem["file"], conf.as_str(), "{event}");
        assert_eq!(problem["line"], line, "{event}");
        assert_eq!(problem["column"], column, "{event}");
        assert!(problem["message"]
            .as_str()
            .unwrap()
            .contains("command substitution"));
        assert!(problem["text"]
            .as_str()
            .unwrap()
            .starts_with(&format!("{conf}:{line}: ")));
    }
    // The snippets are for people: not in the event's headlines.
    let errors = event["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 2, "{event}");
    assert!(!event.to_string().contains("-->"), "{event}");
}

#[test]
fn json_refused_gives_each_missing_grant_its_hook_capability_and_line() {
    let stack = TestStack::new();
    stack.wasm(
        "20-greeter",
        "demo-greeter",
        Some("[capabilities]\nread = [\"lib\"]\nvars-read = [\"FOO\"]\n"),
    );
    let run = stack.hookhost(&["stack", "--json"]);
    run.assert_code(2);
    let event: serde_json::Value = serde_json::from_str(run.stdout.trim()).unwrap();
    let problems = event["problems"].as_array().unwrap();
    assert_eq!(problems.len(), 2, "{event}");
    let manifest = format!("{}/extras.d/20-greeter.toml", top(&stack));
    for (problem, (capability, line)) in problems.iter().zip([("read", 2), ("vars-read", 3)]) {
        assert_eq!(problem["hook"], "20-greeter", "{event}");
        assert_eq!(problem["capability"], capability, "{event}");
        assert_eq!(problem["file"], manifest.as_str(), "{event}");
        assert_eq!(problem["line"], line, "{event}");
    }
    // People still read every missing grant under one headline.
    run.assert_stderr_has(
        "20-greeter.wasm requests capabilities the operator has not granted:\n  read lib: add",
    );
}

// ------------------------------------------------------------ snippets

/// The refusal's first line, then a rustc-style snippet: ` --> FILE:L:C`,
/// the source line and a caret under the span.
#[track_caller]
fn assert_snippet(run: &Run, headline: &str, at: &str, source: &str, caret: &str) {
    run.assert_code(2).assert_no_panic();
    let first = run.stderr.lines().next().unwrap_or_default();
    assert!(first.starts_with("error: "), "{}", run.all());
    assert!(first.contains(headline), "{}", run.all());
    run.assert_stderr_has(&format!(" --> {at}\n"))
        .assert_stderr_has(source)
        .assert_stderr_has(caret);
    assert!(
        !run.stderr.contains('\u{1b}'),
        "colour with NO_COLOR\n{}",
        run.all()
    );
}

#[test]
fn a_toml_typo_in_hookhost_toml_shows_the_line_and_a_caret() {
    let stack = TestStack::new();
    stack.bash("10-ok.sh", "true\n");
    stack.write("hookhost.toml", "[grants.10-ok]\nvars-reed = [\"A\"]\n");
    let run = stack.hookhost(&["stack"]);
    let file = format!("{}/hookhost.toml", top(&stack));
    assert_snippet(
        &run,
        &format!("{file}: line 2: unknown field `vars-reed` (did you mean `vars-read`?); expected one of"),
        &format!("{file}:2:1"),
        "2 | vars-reed = [\"A\"]\n",
        "  | ^^^^^^^^^ unknown field `vars-reed`\n",
    );
    // A syntax error points at the column.
    stack.write("hookhost.toml", "allow-install = \n");
    let run = stack.hookhost(&["stack"]);
    assert_snippet(
        &run,
        "line 1: invalid string",
        &format!("{file}:1:17"),
        "1 | allow-install = ",
        "  |                 ^ invalid string",
    );
}

#[test]
fn a_toml_typo_in_a_manifest_shows_the_line_and_a_caret() {
    let stack = TestStack::new();
    stack.bash("10-ok.sh", "true\n");
    stack.write("extras.d/10-ok.toml", "[capabilities]\nredd = []\n");
    let run = stack.hookhost(&["stack"]);
    let file = format!("{}/extras.d/10-ok.toml", top(&stack));
    assert_snippet(
        &run,
        "line 2: unknown field `redd` (did you mean `read`?)",
        &format!("{file}:2:1"),
        "2 | redd = []\n",
        "  | ^^^^ unknown field `redd`\n",
    );
    // A bad value points at the value.
    stack.write("extras.d/10-ok.toml", "[capabilities]\nmemory = \"64MB\"\n");
    let run = stack.hookhost(&["stack"]);
    let json = stack.hookhost(&["stack", "--json"]);
    let event: serde_json::Value = serde_json::from_str(json.stdout.trim()).unwrap();
    let problem = &event["problems"][0];
    assert_eq!(problem["file"], file.as_str(), "{event}");
    assert_eq!([&problem["line"], &problem["column"]], [2, 10], "{event}");
    assert_eq!(problem["hook"], "10-ok", "{event}");
    assert_eq!(problem["capability"], "memory", "{event}");
    assert_snippet(
        &run,
        "line 2: capabilities.memory: \"64MB\": unknown unit \"MB\"",
        &format!("{file}:2:10"),
        "2 | memory = \"64MB\"\n",
        "  |          ^^^^^^ \"64MB\": unknown unit \"MB\"\n",
    );
}

#[test]
fn a_broken_lock_file_shows_the_line_and_a_caret() {
    let stack = TestStack::new();
    stack.bash("10-ok.sh", "true\n");
    stack.write("hookhost.lock", "version = 1\n[plugins.x]\nurl = 3\n");
    stack.write(
        "local.conf",
        "[[local|localrc]]\nenable_plugin x https://example.invalid/x.git\n",
    );
    let run = stack.hookhost(&["stack"]);
    let file = format!("{}/hookhost.lock", top(&stack));
    assert_snippet(
        &run,
        &format!("{file}: not a valid lock file: line 3: invalid type"),
        &format!("{file}:3:7"),
        "3 | url = 3\n",
        "  |       ^ invalid type",
    );
}

#[test]
fn a_local_conf_error_shows_the_line_and_where_in_it() {
    let stack = TestStack::new();
    stack.bash("10-ok.sh", "true\n");
    stack.write("local.conf", "[[local|localrc]]\nA=1\n  B=x|y\n");
    let run = stack.hookhost(&["stack"]);
    let file = format!("{}/local.conf", top(&stack));
    assert_snippet(
        &run,
        &format!("{file}:3: shell operator `|` is not supported"),
        &format!("{file}:3:6"),
        "3 |   B=x|y\n",
        "  |      ^ shell operator `|` is not supported\n",
    );
}

#[test]
fn control_characters_in_a_snippet_are_not_sent_to_the_terminal() {
    let stack = TestStack::new();
    stack.bash("10-ok.sh", "true\n");
    stack.write(
        "extras.d/10-ok.toml",
        "[capabilities]\nread = [\"\u{1b}]0;x\u{7}/etc\"]\n",
    );
    let run = stack.hookhost(&["stack"]);
    run.assert_code(2).assert_stderr_has(" --> ");
    assert!(!run.stderr.contains('\u{1b}'), "{}", run.all());
    assert!(!run.stderr.contains('\u{7}'), "{}", run.all());
}

// ------------------------------------------------------------ did you mean

#[test]
fn an_unknown_service_is_warned_with_the_name_meant() {
    let stack = TestStack::new();
    stack.bash(
        "20-greeter.sh",
        "if is_service_enabled greeter; then echo greeting; fi\n",
    );
    stack.write(
        "local.conf",
        "[[local|localrc]]\nenable_service greter n-api\nENABLED_SERVICES+=,n-cpuu\n",
    );
    let run = stack.hookhost(&["stack"]);
    let conf = format!("{}/local.conf", top(&stack));
    run.assert_code(0)
        .assert_stderr_has(&format!(
            "warning: {conf}:2: enable_service greter: no hook, plugin or DevStack service is \
             named `greter` (did you mean `greeter`?)"
        ))
        .assert_stderr_has(&format!(
            "warning: {conf}:3: ENABLED_SERVICES n-cpuu: no hook, plugin or DevStack service is \
             named `n-cpuu` (did you mean `n-cpu`?)"
        ));
    assert_lacks(&run, "greeting");
    assert_lacks(&run, "`n-api`");
}

#[test]
fn a_virt_driver_typo_names_the_driver_meant() {
    let stack = TestStack::new();
    stack.bash("10-ok.sh", "true\n");
    stack.write("lib/nova_plugins/hypervisor-libvirt", "true\n");
    stack.write("lib/nova_plugins/hypervisor-fake", "true\n");
    stack.write("local.conf", "[[local|localrc]]\nVIRT_DRIVER=libvrt\n");
    let run = stack.hookhost(&["stack"]);
    run.assert_code(2)
        .assert_stderr_has(&format!(
            "error: {}/local.conf:2: VIRT_DRIVER=libvrt: no such driver (did you mean `libvirt`?)",
            top(&stack)
        ))
        .assert_stderr_has("the drivers present: fake, libvirt");
    // The line that set it, under a caret, as local.conf's other errors.
    run.assert_stderr_has(&format!(
        " --> {}/local.conf:2:1
",
        top(&stack)
    ))
    .assert_stderr_has(
        "2 | VIRT_DRIVER=libvrt
",
    )
    .assert_stderr_has("^^^^ selects no driver");
}

#[test]
fn a_snippet_is_coloured_only_where_colour_is_wanted() {
    let stack = TestStack::new();
    stack.bash("10-ok.sh", "true\n");
    stack.write("extras.d/10-ok.toml", "[capabilities]\nredd = []\n");
    let run = |env: &[(&str, &str)]| {
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_hookhost"))
            .args(["stack", "--top"])
            .arg(stack.top())
            .env_remove("NO_COLOR")
            .envs(env.iter().copied())
            .output()
            .expect("run hookhost");
        Run::from(output)
    };
    // CLICOLOR_FORCE stands in for a terminal; NO_COLOR wins over it.
    let forced = run(&[("CLICOLOR_FORCE", "1")]);
    forced.assert_code(2);
    assert!(forced.stderr.contains("\u{1b}["), "{}", forced.all());
    let lines: Vec<&str> = forced.stderr.lines().collect();
    assert!(
        lines.len() >= 5 && lines[1].contains("-->"),
        "{}",
        forced.all()
    );
    let plain = run(&[("CLICOLOR_FORCE", "1"), ("NO_COLOR", "1")]);
    plain.assert_code(2).assert_stderr_has("2 | redd = []");
    assert!(!plain.stderr.contains('\u{1b}'), "{}", plain.all());
}
