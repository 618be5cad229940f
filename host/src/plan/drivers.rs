//! Hypervisor driver plugins, DevStack's second plugin
//! mechanism: `VIRT_DRIVER=<name>` selects one driver, a bash file
//! `lib/nova_plugins/hypervisor-<name>` or a component
//! `lib/nova_plugins/hypervisor-<name>.wasm`, and the host calls its five
//! functions at fixed points of the run.
//!
//! - **Selection** ([`plan_driver`]): `VIRT_DRIVER` from local.conf's
//!   `[[local|localrc]]`, else from the operator's environment (local.conf
//!   wins, as a localrc assignment overrides the environment in DevStack's
//!   stackrc); unset or empty means no driver. The name is checked, both or
//!   neither file is an error naming the paths looked at, and a manifest
//!   `hypervisor-<name>.toml` beside it is read like a hook's. A WASM driver
//!   gets a policy from the same grants as hooks (`[grants."hypervisor-<name>"]`)
//!   and the private data directory `.hookhost/plugin-data/hypervisor-<name>`.
//! - **Validation before any hook runs** (in the run, `run::driver`): a
//!   component must export the driver interface; a bash file is sourced
//!   into the run's bash session, as DevStack's `lib/nova` sourced it
//!   before the extras.d `source` phase, and must define all five functions.
//! - **Lifecycle** ([`calls_at`]): install then configure before the
//!   `stack install` hooks, start after the `stack post-config` hooks, stop
//!   after the `unstack` hooks, cleanup after the `clean` hooks.

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

use anyhow::bail;

use crate::capabilities::Policy;
use crate::config::localconf::Op;
use crate::config::manifest::{self, Manifest};
use crate::config::stack::Stack;
use crate::model::hooks::{HookFile, HookKind};
use crate::model::names::is_file_name_char;
use crate::model::phases::{Phase, StackStep};
use crate::model::problems::{Problem, Problems};
use crate::model::snippet::Snippet;
use crate::model::suggest;
use crate::plan::hook::PlannedHook;
use crate::wasm::DriverCall;

/// The variable that selects the driver.
pub const VIRT_DRIVER: &str = "VIRT_DRIVER";
/// Where drivers live, relative to the stack (DevStack's `$NOVA_PLUGINS`).
pub const DRIVER_DIR: &str = "lib/nova_plugins";
/// A driver's file name before its name (`hypervisor-fake`).
pub const DRIVER_PREFIX: &str = "hypervisor-";
/// The five functions, in the order a full stack-then-clean calls them.
pub const FUNCTIONS: [DriverCall; 5] = [
    DriverCall::Install,
    DriverCall::Configure,
    DriverCall::Start,
    DriverCall::Stop,
    DriverCall::Cleanup,
];

/// Where the value of `VIRT_DRIVER` came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selector {
    /// local.conf's `[[local|localrc]]`, at this line when known.
    LocalConf { path: PathBuf, line: Option<usize> },
    /// The environment hookhost was started with.
    Environment,
}

impl fmt::Display for Selector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Selector::LocalConf {
                path,
                line: Some(line),
            } => write!(f, "{} line {line}", path.display()),
            Selector::LocalConf { path, line: None } => write!(f, "{}", path.display()),
            Selector::Environment => f.write_str("the environment"),
        }
    }
}

/// The driver of a plan.
#[derive(Debug, Clone)]
pub struct PlannedDriver {
    /// The value of `VIRT_DRIVER` (`fake`).
    pub name: String,
    /// `hypervisor-<name>`: its name in output, timings, failures and grants,
    /// and its private data directory.
    pub plugin: String,
    pub kind: HookKind,
    pub path: PathBuf,
    /// `hypervisor-<name>.toml` beside it, if there is one.
    pub manifest_path: Option<PathBuf>,
    pub manifest: Option<Manifest>,
    /// What a WASM driver may do (a bash driver is trusted: `None`).
    pub policy: Option<Policy>,
    pub selected_by: Selector,
}

