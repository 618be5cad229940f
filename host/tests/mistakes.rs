//! An operator's mistakes, through the real binary: none passes silently
//! (a directory that is not a stack, a grant table or flag that can never
//! match), every problem of a stack is told in one pass, `plan` refuses
//! what `stack` refuses, and a run ends with what its plugins were denied.

mod support;

use std::process::Command;

use support::TestStack;

/// The greeter's manifest: what it requests (nothing granted by default).
const GREETER: &str = "[capabilities]\nvars-read = [\"GREETING_NAME\"]\n\
                       vars-write = [\"GREETING\"]\nfunctions = [\"render_motd\"]\n";

/// The grants the greeter needs, as a table body.
const GREETER_GRANTS: &str = "vars-read = [\"GREETING_NAME\"]\nvars-write = [\"GREETING\"]\n\
                              functions = [\"render_motd\"]\n";

#[test]
fn a_directory_that_is_not_a_stack_is_refused_and_nothing_is_written() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("notes.txt"), "not a stack\n").unwrap();
    for args in [
        &["stack"][..],
        &["unstack"],
        &["clean"],
        &["plan", "stack"],
        &["list"],
    ] {
        let output = Command::new(env!("CARGO_BIN_EXE_hookhost"))
            .args(args)
            .arg("--top")
            .arg(dir.path())
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains("not a stack"), "{args:?}: {stderr}");
        assert!(
            stderr.contains("a stack holds its hooks in extras.d/"),
            "{stderr}"
        );
        let entries: Vec<_> = std::fs::read_dir(dir.path()).unwrap().flatten().collect();
        assert_eq!(entries.len(), 1, "{args:?} wrote into the directory");
    }
}

#[test]
fn any_one_mark_of_a_stack_is_enough() {
    for mark in ["local.conf", "hookhost.toml"] {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(mark), "").unwrap();
        let output = Command::new(env!("CARGO_BIN_EXE_hookhost"))
            .args(["plan", "stack", "--top"])
            .arg(dir.path())
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(0), "{mark}: {output:?}");
    }
}

/// A local.conf typo, a plugin missing its grants and a junk component.
fn three_problems() -> TestStack {
    let stack = TestStack::new();
    stack
        .write("local.conf", "[[local|localrc]]\nFOO=1 operator\n")
        .wasm("20-greeter", "demo-greeter", Some(GREETER))
        .write("extras.d/85-broken.wasm", "junk\n");
    stack
}

#[test]
fn every_problem_of_a_stack_is_told_in_one_pass() {
    let stack = three_problems();
    for args in [&["stack"][..], &["plan", "stack"]] {
        let run = stack.hookhost(args);
        run.assert_code(2).assert_no_panic();
        run.assert_stderr_has("local.conf:2: unexpected `operator`")
            .assert_stderr_has("20-greeter.wasm requests capabilities the operator has not granted")
            .assert_stderr_has("85-broken.wasm: is not a WebAssembly file");
        let errors = run
            .stderr
            .lines()
            .filter(|l| l.starts_with("error: "))
            .count();
        assert_eq!(errors, 3, "one error line per problem\n{}", run.all());
    }
}

#[test]
fn plan_refuses_a_broken_component_as_stack_does() {
    let stack = TestStack::new();
    stack
        .bash("10-ok.sh", "true\n")
        .write("extras.d/85-broken.wasm", "junk\n");
    stack
        .hookhost(&["plan", "stack"])
        .assert_code(2)
        .assert_stderr_has("85-broken.wasm: is not a WebAssembly file");
    stack
        .hookhost(&["stack"])
        .assert_code(2)
        .assert_stderr_has("85-broken.wasm: is not a WebAssembly file");
}

#[test]
fn grant_flags_that_can_never_match_are_refused() {
    let stack = TestStack::new();
    stack.bash("10-ok.sh", "true\n");
    for (flag, said) in [
        ("--allow-write=/etc", "\"/etc\" is absolute"),
        ("--allow-write=../..", "\"../..\" contains `..`"),
        ("--allow-read=~/x", "`~` is not expanded"),
        (
            "--allow-net=pypi.org:99999",
            "port \"99999\" is not a number from 1 to 65535",
        ),
        ("--allow-env=A-B", "\"A-B\" is not a variable name"),
        ("--deny-write=/", "\"/\" is absolute"),
    ] {
        let run = stack.hookhost(&["plan", "stack", flag]);
        run.assert_code(2);
        run.assert_stderr_has(&format!("error: {flag}: "))
            .assert_stderr_has(said);
    }
    // A host alone, `*`, and a pattern are grants that can match.
    stack
        .hookhost(&[
            "plan",
            "stack",
            "--allow-net=pypi.org,*",
            "--allow-env=NOVA_*",
        ])
        .assert_code(0);
}

