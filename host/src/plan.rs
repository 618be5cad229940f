//! From a discovered stack and an entry point to the ordered sequence a run
//! executes: the phases, the hooks in byte order, each WASM hook's manifest
//! checked against the operator's grants. Everything that would refuse a
//! run is found here, before anything runs; `hookhost plan` prints the
//! result without running it.

use std::fmt::Write as _;

use anyhow::bail;
use serde_json::json;

use crate::capabilities::{show_duration, show_size, Policy};
use crate::discovery::{self, DiscoveryOptions, HookFile, HookKind, Skipped};
use crate::manifest::{self, Manifest};
use crate::phases::{Entry, Extensions, Phase};
use crate::stack::Stack;

/// One hook of the plan.
#[derive(Debug, Clone)]
pub struct PlannedHook {
    pub file: HookFile,
    pub manifest: Option<Manifest>,
    /// What a WASM hook may do (bash hooks are trusted: `None`).
    pub policy: Option<Policy>,
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
}

/// Choices the operator makes on the command line.
#[derive(Debug, Clone, Default)]
pub struct PlanOptions {
    pub extensions: Extensions,
    pub allow_reserved: bool,
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
    check_data_dirs(&hooks, &mut errors);
    if !errors.is_empty() {
        bail!("{}", errors.join("\n"));
    }
    Ok(Plan {
        stack: stack.clone(),
        entry,
        phases: entry.phases(options.extensions),
        hooks,
        skipped: discovery.skipped,
        vars: stack.vars.clone(),
    })
}

fn plan_hook(stack: &Stack, file: HookFile) -> anyhow::Result<PlannedHook> {
    let manifest = match &file.manifest {
        Some(path) => Some(manifest::load(path)?),
        None => None,
    };
    let policy = match file.kind {
        HookKind::Bash => None,
        HookKind::Wasm => {
            let requested = manifest.as_ref().map(|m| &m.capabilities);
            let data_dir = stack.data_dir.join(&file.name);
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
    })
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
                 $DATA_DIR/{}; rename one",
                a.path.display(),
                b.stem,
                a.name,
                a.name
            ));
        }
    }
}

impl Plan {
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
        out.push_str("\nhooks, in order:\n");
        for hook in &self.hooks {
            render_hook(&mut out, hook);
        }
        if !self.skipped.is_empty() {
            out.push_str("\nskipped:\n");
            for s in &self.skipped {
                let _ = writeln!(out, "  {}: {}", s.path.display(), s.reason);
            }
        }
        out.push_str("\nsequence:\n");
        let names: Vec<&str> = self.hooks.iter().map(|h| h.file.stem.as_str()).collect();
        for phase in &self.phases {
            let _ = writeln!(out, "  {:<18} {}", phase.to_string(), names.join(", "));
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
        })
    }
}

fn render_hook(out: &mut String, hook: &PlannedHook) {
    let file = hook
        .file
        .path
        .file_name()
        .unwrap_or_default()
        .to_string_lossy();
    let Some(policy) = &hook.policy else {
        let _ = writeln!(
            out,
            "  {file:<28} bash  trusted (runs in the shared bash session)"
        );
        return;
    };
    let _ = writeln!(
        out,
        "  {file:<28} wasm  sandboxed: memory {}, time limit {} per call",
        show_size(policy.memory),
        show_duration(policy.timeout)
    );
    for line in policy_lines(policy) {
        let _ = writeln!(out, "  {:<28}       granted {line}", "");
    }
}

/// One line per granted capability, in manifest terms.
pub fn policy_lines(policy: &Policy) -> Vec<String> {
    let mut lines = Vec::new();
    for dir in &policy.dirs {
        let mode = if dir.writable { "write" } else { "read" };
        lines.push(format!("{mode} {} as {}", dir.host.display(), dir.guest));
    }
    let lists = [
        ("vars-read", &policy.vars_read),
        ("vars-write", &policy.vars_write),
        ("functions", &policy.functions),
        ("net", &policy.net),
        ("packages", &policy.packages),
    ];
    for (key, values) in lists {
        if !values.is_empty() {
            lines.push(format!("{key} {}", values.join(", ")));
        }
    }
    for command in &policy.commands {
        lines.push(format!(
            "command {} {}",
            command.program,
            command.args.join(" ")
        ));
    }
    lines
}

fn hook_json(hook: &PlannedHook) -> serde_json::Value {
    json!({
        "hook": hook.file.stem,
        "kind": hook.file.kind.to_string(),
        "path": hook.file.path,
        "manifest": hook.file.manifest,
        "granted": hook.policy.as_ref().map(policy_lines),
        "memory": hook.policy.as_ref().map(|p| p.memory),
        "timeout_ms": hook.policy.as_ref().map(|p| p.timeout.as_millis() as u64),
    })
}
