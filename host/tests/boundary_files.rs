//! Nothing a plugin writes redirects trusted code: through the real binary,
//! `plugins/hostile` (built from source) plants links and files in the
//! directories it may write, and a trusted bash hook of a later phase uses
//! them as DevStack code would. Also: write grants that would cover what
//! hookhost itself trusts are refused.
//!
//! Layout: `<root>/stack` (the stack: `files/` granted read-write, `ro/`
//! read-only, `private.txt` not granted, `files/link-out` a trusted link
//! to `<root>/outside`) beside `<root>/outside/secret.txt`. Hooks:
//! `50-nova.wasm` (the hostile plugin, attacking in `source`) and
//! `60-trusted.sh` (in `stack install`, reads and writes the path named by
//! `TRUSTED_PATH`, as a driver writing its ini file would).

mod support;

use std::path::{Path, PathBuf};

use support::{Run, TestStack};

/// Entries a plugin's writable directories may hold (the host's limit).
const MAX_ENTRIES: usize = 100_000;

const TRUSTED: &str = r#"if [[ $1 == stack && $2 == install && -n ${TRUSTED_PATH-} ]]; then
    echo "TRUSTED read: $(cat "$TRUSTED_PATH" 2>&1)"
    mkdir -p "$(dirname "$TRUSTED_PATH")"
    echo "[DEFAULT]" > "$TRUSTED_PATH" && echo "TRUSTED wrote $TRUSTED_PATH"
fi
"#;

struct Arena {
    stack: TestStack,
    root: tempfile::TempDir,
}

impl Arena {
    /// `caps` are `[capabilities]` lines the manifest requests and the
    /// operator grants, besides the variables the attack reads.
    fn new(caps: &str) -> Arena {
        let (root, stack) = TestStack::beside_outside();
        stack
            .write("files/data.txt", "data\n")
            .write("files/deep/er/keep", "")
            .write("ro/readme.txt", "read me\n")
            .write("private.txt", "private\n")
            .bash("60-trusted.sh", TRUSTED);
        std::os::unix::fs::symlink(root.path().join("outside"), stack.path("files/link-out"))
            .unwrap();
        let caps = format!("vars-read = [\"HOSTILE_*\"]\n{caps}");
        stack.wasm(
            "50-nova",
            "hostile",
            Some(&format!("[capabilities]\n{caps}")),
        );
        stack.write("hookhost.toml", &format!("[grants.\"50-nova\"]\n{caps}"));
        Arena { stack, root }
    }

    /// The usual grants: `files` read-write, `ro` read-only.
    fn granted() -> Arena {
        Arena::new("read = [\"ro\"]\nwrite = [\"files\"]\n")
    }

    fn outside(&self, name: &str) -> PathBuf {
        self.root.path().join("outside").join(name)
    }

    fn audit_file(&self) -> PathBuf {
        self.root.path().join("audit.jsonl")
    }

    /// `hookhost stack` with the attack's variables in local.conf and a
    /// fresh audit file.
    fn run(&self, vars: &[(&str, &str)]) -> Run {
        let mut conf = String::from("[[local|localrc]]\n");
        for (name, value) in vars {
            conf.push_str(&format!("{name}=\"{value}\"\n"));
        }
        self.stack.write("local.conf", &conf);
        let _ = std::fs::remove_file(self.audit_file());
        let audit = self.audit_file();
        let run = self
            .stack
            .hookhost(&["stack", "--audit", audit.to_str().unwrap()]);
        run.assert_no_panic();
        run
    }

    /// The audit lines about symlinks of the plugin.
    fn symlink_audit(&self) -> Vec<serde_json::Value> {
        let text = std::fs::read_to_string(self.audit_file()).unwrap_or_default();
        text.lines()
            .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
            .filter(|l| l["kind"] == "symlink" && l["hook"] == "50-nova")
            .collect()
    }

