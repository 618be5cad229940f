//! Confined bash hooks (`confine = true`, `--confine HOOK`): a bash hook run
//! in a child bash under Landlock gets the session's variables and
//! functions, hands its variable changes back, and cannot reach outside its
//! granted paths — checked, as in `tests/sandbox.rs`, by hashing the stack
//! and a sibling directory outside it before and after.
//!
//! Layout: `<root>/stack` (`lib/` granted read-only, `work/` read-write,
//! `private.txt` not granted) beside `<root>/outside/secret.txt`. Hooks:
//! `10-setup.sh` (trusted: sets variables and a function in `source`),
//! `50-jail.sh` (confined; each test writes its script), `60-after.sh`
//! (trusted: prints what it sees).

mod support;

use std::collections::BTreeMap;
use std::net::TcpListener;
use std::path::{Path, PathBuf};

use support::{Run, TestStack};

const SETUP: &str = r#"if [[ $1 == source ]]; then
    SHARED=from-session
    TO_UNSET=still-here
    greet() { echo "greet $1"; }
fi
"#;

const AFTER: &str = r#"echo "AFTER $* JAIL_SET=${JAIL_SET-} SHARED=${SHARED-} TO_UNSET=${TO_UNSET-gone} EXPORTED=$(printenv JAIL_EXPORTED) JAIL_FN=$(declare -F jail_fn || echo none)"
"#;

const MANIFEST: &str = "[capabilities]\nconfine = true\nread = [\"lib\"]\nwrite = [\"work\"]\n";
const GRANTS: &str = "[grants.\"50-jail\"]\nread = [\"lib\"]\nwrite = [\"work\"]\n";

/// Whether this kernel can confine at all. Where it cannot, each test
/// checks the refusal instead (a confined hook is never run open).
fn landlock(arena: &Arena) -> bool {
    if hookhost::bash::confine::probe().is_ok() {
        return true;
    }
    arena
        .stack
        .hookhost(&["stack"])
        .assert_code(2)
        .assert_stderr_has("this kernel cannot confine it")
        .assert_stderr_has("refusing to run it unconfined");
    false
}

struct Arena {
    stack: TestStack,
    root: tempfile::TempDir,
}

impl Arena {
    /// A stack whose confined hook runs `jail`.
    fn new(jail: &str) -> Arena {
        let (root, stack) = TestStack::beside_outside();
        stack
            .write("lib/helper.sh", "helper_loaded=yes\n")
            .write("work/.keep", "")
            .write("private.txt", "private-text\n")
            .write("hookhost.toml", GRANTS)
            .bash("10-setup.sh", SETUP)
            .bash("50-jail.sh", jail)
            .write("extras.d/50-jail.toml", MANIFEST)
            .bash("60-after.sh", AFTER);
        std::os::unix::fs::symlink(root.path().join("outside"), stack.path("lib/link-out"))
            .unwrap();
        Arena { stack, root }
    }

    fn outside(&self) -> PathBuf {
        self.root.path().join("outside")
    }

    /// Run `args` and check nothing outside `work/` changed.
    fn contained(&self, args: &[&str]) -> Run {
        let before = snapshot(self.root.path());
        let run = self.stack.hookhost(args);
        run.assert_no_panic();
        assert_eq!(
            before,
            snapshot(self.root.path()),
            "files changed\n{}",
            run.all()
        );
        run
    }
}

fn snapshot(root: &Path) -> BTreeMap<String, String> {
    let mut seen = BTreeMap::new();
    walk(root, root, &mut seen);
    seen
}

fn walk(root: &Path, dir: &Path, seen: &mut BTreeMap<String, String>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir).unwrap().flatten().collect();
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let path = entry.path();
        let rel = path
            .strip_prefix(root)
            .unwrap()
            .to_string_lossy()
            .into_owned();
        let name = entry.file_name();
        if name == ".hookhost" || (name == "work" && dir != root) {
            continue;
        }
        let meta = std::fs::symlink_metadata(&path).unwrap();
        let what = if meta.file_type().is_symlink() {
            format!("link {}", std::fs::read_link(&path).unwrap().display())
        } else if meta.is_dir() {
            walk(root, &path, seen);
            "dir".to_string()
        } else {
            format!("file {:?}", std::fs::read(&path).unwrap())
        };
        seen.insert(rel, what);
    }
}

/// A jail script that tries `attempt` (a shell command) for each target and
/// prints `REFUSED <target>` or `GOT <target>`.
fn attempts(attempt: &str, targets: &[&str]) -> String {
    let mut script = String::from("[[ $1 == source ]] || return 0\n");
    for target in targets {
        script.push_str(&format!(
            "if {} 2>/dev/null; then echo 'GOT {target}'; else echo 'REFUSED {target}'; fi\n",
            attempt.replace("TARGET", target)
        ));
    }
    script
}

