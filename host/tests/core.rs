//! The product's spine, end to end: bash and WASM hooks in one ordered
//! sequence through every DevStack phase, with the real binary, real bash,
//! real components built from source and real files.

mod support;

use support::TestStack;

/// A bash hook that prints `TRACE <stem> <args>` in every phase.
fn tracer(stem: &str) -> String {
    format!("echo \"TRACE {stem} $*\"\n")
}

/// The `TRACE`/probe lines of a run's stdout, in order, as `stem args`.
fn trace(stdout: &str) -> Vec<String> {
    stdout
        .lines()
        .filter_map(|line| {
            if let Some((_, rest)) = line.split_once("TRACE ") {
                return Some(rest.trim().to_string());
            }
            let (_, rest) = line.split_once("] probe ")?;
            Some(rest.trim().to_string())
        })
        .collect()
}

fn expected(stems: &[&str], phases: &[&str]) -> Vec<String> {
    phases
        .iter()
        .flat_map(|phase| stems.iter().map(move |stem| format!("{stem} {phase}")))
        .collect()
}

const STACK: [&str; 5] = [
    "source",
    "stack pre-install",
    "stack install",
    "stack post-config",
    "stack extra",
];

fn mixed_stack() -> TestStack {
    let stack = TestStack::new();
    stack
        .bash("10-first.sh", &tracer("10-first"))
        .wasm("20-probe", "probe", None)
        .bash("20-probe_b.sh", &tracer("20-probe_b"))
        .wasm("30-late", "probe", None)
        .bash("40-last.sh", &tracer("40-last"));
    stack
}

#[test]
fn both_kinds_run_merged_in_byte_order_through_every_stack_phase() {
    let stack = mixed_stack();
    let run = stack.hookhost(&["stack"]);
    run.assert_code(0).assert_no_panic();
    // `20-probe.wasm` sorts before `20-probe_b.sh` because '.' < '_' in C order.
    let order = ["10-first", "20-probe", "20-probe_b", "30-late", "40-last"];
    assert_eq!(
        trace(&run.stdout),
        expected(&order, &STACK),
        "{}",
        run.all()
    );
}

#[test]
fn unstack_runs_source_then_unstack() {
    let stack = mixed_stack();
    let run = stack.hookhost(&["unstack"]);
    run.assert_code(0);
    let order = ["10-first", "20-probe", "20-probe_b", "30-late", "40-last"];
    assert_eq!(trace(&run.stdout), expected(&order, &["source", "unstack"]));
}

#[test]
fn clean_always_runs_unstack_before_clean() {
    let stack = mixed_stack();
    let run = stack.hookhost(&["clean"]);
    run.assert_code(0);
    let order = ["10-first", "20-probe", "20-probe_b", "30-late", "40-last"];
    assert_eq!(
        trace(&run.stdout),
        expected(&order, &["source", "unstack", "clean"])
    );
}

#[test]
fn opt_in_phases_run_only_when_asked() {
    let stack = TestStack::new();
    stack
        .bash("10-a.sh", &tracer("10-a"))
        .wasm("20-p", "probe", None);
    let run = stack.hookhost(&["stack", "--test-config", "--override-defaults"]);
    run.assert_code(0);
    let mut phases = vec!["override_defaults"];
    phases.extend(STACK);
    phases.push("stack test-config");
    assert_eq!(trace(&run.stdout), expected(&["10-a", "20-p"], &phases));
}

#[test]
fn plan_prints_the_sequence_without_running_anything() {
    let stack = mixed_stack();
    stack.bash("50-marker.sh", "touch \"$TOP_DIR/ran\"\n");
    stack.write(
        "extras.d/70-trove",
        "# no .sh: DevStack skipped this silently\n",
    );
    let run = stack.hookhost(&["plan", "clean"]);
    run.assert_code(0)
        .assert_stdout_has("20-probe.wasm")
        .assert_stdout_has("wasm  sandboxed")
        .assert_stdout_has("70-trove")
        .assert_stdout_has("unstack");
    assert!(!stack.path("ran").exists(), "plan ran a hook");
    let positions: Vec<usize> = [
        "10-first.sh",
        "20-probe.wasm",
        "20-probe_b.sh",
        "30-late.wasm",
    ]
    .iter()
    .map(|f| run.stdout.find(f).expect(f))
    .collect();
    assert!(positions.windows(2).all(|w| w[0] < w[1]), "{}", run.stdout);
}

