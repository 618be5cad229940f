//! The helpers WIT 0.2.0 adds, attacked by `plugins/hostile2`: INI edits
//! out of the write grant (`..`, absolute paths, an ungranted directory),
//! forged lines (newlines in values, sections, options), unbounded
//! arguments, git repositories and refs that are options or other
//! transports, clones outside the grant, a secret read. Each is refused
//! with the kind of error it must get, and nothing changes outside the
//! grants.

mod support;

use support::TestStack;

const MANIFEST: &str = "[capabilities]\nvars-read = [\"HOSTILE2_*\"]\nwrite = [\"etc/granted\"]\n\
                        git = [\"https://opendev.org/openstack/*\"]\n";
const GRANTS: &str = "[grants.hostile2]\nvars-read = [\"HOSTILE2_*\"]\nwrite = [\"etc/granted\"]\n\
                      git = [\"https://opendev.org/openstack/*\"]\n";

/// Each attack and the start of what it must print.
const ATTACKS: [(&str, &str); 24] = [
    ("ini-dotdot", "invalid 50-hostile2 may not use the path"),
    ("ini-absolute", "invalid 50-hostile2 may not use the path \"/etc/hookhost-owned.conf\": only /stack/... and /data/..."),
    ("ini-outside", "denied 50-hostile2 may not write /stack/etc/other/x.conf: not granted (write etc/other)"),
    ("ini-newline", "invalid 50-hostile2 may not iniset: a line break or NUL in a value"),
    ("ini-section-newline", "invalid 50-hostile2 may not iniset: a line break or NUL in the section"),
    ("ini-cr", "invalid 50-hostile2 may not iniset: a line break or NUL in a value"),
    ("ini-section-bracket", "invalid 50-hostile2 may not iniset: the section \"DEFAULT] owned = yes [x\" is not a section name"),
    ("ini-option-equals", "invalid 50-hostile2 may not iniset: the option \"owned = yes\" is not an option name"),
    ("ini-huge", "invalid 50-hostile2 may not iniset: its values are"),
    ("ini-many", "invalid 50-hostile2 may not iniset-multiline: its values are 5000 entries, more than the limit of 1024"),
    ("ini-dir", "denied 50-hostile2 may not write /stack/etc/granted: not granted (write etc)"),
    ("git-option", "invalid 50-hostile2 may not clone \"--upload-pack=touch /tmp/hostile2\": a repository is an https://"),
    ("git-ext", "invalid 50-hostile2 may not clone \"ext::sh -c touch% /tmp/hostile2\""),
    ("git-file", "invalid 50-hostile2 may not clone \"file:///etc\""),
    ("git-prefix", "invalid 50-hostile2 may not clone \"https://opendev.org/openstack/../../evil/x\": the URL has a `.` or `..` segment"),
    ("git-ungranted", "denied 50-hostile2 may not clone https://evil.example/x: not granted (git)"),
    ("git-ref-option", "invalid 50-hostile2 may not clone https://opendev.org/openstack/nova at \"--upload-pack=touch /tmp/hostile2\""),
    ("git-dest-outside", "denied 50-hostile2 may not write /stack/etc/other/g: not granted (write etc/other)"),
    ("ini-fifo-read", "invalid /stack/etc/granted/fifo.conf is not a regular file"),
    ("ini-fifo-write", "invalid /stack/etc/granted/fifo.conf is not a regular file"),
    ("git-plant", "failed Operation not permitted"),
    ("ini-git-config", "invalid 50-hostile2 may not iniset \"/stack/etc/granted/proj/.git/config\": a git repository's own files"),
    ("secret", "denied 50-hostile2 may not read variable ADMIN_PASSWORD: not granted (vars-read)"),
    ("pkg-option", "invalid 50-hostile2 may not install package \"-rf\""),
];

#[test]
fn every_attack_on_the_0_2_0_helpers_is_refused_and_nothing_escapes() {
    let stack = TestStack::new();
    let names: Vec<&str> = ATTACKS.iter().map(|(name, _)| *name).collect();
    stack
        .wasm("50-hostile2", "hostile2", Some(MANIFEST))
        .write("hookhost.toml", GRANTS)
        .write(
            "local.conf",
            &format!(
                "[[local|localrc]]\nADMIN_PASSWORD=s3cret\nHOSTILE2_ATTACKS=\"{}\"\n",
                names.join(" ")
            ),
        )
        .write("etc/granted/.keep", "")
        .write("etc/other/.keep", "");
    let fifo = stack.path("etc/granted/fifo.conf");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(made.success(), "mkfifo");
    let run = stack.hookhost(&["stack"]);
    run.assert_code(0).assert_no_panic();
    for (name, expected) in ATTACKS {
        run.assert_stdout_has(&format!("[50-hostile2] hostile2 {name}: {expected}"));
    }
    assert!(!run.all().contains("s3cret"), "{}", run.all());
    assert!(!stack.path("etc/other/x.conf").exists());
    assert!(!stack.path("etc/other/g").exists());
    assert!(!stack.path("etc/granted/g").exists());
    assert!(!stack.path("etc/granted/x.conf").exists(), "{}", run.all());
    assert!(
        !stack.path("etc/granted/proj/.git").exists(),
        "{}",
        run.all()
    );
    assert!(!std::path::Path::new("/etc/hookhost-owned.conf").exists());
}
