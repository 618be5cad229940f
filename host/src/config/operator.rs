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
//! [grants."50-template"]     # one plugin, by stem (or by name: "template")
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

    pub(crate) fn validate(&self, path: &Path) -> anyhow::Result<()> {
        for (who, set) in self
            .grants
            .iter()
            .chain([(&"[deny]".to_string(), &self.deny)])
        {
            let who = manifest::escape_controls(who);
            if let Some(m) = &set.memory {
                manifest::parse_size(m).map_err(|e| {
                    let e = manifest::escape_controls(&e.to_string());
                    anyhow::anyhow!("{}: grants for {who}: memory: {e}", path.display())
                })?;
            }
            if let Some(t) = &set.timeout {
                manifest::parse_duration(t).map_err(|e| {
                    let e = manifest::escape_controls(&e.to_string());
                    anyhow::anyhow!("{}: grants for {who}: timeout: {e}", path.display())
                })?;
            }
        }
        Ok(())
    }

    /// Whether the operator confines the bash hook `hook`.
    pub fn confines(&self, hook: &HookFile) -> bool {
        self.confine
            .iter()
            .any(|c| *c == hook.stem || *c == hook.name)
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
