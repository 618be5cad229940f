//! The one view of a plan, as text (`hookhost plan`) and as JSON (`hookhost
//! plan --json`), and the lines that say what a hook requests and is
//! granted, which `hookhost list` and `hookhost inspect` show the same way.

use std::fmt::Write as _;
use std::path::Path;

use serde_json::json;

use crate::capabilities::Policy;
use crate::config::manifest::Capabilities;
use crate::config::prelude::Prelude;
use crate::model::inert::inert;
use crate::model::phases::Phase;
use crate::model::units::{show_limit as show_duration, show_size};
use crate::plan::drivers::{self, At, PlannedDriver, VIRT_DRIVER};
use crate::plan::{Plan, PlannedHook};

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
        if let Some(prelude) = &self.prelude {
            prelude.render(&mut out);
        }
        out.push_str("\nhooks, in order:\n");
        for hook in &self.hooks {
            render_hook(&mut out, hook);
        }
        render_driver(&mut out, self.driver.as_ref(), &self.phases);
        if !self.skipped.is_empty() {
            out.push_str("\nskipped:\n");
            for s in &self.skipped {
                let path = s.path.display().to_string();
                let _ = writeln!(out, "  {}: {}", inert(&path), inert(&s.reason));
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
            "driver": self.driver.as_ref().map(|d| driver_json(d, &self.phases)),
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
            let _ = writeln!(out, "  {file:<28} wasm  sandboxed: {}", limits_line(policy));
        }
    }
    let requested = hook.manifest.as_ref().map(|m| &m.capabilities);
    for line in requested.map(requested_lines).unwrap_or_default() {
        let _ = writeln!(out, "  {:<28}       requests {line}", "");
    }
    // A component with no manifest at all runs with no capabilities: say
    // so, so a plugin copied without its .toml is not silently crippled.
    if hook.manifest.is_none() && !policy.confine {
        let _ = writeln!(
            out,
            "  {:<28}       requests nothing: no manifest beside it and none embedded \
             (it runs with no capabilities)",
            ""
        );
    }
    for line in policy_lines(policy) {
        let _ = writeln!(out, "  {:<28}       granted  {line}", "");
    }
    for (table, items) in &policy.granted_by {
        let _ = writeln!(out, "  {:<28}       by {table}: {}", "", items.join(", "));
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

/// A sandboxed plugin's limits, as `plan` and `list` show them.
pub fn limits_line(policy: &Policy) -> String {
    format!(
        "memory {}, time limit {} per call",
        show_size(policy.memory),
        show_duration(policy.timeout)
    )
}

/// A manifest's requests in its own terms (`vars-read PROBE_*`).
pub fn requested_lines(caps: &Capabilities) -> Vec<String> {
    let lists = [
        ("read", &caps.read),
        ("write", &caps.write),
        ("vars-read", &caps.vars_read),
        ("vars-write", &caps.vars_write),
        ("functions", &caps.functions),
        ("commands", &caps.commands),
        ("net", &caps.net),
        ("packages", &caps.packages),
        ("git", &caps.git),
    ];
    let mut lines: Vec<String> = lists
        .into_iter()
        .filter(|(_, values)| !values.is_empty())
        .map(|(key, values)| format!("{key} {}", values.join(", ")))
        .collect();
    if let Some(memory) = caps.memory {
        lines.push(format!("memory {}", show_size(memory)));
    }
    if let Some(timeout) = caps.timeout {
        lines.push(format!("timeout {}", show_duration(timeout)));
    }
    if caps.confine {
        lines.push("confine (bash hook confined by Landlock)".to_string());
    }
    lines
}

/// The kinds a confined bash hook's manifest asks for that Landlock cannot
/// enforce on bash (they are not granted either).
fn unenforced_for_bash(request: &Capabilities) -> Vec<&'static str> {
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
        ("git", &policy.git),
    ];
    for (key, values) in lists {
        if !values.is_empty() {
            lines.push(format!("{key} {}", values.join(", ")));
        }
    }
    if !policy.packages.is_empty() {
        lines.push(packages_line(policy));
    }
    lines.extend(trusted_power(policy));
    lines.extend(reserved_writes(policy));
    lines
}

/// What becomes of the packages a plugin asks to install: installed only
/// with an install grant, else recorded (the words the run uses).
fn packages_line(policy: &Policy) -> String {
    let packages = policy.packages.join(", ");
    match policy.install {
        true => format!("packages {packages}"),
        false => format!(
            "packages {packages} recorded only: no install grant (--allow-install, or \
             `packages = [...]` in its grant table, installs them)"
        ),
    }
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
        "granted_by": hook.policy.as_ref().map(|p| {
            p.granted_by
                .iter()
                .map(|(table, items)| json!({"table": table, "granted": items}))
                .collect::<Vec<_>>()
        }),
        "confined": hook.policy.as_ref().is_some_and(|p| p.confine),
        "memory": hook.policy.as_ref().map(|p| p.memory),
        "timeout_ms": hook.policy.as_ref().map(|p| p.timeout.as_millis() as u64),
    })
}

/// The driver section of `hookhost plan`.
fn render_driver(out: &mut String, driver: Option<&PlannedDriver>, phases: &[Phase]) {
    let Some(driver) = driver else {
        out.push_str("\ndriver: none (VIRT_DRIVER is not set)\n");
        return;
    };
    let _ = writeln!(
        out,
        "\ndriver: {VIRT_DRIVER}={} (from {})",
        driver.name, driver.selected_by
    );
    let file = file_name(&driver.path);
    match &driver.policy {
        None => {
            let _ = writeln!(
                out,
                "  {file:<28} bash  trusted (sourced into the shared bash session before any hook)"
            );
        }
        Some(policy) => {
            let _ = writeln!(out, "  {file:<28} wasm  sandboxed: {}", limits_line(policy));
            for line in policy_lines(policy) {
                let _ = writeln!(out, "  {:<28}       granted {line}", "");
            }
        }
    }
    for (phase, at, call) in driver.calls(phases) {
        let when = match at {
            At::BeforeHooks => "before",
            At::AfterHooks => "after",
        };
        let _ = writeln!(
            out,
            "  calls {:<26} {when} the `{phase}` hooks",
            call.function_name()
        );
    }
}

/// The driver in `hookhost plan --json`.
fn driver_json(driver: &PlannedDriver, phases: &[Phase]) -> serde_json::Value {
    let calls: Vec<serde_json::Value> = driver
        .calls(phases)
        .into_iter()
        .map(|(phase, at, call)| {
            let at = match at {
                At::BeforeHooks => "before-hooks",
                At::AfterHooks => "after-hooks",
            };
            json!({"phase": phase.to_string(), "at": at, "function": call.function_name()})
        })
        .collect();
    json!({
        "name": driver.name,
        "plugin": driver.plugin,
        "kind": driver.kind.to_string(),
        "path": driver.path,
        "manifest": driver.manifest_path,
        "selected_by": driver.selected_by.to_string(),
        "granted": driver.policy.as_ref().map(policy_lines),
        "memory": driver.policy.as_ref().map(|p| p.memory),
        "timeout_ms": driver.policy.as_ref().map(|p| p.timeout.as_millis() as u64),
        "calls": calls,
    })
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .unwrap_or_default()
        .to_string_lossy()
        .into_owned()
}
