//! The one step of a run that changes the world before planning: external
//! plugins (`enable_plugin` in local.conf) are cloned into `$DEST/NAME`
//! when no checkout is there, and what each checkout is now is read
//! (commit, uncommitted changes, file digests). After planning,
//! `hookhost.lock` is written with what the plan accepted. Planning itself
//! ([`crate::plan::make_plan`]) only checks what this step found.
//!
//! `stack`, `unstack`, `clean` and `plan` take this step; `list` does not
//! (it shows the plugins as they are on disk).

use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::path::Path;
use std::process::{Command, Stdio};

use anyhow::{bail, Context};
use sha2::{Digest, Sha256};

use crate::config::lockfile::{Lock, LockedPlugin, LOCK_FILE};
use crate::config::stack::Stack;
use crate::model::problems::Problems;
use crate::plan::external::{specs, ExternalPlugin, Fetched, Spec};

/// The files of `devstack/` hookhost uses, in lock-file order.
const FILES: [&str; 5] = [
    "devstack/settings",
    "devstack/override-defaults",
    "devstack/plugin.sh",
    "devstack/plugin.wasm",
    "devstack/plugin.toml",
];

/// Fetch every plugin local.conf enables that has no checkout yet, and
/// read what each is; every problem is collected for planning to report.
/// `update_lock`: a fresh clone takes REF, not the commit the lock records.
pub fn fetch_plugins(stack: &Stack, update_lock: bool) -> Fetched {
    let Some(conf) = &stack.local_conf else {
        return Fetched::default();
    };
    let enabled = conf.plugins();
    if enabled.is_empty() {
        return Fetched::default();
    }
    let specs = specs(stack, &conf.path, &enabled);
    match specs.and_then(|specs: Vec<Spec>| fetch_all(stack, &specs, update_lock)) {
        Ok((plugins, lock)) => Fetched {
            plugins: Some(Ok(plugins)),
            lock,
        },
        Err(problems) => Fetched {
            plugins: Some(Err(problems)),
            lock: Lock::default(),
        },
    }
}

/// The lock as it was, and each plugin checked out.
fn fetch_all(
    stack: &Stack,
    specs: &[Spec],
    update_lock: bool,
) -> Result<(Vec<ExternalPlugin>, Lock), Problems> {
    let lock = Lock::load(&stack.top.join(LOCK_FILE))?;
    std::fs::create_dir_all(&stack.dest)
        .with_context(|| format!("cannot create DEST {}", stack.dest.display()))?;
    let mut problems = Problems::new();
    let mut plugins = Vec::new();
    for spec in specs {
        let locked = lock.plugins.get(&spec.name).filter(|_| !update_lock);
        match prepare(stack, spec, locked) {
            Ok(plugin) => plugins.push(plugin),
            Err(e) => problems.push_error(&e),
        }
    }
    problems.or_ok((plugins, lock))
}

/// Write `hookhost.lock` as planning accepted it (None: leave it alone).
pub fn record_lock(stack: &Stack, lock: Option<&Lock>) -> anyhow::Result<()> {
    match lock {
        Some(lock) => lock.save(&stack.top.join(LOCK_FILE)),
        None => Ok(()),
    }
}

/// Fetch one plugin if needed and read what it is.
fn prepare(
    stack: &Stack,
    spec: &Spec,
    locked: Option<&LockedPlugin>,
) -> anyhow::Result<ExternalPlugin> {
    let dir = stack.dest.join(&spec.name);
    let fetched = clone_once(stack, spec, &dir, locked)?;
    let devstack = dir.join("devstack");
    let file = |name: &str| Some(devstack.join(name)).filter(|p| p.is_file());
    let plugin = ExternalPlugin {
        name: spec.name.clone(),
        url: spec.url.clone(),
        git_ref: spec.git_ref.clone(),
        line: spec.line,
        settings: file("settings"),
        override_defaults: file("override-defaults"),
        plugin_sh: file("plugin.sh"),
        settings_ops: Vec::new(),
        override_ops: Vec::new(),
        state: state(spec, &dir)?,
        fetched,
        dir,
    };
    Ok(plugin)
}

