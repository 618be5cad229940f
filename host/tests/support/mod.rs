//! Shared test fixtures: real stacks in temp dirs, real plugins built from
//! source once per test binary, the real `hookhost` binary.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

/// The repository root (tests live in `<root>/host/tests`).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("host/ has a parent")
        .to_path_buf()
}

/// Build every plugin in `plugins/` from source (once per test binary;
/// cargo's own lock serializes concurrent builds) and return the directory
/// holding the components.
pub fn plugins_dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let root = repo_root();
        let output = Command::new(root.join("scripts/build-plugins.sh"))
            .current_dir(&root)
            .output()
            .expect("run scripts/build-plugins.sh");
        assert!(
            output.status.success(),
            "building the plugins failed:\n{}\n{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        root.join("plugins/target/wasm32-wasip2/release")
    })
}

/// A component built from `plugins/<crate>` (crate name with underscores).
pub fn component(crate_name: &str) -> PathBuf {
    let path = plugins_dir().join(format!("{}.wasm", crate_name.replace('-', "_")));
    assert!(path.exists(), "{} was not built", path.display());
    path
}

/// A stack in a temp dir.
pub struct TestStack {
    pub dir: tempfile::TempDir,
}

impl TestStack {
    pub fn new() -> TestStack {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::create_dir(dir.path().join("extras.d")).unwrap();
        TestStack { dir }
    }

    /// A stack in a temp dir of its own (`root`), beside `root/outside/`
    /// holding `secret.txt` (`outside-secret`): what a sandboxed or
    /// confined hook must never reach.
    pub fn beside_outside() -> (tempfile::TempDir, TestStack) {
        let root = tempfile::tempdir().expect("temp dir");
        let dir = tempfile::Builder::new()
            .prefix("stack")
            .tempdir_in(root.path())
            .expect("stack dir");
        let stack = TestStack { dir };
        std::fs::create_dir(stack.path("extras.d")).unwrap();
        let outside = root.path().join("outside");
        std::fs::create_dir(&outside).unwrap();
        std::fs::write(outside.join("secret.txt"), "outside-secret\n").unwrap();
        (root, stack)
    }

    pub fn top(&self) -> &Path {
        self.dir.path()
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    /// Write a file (creating directories) relative to the stack.
    pub fn write(&self, rel: &str, text: &str) -> &TestStack {
        let path = self.path(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
        self
    }

    /// Add a bash hook `extras.d/<file>`.
    pub fn bash(&self, file: &str, script: &str) -> &TestStack {
        self.write(&format!("extras.d/{file}"), script)
    }

    /// Add a WASM hook `extras.d/<stem>.wasm` built from `plugins/<crate>`,
    /// with an optional manifest.
    pub fn wasm(&self, stem: &str, crate_name: &str, manifest: Option<&str>) -> &TestStack {
        let target = self.path(&format!("extras.d/{stem}.wasm"));
        std::fs::copy(component(crate_name), target).unwrap();
        if let Some(manifest) = manifest {
            self.write(&format!("extras.d/{stem}.toml"), manifest);
        }
        self
    }

    /// Run `hookhost <args> --top <stack>`.
    pub fn hookhost(&self, args: &[&str]) -> Run {
        let output = Command::new(env!("CARGO_BIN_EXE_hookhost"))
            .args(args)
            .arg("--top")
            .arg(self.top())
            .env("NO_COLOR", "1")
            .output()
            .expect("run hookhost");
        Run::from(output)
    }
}

/// What one hookhost process did.
pub struct Run {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl From<Output> for Run {
    fn from(output: Output) -> Run {
        Run {
            code: output.status.code(),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }
}

impl Run {
    pub fn all(&self) -> String {
        format!("--- stdout\n{}--- stderr\n{}", self.stdout, self.stderr)
    }

    #[track_caller]
    pub fn assert_code(&self, code: i32) -> &Run {
        assert_eq!(
            self.code,
            Some(code),
            "unexpected exit status\n{}",
            self.all()
        );
        self
    }

    #[track_caller]
    pub fn assert_stdout_has(&self, text: &str) -> &Run {
        assert!(
            self.stdout.contains(text),
            "stdout lacks {text:?}\n{}",
            self.all()
        );
        self
    }

    #[track_caller]
    pub fn assert_stderr_has(&self, text: &str) -> &Run {
        assert!(
            self.stderr.contains(text),
            "stderr lacks {text:?}\n{}",
            self.all()
        );
        self
    }

    #[track_caller]
    pub fn assert_no_panic(&self) -> &Run {
        // A guest's own panic text is expected output; hookhost's would
        // come from its main thread.
        for text in [&self.stdout, &self.stderr] {
            assert!(
                !text.contains("thread 'main'"),
                "hookhost panicked\n{}",
                self.all()
            );
        }
        self
    }
}

/// The DevStack tree to test against, or None (and a message) when absent.
pub fn devstack_tree() -> Option<PathBuf> {
    let path = match std::env::var_os("HOOKHOST_DEVSTACK_TREE") {
        Some(path) => PathBuf::from(path),
        None => repo_root().join("../shared/devstack-2015-07"),
    };
    if path.join("stack.sh").is_file() && path.join("functions").is_file() {
        return Some(path);
    }
    eprintln!(
        "SKIPPED: no DevStack tree at {} (set HOOKHOST_DEVSTACK_TREE to one)",
        path.display()
    );
    None
}

/// The lines of a dry run's text report in the block of `hook`'s `phase`
/// (the report is indented: the hook at 2 columns, its phases at 4, their
/// records deeper), joined; empty when there is no such block.
pub fn dry_run_block(report: &str, hook: &str, phase: &str) -> String {
    let indent = |l: &str| l.len() - l.trim_start().len();
    let mut lines = report.lines();
    let mut in_hook = false;
    for line in lines.by_ref() {
        match (indent(line), line.trim()) {
            (2, name) => in_hook = name == hook,
            (4, name) if in_hook && name == phase => break,
            _ => {}
        }
    }
    lines
        .take_while(|l| indent(l) > 4)
        .collect::<Vec<_>>()
        .join("\n")
}

/// The text a terminal shows of `raw`: escape sequences dropped, each
/// carriage return starting a new segment.
pub fn terminal_segments(raw: &str) -> Vec<String> {
    let mut text = String::new();
    let mut chars = raw.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\x1b' {
            // CSI: ESC [ params final-byte
            if chars.next_if_eq(&'[').is_some() {
                for p in chars.by_ref() {
                    if ('@'..='~').contains(&p) {
                        break;
                    }
                }
            }
            continue;
        }
        text.push(if c == '\r' { '\n' } else { c });
    }
    text.lines().map(str::to_string).collect()
}

/// A stack with two WASM hooks (noop and probe) around a bash hook.
pub fn two_plugin_stack() -> TestStack {
    let stack = TestStack::new();
    stack
        .wasm("20-noop", "noop", None)
        .bash("30-mid.sh", "echo mid-$1\n")
        .wasm("40-probe", "probe", None);
    stack
}

/// `hookhost ARGS --top STACK` with the cache in `cache`.
pub fn hookhost_with_cache(stack: &TestStack, cache: &Path, args: &[&str]) -> Run {
    let output = Command::new(env!("CARGO_BIN_EXE_hookhost"))
        .args(args)
        .arg("--top")
        .arg(stack.top())
        .env("HOOKHOST_CACHE_DIR", cache)
        .env("NO_COLOR", "1")
        .output()
        .expect("run hookhost");
    Run::from(output)
}
