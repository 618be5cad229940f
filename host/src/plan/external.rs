//! External plugins, DevStack's later mechanism: `enable_plugin NAME URL
//! [REF]` in local.conf's `[[local|localrc]]`.
//!
//! Before the first phase each plugin is fetched with `git clone` (at REF,
//! else the repository's default branch) into `$DEST/NAME`, unless that
//! checkout already exists (it is then used as it is, as DevStack does
//! without `RECLONE`). URL may be a local path, relative to the stack. A
//! plugin repository holds, under `devstack/`:
//!
//! | file | what hookhost does with it |
//! |---|---|
//! | `settings` | sourced in the `source` phase (bash plugins) |
//! | `override-defaults` | sourced in `override_defaults`, which then runs for the whole stack |
//! | `plugin.sh` | sourced with DevStack's arguments in every other phase |
//! | `plugin.wasm` + `plugin.toml` | a component sandboxed like an extras.d WASM hook, granted by NAME |
//!
//! Plugins run after the extras.d hooks at each phase, in the order they
//! were enabled. Everything that can refuse them is checked here, before
//! anything runs: a name enabled twice, a name that cannot be a directory,
//! a failed fetch, a repository that is not a DevStack plugin (no
//! `plugin.sh`, `plugin.wasm` or `settings`; or both kinds),
//! `plugin_requires NAME OTHER` in settings naming a plugin local.conf does
//! not enable, and content that differs from `hookhost.lock`
//! ([`crate::config::lockfile`]).
//!
//! A WASM plugin is untrusted, so its `settings` and `override-defaults`
//! (plain shell in DevStack) are read with local.conf's parser, never run:
//! assignments and `enable_service`/`disable_service` lines only (plus
//! `define_plugin`/`plugin_requires`), each variable within the plugin's
//! `vars-write` grant. They are applied to the variable space when their
//! phase comes, before the component's own call.

use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{bail, Context};
use sha2::{Digest, Sha256};

use crate::bash::Outcome;
use crate::config::localconf::{self, Line, Op, Plugin};
use crate::config::lockfile::{Lock, LockedPlugin, LOCK_FILE};
use crate::config::stack::Stack;
use crate::model::phases::Phase;
use crate::plan::discovery::{HookFile, HookKind};
use crate::plan::PlannedHook;
use crate::run::space::{describe, Space};

/// The files of `devstack/` hookhost uses, in lock-file order.
const FILES: [&str; 5] = [
    "devstack/settings",
    "devstack/override-defaults",
    "devstack/plugin.sh",
    "devstack/plugin.wasm",
    "devstack/plugin.toml",
];

/// One fetched plugin, ready to run.
#[derive(Debug, Clone)]
pub struct ExternalPlugin {
    pub name: String,
    pub url: String,
    pub git_ref: Option<String>,
    /// The local.conf line of its `enable_plugin`.
    pub line: usize,
    /// `$DEST/NAME`.
    pub dir: PathBuf,
    pub settings: Option<PathBuf>,
    pub override_defaults: Option<PathBuf>,
    pub plugin_sh: Option<PathBuf>,
    /// A WASM plugin's `settings` and `override-defaults`, read, not run.
    pub settings_ops: Vec<Line<Op>>,
    pub override_ops: Vec<Line<Op>>,
    /// What the checkout is now (what the lock compares).
    pub state: LockedPlugin,
    /// This run cloned it (else an existing checkout was used as it is).
    pub fetched: bool,
}

/// What the plugins add to a plan.
#[derive(Debug, Clone, Default)]
pub struct PluginPlan {
    /// One hook per plugin, in the order they were enabled.
    pub hooks: Vec<PlannedHook>,
    /// Session variables: `DEVSTACK_PLUGINS` and the table helpers.sh turns
    /// into `GITREPO`, `GITBRANCH` and `GITDIR`.
    pub vars: Vec<(String, String)>,
    /// What happened to the lock file, for the operator.
    pub notes: Vec<String>,
    /// A plugin has `devstack/override-defaults`: run that phase.
    pub override_defaults: bool,
}

