//! `hookhost list`: the inventory of a stack — every hook with its kind,
//! manifest and capabilities (requested, and granted or why not), and the
//! hypervisor drivers in `lib/nova_plugins/` with the one `VIRT_DRIVER`
//! selects, and the plugins local.conf enables (as they are on disk: `list`
//! fetches nothing). Unlike `plan`, one hook's problem does not hide the
//! others: it is shown on that hook's line.

use std::fmt::Write as _;
use std::path::PathBuf;

use serde_json::json;

use crate::config::manifest;
use crate::config::stack::Stack;
use crate::model::hooks::{HookFile, HookKind};
use crate::model::inert::inert;
use crate::plan::discovery::{self, DiscoveryOptions, Skipped};
use crate::plan::drivers::{self, DRIVER_DIR, DRIVER_PREFIX, VIRT_DRIVER};
use crate::plan::external::{self, EnabledPlugin};
use crate::plan::render::{limits_line, policy_lines, requested_lines};

/// One hook as listed.
pub struct ListedHook {
    pub file: HookFile,
    pub description: Option<String>,
    /// What its manifest requests, one line per kind (empty: nothing).
    pub requested: Vec<String>,
    /// For WASM hooks: what the operator grants, or why it would be refused.
    pub granted: Option<Result<Vec<String>, String>>,
}

/// One hypervisor driver file.
pub struct ListedDriver {
    pub name: String,
    pub kind: HookKind,
    pub path: PathBuf,
    /// `VIRT_DRIVER` names it.
    pub selected: bool,
}

/// The inventory of a stack.
pub struct Listing {
    pub top: PathBuf,
    pub hooks: Vec<ListedHook>,
    pub skipped: Vec<Skipped>,
    pub drivers: Vec<ListedDriver>,
    pub virt_driver: Option<String>,
    /// local.conf's `enable_plugin` lines, or what is wrong with them.
    pub plugins: Result<Vec<EnabledPlugin>, String>,
}

/// List the hooks and drivers of `stack` (`VIRT_DRIVER` may come from
/// local.conf or from the environment the stack was opened with).
pub fn list(stack: &Stack, allow_reserved: bool) -> anyhow::Result<Listing> {
    let found = discovery::discover(&stack.top, &DiscoveryOptions { allow_reserved })
        .map_err(anyhow::Error::new)?;
    let hooks = found
        .hooks
        .into_iter()
        .map(|f| list_hook(stack, f))
        .collect();
    let from_env = drivers::from_environment(stack);
    let virt_driver = drivers::selection(stack, from_env).map(|(name, _)| name);
    let drivers = list_drivers(stack, virt_driver.as_deref());
    let plugins = external::enabled_plugins(stack).map_err(|e| e.to_string());
    Ok(Listing {
        top: stack.top.clone(),
        hooks,
        skipped: found.skipped,
        drivers,
        virt_driver,
        plugins,
    })
}

fn list_hook(stack: &Stack, file: HookFile) -> ListedHook {
    let manifest = file.manifest.as_deref().map(manifest::load);
    let (description, requested, manifest_error) = match &manifest {
        Some(Ok(m)) => (
            m.description.clone(),
            requested_lines(&m.capabilities),
            None,
        ),
        Some(Err(e)) => (None, Vec::new(), Some(format!("{e:#}"))),
        None => (None, Vec::new(), None),
    };
    let granted = match file.kind {
        HookKind::Bash => None,
        HookKind::Wasm => Some(match manifest_error {
            Some(e) => Err(e),
            None => {
                let caps = manifest.and_then(Result::ok).map(|m| m.capabilities);
                let data_dir = stack.plugin_data_dir(&file.name);
                stack
                    .operator
                    .resolve(&stack.top, &file, caps.as_ref(), &data_dir)
                    .map(|policy| {
                        let mut lines = vec![limits_line(&policy)];
                        lines.extend(policy_lines(&policy));
                        lines
                    })
                    .map_err(|e| format!("{e:#}"))
            }
        }),
    };
    ListedHook {
        file,
        description,
        requested,
        granted,
    }
}

/// `lib/nova_plugins/hypervisor-<name>` (bash) and `...-<name>.wasm`.
fn list_drivers(stack: &Stack, selected: Option<&str>) -> Vec<ListedDriver> {
    let dir = stack.top.join(DRIVER_DIR);
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return Vec::new();
    };
    let mut drivers: Vec<ListedDriver> = entries
        .flatten()
        .filter(|e| e.path().is_file())
        .filter_map(|e| {
            let file = e.file_name().to_str()?.to_string();
            let rest = file.strip_prefix(DRIVER_PREFIX)?;
            let (name, kind) = match rest.strip_suffix(".wasm") {
                Some(name) => (name, HookKind::Wasm),
                None if !rest.contains('.') => (rest, HookKind::Bash),
                None => return None,
            };
            Some(ListedDriver {
                name: name.to_string(),
                kind,
                path: e.path(),
                selected: selected == Some(name),
            })
        })
        .collect();
    drivers.sort_by(|a, b| a.path.cmp(&b.path));
    drivers
}