/// When a driver call runs, relative to the hooks of its phase.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum At {
    BeforeHooks,
    AfterHooks,
}

/// The driver calls at one point of `phase`, in order (DevStack's stack.sh,
/// unstack.sh and clean.sh). The same in every entry point: `clean` runs the
/// `unstack` phase, so it stops the driver before cleaning it up.
pub fn calls_at(phase: Phase, at: At) -> &'static [DriverCall] {
    match (phase, at) {
        (Phase::Stack(StackStep::Install), At::BeforeHooks) => {
            &[DriverCall::Install, DriverCall::Configure]
        }
        (Phase::Stack(StackStep::PostConfig), At::AfterHooks) => &[DriverCall::Start],
        (Phase::Unstack, At::AfterHooks) => &[DriverCall::Stop],
        (Phase::Clean, At::AfterHooks) => &[DriverCall::Cleanup],
        _ => &[],
    }
}

/// Plan the driver `VIRT_DRIVER` selects, if any. `env` is the value of
/// `VIRT_DRIVER` in the operator's environment; `hooks` are the planned
/// hooks (a WASM hook may not share the driver's name and data directory).
pub fn plan_driver(
    stack: &Stack,
    env: Option<&str>,
    hooks: &[PlannedHook],
) -> anyhow::Result<Option<PlannedDriver>> {
    let Some((name, selected_by)) = selection(stack, env) else {
        return Ok(None);
    };
    check_name(&name, &selected_by)?;
    let plugin = format!("{DRIVER_PREFIX}{name}");
    let dir = stack.top.join(DRIVER_DIR);
    let (kind, path) = find_file(&dir, &plugin, &name, &selected_by)?;
    let manifest_path = dir.join(format!("{plugin}.toml"));
    let manifest_path = match present(&manifest_path)? {
        true => Some(manifest_path),
        false => None,
    };
    let manifest = match &manifest_path {
        Some(path) => Some(manifest::load(path)?),
        None => None,
    };
    let as_hook = HookFile {
        number: 0,
        name: plugin.clone(),
        stem: plugin.clone(),
        kind,
        path: path.clone(),
        manifest: manifest_path.clone(),
    };
    let requested = manifest.as_ref().map(|m| &m.capabilities);
    let policy = match kind {
        HookKind::Bash => {
            check_not_confined(stack, &as_hook, requested)?;
            None
        }
        HookKind::Wasm => {
            check_shared_name(&plugin, &path, hooks)?;
            let data_dir = stack.plugin_data_dir(&plugin);
            let operator = &stack.operator;
            let mut policy = operator.resolve(&stack.top, &as_hook, requested, &data_dir)?;
            policy.root = Some(stack.empty_root());
            Some(policy)
        }
    };
    Ok(Some(PlannedDriver {
        name,
        plugin,
        kind,
        path,
        manifest_path,
        manifest,
        policy,
        selected_by,
    }))
}

/// `VIRT_DRIVER` in the environment the stack was opened with, if set.
pub fn from_environment(stack: &Stack) -> Option<&str> {
    stack.env.get(VIRT_DRIVER).map(String::as_str)
}

/// The non-empty value of `VIRT_DRIVER` and where it came from: local.conf
/// first (its last assignment), then the environment.
pub fn selection(stack: &Stack, env: Option<&str>) -> Option<(String, Selector)> {
    let from_conf = stack.vars.iter().rev().find(|(n, _)| n == VIRT_DRIVER);
    let (value, selector) = match from_conf {
        Some((_, value)) => (value.clone(), local_conf_selector(stack)),
        None => (env?.to_string(), Selector::Environment),
    };
    (!value.is_empty()).then_some((value, selector))
}

fn local_conf_selector(stack: &Stack) -> Selector {
    let Some(conf) = &stack.local_conf else {
        return Selector::LocalConf {
            path: stack.top.join("local.conf"),
            line: None,
        };
    };
    let line = conf
        .localrc
        .iter()
        .rev()
        .find_map(|line| match &line.value {
            Op::Set { name, .. } if name == VIRT_DRIVER => Some(line.line),
            _ => None,
        });
    Selector::LocalConf {
        path: conf.path.clone(),
        line,
    }
}

