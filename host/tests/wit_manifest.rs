//! The manifest embedded in a component (`hookhost build`'s custom
//! section) counts in a run: alone it is the plugin's request; beside a
//! `.toml` that differs, the `.toml` wins with a note; with neither, a
//! 0.2.0 plugin is refused (a 0.1.0 one runs as it always did).

mod support;

use hookhost::author::inspect::with_custom_section;
use hookhost::wasm::sections::MANIFEST_SECTION;
use support::{component, repo_root, TestStack};

const REQUEST: &str = "[capabilities]\nvars-read = [\"CONFIGURER_*\"]\n";
const GRANTS: &str = "[grants.\"30-new\"]\nvars-read = [\"CONFIGURER_*\"]\n";

/// `extras.d/30-new.wasm`: the 0.2.0 configurer, with `embedded` as its
/// embedded manifest when given.
fn stack_with(embedded: Option<&str>, beside: Option<&str>) -> TestStack {
    let stack = TestStack::new();
    let bytes = std::fs::read(component("configurer")).unwrap();
    let bytes = match embedded {
        Some(text) => with_custom_section(&bytes, MANIFEST_SECTION, text.as_bytes()),
        None => bytes,
    };
    std::fs::write(stack.path("extras.d/30-new.wasm"), bytes).unwrap();
    if let Some(text) = beside {
        stack.write("extras.d/30-new.toml", text);
    }
    stack.write("hookhost.toml", GRANTS).write(
        "local.conf",
        "[[local|localrc]]\nCONFIGURER_PEEK=\"CONFIGURER_X\"\nCONFIGURER_X=from-local-conf\n",
    );
    stack
}

#[test]
fn the_embedded_manifest_is_the_request_when_no_toml_is_beside_it() {
    let stack = stack_with(Some(REQUEST), None);
    let run = stack.hookhost(&["stack"]);
    run.assert_code(0)
        .assert_no_panic()
        .assert_stdout_has("[30-new] get-var CONFIGURER_X: set from-local-conf");
    let plan = stack.hookhost(&["plan", "stack"]);
    plan.assert_code(0)
        .assert_stdout_has("requests vars-read CONFIGURER_*");
}

#[test]
fn a_0_2_0_plugin_with_no_manifest_at_all_is_refused() {
    let stack = stack_with(None, None);
    stack.bash("10-a.sh", "touch \"$TOP_DIR/ran\"\n");
    let run = stack.hookhost(&["stack"]);
    run.assert_code(2)
        .assert_no_panic()
        .assert_stderr_has("30-new.wasm: no manifest: none beside it")
        .assert_stderr_has("a WIT 0.2.0 plugin must say what it requests");
    assert!(!stack.path("ran").exists());
    // An empty request is a request: it runs, and what it reads is denied
    // (not unset): the configurer fails saying so.
    stack.write("extras.d/30-new.toml", "[capabilities]\n");
    let run = stack.hookhost(&["stack"]);
    run.assert_code(1)
        .assert_stderr_has("may not read variable CONFIGURER_PEEK: not granted (vars-read)")
        .assert_stderr_has(
            "the operator grants it with [grants.new] vars-read = [\"CONFIGURER_PEEK\"]",
        );
    assert!(stack.path("ran").exists());
}

#[test]
fn a_toml_differing_from_the_embedded_manifest_wins_with_a_note() {
    let embedded = "[capabilities]\nvars-read = [\"OTHER\"]\n";
    let stack = stack_with(Some(embedded), Some(REQUEST));
    let plan = stack.hookhost(&["plan", "stack"]);
    plan.assert_code(0)
        .assert_stdout_has("differs from the one embedded in it")
        .assert_stdout_has("requests vars-read CONFIGURER_*");
    let run = stack.hookhost(&["stack"]);
    run.assert_code(0)
        .assert_stderr_has("the run uses the one beside it")
        .assert_stdout_has("[30-new] get-var CONFIGURER_X: set from-local-conf");
    // Agreeing copies say nothing.
    let same = stack_with(Some(REQUEST), Some(REQUEST));
    let plan = same.hookhost(&["plan", "stack"]);
    assert!(!plan.stdout.contains("differs"), "{}", plan.all());
}

#[test]
fn a_broken_embedded_manifest_is_refused_naming_it() {
    let stack = stack_with(Some("[capabilities]\nreed = []\n"), None);
    let run = stack.hookhost(&["stack"]);
    run.assert_code(2)
        .assert_no_panic()
        .assert_stderr_has("30-new.wasm (the manifest embedded in it)");
}

/// Old plugins keep working: a 0.1.0 component without a manifest runs
/// as it always did, with no capabilities.
#[test]
fn a_0_1_0_plugin_without_a_manifest_still_runs() {
    let stack = TestStack::new();
    let fixture = repo_root().join("host/tests/fixtures/wit-0.1.0/probe-0.1.0.wasm");
    std::fs::copy(fixture, stack.path("extras.d/20-old.wasm")).unwrap();
    let run = stack.hookhost(&["stack"]);
    run.assert_code(0)
        .assert_stdout_has("probe 20-old source")
        .assert_stdout_has("probe 20-old stack extra");
    // ...and `plan` says it has no capabilities, so a plugin copied
    // without its .toml is not crippled silently.
    stack
        .hookhost(&["plan", "stack"])
        .assert_code(0)
        .assert_stdout_has("requests nothing: no manifest beside it and none embedded");
}
