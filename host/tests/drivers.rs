//! Hypervisor driver plugins, end to end with the real binary:
//! `VIRT_DRIVER` selects the demo's bash `hypervisor-fake` or the
//! `fake-driver` component built from source, and its five calls happen at
//! DevStack's points relative to the hooks of the same phase.

mod support;

use std::path::Path;
use std::process::Command;

use support::{component, repo_root, Run, TestStack};

/// The two kinds of driver.
#[derive(Debug, Clone, Copy)]
enum Kind {
    Bash,
    Wasm,
}

const BOTH: [Kind; 2] = [Kind::Bash, Kind::Wasm];
const HOOKS: [&str; 3] = ["10-first", "20-probe", "30-last"];
const DRIVERS: &str = "lib/nova_plugins";

/// A bash hook that prints `TRACE <stem> <args>` in every phase.
fn tracer(stem: &str) -> String {
    format!("echo \"TRACE {stem} $*\"\n")
}

/// bash, WASM and bash hooks, plus a marker of every phase that ran.
fn stack_with_hooks() -> TestStack {
    let stack = TestStack::new();
    stack
        .bash("10-first.sh", &tracer("10-first"))
        .wasm("20-probe", "probe", None)
        .bash("30-last.sh", &tracer("30-last"));
    stack
}

/// Install the fake driver of `kind` (the demo's bash file, or the
/// component with its manifest and the grant its manifest asks for).
fn install_fake(stack: &TestStack, kind: Kind) {
    match kind {
        Kind::Bash => {
            let demo = repo_root().join("examples/demo/lib/nova_plugins/hypervisor-fake");
            let text = std::fs::read_to_string(demo).unwrap();
            stack.write(&format!("{DRIVERS}/hypervisor-fake"), &text);
        }
        Kind::Wasm => {
            std::fs::create_dir_all(stack.path(DRIVERS)).unwrap();
            let target = stack.path(&format!("{DRIVERS}/hypervisor-fake.wasm"));
            std::fs::copy(component("fake-driver"), target).unwrap();
            let manifest = repo_root().join("plugins/fake-driver/fake-driver.toml");
            let text = std::fs::read_to_string(manifest).unwrap();
            stack.write(&format!("{DRIVERS}/hypervisor-fake.toml"), &text);
            stack.write(
                "hookhost.toml",
                "[grants.\"hypervisor-fake\"]\nvars-read = [\"FAKE_DRIVER_FAIL\"]\n",
            );
        }
    }
}

/// A stack with hooks and the fake driver selected in local.conf, with
/// extra localrc lines.
fn driver_stack(kind: Kind, localrc: &str) -> TestStack {
    let stack = stack_with_hooks();
    install_fake(&stack, kind);
    stack.write(
        "local.conf",
        &format!("[[local|localrc]]\nVIRT_DRIVER=fake\n{localrc}"),
    );
    stack
}

/// Run hookhost on `stack` with `VIRT_DRIVER` removed from the environment
/// (so the developer's own cannot leak in), plus `env`.
fn hookhost(stack: &TestStack, args: &[&str], env: &[(&str, &str)]) -> Run {
    let mut command = Command::new(env!("CARGO_BIN_EXE_hookhost"));
    command
        .args(args)
        .arg("--top")
        .arg(stack.top())
        .env("NO_COLOR", "1")
        .env_remove("VIRT_DRIVER");
    for (name, value) in env {
        command.env(name, value);
    }
    Run::from(command.output().expect("run hookhost"))
}

/// The hooks' and the driver's trace lines, in order: `<stem> <phase>` for
/// hooks, `driver <function>` for the driver.
fn trace(stdout: &str) -> Vec<String> {
    stdout
        .lines()
        .filter_map(|line| {
            if let Some(rest) = line.strip_prefix("[hypervisor-fake] ") {
                let (function, _) = rest.split_once(": ")?;
                return function
                    .ends_with("_nova_hypervisor")
                    .then(|| format!("driver {function}"));
            }
            if let Some((_, rest)) = line.split_once("TRACE ") {
                return Some(rest.trim().to_string());
            }
            let (_, rest) = line.split_once("] probe ")?;
            Some(rest.trim().to_string())
        })
        .collect()
}