/// A driver name becomes part of a path: letters, digits, `_` and `-` only,
/// so it can never reach outside `lib/nova_plugins/` (`/`, `..`) or look
/// like another file (`fake.wasm`).
fn check_name(name: &str, selected_by: &Selector) -> anyhow::Result<()> {
    if !name.chars().all(is_file_name_char) {
        let message = format!(
            "{VIRT_DRIVER}={name:?} is not a driver name; a driver name uses only \
             ASCII letters, digits, `_` and `-` (it selects {DRIVER_DIR}/hypervisor-<name>)"
        );
        return Err(selector_problem(selected_by, message, "not a driver name").into());
    }
    Ok(())
}

/// Which of the two driver files exists; both or neither is an error
/// naming the paths looked at.
fn find_file(
    dir: &Path,
    plugin: &str,
    name: &str,
    selected_by: &Selector,
) -> anyhow::Result<(HookKind, PathBuf)> {
    let bash = dir.join(plugin);
    let wasm = dir.join(format!("{plugin}.wasm"));
    match (present(&bash)?, present(&wasm)?) {
        (true, false) => Ok((HookKind::Bash, bash)),
        (false, true) => Ok((HookKind::Wasm, wasm)),
        (true, true) => {
            let message = format!(
                "{VIRT_DRIVER}={name}: both {} (bash) and {} (wasm) exist; \
                 a driver is one or the other, so remove one of them",
                bash.display(),
                wasm.display()
            );
            Err(selector_problem(selected_by, message, "selects two drivers").into())
        }
        (false, false) => {
            let message = format!(
                "{VIRT_DRIVER}={name}: no such driver{}; looked for {} (bash) and {} (wasm){}",
                suggest::hint(name, present_drivers(dir).iter().map(String::as_str)),
                bash.display(),
                wasm.display(),
                present_list(dir)
            );
            Err(selector_problem(selected_by, message, "selects no driver").into())
        }
    }
}

/// A problem with the value of `VIRT_DRIVER`, placed where it was set: at
/// its local.conf line with the line shown under a caret, or said to come
/// from the environment.
fn selector_problem(selected_by: &Selector, message: String, label: &str) -> Problems {
    let problem = match selected_by {
        Selector::LocalConf { path, line } => {
            let text = std::fs::read_to_string(path).unwrap_or_default();
            let snippet = line.and_then(|l| Snippet::line(path, &text, l, label));
            Problem::at(path, *line, message).show(snippet)
        }
        Selector::Environment => Problem::new(format!("the environment: {message}")),
    };
    Problems::from(problem)
}

/// The names of the drivers in `dir` (`hypervisor-<name>` and
/// `hypervisor-<name>.wasm`), sorted.
fn present_drivers(dir: &Path) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut names: Vec<String> = entries
        .flatten()
        .filter_map(|e| e.file_name().into_string().ok())
        .filter_map(|f| {
            let name = f.strip_prefix("hypervisor-")?;
            let name = name.strip_suffix(".wasm").unwrap_or(name);
            name.chars()
                .all(is_file_name_char)
                .then(|| name.to_string())
        })
        .collect();
    names.sort();
    names.dedup();
    names
}

/// `; the drivers present: a, b` (nothing when there are none).
fn present_list(dir: &Path) -> String {
    let names = present_drivers(dir);
    match names.is_empty() {
        true => String::new(),
        false => format!("; the drivers present: {}", names.join(", ")),
    }
}

/// Whether a driver file is there; a directory, device or dangling symlink
/// in its place is an error rather than "absent".
fn present(path: &Path) -> anyhow::Result<bool> {
    match std::fs::metadata(path) {
        Ok(meta) if meta.is_file() => Ok(true),
        Ok(_) => bail!("{}: is not a regular file", path.display()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            if std::fs::symlink_metadata(path).is_ok() {
                bail!("{}: is a dangling symlink", path.display());
            }
            Ok(false)
        }
        Err(e) => bail!("{}: cannot read it: {e}", path.display()),
    }
}

