//! A real DevStack tree as `--top`: the July 2015 tree in
//! `../shared/devstack-2015-07` (or `HOOKHOST_DEVSTACK_TREE`), copied to a
//! temp dir per test, run through the real binary with real bash. The
//! prelude (what stack.sh sourced before its hooks), the precedence of the
//! tree's own functions over hookhost's helpers, the replay after a
//! restart, and the edge cases DevStack trees bring. Every test skips,
//! saying so, when the tree is absent.

mod support;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use support::{Run, TestStack};

/// A copy of the tree in a temp dir (the shared tree is never run in).
fn copy_of(tree: &Path) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let status = Command::new("cp")
        .arg("-a")
        .arg(format!("{}/.", tree.display()))
        .arg(dir.path())
        .status()
        .unwrap();
    assert!(status.success(), "copying {} failed", tree.display());
    dir
}

/// A copy whose extras.d holds only `hooks` (the tree's own would really
/// install things in a run that is not a dry run), README.md kept.
fn copy_with_hooks(tree: &Path, hooks: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = copy_of(tree);
    let extras = dir.path().join("extras.d");
    for entry in std::fs::read_dir(&extras).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "sh") {
            std::fs::remove_file(path).unwrap();
        }
    }
    for (name, text) in hooks {
        std::fs::write(extras.join(name), text).unwrap();
    }
    dir
}

/// `sleep` that returns at once and `timeout` that reports a timeout at
/// once: the dry run's wait loops for services nothing started end quickly
/// (what they would wait for is not what these tests are about).
fn fast_waits(dir: &Path) -> String {
    let bin = dir.join("fast-bin");
    std::fs::create_dir_all(&bin).unwrap();
    for (name, body) in [("sleep", "exit 0"), ("timeout", "exit 124")] {
        let path = bin.join(name);
        std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
        let status = Command::new("chmod").arg("+x").arg(&path).status().unwrap();
        assert!(status.success());
    }
    format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    )
}

fn hookhost(top: &Path, args: &[&str], path: Option<&str>) -> Run {
    let mut command = Command::new(env!("CARGO_BIN_EXE_hookhost"));
    command
        .args(args)
        .arg("--top")
        .arg(top)
        .env("NO_COLOR", "1");
    if let Some(path) = path {
        command.env("PATH", path);
    }
    Run::from(command.output().expect("run hookhost"))
}

/// The files that differ between two listings (added, removed, changed).
fn changed(a: &BTreeMap<PathBuf, Vec<u8>>, b: &BTreeMap<PathBuf, Vec<u8>>) -> Vec<PathBuf> {
    let mut names: Vec<PathBuf> = a.keys().chain(b.keys()).cloned().collect();
    names.sort();
    names.dedup();
    names.retain(|n| a.get(n) != b.get(n));
    names
}

/// Every file under `dir` but hookhost's state, with its content.
fn listing(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(next) = todo.pop() {
        for entry in std::fs::read_dir(&next).unwrap() {
            let entry = entry.unwrap();
            let path = entry.path();
            let rel = path.strip_prefix(dir).unwrap().to_path_buf();
            if rel.starts_with(".hookhost") || rel.starts_with("fast-bin") {
                continue;
            }
            let kind = entry.file_type().unwrap();
            if kind.is_dir() {
                todo.push(path);
            } else if kind.is_file() {
                out.insert(rel, std::fs::read(&path).unwrap());
            }
        }
    }
    out
}

const EVERY_HOOK_LOCAL_CONF: &str = "[[local|localrc]]\n\
ENABLED_SERVICES+=,ir-api,ir-cond,ceph,sahara,zaqar-server,tempest\n\
VIRT_DRIVER=fake\n";

