//! `git-clone` for 0.2.0 plugins (the `source` interface): DevStack's
//! `git_clone REPO DEST [REF]`, for a fresh checkout.
//!
//! Every word is the plugin's, so hostile:
//!
//! - the repository must be a plain `https://`, `http://` or `git://` URL
//!   (no other transport: `ext::` runs commands, `file://` and local paths
//!   read the host's disk; no blanks, controls, `\`, `%`, `?`, `#` or `..`
//!   segment, which could make a URL covered by a grant's prefix lead
//!   elsewhere) covered by one of the plugin's `git` grants;
//! - the destination is a guest path inside a write grant
//!   ([`super::config`]'s resolution), that does not exist yet, whose
//!   parent exists and, symlinks resolved, is still inside the grant;
//! - the ref is a branch or tag name (letters, digits, `._/-`, not
//!   starting with `-` or containing `..`);
//! - git is run without a shell, `--` before the URL and destination,
//!   with submodules, hooks and other transports off, in the plugin's time
//!   limit (the command runner kills it at the deadline).
//!
//! A symlink in the checkout leading out of the plugin's directories is
//! removed after the call, as any link the plugin leaves ([`super::files`]).

use super::command::{self, Failure};
use super::host::{PluginState, Reply};
use super::HostError;
use crate::capabilities::audit::Decision;
use crate::capabilities::matches_any;
use crate::model::inert::quoted;
use crate::model::limits::{cut, MAX_LINE, MAX_NAME};

/// Transports a repository URL may use.
const SCHEMES: [&str; 3] = ["https://", "http://", "git://"];

impl PluginState {
    pub(super) fn git_clone(
        &mut self,
        repository: &str,
        destination: &str,
        reference: Option<&str>,
    ) -> Reply<()> {
        if let Err(why) = check_url(repository) {
            self.audit_detail("git", &cut(repository, MAX_LINE), Decision::Denied, &why);
            return Ok(Err(HostError::Invalid(format!(
                "{} may not clone {}: {why}",
                self.name,
                shown(repository)
            ))));
        }
        if let Some(Err(why)) = reference.map(check_ref) {
            self.audit_detail("git", repository, Decision::Denied, &why);
            return Ok(Err(HostError::Invalid(format!(
                "{} may not clone {repository} at {}: {why}",
                self.name,
                shown(reference.unwrap_or_default())
            ))));
        }
        if !matches_any(&self.policy.git, repository) {
            self.audit("git", repository, Decision::Denied);
            let message = format!(
                "{} may not clone {repository}: not granted (git)",
                self.name
            );
            return Ok(Err(HostError::denied(
                &self.name, "git", repository, repository, message,
            )));
        }
        let target = match self.clone_target(destination) {
            Ok(target) => target,
            Err(e) => return Ok(Err(e)),
        };
        self.audit("git", repository, Decision::Used);
        let mut args: Vec<String> = [
            "-c",
            "protocol.allow=never",
            "-c",
            "protocol.https.allow=always",
            "-c",
            "protocol.http.allow=always",
            "-c",
            "protocol.git.allow=always",
            "-c",
            "core.hooksPath=/dev/null",
            "clone",
            "--quiet",
            "--no-recurse-submodules",
        ]
        .map(String::from)
        .to_vec();
        if let Some(reference) = reference {
            args.extend(["--branch".to_string(), reference.to_string()]);
        }
        args.extend([
            "--".to_string(),
            repository.to_string(),
            target.display().to_string(),
        ]);
        if self.services().is_dry_run() {
            let line = super::host::dry_run_line(&format!("{repository} {destination}"));
            if let Err(e) = self.record_dry_run("git_clone", &line) {
                return Ok(Err(HostError::Failed(format!("{e:#}"))));
            }
            return Ok(Ok(()));
        }
        match command::run("git", &args, self.deadline) {
            Ok(out) if out.status == 0 => Ok(Ok(())),
            Ok(out) => Ok(Err(HostError::Failed(format!(
                "git clone {repository} failed (status {}): {}",
                out.status,
                cut(String::from_utf8_lossy(&out.stderr).trim(), 1000)
            )))),
            Err(Failure::TimedOut) => Err(self.time_limit(&format!("git clone {repository}"))),
            Err(Failure::Error(message)) => Ok(Err(HostError::Failed(message))),
        }
    }

