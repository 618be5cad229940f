//! The effective permissions of one plugin: what it requested and the
//! operator granted. The WASM runtime consults a [`Policy`] on every host
//! call; nothing outside it is reachable.

use std::path::PathBuf;
use std::time::Duration;

/// Default memory ceiling of a plugin.
pub const DEFAULT_MEMORY: u64 = 64 * 1024 * 1024;
/// Default time limit of one hook call.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// A host directory mapped into the guest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirGrant {
    /// The resolved host directory (inside the stack, symlinks resolved).
    pub host: PathBuf,
    /// Where the guest sees it.
    pub guest: String,
    pub writable: bool,
}

/// A granted command: the program and argument patterns
/// (`*` matches one argument, `**` the rest).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandGrant {
    pub program: String,
    pub args: Vec<String>,
}

/// What one plugin may do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    pub dirs: Vec<DirGrant>,
    pub vars_read: Vec<String>,
    pub vars_write: Vec<String>,
    pub functions: Vec<String>,
    pub commands: Vec<CommandGrant>,
    pub net: Vec<String>,
    pub packages: Vec<String>,
    /// Repository URL patterns `git-clone` may clone (a trailing `*`
    /// matches a prefix).
    pub git: Vec<String>,
    /// Whether packages are really installed (the operator's `--allow-install`);
    /// otherwise installs are recorded only.
    pub install: bool,
    pub memory: u64,
    pub timeout: Duration,
    /// A bash hook run confined (Landlock) in a child process; only `dirs`
    /// and the ports of `net` apply to it.
    pub confine: bool,
    /// Each grant table (or the flags) that granted something, with what
    /// it granted (`vars-read DEST`), in the order the tables merge.
    pub granted_by: Vec<(String, Vec<String>)>,
    /// An empty directory the plugin sees as `/`, read-only: a path outside
    /// every grant then reaches the host (which refuses it and records the
    /// denial) instead of failing inside the guest unseen.
    pub root: Option<PathBuf>,
}

impl Default for Policy {
    fn default() -> Policy {
        Policy {
            dirs: Vec::new(),
            vars_read: Vec::new(),
            vars_write: Vec::new(),
            functions: Vec::new(),
            commands: Vec::new(),
            net: Vec::new(),
            packages: Vec::new(),
            git: Vec::new(),
            install: false,
            memory: DEFAULT_MEMORY,
            timeout: DEFAULT_TIMEOUT,
            confine: false,
            granted_by: Vec::new(),
            root: None,
        }
    }
}

impl Policy {
    pub fn may_read_var(&self, name: &str) -> bool {
        // What a plugin may write, it may read back.
        matches_any(&self.vars_read, name) || matches_any(&self.vars_write, name)
    }

    pub fn may_write_var(&self, name: &str) -> bool {
        matches_any(&self.vars_write, name)
    }

    pub fn may_call_function(&self, name: &str) -> bool {
        matches_any(&self.functions, name)
    }

    /// Only a valid package name can be granted: a pattern `qemu-*`
    /// must not cover `qemu-x /etc/passwd` or an option.
    pub fn may_install(&self, package: &str) -> bool {
        crate::model::names::is_package_name(package) && matches_any(&self.packages, package)
    }

    pub fn may_run(&self, program: &str, args: &[String]) -> bool {
        self.commands
            .iter()
            .any(|grant| grant.program == program && args_match(&grant.args, args))
    }
}

/// A granted network endpoint: `host:port`, or `host` for any port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetGrant {
    /// A name, an IPv4 address, or an IPv6 address without brackets.
    pub host: String,
    pub port: Option<u16>,
}

impl NetGrant {
    /// Parse `host:port`, `[v6]:port`, `host` or `[v6]`.
    pub fn parse(text: &str) -> Option<NetGrant> {
        let (host, port) = match text.strip_prefix('[') {
            Some(rest) => {
                let (ip, after) = rest.split_once(']')?;
                let port = match after {
                    "" => None,
                    _ => Some(after.strip_prefix(':')?.parse().ok()?),
                };
                (ip.to_string(), port)
            }
            None => match text.rsplit_once(':') {
                Some((host, port)) => (host.to_string(), Some(port.parse().ok()?)),
                None => (text.to_string(), None),
            },
        };
        (!host.is_empty()).then_some(NetGrant { host, port })
    }