/// The expected trace: per phase, the driver's calls before the hooks, the
/// hooks, the driver's calls after them.
fn expected(phases: &[(&str, &[&str], &[&str])]) -> Vec<String> {
    let mut out = Vec::new();
    for (phase, before, after) in phases {
        out.extend(before.iter().map(|f| format!("driver {f}_nova_hypervisor")));
        out.extend(HOOKS.iter().map(|h| format!("{h} {phase}")));
        out.extend(after.iter().map(|f| format!("driver {f}_nova_hypervisor")));
    }
    out
}

const NONE: &[&str] = &[];

fn stack_phases() -> Vec<String> {
    expected(&[
        ("source", NONE, NONE),
        ("stack pre-install", NONE, NONE),
        ("stack install", &["install", "configure"], NONE),
        ("stack post-config", NONE, &["start"]),
        ("stack extra", NONE, NONE),
    ])
}

#[track_caller]
fn assert_trace(run: &Run, want: &[String]) {
    assert_eq!(trace(&run.stdout), want, "{}", run.all());
}

#[test]
fn stack_installs_and_configures_before_the_install_hooks_and_starts_after_post_config() {
    for kind in BOTH {
        let stack = driver_stack(kind, "");
        let run = hookhost(&stack, &["stack"], &[]);
        run.assert_code(0).assert_no_panic();
        assert_trace(&run, &stack_phases());
        // Timed like a hook, under its name.
        let table = run.stdout.split("hookhost timing").nth(1).unwrap_or("");
        assert!(table.contains("hypervisor-fake"), "{kind:?}\n{}", run.all());
    }
}

#[test]
fn unstack_stops_the_driver_after_the_unstack_hooks() {
    for kind in BOTH {
        let stack = driver_stack(kind, "");
        let run = hookhost(&stack, &["unstack"], &[]);
        run.assert_code(0).assert_no_panic();
        let want = expected(&[("source", NONE, NONE), ("unstack", NONE, &["stop"])]);
        assert_trace(&run, &want);
    }
}

#[test]
fn clean_stops_after_the_unstack_hooks_and_cleans_up_after_the_clean_hooks() {
    for kind in BOTH {
        let stack = driver_stack(kind, "");
        let run = hookhost(&stack, &["clean"], &[]);
        run.assert_code(0).assert_no_panic();
        let want = expected(&[
            ("source", NONE, NONE),
            ("unstack", NONE, &["stop"]),
            ("clean", NONE, &["cleanup"]),
        ]);
        assert_trace(&run, &want);
    }
}

const FAKE_SETTINGS: [&str; 5] = [
    "compute_driver = fake.FakeDriver",
    "quota_instances = -1",
    "quota_cores = -1",
    "quota_ram = -1",
    "quota_key_pairs = -1",
];

#[track_caller]
fn assert_fake_settings(path: &Path) {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let default = text.split("[DEFAULT]").nth(1).expect("a [DEFAULT] section");
    let default = default.split("\n[").next().unwrap();
    for setting in FAKE_SETTINGS {
        let count = default.lines().filter(|l| *l == setting).count();
        assert_eq!(
            count,
            1,
            "{setting} in [DEFAULT] of {}:\n{text}",
            path.display()
        );
    }
}

#[test]
fn configure_writes_the_fake_driver_settings_into_nova_conf() {
    // WASM: its own data directory, .hookhost/plugin-data/hypervisor-fake.
    let stack = driver_stack(Kind::Wasm, "");
    hookhost(&stack, &["stack"], &[]).assert_code(0);
    let conf = stack.path(".hookhost/plugin-data/hypervisor-fake/nova.conf");
    assert_fake_settings(&conf);
    // A second run updates the settings in place rather than adding them again.
    hookhost(&stack, &["stack"], &[]).assert_code(0);
    assert_fake_settings(&conf);

    // bash: $NOVA_CONF, default $DATA_DIR/nova/nova.conf.
    let stack = driver_stack(Kind::Bash, "");
    hookhost(&stack, &["stack"], &[]).assert_code(0);
    assert_fake_settings(&stack.path(".hookhost/dest/data/nova/nova.conf"));

    // bash, into an existing nova.conf: other sections and keys are kept.
    let stack = driver_stack(Kind::Bash, "");
    let conf = stack.path("nova.conf");
    std::fs::write(
        &conf,
        "[DEFAULT]\ndebug = True\nquota_ram = 50\n\n[database]\nconnection = sqlite://\n",
    )
    .unwrap();
    stack.write(
        "local.conf",
        &format!(
            "[[local|localrc]]\nVIRT_DRIVER=fake\nNOVA_CONF={}\n",
            conf.display()
        ),
    );
    hookhost(&stack, &["stack"], &[]).assert_code(0);
    assert_fake_settings(&conf);
    let text = std::fs::read_to_string(&conf).unwrap();
    assert!(text.contains("debug = True\n"), "{text}");
    assert!(
        text.contains("[database]\nconnection = sqlite://\n"),
        "{text}"
    );
    assert!(!text.contains("quota_ram = 50"), "{text}");
}