impl Listing {
    /// The listing as people read it.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "stack {}: {} hook(s), {} driver(s)",
            self.top.display(),
            self.hooks.len(),
            self.drivers.len()
        );
        out.push_str("\nhooks (run order):\n");
        if self.hooks.is_empty() {
            out.push_str("  (none in extras.d/)\n");
        }
        for hook in &self.hooks {
            render_hook(&mut out, hook);
        }
        if !self.skipped.is_empty() {
            out.push_str("\nnot hooks (skipped):\n");
            for s in &self.skipped {
                let path = s.path.display().to_string();
                let _ = writeln!(out, "  {}: {}", inert(&path), inert(&s.reason));
            }
        }
        out.push_str("\nhypervisor drivers (lib/nova_plugins/):\n");
        if self.drivers.is_empty() {
            out.push_str("  (none)\n");
        }
        for d in &self.drivers {
            let mark = if d.selected { "  <- VIRT_DRIVER" } else { "" };
            let file = d.path.file_name().unwrap_or_default().to_string_lossy();
            let _ = writeln!(out, "  {:<14} {:<4}  {file}{mark}", d.name, d.kind);
        }
        match &self.virt_driver {
            Some(name) if !self.drivers.iter().any(|d| d.selected) => {
                let _ = writeln!(
                    out,
                    "  {VIRT_DRIVER}={name} names no driver here (expected {DRIVER_DIR}/{DRIVER_PREFIX}{name} or .wasm)"
                );
            }
            _ => {}
        }
        self.render_plugins(&mut out);
        out
    }

    /// local.conf's plugins, when it enables any (or cannot be read for them).
    fn render_plugins(&self, out: &mut String) {
        let plugins = match &self.plugins {
            Ok(plugins) if plugins.is_empty() => return,
            Ok(plugins) => plugins,
            Err(why) => {
                out.push_str("\nplugins (local.conf enable_plugin):\n");
                for line in why.lines() {
                    let _ = writeln!(out, "  PROBLEM  {line}");
                }
                return;
            }
        };
        out.push_str("\nplugins (local.conf enable_plugin, run after the hooks):\n");
        for p in plugins {
            let git_ref = p
                .git_ref
                .as_deref()
                .map_or(String::new(), |r| format!(" {r}"));
            let _ = writeln!(
                out,
                "  {:<14} {}{git_ref}  (local.conf line {})",
                p.name, p.url, p.line
            );
            let dir = p.dir.display();
            let state = match (p.checked_out, p.entry) {
                (false, _) => format!("not checked out yet: `hookhost stack` clones it into {dir}"),
                (true, Some(entry)) => format!("checked out in {dir}: runs {entry}"),
                (true, None) => format!(
                    "checked out in {dir}, but it has no devstack/plugin.sh, plugin.wasm or settings"
                ),
            };
            let _ = writeln!(out, "  {:<14} {state}", "");
        }
    }

    /// The listing as one JSON document.
    pub fn to_json(&self) -> serde_json::Value {
        let hooks: Vec<_> = self
            .hooks
            .iter()
            .map(|h| {
                let (granted, refused) = match &h.granted {
                    Some(Ok(lines)) => (Some(lines.clone()), None),
                    Some(Err(why)) => (None, Some(why.clone())),
                    None => (None, None),
                };
                json!({
                    "hook": h.file.stem, "kind": h.file.kind.to_string(), "path": h.file.path,
                    "manifest": h.file.manifest, "description": h.description,
                    "requested": h.requested, "granted": granted, "refused": refused,
                })
            })
            .collect();
        let drivers: Vec<_> = self
            .drivers
            .iter()
            .map(|d| json!({"name": d.name, "kind": d.kind.to_string(), "path": d.path, "selected": d.selected}))
            .collect();
        let (plugins, plugins_problem) = match &self.plugins {
            Ok(plugins) => (
                plugins
                    .iter()
                    .map(|p| {
                        json!({
                            "name": p.name, "url": p.url, "ref": p.git_ref, "line": p.line,
                            "dir": p.dir, "checked_out": p.checked_out, "entry": p.entry,
                        })
                    })
                    .collect::<Vec<_>>(),
                None,
            ),
            Err(why) => (Vec::new(), Some(why.clone())),
        };
        json!({
            "top": self.top, "hooks": hooks, "drivers": drivers,
            "virt_driver": self.virt_driver,
            "plugins": plugins, "plugins_problem": plugins_problem,
            "skipped": self.skipped.iter().map(|s| json!({"path": s.path, "reason": s.reason})).collect::<Vec<_>>(),
        })
    }
}

fn render_hook(out: &mut String, hook: &ListedHook) {
    let manifest = hook
        .file
        .manifest
        .as_ref()
        .and_then(|m| m.file_name())
        .map_or("no manifest".to_string(), |m| {
            m.to_string_lossy().into_owned()
        });
    let trust = match hook.file.kind {
        HookKind::Bash => "trusted",
        HookKind::Wasm => "sandboxed",
    };
    let _ = writeln!(
        out,
        "  {:<28} {:<4}  {trust:<9}  {manifest}",
        hook.file.file_name(),
        hook.file.kind
    );
    let pad = format!("  {:<28}       ", "");
    if let Some(description) = &hook.description {
        let _ = writeln!(out, "{pad}{}", inert(description));
    }
    for line in &hook.requested {
        let _ = writeln!(out, "{pad}requests {line}");
    }
    match &hook.granted {
        Some(Ok(lines)) => {
            for line in lines {
                let _ = writeln!(out, "{pad}granted  {line}");
            }
        }
        Some(Err(why)) => {
            for (i, line) in why.lines().enumerate() {
                let label = if i == 0 { "REFUSED  " } else { "         " };
                let _ = writeln!(out, "{pad}{label}{line}");
            }
        }
        None => {}
    }
}