#[test]
fn plan_shows_the_prelude_stack_sh_ran_before_its_hooks() {
    let Some(tree) = support::devstack_tree() else {
        return;
    };
    let copy = copy_of(&tree);
    std::fs::write(copy.path().join("local.conf"), EVERY_HOOK_LOCAL_CONF).unwrap();
    let before = listing(copy.path());
    let plan = hookhost(copy.path(), &["plan", "stack"], None);
    plan.assert_code(0)
        .assert_stdout_has("prelude (DevStack tree; sourced before the hooks, as stack.sh did)")
        .assert_stdout_has("stack.sh:108  source $TOP_DIR/functions")
        .assert_stdout_has("stack.sh:172  source $TOP_DIR/stackrc")
        .assert_stdout_has("-- override_defaults phase --")
        .assert_stdout_has("stack.sh:537  source $TOP_DIR/lib/nova")
        .assert_stdout_has("stack.sh:91  if [[ $EUID -eq 0 ]]; then  (check: DevStack refused to run as root here)")
        .assert_stdout_has("stack.sh:300  sudo mkdir -p $DEST  (side effect on the system)")
        .assert_stdout_has("DEST         /opt/stack  (stackrc:12)")
        .assert_stdout_has("VIRT_DRIVER  fake  (local.conf:3)")
        .assert_stdout_has("  override_defaults  50-ironic");
    // The column-0 here-document inside stack.sh's RHEL block is not a
    // top-level assignment.
    assert!(!plan.stdout.contains("enabled=0"), "{}", plan.all());
    // The prelude ends before `run_phase source`.
    assert!(!plan.stdout.contains("stack.sh:550"), "{}", plan.all());
    let json = hookhost(copy.path(), &["plan", "stack", "--json"], None);
    json.assert_code(0);
    let doc: serde_json::Value = serde_json::from_str(&json.stdout).expect("plan --json");
    let parts = doc["prelude"]["parts"].as_array().expect("prelude parts");
    assert_eq!(parts.len(), 2, "{}", json.stdout);
    assert_eq!(parts[0][10]["text"], "source $TOP_DIR/functions");
    assert_eq!(doc["prelude"]["override_defaults_between_parts"], true);
    assert_eq!(doc["phases"][0], "override_defaults");
    // plan changes nothing in the tree.
    assert_eq!(
        changed(&before, &listing(copy.path())),
        Vec::<PathBuf>::new()
    );
    // unstack.sh's prelude is unstack.sh's: openrc, not stack.sh's lines.
    hookhost(copy.path(), &["plan", "unstack"], None)
        .assert_code(0)
        .assert_stdout_has("unstack.sh:33  source $TOP_DIR/openrc")
        .assert_stdout_has("local.conf [[local|localrc]] -> .localrc.auto (written by hookhost)");
}

#[test]
fn a_configured_prelude_replaces_the_derived_one() {
    let Some(tree) = support::devstack_tree() else {
        return;
    };
    let copy = copy_of(&tree);
    std::fs::write(
        copy.path().join("hookhost.toml"),
        "[devstack]\nprelude = [\"functions\", \"stackrc\", \"no/such-file\"]\n",
    )
    .unwrap();
    hookhost(copy.path(), &["plan", "stack"], None)
        .assert_code(2)
        .assert_stderr_has("[devstack] prelude:")
        .assert_stderr_has("no/such-file does not exist");
    std::fs::write(
        copy.path().join("hookhost.toml"),
        "[devstack]\nprelude = [\"functions\", \"stackrc\"]\n",
    )
    .unwrap();
    let plan = hookhost(copy.path(), &["plan", "stack"], None);
    plan.assert_code(0)
        .assert_stdout_has("hookhost.toml: source $TOP_DIR/functions")
        .assert_stdout_has("hookhost.toml: source $TOP_DIR/stackrc");
    assert!(!plan.stdout.contains("stack.sh:108"), "{}", plan.all());
    // Not a tree by the operator's word: today's behaviour, no prelude.
    std::fs::write(
        copy.path().join("hookhost.toml"),
        "[devstack]\ntree = false\n",
    )
    .unwrap();
    let plain = hookhost(copy.path(), &["plan", "stack"], None);
    plain.assert_code(0);
    assert!(!plain.stdout.contains("prelude"), "{}", plain.all());
}

