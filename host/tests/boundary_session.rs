//! A plugin stopped at its time limit in a host call that reaches the shared
//! bash session costs only itself: the session is interrupted cleanly, or,
//! when the call cannot be interrupted, replaced by one with the state it
//! had before the call; the trusted hooks after it run and keep what
//! earlier hooks defined. Through the real binary, with `plugins/hostile`
//! (built from source) spinning on the host calls (`session.rs` there).
//!
//! Each stack: `10-before.sh` (defines a variable and functions in
//! `source`), the hostile plugin(s) with a short `timeout` granted,
//! `60-after.sh` (prints what it still sees).

mod support;

use support::{Run, TestStack};

const BEFORE: &str = r#"if [[ $1 == source ]]; then
    KEPT=kept-from-source
    kept_fn() { echo "kept_fn works"; }
    quick() { :; }
    ignores_int() { trap '' INT; while :; do :; done; }
    stubborn() {
        local s
        for ((s = 1; s < 65; s++)); do trap '' "$s" 2>/dev/null; done
        while :; do :; done
    }
    spawner() { sleep 300 & echo $! >"$TOP_DIR/spawned.pid"; while :; do :; done; }
    if [[ -n ${HOSTILE_OVERRIDE_INSTALL-} ]]; then
        install_package() { while :; do :; done; }
    fi
fi
echo "BEFORE $*"
"#;

const AFTER: &str = r#"echo "AFTER $* KEPT=${KEPT-} FN=$(kept_fn 2>/dev/null)"
"#;

/// What `60-after.sh` prints in `phase` when the session kept its state.
fn after_with_state(phase: &str) -> String {
    format!("AFTER {phase} KEPT=kept-from-source FN=kept_fn works")
}

/// A stack with the hostile plugin under each of `stems`, each granted the
/// functions of `BEFORE`, `HOSTILE_W*` to write, a package and `timeout`.
fn arena(stems: &[&str], timeout: &str) -> TestStack {
    let stack = TestStack::new();
    stack
        .bash("10-before.sh", BEFORE)
        .bash("60-after.sh", AFTER);
    let caps = "vars-read = [\"HOSTILE_*\"]\nvars-write = [\"HOSTILE_W*\"]\n\
                functions = [\"quick\", \"ignores_int\", \"stubborn\", \"spawner\"]\n\
                packages = [\"hostile-pkg\"]\n";
    let mut grants = String::new();
    for stem in stems {
        stack.wasm(stem, "hostile", Some(&format!("[capabilities]\n{caps}")));
        grants.push_str(&format!(
            "[grants.\"{stem}\"]\n{caps}timeout = \"{timeout}\"\n"
        ));
    }
    stack.write("hookhost.toml", &grants);
    stack
}

/// Run hookhost with `args` and the attack's variables in local.conf.
fn attack(stack: &TestStack, args: &[&str], vars: &[(&str, &str)]) -> Run {
    let mut conf = String::from("[[local|localrc]]\n");
    for (name, value) in vars {
        conf.push_str(&format!("{name}=\"{value}\"\n"));
    }
    stack.write("local.conf", &conf);
    let run = stack.hookhost(args);
    run.assert_no_panic();
    run
}

/// The plugin `stem` failed in `phase` with the time limit, naming what
/// was stopped.
#[track_caller]
fn assert_stopped(run: &Run, stem: &str, phase: &str, what: &str) {
    run.assert_stderr_has(&format!("hook {stem} (wasm) failed in `{phase}`"))
        .assert_stderr_has(&format!("in a host call ({what} was stopped)"));
}

/// Nothing said the bash session ended, was restarted or lost state.
#[track_caller]
fn assert_session_untouched(run: &Run) {
    for text in ["bash session", "shell state", "has ended"] {
        assert!(!run.all().contains(text), "{text:?} in\n{}", run.all());
    }
}

#[test]
fn a_plugin_spinning_on_is_service_enabled_in_unstack_costs_only_itself() {
    let stack = arena(&["50-hostile"], "1s");
    let run = attack(
        &stack,
        &["unstack"],
        &[("HOSTILE_ATTACK", "ask-loop"), ("HOSTILE_PHASE", "unstack")],
    );
    run.assert_code(1);
    assert_stopped(&run, "50-hostile", "unstack", "is_service_enabled");
    run.assert_stdout_has(&after_with_state("unstack"));
    assert_session_untouched(&run);
    run.assert_stdout_has("unstack finished with 1 failure(s)");
}

#[test]
fn a_plugin_spinning_on_is_service_enabled_in_clean_costs_only_itself() {
    let stack = arena(&["50-hostile"], "1s");
    let run = attack(
        &stack,
        &["clean"],
        &[("HOSTILE_ATTACK", "ask-loop"), ("HOSTILE_PHASE", "clean")],
    );
    run.assert_code(1);
    assert_stopped(&run, "50-hostile", "clean", "is_service_enabled");
    run.assert_stdout_has(&after_with_state("clean"));
    assert_session_untouched(&run);
}

#[test]
fn hostile_plugins_stopped_one_after_another_leave_the_session_whole() {
    let stems = ["50-hostile", "52-hostileb", "55-hostilec"];
    let stack = arena(&stems, "1s");
    let run = attack(
        &stack,
        &["unstack"],
        &[("HOSTILE_ATTACK", "ask-loop"), ("HOSTILE_PHASE", "unstack")],
    );
    run.assert_code(1);
    for stem in stems {
        assert_stopped(&run, stem, "unstack", "is_service_enabled");
    }
    run.assert_stdout_has(&after_with_state("unstack"))
        .assert_stdout_has("unstack finished with 3 failure(s)");
    assert_session_untouched(&run);
}

