//! The operator's grants (`hookhost.toml` at the stack root, plus
//! command-line flags) and how a plugin's request is checked against them.
//!
//! ```toml
//! allow-install = false      # install_package really installs
//! allow-reserved = false     # third-party hooks may use 00-09 and 90-99
//!
//! [grants."*"]               # every plugin
//! vars-read = ["ENABLED_SERVICES"]
//!
//! [grants."50-template"]     # one plugin, by stem (or by name: "template")
//! vars-read = ["TEMPLATE_GREETING"]
//! vars-write = ["TEMPLATE_INSTALLED"]
//! memory = "128MiB"          # raises the ceiling for this plugin
//! timeout = "60s"
//!
//! [deny]                     # beats every grant
//! vars-read = ["ADMIN_PASSWORD"]
//! ```
//!
//! Deny by default: a plugin gets nothing it did not request, and a
//! request that is not fully granted refuses the plugin before the run
//! starts, with the line or flag that would grant each missing item.

use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};
use std::time::Duration;

use anyhow::{bail, Context};
use serde::Deserialize;

use super::policy::{
    pattern_matches, CommandGrant, DirGrant, Policy, DEFAULT_MEMORY, DEFAULT_TIMEOUT,
};
use super::{show_duration, show_size};
use crate::discovery::HookFile;
use crate::manifest::{self, Capabilities};

/// One section of grants (or denials), in manifest terms.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct GrantSet {
    #[serde(default)]
    pub read: Vec<String>,
    #[serde(default)]
    pub write: Vec<String>,
    #[serde(default)]
    pub vars_read: Vec<String>,
    #[serde(default)]
    pub vars_write: Vec<String>,
    #[serde(default)]
    pub functions: Vec<String>,
    #[serde(default)]
    pub commands: Vec<String>,
    #[serde(default)]
    pub net: Vec<String>,
    #[serde(default)]
    pub packages: Vec<String>,
    pub memory: Option<String>,
    pub timeout: Option<String>,
}

/// The operator's decisions for a stack.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct OperatorConfig {
    #[serde(default)]
    pub allow_install: bool,
    #[serde(default)]
    pub allow_reserved: bool,
    #[serde(default)]
    pub grants: BTreeMap<String, GrantSet>,
    #[serde(default)]
    pub deny: GrantSet,
}

impl OperatorConfig {
    /// Read `hookhost.toml`; a missing file grants nothing.
    pub fn load(path: &Path) -> anyhow::Result<OperatorConfig> {
        if !path.exists() {
            return Ok(OperatorConfig::default());
        }
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("{}: cannot read it", path.display()))?;
        let config: OperatorConfig = toml::from_str(&text)
            .map_err(|e| anyhow::anyhow!("{}: {}", path.display(), one_line(&e.to_string())))?;
        config.validate(path)?;
        Ok(config)
    }

    fn validate(&self, path: &Path) -> anyhow::Result<()> {
        for (who, set) in self
            .grants
            .iter()
            .chain([(&"[deny]".to_string(), &self.deny)])
        {
            if let Some(m) = &set.memory {
                manifest::parse_size(m).map_err(|e| {
                    anyhow::anyhow!("{}: grants for {who}: memory: {e}", path.display())
                })?;
            }
            if let Some(t) = &set.timeout {
                manifest::parse_duration(t).map_err(|e| {
                    anyhow::anyhow!("{}: grants for {who}: timeout: {e}", path.display())
                })?;
            }
        }
        Ok(())
    }

    /// The grants that apply to `hook`: `"*"`, then its name, then its stem.
    fn grants_for(&self, hook: &HookFile) -> GrantSet {
        let mut merged = GrantSet::default();
        for key in ["*", hook.name.as_str(), hook.stem.as_str()] {
            if let Some(set) = self.grants.get(key) {
                merged.extend(set);
            }
        }
        merged
    }

    /// Check what `hook` requests against the grants; the effective policy,
    /// or an error listing every missing grant and how to add it.
    pub fn resolve(
        &self,
        top: &Path,
        hook: &HookFile,
        requested: Option<&Capabilities>,
        data_dir: &Path,
    ) -> anyhow::Result<Policy> {
        let empty = Capabilities::default();
        let request = requested.unwrap_or(&empty);
        let grants = self.grants_for(hook);
        let mut check = Check {
            hook,
            grants: &grants,
            deny: &self.deny,
            missing: Vec::new(),
        };
        let policy = check.policy(top, request, data_dir, self.allow_install)?;
        if !check.missing.is_empty() {
            bail!(
                "{} requests capabilities the operator has not granted:\n{}",
                hook.path.display(),
                check.missing.join("\n")
            );
        }
        Ok(policy)
    }
}