/// The case: the tree's own hooks, every one enabled, VIRT_DRIVER
/// fake, `stack --dry-run`. Every hook gets through `source` with the
/// tree's functions (before the prelude 5 of them stopped at
/// `get_python_exec_prefix`); after 60-ceph's `die` ends the session in
/// `pre-install`, the replay keeps what 50-ironic's `source` defined, so
/// its `install` phase still finds install_ironic; the tree is left as it
/// was (the prelude's .localrc.auto is put back); /dev/stdin is never shown.
#[test]
fn dry_run_of_the_tree_s_own_hooks_gets_every_hook_through_source() {
    let Some(tree) = support::devstack_tree() else {
        return;
    };
    let copy = copy_of(&tree);
    let top = copy.path().join("devstack");
    let status = Command::new("cp")
        .arg("-a")
        .arg(format!("{}/.", tree.display()))
        .arg(&top)
        .status()
        .unwrap();
    assert!(status.success());
    std::fs::write(top.join("local.conf"), EVERY_HOOK_LOCAL_CONF).unwrap();
    std::fs::write(
        top.join("extras.d/85-probe.sh"),
        "if [[ $1 == source ]]; then\n\
         shopt -s extdebug\n\
         echo \"PROBE is_service_enabled $(declare -F is_service_enabled)\"\n\
         shopt -u extdebug\n\
         echo \"PROBE DEST=$DEST DATA_DIR=$DATA_DIR NOVA_CONF=$NOVA_CONF\"\n\
         fi\n",
    )
    .unwrap();
    let path = fast_waits(copy.path());
    // A .localrc.auto a real run left: the prelude rewrites it (stack.sh's
    // way of handing local.conf to stackrc); the dry run puts it back.
    std::fs::write(top.join(".localrc.auto"), "# left by an earlier stack.sh\n").unwrap();
    let before = listing(&top);
    let run = hookhost(&top, &["stack", "--dry-run"], Some(&path));
    run.assert_no_panic();
    let all = run.all();
    assert!(!all.contains("command not found"), "{all}");
    assert!(!all.contains("get_python_exec_prefix"), "{all}");
    assert!(!all.contains("/dev/stdin"), "{all}");
    assert!(!all.contains("failed in `source`"), "{all}");
    assert!(!all.contains("failed in `override_defaults`"), "{all}");
    let src = format!(
        "PROBE is_service_enabled is_service_enabled 1727 {}/functions-common",
        top.display()
    );
    assert!(
        all.contains(&src),
        "the tree's is_service_enabled wins\n{all}"
    );
    assert!(
        all.contains(
            "PROBE DEST=/opt/stack DATA_DIR=/opt/stack/data NOVA_CONF=/etc/nova/nova.conf"
        ),
        "{all}"
    );
    // 60-ceph dies in pre-install (its distribution check); 50-ironic's
    // install runs after the restart with lib/ironic's functions.
    assert!(
        all.contains("error: hook 60-ceph (bash) failed in `stack pre-install`"),
        "{all}"
    );
    assert!(all.contains("[50-ironic] Installing Ironic"), "{all}");
    assert!(!all.contains("(undefined): install_ironic"), "{all}");
    // DevStack's die is not taken for a hook's `exit`: the failure names it
    // (lib/tempest's own `exit 1` still ends the session, as it should).
    assert!(
        all.contains("reason: DevStack's die at lib/ceph:116: would stop here"),
        "{all}"
    );
    // The dry run recorded git_clone through hookhost's wrapper.
    assert!(
        all.contains(
            "git_clone git://git.openstack.org/openstack/ironic.git /opt/stack/ironic master"
        ),
        "{all}"
    );
    // 60-ceph's die is a finding with the tree's file and line.
    assert!(
        support::dry_run_block(&all, "60-ceph", "stack pre-install").contains("would stop here: If you wish to install Ceph on this distribution anyway run with FORCE_CEPH_INSTALL=yes  [lib/ceph:116]"),
        "{all}"
    );
    // Nothing in the tree changed: not the prelude's .localrc.auto, nor
    // what the tree's hooks wrote into TOP_DIR before (lib/ceph's
    // secret.xml, screen_rc's stack-screenrc, iniset's junk files).
    let after = listing(&top);
    assert_eq!(
        changed(&before, &after),
        Vec::<PathBuf>::new(),
        "the dry run changed the tree"
    );
    assert_eq!(
        std::fs::read_to_string(top.join(".localrc.auto")).unwrap(),
        "# left by an earlier stack.sh\n"
    );
}

