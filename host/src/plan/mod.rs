//! From a discovered stack and an entry point to the ordered sequence a run
//! executes: the phases, the hooks in byte order, each WASM hook's manifest
//! checked against the operator's grants. Everything that would refuse a
//! run is found here, before anything runs; `hookhost plan` prints the
//! result without running it.

pub mod discovery;
pub mod drivers;
pub mod external;

use std::fmt::Write as _;

use anyhow::bail;
use serde_json::json;

use crate::capabilities::{show_duration, show_size, Policy};
use crate::config::manifest::Manifest;
use crate::config::prelude::{self, Prelude};
use crate::config::stack::Stack;
use crate::model::phases::{Entry, Extensions, Phase};
use discovery::{DiscoveryOptions, HookFile, HookKind, Skipped};
use drivers::PlannedDriver;
use external::{ExternalPlugin, PluginPlan};

/// One hook of the plan.
#[derive(Debug, Clone)]
pub struct PlannedHook {
    pub file: HookFile,
    pub manifest: Option<Manifest>,
    /// What a WASM hook may do (bash hooks are trusted: `None`).
    pub policy: Option<Policy>,
    /// Set for an external plugin (`enable_plugin`, see `external`).
    pub external: Option<Box<ExternalPlugin>>,
    /// What the operator should know about its manifest (see
    /// [`crate::author::embedded`]), shown in `plan` and the run.
    pub note: Option<String>,
}

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
}