/// A plugin local.conf enables, as `hookhost list` shows it: nothing is
/// fetched or checked.
#[derive(Debug, Clone)]
pub struct EnabledPlugin {
    pub name: String,
    pub url: String,
    pub git_ref: Option<String>,
    /// The local.conf line of its `enable_plugin`.
    pub line: usize,
    /// `$DEST/NAME`.
    pub dir: PathBuf,
    /// `dir` exists (a run fetches it otherwise).
    pub checked_out: bool,
    /// What its checkout runs: `devstack/plugin.wasm`, `devstack/plugin.sh`
    /// or, for a plugin of settings only, `devstack/settings`; None when
    /// it has none of them (a run refuses it) or is not checked out.
    pub entry: Option<&'static str>,
}

/// The plugins local.conf enables, in order, with their words expanded, as
/// they are now on disk (a run fetches what is missing).
pub fn enabled_plugins(stack: &Stack) -> anyhow::Result<Vec<EnabledPlugin>> {
    let Some(conf) = &stack.local_conf else {
        return Ok(Vec::new());
    };
    let specs = specs(stack, &conf.path, &conf.plugins())?;
    let enabled = specs.into_iter().map(|spec| {
        let dir = stack.dest.join(&spec.name);
        let entry = [
            "devstack/plugin.wasm",
            "devstack/plugin.sh",
            "devstack/settings",
        ]
        .into_iter()
        .find(|file| dir.join(file).is_file());
        EnabledPlugin {
            name: spec.name,
            url: spec.url,
            git_ref: spec.git_ref,
            line: spec.line,
            checked_out: dir.is_dir(),
            dir,
            entry,
        }
    });
    Ok(enabled.collect())
}

/// An `enable_plugin` line with its words expanded.
struct Spec {
    name: String,
    url: String,
    git_ref: Option<String>,
    line: usize,
}

/// Fetch, check and lock every plugin local.conf enables; everything wrong
/// is reported together. `update_lock` accepts changed content.
pub fn plan_plugins(stack: &Stack, update_lock: bool) -> anyhow::Result<PluginPlan> {
    let Some(conf) = &stack.local_conf else {
        return Ok(PluginPlan::default());
    };
    let enabled = conf.plugins();
    if enabled.is_empty() {
        return Ok(PluginPlan::default());
    }
    let specs = specs(stack, &conf.path, &enabled)?;
    let lock_path = stack.top.join(LOCK_FILE);
    let lock = Lock::load(&lock_path)?;
    std::fs::create_dir_all(&stack.dest)
        .with_context(|| format!("cannot create DEST {}", stack.dest.display()))?;
    let mut errors = Vec::new();
    let mut plugins = Vec::new();
    for spec in &specs {
        let locked = lock.plugins.get(&spec.name).filter(|_| !update_lock);
        match prepare(stack, spec, locked) {
            Ok(plugin) => plugins.push(plugin),
            Err(e) => errors.push(format!("{e:#}")),
        }
    }
    if !errors.is_empty() {
        bail!("{}", errors.join("\n"));
    }
    let mut plan = PluginPlan::default();
    check_lock(&lock, &plugins, update_lock, &mut plan.notes, &mut errors);
    check_requires(&plugins, &mut errors);
    for plugin in plugins {
        match plan_hook(stack, plugin) {
            Ok(hook) => plan.hooks.push(hook),
            Err(e) => errors.push(format!("{e:#}")),
        }
    }
    if !errors.is_empty() {
        bail!("{}", errors.join("\n"));
    }
    write_lock(&lock_path, &plan.hooks)?;
    plan.override_defaults = plan
        .hooks
        .iter()
        .filter_map(|h| h.external.as_ref())
        .any(|p| p.override_defaults.is_some());
    plan.vars = session_vars(&plan.hooks);
    Ok(plan)
}