#[test]
fn hookhost_toml_grants_are_checked_as_manifests_are() {
    let stack = TestStack::new();
    stack.bash("10-ok.sh", "true\n").write(
        "hookhost.toml",
        "[grants.ok]\nwrite = [\"/etc\"]\nnet = [\"pypi.org:0\"]\n",
    );
    let run = stack.hookhost(&["plan", "stack"]);
    run.assert_code(2)
        .assert_stderr_has("hookhost.toml: [grants.ok] write: \"/etc\" is absolute")
        .assert_stderr_has("hookhost.toml: [grants.ok] net: \"pypi.org:0\"");
}

#[test]
fn a_grant_table_matching_no_hook_warns_with_the_name_meant() {
    let stack = TestStack::new();
    stack
        .wasm("20-greeter", "demo-greeter", Some(GREETER))
        .write(
            "hookhost.toml",
            &format!("[grants.greter]\n{GREETER_GRANTS}"),
        );
    let run = stack.hookhost(&["plan", "stack"]);
    run.assert_code(2)
        .assert_stderr_has("warning: ")
        .assert_stderr_has("[grants.greter] matches no hook")
        .assert_stderr_has("(did you mean `greeter`?)")
        // The refusal names the table in its canonical form.
        .assert_stderr_has("under [grants.greeter] in hookhost.toml");
    // A plan that stands shows it among its notes; a run as a warning.
    stack.write(
        "hookhost.toml",
        &format!("[grants.greeter]\n{GREETER_GRANTS}[grants.greter]\n"),
    );
    stack
        .hookhost(&["plan", "stack"])
        .assert_code(0)
        .assert_stdout_has("[grants.greter] matches no hook");
}

#[test]
fn both_spellings_of_a_table_grant_and_plan_says_which_granted_what() {
    let stack = TestStack::new();
    stack.wasm("20-greeter", "demo-greeter", Some(GREETER));
    for table in ["greeter", "20-greeter", "\"20-greeter\""] {
        stack.write(
            "hookhost.toml",
            &format!("[grants.{table}]\n{GREETER_GRANTS}"),
        );
        let shown = table.trim_matches('"');
        stack
            .hookhost(&["plan", "stack"])
            .assert_code(0)
            .assert_stdout_has(&format!(
                "by [grants.{shown}]: vars-read GREETING_NAME, vars-write GREETING, \
                 functions render_motd"
            ));
    }
    stack.write(
        "hookhost.toml",
        "[grants.greeter]\nfunctions = [\"render_motd\"]\n",
    );
    stack
        .hookhost(&["plan", "stack", "--allow-env=GREETING_NAME,GREETING"])
        .assert_code(0)
        .assert_stdout_has("by --allow-* flags: vars-read GREETING_NAME, vars-write GREETING")
        .assert_stdout_has("by [grants.greeter]: functions render_motd");
}

#[test]
fn plan_and_run_agree_on_packages_without_an_install_grant() {
    let stack = TestStack::new();
    stack.wasm(
        "30-noop",
        "noop",
        Some("[capabilities]\npackages = [\"cowsay\"]\n"),
    );
    let run = stack.hookhost(&["plan", "stack"]);
    run.assert_code(0)
        .assert_stdout_has("granted  packages cowsay recorded only: no install grant");
    let run = stack.hookhost(&["plan", "stack", "--allow-install"]);
    run.assert_code(0);
    assert!(!run.stdout.contains("recorded only"), "{}", run.all());
}

#[test]
fn a_run_lists_what_its_plugins_were_denied_without_audit() {
    let stack = TestStack::new();
    stack
        .wasm(
            "30-hostile",
            "hostile",
            Some("[capabilities]\nvars-read = [\"HOSTILE_*\"]\n"),
        )
        .write(
            "local.conf",
            "[[local|localrc]]\nHOSTILE_ATTACK=getvar\nHOSTILE_VAR=ADMIN_PASSWORD\n",
        );
    let run = stack.hookhost(&["stack", "--allow-env=HOSTILE_*"]);
    run.assert_code(0)
        .assert_stdout_has("denied to plugins during this run")
        .assert_stdout_has(
            "30-hostile: vars-read ADMIN_PASSWORD — [grants.hostile] vars-read = \
             [\"ADMIN_PASSWORD\"] in hookhost.toml (--allow-env=ADMIN_PASSWORD would let it set it too)",
        );
    // The verdict, after the timing table, says so too.
    let verdict = run
        .stdout
        .split("stack finished in ")
        .nth(1)
        .unwrap_or_else(|| panic!("no verdict\n{}", run.all()));
    assert!(
        verdict.contains("\n  = note: 1 request denied to plugins (listed above)\n"),
        "{}",
        run.all()
    );
    let run = stack.hookhost(&["stack", "--json", "--allow-env=HOSTILE_*"]);
    run.assert_code(0);
    let event = run
        .stdout
        .lines()
        .find(|l| l.contains("\"event\":\"denials\""))
        .unwrap_or_else(|| panic!("no denials event\n{}", run.all()));
    let event: serde_json::Value = serde_json::from_str(event).unwrap();
    let denial = &event["data"]["denials"][0];
    assert_eq!(denial["item"], "ADMIN_PASSWORD", "{event}");
    assert_eq!(denial["capability"], "vars-read", "{event}");
    // Before the verdict: the summary stays the last event.
    let last = run.stdout.lines().last().unwrap_or_default();
    assert!(last.contains("\"event\":\"summary\""), "{}", run.all());
    // Nothing denied, nothing noted.
    let quiet = TestStack::new();
    quiet.bash("10-ok.sh", "true\n");
    let run = quiet.hookhost(&["stack"]);
    run.assert_code(0);
    assert!(!run.all().contains("denied to plugins"), "{}", run.all());
}

