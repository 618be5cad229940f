//! DevStack compatibility, end to end: hooks written in the style of
//! DevStack's 2014 extras.d scripts (host/tests/fixtures/devstack/, with stub
//! lib/ files) run unmodified through every entry point with real bash and
//! a real git repository; `--dry-run`; local.conf's meta-sections merged at
//! DevStack's points.

mod support;

use std::path::Path;
use std::process::Command;

use support::{repo_root, TestStack};

/// Copy a directory tree.
fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// Run git in `dir`, which must succeed.
fn git(dir: &Path, args: &[&str]) {
    let output = Command::new("git")
        .args(["-c", "user.name=t", "-c", "user.email=t@example.invalid"])
        .args(args)
        .current_dir(dir)
        .output()
        .expect("run git");
    assert!(
        output.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// The legacy fixture in a temp dir, with the ironic repository its
/// local.conf names: branch `stable` has VERSION 2014.2, `main` moved on.
fn legacy_stack() -> TestStack {
    let stack = TestStack::new();
    copy_tree(
        &repo_root().join("host/tests/fixtures/devstack/legacy"),
        stack.top(),
    );
    let repo = stack.path("repos/ironic");
    std::fs::create_dir_all(&repo).unwrap();
    git(&repo, &["init", "-q", "-b", "main"]);
    std::fs::write(repo.join("VERSION"), "2014.2\n").unwrap();
    git(&repo, &["add", "-A"]);
    git(&repo, &["commit", "-qm", "2014.2"]);
    git(&repo, &["branch", "stable"]);
    std::fs::write(repo.join("VERSION"), "main-only\n").unwrap();
    git(&repo, &["commit", "-qam", "later"]);
    // What the run leaves for the test to check: the entry script ($0) and
    // the service list after every hook of the phase ran.
    stack.bash(
        "85-report.sh",
        "echo \"entry=$(basename $0) phase=$*\"\n\
         if [[ $1 == stack && $2 == extra ]]; then echo \"services=$ENABLED_SERVICES\"; fi\n",
    );
    stack
}

/// Whether `needles` appear in `text` in this order.
#[track_caller]
fn assert_in_order(text: &str, needles: &[&str]) {
    let mut from = 0;
    for needle in needles {
        match text[from..].find(needle) {
            Some(at) => from += at + needle.len(),
            None => panic!("{needle:?} missing (or out of order) after byte {from}:\n{text}"),
        }
    }
}

#[test]
fn historical_hooks_run_unmodified_through_stack() {
    let stack = legacy_stack();
    let run = stack.hookhost(&["stack", "--test-config"]);
    run.assert_code(0).assert_no_panic();
    assert_in_order(
        &run.stdout,
        &[
            "[85-report] entry=stack.sh phase=source",
            // pre-install: ceph checks the distribution, records its package
            "[20-ceph] Installing Ceph",
            "[20-ceph] install_package: would install ceph",
            // install: sudo called directly, both trueorfalse forms
            "[20-ceph] ceph: configured",
            "(remote=False)",
            // git_clone at the REF local.conf names (branch stable)
            "[30-ironic] git_clone:",
            "[50-trove] trove: would fetch https://opendev.org/openstack/python-troveclient.git (master)",
            "[50-trove] trove: guest agent enabled: True",
            // post-config merge after the post-config hooks
            "[local.conf] merged [[post-config|$IRONIC_CONF]]",
            "[30-ironic] ironic: starting from 2014.2",
            "[30-ironic] ironic: debug=True api_url=http://127.0.0.1:6385",
            "[60-zaqar] zaqar: store before merge: mongodb",
            "[85-report] services=key,ceph,ir-api,ir-cond,tr-api,zaqar-server,tempest,zaqar-websocket",
            "[local.conf] merged [[extra|$CONF_ROOT/zaqar/zaqar.conf]]",
            "[80-tempest] tempest: zaqar store: redis",
            "[80-tempest] tempest: ironic available: False",
            "[85-report] entry=stack.sh phase=stack test-config",
            "[local.conf] merged [[test-config|$TEMPEST_CONFIG]]",
        ],
    );
    // The ceph data directory sudo made, the merged test-config file.
    assert!(stack.path(".hookhost/dest/data/ceph/mon").is_dir());
    let tempest = std::fs::read_to_string(stack.path("etc/tempest/tempest.conf")).unwrap();
    assert!(
        tempest.contains("[service_available]\nzaqar = True\nironic = True\n"),
        "{tempest}"
    );
    assert!(tempest.contains("image_ref = cirros"), "{tempest}");
    let ironic = std::fs::read_to_string(stack.path("etc/ironic/ironic.conf")).unwrap();
    assert!(
        ironic.starts_with("[DEFAULT]\nenabled_drivers = fake\ndebug = True\n"),
        "{ironic}"
    );
}

#[test]
fn historical_hooks_run_through_unstack_and_clean() {
    let stack = legacy_stack();
    stack.hookhost(&["stack"]).assert_code(0);
    let run = stack.hookhost(&["unstack"]);
    run.assert_code(0);
    assert_in_order(
        &run.stdout,
        &[
            "[85-report] entry=unstack.sh phase=source",
            "[20-ceph] ceph: stopped (pretend)",
            "[30-ironic] ironic: stopped (pretend)",
            "[50-trove] trove: stopped (pretend)",
            "[85-report] entry=unstack.sh phase=unstack",
        ],
    );
    assert!(!run.stdout.contains("as part of clean.sh"), "{}", run.all());
    let run = stack.hookhost(&["clean"]);
    run.assert_code(0);
    assert_in_order(
        &run.stdout,
        &[
            "[85-report] entry=clean.sh phase=source",
            "[30-ironic] ironic: unstack as part of clean.sh",
            "[30-ironic] ironic: stopped (pretend)",
            "[20-ceph] ceph: removed",
            "[30-ironic] ironic: cleaned",
            "[85-report] entry=clean.sh phase=clean",
        ],
    );
    assert!(!stack.path(".hookhost/dest/data/ceph").exists());
    assert!(!stack.path("etc/ironic").exists());
}

/// The legacy stack plus a hook that calls DevStack functions hookhost
/// does not provide.
fn dry_run_stack() -> TestStack {
    let stack = legacy_stack();
    std::fs::copy(
        repo_root().join("host/tests/fixtures/devstack/dry-run/40-opendaylight.sh"),
        stack.path("extras.d/40-opendaylight.sh"),
    )
    .unwrap();
    let conf = std::fs::read_to_string(stack.path("local.conf")).unwrap();
    let conf = conf.replace("CONF_ROOT=", "enable_service odl-server\nCONF_ROOT=");
    stack.write("local.conf", &conf);
    stack
}

#[test]
fn dry_run_records_undefined_functions_sudo_and_installs_instead_of_running_them() {
    let stack = dry_run_stack();
    let run = stack.hookhost(&["stack", "--dry-run", "--allow-install"]);
    run.assert_code(0).assert_no_panic();
    let report = &run.stdout[run.stdout.find("dry run: recorded").expect("no report")..];
    // The totals, then a block per hook and phase, each record at its place.
    assert_in_order(
        report,
        &[
            "not defined here (functions or commands that do not exist): 2",
            "package installs (not run): 2",
            "git_clone (not fetched): 1",
            "local.conf meta-sections (not merged): 2",
        ],
    );
    let block = |hook: &str, phase: &str| support::dry_run_block(report, hook, phase);
    let install = block("40-opendaylight", "stack install");
    assert!(
        install.contains("pip_install networking-odl  [extras.d/40-opendaylight.sh:13]"),
        "{report}"
    );
    assert!(
        block("40-opendaylight", "stack extra").contains("run_process odl-server"),
        "{report}"
    );
    assert!(
        block("20-ceph", "stack pre-install").contains("install_package ceph  [lib/ceph:21]"),
        "{report}"
    );
    assert!(
        install.contains("install_package unzip openjdk-7-jre-headless"),
        "{report}"
    );
    assert!(
        block("30-ironic", "stack install").contains("[lib/ironic:15]"),
        "{report}"
    );
    assert!(report.contains("[[post-config|$IRONIC_CONF]]"), "{report}");
    // The hook went on after the call it could not make.
    run.assert_stdout_has("dry run: not run (undefined): pip_install networking-odl");
    // Nothing was run: no clone, no directory sudo would have made, no merge.
    assert!(!stack.path(".hookhost/dest/ironic").exists());
    assert!(!stack.path(".hookhost/dest/data/ceph").exists());
    // `sudo mkdir` is a file record (sudo's command decides the kind); the
    // hooks' own `mkdir -p $TOP_DIR/etc/...` and iniset were recorded too.
    assert!(!report.contains("sudo (not run)"), "{report}");
    let ceph = block("20-ceph", "stack install");
    assert_in_order(
        &ceph,
        &[
            "files outside the state directory (not written)",
            "sudo mkdir -p",
            "[lib/ceph:26]",
        ],
    );
    assert_in_order(
        &install,
        &["sudo mkdir -p", "[extras.d/40-opendaylight.sh:14]"],
    );
    assert!(!stack.path("etc/ironic").exists());
}

#[test]
fn dry_run_report_is_one_json_event() {
    let stack = dry_run_stack();
    let run = stack.hookhost(&["stack", "--dry-run", "--json"]);
    run.assert_code(0);
    let event = run
        .stdout
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .find(|v| v["event"] == "dry-run")
        .expect("a dry-run event");
    let records = event["data"]["records"].as_array().unwrap();
    let pip = records
        .iter()
        .find(|r| r["command"] == "pip_install networking-odl")
        .expect("pip_install recorded");
    assert_eq!(pip["hook"], "40-opendaylight");
    assert_eq!(pip["phase"], "stack install");
    assert_eq!(pip["kind"], "undefined");
    assert_eq!(pip["place"], "extras.d/40-opendaylight.sh:13");
}

#[test]
fn without_dry_run_a_missing_devstack_function_fails_the_stack_naming_it() {
    let stack = dry_run_stack();
    let run = stack.hookhost(&["stack"]);
    run.assert_code(1).assert_stdout_has(
        "extras.d/40-opendaylight.sh: line 13: pip_install: command not found (hookhost stack --dry-run lists every missing command)",
    );
    assert!(run
        .stderr
        .contains("hook 40-opendaylight (bash) failed in `stack install`"));
}

/// A stack whose hooks print the file the meta-sections merge into.
fn merge_stack(conf_body: &str) -> TestStack {
    let stack = TestStack::new();
    stack
        .write(
            "local.conf",
            &format!("[[local|localrc]]\nSVC_DIR=$TOP_DIR/etc/svc\n{conf_body}"),
        )
        .bash(
            "50-svc.sh",
            "if [[ $1 == source ]]; then SVC_CONF=$SVC_DIR/svc.conf; fi\n\
             if [[ $1 == stack && $2 == install ]]; then mkdir -p $SVC_DIR; iniset $SVC_CONF DEFAULT debug False; fi\n\
             if [[ $1 == stack ]]; then echo \"$2: debug=$(iniget $SVC_CONF DEFAULT debug) x=$(iniget $SVC_CONF extra x) t=$(iniget $SVC_CONF test t)\"; fi\n",
        );
    stack
}

#[test]
fn meta_sections_are_merged_after_their_phase_hooks() {
    let stack = merge_stack(
        "[[post-config|$SVC_CONF]]\n[DEFAULT]\ndebug = True\n\
         [[extra|${SVC_DIR}/svc.conf]]\n[extra]\nx = 1\n\
         [[test-config|$SVC_CONF]]\n[test]\nt = yes\n",
    );
    let run = stack.hookhost(&["stack", "--test-config"]);
    run.assert_code(0);
    assert_in_order(
        &run.stdout,
        &[
            "[50-svc] post-config: debug=False x= t=",
            "[local.conf] merged [[post-config|$SVC_CONF]] (line 3)",
            "[50-svc] extra: debug=True x= t=",
            "[local.conf] merged [[extra|${SVC_DIR}/svc.conf]] (line 6)",
            "[50-svc] test-config: debug=True x=1 t=",
            "[local.conf] merged [[test-config|$SVC_CONF]] (line 9)",
        ],
    );
    let text = std::fs::read_to_string(stack.path("etc/svc/svc.conf")).unwrap();
    assert_eq!(
        text,
        "[DEFAULT]\ndebug = True\n\n[extra]\nx = 1\n\n[test]\nt = yes\n"
    );
}

#[test]
fn a_meta_section_whose_file_is_unknown_or_phase_not_run_is_reported_not_dropped() {
    let stack = merge_stack(
        "[[post-config|$NOT_SET_ANYWHERE]]\n[a]\nb = c\n[[test-config|$SVC_CONF]]\n[t]\nu = v\n",
    );
    let run = stack.hookhost(&["stack"]);
    run.assert_code(0)
        .assert_stderr_has("local.conf:3: [[post-config|$NOT_SET_ANYWHERE]]: not merged: NOT_SET_ANYWHERE is not set")
        .assert_stderr_has("local.conf:6: [[test-config|$SVC_CONF]] is merged after `stack test-config`, which this run does not run — pass --test-config");
}

#[test]
fn a_bad_ini_line_in_a_meta_section_refuses_the_run_with_file_and_line() {
    let stack = merge_stack("[[post-config|$SVC_CONF]]\ndebug = True\n[DEFAULT]\n  x = 1\n");
    stack.bash("10-marker.sh", "touch \"$TOP_DIR/ran\"\n");
    let run = stack.hookhost(&["stack"]);
    run.assert_code(2)
        .assert_stderr_has("local.conf:4: [[post-config|$SVC_CONF]]: `debug = True` comes before any [section] header")
        .assert_stderr_has("local.conf:6: [[post-config|$SVC_CONF]]: indented line `x = 1`");
    assert!(!stack.path("ran").exists());
}

#[test]
fn helpers_old_hooks_call_behave_like_devstack() {
    let stack = TestStack::new();
    stack.bash(
        "50-helpers.sh",
        "if [[ $1 == stack && $2 == install ]]; then\n\
           is_package_installed bash && echo bash-installed\n\
           is_package_installed no-such-package-hookhost || echo no-such-package-missing\n\
           is_package_installed || echo none-given-false\n\
           sudo sh -c 'echo sudo-ran-as-$(id -u)'\n\
           sudo DEMO_VAR=set sh -c 'echo env=$DEMO_VAR'\n\
           is_set UNSET_THING || echo unset-is-not-set\n\
           EMPTY=; is_set EMPTY || echo empty-is-not-set\n\
           false || err $LINENO \"not fatal\" || echo \"err-returned-$?\"\n\
           GITREPO[x]=y; echo \"gitrepo-x=${GITREPO[x]} attrs=${GITDIR@a}\"\n\
           [[ -n $os_PACKAGE ]] && echo os-known\n\
         fi\n",
    );
    let run = stack.hookhost(&["stack"]);
    run.assert_code(0);
    for line in [
        "[50-helpers] bash-installed",
        "[50-helpers] no-such-package-missing",
        "[50-helpers] none-given-false",
        "[50-helpers] env=set",
        "[50-helpers] unset-is-not-set",
        "[50-helpers] empty-is-not-set",
        "[50-helpers] [ERROR] extras.d/50-helpers.sh:9 not fatal",
        "[50-helpers] err-returned-1",
        "[50-helpers] gitrepo-x=y attrs=A",
        "[50-helpers] os-known",
    ] {
        run.assert_stdout_has(line);
    }
    run.assert_stdout_has("[50-helpers] sudo-ran-as-");
}