    /// Nothing outside the plugin's writable directories changed, and no
    /// trusted hook saw a byte from outside them.
    #[track_caller]
    fn assert_untouched(&self, run: &Run) {
        let read = |p: &Path| std::fs::read_to_string(p).unwrap();
        assert_eq!(read(&self.outside("secret.txt")), "outside-secret\n");
        assert!(!self.outside("x.conf").exists(), "{}", run.all());
        assert_eq!(read(&self.stack.path("private.txt")), "private\n");
        assert_eq!(read(&self.stack.path("ro/readme.txt")), "read me\n");
        for leak in [
            "outside-secret",
            "TRUSTED read: read me",
            "TRUSTED read: private",
        ] {
            assert!(!run.all().contains(leak), "{leak}\n{}", run.all());
        }
    }
}

fn is_link(path: &Path) -> bool {
    std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink())
}

/// The plugin's one report line.
fn hostile_line(run: &Run) -> String {
    let all = run.all();
    all.lines()
        .find(|l| l.contains("HOSTILE "))
        .unwrap_or_else(|| panic!("the plugin reported nothing\n{all}"))
        .to_string()
}

#[test]
fn a_link_planted_in_the_plugins_data_directory_does_not_redirect_the_driver() {
    // No file grant at all: only its private /data.
    let arena = Arena::new("");
    let service_conf = arena.stack.path(".hookhost/dest/data/nova/nova.conf.new");
    let run = arena.run(&[
        ("HOSTILE_ATTACK", "symlink"),
        ("HOSTILE_PATH", "/data/nova.conf.new"),
        ("HOSTILE_TARGET", "../../../../../outside/x.conf"),
        ("TRUSTED_PATH", service_conf.to_str().unwrap()),
    ]);
    run.assert_code(0);
    arena.assert_untouched(&run);
    assert!(
        hostile_line(&run).contains("HOSTILE refused: symlink /data/nova.conf.new"),
        "{}",
        run.all()
    );
    // The driver's file is its own; the plugin's directory is elsewhere.
    assert!(service_conf.is_file() && !is_link(&service_conf));
    assert!(arena.stack.path(".hookhost/plugin-data/nova").is_dir());
    assert!(!is_link(
        &arena.stack.path(".hookhost/plugin-data/nova/nova.conf.new")
    ));
    run.assert_stderr_has("refused to create the symlink");
    let audit = arena.symlink_audit();
    assert!(
        audit
            .iter()
            .any(|l| l["decision"] == "denied" && l["phase"] == "source"),
        "{audit:#?}"
    );
}

#[test]
fn a_link_out_of_a_write_grant_is_refused_and_trusted_hooks_cannot_follow_it() {
    let arena = Arena::granted();
    let cases = [
        // A driver writes its ini file through it.
        ("files/nova.conf", "../../outside/x.conf"),
        // A trusted hook reads it (and prints what it read).
        ("files/report.txt", "../../outside/secret.txt"),
        // Made in a nested directory.
        ("files/deep/er/report.txt", "../../../../outside/secret.txt"),
        // An absolute guest path means nothing on the host.
        ("files/abs", "/stack/private.txt"),
        // A link to a link: the trusted `files/link-out` leads out.
        ("files/chained", "link-out/secret.txt"),
        // Into a grant the plugin may only read.
        ("files/ro-link", "../ro/readme.txt"),
        // Into the stack, outside every grant.
        ("files/private", "../private.txt"),
    ];
    for (link, target) in cases {
        let host = arena.stack.path(link);
        let run = arena.run(&[
            ("HOSTILE_ATTACK", "symlink"),
            ("HOSTILE_PATH", &format!("/stack/{link}")),
            ("HOSTILE_TARGET", target),
            ("TRUSTED_PATH", host.to_str().unwrap()),
        ]);
        run.assert_code(0);
        arena.assert_untouched(&run);
        let line = hostile_line(&run);
        assert!(
            line.contains(&format!("HOSTILE refused: symlink /stack/{link}")),
            "{link} -> {target}: {line}\n{}",
            run.all()
        );
        run.assert_stdout_has(&format!("TRUSTED wrote {}", host.display()));
        assert!(!is_link(&host), "{link} is a link\n{}", run.all());
        let audit = arena.symlink_audit();
        assert!(
            audit
                .iter()
                .any(|l| l["decision"] == "denied" && l["item"].as_str().unwrap().contains(target)),
            "{link} -> {target}: {audit:#?}"
        );
        std::fs::remove_file(&host).unwrap();
    }
    // The trusted link of the grant is left alone.
    assert!(is_link(&arena.stack.path("files/link-out")));
}

