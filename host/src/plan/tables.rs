//! The operator's grant tables against the stack's plugins: a
//! `[grants.NAME]` table that names no hook, external plugin or driver
//! grants nothing, and a typo there (`[grants.greter]`) would otherwise
//! pass silently while the plugin meant is refused or runs without it.

use crate::config::operator::grant_table;
use crate::config::stack::{Stack, OPERATOR_CONFIG};
use crate::model::hooks::HookFile;
use crate::model::suggest::hint;
use crate::plan::drivers::{DRIVER_DIR, DRIVER_PREFIX};

/// A warning for each grant table of `stack` that matches none of
/// `hooks` (by name or stem), the external plugins local.conf enables or
/// the drivers in lib/nova_plugins; each with the nearest plugin name.
pub(crate) fn unmatched_tables(stack: &Stack, hooks: &[HookFile]) -> Vec<String> {
    let mut names: Vec<String> = hooks.iter().map(|h| h.name.clone()).collect();
    let stems: Vec<String> = hooks.iter().map(|h| h.stem.clone()).collect();
    if let Some(conf) = &stack.local_conf {
        names.extend(conf.plugins().into_iter().map(|p| p.name));
    }
    names.extend(drivers(stack));
    let file = stack.top.join(OPERATOR_CONFIG);
    let mut warnings = Vec::new();
    for table in stack.operator.grants.keys() {
        if table == "*" || names.contains(table) || stems.contains(table) {
            continue;
        }
        let suggestion = hint(table, names.iter().map(String::as_str));
        let shown = crate::config::manifest::escape_controls(&grant_table(table));
        warnings.push(format!(
            "{}: {shown} matches no hook, plugin or driver of this stack, so it grants \
             nothing{suggestion}; name a plugin as [grants.NAME] (NAME from extras.d/NN-NAME)",
            file.display()
        ));
    }
    warnings
}

/// The plugin names of the stack's hypervisor drivers (`hypervisor-fake`).
fn drivers(stack: &Stack) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(stack.top.join(DRIVER_DIR)) else {
        return Vec::new();
    };
    let mut names: Vec<String> = entries
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            let stem = name.split('.').next().unwrap_or_default().to_string();
            stem.starts_with(DRIVER_PREFIX).then_some(stem)
        })
        .collect();
    names.sort();
    names.dedup();
    names
}