#[test]
fn bash_functions_and_variables_survive_across_phases_and_wasm_hooks() {
    let stack = TestStack::new();
    stack
        .write("lib/greet", "function greet { echo \"greet says $1 ${GREETING:-none}\"; }\n")
        .bash(
            "10-define.sh",
            "if [[ $1 == source ]]; then source $TOP_DIR/lib/greet; COUNTER=0; fi\n\
             COUNTER=$((COUNTER + 1))\n",
        )
        .wasm("20-probe", "probe", None)
        .bash(
            "30-use.sh",
            "if [[ $1 == stack && $2 == extra ]]; then greet \"from-bash\"; echo \"counter=$COUNTER\"; fi\n",
        );
    let run = stack.hookhost(&["stack"]);
    run.assert_code(0)
        .assert_stdout_has("[30-use] greet says from-bash")
        // One long-lived shell: the counter went up once per phase.
        .assert_stdout_has("counter=5");
}

#[test]
fn variables_hand_over_bash_to_wasm_to_bash() {
    let stack = TestStack::new();
    stack
        .bash(
            "10-set.sh",
            "if [[ $1 == stack && $2 == pre-install ]]; then SECRET_HANDSHAKE=\"from bash: it's 'quoted'\"; fi\n",
        )
        .wasm(
            "20-probe",
            "probe",
            Some("[capabilities]\nvars-read = [\"PROBE_*\", \"SECRET_HANDSHAKE\"]\nvars-write = [\"PROBE_COPIED\"]\n"),
        )
        .bash(
            "30-read.sh",
            "if [[ $1 == stack && $2 == post-config ]]; then echo \"bash got: $PROBE_COPIED\"; fi\n",
        )
        .write(
            "local.conf",
            "[[local|localrc]]\nPROBE_COPY_FROM=SECRET_HANDSHAKE\n",
        )
        .write(
            "hookhost.toml",
            "[grants.probe]\nvars-read = [\"PROBE_*\", \"SECRET_HANDSHAKE\"]\nvars-write = [\"PROBE_COPIED\"]\n",
        );
    let run = stack.hookhost(&["stack"]);
    run.assert_code(0)
        .assert_stdout_has("[30-read] bash got: from bash: it's 'quoted'");
}

#[test]
fn a_variable_relayed_through_alternating_bash_and_wasm_hooks_arrives_intact() {
    // Each bash hook adds one to what the plugin before it handed on; each
    // plugin (plugins/relay) hands RELAY_IN on as RELAY_OUT. 3 bash hooks
    // and 3 plugins per phase, 5 phases: the last bash hook sees 15 and
    // every plugin's copy went through the session both ways.
    let stack = TestStack::new();
    let manifest = include_str!("../../plugins/relay/relay.toml");
    for i in 0..3 {
        stack
            .bash(
                &format!("{}0-add.sh", 2 * i + 1),
                "RELAY_IN=$((${RELAY_OUT:-0} + 1)); echo \"$1:$2 in=$RELAY_IN\"\n",
            )
            .wasm(&format!("{}0-relay{i}", 2 * i + 2), "relay", Some(manifest));
    }
    stack.write(
        "hookhost.toml",
        "[grants.\"*\"]\nvars-read = [\"RELAY_IN\"]\nvars-write = [\"RELAY_OUT\"]\n",
    );
    let run = stack.hookhost(&["stack"]);
    run.assert_code(0)
        .assert_stdout_has("[10-add] source: in=1")
        .assert_stdout_has("[50-add] source: in=3")
        .assert_stdout_has("[10-add] stack:pre-install in=4")
        .assert_stdout_has("[50-add] stack:extra in=15");
}

#[test]
fn wasm_plugin_calls_a_function_a_bash_hook_defined() {
    let stack = TestStack::new();
    stack
        .bash(
            "10-define.sh",
            "if [[ $1 == source ]]; then function shout { echo \"SHOUT $* by ${FUNCNAME[0]}\"; return 7; }; fi\n",
        )
        .wasm(
            "20-probe",
            "probe",
            Some("[capabilities]\nvars-read = [\"PROBE_*\"]\nvars-write = [\"PROBE_CALL_STATUS\"]\nfunctions = [\"shout\"]\n"),
        )
        .bash(
            "30-read.sh",
            "if [[ $1 == stack && $2 == extra ]]; then echo \"status seen by bash: $PROBE_CALL_STATUS\"; fi\n",
        )
        .write("local.conf", "[[local|localrc]]\nPROBE_CALL=shout\n")
        .write(
            "hookhost.toml",
            "[grants.probe]\nvars-read = [\"PROBE_*\"]\nvars-write = [\"PROBE_CALL_STATUS\"]\nfunctions = [\"shout\"]\n",
        );
    let run = stack.hookhost(&["stack"]);
    run.assert_code(0)
        // The function's output is shown as the calling plugin's output.
        .assert_stdout_has("[20-probe] SHOUT from-probe by shout")
        .assert_stdout_has("[30-read] status seen by bash: 7");
}

