//! The Python example plugin (`examples/python-plugin`, built with
//! componentize-py by `scripts/build-python-plugin.sh`) run by the real
//! binary between bash hooks: variables pass both ways, its file lands in
//! its `/data`, it warns once, and reads outside its grants are refused.
//!
//! Without componentize-py the tests say plainly that they were skipped;
//! under `CI=true` that is a failure instead, since CI's set-up installs it.

mod support;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use support::{repo_root, Run, TestStack};

/// `scripts/build-python-plugin.sh`'s status when componentize-py is missing.
const MISSING_STATUS: i32 = 3;

/// What the bash hook before the plugin sets, and what the plugin greets.
const WHO: &str = "bash hook 10-before";
/// The greeting the plugin sets and writes, built from `WHO`.
const GREETING: &str = "Hello, bash hook 10-before, from Python";

/// The operator's grants: exactly what the manifest requests.
const GRANTS: &str = r#"[grants.py-greeter]
read = ["files"]
vars-read = ["PY_PLUGIN_WHO", "PY_PLUGIN_PROBE"]
vars-write = ["PY_PLUGIN_GREETING"]
"#;

/// The built component, or None when componentize-py is not installed
/// (built once per test binary; the script skips an up-to-date build).
fn python_component() -> Option<&'static Path> {
    static BUILT: OnceLock<Option<PathBuf>> = OnceLock::new();
    BUILT.get_or_init(build).as_deref()
}

fn build() -> Option<PathBuf> {
    let output = Command::new(repo_root().join("scripts/build-python-plugin.sh"))
        .output()
        .expect("run scripts/build-python-plugin.sh");
    let stderr = String::from_utf8_lossy(&output.stderr);
    if output.status.code() == Some(MISSING_STATUS) {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "componentize-py is missing on CI; scripts/setup.sh should have installed it:\n{stderr}"
        );
        return None;
    }
    assert!(
        output.status.success(),
        "building the Python plugin failed:\n{stderr}"
    );
    let path = String::from_utf8_lossy(&output.stdout).trim().to_string();
    Some(PathBuf::from(path))
}

/// Say on the terminal that `test` did not run. Written to stderr directly,
/// past the test harness's capture, so it shows in a passing run.
fn skipped(test: &str) {
    let _ = writeln!(
        std::io::stderr(),
        "SKIPPED {test}: componentize-py is not installed (run scripts/setup.sh)"
    );
}

/// A stack beside `outside/secret.txt`: bash hook 10-before sets the
/// variables, the plugin is 50-py-greeter, bash hook 60-after reports what
/// the plugin set.
fn python_stack(wasm: &Path, services: &str) -> (tempfile::TempDir, TestStack) {
    let (root, stack) = TestStack::beside_outside();
    let manifest = std::fs::read_to_string(wasm.with_extension("toml")).expect("the manifest");
    std::fs::copy(wasm, stack.path("extras.d/50-py-greeter.wasm")).unwrap();
    stack
        .write("extras.d/50-py-greeter.toml", &manifest)
        .bash("10-before.sh", &before_hook(""))
        .bash(
            "60-after.sh",
            "case $1 in source | clean) echo \"after: PY_PLUGIN_GREETING=${PY_PLUGIN_GREETING-unset}\" ;; esac\n",
        )
        .write("files/py-greeter.txt", "Welcome to the stack\n")
        .write("hookhost.toml", GRANTS)
        .write(
            "local.conf",
            &format!("[[local|localrc]]\nENABLED_SERVICES={services}\n"),
        );
    (root, stack)
}

/// The bash hook before the plugin: sets who to greet and what to probe.
fn before_hook(probe: &str) -> String {
    format!(
        "if [[ $1 == source ]]; then\n    PY_PLUGIN_WHO='{WHO}'\n    PY_PLUGIN_PROBE='{probe}'\nfi\n"
    )
}

/// The lines of the run's output that the plugin's `warn` printed.
fn warnings(run: &Run) -> usize {
    run.stdout
        .lines()
        .filter(|line| line.starts_with("[50-py-greeter] [WARNING]"))
        .count()
}

#[test]
fn python_plugin_passes_variables_writes_its_file_and_warns_once() {
    let Some(wasm) = python_component() else {
        return skipped("python_plugin_passes_variables_writes_its_file_and_warns_once");
    };
    let (_root, stack) = python_stack(wasm, "key,py-greeter");
    let data_file = stack.path(".hookhost/plugin-data/py-greeter/greeting.txt");

    let run = stack.hookhost(&["stack"]);
    run.assert_code(0)
        .assert_no_panic()
        // It saw what the bash hook before it set, and the service enabled.
        .assert_stdout_has(&format!(
            "[50-py-greeter] py-greeter: '{GREETING}'; service py-greeter is enabled"
        ))
        // The bash hook after it sees what it set.
        .assert_stdout_has(&format!("[60-after] after: PY_PLUGIN_GREETING={GREETING}"))
        // It read its granted directory.
        .assert_stdout_has("[50-py-greeter] py-greeter: banner: Welcome to the stack")
        .assert_stdout_has("[50-py-greeter] py-greeter: wrote /data/greeting.txt")
        .assert_stderr_has("py-greeter is an example plugin; it configures nothing");
    assert_eq!(warnings(&run), 1, "{}", run.all());
    let written = std::fs::read(&data_file).expect("the plugin's greeting.txt");
    assert_eq!(
        written,
        format!("{GREETING}\n").as_bytes(),
        "greeting.txt holds {:?}",
        String::from_utf8_lossy(&written)
    );

    let run = stack.hookhost(&["unstack"]);
    run.assert_code(0)
        .assert_no_panic()
        .assert_stdout_has(&format!("[60-after] after: PY_PLUGIN_GREETING={GREETING}"));
    assert_eq!(warnings(&run), 0, "{}", run.all());
    assert!(
        data_file.exists(),
        "unstack removed {}",
        data_file.display()
    );

    let run = stack.hookhost(&["clean"]);
    run.assert_code(0)
        .assert_no_panic()
        .assert_stdout_has("[50-py-greeter] py-greeter: removed /data/greeting.txt");
    assert!(!data_file.exists(), "clean left {}", data_file.display());
}

#[test]
fn python_plugin_reads_outside_its_grants_are_refused() {
    let Some(wasm) = python_component() else {
        return skipped("python_plugin_reads_outside_its_grants_are_refused");
    };
    let (root, stack) = python_stack(wasm, "key");
    let outside = [
        "/stack/../outside/secret.txt".to_string(),
        "/stack/files/../../outside/secret.txt".to_string(),
        "/stack/files/../local.conf".to_string(),
        "/stack/hookhost.toml".to_string(),
        root.path().join("outside/secret.txt").display().to_string(),
    ];
    // A granted file first: the probe does read what it may.
    let granted = "/stack/files/py-greeter.txt";
    let probe = format!("{granted}:{}", outside.join(":"));
    stack.bash("10-before.sh", &before_hook(&probe));

    let run = stack.hookhost(&["stack"]);
    run.assert_code(0)
        .assert_no_panic()
        .assert_stdout_has("service py-greeter is disabled")
        .assert_stdout_has(&format!(
            "[50-py-greeter] py-greeter: read {granted}: 21 bytes"
        ));
    for path in &outside {
        run.assert_stdout_has(&format!(
            "[50-py-greeter] py-greeter: read {path}: refused ("
        ));
    }
    assert!(!run.all().contains("outside-secret"), "{}", run.all());
}
