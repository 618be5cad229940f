//! `git-clone` (WIT 0.2.0) end to end, from a `git daemon` on 127.0.0.1:
//! a granted repository is cloned into the plugin's write grant, at a
//! branch; a repository no grant covers is denied; a destination already
//! there is refused; a symlink to outside as the destination's parent is
//! refused; a dry run records the clone instead.

mod support;

use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};

use support::TestStack;

/// A `git daemon` serving `base`, stopped when dropped.
struct Daemon {
    child: Child,
    port: u16,
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn git(dir: &Path, args: &[&str]) {
    let status = Command::new("git")
        .args(["-c", "user.name=t", "-c", "user.email=t@example.org"])
        .args(args)
        .current_dir(dir)
        .stdout(Stdio::null())
        .status()
        .expect("run git");
    assert!(status.success(), "git {args:?} failed");
}

/// A repository `proj` (a README on `master`, a file `stable.txt` on the
/// branch `stable`) under `base`, served by a daemon.
fn serve(base: &Path) -> Daemon {
    let proj = base.join("proj");
    std::fs::create_dir_all(&proj).unwrap();
    git(&proj, &["init", "-q", "-b", "master"]);
    std::fs::write(proj.join("README"), "hello\n").unwrap();
    git(&proj, &["add", "README"]);
    git(&proj, &["commit", "-q", "-m", "one"]);
    git(&proj, &["checkout", "-q", "-b", "stable"]);
    std::fs::write(proj.join("stable.txt"), "stable\n").unwrap();
    git(&proj, &["add", "stable.txt"]);
    git(&proj, &["commit", "-q", "-m", "two"]);
    git(&proj, &["checkout", "-q", "master"]);
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new("git")
        .arg("daemon")
        .arg("--export-all")
        .arg("--reuseaddr")
        .arg("--listen=127.0.0.1")
        .arg(format!("--port={port}"))
        .arg(format!("--base-path={}", base.display()))
        .arg(base)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start git daemon");
    let daemon = Daemon { child, port };
    // Ready when it accepts: a bounded number of tries, not a timed wait.
    for _ in 0..500 {
        if TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return daemon;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    panic!("git daemon did not start on port {port}");
}

fn stack(port: u16, edits: &[String]) -> TestStack {
    let grant = format!("git://127.0.0.1:{port}/*");
    let caps = format!("vars-read = [\"CONFIGURER_*\"]\nwrite = [\"src\"]\ngit = [\"{grant}\"]\n");
    let stack = TestStack::new();
    let edits = edits.join("\n").replace('\x1f', "\\x1f");
    stack
        .wasm(
            "30-git",
            "configurer",
            Some(&format!("[capabilities]\n{caps}")),
        )
        .write("hookhost.toml", &format!("[grants.\"30-git\"]\n{caps}"))
        .bash(
            "10-edits.sh",
            &format!("if [[ $1 == source ]]; then CONFIGURER_EDITS=$'{edits}'; fi\n"),
        )
        .write("src/.keep", "")
        .write("outside/.keep", "");
    std::os::unix::fs::symlink(stack.path("outside"), stack.path("src/out")).unwrap();
    stack
}

#[test]
fn a_granted_repository_is_cloned_into_the_write_grant_and_nothing_else() {
    let base = tempfile::tempdir().unwrap();
    let daemon = serve(base.path());
    let url = format!("git://127.0.0.1:{}/proj", daemon.port);
    let edits = [
        format!("clone\x1f{url}\x1f/stack/src/proj"),
        format!("clone\x1f{url}\x1f/stack/src/proj-stable\x1fstable"),
        format!("clone\x1f{url}\x1f/stack/src/proj"),
        format!(
            "clone\x1fgit://localhost:{}/proj\x1f/stack/src/other",
            daemon.port
        ),
        format!("clone\x1f{url}\x1f/stack/src/out/proj"),
        format!("clone\x1f{url}\x1f/stack/src/missing/proj"),
        format!("clone\x1f{url}\x1f/stack/src/no-branch\x1fnope"),
    ];
    let stack = stack(daemon.port, &edits);
    let run = stack.hookhost(&["stack"]);
    run.assert_code(0)
        .assert_no_panic()
        .assert_stdout_has("[30-git] edit 1: ok")
        .assert_stdout_has("[30-git] edit 2: ok")
        .assert_stdout_has("[30-git] edit 3: invalid /stack/src/proj is already there")
        .assert_stdout_has(&format!(
            "[30-git] edit 4: denied git git://localhost:{}/proj",
            daemon.port
        ))
        .assert_stdout_has("[30-git] edit 5: invalid /stack/src/out/proj leads outside its grant")
        .assert_stdout_has("[30-git] edit 6: not-found /stack/src/missing/proj: its parent directory does not exist")
        .assert_stdout_has("[30-git] edit 7: failed git clone");
    assert_eq!(
        std::fs::read_to_string(stack.path("src/proj/README")).unwrap(),
        "hello\n"
    );
    assert!(!stack.path("src/proj/stable.txt").exists());
    assert!(stack.path("src/proj-stable/stable.txt").exists());
    assert!(!stack.path("src/other").exists());
    assert!(!stack.path("outside/proj").exists());
    assert!(!stack.path("src/no-branch").exists());

    // A dry run records the clone and makes nothing.
    let dry = stack_dry(daemon.port, &url);
    let run = dry.hookhost(&["stack", "--dry-run"]);
    run.assert_code(0).assert_stdout_has("[30-git] edit 1: ok");
    assert!(!dry.path("src/dry").exists(), "{}", run.all());
    assert!(
        run.all().contains(&format!("{url} /stack/src/dry")),
        "the dry run does not report the clone\n{}",
        run.all()
    );
}

fn stack_dry(port: u16, url: &str) -> TestStack {
    stack(port, &[format!("clone\x1f{url}\x1f/stack/src/dry")])
}
