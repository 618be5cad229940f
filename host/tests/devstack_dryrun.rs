//! `--dry-run` of a DevStack tree through the real binary and real bash:
//! commands that would change the system or reach the network are
//! recorded (with hook, phase, file:line) instead of run, whatever calls
//! them; DevStack's `die` is a finding that ends only the hook's phase;
//! nothing outside `.hookhost/` changes. Uses the small hand-written tree
//! in host/tests/fixtures/devstack-mini, copied to a temp dir per test.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

use support::{repo_root, Run};

/// A copy of the fixture tree in a temp dir.
fn mini_tree() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let status = Command::new("cp")
        .arg("-a")
        .arg(repo_root().join("host/tests/fixtures/devstack-mini/."))
        .arg(dir.path())
        .status()
        .unwrap();
    assert!(status.success(), "copying the fixture tree failed");
    dir
}

fn hookhost(top: &Path, args: &[&str]) -> Run {
    let mut command = Command::new(env!("CARGO_BIN_EXE_hookhost"));
    command
        .args(args)
        .arg("--top")
        .arg(top)
        .env("NO_COLOR", "1");
    Run::from(command.output().expect("run hookhost"))
}

/// Every path under `dir` but hookhost's state.
fn listing(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(next) = todo.pop() {
        for entry in std::fs::read_dir(&next).unwrap() {
            let path = entry.unwrap().path();
            if path.ends_with(".hookhost") {
                continue;
            }
            if path.is_dir() {
                todo.push(path.clone());
            }
            out.push(path);
        }
    }
    out.sort();
    out
}

/// The dry run's records from `--json`'s report event.
fn records(run: &Run) -> Vec<serde_json::Value> {
    run.stdout
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|e| e["event"] == "dry-run")
        .find_map(|e| e["data"]["records"].as_array().cloned())
        .unwrap_or_default()
}

fn has(records: &[serde_json::Value], kind: &str, place: &str, command: &str) -> bool {
    records.iter().any(|r| {
        r["kind"] == kind
            && r["place"] == place
            && r["command"].as_str().is_some_and(|c| c.contains(command))
            && r["hook"] == "50-mini"
            && r["phase"] == "stack install"
    })
}

#[test]
fn a_dry_run_records_commands_and_changes_nothing() {
    let tree = mini_tree();
    let top = tree.path();
    let before = listing(top);
    let run = hookhost(top, &["stack", "--dry-run"]);
    run.assert_no_panic();
    let all = run.all();
    // Recorded, not run: nothing outside .hookhost/ appeared.
    assert_eq!(listing(top), before, "the dry run changed the tree\n{all}");
    assert!(!Path::new("/opt/hookhost-mini-dest").exists(), "{all}");
    assert!(!Path::new("/tmp/hookhost-mini-download").exists(), "{all}");
    // The text report, grouped, with hook, phase and file:line.
    let install = support::dry_run_block(&all, "50-mini", "stack install");
    let place = |line: u32| format!("[extras.d/50-mini.sh:{line}]");
    for (text, line) in [
        ("apt-get install -y hookhost-mini-pkg", 3),
        (
            "git clone https://example.invalid/mini.git /opt/hookhost-mini-dest/mini",
            4,
        ),
        (
            "curl -sf https://example.invalid/mini.tgz -o /tmp/hookhost-mini-download",
            6,
        ),
        ("mkdir -p /opt/hookhost-mini-dest/mini-data", 7),
        ("iniset DEFAULT debug True", 9),
        ("timeout 60 sh -c", 10),
    ] {
        let found = install
            .lines()
            .any(|l| l.contains(text) && l.contains(&place(line)));
        assert!(found, "no record of `{text}` at line {line}\n{all}");
    }
    assert!(all.contains("package installs (not run): 2"), "{all}");
    assert!(all.contains("network (not reached)"), "{all}");
    // The read-only git form ran for real and was not recorded.
    assert!(!all.contains("rev-parse"), "{all}");
    // A function of the tree that was not sourced is told apart.
    assert!(
        install.contains("configure_mini_later  [extras.d/50-mini.sh:11] (DevStack function, defined in lib/mini (not sourced here))"),
        "{all}"
    );
    assert!(
        all.contains("(the file argument is probably an empty variable)"),
        "{all}"
    );
}

