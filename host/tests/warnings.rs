//! Operator mistakes that change nothing, through the real binary: a
//! `disable_service` typo, a `[grants.NAME]` entry its plugin does not
//! request, and (on a stack refused for another reason) the service and
//! `--allow-*` warnings that explain the refusal.

mod support;

use support::{Run, TestStack};

#[track_caller]
fn assert_lacks(run: &Run, text: &str) {
    assert!(!run.all().contains(text), "{text:?} shown\n{}", run.all());
}

/// A stack whose WASM hook `greeter` reads GREETING_NAME.
fn greeter_stack() -> TestStack {
    let stack = TestStack::new();
    stack.wasm(
        "20-greeter",
        "demo-greeter",
        Some("[capabilities]\nvars-read = [\"GREETING_NAME\"]\n"),
    );
    stack
}

#[test]
fn a_service_disabled_by_a_typo_is_warned_with_the_name_meant() {
    let stack = TestStack::new();
    stack.bash("20-greeter.sh", "echo greeted\n");
    stack.write(
        "local.conf",
        "[[local|localrc]]\ndisable_service greter\nENABLED_SERVICES+=,-greetr\n",
    );
    let run = stack.hookhost(&["stack"]);
    run.assert_code(0)
        .assert_no_panic()
        .assert_stderr_has(
            "local.conf:2: disable_service greter: no hook, plugin or DevStack service is named \
             `greter` (did you mean `greeter`?); disabling it changes nothing",
        )
        .assert_stderr_has(
            "local.conf:3: ENABLED_SERVICES -greetr: no hook, plugin or DevStack service is \
             named `greetr` (did you mean `greeter`?); removing it changes nothing",
        );
}

#[test]
fn a_grant_table_entry_its_plugin_does_not_request_is_warned_with_the_nearest() {
    let stack = greeter_stack();
    stack.write(
        "hookhost.toml",
        "[grants.greeter]\nvars-read = [\"GREETING_NAME\", \"GREETING_NAM\"]\nwrite = [\"nothere\"]\n",
    );
    let file = stack.top().canonicalize().unwrap().join("hookhost.toml");
    let typo = format!(
        "{}: [grants.greeter] vars-read \"GREETING_NAM\": plugin greeter does not request it, \
         so it grants nothing (did you mean `GREETING_NAME`?)",
        file.display()
    );
    let unused = "[grants.greeter] write \"nothere\": plugin greeter does not request it";
    let run = stack.hookhost(&["stack"]);
    run.assert_code(0)
        .assert_no_panic()
        .assert_stderr_has(&typo)
        .assert_stderr_has(unused);
    assert_lacks(&run, "\"GREETING_NAME\": plugin");
    let run = stack.hookhost(&["plan", "stack"]);
    run.assert_code(0)
        .assert_stdout_has(&typo)
        .assert_stdout_has(unused);
}

#[test]
fn a_refused_stack_still_says_the_service_and_flag_warnings() {
    let stack = greeter_stack();
    stack.write(
        "local.conf",
        "[[local|localrc]]\nenable_service greeter greter\n",
    );
    let flag = "warning: --allow-env=GREETING_NAM: no plugin of this run requests it, so it \
                grants nothing (did you mean `GREETING_NAME`?)";
    let service = "enable_service greter: no hook, plugin or DevStack service is named `greter` \
                   (did you mean `greeter`?)";
    for command in [&["stack"][..], &["plan", "stack"]] {
        let mut args = command.to_vec();
        args.push("--allow-env=GREETING_NAM");
        let run = stack.hookhost(&args);
        run.assert_code(2)
            .assert_no_panic()
            .assert_stderr_has("requests capabilities the operator has not granted")
            .assert_stderr_has(flag)
            .assert_stderr_has(service);
        assert_lacks(&run, "enable_service greeter:");
    }
    let run = stack.hookhost(&["stack", "--json", "--allow-env=GREETING_NAM"]);
    run.assert_code(2)
        .assert_stdout_has("\"event\":\"warning\"")
        .assert_stdout_has("--allow-env=GREETING_NAM: no plugin of this run requests it");
}
