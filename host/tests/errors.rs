//! Every error a user can trigger names what is at fault: the file (with
//! its line where there is one), the field, the hook or the driver. These
//! are the errors tests/refusals.rs, tests/drivers.rs and
//! tests/reliability.rs do not already cover; each case sets up one
//! mistake, runs the real binary and checks the message, that it exits 2,
//! that nothing ran, and that no panic or Debug dump reached the user.

mod support;

use std::path::Path;

use support::{Run, TestStack};

const MARKER_HOOK: &str = "touch \"$TOP_DIR/ran-$1\"\n";

/// A stack with a bash hook that leaves `ran-<phase>` when it runs.
fn stack() -> TestStack {
    let stack = TestStack::new();
    stack.bash("10-marker.sh", MARKER_HOOK);
    stack
}

/// The stack's directory as hookhost prints it (canonical).
fn top(stack: &TestStack) -> String {
    stack.top().canonicalize().unwrap().display().to_string()
}

/// `hookhost ARGS --top STACK` with extra environment variables.
fn hookhost_env(stack: &TestStack, args: &[&str], env: &[(&str, &str)]) -> Run {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_hookhost"))
        .args(args)
        .arg("--top")
        .arg(stack.top())
        .env("NO_COLOR", "1")
        .envs(env.iter().copied())
        .output()
        .expect("run hookhost");
    Run::from(output)
}

/// Checks a refusal: exit 2, every expected text in stderr, the first line
/// starting `error: `, no panic or Debug dump, and no hook ran.
#[track_caller]
fn assert_refused(stack: &TestStack, run: &Run, expected: &[&str]) {
    run.assert_code(2).assert_no_panic();
    let first = run.stderr.lines().next().unwrap_or_default();
    assert!(first.starts_with("error: "), "{}", run.all());
    for text in expected {
        run.assert_stderr_has(text);
    }
    for debug in ["Os {", "Error {", "kind:", "Custom {"] {
        assert!(!run.stderr.contains(debug), "a Debug dump\n{}", run.all());
    }
    assert!(
        !stack.path("ran-source").exists(),
        "a hook ran before the refusal\n{}",
        run.all()
    );
}

/// How many problems a refusal shows: each starts `error: `, the source
/// under it (` --> FILE:LINE:COL`, the line, a caret) follows.
fn headlines(run: &Run) -> usize {
    run.stderr
        .lines()
        .filter(|l| l.starts_with("error: "))
        .count()
}

/// Write `text` as the stack's `local.conf` and check the refusal.
#[track_caller]
fn local_conf_refused(text: &[u8], expected: &[&str]) {
    let stack = stack();
    std::fs::write(stack.path("local.conf"), text).unwrap();
    let run = stack.hookhost(&["stack"]);
    let path = format!("{}/local.conf:", top(&stack));
    let mut all = vec![path.as_str()];
    all.extend(expected);
    assert_refused(&stack, &run, &all);
}

#[test]
fn local_conf_errors_name_the_file_and_line() {
    local_conf_refused(
        b"[[local|localrc]]\nA=1\nB=\xff\n",
        &["local.conf:3: not UTF-8 text"],
    );
    local_conf_refused(
        b"A=1\n[[local|localrc]]\nB=2\n",
        &["local.conf:1: text before the first [[phase|file]] section header"],
    );
    local_conf_refused(
        b"[[local|localrc]]\nA=1\nB=\"unterminated\n",
        &["local.conf:3: unterminated double quote"],
    );
    local_conf_refused(
        b"[[local|localrc]]\n1X=2\n",
        &["local.conf:2: `1X` is not a valid variable name"],
    );
    local_conf_refused(
        b"[[local|localrc]]\nA=1\n[[post-config|/etc/x.conf]]\nnot an ini line\n",
        &["local.conf:4: [[post-config|/etc/x.conf]]: `not an ini line`"],
    );
}

/// Write `text` as the stack's `hookhost.toml` and check the refusal.
#[track_caller]
fn operator_config_refused(text: &str, expected: &[&str]) {
    let stack = stack();
    stack.write("hookhost.toml", text);
    let run = stack.hookhost(&["stack"]);
    let path = format!("{}/hookhost.toml: ", top(&stack));
    let mut all = vec![path.as_str()];
    all.extend(expected);
    assert_refused(&stack, &run, &all);
    assert_eq!(headlines(&run), 1, "{}", run.all());
}

