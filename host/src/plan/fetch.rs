//! The one step of a run that changes the world before planning: external
//! plugins (`enable_plugin` in local.conf) are cloned into `$DEST/NAME`
//! when no checkout is there, and what each checkout is now is read
//! (commit, uncommitted changes, file digests). After planning,
//! `hookhost.lock` is written with what the plan accepted. Planning itself
//! ([`crate::plan::make_plan`]) only checks what this step found.
//!
//! `stack`, `unstack`, `clean` and `plan` take this step; `list` does not
//! (it shows the plugins as they are on disk). A dry run takes it as
//! [`preview_plugins`]: it changes nothing outside the stack's `.hookhost/`
//! and uses no network, so a plugin not checked out yet is cloned into
//! `.hookhost/dry-run-plugins/NAME` when its source is a local path or a
//! `file://` URL, and is a problem otherwise (there is nothing to read its
//! hooks from); the lock is left as it is.

use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::path::{Path, PathBuf};
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

/// Where the fetch step may clone a plugin that has no checkout yet.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Into `$DEST/NAME`, from wherever its URL points.
    Fetch,
    /// Into the stack's `.hookhost/dry-run-plugins/NAME`, from a local
    /// source only.
    DryRun,
}

/// Fetch every plugin local.conf enables that has no checkout yet, and
/// read what each is; every problem is collected for planning to report.
/// `update_lock`: a fresh clone takes REF, not the commit the lock records.
pub fn fetch_plugins(stack: &Stack, update_lock: bool) -> Fetched {
    fetch_with(stack, update_lock, Mode::Fetch)
}

/// The fetch step of a dry run: plugins already checked out are read where
/// they are; one that is not is cloned into the stack's `.hookhost/` from
/// a local source, never from the network (see the module's doc).
pub fn preview_plugins(stack: &Stack) -> Fetched {
    fetch_with(stack, false, Mode::DryRun)
}

fn fetch_with(stack: &Stack, update_lock: bool, mode: Mode) -> Fetched {
    let Some(conf) = &stack.local_conf else {
        return Fetched::default();
    };
    let enabled = conf.plugins();
    if enabled.is_empty() {
        return Fetched::default();
    }
    let specs = specs(stack, &conf.path, &enabled);
    match specs.and_then(|specs: Vec<Spec>| fetch_all(stack, &specs, update_lock, mode)) {
        Ok((plugins, lock)) => Fetched {
            plugins: Some(Ok(plugins)),
            lock,
            preview: mode == Mode::DryRun,
        },
        Err(problems) => Fetched {
            plugins: Some(Err(problems)),
            lock: Lock::default(),
            preview: mode == Mode::DryRun,
        },
    }
}

/// The lock as it was, and each plugin checked out.
fn fetch_all(
    stack: &Stack,
    specs: &[Spec],
    update_lock: bool,
    mode: Mode,
) -> Result<(Vec<ExternalPlugin>, Lock), Problems> {
    let lock = Lock::load(&stack.top.join(LOCK_FILE))?;
    if mode == Mode::Fetch {
        std::fs::create_dir_all(&stack.dest)
            .with_context(|| format!("cannot create DEST {}", stack.dest.display()))?;
    }
    let mut problems = Problems::new();
    let mut plugins = Vec::new();
    for spec in specs {
        let locked = lock.plugins.get(&spec.name).filter(|_| !update_lock);
        match prepare(stack, spec, locked, mode) {
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
    mode: Mode,
) -> anyhow::Result<ExternalPlugin> {
    let dir = checkout_dir(stack, spec, mode)?;
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

/// Where the plugin's checkout is, or is to be cloned.
fn checkout_dir(stack: &Stack, spec: &Spec, mode: Mode) -> anyhow::Result<PathBuf> {
    let dest = stack.dest.join(&spec.name);
    if mode == Mode::Fetch || dest.exists() {
        return Ok(dest);
    }
    if !is_local(&spec.url) {
        bail!(
            "plugin {}: not fetched yet, and a dry run uses no network — run `hookhost plan` \
             first (it fetches {} into {}), or enable the plugin from a local path",
            spec.name,
            spec.url,
            dest.display()
        );
    }
    let scratch = stack.state_dir.join("dry-run-plugins");
    std::fs::create_dir_all(&scratch)
        .with_context(|| format!("cannot create {}", scratch.display()))?;
    Ok(scratch.join(&spec.name))
}

/// A source git reads without the network: a path or a `file://` URL.
fn is_local(url: &str) -> bool {
    url.starts_with('/')
        || url.starts_with("./")
        || url.starts_with("../")
        || url.starts_with("file://")
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
    let parent = dir.parent().unwrap_or(&stack.dest);
    let tmp = parent.join(format!(".{name}.hookhost-fetch"));
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