#[test]
fn links_that_stay_inside_still_work() {
    let arena = Arena::granted();
    for (link, target) in [
        ("/stack/files/alias", "data.txt"),
        ("/stack/files/deep/up", "../data.txt"),
        ("/data/later", "not-yet"),
        ("/data/dir", "."),
    ] {
        let run = arena.run(&[
            ("HOSTILE_ATTACK", "symlink"),
            ("HOSTILE_PATH", link),
            ("HOSTILE_TARGET", target),
        ]);
        run.assert_code(0);
        let line = hostile_line(&run);
        assert!(
            line.contains("HOSTILE got: symlink"),
            "{line}\n{}",
            run.all()
        );
        assert!(arena.symlink_audit().is_empty(), "{}", run.all());
    }
    assert!(is_link(&arena.stack.path("files/alias")));
    assert!(is_link(
        &arena.stack.path(".hookhost/plugin-data/nova/later")
    ));
    let run = arena.run(&[
        ("HOSTILE_ATTACK", "read"),
        ("HOSTILE_PATH", "/stack/files/deep/up"),
    ]);
    run.assert_stdout_has("HOSTILE got: read /stack/files/deep/up: data");
}

#[test]
fn a_link_made_to_lead_out_after_it_was_checked_is_removed_after_the_call() {
    let arena = Arena::granted();
    let escape = arena.stack.path("files/sub/escape");
    let run = arena.run(&[
        ("HOSTILE_ATTACK", "swap"),
        ("HOSTILE_PATH", "/stack/files"),
        ("HOSTILE_TARGET", "private.txt"),
        ("TRUSTED_PATH", escape.to_str().unwrap()),
    ]);
    run.assert_code(0);
    // Each link was inside when made, so the plugin saw them made ...
    assert!(
        hostile_line(&run).contains("HOSTILE got: swap"),
        "{}",
        run.all()
    );
    // ... and the one that now leads out was gone before the trusted hook ran.
    arena.assert_untouched(&run);
    assert!(!is_link(&escape));
    assert!(
        is_link(&arena.stack.path("files/sub/x")),
        "the inside link stays"
    );
    run.assert_stderr_has("removed the symlink");
    run.assert_stderr_has(&escape.display().to_string());
    let audit = arena.symlink_audit();
    assert!(
        audit
            .iter()
            .any(|l| l["decision"] == "denied"
                && l["detail"].as_str().unwrap_or("").contains("removed")),
        "{audit:#?}"
    );
}

/// Already true before this boundary was built (wasmtime-wasi refuses a
/// hard link between directories of different permissions); kept so that
/// a change of runtime cannot lose it.
#[test]
fn a_file_of_a_read_only_grant_cannot_be_hard_linked_into_a_writable_one() {
    let arena = Arena::granted();
    let copy = arena.stack.path("files/readme.txt");
    let run = arena.run(&[
        ("HOSTILE_ATTACK", "hardlink"),
        ("HOSTILE_TARGET", "/stack/ro/readme.txt"),
        ("HOSTILE_PATH", "/stack/files/readme.txt"),
        ("TRUSTED_PATH", copy.to_str().unwrap()),
    ]);
    run.assert_code(0);
    assert!(
        hostile_line(&run).contains("HOSTILE refused: hardlink"),
        "{}",
        run.all()
    );
    arena.assert_untouched(&run);
}

/// `count` empty files in `dir`, made by the test (fast) rather than the plugin.
fn fill(dir: &Path, count: usize) {
    std::fs::create_dir_all(dir).unwrap();
    for n in 0..count {
        std::fs::File::create(dir.join(format!("t{n}"))).unwrap();
    }
}