#[test]
fn operator_config_errors_name_the_file_the_line_and_the_field() {
    operator_config_refused("allow-install = \n", &["line 1"]);
    operator_config_refused("bogus = 1\n", &["unknown field `bogus`"]);
    operator_config_refused(
        "[grants.x]\nvars-reed = [\"A\"]\n",
        &["line 2", "unknown field `vars-reed`"],
    );
    operator_config_refused(
        "[grants.50-x]\nmemory = \"12XB\"\n",
        &["[grants.50-x] memory: \"12XB\": unknown unit \"XB\""],
    );
    operator_config_refused(
        "[deny]\ntimeout = \"0s\"\n",
        &["[deny] timeout: \"0s\": must be more than 0"],
    );
}

/// A manifest beside the bash hook `10-marker.sh`: checked even for a
/// trusted bash hook, so a typo is caught before it is confined.
#[track_caller]
fn manifest_refused(text: &str, expected: &[&str]) {
    let stack = stack();
    stack.write("extras.d/10-marker.toml", text);
    let run = stack.hookhost(&["stack"]);
    let path = format!("{}/extras.d/10-marker.toml: ", top(&stack));
    let mut all = vec![path.as_str()];
    all.extend(expected);
    assert_refused(&stack, &run, &all);
}

#[test]
fn manifest_errors_name_the_file_the_line_and_the_field() {
    manifest_refused("[capabilities\n", &["line 1: invalid table header"]);
    manifest_refused(
        "[capabilities]\nredd = []\n",
        &["line 2: unknown field `redd`"],
    );
    manifest_refused(
        "[capabilities]\nmemory = \"64MB\"\n",
        &["line 2: capabilities.memory: \"64MB\": unknown unit \"MB\""],
    );
    manifest_refused(
        "[capabilities]\ntimeout = \"soon\"\n",
        &["line 2: capabilities.timeout: \"soon\""],
    );
    manifest_refused(
        "[capabilities]\nread = [\"../etc\"]\n",
        &["line 2: capabilities.read: \"../etc\" contains `..`"],
    );
    manifest_refused(
        "[capabilities]\nwrite = [\"/etc\"]\n",
        &["line 2: capabilities.write: \"/etc\" is absolute"],
    );
    manifest_refused(
        "[capabilities]\nvars-read = [\"A*B\"]\n",
        &["line 2: capabilities.vars-read: \"A*B\": `*` may only end a pattern"],
    );
    // Every problem of a manifest, one line each.
    let stack = stack();
    stack.write(
        "extras.d/10-marker.toml",
        "[capabilities]\nmemory = \"64MB\"\nread = [\"../etc\"]\n",
    );
    let run = stack.hookhost(&["stack"]);
    assert_refused(&stack, &run, &["capabilities.memory", "capabilities.read"]);
    assert_eq!(headlines(&run), 2, "{}", run.all());
}

#[test]
fn a_manifest_that_is_a_directory_names_the_hook() {
    let stack = stack();
    std::fs::create_dir(stack.path("extras.d/10-marker.toml")).unwrap();
    let run = stack.hookhost(&["stack"]);
    assert_refused(
        &stack,
        &run,
        &[
            "10-marker.toml",
            "the manifest of hook 10-marker is a directory",
        ],
    );
}

/// A hypervisor driver `lib/nova_plugins/hypervisor-x` set up by `setup`,
/// selected through the environment.
#[track_caller]
fn driver_refused(setup: impl Fn(&Path), expected: &[&str]) {
    let stack = stack();
    let dir = stack.path("lib/nova_plugins");
    std::fs::create_dir_all(&dir).unwrap();
    setup(&dir);
    let run = hookhost_env(&stack, &["stack"], &[("VIRT_DRIVER", "x")]);
    let path = format!("{}/lib/nova_plugins/hypervisor-x", top(&stack));
    let mut all = vec![path.as_str()];
    all.extend(expected);
    assert_refused(&stack, &run, &all);
}

