//! External plugins, DevStack's later mechanism: `enable_plugin NAME URL
//! [REF]` in local.conf's `[[local|localrc]]`.
//!
//! Before planning each plugin is fetched with `git clone` (at REF, else
//! the repository's default branch) into `$DEST/NAME`, unless that
//! checkout already exists (it is then used as it is, as DevStack does
//! without `RECLONE`): that step is [`crate::plan::fetch`], the only one
//! here that writes. URL may be a local path, relative to the stack. A
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
//! were enabled. Everything that can refuse them is checked here (from
//! what the fetch step found), before
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
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};

use crate::config::localconf::{self, Line, Op, Plugin};
use crate::config::lockfile::{Lock, LockedPlugin, LOCK_FILE};
use crate::config::stack::Stack;
use crate::model::hooks::{HookFile, HookKind};
use crate::model::phases::Phase;
use crate::model::problems::{Problem, Problems};
use crate::plan::hook::{plan_hook as plan_file, PlannedHook};

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
    /// The lock file with exactly the enabled plugins as they are now
    /// (entries of plugins no longer enabled are dropped).
    pub lock: Option<Lock>,
}

/// What the fetch step ([`crate::plan::fetch`]) found of the plugins
/// local.conf enables, for planning to check.
#[derive(Debug, Clone, Default)]
pub struct Fetched {
    /// None when local.conf enables no plugin; else each plugin checked
    /// out, or every problem fetching them.
    pub(crate) plugins: Option<Result<Vec<ExternalPlugin>, Problems>>,
    /// `hookhost.lock` as it was before this run.
    pub(crate) lock: Lock,
    /// Fetched for a dry run: the lock will not be written.
    pub(crate) preview: bool,
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
pub fn enabled_plugins(stack: &Stack) -> Result<Vec<EnabledPlugin>, Problems> {
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
pub(crate) struct Spec {
    pub(crate) name: String,
    pub(crate) url: String,
    pub(crate) git_ref: Option<String>,
    pub(crate) line: usize,
}

/// Check and lock every plugin the fetch step found; everything wrong is
/// reported together. `update_lock` accepts changed content.
pub fn plan_plugins(
    stack: &Stack,
    fetched: &Fetched,
    update_lock: bool,
) -> Result<PluginPlan, Problems> {
    let plugins = match &fetched.plugins {
        None => return Ok(PluginPlan::default()),
        Some(Err(problems)) => return Err(problems.clone()),
        Some(Ok(plugins)) => plugins.clone(),
    };
    let mut problems = Problems::new();
    let mut plan = PluginPlan::default();
    check_lock(
        fetched,
        &plugins,
        update_lock,
        &mut plan.notes,
        &mut problems,
    );
    check_requires(&plugins, &mut problems);
    for plugin in plugins {
        match plan_hook(stack, plugin) {
            Ok(hook) => plan.hooks.push(hook),
            Err(e) => problems.push_error(&e),
        }
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    plan.lock = Some(new_lock(&plan.hooks));
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
pub(crate) fn specs(stack: &Stack, conf: &Path, enabled: &[Plugin]) -> Result<Vec<Spec>, Problems> {
    let mut problems = Problems::new();
    let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
    let mut specs = Vec::new();
    for plugin in enabled {
        let at = |message: String| {
            let message = format!("enable_plugin {}: {message}", plugin.name);
            Problem::at(conf, Some(plugin.line), message)
        };
        if let Some(first) = seen.get(plugin.name.as_str()) {
            problems.push(
                at(format!("already enabled at line {first}")).advise("enable a plugin once"),
            );
            continue;
        }
        seen.insert(&plugin.name, plugin.line);
        if !is_plugin_name(&plugin.name) {
            problems.push(at(
                "a plugin name may use only ASCII letters, digits, `_`, `-` and `.`, \
                 and not start with `.` or `-` (it becomes the directory $DEST/NAME)"
                    .to_string(),
            ));
            continue;
        }
        let url = plugin.url.expand(|v| lookup(stack, v));
        let git_ref = plugin
            .git_ref
            .as_ref()
            .map(|r| r.expand(|v| lookup(stack, v)));
        if url.is_empty() {
            problems.push(at(format!("the URL `{}` expands to nothing", plugin.url)));
            continue;
        }
        if let Some(r) = git_ref
            .as_ref()
            .filter(|r| r.is_empty() || r.starts_with('-'))
        {
            problems.push(at(format!("`{r}` is not a git branch, tag or commit")));
            continue;
        }
        specs.push(Spec {
            name: plugin.name.clone(),
            url,
            git_ref,
            line: plugin.line,
        });
    }
    problems.or_ok(specs)
}

fn is_plugin_name(name: &str) -> bool {
    let ok = |c: char| c.is_ascii_alphanumeric() || "_-.".contains(c);
    !name.is_empty() && !name.starts_with(['.', '-']) && name.chars().all(ok)
}

fn lookup(stack: &Stack, name: &str) -> String {
    let set = stack.vars.iter().rev().find(|(n, _)| n == name);
    match set {
        Some((_, value)) => value.clone(),
        None => stack.env.get(name).cloned().unwrap_or_else(|| match name {
            "GIT_BASE" => "https://opendev.org".to_string(),
            _ => String::new(),
        }),
    }
}

/// Compare every plugin with its lock entry: new ones are recorded, changed
/// ones refused (or accepted with `update_lock`).
fn check_lock(
    fetched: &Fetched,
    plugins: &[ExternalPlugin],
    update_lock: bool,
    notes: &mut Vec<String>,
    problems: &mut Problems,
) {
    let lock = &fetched.lock;
    let record = match fetched.preview {
        true => "would record (not in a dry run)",
        false => "recorded",
    };
    for plugin in plugins {
        let name = &plugin.name;
        let Some(old) = lock.plugins.get(name) else {
            notes.push(format!(
                "{LOCK_FILE}: {record} plugin {name} at {}",
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
        let message = format!(
            "plugin {name} ({}): its content changed since {LOCK_FILE} recorded it: {}",
            plugin.dir.display(),
            changes.join(", ")
        );
        problems.push(
            Problem::new(message).advise("review the change, then accept it with --update-lock"),
        );
    }
}

/// The lock with exactly the enabled plugins (entries of plugins no
/// longer enabled are dropped).
fn new_lock(hooks: &[PlannedHook]) -> Lock {
    let mut lock = Lock {
        version: 1,
        ..Lock::default()
    };
    for plugin in hooks.iter().filter_map(|h| h.external.as_ref()) {
        lock.plugins
            .insert(plugin.name.clone(), plugin.state.clone());
    }
    lock
}

/// `plugin_requires NAME OTHER` lines of every plugin's settings: OTHER
/// must be enabled too (DevStack never checked). A line whose words are
/// not literal is left to the helper at run time.
fn check_requires(plugins: &[ExternalPlugin], problems: &mut Problems) {
    let names: Vec<&str> = plugins.iter().map(|p| p.name.as_str()).collect();
    for plugin in plugins {
        let Some(settings) = &plugin.settings else {
            continue;
        };
        let text = std::fs::read_to_string(settings).unwrap_or_default();
        for (line, words) in requires_lines(&text) {
            let [who, other] = words.as_slice() else {
                problems.push(Problem::at(
                    settings,
                    Some(line),
                    "plugin_requires takes NAME OTHER (the plugin, then the plugin it requires)",
                ));
                continue;
            };
            if other.contains('$') || names.contains(&other.as_str()) {
                continue;
            }
            let message =
                format!("plugin {who} requires plugin {other}, which local.conf does not enable");
            problems.push(Problem::at(settings, Some(line), message).advise(format!(
                "add `enable_plugin {other} URL` to [[local|localrc]]"
            )));
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
    let mut hook = plan_file(stack, file)?;
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
    let mut problems = Problems::new();
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
                for mut problem in e.0 {
                    let why = " (a WASM plugin's settings are read, never run)";
                    match &mut problem.advice {
                        Some(advice) => advice.push_str(why),
                        None => problem.message.push_str(why),
                    }
                    problems.push(problem);
                }
                continue;
            }
        }
        for op in ops.iter() {
            if let Some(var) = written_var(&op.value).filter(|v| !policy.may_write_var(v)) {
                let name = &plugin.name;
                let message = format!("sets {var}, which plugin {name} may not write");
                problems.push(Problem::at(file, Some(op.line), message).advise(format!(
                    "request it in devstack/plugin.toml (vars-write) and grant it under \
                     [grants.{name}] in hookhost.toml"
                )));
            }
        }
    }
    problems.or_ok(()).map_err(anyhow::Error::new)
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