impl GrantSet {
    fn extend(&mut self, other: &GrantSet) {
        self.read.extend(other.read.iter().cloned());
        self.write.extend(other.write.iter().cloned());
        self.vars_read.extend(other.vars_read.iter().cloned());
        self.vars_write.extend(other.vars_write.iter().cloned());
        self.functions.extend(other.functions.iter().cloned());
        self.commands.extend(other.commands.iter().cloned());
        self.net.extend(other.net.iter().cloned());
        self.packages.extend(other.packages.iter().cloned());
        self.memory = other.memory.clone().or(self.memory.take());
        self.timeout = other.timeout.clone().or(self.timeout.take());
    }
}

/// One plugin's request being checked.
struct Check<'a> {
    hook: &'a HookFile,
    grants: &'a GrantSet,
    deny: &'a GrantSet,
    missing: Vec<String>,
}

impl Check<'_> {
    fn policy(
        &mut self,
        top: &Path,
        request: &Capabilities,
        data_dir: &Path,
        allow_install: bool,
    ) -> anyhow::Result<Policy> {
        let mut dirs = vec![DirGrant {
            host: data_dir.to_path_buf(),
            guest: "/data".into(),
            writable: true,
        }];
        for (paths, writable) in [(&request.read, false), (&request.write, true)] {
            for path in paths {
                if self.path_granted(path, writable) {
                    dirs.push(resolve_dir(top, path, writable)?);
                }
            }
        }
        let lists = [
            (
                "vars-read",
                &request.vars_read,
                &self.grants.vars_read,
                &self.deny.vars_read,
            ),
            (
                "vars-write",
                &request.vars_write,
                &self.grants.vars_write,
                &self.deny.vars_write,
            ),
            (
                "functions",
                &request.functions,
                &self.grants.functions,
                &self.deny.functions,
            ),
            ("net", &request.net, &self.grants.net, &self.deny.net),
        ];
        for (key, wanted, granted, denied) in lists {
            for item in wanted {
                self.names_granted(key, item, granted, denied);
            }
        }
        for command in &request.commands {
            self.command_granted(command);
        }
        let packages_granted = !request.packages.is_empty()
            && request
                .packages
                .iter()
                .all(|p| covered(&self.grants.packages, p));
        Ok(Policy {
            dirs,
            vars_read: request.vars_read.clone(),
            vars_write: request.vars_write.clone(),
            functions: request.functions.clone(),
            commands: request.commands.iter().map(|c| parse_command(c)).collect(),
            net: request.net.clone(),
            packages: request.packages.clone(),
            install: allow_install || packages_granted,
            memory: self.memory(request.memory),
            timeout: self.timeout(request.timeout),
        })
    }

    fn names_granted(&mut self, key: &str, item: &str, granted: &[String], denied: &[String]) {
        if denied.iter().any(|d| overlaps(d, item)) {
            self.missing.push(format!(
                "  {key} {item}: denied by the operator ([deny] or --deny-*)"
            ));
        } else if !covered(granted, item) {
            self.missing.push(self.hint(key, item));
        }
    }

    fn path_granted(&mut self, path: &str, writable: bool) -> bool {
        let (key, granted) = match writable {
            true => ("write", &self.grants.write),
            false => ("read", &self.grants.read),
        };
        // A write grant covers reading too.
        let ok = granted
            .iter()
            .chain(if writable {
                [].iter()
            } else {
                self.grants.write.iter()
            })
            .any(|g| path_within(path, g));
        let denied = self
            .deny
            .read
            .iter()
            .chain(&self.deny.write)
            .any(|d| path_within(path, d) || path_within(d, path));
        if denied {
            self.missing.push(format!(
                "  {key} {path}: denied by the operator ([deny] or --deny-*)"
            ));
        } else if !ok {
            self.missing.push(self.hint(key, path));
        }
        ok && !denied
    }

    fn command_granted(&mut self, command: &str) {
        let wanted = parse_command(command);
        let program_denied = self
            .deny
            .commands
            .iter()
            .any(|d| parse_command(d).program == wanted.program);
        let ok = self.grants.commands.iter().any(|g| {
            let grant = parse_command(g);
            grant.program == wanted.program && (grant.args == wanted.args || grant.args == ["**"])
        });
        if program_denied {
            self.missing.push(format!(
                "  commands {command}: denied by the operator ([deny] or --deny-run)"
            ));
        } else if !ok {
            self.missing.push(self.hint("commands", command));
        }
    }

    fn memory(&mut self, request: Option<u64>) -> u64 {
        let limit = self
            .grants
            .memory
            .as_deref()
            .and_then(|m| manifest::parse_size(m).ok());
        let limit = limit.unwrap_or(DEFAULT_MEMORY);
        match request {
            Some(wanted) if wanted > limit => {
                let hint = format!(
                    "  memory {}: above the limit of {}; add `memory = \"{}\"` under [grants.\"{}\"] in hookhost.toml",
                    show_size(wanted), show_size(limit), show_size(wanted), self.hook.stem
                );
                self.missing.push(hint);
                limit
            }
            Some(wanted) => wanted,
            None => limit,
        }
    }

    fn timeout(&mut self, request: Option<Duration>) -> Duration {
        let limit = self
            .grants
            .timeout
            .as_deref()
            .and_then(|t| manifest::parse_duration(t).ok());
        let limit = limit.unwrap_or(DEFAULT_TIMEOUT);
        match request {
            Some(wanted) if wanted > limit => {
                let hint = format!(
                    "  timeout {}: above the limit of {}; add `timeout = \"{}\"` under [grants.\"{}\"] in hookhost.toml",
                    show_duration(wanted), show_duration(limit), show_duration(wanted), self.hook.stem
                );
                self.missing.push(hint);
                limit
            }
            Some(wanted) => wanted,
            None => limit,
        }
    }

    /// How to grant one missing item: the hookhost.toml line and the flag.
    fn hint(&self, key: &str, item: &str) -> String {
        let flag = match key {
            "read" => format!(" or pass --allow-read={item}"),
            "write" => format!(" or pass --allow-write={item}"),
            "vars-read" | "vars-write" => format!(" or pass --allow-env={item}"),
            "commands" => format!(
                " or pass --allow-run={}",
                item.split_whitespace().next().unwrap_or(item)
            ),
            "net" => format!(" or pass --allow-net={item}"),
            "functions" => format!(" or pass --allow-function={item}"),
            _ => String::new(),
        };
        format!(
            "  {key} {item}: add `{key} = [\"{item}\"]` under [grants.\"{}\"] in hookhost.toml{flag}",
            self.hook.stem
        )
    }
}

