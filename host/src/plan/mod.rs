//! From a discovered stack and an entry point to the ordered sequence a run
//! executes: the phases, the hooks in byte order, each WASM hook's manifest
//! checked against the operator's grants. Everything that would refuse a
//! run is found here, before anything runs; `hookhost plan` prints the
//! result without running it.
//!
//! [`make_plan`] calls the producers of hooks (`discovery` for extras.d,
//! `external` for `enable_plugin`, `drivers` for `VIRT_DRIVER`) and
//! assembles their answers; none of them calls back here. It reads files
//! only: cloning plugins and writing `hookhost.lock` are the steps before
//! and after it ([`fetch`]); [`render`] is its one text and JSON view.

pub(crate) mod discovery;
pub(crate) mod drivers;
pub(crate) mod embedded;
pub(crate) mod external;
pub mod fetch;
mod flags;
mod hook;
pub(crate) mod render;
mod tables;

use crate::capabilities::Policy;
use crate::config::lockfile::Lock;
use crate::config::operator::GrantFlags;
use crate::config::prelude::{self, Prelude};
use crate::config::stack::Stack;
use crate::model::hooks::{HookFile, HookKind};
use crate::model::phases::{Entry, Extensions, Phase};
use crate::model::problems::{Problem, Problems};
use discovery::{Discovery, DiscoveryOptions, Skipped};
use drivers::PlannedDriver;
use external::{Fetched, PluginPlan};
use hook::plan_hook;
pub use hook::PlannedHook;

/// The ordered sequence of a run.
#[derive(Debug, Clone)]
pub struct Plan {
    pub stack: Stack,
    pub entry: Entry,
    pub phases: Vec<Phase>,
    pub hooks: Vec<PlannedHook>,
    pub skipped: Vec<Skipped>,
    /// The variables the run starts with (local.conf), in order.
    pub vars: Vec<(String, String)>,
    /// The hypervisor driver `VIRT_DRIVER` selects (see `drivers`).
    pub driver: Option<PlannedDriver>,
    /// What planning did that the operator should know (hookhost.lock).
    pub notes: Vec<String>,
    /// A DevStack tree's prelude (see `prelude`), sourced before the hooks.
    pub prelude: Option<Prelude>,
}

/// Choices the operator makes on the command line.
#[derive(Debug, Clone, Default)]
pub struct PlanOptions {
    pub extensions: Extensions,
    pub allow_reserved: bool,
    /// Accept external plugins whose content differs from hookhost.lock.
    pub update_lock: bool,
    /// The command line's `--allow-*` grants, checked against what the
    /// plugins request.
    pub flags: GrantFlags,
}

/// What planning decided.
#[derive(Debug)]
pub struct Planned {
    /// The plan, or every problem that refuses it.
    pub plan: Result<Plan, Problems>,
    /// The lock file the external plugins' part of the plan accepts (None:
    /// no plugins, or they were refused). It is about the plugins alone:
    /// [`fetch::record_lock`] writes it whether or not the rest of the
    /// plan stands.
    pub lock: Option<Lock>,
    /// What the operator should know whether or not the plan stands: a
    /// local.conf service or a grant (table entry or flag) that matches
    /// nothing, often the very reason the plan is refused.
    pub warnings: Vec<String>,
}

/// The hooks of the stack's extras.d (the first step: a stack whose hooks
/// cannot be told is refused before any plugin is fetched).
pub fn discover(stack: &Stack, options: &PlanOptions) -> Result<Discovery, Problems> {
    let allow_reserved = options.allow_reserved || stack.operator.allow_reserved;
    discovery::discover(&stack.top, &DiscoveryOptions { allow_reserved })
}

/// A warning for each grant table of hookhost.toml that names none of the
/// stack's plugins (see `tables`), with the name it was likely meant to be.
pub fn unmatched_grant_tables(stack: &Stack, hooks: &[HookFile]) -> Vec<String> {
    tables::unmatched_tables(stack, hooks)
}

/// The files of the stack's extras.d skipped as not hooks: said also when
/// the stack is refused for other reasons.
pub fn skipped_files(stack: &Stack) -> Vec<Skipped> {
    discovery::skipped_files(&stack.top)
}