#[test]
fn die_in_a_dry_run_ends_the_phase_not_the_run() {
    let tree = mini_tree();
    let top = tree.path();
    let run = hookhost(top, &["stack", "--dry-run"]);
    run.assert_no_panic().assert_code(1);
    let all = run.all();
    assert!(
        support::dry_run_block(&all, "50-mini", "stack install")
            .contains("would stop here: no keyring after 3 tries  [extras.d/50-mini.sh:16]"),
        "{all}"
    );
    // The phase ended at die (the wait loop did not go on; the line after
    // it did not run), the session lived on (no restart), the run went on.
    assert!(!all.contains("MINI not reached"), "{all}");
    assert!(!all.contains("was restarted"), "{all}");
    assert!(all.contains("[50-mini] MINI reached post-config"), "{all}");
    assert!(
        all.contains("hook 50-mini (bash) failed in `stack install`"),
        "{all}"
    );
    // The same in --json.
    let json = hookhost(top, &["stack", "--dry-run", "--json"]);
    let records = records(&json);
    assert!(!records.is_empty(), "{}", json.all());
    assert!(
        has(
            &records,
            "die",
            "extras.d/50-mini.sh:16",
            "would stop here: no keyring"
        ),
        "{records:?}"
    );
    assert!(
        has(
            &records,
            "package",
            "extras.d/50-mini.sh:3",
            "apt-get install"
        ),
        "{records:?}"
    );
    assert!(
        has(&records, "git", "extras.d/50-mini.sh:4", "git clone"),
        "{records:?}"
    );
    assert!(
        has(
            &records,
            "undefined",
            "extras.d/50-mini.sh:11",
            "configure_mini_later"
        ),
        "{records:?}"
    );
}

#[test]
fn a_redirection_outside_the_state_directory_is_refused_and_reported() {
    let tree = mini_tree();
    let top = tree.path();
    let run = hookhost(top, &["stack", "--dry-run", "--json"]);
    run.assert_no_panic();
    let all = run.all();
    let junk = top.join("mini-junk.conf");
    assert!(
        !junk.exists(),
        "the redirection wrote {}\n{all}",
        junk.display()
    );
    let records = records(&run);
    let refused = records.iter().find(|r| {
        r["kind"] == "file"
            && r["hook"] == "50-mini"
            && r["phase"] == "stack post-config"
            && r["place"] == "extras.d/50-mini.sh:24"
            && r["command"] == format!("would write {}", junk.display())
    });
    assert!(refused.is_some(), "{records:#?}\n{all}");
    // A finding, not the hook's failure; the report says how the run was
    // confined.
    let text = hookhost(top, &["stack", "--dry-run"]).all();
    assert!(
        !text.contains("hook 50-mini (bash) failed in `stack post-config`"),
        "{text}"
    );
    assert!(
        text.contains("writes: confined by Landlock") || text.contains("writes: NOT confined"),
        "{text}"
    );
}

#[test]
fn a_dry_run_does_not_reach_a_listener_on_loopback() {
    let tree = mini_tree();
    let top = tree.path();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let port = listener.local_addr().unwrap().port();
    std::fs::write(
        top.join("extras.d/60-net.sh"),
        format!(
            "if [[ $1 == stack && $2 == install ]]; then\n\
             \x20   curl -s http://127.0.0.1:{port}/\n\
             \x20   bash -c 'exec 3<>/dev/tcp/127.0.0.1/{port}' && echo NET-CONNECTED\n\
             fi\n"
        ),
    )
    .unwrap();
    let run = hookhost(top, &["stack", "--dry-run"]);
    run.assert_no_panic();
    let all = run.all();
    assert!(all.contains("network: "), "{all}");
    if all.contains("network: NOT cut off") {
        eprintln!("skipped: this machine cuts a dry run off the network in no way\n{all}");
        return;
    }
    assert!(!all.contains("NET-CONNECTED"), "{all}");
    match listener.accept() {
        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
        other => panic!("the dry run connected to the listener: {other:?}\n{all}"),
    }
    // The listener itself works: a connection from here is accepted.
    let _client = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    listener.set_nonblocking(false).unwrap();
    assert!(listener.accept().is_ok());
}

#[test]
fn plan_dry_run_says_how_a_dry_run_would_be_confined() {
    let tree = mini_tree();
    let run = hookhost(tree.path(), &["plan", "stack", "--dry-run"]);
    run.assert_no_panic().assert_code(0);
    let all = run.all();
    assert!(
        all.contains("dry run (--dry-run) on this machine:"),
        "{all}"
    );
    assert!(all.contains("  writes: "), "{all}");
    assert!(all.contains("  network: "), "{all}");
}

