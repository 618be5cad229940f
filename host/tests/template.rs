//! `plugins/template`, the Rust port of DevStack's template dispatch
//! script, run as a WASM hook between bash hooks.

mod support;

use support::TestStack;

const MANIFEST: &str = "[capabilities]\nvars-read = [\"TEMPLATE_GREETING\"]\n\
                        vars-write = [\"TEMPLATE_INSTALLED\"]\npackages = [\"cowsay\"]\n";
const GRANTS: &str = "[grants.template]\nvars-read = [\"TEMPLATE_GREETING\"]\n\
                      vars-write = [\"TEMPLATE_INSTALLED\"]\n";

fn template_stack(local_conf: &str) -> TestStack {
    let stack = TestStack::new();
    stack
        .wasm("50-template", "template", Some(MANIFEST))
        .bash(
            "60-after.sh",
            "if [[ $1 == stack && $2 == extra ]]; then echo \"installed=${TEMPLATE_INSTALLED:-unset}\"; fi\n",
        )
        .write("hookhost.toml", GRANTS)
        .write("local.conf", local_conf);
    stack
}

#[test]
fn template_acts_in_every_phase_when_enabled() {
    let stack = template_stack(
        "[[local|localrc]]\nENABLED_SERVICES=key\nenable_service template\nTEMPLATE_GREETING=\"Hi from local.conf\"\n",
    );
    let run = stack.hookhost(&["stack"]);
    run.assert_code(0)
        .assert_no_panic()
        .assert_stdout_has("[50-template] Configuring system services Template")
        .assert_stdout_has("[50-template] Installing Template")
        .assert_stdout_has("[50-template] Configuring Template")
        .assert_stdout_has("[50-template] Initializing Template")
        .assert_stdout_has("[60-after] installed=True");
    // Without an install grant the package is recorded, and the run says so.
    run.assert_stdout_has("would install cowsay")
        .assert_stderr_has("not installed (no install grant; rerun with --allow-install): cowsay");
    let conf = std::fs::read_to_string(stack.path(".hookhost/plugin-data/template/template.conf"))
        .expect("template.conf in the plugin's data directory");
    assert!(conf.contains("Hi from local.conf"), "{conf:?}");
}

#[test]
fn template_does_nothing_when_its_service_is_disabled() {
    let stack = template_stack("[[local|localrc]]\nENABLED_SERVICES=key,glance\n");
    let run = stack.hookhost(&["stack"]);
    run.assert_code(0)
        .assert_stdout_has("[60-after] installed=unset");
    assert!(!run.stdout.contains("Template"), "{}", run.all());
    assert!(!stack
        .path(".hookhost/plugin-data/template/template.conf")
        .exists());
}