/// What planning checks of the stack's own hooks, grants and driver,
/// leaving out the external plugins (which may not be fetched yet) and a
/// DevStack tree's prelude: for `hookhost list`, which fetches nothing.
pub fn check_local(stack: &Stack, discovery: &Discovery) -> Problems {
    let mut problems = Problems::new();
    let mut hooks = Vec::new();
    for file in discovery.hooks.iter().cloned() {
        match plan_hook(stack, file) {
            Ok(hook) => hooks.push(hook),
            Err(e) => problems.push_error(&e),
        }
    }
    check_data_dirs(&hooks, &mut problems);
    check_confine(stack, &hooks, &mut problems);
    let from_env = drivers::from_environment(stack);
    if let Err(e) = drivers::plan_driver(stack, from_env, &hooks) {
        problems.push_error(&e);
    }
    problems
}

/// Make the plan for `entry` from the stack's `discovery`, or say
/// everything that prevents it. `fetched` is what the fetch step
/// ([`fetch::fetch_plugins`]) found of the external plugins; planning
/// itself reads files and never writes or reaches the network.
pub fn make_plan(
    stack: &Stack,
    entry: Entry,
    options: &PlanOptions,
    discovery: Discovery,
    fetched: &Fetched,
) -> Planned {
    let mut problems = Problems::new();
    let mut hooks = Vec::new();
    let mut requests = Vec::new();
    // Every hook, refused or not, is a name local.conf may use.
    let mut files = discovery.hooks.clone();
    for file in discovery.hooks {
        // Read apart from planning: a hook refused for a missing grant
        // still says what it requests.
        requests.extend(request_of(&file));
        match plan_hook(stack, file) {
            Ok(hook) => hooks.push(hook),
            Err(e) => problems.push_error(&e),
        }
    }
    // External plugins (enable_plugin) run after every extras.d hook.
    let plugins = external::plan_plugins(stack, fetched, options.update_lock).unwrap_or_else(|e| {
        problems.extend(e);
        PluginPlan::default()
    });
    let lock = plugins.lock.clone();
    requests.extend(plugins.hooks.iter().filter_map(planned_request));
    files.extend(plugins.hooks.iter().map(|h| h.file.clone()));
    hooks.extend(plugins.hooks);
    check_data_dirs(&hooks, &mut problems);
    check_confine(stack, &hooks, &mut problems);
    let from_env = drivers::from_environment(stack);
    let driver = drivers::plan_driver(stack, from_env, &hooks).unwrap_or_else(|e| {
        problems.push_error(&e);
        None
    });
    let prelude = prelude::plan(
        &stack.top,
        entry,
        &stack.operator.devstack,
        stack.local_conf.as_ref(),
    )
    .unwrap_or_else(|e| {
        problems.push_error(&e);
        None
    });
    if let Some(driver) = &driver {
        requests.extend(driver.manifest.as_ref().map(|m| flags::Request {
            name: driver.plugin.clone(),
            stem: driver.plugin.clone(),
            capabilities: m.capabilities.clone(),
        }));
    }
    let warnings = warnings(stack, &files, options, &requests);
    if !problems.is_empty() {
        return Planned {
            plan: Err(problems),
            lock,
            warnings,
        };
    }
    let mut extensions = options.extensions;
    extensions.override_defaults |= plugins.override_defaults;
    // DevStack ran override_defaults wherever its entry script says so.
    extensions.override_defaults |= prelude.as_ref().is_some_and(|p| p.split);
    // A DevStack tree's stackrc sources local.conf itself: nothing of it is
    // assigned before the prelude (stackrc's defaults test `isset`).
    let mut notes = plugins.notes;
    notes.extend(hooks.iter().filter_map(|h| h.note.clone()));
    let mut vars = match prelude {
        Some(_) => Vec::new(),
        None => stack.vars.clone(),
    };
    vars.extend(plugins.vars);
    let plan = Plan {
        stack: stack.clone(),
        entry,
        phases: entry.phases(extensions),
        hooks,
        skipped: discovery.skipped,
        vars,
        driver,
        notes,
        prelude,
    };
    Planned {
        plan: Ok(plan),
        lock,
        warnings,
    }
}

/// The warnings of a plan (see [`Planned::warnings`]): local.conf's
/// services no hook is named after, then grants no plugin's request uses.
fn warnings(
    stack: &Stack,
    files: &[HookFile],
    options: &PlanOptions,
    requests: &[flags::Request],
) -> Vec<String> {
    let mut warnings = crate::config::services::warnings(stack, files.iter());
    let file = stack.top.join(crate::config::stack::OPERATOR_CONFIG);
    let tables = &stack.operator.grants;
    warnings.extend(flags::unused_entries(&file, tables, requests));
    warnings.extend(flags::unused_flags(&options.flags, requests));
    warnings
}