#[test]
fn stack_stops_at_the_first_failing_hook() {
    let stack = TestStack::new();
    stack
        .bash("10-a.sh", &tracer("10-a"))
        .wasm(
            "20-probe",
            "probe",
            Some("[capabilities]\nvars-read = [\"PROBE_*\"]\n"),
        )
        .bash("30-b.sh", &tracer("30-b"))
        .write(
            "local.conf",
            "[[local|localrc]]\nPROBE_FAIL=\"stack install\"\n",
        )
        .write(
            "hookhost.toml",
            "[grants.probe]\nvars-read = [\"PROBE_*\"]\n",
        );
    let run = stack.hookhost(&["stack"]);
    run.assert_code(1)
        .assert_no_panic()
        .assert_stderr_has("hook 20-probe (wasm) failed in `stack install`")
        .assert_stderr_has("probe failed on purpose in stack install");
    let seen = trace(&run.stdout);
    assert_eq!(
        seen.last().map(String::as_str),
        Some("20-probe stack install")
    );
    assert!(!seen.iter().any(|l| l == "30-b stack install"), "{seen:?}");
}

#[test]
fn stack_stops_when_a_bash_command_fails_under_errexit() {
    let stack = TestStack::new();
    stack
        .bash(
            "10-a.sh",
            "echo \"TRACE 10-a $*\"\nif [[ $2 == install ]]; then false; echo not-reached; fi\n",
        )
        .bash("20-b.sh", &tracer("20-b"));
    let run = stack.hookhost(&["stack"]);
    run.assert_code(1)
        .assert_no_panic()
        .assert_stderr_has("hook 10-a (bash) failed in `stack install`");
    assert!(
        !run.stdout.contains("not-reached"),
        "errexit did not stop the hook"
    );
    assert!(!trace(&run.stdout).contains(&"20-b stack install".to_string()));
}

#[test]
fn unstack_and_clean_go_on_past_failures_and_report_all() {
    let stack = TestStack::new();
    stack
        .bash("10-a.sh", "echo \"TRACE 10-a $*\"\n[[ $1 != unstack ]]\n")
        .wasm(
            "20-probe",
            "probe",
            Some("[capabilities]\nvars-read = [\"PROBE_*\"]\n"),
        )
        .bash("30-b.sh", &tracer("30-b"))
        .write("local.conf", "[[local|localrc]]\nPROBE_FAIL=clean\n")
        .write(
            "hookhost.toml",
            "[grants.probe]\nvars-read = [\"PROBE_*\"]\n",
        );
    let run = stack.hookhost(&["clean"]);
    run.assert_code(1)
        .assert_no_panic()
        .assert_stderr_has("hook 10-a (bash) failed in `unstack`\n  = reason: exited with status 1")
        .assert_stderr_has("hook 20-probe (wasm) failed in `clean`")
        .assert_stdout_has("finished with 2 failure(s)");
    let seen = trace(&run.stdout);
    assert!(seen.contains(&"30-b unstack".to_string()), "{seen:?}");
    assert!(seen.contains(&"30-b clean".to_string()), "{seen:?}");
}

#[test]
fn a_guest_panic_message_appears_in_the_error() {
    let stack = TestStack::new();
    stack
        .wasm(
            "20-probe",
            "probe",
            Some("[capabilities]\nvars-read = [\"PROBE_*\"]\n"),
        )
        .bash("30-b.sh", &tracer("30-b"))
        .write("local.conf", "[[local|localrc]]\nPROBE_PANIC=unstack\n")
        .write(
            "hookhost.toml",
            "[grants.probe]\nvars-read = [\"PROBE_*\"]\n",
        );
    let run = stack.hookhost(&["unstack"]);
    run.assert_code(1).assert_no_panic().assert_stderr_has(
        "hook 20-probe (wasm) failed in `unstack`\n  = reason: panicked: probe panicked in unstack",
    );
    assert!(trace(&run.stdout).contains(&"30-b unstack".to_string()));
}

#[test]
fn die_from_a_plugin_names_the_message() {
    let stack = TestStack::new();
    stack
        .wasm(
            "20-probe",
            "probe",
            Some("[capabilities]\nvars-read = [\"PROBE_*\"]\n"),
        )
        .write(
            "local.conf",
            "[[local|localrc]]\nPROBE_DIE=\"stack extra\"\n",
        )
        .write(
            "hookhost.toml",
            "[grants.probe]\nvars-read = [\"PROBE_*\"]\n",
        );
    let run = stack.hookhost(&["stack"]);
    run.assert_code(1).assert_stderr_has(
        "hook 20-probe (wasm) failed in `stack extra`\n  = reason: died: probe died in stack extra",
    );
}

#[test]
fn wasm_output_is_prefixed_with_the_hook_name() {
    let stack = TestStack::new();
    stack.wasm("20-probe", "probe", None);
    let run = stack.hookhost(&["unstack"]);
    run.assert_code(0)
        .assert_stdout_has("[20-probe] probe 20-probe unstack");
}