/// Clone the plugin into `dir` unless a checkout is there. A fresh clone of
/// a locked plugin (same URL and REF) checks out the locked commit, so a
/// re-fetch gives what the operator accepted. True when it cloned.
fn clone_once(
    stack: &Stack,
    spec: &Spec,
    dir: &Path,
    locked: Option<&LockedPlugin>,
) -> anyhow::Result<bool> {
    let name = &spec.name;
    if dir.exists() {
        if !dir.join(".git").exists() {
            bail!(
                "plugin {name}: {} exists but is not a git checkout — move it away so hookhost \
                 can fetch {}",
                dir.display(),
                spec.url
            );
        }
        return Ok(false);
    }
    let tmp = stack.dest.join(format!(".{name}.hookhost-fetch"));
    if tmp.exists() {
        std::fs::remove_dir_all(&tmp)
            .with_context(|| format!("cannot remove the unfinished fetch {}", tmp.display()))?;
    }
    let clone = [
        OsStr::new("clone"),
        OsStr::new("--quiet"),
        OsStr::new("--"),
        OsStr::new(&spec.url),
        tmp.as_os_str(),
    ];
    git(&stack.top, &clone).with_context(|| format!("plugin {name}: cannot fetch {}", spec.url))?;
    let pinned = locked.filter(|l| l.url == spec.url && l.git_ref == spec.git_ref);
    let target = match pinned {
        Some(locked) => Some(locked.commit.as_str()),
        None => spec.git_ref.as_deref(),
    };
    if let Some(target) = target {
        let checkout = [
            OsStr::new("-c"),
            OsStr::new("advice.detachedHead=false"),
            OsStr::new("checkout"),
            OsStr::new("--quiet"),
            OsStr::new(target),
        ];
        if let Err(e) = git(&tmp, &checkout) {
            let _ = std::fs::remove_dir_all(&tmp);
            let what = match pinned {
                Some(_) => format!("the commit {target} {LOCK_FILE} records"),
                None => format!("REF {target}"),
            };
            return Err(e).with_context(|| format!("plugin {name}: {} has no {what}", spec.url));
        }
    }
    std::fs::rename(&tmp, dir)
        .with_context(|| format!("cannot move the fetched plugin to {}", dir.display()))?;
    Ok(true)
}

/// Run git in `cwd`, never prompting; its stdout, or its last stderr line
/// as the error.
fn git(cwd: &Path, args: &[&OsStr]) -> anyhow::Result<Vec<u8>> {
    let output = Command::new("git")
        .args(args)
        .current_dir(cwd)
        .env("GIT_TERMINAL_PROMPT", "0")
        .stdin(Stdio::null())
        .output()
        .context("cannot run git (is it installed?)")?;
    if output.status.success() {
        return Ok(output.stdout);
    }
    let stderr = String::from_utf8_lossy(&output.stderr);
    let last = stderr.lines().rev().find(|l| !l.trim().is_empty());
    bail!("git {}", last.unwrap_or("failed").trim())
}

/// The checkout's commit, uncommitted changes and file digests.
fn state(spec: &Spec, dir: &Path) -> anyhow::Result<LockedPlugin> {
    let why = || {
        format!(
            "plugin {}: cannot read the checkout {}",
            spec.name,
            dir.display()
        )
    };
    let head = git(dir, &[OsStr::new("rev-parse"), OsStr::new("HEAD")]).with_context(why)?;
    let diff = [
        OsStr::new("diff"),
        OsStr::new("--no-ext-diff"),
        OsStr::new("--binary"),
        OsStr::new("HEAD"),
    ];
    let diff = git(dir, &diff).with_context(why)?;
    let mut files = BTreeMap::new();
    for name in FILES {
        let path = dir.join(name);
        if path.is_file() {
            let bytes =
                std::fs::read(&path).with_context(|| format!("{}: cannot read", path.display()))?;
            files.insert(name.to_string(), sha256(&bytes));
        }
    }
    Ok(LockedPlugin {
        url: spec.url.clone(),
        git_ref: spec.git_ref.clone(),
        commit: String::from_utf8_lossy(&head).trim().to_string(),
        local_changes: (!diff.is_empty()).then(|| sha256(&diff)),
        files,
    })
}

/// `sha256:<hex>` of some bytes.
pub fn sha256(bytes: &[u8]) -> String {
    format!("sha256:{:x}", Sha256::digest(bytes))
}