#[test]
fn sudo_is_recorded_by_the_command_it_runs() {
    let tree = mini_tree();
    let run = hookhost(tree.path(), &["stack", "--dry-run", "--json"]);
    run.assert_no_panic();
    let records = records(&run);
    let at = |line: u32| {
        records
            .iter()
            .find(|r| {
                r["hook"] == "50-mini"
                    && r["phase"] == "stack extra"
                    && r["place"] == format!("extras.d/50-mini.sh:{line}")
            })
            .unwrap_or_else(|| panic!("no record at line {line}: {records:#?}"))
    };
    assert_eq!(at(27)["kind"], "package");
    assert_eq!(
        at(27)["command"],
        "sudo -E apt-get install -y mini-sudo-pkg"
    );
    assert_eq!(at(28)["kind"], "service");
    assert_eq!(at(28)["command"], "sudo /bin/systemctl start mini");
    // A shell under sudo says nothing about what it does: a sudo record.
    assert_eq!(at(29)["kind"], "sudo");
    assert!(!Path::new("/etc/mini.conf").exists());
}

/// The plugin fixture as a git repository in `dir`.
fn plugin_repo(dir: &Path) -> PathBuf {
    let repo = dir.join("miniplug");
    let status = Command::new("cp")
        .arg("-a")
        .arg(repo_root().join("host/tests/fixtures/devstack-plugin-mini"))
        .arg(&repo)
        .status()
        .unwrap();
    assert!(status.success(), "copying the plugin fixture failed");
    for args in [
        &["init", "-q", "-b", "master"][..],
        &["add", "-A"],
        &[
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@example.invalid",
            "commit",
            "-qm",
            "import",
        ],
    ] {
        let status = Command::new("git")
            .args(args)
            .current_dir(&repo)
            .status()
            .unwrap();
        assert!(status.success(), "git {args:?}");
    }
    repo
}

#[test]
fn an_external_plugin_s_calls_are_recorded_and_its_own_functions_named() {
    let tree = mini_tree();
    let top = tree.path();
    let outside = tempfile::tempdir().unwrap();
    let repo = plugin_repo(outside.path());
    let dest = outside.path().join("dest");
    std::fs::write(
        top.join("local.conf"),
        format!(
            "[[local|localrc]]\nDEST={}\nenable_plugin miniplug {}\n",
            dest.display(),
            repo.display()
        ),
    )
    .unwrap();
    let run = hookhost(top, &["stack", "--dry-run", "--json"]);
    run.assert_no_panic();
    let records = records(&run);
    let of_plugin = |kind: &str, command: &str| {
        records.iter().find(|r| {
            r["hook"] == "miniplug"
                && r["phase"] == "stack install"
                && r["kind"] == kind
                && r["command"].as_str().is_some_and(|c| c.contains(command))
        })
    };
    let missing = of_plugin("undefined", "install_miniplug").expect("install_miniplug recorded");
    // A dry run clones a plugin not checked out yet into .hookhost/, never
    // into DEST.
    assert_eq!(
        missing["place"],
        ".hookhost/dry-run-plugins/miniplug/devstack/plugin.sh:3"
    );
    assert!(!dest.exists(), "a dry run cloned into DEST");
    assert!(
        missing["note"]
            .as_str()
            .is_some_and(|n| n.contains("a function of an external plugin")
                && n.contains("miniplug/devstack/miniplug-functions.sh")),
        "{missing}"
    );
    assert!(of_plugin("git", "git clone git@example.invalid:miniplug/driver.git").is_some());
    assert!(of_plugin("file", "mkdir -p /opt/hookhost-miniplug").is_some());
    assert!(!Path::new("/opt/hookhost-miniplug").exists());
}