/// A real run (the tree's hooks replaced by probes): DevStack's functions
/// win, hookhost's install gating wraps the tree's install_package, and
/// stays wrapped after a hook re-sources `functions`; stackrc's defaults
/// apply (ENABLED_SERVICES is not pre-set), DEST from local.conf moves
/// LOGDIR but not DATA_DIR (DevStack's own order); read_password never
/// prompts and keeps its value.
#[test]
fn the_tree_s_functions_win_and_install_package_stays_gated() {
    let Some(tree) = support::devstack_tree() else {
        return;
    };
    let probe = "case $1 in\n\
        source)\n\
            shopt -s extdebug\n\
            echo \"PROBE saved $(declare -F __hh_ds_install_package)\"\n\
            shopt -u extdebug\n\
            is_service_enabled key && echo PROBE key-enabled\n\
            echo \"PROBE DEST=$DEST DATA_DIR=$DATA_DIR LOGDIR=$LOGDIR\"\n\
            read_password PROBE_PW\n\
            echo \"PROBE pw=$PROBE_PW\"\n\
            ;;\n\
        stack)\n\
            if [[ $2 == pre-install ]]; then source $TOP_DIR/functions; fi\n\
            if [[ $2 == install ]]; then\n\
                install_package hookhost-probe-pkg\n\
                echo \"PROBE rc=$?\"\n\
            fi\n\
            ;;\n\
        esac\n";
    let copy = copy_with_hooks(&tree, &[("10-probe.sh", probe)]);
    let top = copy.path();
    std::fs::write(
        top.join("local.conf"),
        "[[local|localrc]]\nDEST=/tmp/hookhost-probe-dest\nENABLED_SERVICES+=,probe\n",
    )
    .unwrap();
    let run = hookhost(top, &["stack"], None);
    run.assert_code(0)
        .assert_stdout_has("PROBE key-enabled")
        .assert_stdout_has("DEST=/tmp/hookhost-probe-dest DATA_DIR=/opt/stack/data LOGDIR=/tmp/hookhost-probe-dest/logs")
        .assert_stdout_has(&format!("PROBE saved __hh_ds_install_package 1063 {}/.hookhost/prelude/ds/functions-common", top.display()))
        .assert_stdout_has("would install hookhost-probe-pkg")
        .assert_stdout_has("PROBE rc=0");
    let wanted = std::fs::read_to_string(top.join(".hookhost/packages-wanted")).unwrap();
    assert!(wanted.contains("hookhost-probe-pkg"), "{wanted}");
    let pw_line = run
        .stdout
        .lines()
        .find(|l| l.contains("PROBE pw="))
        .unwrap()
        .to_string();
    assert!(
        pw_line.len() > "[10-probe] PROBE pw=".len() + 8,
        "{pw_line}"
    );
    let again = hookhost(top, &["stack"], None);
    again
        .assert_code(0)
        .assert_stdout_has(pw_line.trim_start_matches("[10-probe] "));
    let mode = std::fs::metadata(top.join(".hookhost/passwords")).unwrap();
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(mode.permissions().mode() & 0o777, 0o600);
    // A real run leaves .localrc.auto as stack.sh did.
    let localrc = std::fs::read_to_string(top.join(".localrc.auto")).unwrap();
    assert!(localrc.contains("ENABLED_SERVICES+=,probe"), "{localrc}");
    // plan names where each path came from.
    hookhost(top, &["plan", "stack"], None)
        .assert_code(0)
        .assert_stdout_has("DEST         /tmp/hookhost-probe-dest  (local.conf:2)")
        .assert_stdout_has("DATA_DIR     /opt/stack/data  (stackrc:15)");
}

/// A hook's `source` defined a function; another hook ends the session in
/// `unstack`; after the restart the function is still defined (the prelude
/// and every hook's `source` are replayed).
#[test]
fn a_restart_replays_the_prelude_and_every_source() {
    let Some(tree) = support::devstack_tree() else {
        return;
    };
    let first = "if [[ $1 == source ]]; then probe_defined() { echo PROBE defined; }; fi\n";
    let exit = "if [[ $1 == unstack ]]; then exit 3; fi\n";
    let after = "if [[ $1 == unstack ]]; then probe_defined; echo \"PROBE fn=$(type -t git_clone_by_name)\"; fi\n";
    let copy = copy_with_hooks(
        &tree,
        &[
            ("10-first.sh", first),
            ("20-exit.sh", exit),
            ("30-after.sh", after),
        ],
    );
    let run = hookhost(copy.path(), &["unstack"], None);
    run.assert_code(1)
        .assert_stderr_has("hook 20-exit (bash) failed in `unstack`")
        .assert_stderr_has("were run again")
        .assert_stdout_has("[30-after] PROBE defined")
        .assert_stdout_has("PROBE fn=function");
}

#[test]
fn readme_is_skipped_quietly_and_crlf_is_named() {
    let stack = TestStack::new();
    stack
        .write("extras.d/README.md", "# hooks\n")
        .write("extras.d/notes.txt", "x\n")
        .bash("50-ok.sh", "echo ok\n");
    let run = stack.hookhost(&["stack"]);
    run.assert_code(0);
    assert!(!run.all().contains("README.md"), "{}", run.all());
    assert!(run.all().contains("notes.txt"), "{}", run.all());
    stack.bash("60-dos.sh", "echo one\r\necho two\r\n");
    stack
        .hookhost(&["stack"])
        .assert_code(2)
        .assert_stderr_has("extras.d/60-dos.sh:1: has Windows (CRLF) line endings");
}