/// What the hook `file` requests, by its manifest (none if it has none or
/// it cannot be read: planning says why).
fn request_of(file: &HookFile) -> Option<flags::Request> {
    let manifest = embedded::manifest_for(file).ok()?.manifest?;
    Some(flags::Request {
        name: file.name.clone(),
        stem: file.stem.clone(),
        capabilities: manifest.capabilities,
    })
}

/// What a planned hook requests.
fn planned_request(hook: &PlannedHook) -> Option<flags::Request> {
    hook.manifest.as_ref().map(|m| flags::Request {
        name: hook.file.name.clone(),
        stem: hook.file.stem.clone(),
        capabilities: m.capabilities.clone(),
    })
}

/// Every hook the operator confines must be a bash hook of the stack: a
/// typo must not leave the hook meant running unconfined.
fn check_confine(stack: &Stack, hooks: &[PlannedHook], problems: &mut Problems) {
    for wanted in &stack.operator.confine {
        let found = hooks
            .iter()
            .find(|h| h.file.stem == *wanted || h.file.name == *wanted);
        match found {
            Some(hook) if hook.file.kind == HookKind::Bash => {}
            Some(hook) => problems.push(Problem::new(format!(
                "confine {wanted}: {} is a WASM hook, always sandboxed; confine names bash hooks",
                hook.file.path.display()
            ))),
            None => problems.push(Problem::new(format!(
                "confine {wanted}: no bash hook of that stem or name in {}",
                stack.extras_dir().display()
            ))),
        }
    }
}

/// Two WASM hooks with one name would share a private data directory.
fn check_data_dirs(hooks: &[PlannedHook], problems: &mut Problems) {
    let wasm: Vec<&HookFile> = hooks
        .iter()
        .map(|h| &h.file)
        .filter(|f| f.kind == HookKind::Wasm)
        .collect();
    for (i, a) in wasm.iter().enumerate() {
        if let Some(b) = wasm[..i].iter().find(|b| b.name == a.name) {
            let message = format!(
                "has the same name as {} ({}), so both would share the data directory \
                 .hookhost/plugin-data/{}; rename one",
                b.stem, a.name, a.name
            );
            problems.push(Problem::at(&a.path, None, message));
        }
    }
}

impl Plan {
    /// The policies of every sandboxed plugin of the run: WASM hooks and a
    /// WASM hypervisor driver.
    pub fn policies(&self) -> impl Iterator<Item = &Policy> {
        let hooks = self.hooks.iter().filter_map(|h| h.policy.as_ref());
        hooks.chain(self.driver.as_ref().and_then(|d| d.policy.as_ref()))
    }