    /// The host path to clone into: inside a write grant, not there yet,
    /// its parent there and (symlinks resolved) inside the grant.
    fn clone_target(&self, destination: &str) -> Result<std::path::PathBuf, HostError> {
        let resolved = self.resolve(destination, true)?;
        let root = resolved.grant.host.canonicalize().map_err(|e| {
            HostError::Failed(format!(
                "cannot resolve the grant of {}: {e}",
                resolved.guest
            ))
        })?;
        let target = root.join(&resolved.relative);
        let parent = target.parent().unwrap_or(&root);
        let real_parent = parent.canonicalize().map_err(|_| {
            HostError::NotFound(format!(
                "{}: its parent directory does not exist",
                resolved.guest
            ))
        })?;
        if !real_parent.starts_with(&root) {
            return Err(HostError::Invalid(format!(
                "{} leads outside its grant (a symlink out of it)",
                resolved.guest
            )));
        }
        let name = target.file_name().unwrap_or_default();
        let real_target = real_parent.join(name);
        if real_target.symlink_metadata().is_ok() {
            return Err(HostError::Invalid(format!(
                "{} is already there; git-clone makes a new checkout only",
                resolved.guest
            )));
        }
        Ok(real_target)
    }
}

/// Why a repository URL is refused, if it is.
fn check_url(url: &str) -> Result<(), String> {
    if url.len() > MAX_LINE {
        return Err(format!("the URL is longer than {MAX_LINE} bytes"));
    }
    let Some(rest) = SCHEMES.iter().find_map(|s| url.strip_prefix(s)) else {
        return Err("a repository is an https://, http:// or git:// URL".to_string());
    };
    if url
        .chars()
        .any(|c| !c.is_ascii_graphic() || matches!(c, '\\' | '%' | '?' | '#'))
    {
        return Err("the URL has a blank, control, non-ASCII, \\, %, ? or # in it".to_string());
    }
    if rest
        .split('/')
        .any(|segment| segment == ".." || segment == ".")
    {
        return Err("the URL has a `.` or `..` segment".to_string());
    }
    if rest.split('/').next().is_none_or(str::is_empty) {
        return Err("the URL names no host".to_string());
    }
    Ok(())
}

/// Why a branch or tag name is refused, if it is.
fn check_ref(reference: &str) -> Result<(), String> {
    let plain = reference
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '/' | '-'));
    if reference.is_empty() || reference.len() > MAX_NAME || !plain {
        return Err(format!(
            "a ref is 1 to {MAX_NAME} letters, digits, `.`, `_`, `/` and `-`"
        ));
    }
    if reference.starts_with('-') || reference.contains("..") {
        return Err("a ref may not start with `-` or contain `..`".to_string());
    }
    Ok(())
}

fn shown(text: &str) -> String {
    quoted(&cut(text, 100))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_remote_urls_are_cloned() {
        assert!(check_url("https://opendev.org/openstack/nova").is_ok());
        assert!(check_url("git://example.org/x.git").is_ok());
        for bad in [
            "--upload-pack=id",
            "ext::sh -c id",
            "file:///etc",
            "/etc",
            "https://opendev.org/openstack/../../evil/x",
            "https://opendev.org/openstack/%2e%2e/x",
            "https://opendev.org/openstack/x y",
            "https:///x",
            "https://h/x\n",
        ] {
            assert!(check_url(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn refs_are_names_not_options() {
        assert!(check_ref("stable/2024.1").is_ok());
        for bad in ["-b", "--upload-pack=x", "a..b", "", "a b", "a;b"] {
            assert!(check_ref(bad).is_err(), "{bad:?}");
        }
    }
}