#[track_caller]
fn assert_nothing_ran(stack: &TestStack, run: &Run) {
    assert!(
        !stack.path("ran").exists(),
        "a hook ran before the refusal\n{}",
        run.all()
    );
    assert!(trace(&run.stdout).is_empty(), "{}", run.all());
}

/// A stack with a hook that leaves a marker in every phase.
fn marked(stack: TestStack) -> TestStack {
    stack.bash("11-marker.sh", "touch \"$TOP_DIR/ran\"\n");
    stack
}

#[test]
fn a_bash_driver_missing_a_function_is_refused_by_name_before_anything_runs() {
    let stack = marked(driver_stack(Kind::Bash, ""));
    let text = "install_nova_hypervisor() { :; }\nconfigure_nova_hypervisor() { :; }\n\
                start_nova_hypervisor() { :; }\ncleanup_nova_hypervisor() { :; }\n";
    stack.write(&format!("{DRIVERS}/hypervisor-fake"), text);
    for entry in ["stack", "unstack", "clean"] {
        let run = hookhost(&stack, &[entry], &[]);
        run.assert_code(2)
            .assert_no_panic()
            .assert_stderr_has("hypervisor-fake: does not define stop_nova_hypervisor;");
        assert_nothing_ran(&stack, &run);
    }
}

#[test]
fn both_kinds_of_driver_file_are_refused_naming_both_paths() {
    let stack = marked(driver_stack(Kind::Bash, ""));
    install_fake(&stack, Kind::Wasm);
    let bash = stack
        .top()
        .canonicalize()
        .unwrap()
        .join(DRIVERS)
        .join("hypervisor-fake");
    for args in [&["stack"][..], &["plan", "stack"]] {
        let run = hookhost(&stack, args, &[]);
        run.assert_code(2)
            .assert_no_panic()
            .assert_stderr_has(&format!(
                "both {} (bash) and {}.wasm (wasm)",
                bash.display(),
                bash.display()
            ));
        assert_nothing_ran(&stack, &run);
    }
}

#[test]
fn a_driver_that_is_not_there_is_refused_naming_the_paths_looked_at() {
    let stack = marked(stack_with_hooks());
    stack.write("local.conf", "[[local|localrc]]\nVIRT_DRIVER=nope\n");
    let dir = stack.top().canonicalize().unwrap().join(DRIVERS);
    let run = hookhost(&stack, &["stack"], &[]);
    run.assert_code(2).assert_no_panic().assert_stderr_has(&format!(
        "{}/local.conf:2: VIRT_DRIVER=nope: no such driver; looked for {}/hypervisor-nope (bash) and {}/hypervisor-nope.wasm (wasm)",
        stack.top().canonicalize().unwrap().display(),
        dir.display(),
        dir.display()
    ));
    assert_nothing_ran(&stack, &run);
}

#[test]
fn a_driver_name_that_could_leave_nova_plugins_is_refused() {
    let stack = marked(stack_with_hooks());
    stack.write("lib/evil", "echo evil\n");
    for name in ["../evil", "a/b", ".."] {
        let run = hookhost(&stack, &["stack"], &[("VIRT_DRIVER", name)]);
        run.assert_code(2)
            .assert_no_panic()
            .assert_stderr_has(&format!(
                "the environment: VIRT_DRIVER={name:?} is not a driver name"
            ));
        assert_nothing_ran(&stack, &run);
    }
}

