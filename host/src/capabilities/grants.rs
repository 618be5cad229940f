//! How a plugin's request is checked against the operator's grants
//! ([`crate::config::operator`]: `hookhost.toml` plus command-line flags).
//!
//! Deny by default: a plugin gets nothing it did not request, and a
//! request that is not fully granted refuses the plugin before the run
//! starts, with the line or flag that would grant each missing item.
//! Every decision is recorded in the audit log (see [`crate::capabilities::audit`]).
//!
//! Some directories no grant may cover ([`protected`]): what hookhost and
//! trusted hooks run or read as settings (`extras.d`, `lib`,
//! `hookhost.toml`, `local.conf`, the compiled cache) may not be written,
//! and hookhost's state directory (`.hookhost`: journals and logs of every
//! hook, plugins' private directories) may not be read either. A request
//! or an operator's grant covering one of them is refused, naming what it
//! covers.

use std::path::{Component, Path, PathBuf};
use std::time::Duration;

use anyhow::{bail, Context};

use super::policy::{
    pattern_matches, CommandGrant, DirGrant, NetGrant, Policy, DEFAULT_MEMORY, DEFAULT_TIMEOUT,
};
use crate::capabilities::audit::{self, Decision};
use crate::config::manifest::{self, Capabilities};
use crate::config::operator::{
    compile_cache_dir, grant_table, numbered, table_key, table_matches, GrantSet, OperatorConfig,
};
use crate::config::stack::{LOCAL_CONF, OPERATOR_CONFIG, STATE_DIR};
use crate::model::hooks::HookFile;
use crate::model::inert::inert;
use crate::model::problems::{Problem, Problems};
use crate::model::shell;
use crate::model::units::{show_limit as show_duration, show_size};

impl OperatorConfig {
    /// The tables that grant to `hook`, in the order they merge: `"*"`,
    /// the command line's flags, its name, then its stem; each with the
    /// words `plan` names it by.
    fn tables_for(&self, hook: &HookFile) -> Vec<(String, &GrantSet)> {
        let mut tables = Vec::new();
        if let Some(set) = self.grants.get("*") {
            tables.push((grant_table("*"), set));
        }
        tables.push(("--allow-* flags".to_string(), &self.flag_grants));
        // Name before stem, as they merge.
        let mut keys: Vec<&String> = self
            .grants
            .keys()
            .filter(|k| table_matches(k, hook))
            .collect();
        keys.sort_by_key(|k| numbered(k));
        for key in keys {
            tables.push((grant_table(key), &self.grants[key]));
        }
        tables
    }

    /// The grants that apply to `hook`, merged.
    fn grants_for(&self, hook: &HookFile) -> GrantSet {
        let mut merged = GrantSet::default();
        for (_, set) in self.tables_for(hook) {
            merged.extend(set);
        }
        merged
    }

    /// The policy of a confined bash hook: its manifest's paths and network
    /// ports, checked against the grants as a plugin's are. The other kinds
    /// cannot be enforced on bash and are not part of its request.
    pub fn resolve_confined(
        &self,
        top: &Path,
        hook: &HookFile,
        requested: Option<&Capabilities>,
    ) -> anyhow::Result<Policy> {
        let request = requested
            .map(|c| Capabilities {
                read: c.read.clone(),
                write: c.write.clone(),
                net: c.net.clone(),
                ..Capabilities::default()
            })
            .unwrap_or_default();
        let mut policy = self.check(top, hook, &request, Path::new(""), true)?;
        policy.confine = true;
        audit::plan(&hook.stem, "confine", "landlock", Decision::Granted, None);
        Ok(policy)
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
        self.check(top, hook, request, data_dir, false)
    }

    /// `resolve`, for a plugin or (`bash`) a confined bash hook, which has
    /// no data directory, memory or time limit.
    fn check(
        &self,
        top: &Path,
        hook: &HookFile,
        request: &Capabilities,
        data_dir: &Path,
        bash: bool,
    ) -> anyhow::Result<Policy> {
        let grants = self.grants_for(hook);
        let mut check = Check {
            hook,
            grants: &grants,
            tables: self.tables_for(hook),
            granted_by: Vec::new(),
            deny: &self.deny,
            missing: Vec::new(),
            bash,
        };
        let mut policy = check.policy(top, request, data_dir, self.allow_install)?;
        policy.granted_by = check.granted_by;
        if !check.missing.is_empty() {
            return Err(missing_grants(hook, &check.missing));
        }
        Ok(policy)
    }
}