/// Names checked and unique, URL and REF expanded (from localrc's final
/// values, then the environment; `GIT_BASE` defaults to DevStack's).
fn specs(stack: &Stack, conf: &Path, enabled: &[Plugin]) -> anyhow::Result<Vec<Spec>> {
    let conf = conf.display();
    let mut errors = Vec::new();
    let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
    let mut specs = Vec::new();
    for plugin in enabled {
        let at = format!("{conf}:{}: enable_plugin {}", plugin.line, plugin.name);
        if let Some(first) = seen.get(plugin.name.as_str()) {
            errors.push(format!(
                "{at}: already enabled at line {first} — enable a plugin once"
            ));
            continue;
        }
        seen.insert(&plugin.name, plugin.line);
        if !is_plugin_name(&plugin.name) {
            errors.push(format!(
                "{at}: a plugin name may use only ASCII letters, digits, `_`, `-` and `.`, \
                 and not start with `.` or `-` (it becomes the directory $DEST/NAME)"
            ));
            continue;
        }
        let url = plugin.url.expand(|v| lookup(stack, v));
        let git_ref = plugin
            .git_ref
            .as_ref()
            .map(|r| r.expand(|v| lookup(stack, v)));
        if url.is_empty() {
            errors.push(format!("{at}: the URL `{}` expands to nothing", plugin.url));
            continue;
        }
        if let Some(r) = git_ref
            .as_ref()
            .filter(|r| r.is_empty() || r.starts_with('-'))
        {
            errors.push(format!("{at}: `{r}` is not a git branch, tag or commit"));
            continue;
        }
        specs.push(Spec {
            name: plugin.name.clone(),
            url,
            git_ref,
            line: plugin.line,
        });
    }
    match errors.is_empty() {
        true => Ok(specs),
        false => bail!("{}", errors.join("\n")),
    }
}

fn is_plugin_name(name: &str) -> bool {
    let ok = |c: char| c.is_ascii_alphanumeric() || "_-.".contains(c);
    !name.is_empty() && !name.starts_with(['.', '-']) && name.chars().all(ok)
}

fn lookup(stack: &Stack, name: &str) -> String {
    let set = stack.vars.iter().rev().find(|(n, _)| n == name);
    match set {
        Some((_, value)) => value.clone(),
        None => std::env::var(name).unwrap_or_else(|_| match name {
            "GIT_BASE" => "https://opendev.org".to_string(),
            _ => String::new(),
        }),
    }
}

