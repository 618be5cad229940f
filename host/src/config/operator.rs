//! The operator's configuration of a stack: `hookhost.toml` at the stack
//! root, plus the grants and denials of the command line. This file only
//! reads and checks it; how a plugin's request is weighed against the
//! grants is the capabilities layer's.
//!
//! ```toml
//! allow-install = false      # install_package really installs
//! allow-reserved = false     # third-party hooks may use 00-09 and 90-99
//!
//! [grants."*"]               # every plugin
//! vars-read = ["ENABLED_SERVICES"]
//!
//! [grants.template]          # one plugin, by name (or by stem: "50-template")
//! vars-read = ["TEMPLATE_GREETING"]
//! vars-write = ["TEMPLATE_INSTALLED"]
//! memory = "128MiB"          # raises the ceiling for this plugin
//! timeout = "60s"
//!
//! [deny]                     # beats every grant
//! vars-read = ["ADMIN_PASSWORD"]
//!
//! confine = ["40-legacy"]    # bash hooks to run confined (Landlock), by stem or name
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::Context;
use serde::Deserialize;

use crate::config::manifest;
use crate::model::hooks::HookFile;
use crate::model::problems::{Problem, Problems};

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
    #[serde(default)]
    pub git: Vec<String>,
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
    /// Bash hooks to run confined, by stem (`40-legacy`) or name (`legacy`).
    #[serde(default)]
    pub confine: Vec<String>,
    /// `[devstack]`: whether the stack is a DevStack tree, and its prelude.
    #[serde(default)]
    pub devstack: crate::config::prelude::DevstackConfig,
    /// The command line's `--allow-*` grants, for every plugin; apart from
    /// `[grants."*"]` so that `plan` can say which granted what.
    #[serde(skip)]
    pub flag_grants: GrantSet,
}

/// The table of hookhost.toml that grants to the plugin `name`, as
/// messages and docs write it: by the plugin's name (`[grants.greeter]`),
/// quoted only where TOML needs it (`[grants."*"]`). A table named by the
/// hook's stem (`[grants."20-greeter"]`) is accepted too.
pub fn grant_table(name: &str) -> String {
    let bare = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    match bare {
        true => format!("[grants.{name}]"),
        false => format!("[grants.{name:?}]"),
    }
}

/// Whether the grant table or confine entry `key` is meant for `hook`,
/// the one rule every lookup by name follows: a key of the form `NN-name`
/// (digits, `-`, the rest) names a hook file, so it matches only the hook
/// of that stem (`[grants.20-nova]` is `extras.d/20-nova.*`, never the
/// plugin `extras.d/50-20-nova.wasm`, whose name is `20-nova`); any other
/// key matches the plugin of that name. Names are unique in a stack (a
/// collision is refused), and so are stems, so a key matches at most one
/// hook.
pub fn table_matches(key: &str, hook: &HookFile) -> bool {
    match numbered(key) {
        true => key == hook.stem,
        false => key == hook.name,
    }
}

/// The key messages advise for `hook`'s grant table: its name, unless the
/// name itself reads as `NN-name` (a hook `50-20-nova`), which only a
/// stem matches, so the stem.
pub fn table_key(hook: &HookFile) -> &str {
    table_key_of(&hook.stem)
}

/// [`table_key`] for a hook known by its stem or name alone.
pub fn table_key_of(hook: &str) -> &str {
    match hook.split_once('-') {
        Some((number, name)) if is_number(number) && !numbered(name) => name,
        _ => hook,
    }
}

/// `NN-name`: digits, a `-`, then at least one more character.
pub fn numbered(key: &str) -> bool {
    key.split_once('-')
        .is_some_and(|(number, rest)| is_number(number) && !rest.is_empty())
}

fn is_number(text: &str) -> bool {
    !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit())
}

impl GrantSet {
    /// Each list with its hookhost.toml key.
    pub fn lists(&self) -> [(&'static str, &Vec<String>); 9] {
        [
            ("read", &self.read),
            ("write", &self.write),
            ("vars-read", &self.vars_read),
            ("vars-write", &self.vars_write),
            ("functions", &self.functions),
            ("commands", &self.commands),
            ("net", &self.net),
            ("packages", &self.packages),
            ("git", &self.git),
        ]
    }
}

impl OperatorConfig {
    /// Read `hookhost.toml`; a missing file grants nothing.
    pub fn load(path: &Path) -> anyhow::Result<OperatorConfig> {
        if !path.exists() {
            return Ok(OperatorConfig::default());
        }
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("{}: cannot read it", path.display()))?;
        let config: OperatorConfig = toml::from_str(&text).map_err(|e| {
            let problem = manifest::toml_problem(path, &text, &e);
            anyhow::Error::new(crate::model::problems::Problems::from(problem))
        })?;
        config.validate(path)?;
        Ok(config)
    }