/// stack.sh's steps between `run_phase source` and `stack pre-install`:
/// the database URL and the service passwords exist for the later phases,
/// `save_stackenv` is recorded (a dry run), and `plan` lists the steps.
#[test]
fn the_steps_after_source_give_passwords_and_the_database_url() {
    let Some(tree) = support::devstack_tree() else {
        return;
    };
    let probe = "if [[ $1 == stack && $2 == pre-install ]]; then\n\
                 \x20   echo \"PROBE url=$(database_connection_url ironic)\"\n\
                 \x20   echo \"PROBE admin=${#ADMIN_PASSWORD} service=${#SERVICE_PASSWORD}\"\n\
                 fi\n";
    let copy = copy_with_hooks(&tree, &[("10-probe.sh", probe)]);
    std::fs::write(
        copy.path().join("local.conf"),
        "[[local|localrc]]\nVIRT_DRIVER=fake\n",
    )
    .unwrap();
    hookhost(copy.path(), &["plan", "stack"], None)
        .assert_code(0)
        .assert_stdout_has("-- source phase; then, before `stack pre-install` --")
        .assert_stdout_has("stack.sh:615  initialize_database_backends")
        .assert_stdout_has("stack.sh:673  save_stackenv $LINENO");
    let run = hookhost(copy.path(), &["stack", "--dry-run"], None);
    run.assert_no_panic();
    let all = run.all();
    let url = all
        .lines()
        .find_map(|l| l.split("PROBE url=").nth(1))
        .unwrap_or_else(|| panic!("no probe output\n{all}"));
    // mysql+pymysql://root:PASSWORD@HOST/ironic?charset=utf8, not
    // `/ironic?charset=utf8` as without the step.
    assert!(url.starts_with("mysql"), "{url}\n{all}");
    let password = url.split("root:").nth(1).and_then(|r| r.split('@').next());
    assert!(password.is_some_and(|p| !p.is_empty()), "{url}");
    assert!(
        all.contains("PROBE admin=") && !all.contains("PROBE admin=0 "),
        "{all}"
    );
    assert!(!all.contains("service=0"), "{all}");
    assert!(
        support::dry_run_block(&all, "prelude", "stack pre-install")
            .contains("save_stackenv 673  [stack.sh:673]"),
        "{all}"
    );
    // The passwords are kept in hookhost's state, never in the tree.
    let kept = std::fs::read_to_string(copy.path().join(".hookhost/passwords")).unwrap();
    assert!(kept.contains("ADMIN_PASSWORD="), "{kept}");
    assert!(!copy.path().join(".stackenv").exists());
}

/// stack.sh's descriptors 3 and 6 are open for hooks and lib code
/// (`>&3`), and the tree's `die` prints a call trace that names the
/// hook's file and line, with no frame of the session's own script.
#[test]
fn descriptors_3_and_6_are_open_and_die_s_trace_names_the_hook() {
    let Some(tree) = support::devstack_tree() else {
        return;
    };
    let hook = "function probe_inner {\n\
                \x20   die $LINENO \"inner failure\"\n\
                }\n\
                if [[ $1 == source ]]; then\n\
                \x20   echo via-fd-3 >&3\n\
                \x20   echo via-fd-6 >&6\n\
                \x20   probe_inner\n\
                fi\n";
    let copy = copy_with_hooks(&tree, &[("10-trace.sh", hook)]);
    std::fs::write(
        copy.path().join("local.conf"),
        "[[local|localrc]]\nVIRT_DRIVER=fake\n",
    )
    .unwrap();
    let run = hookhost(copy.path(), &["stack"], None);
    run.assert_no_panic();
    let all = run.all();
    assert!(all.contains("[10-trace] via-fd-3"), "{all}");
    assert!(all.contains("[10-trace] via-fd-6"), "{all}");
    assert!(!all.contains("Bad file descriptor"), "{all}");
    assert!(all.contains("[Call Trace]"), "{all}");
    assert!(all.contains("extras.d/10-trace.sh:7:probe_inner"), "{all}");
    assert!(all.contains("extras.d/10-trace.sh:2:die"), "{all}");
    assert!(!all.contains("/dev/stdin"), "{all}");
}