/// Make the plan for `entry`, or say everything that prevents it.
pub fn make_plan(stack: &Stack, entry: Entry, options: &PlanOptions) -> anyhow::Result<Plan> {
    let discovery = discovery::discover(
        &stack.top,
        &DiscoveryOptions {
            allow_reserved: options.allow_reserved || stack.operator.allow_reserved,
        },
    )
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut errors = Vec::new();
    let mut hooks = Vec::new();
    for file in discovery.hooks {
        match plan_hook(stack, file) {
            Ok(hook) => hooks.push(hook),
            Err(e) => errors.push(format!("{e:#}")),
        }
    }
    // External plugins (enable_plugin) run after every extras.d hook.
    let plugins = external::plan_plugins(stack, options.update_lock).unwrap_or_else(|e| {
        errors.push(format!("{e:#}"));
        PluginPlan::default()
    });
    hooks.extend(plugins.hooks);
    check_data_dirs(&hooks, &mut errors);
    check_confine(stack, &hooks, &mut errors);
    let driver = drivers::plan_driver(stack, drivers::environment().as_deref(), &hooks)
        .unwrap_or_else(|e| {
            errors.push(format!("{e:#}"));
            None
        });
    let prelude = prelude::plan(
        &stack.top,
        entry,
        &stack.operator.devstack,
        stack.local_conf.as_ref(),
    )
    .unwrap_or_else(|e| {
        errors.push(format!("{e:#}"));
        None
    });
    if !errors.is_empty() {
        bail!("{}", errors.join("\n"));
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
    Ok(Plan {
        stack: stack.clone(),
        entry,
        phases: entry.phases(extensions),
        hooks,
        skipped: discovery.skipped,
        vars,
        driver,
        notes,
        prelude,
    })
}

/// Plan one hook: its manifest, and its policy (a WASM hook's grants and
/// data directory by name, a confined bash hook's paths).
pub(crate) fn plan_hook(stack: &Stack, file: HookFile) -> anyhow::Result<PlannedHook> {
    let crate::author::embedded::Chosen { manifest, note } =
        crate::author::embedded::manifest_for(&file)?;
    let policy = match file.kind {
        HookKind::Bash => confined_policy(stack, &file, manifest.as_ref())?,
        HookKind::Wasm => {
            let requested = manifest.as_ref().map(|m| &m.capabilities);
            let data_dir = stack.plugin_data_dir(&file.name);
            Some(
                stack
                    .operator
                    .resolve(&stack.top, &file, requested, &data_dir)?,
            )
        }
    };
    Ok(PlannedHook {
        file,
        manifest,
        policy,
        external: None,
        note,
    })
}

/// A bash hook is trusted unless its manifest or the operator confines it;
/// a confined one gets its paths checked like a plugin's, and is refused
/// where the kernel cannot confine it.
fn confined_policy(
    stack: &Stack,
    file: &HookFile,
    manifest: Option<&Manifest>,
) -> anyhow::Result<Option<Policy>> {
    let requested = manifest.map(|m| &m.capabilities);
    if !requested.is_some_and(|c| c.confine) && !stack.operator.confines(file) {
        return Ok(None);
    }
    crate::bash::confine::probe().map_err(|why| {
        anyhow::anyhow!(
            "{}: is to run confined, but {why}; refusing to run it unconfined",
            file.path.display()
        )
    })?;
    let policy = stack
        .operator
        .resolve_confined(&stack.top, file, requested)?;
    Ok(Some(policy))
}

/// Every hook the operator confines must be a bash hook of the stack: a
/// typo must not leave the hook meant running unconfined.
fn check_confine(stack: &Stack, hooks: &[PlannedHook], errors: &mut Vec<String>) {
    for wanted in &stack.operator.confine {
        let found = hooks
            .iter()
            .find(|h| h.file.stem == *wanted || h.file.name == *wanted);
        match found {
            Some(hook) if hook.file.kind == HookKind::Bash => {}
            Some(hook) => errors.push(format!(
                "confine {wanted}: {} is a WASM hook, always sandboxed; confine names bash hooks",
                hook.file.path.display()
            )),
            None => errors.push(format!(
                "confine {wanted}: no bash hook of that stem or name in {}",
                stack.extras_dir().display()
            )),
        }
    }
}

/// Two WASM hooks with one name would share a private data directory.
fn check_data_dirs(hooks: &[PlannedHook], errors: &mut Vec<String>) {
    let wasm: Vec<&HookFile> = hooks
        .iter()
        .map(|h| &h.file)
        .filter(|f| f.kind == HookKind::Wasm)
        .collect();
    for (i, a) in wasm.iter().enumerate() {
        if let Some(b) = wasm[..i].iter().find(|b| b.name == a.name) {
            errors.push(format!(
                "{}: has the same name as {} ({}), so both would share the data directory \
                 .hookhost/plugin-data/{}; rename one",
                a.path.display(),
                b.stem,
                a.name,
                a.name
            ));
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

    /// The plan as people read it.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "hookhost {} in {}: {} hook(s), {} phase(s)",
            self.entry.name(),
            self.stack.top.display(),
            self.hooks.len(),
            self.phases.len()
        );
        if let Some(prelude) = &self.prelude {
            prelude.render(&mut out);
        }
        out.push_str("\nhooks, in order:\n");
        for hook in &self.hooks {
            render_hook(&mut out, hook);
        }
        drivers::render(&mut out, self.driver.as_ref(), &self.phases);
        if !self.skipped.is_empty() {
            out.push_str("\nskipped:\n");
            for s in &self.skipped {
                let _ = writeln!(out, "  {}: {}", s.path.display(), s.reason);
            }
        }
        if !self.notes.is_empty() {
            out.push_str("\nnotes:\n");
            for note in &self.notes {
                let _ = writeln!(out, "  {note}");
            }
        }
        out.push_str("\nsequence:\n");
        let names: Vec<&str> = self.hooks.iter().map(|h| h.file.stem.as_str()).collect();
        for phase in &self.phases {
            let steps = drivers::sequence(self.driver.as_ref(), *phase, &names);
            let _ = writeln!(out, "  {:<18} {}", phase.to_string(), steps.join(", "));
        }
        out
    }

    /// The plan as one JSON document.
    pub fn to_json(&self) -> serde_json::Value {
        json!({
            "entry": self.entry.name(),
            "top": self.stack.top,
            "phases": self.phases.iter().map(|p| p.to_string()).collect::<Vec<_>>(),
            "hooks": self.hooks.iter().map(hook_json).collect::<Vec<_>>(),
            "skipped": self.skipped.iter().map(|s| json!({"path": s.path, "reason": s.reason})).collect::<Vec<_>>(),
            "driver": self.driver.as_ref().map(|d| drivers::to_json(d, &self.phases)),
            "notes": self.notes,
            "prelude": self.prelude.as_ref().map(Prelude::to_json),
        })
    }
}

fn render_hook(out: &mut String, hook: &PlannedHook) {
    let file = match &hook.external {
        // An external plugin's file is always plugin.sh/.wasm: name the plugin.
        Some(plugin) => format!("plugin {} ({})", plugin.name, plugin.state.describe()).into(),
        None => hook
            .file
            .path
            .file_name()
            .unwrap_or_default()
            .to_string_lossy(),
    };
    let Some(policy) = &hook.policy else {
        let _ = writeln!(
            out,
            "  {file:<28} bash  trusted (runs in the shared bash session)"
        );
        return;
    };
    match policy.confine {
        true => {
            let _ = writeln!(
                out,
                "  {file:<28} bash  confined (Landlock, in a child bash): read-only system dirs and its grants"
            );
        }
        false => {
            let _ = writeln!(
                out,
                "  {file:<28} wasm  sandboxed: memory {}, time limit {} per call",
                show_size(policy.memory),
                show_duration(policy.timeout)
            );
        }
    }
    let requested = hook.manifest.as_ref().map(|m| &m.capabilities);
    for line in requested.map(requested_lines).unwrap_or_default() {
        let _ = writeln!(out, "  {:<28}       requests {line}", "");
    }
    for line in policy_lines(policy) {
        let _ = writeln!(out, "  {:<28}       granted  {line}", "");
    }
    if policy.confine {
        let ignored = requested.map(unenforced_for_bash).unwrap_or_default();
        if !ignored.is_empty() {
            let _ = writeln!(
                out,
                "  {:<28}       not enforced on bash: {}",
                "",
                ignored.join(", ")
            );
        }
    }
}

/// One line per requested capability, in manifest terms.
pub fn requested_lines(request: &crate::config::manifest::Capabilities) -> Vec<String> {
    let mut lines = Vec::new();
    let lists = [
        ("read", &request.read),
        ("write", &request.write),
        ("vars-read", &request.vars_read),
        ("vars-write", &request.vars_write),
        ("functions", &request.functions),
        ("commands", &request.commands),
        ("net", &request.net),
        ("packages", &request.packages),
    ];
    for (key, values) in lists {
        if !values.is_empty() {
            lines.push(format!("{key} {}", values.join(", ")));
        }
    }
    if let Some(memory) = request.memory {
        lines.push(format!("memory {}", show_size(memory)));
    }
    if let Some(timeout) = request.timeout {
        lines.push(format!("timeout {}", show_duration(timeout)));
    }
    lines
}

/// The kinds a confined bash hook's manifest asks for that Landlock cannot
/// enforce on bash (they are not granted either).
fn unenforced_for_bash(request: &crate::config::manifest::Capabilities) -> Vec<&'static str> {
    let kinds = [
        ("vars-read", request.vars_read.is_empty()),
        ("vars-write", request.vars_write.is_empty()),
        ("functions", request.functions.is_empty()),
        ("commands", request.commands.is_empty()),
        ("packages", request.packages.is_empty()),
        ("memory", request.memory.is_none()),
        ("timeout", request.timeout.is_none()),
    ];
    kinds
        .iter()
        .filter(|(_, empty)| !empty)
        .map(|(kind, _)| *kind)
        .collect()
}

