//! External plugins (`enable_plugin NAME URL [REF]`), end to end: real git
//! repositories made in the test (no network), fetched into `$DEST/NAME`,
//! run after the extras.d hooks in the order enabled; requirements,
//! duplicates, the lock file, and a sandboxed WASM plugin.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

use support::{component, Run, TestStack};

/// Run git in `dir`, which must succeed; its stdout.
fn git(dir: &Path, args: &[&str]) -> String {
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
    String::from_utf8_lossy(&output.stdout).trim().to_string()
}

/// Write files into a repository and commit them.
fn commit(repo: &Path, files: &[(&str, &str)], message: &str) {
    for (path, text) in files {
        let path = repo.join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    git(repo, &["add", "-A"]);
    git(repo, &["commit", "-qm", message]);
}

/// A plugin repository `<stack>/repos/NAME` (outside extras.d) whose
/// settings and plugin.sh trace what runs.
fn plugin_repo(stack: &TestStack, name: &str, extra: &[(&str, &str)]) -> PathBuf {
    let repo = stack.path(&format!("repos/{name}"));
    std::fs::create_dir_all(&repo).unwrap();
    git(&repo, &["init", "-q", "-b", "main"]);
    let settings = format!("define_plugin {name}\necho \"TRACE {name} settings $*\"\n");
    let plugin = format!("echo \"TRACE {name} $*\"\n");
    let mut files = vec![
        ("devstack/settings", settings.as_str()),
        ("devstack/plugin.sh", plugin.as_str()),
    ];
    files.extend_from_slice(extra);
    commit(&repo, &files, "v1");
    repo
}

fn local_conf(stack: &TestStack, lines: &str) {
    stack.write("local.conf", &format!("[[local|localrc]]\n{lines}"));
}

/// The `TRACE` lines of a run, in order.
fn trace(run: &Run) -> Vec<String> {
    run.stdout
        .lines()
        .filter_map(|line| Some(line.split_once("TRACE ")?.1.trim().to_string()))
        .collect()
}

fn tracer(stem: &str) -> String {
    format!("echo \"TRACE {stem} $*\"\n")
}

#[test]
fn plugins_run_after_the_extras_hooks_in_the_order_enabled() {
    let stack = TestStack::new();
    stack
        .bash("10-a.sh", &tracer("10-a"))
        .bash("20-b.sh", &tracer("20-b"));
    let zeta = plugin_repo(&stack, "zeta", &[]);
    let alpha = plugin_repo(&stack, "alpha", &[]);
    local_conf(
        &stack,
        &format!(
            "enable_plugin zeta {}\nenable_plugin alpha {} main\n",
            zeta.display(),
            alpha.display()
        ),
    );
    let run = stack.hookhost(&["stack", "--test-config"]);
    run.assert_code(0).assert_no_panic();
    let mut want: Vec<String> = [
        "10-a source",
        "20-b source",
        "zeta settings",
        "alpha settings",
    ]
    .map(String::from)
    .to_vec();
    for step in [
        "pre-install",
        "install",
        "post-config",
        "extra",
        "test-config",
    ] {
        for who in ["10-a", "20-b", "zeta", "alpha"] {
            want.push(format!("{who} stack {step}"));
        }
    }
    assert_eq!(trace(&run), want, "{}", run.all());
    run.assert_stderr_has("hookhost.lock: recorded plugin zeta at commit");
    assert!(stack
        .path(".hookhost/dest/zeta/devstack/plugin.sh")
        .is_file());
    let unstack = stack.hookhost(&["clean"]);
    unstack.assert_code(0);
    assert_eq!(
        trace(&unstack),
        [
            "10-a source",
            "20-b source",
            "zeta settings",
            "alpha settings",
            "10-a unstack",
            "20-b unstack",
            "zeta unstack",
            "alpha unstack",
            "10-a clean",
            "20-b clean",
            "zeta clean",
            "alpha clean",
        ]
    );
}

#[test]
fn plugins_see_devstacks_plugin_variables() {
    let stack = TestStack::new();
    let repo = plugin_repo(
        &stack,
        "heat",
        &[
            (
                "devstack/plugin.sh",
                "if [[ $1 == stack && $2 == install ]]; then\n\
               echo \"repo=${GITREPO[heat]} branch=${GITBRANCH[heat]} dir=${GITDIR[heat]}\"\n\
               echo \"plugins=$DEVSTACK_PLUGINS enabled=$(is_plugin_enabled heat && echo yes)\"\n\
               echo \"setting=$HEAT_SETTING services=$ENABLED_SERVICES\"\n\
             fi\n",
            ),
            (
                "devstack/settings",
                "define_plugin heat\nHEAT_SETTING=from-settings\nenable_service h-api\n",
            ),
        ],
    );
    git(&repo, &["tag", "v1"]);
    local_conf(
        &stack,
        &format!("enable_plugin heat {} v1\n", repo.display()),
    );
    let run = stack.hookhost(&["stack"]);
    run.assert_code(0);
    let dest = stack
        .top()
        .canonicalize()
        .unwrap()
        .join(".hookhost/dest/heat");
    run.assert_stdout_has(&format!(
        "[heat] repo={} branch=v1 dir={}",
        repo.display(),
        dest.display()
    ))
    .assert_stdout_has("[heat] plugins=heat enabled=yes")
    .assert_stdout_has("[heat] setting=from-settings services=h-api");
}

#[test]
fn ref_selects_what_is_fetched() {
    let stack = TestStack::new();
    let repo = plugin_repo(
        &stack,
        "pinned",
        &[("devstack/plugin.sh", "echo \"TRACE version one $*\"\n")],
    );
    git(&repo, &["tag", "one"]);
    commit(
        &repo,
        &[("devstack/plugin.sh", "echo \"TRACE version two $*\"\n")],
        "v2",
    );
    local_conf(
        &stack,
        &format!("enable_plugin pinned {} one\n", repo.display()),
    );
    let run = stack.hookhost(&["stack"]);
    run.assert_code(0);
    assert!(trace(&run).contains(&"version one stack install".to_string()));
}

#[test]
fn override_defaults_runs_first_when_a_plugin_has_it() {
    let stack = TestStack::new();
    stack.bash("10-a.sh", &tracer("10-a"));
    let repo = plugin_repo(
        &stack,
        "early",
        &[(
            "devstack/override-defaults",
            "echo \"TRACE early override-defaults $*\"\nEARLY_DEFAULT=yes\n",
        )],
    );
    stack.bash(
        "30-check.sh",
        "[[ $1 == source ]] && echo \"TRACE check EARLY_DEFAULT=${EARLY_DEFAULT-unset}\"; true\n",
    );
    local_conf(&stack, &format!("enable_plugin early {}\n", repo.display()));
    let run = stack.hookhost(&["unstack"]);
    run.assert_code(0);
    assert_eq!(
        trace(&run),
        [
            "10-a override_defaults",
            "early override-defaults",
            "10-a source",
            "check EARLY_DEFAULT=yes",
            "early settings",
            "10-a unstack",
            "early unstack",
        ]
    );
}

#[test]
fn enabling_one_plugin_twice_is_refused() {
    let stack = TestStack::new();
    stack.bash("10-marker.sh", "touch \"$TOP_DIR/ran\"\n");
    let repo = plugin_repo(&stack, "twice", &[]);
    local_conf(
        &stack,
        &format!(
            "enable_plugin twice {}\nA=1\nenable_plugin twice {} main\n",
            repo.display(),
            repo.display()
        ),
    );
    let run = stack.hookhost(&["stack"]);
    run.assert_code(2).assert_stderr_has(
        "local.conf:4: enable_plugin twice: already enabled at line 2 — enable a plugin once",
    );
    assert!(!stack.path("ran").exists());
    assert!(!stack.path(".hookhost/dest/twice").exists());
}

#[test]
fn a_missing_requirement_is_refused_naming_both_plugins() {
    let stack = TestStack::new();
    stack.bash("10-marker.sh", "touch \"$TOP_DIR/ran\"\n");
    let needs = plugin_repo(
        &stack,
        "needs",
        &[(
            "devstack/settings",
            "define_plugin needs\nplugin_requires needs base\n",
        )],
    );
    local_conf(
        &stack,
        &format!("enable_plugin needs {}\n", needs.display()),
    );
    let run = stack.hookhost(&["stack"]);
    run.assert_code(2).assert_stderr_has(
        "devstack/settings:2: plugin needs requires plugin base, which local.conf does not enable",
    );
    assert!(!stack.path("ran").exists());
    // Enabled (even after it): the stack runs.
    let base = plugin_repo(&stack, "base", &[]);
    local_conf(
        &stack,
        &format!(
            "enable_plugin needs {}\nenable_plugin base {}\n",
            needs.display(),
            base.display()
        ),
    );
    stack.hookhost(&["stack"]).assert_code(0);
}

#[test]
fn a_requirement_only_known_at_run_time_is_checked_by_the_helper() {
    let stack = TestStack::new();
    let repo = plugin_repo(
        &stack,
        "late",
        &[(
            "devstack/settings",
            "define_plugin late\nOTHER=missing-one\nplugin_requires late $OTHER\n",
        )],
    );
    local_conf(&stack, &format!("enable_plugin late {}\n", repo.display()));
    let run = stack.hookhost(&["stack"]);
    run.assert_code(1).assert_stdout_has(
        "plugin late requires plugin missing-one, which local.conf does not enable",
    );
}

#[test]
fn a_repository_that_is_not_a_plugin_is_refused() {
    let stack = TestStack::new();
    let repo = stack.path("repos/empty");
    std::fs::create_dir_all(&repo).unwrap();
    git(&repo, &["init", "-q", "-b", "main"]);
    commit(&repo, &[("README", "nothing here\n")], "v1");
    local_conf(&stack, &format!("enable_plugin empty {}\n", repo.display()));
    stack
        .hookhost(&["stack"])
        .assert_code(2)
        .assert_stderr_has("plugin empty:")
        .assert_stderr_has("has no devstack/plugin.sh, devstack/plugin.wasm or devstack/settings");
    local_conf(&stack, "enable_plugin gone /nonexistent/repo\n");
    stack
        .hookhost(&["stack"])
        .assert_code(2)
        .assert_stderr_has("plugin gone: cannot fetch /nonexistent/repo: git");
}

#[test]
fn the_lock_refuses_changed_content_until_the_operator_updates_it() {
    let stack = TestStack::new();
    let repo = plugin_repo(
        &stack,
        "locked",
        &[("devstack/plugin.sh", "echo \"TRACE v1 $*\"\n")],
    );
    local_conf(
        &stack,
        &format!("enable_plugin locked {}\n", repo.display()),
    );
    stack.hookhost(&["stack"]).assert_code(0);
    let v1 = git(&repo, &["rev-parse", "HEAD"]);
    let lock = std::fs::read_to_string(stack.path("hookhost.lock")).unwrap();
    assert!(lock.contains(&format!("commit = \"{v1}\"")), "{lock}");
    assert!(
        lock.contains("\"devstack/plugin.sh\" = \"sha256:"),
        "{lock}"
    );

    // Upstream moves on and the checkout is pulled: refused, nothing runs.
    commit(
        &repo,
        &[("devstack/plugin.sh", "echo \"TRACE v2 $*\"\n")],
        "v2",
    );
    let checkout = stack.path(".hookhost/dest/locked");
    git(&checkout, &["pull", "-q", "origin", "main"]);
    let run = stack.hookhost(&["stack"]);
    run.assert_code(2)
        .assert_stderr_has("plugin locked (")
        .assert_stderr_has("its content changed since hookhost.lock recorded it: commit ")
        .assert_stderr_has(
            "devstack/plugin.sh changed — review the change, then accept it with --update-lock",
        );
    assert!(!run.stdout.contains("TRACE"), "{}", run.all());

    // Accepted: runs the new content and the lock follows.
    let run = stack.hookhost(&["stack", "--update-lock"]);
    run.assert_code(0)
        .assert_stderr_has("hookhost.lock: accepted plugin locked");
    assert!(trace(&run).contains(&"v2 stack install".to_string()));
    let v2 = git(&repo, &["rev-parse", "HEAD"]);
    let lock = std::fs::read_to_string(stack.path("hookhost.lock")).unwrap();
    assert!(lock.contains(&format!("commit = \"{v2}\"")), "{lock}");
    stack.hookhost(&["stack"]).assert_code(0);

    // An edit in the checkout, not committed: refused too.
    std::fs::write(
        checkout.join("devstack/plugin.sh"),
        "echo \"TRACE edited $*\"\n",
    )
    .unwrap();
    stack
        .hookhost(&["unstack"])
        .assert_code(2)
        .assert_stderr_has("uncommitted changes to tracked files, devstack/plugin.sh changed");
}

#[test]
fn a_fresh_fetch_checks_out_the_locked_commit() {
    let stack = TestStack::new();
    let repo = plugin_repo(
        &stack,
        "again",
        &[("devstack/plugin.sh", "echo \"TRACE v1 $*\"\n")],
    );
    local_conf(&stack, &format!("enable_plugin again {}\n", repo.display()));
    stack.hookhost(&["stack"]).assert_code(0);
    commit(
        &repo,
        &[("devstack/plugin.sh", "echo \"TRACE v2 $*\"\n")],
        "v2",
    );
    std::fs::remove_dir_all(stack.path(".hookhost/dest/again")).unwrap();
    let run = stack.hookhost(&["stack"]);
    run.assert_code(0);
    assert!(
        trace(&run).contains(&"v1 stack install".to_string()),
        "{}",
        run.all()
    );
}

const WASM_MANIFEST: &str = "[capabilities]\n\
    vars-read = [\"PROBE_*\", \"WPLUG_GREETING\"]\n\
    vars-write = [\"PROBE_COPIED\", \"PROBE_COPY_FROM\", \"WPLUG_GREETING\"]\n";

/// A plugin repository holding the probe component, its manifest and
/// settings that hookhost reads (never runs).
fn wasm_plugin(stack: &TestStack, settings: &str) -> PathBuf {
    let repo = stack.path("repos/wplug");
    std::fs::create_dir_all(repo.join("devstack")).unwrap();
    git(&repo, &["init", "-q", "-b", "main"]);
    std::fs::copy(component("probe"), repo.join("devstack/plugin.wasm")).unwrap();
    commit(
        &repo,
        &[
            ("devstack/plugin.toml", WASM_MANIFEST),
            ("devstack/settings", settings),
        ],
        "v1",
    );
    repo
}

#[test]
fn a_wasm_plugin_runs_sandboxed_with_its_settings_read_not_run() {
    let stack = TestStack::new();
    let repo = wasm_plugin(
        &stack,
        "define_plugin wplug\nWPLUG_GREETING=\"hello from settings\"\nPROBE_COPY_FROM=WPLUG_GREETING\n",
    );
    stack
        .bash("10-a.sh", &tracer("10-a"))
        .bash(
            "20-read.sh",
            "if [[ $1 == stack && $2 == post-config ]]; then echo \"bash sees: $PROBE_COPIED\"; fi\n",
        )
        .write(
            "hookhost.toml",
            "[grants.wplug]\nvars-read = [\"PROBE_*\", \"WPLUG_GREETING\"]\n\
             vars-write = [\"PROBE_COPIED\", \"PROBE_COPY_FROM\", \"WPLUG_GREETING\"]\n",
        );
    local_conf(&stack, &format!("enable_plugin wplug {}\n", repo.display()));
    let run = stack.hookhost(&["stack"]);
    run.assert_code(0).assert_no_panic();
    let order: Vec<String> = run
        .stdout
        .lines()
        .filter(|l| l.contains("TRACE 10-a") || l.contains("] probe wplug "))
        .map(|l| l.rsplit("] ").next().unwrap().to_string())
        .collect();
    assert_eq!(
        order[..4],
        [
            "TRACE 10-a source",
            "probe wplug source",
            "TRACE 10-a stack pre-install",
            "probe wplug stack pre-install"
        ],
        "{}",
        run.all()
    );
    // Set by the settings (source), copied by the component (install),
    // read by bash (post-config).
    run.assert_stdout_has("[20-read] bash sees: hello from settings");
    let lock = std::fs::read_to_string(stack.path("hookhost.lock")).unwrap();
    assert!(
        lock.contains("\"devstack/plugin.wasm\" = \"sha256:"),
        "{lock}"
    );
}

#[test]
fn a_wasm_plugins_settings_may_only_set_what_it_is_granted() {
    let stack = TestStack::new();
    let repo = wasm_plugin(&stack, "define_plugin wplug\nDEST=/tmp/elsewhere\n");
    stack.write(
        "hookhost.toml",
        "[grants.wplug]\nvars-read = [\"PROBE_*\", \"WPLUG_GREETING\"]\n\
         vars-write = [\"PROBE_COPIED\", \"PROBE_COPY_FROM\", \"WPLUG_GREETING\"]\n",
    );
    local_conf(&stack, &format!("enable_plugin wplug {}\n", repo.display()));
    stack
        .hookhost(&["stack"])
        .assert_code(2)
        .assert_stderr_has(
            "devstack/settings:2: sets DEST, which plugin wplug may not write — request it in devstack/plugin.toml (vars-write) and grant it under [grants.wplug] in hookhost.toml",
        );
    // Shell it would have to run is refused, not run.
    let repo2 = stack.path("repos/wplug");
    commit(
        &repo2,
        &[(
            "devstack/settings",
            "define_plugin wplug\nWPLUG_GREETING=$(id)\n",
        )],
        "v2",
    );
    std::fs::remove_dir_all(stack.path(".hookhost/dest/wplug")).unwrap();
    let _ = std::fs::remove_file(stack.path("hookhost.lock"));
    stack
        .hookhost(&["stack"])
        .assert_code(2)
        .assert_stderr_has("devstack/settings:2: ")
        .assert_stderr_has("(a WASM plugin's settings are read, never run)");
}

#[test]
fn list_shows_the_enabled_plugins_as_they_are_on_disk_and_fetches_nothing() {
    let stack = TestStack::new();
    stack
        .bash("10-a.sh", &tracer("10-a"))
        .write(".hookhost/dest/alpha/devstack/plugin.sh", "echo alpha\n")
        .write(".hookhost/dest/beta/devstack/settings", "BETA=1\n")
        .write(".hookhost/dest/gamma/README", "nothing to run\n");
    local_conf(
        &stack,
        "enable_plugin alpha https://example.invalid/alpha\n\
         enable_plugin zeta https://example.invalid/zeta stable/2024.1\n\
         enable_plugin beta https://example.invalid/beta\n\
         enable_plugin gamma https://example.invalid/gamma\n",
    );
    let dest = stack.path(".hookhost/dest");
    let run = stack.hookhost(&["list"]);
    run.assert_code(0)
        .assert_stdout_has("10-a.sh")
        .assert_stdout_has("plugins (local.conf enable_plugin, run after the hooks):")
        .assert_stdout_has("alpha          https://example.invalid/alpha  (local.conf line 2)")
        .assert_stdout_has(&format!(
            "checked out in {}: runs devstack/plugin.sh",
            dest.join("alpha").display()
        ))
        .assert_stdout_has(
            "zeta           https://example.invalid/zeta stable/2024.1  (local.conf line 3)",
        )
        .assert_stdout_has(&format!(
            "not checked out yet: `hookhost stack` clones it into {}",
            dest.join("zeta").display()
        ));
    run.assert_stdout_has(&format!(
        "checked out in {}: runs devstack/settings",
        dest.join("beta").display()
    ))
    .assert_stdout_has(&format!(
        "checked out in {}, but it has no devstack/plugin.sh, plugin.wasm or settings",
        dest.join("gamma").display()
    ));
    assert!(!dest.join("zeta").exists(), "list fetched a plugin");
    let json = stack.hookhost(&["list", "--json"]);
    let value: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(value["plugins"][0]["entry"], "devstack/plugin.sh");
    assert_eq!(value["plugins"][1]["ref"], "stable/2024.1");
    assert_eq!(value["plugins"][1]["entry"], serde_json::Value::Null);
    assert_eq!(value["plugins"][1]["checked_out"], false);
    assert_eq!(value["plugins"][3]["checked_out"], true);
    assert_eq!(value["plugins"][3]["entry"], serde_json::Value::Null);

    // A problem with the plugins is shown; the hooks are still listed.
    local_conf(
        &stack,
        "enable_plugin alpha https://example.invalid/alpha\n\
         enable_plugin alpha https://example.invalid/other\n",
    );
    stack
        .hookhost(&["list"])
        .assert_code(0)
        .assert_stdout_has("10-a.sh")
        .assert_stdout_has("PROBLEM  ")
        .assert_stdout_has("already enabled at line 2");
}

#[test]
fn a_stack_whose_hooks_are_refused_fetches_nothing() {
    let stack = TestStack::new();
    stack.bash("01-reserved.sh", &tracer("01-reserved"));
    let repo = plugin_repo(&stack, "early", &[]);
    local_conf(&stack, &format!("enable_plugin early {}\n", repo.display()));
    for args in [&["plan", "stack"][..], &["stack"][..]] {
        stack
            .hookhost(args)
            .assert_code(2)
            .assert_stderr_has("01-reserved.sh");
    }
    assert!(!stack.path(".hookhost/dest/early").exists(), "fetched");
    assert!(!stack.path("hookhost.lock").exists());
}

#[test]
fn plan_fetches_and_locks_the_plugins_even_when_a_hook_refuses_the_run() {
    let stack = TestStack::new();
    stack
        .bash("10-a.sh", &tracer("10-a"))
        .write("extras.d/10-a.toml", "[capabilities]\nread = [\"/\"]\n");
    let repo = plugin_repo(&stack, "kept", &[]);
    local_conf(&stack, &format!("enable_plugin kept {}\n", repo.display()));
    stack
        .hookhost(&["plan", "stack"])
        .assert_code(2)
        .assert_stderr_has("10-a.toml: line 2: capabilities.read");
    assert!(stack
        .path(".hookhost/dest/kept/devstack/plugin.sh")
        .is_file());
    let lock = std::fs::read_to_string(stack.path("hookhost.lock")).unwrap();
    assert!(lock.contains("[plugins.kept]"), "{lock}");
}

#[test]
fn a_dry_run_fetches_local_plugins_into_hookhost_and_writes_no_lock() {
    let stack = TestStack::new();
    stack.bash("10-a.sh", &tracer("10-a"));
    let zeta = plugin_repo(&stack, "zeta", &[]);
    let dest = stack.path("dest");
    local_conf(
        &stack,
        &format!(
            "DEST={}\nenable_plugin zeta {}\n",
            dest.display(),
            zeta.display()
        ),
    );
    let run = stack.hookhost(&["stack", "--dry-run"]);
    run.assert_code(0).assert_no_panic();
    assert!(
        trace(&run).contains(&"zeta stack install".to_string()),
        "{}",
        run.all()
    );
    assert!(!dest.exists(), "a dry run cloned into DEST:\n{}", run.all());
    assert!(!stack.path("hookhost.lock").exists(), "{}", run.all());
    assert!(stack
        .path(".hookhost/dry-run-plugins/zeta/devstack/plugin.sh")
        .is_file());
    // The real run fetches into DEST and records the lock.
    stack.hookhost(&["stack"]).assert_code(0);
    assert!(dest.join("zeta/devstack/plugin.sh").is_file());
    assert!(stack.path("hookhost.lock").is_file());
}

#[test]
fn a_dry_run_does_not_fetch_over_the_network() {
    let stack = TestStack::new();
    stack.bash("10-a.sh", &tracer("10-a"));
    local_conf(
        &stack,
        "enable_plugin remote https://git.example.invalid/remote.git\n",
    );
    let run = stack.hookhost(&["stack", "--dry-run"]);
    run.assert_code(2)
        .assert_no_panic()
        .assert_stderr_has("a dry run uses no network");
    assert!(!stack.path(".hookhost/dest/remote").exists());
}