/// A bash driver's functions must live in the shared session, where every
/// later call finds them; a confined bash hook runs in a child bash of its
/// own. Rather than run a driver unconfined that was meant to be confined,
/// refuse it.
fn check_not_confined(
    stack: &Stack,
    driver: &HookFile,
    requested: Option<&manifest::Capabilities>,
) -> anyhow::Result<()> {
    let by_manifest = requested.is_some_and(|c| c.confine);
    if by_manifest || stack.operator.confines(driver) {
        let by = match by_manifest {
            true => "its manifest asks",
            false => "the operator asks",
        };
        bail!(
            "{}: {by} to run it confined, but a bash hypervisor driver cannot be confined \
             (its functions live in the shared bash session); use a WASM driver, or trust it",
            driver.path.display()
        );
    }
    Ok(())
}

/// A WASM hook named like the driver would share its data directory and
/// its `[grants."hypervisor-<name>"]` section.
fn check_shared_name(plugin: &str, path: &Path, hooks: &[PlannedHook]) -> anyhow::Result<()> {
    let clash = hooks
        .iter()
        .map(|h| &h.file)
        .find(|f| f.kind == HookKind::Wasm && f.name == plugin);
    if let Some(hook) = clash {
        bail!(
            "{}: has the same name as the driver {} ({plugin}), so both would share the data \
             directory .hookhost/plugin-data/{plugin} and the grants [grants.\"{plugin}\"]; rename the hook",
            hook.path.display(),
            path.display()
        );
    }
    Ok(())
}

impl PlannedDriver {
    /// The driver's calls in `phases`, as (phase, when, call).
    pub fn calls(&self, phases: &[Phase]) -> Vec<(Phase, At, DriverCall)> {
        let mut calls = Vec::new();
        for &phase in phases {
            for at in [At::BeforeHooks, At::AfterHooks] {
                calls.extend(calls_at(phase, at).iter().map(|&c| (phase, at, c)));
            }
        }
        calls
    }

    /// How a call is named in a plan's sequence (`hypervisor-fake:start_nova_hypervisor`).
    fn step(&self, call: DriverCall) -> String {
        format!("{}:{}", self.plugin, call.function_name())
    }
}