#[test]
fn without_virt_driver_no_driver_runs() {
    for kind in BOTH {
        let stack = stack_with_hooks();
        install_fake(&stack, kind);
        let run = hookhost(&stack, &["clean"], &[]);
        run.assert_code(0);
        assert!(!run.all().contains("hypervisor-fake"), "{}", run.all());
        let plan = hookhost(&stack, &["plan", "stack"], &[]);
        plan.assert_code(0)
            .assert_stdout_has("driver: none (VIRT_DRIVER is not set)");
        // Empty is unset, as DevStack's `${VIRT_DRIVER:-...}` treats it.
        let run = hookhost(&stack, &["stack"], &[("VIRT_DRIVER", "")]);
        run.assert_code(0);
        assert!(!run.stdout.contains("[hypervisor-fake]"), "{}", run.all());
    }
}

#[test]
fn the_environment_selects_a_driver_and_local_conf_wins_over_it() {
    let stack = stack_with_hooks();
    install_fake(&stack, Kind::Bash);
    let run = hookhost(&stack, &["unstack"], &[("VIRT_DRIVER", "fake")]);
    run.assert_code(0)
        .assert_stdout_has("[hypervisor-fake] stop_nova_hypervisor: ");
    let plan = hookhost(&stack, &["plan", "unstack"], &[("VIRT_DRIVER", "fake")]);
    plan.assert_stdout_has("driver: VIRT_DRIVER=fake (from the environment)");

    // local.conf names a driver that is not there: it wins, so the run is refused.
    stack.write("local.conf", "[[local|localrc]]\nVIRT_DRIVER=other\n");
    let run = hookhost(&stack, &["unstack"], &[("VIRT_DRIVER", "fake")]);
    run.assert_code(2).assert_stderr_has("VIRT_DRIVER=other");
    // local.conf empties it: no driver, whatever the environment says.
    stack.write("local.conf", "[[local|localrc]]\nVIRT_DRIVER=\n");
    let run = hookhost(&stack, &["unstack"], &[("VIRT_DRIVER", "fake")]);
    run.assert_code(0);
    assert!(!run.stdout.contains("[hypervisor-fake]"), "{}", run.all());
}

#[test]
fn a_failing_wasm_driver_stops_stack() {
    let stack = driver_stack(Kind::Wasm, "FAKE_DRIVER_FAIL=configure\n");
    let run = hookhost(&stack, &["stack"], &[]);
    run.assert_code(1)
        .assert_no_panic()
        .assert_stderr_has("hook hypervisor-fake (wasm) failed in `stack install`")
        .assert_stderr_has(
            "= reason: configure_nova_hypervisor returned an error: \
             failing on purpose (FAKE_DRIVER_FAIL=configure)",
        );
    let mut want = expected(&[("source", NONE, NONE), ("stack pre-install", NONE, NONE)]);
    want.push("driver install_nova_hypervisor".into());
    assert_trace(&run, &want);
    assert!(!stack
        .path(".hookhost/plugin-data/hypervisor-fake/nova.conf")
        .exists());
}

#[test]
fn a_failing_bash_driver_stops_stack() {
    let stack = driver_stack(Kind::Bash, "");
    let demo = std::fs::read_to_string(stack.path(&format!("{DRIVERS}/hypervisor-fake"))).unwrap();
    let failing = format!(
        "{demo}\nfunction start_nova_hypervisor {{\n    echo \"start_nova_hypervisor: no luck\"\n    false\n}}\n"
    );
    stack.write(&format!("{DRIVERS}/hypervisor-fake"), &failing);
    let run = hookhost(&stack, &["stack"], &[]);
    run.assert_code(1)
        .assert_no_panic()
        .assert_stderr_has("hook hypervisor-fake (bash) failed in `stack post-config`")
        .assert_stderr_has("= reason: start_nova_hypervisor ")
        .assert_stderr_has("| start_nova_hypervisor: no luck");
    let mut want = stack_phases();
    want.truncate(want.len() - HOOKS.len()); // no `stack extra`
    assert_trace(&run, &want);
}

#[test]
fn a_failing_wasm_driver_in_clean_goes_on_and_is_reported() {
    let stack = driver_stack(Kind::Wasm, "FAKE_DRIVER_FAIL=stop\n");
    let run = hookhost(&stack, &["clean"], &[]);
    run.assert_code(1)
        .assert_no_panic()
        .assert_stderr_has("hook hypervisor-fake (wasm) failed in `unstack`")
        .assert_stderr_has("= reason: stop_nova_hypervisor returned an error");
    // The clean hooks and the driver's cleanup still ran.
    let want = expected(&[
        ("source", NONE, NONE),
        ("unstack", NONE, NONE),
        ("clean", NONE, &["cleanup"]),
    ]);
    // stop failed before printing anything: no trace line for it.
    assert_trace(&run, &want);
    assert!(
        run.stdout.contains("clean finished with 1 failure(s)"),
        "{}",
        run.all()
    );
}