    /// Check every grant and denial by the rules a manifest's requests
    /// follow (one implementation: [`manifest::check_grant`]); every
    /// problem, one each.
    pub(crate) fn validate(&self, path: &Path) -> anyhow::Result<()> {
        let mut problems = Problems::new();
        let tables = self
            .grants
            .iter()
            .map(|(name, set)| (grant_table(name), set));
        for (table, set) in tables.chain([("[deny]".to_string(), &self.deny)]) {
            let table = manifest::escape_controls(&table);
            let mut fail = |key: &str, e: String| {
                let e = manifest::escape_controls(&e);
                problems.push(Problem::at(path, None, format!("{table} {key}: {e}")));
            };
            for (key, values) in set.lists() {
                for value in values {
                    if let Err(e) = manifest::check_grant(key, value) {
                        fail(key, e);
                    }
                }
            }
            if let Some(Err(e)) = set.memory.as_deref().map(manifest::parse_size) {
                fail("memory", e.to_string());
            }
            if let Some(Err(e)) = set.timeout.as_deref().map(manifest::parse_duration) {
                fail("timeout", e.to_string());
            }
        }
        problems.or_ok(()).map_err(anyhow::Error::new)
    }

    /// Whether the operator confines the bash hook `hook`.
    pub fn confines(&self, hook: &HookFile) -> bool {
        self.confine.iter().any(|c| table_matches(c, hook))
    }
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
    /// Bash hooks to run confined (by stem or name).
    pub confine: Vec<String>,
}

impl GrantFlags {
    /// Each grant and denial flag with the manifest key it stands for.
    fn lists_mut(&mut self) -> [(&'static str, &'static str, &mut Vec<String>); 12] {
        [
            ("--allow-read", "read", &mut self.allow_read),
            ("--allow-write", "write", &mut self.allow_write),
            ("--allow-env", "vars-read", &mut self.allow_env),
            ("--allow-run", "commands", &mut self.allow_run),
            ("--allow-net", "net", &mut self.allow_net),
            ("--allow-function", "functions", &mut self.allow_function),
            ("--deny-read", "read", &mut self.deny_read),
            ("--deny-write", "write", &mut self.deny_write),
            ("--deny-env", "vars-read", &mut self.deny_env),
            ("--deny-run", "commands", &mut self.deny_run),
            ("--deny-net", "net", &mut self.deny_net),
            ("--deny-function", "functions", &mut self.deny_function),
        ]
    }

    /// These flags without the values that could never match what a
    /// plugin may request (`--allow-write=/etc`, `--allow-net=pypi.org:99999`),
    /// checked by the rules a manifest's requests follow, and a problem
    /// for each value taken away.
    pub fn checked(mut self) -> (GrantFlags, Problems) {
        let mut problems = Problems::new();
        for (flag, key, values) in self.lists_mut() {
            values.retain(|value| match manifest::check_grant(key, value) {
                Ok(_) => true,
                Err(e) => {
                    let e = manifest::escape_controls(&e);
                    let value = manifest::escape_controls(value);
                    problems.push(Problem::new(format!("{flag}={value}: {e}")));
                    false
                }
            });
        }
        (self, problems)
    }
}

impl OperatorConfig {
    /// Add the command line's grants and denials.
    pub fn apply_flags(&mut self, flags: &GrantFlags) {
        let all = &mut self.flag_grants;
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
        self.confine.extend(flags.confine.iter().cloned());
    }
}

/// Where compiled components are cached: `$HOOKHOST_CACHE_DIR`, else
/// `$XDG_CACHE_HOME/hookhost`, else `~/.cache/hookhost`. The operator's
/// choice, read here so that the grants can protect the cache without
/// knowing the runtime that fills it.
pub fn compile_cache_dir() -> Option<PathBuf> {
    let var = |name| std::env::var_os(name).filter(|v| !v.is_empty());
    if let Some(dir) = var("HOOKHOST_CACHE_DIR") {
        return Some(PathBuf::from(dir));
    }
    if let Some(dir) = var("XDG_CACHE_HOME") {
        return Some(PathBuf::from(dir).join("hookhost"));
    }
    var("HOME").map(|home| PathBuf::from(home).join(".cache").join("hookhost"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_table_is_named_by_the_plugin_quoted_only_where_toml_needs_it() {
        assert_eq!(grant_table("greeter"), "[grants.greeter]");
        assert_eq!(grant_table("20-greeter"), "[grants.20-greeter]");
        assert_eq!(grant_table("*"), "[grants.\"*\"]");
        assert_eq!(grant_table("a b"), "[grants.\"a b\"]");
    }

    #[test]
    fn flags_that_can_never_match_are_taken_away_with_a_problem_each() {
        let flags = GrantFlags {
            allow_write: vec!["/etc".into(), "files".into()],
            allow_net: vec!["pypi.org:99999".into()],
            deny_env: vec!["ADMIN_*".into()],
            ..GrantFlags::default()
        };
        let (kept, problems) = flags.checked();
        assert_eq!(kept.allow_write, ["files"]);
        assert!(kept.allow_net.is_empty());
        assert_eq!(kept.deny_env, ["ADMIN_*"]);
        let text = problems.to_string();
        assert_eq!(problems.0.len(), 2, "{text}");
        assert!(text.starts_with("--allow-write=/etc: "), "{text}");
        assert!(text.contains("\n--allow-net=pypi.org:99999: "), "{text}");
    }
}