#[test]
fn a_confined_hook_in_a_dry_run_is_recorded_like_any_other() {
    let tree = mini_tree();
    let top = tree.path();
    let before = listing(top);
    let run = hookhost(
        top,
        &["stack", "--dry-run", "--confine", "50-mini", "--json"],
    );
    run.assert_no_panic();
    let all = run.all();
    assert_eq!(listing(top), before, "the dry run changed the tree\n{all}");
    let records = records(&run);
    for (kind, line, command) in [
        ("package", 3, "apt-get install -y hookhost-mini-pkg"),
        ("network", 6, "curl -sf https://example.invalid/mini.tgz"),
        ("die", 16, "would stop here: no keyring after 3 tries"),
        ("package", 27, "sudo -E apt-get install -y mini-sudo-pkg"),
    ] {
        let found = records.iter().any(|r| {
            r["kind"] == kind
                && r["place"] == format!("extras.d/50-mini.sh:{line}")
                && r["command"].as_str().is_some_and(|c| c.contains(command))
        });
        assert!(
            found,
            "no {kind} record at line {line}\n{records:#?}\n{all}"
        );
    }
    // The shims ran in the confined child (not refused), and the refused
    // redirection is a finding there too.
    assert!(!all.contains("dry-run.d/shims"), "{all}");
    assert!(
        records.iter().any(
            |r| r["command"] == format!("would write {}", top.join("mini-junk.conf").display())
        ),
        "{records:#?}"
    );
}

#[test]
fn a_dry_run_changes_no_mode_owner_or_time_and_reaches_no_local_daemon() {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    let tree = mini_tree();
    let top = tree.path();
    let outside = tempfile::tempdir().unwrap();
    let target = outside.path().join("target");
    std::fs::write(&target, "x").unwrap();
    std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o600)).unwrap();
    let before = std::fs::metadata(&target).unwrap();
    let socket = outside.path().join("daemon.sock");
    let listener = std::os::unix::net::UnixListener::bind(&socket).unwrap();
    listener.set_nonblocking(true).unwrap();
    // Programs that run for real in a dry run (python3 -c) make the calls
    // Landlock's filesystem rules do not cover.
    std::fs::write(
        top.join("extras.d/60-meta.sh"),
        format!(
            "if [[ $1 == stack && $2 == install ]]; then\n\
             \x20   python3 -c 'import os,sys; t=sys.argv[1]; os.chmod(t, 0o4777); os.chown(t, 1, 1); os.utime(t, (0, 0))' {target}\n\
             \x20   python3 -c 'import os; os.setxattr(\"{target}\", \"user.hh\", b\"1\")'\n\
             \x20   python3 -c 'import socket; s=socket.socket(socket.AF_UNIX); s.connect(\"{socket}\"); print(\"UNIX-CONNECTED\")'\n\
             fi\n",
            target = target.display(),
            socket = socket.display()
        ),
    )
    .unwrap();
    let run = hookhost(top, &["stack", "--dry-run"]);
    run.assert_no_panic();
    let all = run.all();
    let after = std::fs::metadata(&target).unwrap();
    assert_eq!(after.permissions().mode() & 0o7777, 0o600, "{all}");
    assert_eq!(
        (after.uid(), after.gid()),
        (before.uid(), before.gid()),
        "{all}"
    );
    assert_eq!(
        after.modified().unwrap(),
        before.modified().unwrap(),
        "{all}"
    );
    assert!(xattr_absent(&target), "{all}");
    assert!(!all.contains("UNIX-CONNECTED"), "{all}");
    match listener.accept() {
        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
        other => panic!("the dry run reached the UNIX socket: {other:?}\n{all}"),
    }
}

/// Whether `path` has no `user.hh` extended attribute.
fn xattr_absent(path: &Path) -> bool {
    let out = std::process::Command::new("python3")
        .args([
            "-c",
            "import os,sys; print('user.hh' in os.listxattr(sys.argv[1]))",
        ])
        .arg(path)
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).trim() == "False"
}

#[test]
fn a_dry_run_leaves_no_process_running() {
    let tree = mini_tree();
    let top = tree.path();
    // A background job and a double fork; each would outlive the run.
    // (`sleep` is instant in a dry run: /bin/sleep is not.)
    let marker = format!("{}", 40_000 + std::process::id() % 10_000);
    std::fs::write(
        top.join("extras.d/60-bg.sh"),
        format!(
            "if [[ $1 == stack && $2 == install ]]; then\n\
             \x20   /bin/sleep {marker}1 &\n\
             \x20   ( /bin/sleep {marker}2 & )\n\
             fi\n"
        ),
    )
    .unwrap();
    let run = hookhost(top, &["stack", "--dry-run"]);
    run.assert_no_panic();
    let all = run.all();
    assert!(all.contains("dry run: stopped 2 processes"), "{all}");
    let left = Command::new("pgrep")
        .args(["-f", &format!("/bin/sleep {marker}")])
        .output()
        .unwrap();
    assert!(
        left.stdout.is_empty(),
        "left running: {}\n{all}",
        String::from_utf8_lossy(&left.stdout)
    );
}