/// Fetch one plugin if needed and read what it is.
fn prepare(
    stack: &Stack,
    spec: &Spec,
    locked: Option<&LockedPlugin>,
) -> anyhow::Result<ExternalPlugin> {
    let dir = stack.dest.join(&spec.name);
    let fetched = fetch(stack, spec, &dir, locked)?;
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
fn fetch(
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

/// Compare every plugin with its lock entry: new ones are recorded, changed
/// ones refused (or accepted with `update_lock`).
fn check_lock(
    lock: &Lock,
    plugins: &[ExternalPlugin],
    update_lock: bool,
    notes: &mut Vec<String>,
    errors: &mut Vec<String>,
) {
    for plugin in plugins {
        let name = &plugin.name;
        let Some(old) = lock.plugins.get(name) else {
            notes.push(format!(
                "{LOCK_FILE}: recorded plugin {name} at {}",
                plugin.state.describe()
            ));
            continue;
        };
        if !plugin.fetched && (&old.url, &old.git_ref) != (&plugin.url, &plugin.git_ref) {
            notes.push(format!(
                "plugin {name}: local.conf now names {} {}, but the checkout {} is used as it is \
                 ({}); remove it to fetch again",
                plugin.url,
                plugin.git_ref.as_deref().unwrap_or("(default branch)"),
                plugin.dir.display(),
                plugin.state.describe()
            ));
        }
        let changes = old.changes(&plugin.state);
        if changes.is_empty() {
            continue;
        }
        if update_lock {
            notes.push(format!(
                "{LOCK_FILE}: accepted plugin {name} at {} ({})",
                plugin.state.describe(),
                changes.join(", ")
            ));
            continue;
        }
        errors.push(format!(
            "plugin {name} ({}): its content changed since {LOCK_FILE} recorded it: {} — review \
             the change, then accept it with --update-lock",
            plugin.dir.display(),
            changes.join(", ")
        ));
    }
}

/// Write the lock with exactly the enabled plugins (entries of plugins no
/// longer enabled are dropped).
fn write_lock(path: &Path, hooks: &[PlannedHook]) -> anyhow::Result<()> {
    let mut lock = Lock {
        version: 1,
        ..Lock::default()
    };
    for plugin in hooks.iter().filter_map(|h| h.external.as_ref()) {
        lock.plugins
            .insert(plugin.name.clone(), plugin.state.clone());
    }
    lock.save(path)
}

/// `plugin_requires NAME OTHER` lines of every plugin's settings: OTHER
/// must be enabled too (DevStack never checked). A line whose words are
/// not literal is left to the helper at run time.
fn check_requires(plugins: &[ExternalPlugin], errors: &mut Vec<String>) {
    let names: Vec<&str> = plugins.iter().map(|p| p.name.as_str()).collect();
    for plugin in plugins {
        let Some(settings) = &plugin.settings else {
            continue;
        };
        let text = std::fs::read_to_string(settings).unwrap_or_default();
        for (line, words) in requires_lines(&text) {
            let [who, other] = words.as_slice() else {
                errors.push(format!(
                    "{}:{line}: plugin_requires takes NAME OTHER (the plugin, then the plugin \
                     it requires)",
                    settings.display()
                ));
                continue;
            };
            if other.contains('$') || names.contains(&other.as_str()) {
                continue;
            }
            errors.push(format!(
                "{}:{line}: plugin {who} requires plugin {other}, which local.conf does not \
                 enable — add `enable_plugin {other} URL` to [[local|localrc]]",
                settings.display()
            ));
        }
    }
}

/// The `plugin_requires` lines of a settings file: (line, arguments with
/// quotes removed).
fn requires_lines(text: &str) -> Vec<(usize, Vec<String>)> {
    let mut out = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let code = raw.split(" #").next().unwrap_or_default();
        let mut words = code.split_whitespace();
        if words.next() != Some("plugin_requires") {
            continue;
        }
        let args = words.map(|w| w.trim_matches(['"', '\'']).to_string());
        out.push((i + 1, args.collect()));
    }
    out
}

/// The plan entry of one plugin: a hook named NAME after every extras.d
/// hook, planned like one (its manifest, grants and data directory by
/// NAME).
fn plan_hook(stack: &Stack, mut plugin: ExternalPlugin) -> anyhow::Result<PlannedHook> {
    let devstack = plugin.dir.join("devstack");
    let wasm = Some(devstack.join("plugin.wasm")).filter(|p| p.is_file());
    let kind = match (&plugin.plugin_sh, &wasm) {
        (Some(_), Some(_)) => bail!(
            "plugin {}: {} has both plugin.sh and plugin.wasm; a plugin is one or the other",
            plugin.name,
            devstack.display()
        ),
        (None, Some(_)) => HookKind::Wasm,
        _ => HookKind::Bash,
    };
    let path = wasm
        .or_else(|| plugin.plugin_sh.clone())
        .or_else(|| plugin.settings.clone());
    let Some(path) = path else {
        bail!(
            "plugin {}: {} has no devstack/plugin.sh, devstack/plugin.wasm or devstack/settings \
             — is {} a DevStack plugin?",
            plugin.name,
            plugin.dir.display(),
            plugin.url
        );
    };
    let manifest = Some(devstack.join("plugin.toml")).filter(|p| p.is_file());
    let file = HookFile {
        number: 0,
        name: plugin.name.clone(),
        stem: plugin.name.clone(),
        kind,
        path,
        manifest,
    };
    let mut hook = crate::plan::plan_hook(stack, file)?;
    if kind == HookKind::Wasm {
        read_wasm_settings(&mut plugin, &hook)?;
    }
    hook.external = Some(Box::new(plugin));
    Ok(hook)
}

/// A WASM plugin's settings and override-defaults, parsed and checked
/// against what it may write.
fn read_wasm_settings(plugin: &mut ExternalPlugin, hook: &PlannedHook) -> anyhow::Result<()> {
    let policy = hook.policy.clone().unwrap_or_default();
    let mut errors = Vec::new();
    for (file, ops) in [
        (&plugin.settings, &mut plugin.settings_ops),
        (&plugin.override_defaults, &mut plugin.override_ops),
    ] {
        let Some(file) = file else { continue };
        let text = std::fs::read_to_string(file)
            .with_context(|| format!("{}: cannot read", file.display()))?;
        match localconf::parse_statements(file, &without_plugin_lines(&text)) {
            Ok(parsed) => *ops = parsed,
            Err(e) => {
                for line in e.errors {
                    errors.push(format!(
                        "{line} (a WASM plugin's settings are read, never run)"
                    ));
                }
                continue;
            }
        }
        for op in ops.iter() {
            if let Some(var) = written_var(&op.value).filter(|v| !policy.may_write_var(v)) {
                errors.push(format!(
                    "{}:{}: sets {var}, which plugin {} may not write — request it in \
                     devstack/plugin.toml (vars-write) and grant it under [grants.{}] in \
                     hookhost.toml",
                    file.display(),
                    op.line,
                    plugin.name,
                    plugin.name
                ));
            }
        }
    }
    match errors.is_empty() {
        true => Ok(()),
        false => bail!("{}", errors.join("\n")),
    }
}

/// Settings text with its `define_plugin`/`plugin_requires` lines blanked
/// (line numbers kept): they are checked elsewhere, not assignments.
fn without_plugin_lines(text: &str) -> String {
    let keep = |line: &str| {
        let first = line.split_whitespace().next();
        !matches!(first, Some("define_plugin" | "plugin_requires"))
    };
    let lines: Vec<&str> = text.lines().map(|l| if keep(l) { l } else { "" }).collect();
    lines.join("\n")
}

/// The variable a settings statement writes.
fn written_var(op: &Op) -> Option<&str> {
    match op {
        Op::Set { name, .. } => Some(name),
        Op::EnableService(_) | Op::DisableService(_) | Op::DisableAllServices => {
            Some(localconf::SERVICES)
        }
        Op::EnablePlugin { .. } => Some("DEVSTACK_PLUGINS"),
    }
}

/// `DEVSTACK_PLUGINS` (DevStack's own list) and the table helpers.sh turns
/// into `GITREPO[NAME]`, `GITBRANCH[NAME]` and `GITDIR[NAME]`.
fn session_vars(hooks: &[PlannedHook]) -> Vec<(String, String)> {
    let plugins: Vec<&ExternalPlugin> =
        hooks.iter().filter_map(|h| h.external.as_deref()).collect();
    let names: Vec<&str> = plugins.iter().map(|p| p.name.as_str()).collect();
    let table: Vec<String> = plugins
        .iter()
        .map(|p| {
            format!(
                "{}\u{1f}{}\u{1f}{}\u{1f}{}",
                p.name,
                p.url.replace(['\u{1f}', '\n'], " "),
                p.git_ref.as_deref().unwrap_or_default(),
                p.dir.display()
            )
        })
        .collect();
    vec![
        ("DEVSTACK_PLUGINS".to_string(), names.join(",")),
        ("__hh_plugin_table".to_string(), table.join("\n")),
    ]
}

impl ExternalPlugin {
    /// What a bash plugin sources in `phase`, with which arguments: its
    /// settings in `source`, its override-defaults in `override_defaults`
    /// (both with no arguments, as DevStack's `load_plugin_settings` does),
    /// plugin.sh with DevStack's arguments otherwise. `None`: nothing to do.
    pub fn bash_step(&self, phase: Phase) -> Option<(&Path, Vec<&'static str>)> {
        match phase {
            Phase::Source => self.settings.as_deref().map(|p| (p, Vec::new())),
            Phase::OverrideDefaults => self.override_defaults.as_deref().map(|p| (p, Vec::new())),
            _ => self.plugin_sh.as_deref().map(|p| (p, phase.args())),
        }
    }

    /// The statements a WASM plugin's files apply before its call in
    /// `phase` (settings in `source`, override-defaults in `override_defaults`).
    pub fn wasm_ops(&self, phase: Phase) -> &[Line<Op>] {
        match phase {
            Phase::Source => &self.settings_ops,
            Phase::OverrideDefaults => &self.override_ops,
            _ => &[],
        }
    }
}

/// Apply a WASM plugin's settings statements to the variable space, as
/// sourcing them would: `$NAME` expands from the space at that moment.
pub fn apply_ops(space: &mut Space, ops: &[Line<Op>]) -> Result<(), String> {
    for op in ops {
        apply_op(space, &op.value).map_err(|e| format!("settings line {}: {e:#}", op.line))?;
    }
    Ok(())
}

fn apply_op(space: &mut Space, op: &Op) -> anyhow::Result<()> {
    let session = space.session();
    let (function, args): (&str, Vec<&str>) = match op {
        Op::Set {
            name,
            value,
            append,
            ..
        } => {
            let mut text = match append {
                true => session.get_var(name)?.unwrap_or_default(),
                false => String::new(),
            };
            let mut failed = None;
            text.push_str(&value.expand(|var| match session.get_var(var) {
                Ok(v) => v.unwrap_or_default(),
                Err(e) => {
                    failed = Some(e);
                    String::new()
                }
            }));
            if let Some(e) = failed {
                return Err(e);
            }
            return session.set_var(name, &text);
        }
        Op::EnableService(names) => ("enable_service", names.iter().map(String::as_str).collect()),
        Op::DisableService(names) => (
            "disable_service",
            names.iter().map(String::as_str).collect(),
        ),
        Op::DisableAllServices => ("disable_all_services", Vec::new()),
        Op::EnablePlugin { .. } => bail!("enable_plugin belongs in local.conf"),
    };
    let mut ignore = |_: crate::bash::Stream, _: &str| {};
    match session.ask(function, &args, &mut ignore)? {
        Outcome::Success => Ok(()),
        other => bail!("{function} {}", describe(&other)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plugin_names_are_directory_names() {
        for ok in ["heat", "networking-ovn", "a.b", "x_1"] {
            assert!(is_plugin_name(ok), "{ok}");
        }
        for bad in ["", ".", "..", ".x", "-x", "a b", "a$b", "é"] {
            assert!(!is_plugin_name(bad), "{bad}");
        }
    }

    #[test]
    fn requires_lines_are_found_with_their_numbers() {
        let text = "define_plugin b\n# plugin_requires b x\nplugin_requires b a\n  plugin_requires \"b\" 'c' # why\nplugin_requires b\n";
        assert_eq!(
            requires_lines(text),
            [
                (3, vec!["b".to_string(), "a".to_string()]),
                (4, vec!["b".to_string(), "c".to_string()]),
                (5, vec!["b".to_string()]),
            ]
        );
    }

    #[test]
    fn plugin_lines_are_blanked_keeping_numbers() {
        assert_eq!(
            without_plugin_lines("define_plugin x\nA=1\nplugin_requires x y\nB=2"),
            "\nA=1\n\nB=2"
        );
    }
}