#[test]
fn a_bash_driver_survives_a_hook_that_ends_the_session() {
    let stack = driver_stack(Kind::Bash, "");
    stack.bash("40-quit.sh", "if [[ $1 == unstack ]]; then exit 3; fi\n");
    let run = hookhost(&stack, &["clean"], &[]);
    // The hook's exit is a failure; the driver is sourced again and stops, cleans up.
    run.assert_code(1).assert_stderr_has("40-quit");
    let driver: Vec<String> = trace(&run.stdout)
        .into_iter()
        .filter(|l| l.starts_with("driver "))
        .collect();
    assert_eq!(
        driver,
        [
            "driver stop_nova_hypervisor",
            "driver cleanup_nova_hypervisor"
        ],
        "{}",
        run.all()
    );
}

#[test]
fn plan_shows_the_driver_calls_at_their_points_without_running_anything() {
    for kind in BOTH {
        let stack = marked(driver_stack(kind, ""));
        let run = hookhost(&stack, &["plan", "stack"], &[]);
        run.assert_code(0).assert_no_panic();
        let line = |phase: &str| {
            let prefix = format!("  {phase:<18} ");
            let line = run.stdout.lines().find(|l| l.starts_with(&prefix));
            line.unwrap_or_else(|| panic!("no {phase} line\n{}", run.all()))
                .to_string()
        };
        assert!(line("stack install").ends_with(
            "stack install      hypervisor-fake:install_nova_hypervisor, \
             hypervisor-fake:configure_nova_hypervisor, 10-first, 11-marker, 20-probe, 30-last"
        ));
        assert!(
            line("stack post-config").ends_with("30-last, hypervisor-fake:start_nova_hypervisor")
        );
        assert!(!line("stack extra").contains("hypervisor"));
        run.assert_stdout_has("driver: VIRT_DRIVER=fake (from ")
            .assert_stdout_has("local.conf line 2)");
        match kind {
            Kind::Bash => run.assert_stdout_has("hypervisor-fake              bash  trusted"),
            Kind::Wasm => run
                .assert_stdout_has("hypervisor-fake.wasm         wasm  sandboxed")
                .assert_stdout_has("granted vars-read FAKE_DRIVER_FAIL"),
        };

        let clean = hookhost(&stack, &["plan", "clean", "--json"], &[]);
        clean.assert_code(0);
        let json: serde_json::Value = serde_json::from_str(&clean.stdout).unwrap();
        let driver = &json["driver"];
        assert_eq!(driver["plugin"], "hypervisor-fake");
        let calls: Vec<(String, String, String)> = driver["calls"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| {
                let s = |k: &str| c[k].as_str().unwrap().to_string();
                (s("phase"), s("at"), s("function"))
            })
            .collect();
        let call = |p: &str, f: &str| (p.into(), "after-hooks".into(), f.into());
        assert_eq!(
            calls,
            [
                call("unstack", "stop_nova_hypervisor"),
                call("clean", "cleanup_nova_hypervisor")
            ]
        );
        assert_nothing_ran(&stack, &run);
    }
}

#[test]
fn a_hook_component_given_as_the_driver_is_refused_in_one_line() {
    let stack = marked(stack_with_hooks());
    std::fs::create_dir_all(stack.path(DRIVERS)).unwrap();
    std::fs::copy(
        component("probe"),
        stack.path(&format!("{DRIVERS}/hypervisor-fake.wasm")),
    )
    .unwrap();
    let run = hookhost(&stack, &["stack"], &[("VIRT_DRIVER", "fake")]);
    run.assert_code(2).assert_no_panic();
    let errors: Vec<&str> = run
        .stderr
        .lines()
        .filter(|l| l.starts_with("error:"))
        .collect();
    assert_eq!(errors.len(), 1, "{}", run.all());
    assert_eq!(run.stderr.trim().lines().count(), 1, "{}", run.all());
    assert!(
        errors[0].contains("hypervisor-fake.wasm: does not export hookhost:plugin/driver@0.1.0"),
        "{}",
        run.all()
    );
    assert!(errors[0].contains("VIRT_DRIVER=fake selects it as the hypervisor driver"));
    assert_nothing_ran(&stack, &run);
}