/// The refusal of a plugin's missing grants: one problem for people (every
/// line under one headline), one entry per item for machines, each with
/// its capability (the first word of the item, after `grant` for an
/// operator's own grant).
fn missing_grants(hook: &HookFile, missing: &[String]) -> anyhow::Error {
    let text = format!(
        "{} requests capabilities the operator has not granted:\n{}",
        inert(&hook.path.display().to_string()),
        missing.join("\n")
    );
    // The request's line in the manifest beside the hook, when it has one.
    let manifest = hook.path.with_extension("toml");
    let requests = std::fs::read_to_string(&manifest).ok();
    let entries = missing.iter().map(|line| {
        let mut words = line.split_whitespace().skip_while(|w| *w == "grant");
        let key = words.next().unwrap_or_default();
        let item = words.next().unwrap_or_default().trim_end_matches(':');
        let at = requests.as_deref().and_then(|t| {
            let quoted = format!("\"{item}\"");
            t.lines().position(|l| l.contains(&quoted)).map(|n| n + 1)
        });
        let file = match at {
            Some(_) => &manifest,
            None => &hook.path,
        };
        Problem::at(file, at, line.trim())
            .for_hook(&hook.stem)
            .about(key)
    });
    let mut problem = Problem::new(text).for_hook(&hook.stem);
    problem.entries = entries.collect();
    anyhow::Error::new(Problems::from(problem))
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
        self.git.extend(other.git.iter().cloned());
        self.memory = other.memory.clone().or(self.memory.take());
        self.timeout = other.timeout.clone().or(self.timeout.take());
    }
}

/// One plugin's request being checked.
struct Check<'a> {
    hook: &'a HookFile,
    grants: &'a GrantSet,
    /// The tables merged into `grants`, to say which granted what.
    tables: Vec<(String, &'a GrantSet)>,
    /// Each table that granted something, with what it granted.
    granted_by: Vec<(String, Vec<String>)>,
    deny: &'a GrantSet,
    missing: Vec<String>,
    /// A confined bash hook: its limits are not recorded as granted.
    bash: bool,
}