#[test]
fn driver_file_errors_name_the_file() {
    driver_refused(
        |dir| {
            std::fs::write(dir.join("hypervisor-x"), "").unwrap();
            std::fs::write(dir.join("hypervisor-x.wasm"), "").unwrap();
        },
        &[
            "the environment: VIRT_DRIVER=x: both ",
            "hypervisor-x.wasm (wasm) exist",
        ],
    );
    driver_refused(
        |dir| std::fs::create_dir(dir.join("hypervisor-x")).unwrap(),
        &["hypervisor-x: is not a regular file"],
    );
    driver_refused(
        |dir| std::os::unix::fs::symlink("/nonexistent", dir.join("hypervisor-x")).unwrap(),
        &["hypervisor-x: is a dangling symlink"],
    );
    driver_refused(
        |dir| {
            std::fs::write(
                dir.join("hypervisor-x"),
                "install_nova_hypervisor() { :; }\n",
            )
            .unwrap()
        },
        &["hypervisor-x: does not define configure_nova_hypervisor, start_nova_hypervisor"],
    );
}

/// Puts something in the way inside a stack's `.hookhost/`.
type Setup = dyn Fn(&Path);

/// hookhost's own files in the stack (`.hookhost/`) in the way.
#[test]
fn state_directory_errors_name_the_path() {
    let cases: [(&str, &Setup, &str); 4] = [
        (
            "state dir is a file",
            &|state| std::fs::write(state, "").unwrap(),
            "error: cannot create the state directory {state}: File exists",
        ),
        (
            "journal is a directory",
            &|state| std::fs::create_dir_all(state.join("journal.jsonl")).unwrap(),
            "error: cannot rewrite the state journal {state}/journal.jsonl: it is not a regular file",
        ),
        (
            "lock is a directory",
            &|state| std::fs::create_dir_all(state.join("run.lock")).unwrap(),
            "error: cannot open the run lock {state}/run.lock: Is a directory",
        ),
        (
            "logs is a file",
            &|state| {
                std::fs::create_dir_all(state).unwrap();
                std::fs::write(state.join("logs"), "").unwrap();
            },
            "error: cannot create the log directory {state}/logs: File exists",
        ),
    ];
    for (what, setup, expected) in cases {
        let stack = stack();
        let state = stack.path(".hookhost");
        setup(&state);
        let run = stack.hookhost(&["stack"]);
        let state = format!("{}/.hookhost", top(&stack));
        let expected = expected.replace("{state}", &state);
        assert!(run.stderr.contains(&expected), "{what}: {}", run.all());
        assert_refused(&stack, &run, &[]);
    }
}

#[test]
fn a_log_path_that_is_a_directory_names_it() {
    let stack = stack();
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().display().to_string();
    let run = stack.hookhost(&["stack", "--log", &log]);
    assert_refused(
        &stack,
        &run,
        &[&format!(
            "error: cannot write the log file {log}: Is a directory"
        )],
    );
}

#[test]
fn an_audit_file_that_cannot_be_created_names_it() {
    let stack = stack();
    let run = stack.hookhost(&["stack", "--audit", "/proc/no-such-dir/audit.jsonl"]);
    assert_refused(
        &stack,
        &run,
        &["error: cannot create the audit file /proc/no-such-dir/audit.jsonl"],
    );
}

#[test]
fn a_missing_stack_directory_is_named_by_every_command() {
    let stack = stack();
    let missing = stack.path("no-such-stack");
    let missing = missing.to_str().unwrap();
    for args in [
        vec!["stack", "--top", missing],
        vec!["plan", "stack", "--top", missing],
        vec!["list", "--top", missing],
        vec!["status", "--top", missing],
    ] {
        let run = Run::from(
            std::process::Command::new(env!("CARGO_BIN_EXE_hookhost"))
                .args(&args)
                .output()
                .unwrap(),
        );
        run.assert_code(2)
            .assert_no_panic()
            .assert_stderr_has(&format!(
                "error: {missing}: no such stack directory (pass --top DIR)"
            ));
    }
}