    /// Does this grant cover the endpoint `other` (also a grant's text)?
    /// A grant without a port covers every port of its host.
    pub fn covers(&self, other: &NetGrant) -> bool {
        self.host.eq_ignore_ascii_case(&other.host)
            && (self.port.is_none() || self.port == other.port)
    }
}

/// Does `name` match one of the patterns? A pattern is a literal name, or
/// ends with `*` to match every name with that prefix (`*` alone matches all).
pub fn matches_any(patterns: &[String], name: &str) -> bool {
    patterns.iter().any(|p| pattern_matches(p, name))
}

pub fn pattern_matches(pattern: &str, name: &str) -> bool {
    match pattern.strip_suffix('*') {
        Some(prefix) => name.starts_with(prefix),
        None => pattern == name,
    }
}

/// `*` matches exactly one argument that is not an option (it does not
/// start with `-`: `git clone *` must not take `--upload-pack=CMD`), `**`
/// (last) matches any rest, options included, anything else matches
/// literally.
fn args_match(patterns: &[String], args: &[String]) -> bool {
    match (patterns.first(), args.first()) {
        (Some(p), _) if p == "**" => true,
        (None, None) => true,
        (Some(p), Some(a)) if (p == "*" && !a.starts_with('-')) || p == a => {
            args_match(&patterns[1..], &args[1..])
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn var_patterns() {
        let policy = Policy {
            vars_read: strings(&["TEMPLATE_*", "DEST"]),
            vars_write: strings(&["TEMPLATE_INSTALLED"]),
            ..Policy::default()
        };
        assert!(policy.may_read_var("TEMPLATE_GREETING"));
        assert!(policy.may_read_var("DEST"));
        assert!(!policy.may_read_var("DESTINATION"));
        assert!(!policy.may_read_var("ADMIN_PASSWORD"));
        assert!(policy.may_write_var("TEMPLATE_INSTALLED"));
        assert!(!policy.may_write_var("TEMPLATE_GREETING"));
    }

    #[test]
    fn only_package_names_can_be_installed() {
        let policy = Policy {
            packages: strings(&["qemu-*", "vim"]),
            ..Policy::default()
        };
        assert!(policy.may_install("qemu-utils"));
        assert!(policy.may_install("vim"));
        assert!(!policy.may_install("emacs"));
        for bad in [
            "qemu- -oDPkg::Pre-Invoke::=id",
            "qemu-x/y",
            "qemu-\nforged",
            "qemu-",
        ] {
            assert!(!policy.may_install(bad), "{bad:?}");
        }
    }

    #[test]
    fn net_grants() {
        let p = |t: &str| NetGrant::parse(t).unwrap();
        assert_eq!(
            p("pypi.org:443"),
            NetGrant {
                host: "pypi.org".into(),
                port: Some(443)
            }
        );
        assert_eq!(p("[::1]:8080").host, "::1");
        assert_eq!(p("[::1]").port, None);
        assert_eq!(p("10.0.0.1").port, None);
        assert!(NetGrant::parse("").is_none());
        assert!(NetGrant::parse("h:x").is_none());
        assert!(p("pypi.org").covers(&p("PyPI.org:443")));
        assert!(p("pypi.org:443").covers(&p("pypi.org:443")));
        assert!(!p("pypi.org:443").covers(&p("pypi.org:80")));
        assert!(!p("pypi.org:443").covers(&p("pypi.org")));
        assert!(!p("a.org").covers(&p("b.org:1")));
    }

    #[test]
    fn command_argument_patterns() {
        let policy = Policy {
            commands: vec![
                CommandGrant {
                    program: "systemctl".into(),
                    args: strings(&["restart", "*"]),
                },
                CommandGrant {
                    program: "echo".into(),
                    args: strings(&["**"]),
                },
            ],
            ..Policy::default()
        };
        assert!(policy.may_run("systemctl", &strings(&["restart", "nova"])));
        assert!(!policy.may_run("systemctl", &strings(&["stop", "nova"])));
        assert!(!policy.may_run("systemctl", &strings(&["restart", "a", "b"])));
        assert!(!policy.may_run("systemctl", &strings(&["restart"])));
        // `*` is one argument, never an option: it would change what the
        // granted command does.
        assert!(!policy.may_run("systemctl", &strings(&["restart", "--force"])));
        assert!(!policy.may_run("systemctl", &strings(&["restart", "-H"])));
        assert!(policy.may_run("echo", &[]));
        assert!(policy.may_run("echo", &strings(&["a", "b"])));
        assert!(!policy.may_run("rm", &strings(&["-rf", "/"])));
    }
}
