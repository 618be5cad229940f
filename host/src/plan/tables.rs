//! The operator's grant tables against the stack's plugins: a
//! `[grants.NAME]` table that names no hook, external plugin or driver
//! grants nothing, and a typo there (`[grants.greter]`) would otherwise
//! pass silently while the plugin meant is refused or runs without it.
//! Which plugin a table names is [`table_matches`]'s rule: `NN-name` a
//! hook file's stem, any other key a plugin's name.

use crate::config::operator::{grant_table, numbered, table_matches};
use crate::config::stack::{Stack, OPERATOR_CONFIG};
use crate::model::hooks::HookFile;
use crate::model::inert::inert;
use crate::model::suggest::hint;
use crate::plan::drivers::{DRIVER_DIR, DRIVER_PREFIX};

/// A warning for each grant table of `stack` that matches none of
/// `hooks` (by the rule of [`table_matches`]), the external plugins
/// local.conf enables or the drivers in lib/nova_plugins; each with the
/// nearest plugin name, or the stem that names the plugin it looks meant
/// for.
pub(crate) fn unmatched_tables(stack: &Stack, hooks: &[HookFile]) -> Vec<String> {
    let mut others: Vec<String> = Vec::new();
    if let Some(conf) = &stack.local_conf {
        others.extend(conf.plugins().into_iter().map(|p| p.name));
    }
    others.extend(drivers(stack));
    let names: Vec<&str> = hooks
        .iter()
        .map(|h| h.name.as_str())
        .chain(others.iter().map(String::as_str))
        .collect();
    let file = stack.top.join(OPERATOR_CONFIG);
    let mut warnings = Vec::new();
    for table in stack.operator.grants.keys() {
        let matched = table == "*"
            || hooks.iter().any(|h| table_matches(table, h))
            || (!numbered(table) && others.contains(table));
        if matched {
            continue;
        }
        let suggestion = match hooks.iter().find(|h| h.name == *table) {
            // `[grants.20-nova]` with only `50-20-nova.wasm` in extras.d.
            Some(hook) => format!(
                " (a table named NN-name names the hook file of that stem; the plugin \
                 {} is {})",
                inert(&hook.file_name()),
                grant_table(&hook.stem)
            ),
            None => hint(table, names.iter().copied()),
        };
        let shown = inert(&grant_table(table)).into_owned();
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