    /// Every variable a plugin of the run may read or write by its exact
    /// name (globs aside): what the bash session keeps the host's copy of.
    pub fn watched_vars(&self) -> Vec<String> {
        let names = self
            .policies()
            .flat_map(|p| p.vars_read.iter().chain(&p.vars_write));
        let mut names: Vec<String> = names.filter(|n| !n.ends_with('*')).cloned().collect();
        names.sort();
        names.dedup();
        names
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::path::{Path, PathBuf};
    use std::process::Command;

    use super::*;
    use crate::config::lockfile::LOCK_FILE;
    use crate::model::phases::Entry;

    fn write(path: &Path, text: &str) {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    fn git(dir: &Path, args: &[&str]) {
        let status = Command::new("git")
            .args(["-c", "user.name=t", "-c", "user.email=t@t", "-c"])
            .arg("init.defaultBranch=main")
            .args(args)
            .current_dir(dir)
            .status()
            .unwrap();
        assert!(status.success(), "git {args:?}");
    }

    /// A plugin repository with one commit of `devstack/plugin.sh`.
    fn plugin_repo(dir: &Path) -> PathBuf {
        let repo = dir.join("repo");
        write(&repo.join("devstack/plugin.sh"), "echo plugin\n");
        git(&repo, &["init", "-q"]);
        git(&repo, &["add", "."]);
        git(&repo, &["commit", "-qm", "v1"]);
        repo
    }

    /// Every file under `dir`, with its content.
    fn snapshot(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
        let mut files = BTreeMap::new();
        let mut todo = vec![dir.to_path_buf()];
        while let Some(next) = todo.pop() {
            for entry in std::fs::read_dir(&next).unwrap().flatten() {
                let path = entry.path();
                match path.is_dir() {
                    true => todo.push(path),
                    false => {
                        files.insert(path.clone(), std::fs::read(&path).unwrap());
                    }
                }
            }
        }
        files
    }

    fn plan(stack: &Stack, fetched: &Fetched) -> Planned {
        let options = PlanOptions::default();
        let discovery = discover(stack, &options).unwrap();
        make_plan(stack, Entry::Stack, &options, discovery, fetched)
    }

    fn open(top: &Path, env: &[(&str, &str)]) -> Stack {
        let env = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Stack::open(top, &env).unwrap()
    }

    #[test]
    fn planning_writes_nothing_the_fetch_step_clones_and_records() {
        let dir = tempfile::tempdir().unwrap();
        let repo = plugin_repo(dir.path());
        let top = dir.path().join("stack");
        let conf = format!("[[local|localrc]]\nenable_plugin p {}\n", repo.display());
        write(&top.join("local.conf"), &conf);
        let stack = open(&top, &[]);
        let fetched = fetch::fetch_plugins(&stack, false);
        assert!(stack.dest.join("p/devstack/plugin.sh").is_file());
        let before = snapshot(&top);
        let planned = plan(&stack, &fetched);
        let plan = planned.plan.unwrap();
        assert_eq!(plan.hooks.len(), 1);
        assert_eq!(snapshot(&top), before, "planning changed the stack");
        assert!(!top.join(LOCK_FILE).exists());
        fetch::record_lock(&stack, planned.lock.as_ref()).unwrap();
        let lock = std::fs::read_to_string(top.join(LOCK_FILE)).unwrap();
        assert!(lock.contains("[plugins.p]"), "{lock}");
    }

    #[test]
    fn planning_takes_virt_driver_from_the_environment_the_stack_was_opened_with() {
        let dir = tempfile::tempdir().unwrap();
        write(&dir.path().join("lib/nova_plugins/hypervisor-fake"), "");
        let stack = open(dir.path(), &[("VIRT_DRIVER", "fake")]);
        let fetched = fetch::fetch_plugins(&stack, false);
        let driver = plan(&stack, &fetched).plan.unwrap().driver;
        let driver = driver.expect("the stack's environment selects it");
        assert_eq!(driver.name, "fake");
        let stack = open(dir.path(), &[]);
        assert!(plan(&stack, &fetched).plan.unwrap().driver.is_none());
    }

    #[test]
    fn every_problem_comes_back_typed_with_its_file() {
        let dir = tempfile::tempdir().unwrap();
        let top = dir.path().canonicalize().unwrap();
        write(&top.join("extras.d/10-x.wasm"), "");
        write(&top.join("extras.d/20-x.wasm"), "");
        write(&top.join("hookhost.toml"), "confine = [\"nope\"]\n");
        let stack = open(&top, &[]);
        let fetched = fetch::fetch_plugins(&stack, false);
        let problems = plan(&stack, &fetched).plan.unwrap_err();
        assert_eq!(problems.0.len(), 2, "{problems}");
        let shared = &problems.0[0];
        assert_eq!(
            shared.file.as_deref(),
            Some(&*top.join("extras.d/20-x.wasm"))
        );
        assert!(
            shared.message.contains("share the data directory"),
            "{shared}"
        );
        assert!(problems.0[1].message.starts_with("confine nope: "));
    }

    #[test]
    fn plan_shows_a_confined_hooks_request_to_be_confined() {
        let dir = tempfile::tempdir().unwrap();
        write(&dir.path().join("extras.d/40-legacy.sh"), "true\n");
        let manifest = "[capabilities]\nconfine = true\n";
        write(&dir.path().join("extras.d/40-legacy.toml"), manifest);
        let stack = open(dir.path(), &[]);
        let fetched = fetch::fetch_plugins(&stack, false);
        let planned = plan(&stack, &fetched);
        match crate::bash::confine::probe() {
            Ok(()) => {
                let plan = planned.plan.unwrap();
                let text = plan.render();
                assert!(
                    text.contains("requests confine (bash hook confined by Landlock)"),
                    "{text}"
                );
                let json = plan.to_json();
                let requested = json["hooks"][0]["requested"].to_string();
                assert!(requested.contains("confine"), "{requested}");
            }
            Err(_) => {
                let problems = planned.plan.unwrap_err().to_string();
                assert!(
                    problems.contains("refusing to run it unconfined"),
                    "{problems}"
                );
            }
        }
    }
}