#[test]
fn in_stack_the_run_stops_at_the_plugin_and_names_it_not_bash() {
    let stack = arena(&["50-hostile"], "1s");
    let cases = [
        ("call", "ignores_int", "the shell function ignores_int"),
        ("call-loop", "quick", "the shell function quick"),
        ("ask-loop", "", "is_service_enabled"),
    ];
    for (attack_name, function, what) in cases {
        let run = attack(
            &stack,
            &["stack"],
            &[
                ("HOSTILE_ATTACK", attack_name),
                ("HOSTILE_FUNC", function),
                ("HOSTILE_PHASE", "stack install"),
            ],
        );
        run.assert_code(1);
        assert_stopped(&run, "50-hostile", "stack install", what);
        run.assert_stdout_has(&after_with_state("stack pre-install"));
        assert!(
            !run.stdout.contains("AFTER stack install"),
            "the run went on past the failure\n{}",
            run.all()
        );
        assert_session_untouched(&run);
    }
}

#[test]
fn a_function_the_stop_cannot_reach_is_replaced_by_a_session_with_its_state() {
    // Both plugins call a function that ignores every signal it can: each
    // time bash is killed, and the next session replays the state.
    let stack = arena(&["50-hostile", "55-hostile2"], "500ms");
    let run = attack(
        &stack,
        &["unstack"],
        &[
            ("HOSTILE_ATTACK", "call"),
            ("HOSTILE_FUNC", "stubborn"),
            ("HOSTILE_PHASE", "unstack"),
        ],
    );
    run.assert_code(1);
    for stem in ["50-hostile", "55-hostile2"] {
        assert_stopped(&run, stem, "unstack", "the shell function stubborn");
        run.assert_stderr_has(&format!(
            "the bash session ended during a call from {stem} and was restarted with the \
             shell state it had before that call"
        ));
    }
    run.assert_stdout_has(&after_with_state("unstack"));
    assert!(!run.all().contains("is lost"), "{}", run.all());
}

#[test]
fn what_a_stopped_call_started_in_the_background_ends_with_it() {
    let stack = arena(&["50-hostile"], "1s");
    let run = attack(
        &stack,
        &["unstack"],
        &[
            ("HOSTILE_ATTACK", "call"),
            ("HOSTILE_FUNC", "spawner"),
            ("HOSTILE_PHASE", "unstack"),
        ],
    );
    run.assert_code(1);
    assert_stopped(&run, "50-hostile", "unstack", "the shell function spawner");
    run.assert_stdout_has(&after_with_state("unstack"));
    assert_session_untouched(&run);
    let pid: u32 = std::fs::read_to_string(stack.path("spawned.pid"))
        .expect("the function wrote its child's pid")
        .trim()
        .parse()
        .unwrap();
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let running = stat
        .rsplit_once(')')
        .is_some_and(|(_, rest)| !rest.trim_start().starts_with('Z'));
    if running {
        // SAFETY: kill(2) with a pid and a signal number; no memory involved.
        unsafe { libc::kill(pid as libc::pid_t, libc::SIGKILL) };
    }
    assert!(!running, "the stopped call's `sleep 300 &` still runs");
}

#[test]
fn every_host_call_that_reaches_bash_is_stopped_without_costing_the_session() {
    let stack = arena(&["50-hostile"], "1s");
    let cases = [
        ("enable-loop", "", "enable_service"),
        ("disable-loop", "", "disable_service"),
        ("huge-services", "", "enable_service"),
        ("call-loop", "quick", "the shell function quick"),
    ];
    for (attack_name, function, what) in cases {
        let run = attack(
            &stack,
            &["unstack"],
            &[
                ("HOSTILE_ATTACK", attack_name),
                ("HOSTILE_FUNC", function),
                ("HOSTILE_PHASE", "unstack"),
            ],
        );
        run.assert_code(1);
        assert_stopped(&run, "50-hostile", "unstack", what);
        run.assert_stdout_has(&after_with_state("unstack"));
        assert_session_untouched(&run);
    }
    // An install (really done: --allow-install) goes to the session's
    // install_package, here a `lib/`-style override that never returns.
    let run = attack(
        &stack,
        &["unstack", "--allow-install"],
        &[
            ("HOSTILE_ATTACK", "install-loop"),
            ("HOSTILE_OVERRIDE_INSTALL", "1"),
            ("HOSTILE_PHASE", "unstack"),
        ],
    );
    run.assert_code(1);
    assert_stopped(&run, "50-hostile", "unstack", "install_package");
    run.assert_stdout_has(&after_with_state("unstack"));
    assert_session_untouched(&run);
    // Variables outside every exact grant are one query each: the query
    // always returns, and the guest is stopped between two of them.
    for attack_name in ["getvar-loop", "setvar-loop"] {
        let run = attack(
            &stack,
            &["unstack"],
            &[
                ("HOSTILE_ATTACK", attack_name),
                ("HOSTILE_VAR", "HOSTILE_WRITTEN"),
                ("HOSTILE_PHASE", "unstack"),
            ],
        );
        run.assert_code(1)
            .assert_stderr_has("hook 50-hostile (wasm) failed in `unstack`")
            .assert_stderr_has("ran past its time limit of 1s")
            .assert_stdout_has(&after_with_state("unstack"));
        assert_session_untouched(&run);
    }
}