#[test]
fn file_denials_are_listed_and_a_plugin_failing_on_one_is_told_why() {
    let stack = TestStack::new();
    stack
        .wasm(
            "30-hostile",
            "hostile",
            Some("[capabilities]\nvars-read = [\"HOSTILE_*\"]\nread = [\"files\"]\n"),
        )
        .write("files/kept", "x\n");
    let attack = |attack: &str, path: &str| {
        stack.write(
            "local.conf",
            &format!("[[local|localrc]]\nHOSTILE_ATTACK={attack}\nHOSTILE_PATH={path}\n"),
        );
        stack.hookhost(&["stack", "--allow-env=HOSTILE_*", "--allow-read=files"])
    };
    // In the stack but not granted: the plugin's libc says "no such file";
    // the failure says it was not granted and how to grant it.
    let run = attack("read-fail", "/stack/local.conf");
    run.assert_code(1);
    let all = run.all();
    assert!(
        all.contains("read /stack/local.conf is not granted (grant it with"),
        "{all}"
    );
    assert!(all.contains("30-hostile: read local.conf"), "{all}");
    // Outside the stack: listed, and no grant is offered.
    let run = attack("read-fail", "/etc/passwd");
    run.assert_code(1);
    let all = run.all();
    assert!(
        all.contains("read /etc/passwd was refused: it is outside the stack"),
        "{all}"
    );
    assert!(all.contains("30-hostile: read /etc/passwd"), "{all}");
    // A write beneath a read-only grant.
    let run = attack("write", "/stack/files/new");
    run.assert_code(0)
        .assert_stdout_has("30-hostile: write files/new");
    assert!(!stack.path("files/new").exists());
    // A file that is only missing in a granted directory is no denial.
    let run = attack("read", "/stack/files/absent");
    run.assert_code(0);
    assert!(!run.stdout.contains("denied to plugins"), "{}", run.all());
}

#[test]
fn a_missing_granted_directory_names_the_plugin_and_says_mkdir() {
    let stack = TestStack::new();
    stack.wasm(
        "30-noop",
        "noop",
        Some("[capabilities]\nwrite = [\"files/out\"]\n"),
    );
    let run = stack.hookhost(&["stack", "--allow-write=files"]);
    run.assert_code(2)
        .assert_stderr_has("30-noop.wasm: write files/out: granted, but ")
        .assert_stderr_has(&format!(
            "(`mkdir -p {}`)",
            stack
                .top()
                .canonicalize()
                .unwrap()
                .join("files/out")
                .display()
        ));
}

#[test]
fn deny_flags_have_help() {
    let output = Command::new(env!("CARGO_BIN_EXE_hookhost"))
        .args(["stack", "--help"])
        .output()
        .unwrap();
    let help = String::from_utf8_lossy(&output.stdout);
    for flag in ["read", "write", "env", "run", "net", "function"] {
        let line = help
            .lines()
            .position(|l| l.trim_start().starts_with(&format!("--deny-{flag} ")))
            .unwrap_or_else(|| panic!("no --deny-{flag} in\n{help}"));
        let next = help.lines().nth(line + 1).unwrap_or_default();
        let described = help.lines().nth(line).unwrap().contains("Never") || next.contains("Never");
        assert!(described, "--deny-{flag} has no help:\n{help}");
    }
}

#[test]
fn plan_refuses_a_broken_wasm_driver_as_stack_does() {
    let stack = TestStack::new();
    stack
        .bash("10-ok.sh", "true\n")
        .write("lib/nova_plugins/hypervisor-fake.wasm", "junk\n")
        .write("local.conf", "[[local|localrc]]\nVIRT_DRIVER=fake\n");
    for args in [&["plan", "stack"][..], &["stack"]] {
        stack
            .hookhost(args)
            .assert_code(2)
            .assert_stderr_has("hypervisor-fake.wasm: is not a WebAssembly file");
    }
}