#[test]
fn author_tools_name_the_file_at_fault() {
    let dir = tempfile::tempdir().unwrap();
    let bin = env!("CARGO_BIN_EXE_hookhost");
    let missing = dir.path().join("missing.wasm");
    let run = Run::from(
        std::process::Command::new(bin)
            .arg("inspect")
            .arg(&missing)
            .output()
            .unwrap(),
    );
    run.assert_code(2)
        .assert_no_panic()
        .assert_stderr_has(&format!("error: {}: cannot read it", missing.display()));
    let build = |env: &[(&str, &str)]| {
        Run::from(
            std::process::Command::new(bin)
                .arg("build")
                .arg(dir.path())
                .envs(env.iter().copied())
                .output()
                .unwrap(),
        )
    };
    let cargo_toml = dir.path().join("Cargo.toml");
    let expect = |run: Run, what: &str| {
        run.assert_code(2)
            .assert_no_panic()
            .assert_stderr_has(&format!("error: {}: {what}", cargo_toml.display()));
    };
    expect(build(&[]), "cannot read it");
    std::fs::write(&cargo_toml, "[workspace]\nmembers = []\n").unwrap();
    expect(build(&[]), "has no [package] name");
    std::fs::write(
        &cargo_toml,
        "[package]\nname = \"x\"\nversion = \"0.1.0\"\n",
    )
    .unwrap();
    expect(
        build(&[]),
        "`x` does not build a component: add `crate-type = [\"cdylib\"]`",
    );
    std::fs::write(&cargo_toml, "[package\n").unwrap();
    expect(build(&[]), "invalid table header");
    std::fs::write(
        &cargo_toml,
        "[package]\nname = \"x\"\nversion = \"0.1.0\"\n[lib]\ncrate-type = [\"cdylib\"]\n",
    )
    .unwrap();
    build(&[("HOOKHOST_WASM_TOOLCHAIN", "zig")])
        .assert_code(2)
        .assert_no_panic()
        .assert_stderr_has("HOOKHOST_WASM_TOOLCHAIN must be rustup or debian, not `zig`");
}

#[test]
fn no_cache_directory_says_which_variables_to_set() {
    let run = Run::from(
        std::process::Command::new(env!("CARGO_BIN_EXE_hookhost"))
            .args(["cache", "dir"])
            .env_clear()
            .output()
            .unwrap(),
    );
    run.assert_code(2).assert_no_panic().assert_stderr_has(
        "error: no cache directory: set HOOKHOST_CACHE_DIR, XDG_CACHE_HOME or HOME",
    );
}

#[test]
fn a_grant_reaching_outside_the_stack_names_the_grant() {
    let stack = stack();
    std::os::unix::fs::symlink("/etc", stack.path("outside")).unwrap();
    stack
        .wasm(
            "50-p",
            "probe",
            Some("[capabilities]\nread = [\"outside\"]\n"),
        )
        .write("hookhost.toml", "[grants.p]\nread = [\"outside\"]\n");
    let run = stack.hookhost(&["stack"]);
    assert_refused(
        &stack,
        &run,
        &[&format!(
            "50-p.wasm: read outside: cannot open it inside the stack {}:",
            top(&stack)
        )],
    );
}

/// Found by fuzzing (docs/fuzzing.md): a value with a newline split one
/// problem over two lines, and a terminal escape in a third party's
/// manifest reached the operator's terminal raw.
#[test]
fn control_characters_in_quoted_values_are_shown_escaped_on_one_line() {
    let stack = stack();
    stack.write(
        "extras.d/10-marker.toml",
        "[capabilities]\nnet = [\"evil\\nhost:443\"]\nmemory = \"1\\u001b[31mMiB\"\n",
    );
    let run = stack.hookhost(&["stack"]);
    assert_refused(
        &stack,
        &run,
        &[
            "capabilities.net: \"evil\\nhost:443\"",
            "capabilities.memory: \"1\\e[31mMiB\"",
        ],
    );
    assert_eq!(headlines(&run), 2, "{}", run.all());
    assert!(!run.stderr.contains('\x1b'), "{}", run.all());

    let stack = self::stack();
    stack.write(
        "hookhost.toml",
        "[grants.\"a\\u001bb\"]\ntimeout = \"9\\nfortnights\"\n",
    );
    let run = stack.hookhost(&["stack"]);
    assert_refused(
        &stack,
        &run,
        &["[grants.\"a\\u{1b}b\"] timeout: \"9\\nfortnights\""],
    );
    assert_eq!(run.stderr.lines().count(), 1, "{}", run.all());

    let stack = self::stack();
    stack.write("local.conf", "[[local|localrc]]\nA=1 \x1b[31m\n");
    let run = stack.hookhost(&["stack"]);
    assert_refused(&stack, &run, &["local.conf:2: unexpected `\\e[31m`"]);
    assert!(!run.stderr.contains('\x1b'), "{}", run.all());
}