/// One line per granted capability, in manifest terms.
pub fn policy_lines(policy: &Policy) -> Vec<String> {
    let mut lines = Vec::new();
    for dir in &policy.dirs {
        let mode = if dir.writable { "write" } else { "read" };
        match policy.confine {
            true => lines.push(format!("{mode} {}", dir.host.display())),
            false => lines.push(format!("{mode} {} as {}", dir.host.display(), dir.guest)),
        }
    }
    let lists = [
        ("vars-read", &policy.vars_read),
        ("vars-write", &policy.vars_write),
        ("net", &policy.net),
        ("packages", &policy.packages),
        ("git", &policy.git),
    ];
    for (key, values) in lists {
        if !values.is_empty() {
            lines.push(format!("{key} {}", values.join(", ")));
        }
    }
    lines.extend(trusted_power(policy));
    lines.extend(reserved_writes(policy));
    lines
}

/// What a `vars-write` grant names that hookhost refuses a plugin anyway
/// (bash, the linker or programs trusted hooks run read it as code or
/// configuration), and a grant of every variable, said as such.
fn reserved_writes(policy: &Policy) -> Vec<String> {
    let mut lines = Vec::new();
    for name in &policy.vars_write {
        if name == "*" {
            lines.push(
                "vars-write * (TRUSTED: every variable trusted hooks read, except those \
                 hookhost refuses at run time)"
                    .to_string(),
            );
        } else if let Some(why) = crate::model::names::reserved_variable(name) {
            lines.push(format!("vars-write {name} is refused at run time: {why}"));
        }
    }
    lines
}

/// The grants that hand a plugin the operator's own power, each said as
/// such: a shell function runs in the trusted bash session, a command as
/// the operator, neither sandboxed; packages are installed as root.
fn trusted_power(policy: &Policy) -> Vec<String> {
    let mut lines = Vec::new();
    for function in &policy.functions {
        lines.push(format!(
            "function {function} (TRUSTED: runs in the bash session with your rights, \
             any arguments)"
        ));
    }
    for command in &policy.commands {
        let any = match command.args.iter().any(|a| a == "**") {
            true => ", any arguments",
            false => "",
        };
        let shown = std::iter::once(command.program.as_str())
            .chain(command.args.iter().map(String::as_str))
            .collect::<Vec<_>>()
            .join(" ");
        lines.push(format!(
            "command {shown} (TRUSTED: runs unsandboxed with your rights{any})"
        ));
    }
    if policy.install && !policy.packages.is_empty() {
        lines.push("install (TRUSTED: packages are really installed, as root)".to_string());
    }
    lines
}

fn hook_json(hook: &PlannedHook) -> serde_json::Value {
    json!({
        "hook": hook.file.stem,
        "kind": hook.file.kind.to_string(),
        "path": hook.file.path,
        "manifest": hook.file.manifest,
        "requested": hook.manifest.as_ref().map(|m| requested_lines(&m.capabilities)),
        "granted": hook.policy.as_ref().map(policy_lines),
        "confined": hook.policy.as_ref().is_some_and(|p| p.confine),
        "memory": hook.policy.as_ref().map(|p| p.memory),
        "timeout_ms": hook.policy.as_ref().map(|p| p.timeout.as_millis() as u64),
    })
}