/// The steps of `phase` in a plan's sequence: the hooks, with the driver's
/// calls before and after them.
pub fn sequence(driver: Option<&PlannedDriver>, phase: Phase, hooks: &[&str]) -> Vec<String> {
    let Some(driver) = driver else {
        return hooks.iter().map(|h| h.to_string()).collect();
    };
    let steps = |at| calls_at(phase, at).iter().map(|&c| driver.step(c));
    let mut out: Vec<String> = steps(At::BeforeHooks).collect();
    out.extend(hooks.iter().map(|h| h.to_string()));
    out.extend(steps(At::AfterHooks));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn stack_with(files: &[&str], local_conf: Option<&str>) -> (tempfile::TempDir, Stack) {
        let dir = tempfile::tempdir().unwrap();
        let drivers = dir.path().join(DRIVER_DIR);
        std::fs::create_dir_all(&drivers).unwrap();
        for file in files {
            std::fs::write(drivers.join(file), "").unwrap();
        }
        if let Some(text) = local_conf {
            std::fs::write(dir.path().join("local.conf"), text).unwrap();
        }
        let stack = Stack::open(dir.path(), &BTreeMap::new()).unwrap();
        (dir, stack)
    }

    fn plan(stack: &Stack, env: Option<&str>) -> anyhow::Result<Option<PlannedDriver>> {
        plan_driver(stack, env, &[])
    }

    #[test]
    fn unset_or_empty_means_no_driver() {
        let (_dir, stack) = stack_with(&["hypervisor-fake"], None);
        assert!(plan(&stack, None).unwrap().is_none());
        assert!(plan(&stack, Some("")).unwrap().is_none());
    }

    #[test]
    fn local_conf_wins_over_the_environment() {
        let conf = "[[local|localrc]]\nA=1\nVIRT_DRIVER=fake\n";
        let (_dir, stack) = stack_with(&["hypervisor-fake", "hypervisor-other.wasm"], Some(conf));
        let driver = plan(&stack, Some("other")).unwrap().unwrap();
        assert_eq!(
            (driver.name.as_str(), driver.kind),
            ("fake", HookKind::Bash)
        );
        assert_eq!(driver.plugin, "hypervisor-fake");
        assert!(driver
            .selected_by
            .to_string()
            .ends_with("local.conf line 3"));
        assert!(driver.policy.is_none());
    }

    #[test]
    fn the_environment_selects_without_local_conf() {
        let (_dir, stack) = stack_with(&["hypervisor-fake.wasm"], None);
        let driver = plan(&stack, Some("fake")).unwrap().unwrap();
        assert_eq!(driver.kind, HookKind::Wasm);
        assert_eq!(driver.selected_by, Selector::Environment);
        let policy = driver.policy.unwrap();
        assert_eq!(
            policy.dirs[0].host,
            stack.plugin_data_dir("hypervisor-fake")
        );
    }

    #[test]
    fn empty_in_local_conf_overrides_the_environment() {
        let conf = "[[local|localrc]]\nVIRT_DRIVER=\n";
        let (_dir, stack) = stack_with(&["hypervisor-fake"], Some(conf));
        assert!(plan(&stack, Some("fake")).unwrap().is_none());
    }

    #[test]
    fn bad_names_are_refused() {
        let (_dir, stack) = stack_with(&[], None);
        for name in ["../x", "a/b", "..", "fake.wasm", "a b", "x\ny"] {
            let err = plan(&stack, Some(name)).unwrap_err().to_string();
            assert!(err.contains("is not a driver name"), "{name}: {err}");
            assert!(err.starts_with("the environment: VIRT_DRIVER="), "{err}");
            assert_eq!(err.lines().count(), 1);
        }
    }

    #[test]
    fn both_or_neither_name_the_paths() {
        let (dir, stack) = stack_with(&["hypervisor-x", "hypervisor-x.wasm"], None);
        let drivers = stack.top.join(DRIVER_DIR);
        for name in ["x", "y"] {
            let err = plan(&stack, Some(name)).unwrap_err().to_string();
            let bash = drivers.join(format!("hypervisor-{name}"));
            let wasm = drivers.join(format!("hypervisor-{name}.wasm"));
            assert!(err.contains(&bash.display().to_string()), "{err}");
            assert!(err.contains(&wasm.display().to_string()), "{err}");
        }
        drop(dir);
    }

    #[test]
    fn a_directory_in_place_of_the_driver_is_an_error() {
        let (_dir, stack) = stack_with(&[], None);
        std::fs::create_dir(stack.top.join(DRIVER_DIR).join("hypervisor-d")).unwrap();
        let err = plan(&stack, Some("d")).unwrap_err().to_string();
        assert!(err.contains("hypervisor-d: is not a regular file"), "{err}");
    }

    #[test]
    fn calls_sit_at_devstacks_points() {
        let install = Phase::Stack(StackStep::Install);
        assert_eq!(
            calls_at(install, At::BeforeHooks),
            [DriverCall::Install, DriverCall::Configure]
        );
        assert!(calls_at(install, At::AfterHooks).is_empty());
        let post = Phase::Stack(StackStep::PostConfig);
        assert_eq!(calls_at(post, At::AfterHooks), [DriverCall::Start]);
        assert_eq!(calls_at(Phase::Unstack, At::AfterHooks), [DriverCall::Stop]);
        assert_eq!(
            calls_at(Phase::Clean, At::AfterHooks),
            [DriverCall::Cleanup]
        );
        assert!(calls_at(Phase::Source, At::BeforeHooks).is_empty());
    }
}