#[test]
fn a_wasm_driver_gets_only_what_the_operator_grants() {
    let stack = marked(driver_stack(Kind::Wasm, ""));
    std::fs::remove_file(stack.path("hookhost.toml")).unwrap();
    let run = hookhost(&stack, &["stack"], &[]);
    run.assert_code(2)
        .assert_no_panic()
        .assert_stderr_has(
            "hypervisor-fake.wasm requests capabilities the operator has not granted",
        )
        .assert_stderr_has("under [grants.hypervisor-fake] in hookhost.toml");
    assert_nothing_ran(&stack, &run);
}

#[test]
fn a_wasm_hook_named_like_the_wasm_driver_is_refused() {
    let stack = marked(driver_stack(Kind::Wasm, ""));
    stack.wasm("50-hypervisor-fake", "probe", None);
    let run = hookhost(&stack, &["stack"], &[]);
    run.assert_code(2)
        .assert_no_panic()
        .assert_stderr_has("50-hypervisor-fake.wasm: has the same name as the driver ")
        .assert_stderr_has(".hookhost/plugin-data/hypervisor-fake");
    assert_nothing_ran(&stack, &run);
}

#[test]
fn ctrl_c_during_a_driver_call_stops_the_run_there() {
    use std::io::{BufRead, BufReader};
    use std::process::Stdio;
    use std::time::{Duration, Instant};

    let stack = driver_stack(Kind::Bash, "");
    let demo = std::fs::read_to_string(stack.path(&format!("{DRIVERS}/hypervisor-fake"))).unwrap();
    let slow = format!(
        "{demo}\nfunction install_nova_hypervisor {{\n    echo READY\n    echo waiting\n    sleep 27.3\n}}\n"
    );
    stack.write(&format!("{DRIVERS}/hypervisor-fake"), &slow);
    let mut child = Command::new(env!("CARGO_BIN_EXE_hookhost"))
        .args(["stack", "--top"])
        .arg(stack.top())
        .env("NO_COLOR", "1")
        .env_remove("VIRT_DRIVER")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut seen = Vec::new();
    for line in lines.by_ref() {
        let line = line.unwrap();
        let ready = line == "[hypervisor-fake] waiting";
        seen.push(line);
        if ready {
            break;
        }
    }
    // Give bash the moment it needs to start `sleep` after the echo.
    std::thread::sleep(Duration::from_millis(300));
    let started = Instant::now();
    let kill = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    seen.extend(lines.map_while(Result::ok));
    let output = child.wait_with_output().unwrap();
    let stdout = seen.join("\n");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "{stdout}\n{stderr}"
    );
    assert_eq!(output.status.code(), Some(130), "{stdout}\n{stderr}");
    assert!(
        stderr.contains("stopped hook hypervisor-fake (bash) in `stack install`"),
        "{stderr}"
    );
    // Neither configure nor the install hooks ran.
    assert!(!stdout.contains("configure_nova_hypervisor"), "{stdout}");
    assert!(!stdout.contains("TRACE 10-first stack install"), "{stdout}");
}

#[test]
fn a_bash_driver_asked_to_run_confined_is_refused_rather_than_run_open() {
    let stack = marked(driver_stack(Kind::Bash, ""));
    stack.write(
        &format!("{DRIVERS}/hypervisor-fake.toml"),
        "[capabilities]\nconfine = true\n",
    );
    let run = hookhost(&stack, &["stack"], &[]);
    run.assert_code(2)
        .assert_no_panic()
        .assert_stderr_has("hypervisor-fake: its manifest asks to run it confined, but a bash hypervisor driver cannot be confined");
    assert_nothing_ran(&stack, &run);
    std::fs::remove_file(stack.path(&format!("{DRIVERS}/hypervisor-fake.toml"))).unwrap();
    stack.write("hookhost.toml", "confine = [\"hypervisor-fake\"]\n");
    let run = hookhost(&stack, &["stack"], &[]);
    run.assert_code(2)
        .assert_stderr_has("hypervisor-fake: the operator asks to run it confined");
    assert_nothing_ran(&stack, &run);
}