/// Does a granted pattern cover a requested pattern? `FOO_*` covers `FOO_A`
/// and `FOO_B*`; a literal covers only itself.
fn covers(grant: &str, request: &str) -> bool {
    match grant.strip_suffix('*') {
        Some(prefix) => request.starts_with(prefix),
        None => grant == request,
    }
}

fn covered(grants: &[String], request: &str) -> bool {
    grants.iter().any(|g| covers(g, request))
}

/// Could a name match both patterns? A deny overlapping a request refuses it.
fn overlaps(a: &str, b: &str) -> bool {
    covers(a, b) || covers(b, a) || pattern_matches(a, b)
}

/// Is stack-relative `path` inside granted `dir` (`.` is the whole stack)?
fn path_within(path: &str, dir: &str) -> bool {
    let parts = |p: &str| -> Vec<String> {
        Path::new(p)
            .components()
            .filter(|c| !matches!(c, Component::CurDir))
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect()
    };
    parts(path).starts_with(&parts(dir))
}

/// Resolve a granted stack-relative directory without leaving the stack:
/// cap-std refuses `..` and symlinks that point outside `top`.
fn resolve_dir(top: &Path, path: &str, writable: bool) -> anyhow::Result<DirGrant> {
    let root = cap_std::fs::Dir::open_ambient_dir(top, cap_std::ambient_authority())
        .with_context(|| format!("cannot open the stack {}", top.display()))?;
    root.open_dir(path).map_err(|e| {
        anyhow::anyhow!(
            "grant `{path}`: cannot open it inside the stack {}: {e}",
            top.display()
        )
    })?;
    let host: PathBuf = top.join(path).canonicalize()?;
    if !host.starts_with(top) {
        bail!(
            "grant `{path}` resolves outside the stack to {}",
            host.display()
        );
    }
    let guest = format!(
        "/stack/{}",
        path.trim_start_matches("./").trim_end_matches('/')
    );
    Ok(DirGrant {
        host,
        guest,
        writable,
    })
}