#[test]
fn a_plugin_cannot_leave_more_entries_than_the_host_checks() {
    let arena = Arena::granted();
    // Close to the limit: the plugin may create a few, not ten.
    fill(&arena.stack.path("files/many"), MAX_ENTRIES - 20);
    let run = arena.run(&[
        ("HOSTILE_ATTACK", "many"),
        ("HOSTILE_PATH", "/stack/files/many"),
        ("HOSTILE_COUNT", "30"),
    ]);
    run.assert_code(1);
    let line = hostile_line(&run);
    assert!(line.contains("HOSTILE refused: many"), "{line}");
    run.assert_stderr_has("hook 50-nova (wasm) failed in `source`");
    run.assert_stderr_has("100000 entries");
    let made = std::fs::read_dir(arena.stack.path("files/many"))
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .starts_with('f')
        })
        .count();
    assert!(made < 20, "{made} files made\n{}", run.all());

    // Already past the limit: the plugin is not called at all.
    fill(&arena.stack.path("files/more"), 30);
    let run = arena.run(&[
        ("HOSTILE_ATTACK", "symlink"),
        ("HOSTILE_PATH", "/stack/files/out"),
        ("HOSTILE_TARGET", "../../outside/x.conf"),
    ]);
    run.assert_code(1);
    assert!(!run.all().contains("HOSTILE "), "{}", run.all());
    run.assert_stderr_has("100000 entries");
    run.assert_stderr_has("grant a smaller directory");
}

/// `hookhost plan stack` with `caps` requested and granted.
fn plan_with(caps: &str, flags: &[&str]) -> Run {
    let stack = TestStack::new();
    stack
        .write("files/a.txt", "a\n")
        .write("lib/functions", "\n")
        .bash("10-trusted.sh", "echo trusted\n")
        .wasm(
            "50-nova",
            "hostile",
            Some(&format!("[capabilities]\n{caps}")),
        );
    std::fs::create_dir_all(stack.path(".hookhost")).unwrap();
    stack.write("hookhost.toml", &format!("[grants.\"50-nova\"]\n{caps}"));
    let mut args = vec!["plan", "stack"];
    args.extend_from_slice(flags);
    let run = stack.hookhost(&args);
    run.assert_no_panic();
    run
}

#[test]
fn write_grants_on_what_hookhost_trusts_are_refused() {
    for (path, covers) in [
        (".", "extras.d"),
        ("extras.d", "extras.d"),
        ("lib", "lib"),
        (".hookhost", ".hookhost"),
        (".git", ".git"),
        ("files/repo/.git/hooks", ".git"),
    ] {
        let run = plan_with(&format!("write = [\"{path}\"]\n"), &[]);
        run.assert_code(2)
            .assert_stderr_has(&format!("write {path}: refused"))
            .assert_stderr_has(covers)
            .assert_stderr_has("grant a subdirectory");
    }
    // Read grants: hookhost's state holds other hooks' journals and logs.
    for path in [".hookhost", "."] {
        plan_with(&format!("read = [\"{path}\"]\n"), &[])
            .assert_code(2)
            .assert_stderr_has(&format!("read {path}: refused"))
            .assert_stderr_has(".hookhost");
    }
    // The operator's flag alone is refused too, naming where it came from.
    plan_with("write = [\"files\"]\n", &["--allow-write=."])
        .assert_code(2)
        .assert_stderr_has("grant write .: refused")
        .assert_stderr_has("--allow-write");
    // An ordinary directory is still granted.
    plan_with("write = [\"files\"]\n", &[]).assert_code(0);
}

/// A file of a write grant hard-linked into the private `/data` would stay
/// writable through `/data` after the operator withdrew the grant: a hard
/// link stays inside the grant it is made in.
#[test]
fn a_file_of_a_write_grant_cannot_be_hard_linked_into_data() {
    let arena = Arena::granted();
    arena.stack.write("files/conf", "trusted\n");
    let copy = arena.stack.path("files/conf");
    let run = arena.run(&[
        ("HOSTILE_ATTACK", "hardlink"),
        ("HOSTILE_TARGET", "/stack/files/conf"),
        ("HOSTILE_PATH", "/data/conf"),
        ("TRUSTED_PATH", copy.to_str().unwrap()),
    ]);
    assert!(
        hostile_line(&run).contains("HOSTILE refused: hardlink"),
        "{}",
        run.all()
    );
    // Inside one grant a hard link is an ordinary file operation.
    let run = arena.run(&[
        ("HOSTILE_ATTACK", "hardlink"),
        ("HOSTILE_TARGET", "/stack/files/conf"),
        ("HOSTILE_PATH", "/stack/files/conf2"),
        ("TRUSTED_PATH", copy.to_str().unwrap()),
    ]);
    assert!(
        hostile_line(&run).contains("HOSTILE got: hardlink"),
        "{}",
        run.all()
    );
}