#[test]
fn a_confined_hook_gets_the_session_and_hands_back_its_changes() {
    let jail = r#"case $1 in
source)
    echo "jail sees SHARED=$SHARED"
    greet jail
    source "$TOP_DIR/lib/helper.sh"
    echo "helper_loaded=$helper_loaded"
    JAIL_SET="from jail, with 'quotes' and \$dollars"
    export JAIL_EXPORTED=yes
    unset TO_UNSET
    jail_fn() { echo "jail_fn ran in $1"; }
    ;;
unstack)
    jail_fn unstack
    echo "jail still sees JAIL_SET=$JAIL_SET"
    echo done >"$TOP_DIR/work/out.txt"
    ;;
esac
"#;
    let arena = Arena::new(jail);
    if !landlock(&arena) {
        return;
    }
    let run = arena.contained(&["unstack"]);
    run.assert_code(0)
        .assert_stdout_has("jail sees SHARED=from-session")
        .assert_stdout_has("greet jail")
        .assert_stdout_has("helper_loaded=yes")
        .assert_stdout_has(
            "AFTER source JAIL_SET=from jail, with 'quotes' and $dollars SHARED=from-session \
             TO_UNSET=gone EXPORTED=yes JAIL_FN=none",
        )
        // Its functions stay with it: its later phases have them.
        .assert_stdout_has("jail_fn ran in unstack")
        .assert_stdout_has("jail still sees JAIL_SET=from jail");
    let out = std::fs::read_to_string(arena.stack.path("work/out.txt")).unwrap();
    assert_eq!(out, "done\n");
}

#[test]
fn reading_outside_its_grants_is_refused() {
    let jail = attempts(
        "cat TARGET",
        &[
            "/etc/passwd",
            "$TOP_DIR/private.txt",
            "$TOP_DIR/../outside/secret.txt",
            "$TOP_DIR/lib/link-out/secret.txt",
            "$TOP_DIR/hookhost.toml",
        ],
    );
    let arena = Arena::new(&jail);
    if !landlock(&arena) {
        return;
    }
    let secret = arena.outside().join("secret.txt");
    let mut jail = jail;
    jail.push_str(&format!(
        "if cat {} 2>/dev/null; then echo GOT-ABSOLUTE; else echo REFUSED-ABSOLUTE; fi\n",
        secret.display()
    ));
    jail.push_str("if cat \"$TOP_DIR/lib/helper.sh\" >/dev/null; then echo GOT-GRANTED; fi\n");
    arena.stack.bash("50-jail.sh", &jail);
    let run = arena.contained(&["unstack"]);
    run.assert_code(0);
    for target in [
        "/etc/passwd",
        "private.txt",
        "outside/secret.txt",
        "link-out/secret.txt",
        "hookhost.toml",
    ] {
        assert!(
            run.stdout
                .lines()
                .any(|l| l.contains("REFUSED") && l.contains(target)),
            "{target} was not refused\n{}",
            run.all()
        );
    }
    run.assert_stdout_has("REFUSED-ABSOLUTE")
        .assert_stdout_has("GOT-GRANTED");
    for leaked in ["outside-secret", "private-text", "root:"] {
        assert!(
            !run.stdout.contains(leaked),
            "{leaked} leaked\n{}",
            run.all()
        );
    }
    run.assert_stdout_has("AFTER unstack");
}

#[test]
fn writing_outside_its_grants_is_refused() {
    let unique = format!("/tmp/hookhost-confine-{}", std::process::id());
    let jail = attempts(
        "echo pwned >TARGET",
        &[
            "$TOP_DIR/planted.txt",
            "$TOP_DIR/private.txt",
            "$TOP_DIR/lib/helper.sh",
            "$TOP_DIR/lib/link-out/planted.txt",
            "$TOP_DIR/../outside/planted.txt",
            &unique,
            "$TOP_DIR/work/ok.txt",
        ],
    );
    let arena = Arena::new(&jail);
    if !landlock(&arena) {
        return;
    }
    let run = arena.contained(&["unstack"]);
    run.assert_code(0);
    for target in [
        "planted.txt",
        "private.txt",
        "helper.sh",
        "link-out",
        "outside",
        &unique,
    ] {
        assert!(
            run.stdout
                .lines()
                .any(|l| l.contains("REFUSED") && l.contains(target)),
            "{target} was not refused\n{}",
            run.all()
        );
    }
    run.assert_stdout_has("GOT $TOP_DIR/work/ok.txt");
    assert!(!Path::new(&unique).exists());
    assert!(!arena.outside().join("planted.txt").exists());
    run.assert_stdout_has("AFTER unstack");
}