impl Check<'_> {
    fn policy(
        &mut self,
        top: &Path,
        request: &Capabilities,
        data_dir: &Path,
        allow_install: bool,
    ) -> anyhow::Result<Policy> {
        let mut dirs = Vec::new();
        if !self.bash {
            dirs.push(DirGrant {
                host: data_dir.to_path_buf(),
                guest: "/data".into(),
                writable: true,
            });
        }
        self.check_operator_paths(top);
        for (paths, writable) in [(&request.read, false), (&request.write, true)] {
            for path in paths {
                if let Some(why) = covers_protected(top, path, writable) {
                    self.refuse(access(writable), path, &why);
                } else if self.path_granted(path, writable) {
                    dirs.push(
                        resolve_dir(top, path, writable)
                            .map_err(|e| anyhow::anyhow!("{}: {e:#}", self.hook.path.display()))?,
                    );
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
            ("git", &request.git, &self.grants.git, &self.deny.git),
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
        let install = match allow_install || packages_granted {
            true => "installed",
            false => "recorded only: no install grant",
        };
        for package in &request.packages {
            audit::plan(
                &self.hook.stem,
                "packages",
                package,
                Decision::Granted,
                Some(install),
            );
        }
        Ok(Policy {
            dirs,
            vars_read: request.vars_read.clone(),
            vars_write: request.vars_write.clone(),
            functions: request.functions.clone(),
            commands: request.commands.iter().map(|c| parse_command(c)).collect(),
            net: request.net.clone(),
            packages: request.packages.clone(),
            git: request.git.clone(),
            install: allow_install || packages_granted,
            memory: self.memory(request.memory),
            timeout: self.timeout(request.timeout),
            confine: false,
            granted_by: Vec::new(),
            root: None,
        })
    }

    fn names_granted(&mut self, key: &str, item: &str, granted: &[String], denied: &[String]) {
        let denied = match key {
            "net" => denied.iter().any(|d| net_overlaps(d, item)),
            _ => denied.iter().any(|d| overlaps(d, item)),
        };
        let granted = !granted.is_empty() && grants_item(self.grants, key, item);
        if denied {
            self.deny(key, item);
        } else if !granted {
            self.lack(key, item);
        } else {
            self.grant(key, item);
        }
    }

    /// Record a granted item, and the table that granted it.
    fn grant(&mut self, key: &str, item: &str) {
        audit::plan(&self.hook.stem, key, item, Decision::Granted, None);
        let table = self
            .tables
            .iter()
            .find(|(_, set)| grants_item(set, key, item));
        let Some((table, _)) = table else {
            return;
        };
        let what = format!("{key} {item}");
        match self.granted_by.iter_mut().find(|(t, _)| t == table) {
            Some((_, items)) => items.push(what),
            None => self.granted_by.push((table.clone(), vec![what])),
        }
    }

    /// Record an item the operator denied.
    fn deny(&mut self, key: &str, item: &str) {
        let flag = match key {
            "vars-read" | "vars-write" => "--deny-env",
            "commands" => "--deny-run",
            "functions" => "--deny-function",
            "read" => "--deny-read",
            "write" => "--deny-write",
            "net" => "--deny-net",
            _ => "--deny-*",
        };
        let why = format!("denied by the operator ([deny] or {flag})");
        audit::plan(&self.hook.stem, key, item, Decision::Denied, Some(&why));
        self.missing.push(format!("  {key} {}: {why}", inert(item)));
    }

    /// Record a request hookhost refuses whatever the grants, and why.
    fn refuse(&mut self, key: &str, item: &str, why: &str) {
        audit::plan(&self.hook.stem, key, item, Decision::Denied, Some(why));
        self.missing
            .push(format!("  {key} {}: refused: {}", inert(item), inert(why)));
    }

    /// The operator's own path grants for this hook: one covering what
    /// hookhost trusts is refused even before a plugin asks for it.
    fn check_operator_paths(&mut self, top: &Path) {
        let grants = self.grants;
        for (paths, writable) in [(&grants.read, false), (&grants.write, true)] {
            for path in paths {
                if let Some(why) = covers_protected(top, path, writable) {
                    let key = access(writable);
                    let why = format!(
                        "{why}; remove it from hookhost.toml (or drop --allow-{key}={})",
                        shell::word(path)
                    );
                    audit::plan(&self.hook.stem, key, path, Decision::Denied, Some(&why));
                    self.missing.push(format!(
                        "  grant {key} {}: refused: {}",
                        inert(path),
                        inert(&why)
                    ));
                }
            }
        }
    }

    /// Record an item no grant covers, with how to grant it.
    fn lack(&mut self, key: &str, item: &str) {
        audit::plan(
            &self.hook.stem,
            key,
            item,
            Decision::Denied,
            Some("not granted"),
        );
        self.missing.push(self.hint(key, item));
    }

    fn path_granted(&mut self, path: &str, writable: bool) -> bool {
        let key = access(writable);
        let ok = grants_item(self.grants, key, path);
        let denied = self
            .deny
            .read
            .iter()
            .chain(&self.deny.write)
            .any(|d| path_within(path, d) || path_within(d, path));
        if denied {
            self.deny(key, path);
        } else if !ok {
            self.lack(key, path);
        } else {
            self.grant(key, path);
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
        let ok = grants_item(self.grants, "commands", command);
        if program_denied {
            self.deny("commands", command);
        } else if !ok {
            self.lack("commands", command);
        } else {
            self.grant("commands", command);
        }
    }

    fn memory(&mut self, request: Option<u64>) -> u64 {
        let limit = self
            .grants
            .memory
            .as_deref()
            .and_then(|m| manifest::parse_size(m).ok());
        let limit = limit.unwrap_or(DEFAULT_MEMORY);
        let granted = match request {
            Some(wanted) if wanted > limit => {
                let why = format!("above the limit of {}", show_size(limit));
                audit::plan(
                    &self.hook.stem,
                    "memory",
                    &show_size(wanted),
                    Decision::Denied,
                    Some(&why),
                );
                let hint = format!(
                    "  memory {}: {why}; add `memory = \"{}\"` under {} in hookhost.toml",
                    show_size(wanted),
                    show_size(wanted),
                    grant_table(table_key(self.hook))
                );
                self.missing.push(hint);
                return limit;
            }
            Some(wanted) => wanted,
            None => limit,
        };
        if !self.bash {
            self.grant("memory", &show_size(granted));
        }
        granted
    }

    fn timeout(&mut self, request: Option<Duration>) -> Duration {
        let limit = self
            .grants
            .timeout
            .as_deref()
            .and_then(|t| manifest::parse_duration(t).ok());
        let limit = limit.unwrap_or(DEFAULT_TIMEOUT);
        let granted = match request {
            Some(wanted) if wanted > limit => {
                let why = format!("above the limit of {}", show_duration(limit));
                audit::plan(
                    &self.hook.stem,
                    "timeout",
                    &show_duration(wanted),
                    Decision::Denied,
                    Some(&why),
                );
                let hint = format!(
                    "  timeout {}: {why}; add `timeout = \"{}\"` under {} in hookhost.toml",
                    show_duration(wanted),
                    show_duration(wanted),
                    grant_table(table_key(self.hook))
                );
                self.missing.push(hint);
                return limit;
            }
            Some(wanted) => wanted,
            None => limit,
        };
        if !self.bash {
            self.grant("timeout", &show_duration(granted));
        }
        granted
    }

    /// How to grant one missing item: the hookhost.toml line and the flag.
    fn hint(&self, key: &str, item: &str) -> String {
        super::advice::missing_hint(table_key(self.hook), key, item)
    }
}

/// Does the grant table `set` grant `item` under `key`? A write grant
/// covers reading too; a command grant names the program and either the
/// same argument patterns or `**`.
fn grants_item(set: &GrantSet, key: &str, item: &str) -> bool {
    match key {
        "read" => set
            .read
            .iter()
            .chain(&set.write)
            .any(|g| path_within(item, g)),
        "write" => set.write.iter().any(|g| path_within(item, g)),
        "net" => net_covered(&set.net, item),
        "commands" => {
            let wanted = parse_command(item);
            set.commands.iter().any(|g| {
                let grant = parse_command(g);
                grant.program == wanted.program
                    && (grant.args == wanted.args || grant.args == ["**"])
            })
        }
        _ => set
            .lists()
            .iter()
            .find(|(k, _)| *k == key)
            .is_some_and(|(_, list)| covered(list, item)),
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

/// Is the endpoint `request` covered by a net grant? `host` covers every
/// port of that host, `*` every endpoint.
fn net_covered(grants: &[String], request: &str) -> bool {
    let Some(wanted) = NetGrant::parse(request) else {
        return false;
    };
    grants
        .iter()
        .any(|g| g == "*" || NetGrant::parse(g).is_some_and(|grant| grant.covers(&wanted)))
}

/// Could a net deny and a request name the same endpoint?
fn net_overlaps(deny: &str, request: &str) -> bool {
    let (Some(d), Some(r)) = (NetGrant::parse(deny), NetGrant::parse(request)) else {
        return deny == "*";
    };
    deny == "*" || d.covers(&r) || r.covers(&d)
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

fn access(writable: bool) -> &'static str {
    match writable {
        true => "write",
        false => "read",
    }
}

/// A path inside a stack that no grant may cover.
struct Protected {
    /// Where it is on the host (symlinks resolved when it exists).
    host: PathBuf,
    /// How the operator knows it.
    name: String,
    what: &'static str,
    /// Reading it is refused too (not only writing).
    unreadable: bool,
}

/// What hookhost and trusted hooks run, read as settings or keep as state
/// in the stack `top`, and the compiled cache wherever it is.
fn protected(top: &Path) -> Vec<Protected> {
    let in_stack = [
        ("extras.d", "the hooks hookhost runs", false),
        (
            "lib",
            "the files hooks source and the hypervisor drivers",
            false,
        ),
        (
            STATE_DIR,
            "hookhost's state: journals and logs of every hook, plugins' private directories",
            true,
        ),
        (OPERATOR_CONFIG, "the operator's grants", false),
        (
            ".git",
            "git's hooks and settings, run when trusted code runs git in the stack",
            false,
        ),
        (LOCAL_CONF, "DevStack's settings", false),
    ];
    let mut list: Vec<Protected> = in_stack
        .into_iter()
        .map(|(name, what, unreadable)| Protected {
            host: real_or_lexical(&top.join(name)),
            name: name.to_string(),
            what,
            unreadable,
        })
        .collect();
    if let Some(cache) = compile_cache_dir() {
        list.push(Protected {
            host: real_or_lexical(&cache),
            name: cache.display().to_string(),
            what: "the compiled-component cache and its key",
            unreadable: true,
        });
    }
    list
}

/// Why a grant of stack-relative `path` (`writable` or not) would cover
/// something of [`protected`], or None when it does not.
fn covers_protected(top: &Path, path: &str, writable: bool) -> Option<String> {
    let host = real_or_lexical(&top.join(path));
    if writable && host.components().any(|c| c.as_os_str() == ".git") {
        return Some(
            "it is inside a git repository's .git (its hooks and settings run when trusted \
             code runs git there); grant a subdirectory of the work tree that holds only the \
             plugin's files instead"
                .to_string(),
        );
    }
    let mut relations: Vec<(&str, Vec<String>)> = vec![
        ("it is", vec![]),
        ("it is inside", vec![]),
        ("it contains", vec![]),
    ];
    for p in protected(top)
        .into_iter()
        .filter(|p| writable || p.unreadable)
    {
        let at = if host == p.host {
            0
        } else if host.starts_with(&p.host) {
            1
        } else if p.host.starts_with(&host) {
            2
        } else {
            continue;
        };
        relations[at].1.push(format!("{} ({})", p.name, p.what));
    }
    let reasons: Vec<String> = relations
        .into_iter()
        .filter(|(_, names)| !names.is_empty())
        .map(|(relation, names)| format!("{relation} {}", names.join(", ")))
        .collect();
    if reasons.is_empty() {
        return None;
    }
    let advice = match writable {
        true => {
            "a plugin may not write what hookhost or trusted hooks run or read; \
             grant a subdirectory that holds only the plugin's files instead"
        }
        false => {
            "grant the subdirectories the plugin needs instead (its own data is \
             /data, always granted)"
        }
    };
    Some(format!("{}; {advice}", reasons.join("; ")))
}

/// `path` with symlinks resolved if it exists, else with `.` and `..`
/// taken by their names.
fn real_or_lexical(path: &Path) -> PathBuf {
    if let Ok(real) = path.canonicalize() {
        return real;
    }
    crate::config::stack::lexical(path)
}

/// Resolve a granted stack-relative directory without leaving the stack:
/// cap-std refuses `..` and symlinks that point outside `top`.
fn resolve_dir(top: &Path, path: &str, writable: bool) -> anyhow::Result<DirGrant> {
    let root = cap_std::fs::Dir::open_ambient_dir(top, cap_std::ambient_authority())
        .with_context(|| format!("cannot open the stack {}", top.display()))?;
    root.open_dir(path).map_err(|e| {
        let key = access(writable);
        match e.kind() {
            std::io::ErrorKind::NotFound => anyhow::anyhow!(
                "{key} {path}: granted, but {} does not exist — create it \
                 (`mkdir -p {}`) before the run, or drop it from the plugin's manifest",
                inert(&top.join(path).display().to_string()),
                shell::word(&top.join(path).display().to_string())
            ),
            _ => anyhow::anyhow!(
                "{key} {path}: cannot open it inside the stack {}: {}",
                top.display(),
                crate::model::problems::io_message(&e)
            ),
        }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::operator::GrantFlags;
    use crate::model::hooks::HookKind;

    fn hook(kind: HookKind) -> HookFile {
        HookFile {
            number: 50,
            name: "x".into(),
            stem: "50-x".into(),
            kind,
            path: "extras.d/50-x.wasm".into(),
            manifest: None,
        }
    }

    fn config(text: &str) -> OperatorConfig {
        let config: OperatorConfig = toml::from_str(text).unwrap();
        config.validate(Path::new("hookhost.toml")).unwrap();
        config
    }

    fn strings(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn net_grants_cover_by_host_and_port() {
        let grants = strings(&["pypi.org:443", "10.0.0.1"]);
        assert!(net_covered(&grants, "pypi.org:443"));
        assert!(!net_covered(&grants, "pypi.org:80"));
        assert!(net_covered(&grants, "10.0.0.1:22"));
        assert!(!net_covered(&grants, "10.0.0.2:22"));
        assert!(net_covered(&strings(&["*"]), "example.org:1"));
        assert!(net_overlaps("pypi.org", "pypi.org:443"));
        assert!(!net_overlaps("pypi.org:80", "pypi.org:443"));
    }

    #[test]
    fn a_request_is_granted_by_name_stem_or_flags_and_denied_by_deny() {
        let dir = tempfile::tempdir().unwrap();
        let request = Capabilities {
            vars_read: strings(&["DEST"]),
            net: strings(&["pypi.org:443"]),
            ..Capabilities::default()
        };
        let data = dir.path().join("data");
        let granted = config("[grants.x]\nvars-read = [\"DEST\"]\nnet = [\"pypi.org\"]\n");
        let policy = granted
            .resolve(dir.path(), &hook(HookKind::Wasm), Some(&request), &data)
            .unwrap();
        assert_eq!(policy.net, ["pypi.org:443"]);
        assert_eq!(policy.dirs[0].guest, "/data");
        let mut flagged = OperatorConfig::default();
        flagged.apply_flags(&GrantFlags {
            allow_env: strings(&["DEST"]),
            allow_net: strings(&["pypi.org:443"]),
            ..GrantFlags::default()
        });
        flagged
            .resolve(dir.path(), &hook(HookKind::Wasm), Some(&request), &data)
            .unwrap();
        flagged.apply_flags(&GrantFlags {
            deny_net: strings(&["pypi.org"]),
            ..GrantFlags::default()
        });
        let err = flagged
            .resolve(dir.path(), &hook(HookKind::Wasm), Some(&request), &data)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("net pypi.org:443: denied by the operator ([deny] or --deny-net)"),
            "{err}"
        );
    }

    #[test]
    fn a_confined_bash_hook_gets_its_paths_only() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("lib")).unwrap();
        let top = dir.path().canonicalize().unwrap();
        let request = Capabilities {
            read: strings(&["lib"]),
            vars_read: strings(&["SECRET"]),
            confine: true,
            ..Capabilities::default()
        };
        let operator = config("[grants.\"50-x\"]\nread = [\"lib\"]\n");
        let policy = operator
            .resolve_confined(&top, &hook(HookKind::Bash), Some(&request))
            .unwrap();
        assert!(policy.confine);
        assert_eq!(policy.dirs.len(), 1, "{:?}", policy.dirs);
        assert_eq!(policy.dirs[0].host, top.join("lib"));
        assert!(policy.vars_read.is_empty());
        let err = OperatorConfig::default()
            .resolve_confined(&top, &hook(HookKind::Bash), Some(&request))
            .unwrap_err()
            .to_string();
        assert!(err.contains("read lib: add `read = [\"lib\"]`"), "{err}");
    }

    #[test]
    fn the_operator_confines_by_stem_or_name() {
        let operator = config("confine = [\"x\"]\n");
        assert!(operator.confines(&hook(HookKind::Bash)));
        let mut other = OperatorConfig::default();
        assert!(!other.confines(&hook(HookKind::Bash)));
        other.apply_flags(&GrantFlags {
            confine: strings(&["50-x"]),
            ..GrantFlags::default()
        });
        assert!(other.confines(&hook(HookKind::Bash)));
    }
}