/// `"systemctl restart *"` → program and argument patterns.
fn parse_command(text: &str) -> CommandGrant {
    let mut words = text.split_whitespace().map(str::to_string);
    CommandGrant {
        program: words.next().unwrap_or_default(),
        args: words.collect(),
    }
}

fn one_line(text: &str) -> String {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('|'))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Grants and denials from the command line; they apply to every plugin
/// and add to hookhost.toml (a deny still beats any allow).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GrantFlags {
    pub allow_read: Vec<String>,
    pub allow_write: Vec<String>,
    /// Read and write these variables.
    pub allow_env: Vec<String>,
    /// Run these programs with any arguments.
    pub allow_run: Vec<String>,
    pub allow_net: Vec<String>,
    pub allow_function: Vec<String>,
    pub deny_read: Vec<String>,
    pub deny_write: Vec<String>,
    pub deny_env: Vec<String>,
    pub deny_run: Vec<String>,
    pub deny_net: Vec<String>,
    pub deny_function: Vec<String>,
    pub allow_install: bool,
    pub allow_reserved: bool,
}

impl OperatorConfig {
    /// Add the command line's grants and denials.
    pub fn apply_flags(&mut self, flags: &GrantFlags) {
        let all = self.grants.entry("*".to_string()).or_default();
        all.read.extend(flags.allow_read.iter().cloned());
        all.write.extend(flags.allow_write.iter().cloned());
        all.vars_read.extend(flags.allow_env.iter().cloned());
        all.vars_write.extend(flags.allow_env.iter().cloned());
        all.commands
            .extend(flags.allow_run.iter().map(|p| format!("{p} **")));
        all.net.extend(flags.allow_net.iter().cloned());
        all.functions.extend(flags.allow_function.iter().cloned());
        let deny = &mut self.deny;
        deny.read.extend(flags.deny_read.iter().cloned());
        deny.write.extend(flags.deny_write.iter().cloned());
        deny.vars_read.extend(flags.deny_env.iter().cloned());
        deny.vars_write.extend(flags.deny_env.iter().cloned());
        deny.commands.extend(flags.deny_run.iter().cloned());
        deny.net.extend(flags.deny_net.iter().cloned());
        deny.functions.extend(flags.deny_function.iter().cloned());
        self.allow_install |= flags.allow_install;
        self.allow_reserved |= flags.allow_reserved;
    }
}