#[test]
fn it_cannot_signal_hookhost_or_open_ungranted_sockets() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let port = listener.local_addr().unwrap().port();
    let jail = format!(
        "[[ $1 == source ]] || return 0\n\
         if kill -0 $PPID 2>/dev/null; then echo SIGNAL-GOT; else echo SIGNAL-REFUSED; fi\n\
         if (exec 3<>/dev/tcp/127.0.0.1/{port}) 2>/dev/null; then echo NET-GOT; else echo NET-REFUSED; fi\n"
    );
    let arena = Arena::new(&jail);
    if !landlock(&arena) {
        return;
    }
    let run = arena.contained(&["unstack"]);
    run.assert_code(0);
    if !hookhost::bash::confine::probe_net_and_signals() {
        // Landlock before ABI 6 (Linux 6.12): files only, as documented.
        return;
    }
    run.assert_stdout_has("SIGNAL-REFUSED")
        .assert_stdout_has("NET-REFUSED");
    assert!(listener.accept().is_err(), "the listener got a connection");
    // A net grant opens its port.
    arena.stack.write(
        "extras.d/50-jail.toml",
        &format!("{MANIFEST}net = [\"127.0.0.1:{port}\"]\n"),
    );
    arena.stack.write(
        "hookhost.toml",
        &format!("{GRANTS}net = [\"127.0.0.1:{port}\"]\n"),
    );
    let run = arena.contained(&["unstack"]);
    run.assert_code(0).assert_stdout_has("NET-GOT");
}

#[test]
fn a_failing_confined_hook_stops_stack_and_names_the_command() {
    let jail = "JAIL_SET=before-failure\nfalse\necho never\n";
    let arena = Arena::new(jail);
    if !landlock(&arena) {
        return;
    }
    let run = arena.contained(&["stack"]);
    run.assert_code(1)
        .assert_stderr_has("50-jail")
        .assert_stderr_has("exited with status 1")
        .assert_stderr_has("hookhost: false failed with status 1");
    assert!(!run.stdout.contains("never"), "{}", run.all());
    assert!(!run.stdout.contains("AFTER source"), "{}", run.all());
}

#[test]
fn the_operator_confines_a_hook_that_has_no_manifest() {
    let jail = attempts(
        "cat TARGET >/dev/null",
        &["$TOP_DIR/lib/helper.sh", "/etc/passwd"],
    );
    let arena = Arena::new(&jail);
    if !landlock(&arena) {
        return;
    }
    std::fs::remove_file(arena.stack.path("extras.d/50-jail.toml")).unwrap();
    // Trusted by default: it reads what it likes.
    let run = arena.contained(&["unstack"]);
    run.assert_stdout_has("GOT $TOP_DIR/lib/helper.sh");
    let run = arena
        .stack
        .hookhost(&["plan", "unstack", "--confine", "50-jail"]);
    run.assert_code(0)
        .assert_stdout_has("50-jail.sh")
        .assert_stdout_has("bash  confined (Landlock");
    let run = arena.contained(&["unstack", "--confine", "jail"]);
    run.assert_code(0)
        .assert_stdout_has("REFUSED $TOP_DIR/lib/helper.sh")
        .assert_stdout_has("REFUSED /etc/passwd");
}

#[test]
fn confining_a_hook_that_is_not_there_is_an_error() {
    let arena = Arena::new("echo ran\n");
    if !landlock(&arena) {
        return;
    }
    let run = arena.stack.hookhost(&["stack", "--confine", "50-jial"]);
    run.assert_code(2)
        .assert_stderr_has("confine 50-jial: no bash hook of that stem or name");
    assert!(!run.stdout.contains("ran"), "{}", run.all());
}

#[test]
fn an_ungranted_path_refuses_the_confined_hook_before_anything_runs() {
    let arena = Arena::new("echo ran\n");
    if !landlock(&arena) {
        return;
    }
    arena.stack.write("hookhost.toml", "");
    let run = arena.stack.hookhost(&["stack"]);
    run.assert_code(2)
        .assert_stderr_has("50-jail.sh requests capabilities the operator has not granted")
        .assert_stderr_has("read lib: add `read = [\"lib\"]` under [grants.jail]");
    assert!(!run.stdout.contains("ran"), "{}", run.all());
}

#[test]
fn a_confined_hook_changes_no_mode_owner_or_attribute_outside_its_grants() {
    use std::os::unix::fs::PermissionsExt;
    let jail = attempts(
        "chmod 4777 TARGET",
        &["$TOP_DIR/private.txt", "$TOP_DIR/../outside/secret.txt"],
    ) + &attempts("chown 1:1 TARGET", &["$TOP_DIR/private.txt"])
        + &attempts(
            "python3 -c 'import os,sys; os.setxattr(sys.argv[1], \"user.hh\", b\"1\")' TARGET",
            &["$TOP_DIR/private.txt"],
        )
        + &attempts("chmod 700 TARGET", &["$TOP_DIR/work"]);
    let arena = Arena::new(&jail);
    if !landlock(&arena) {
        return;
    }
    let private = arena.stack.path("private.txt");
    let mode = std::fs::metadata(&private).unwrap().permissions().mode();
    let run = arena.contained(&["stack"]);
    run.assert_code(0);
    for refused in [
        "REFUSED $TOP_DIR/private.txt",
        "REFUSED $TOP_DIR/../outside/secret.txt",
    ] {
        run.assert_stdout_has(refused);
    }
    assert!(
        !run.stdout.contains("GOT $TOP_DIR/private.txt"),
        "{}",
        run.all()
    );
    assert_eq!(
        std::fs::metadata(&private).unwrap().permissions().mode(),
        mode
    );
}
