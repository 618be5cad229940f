//! An external WASM plugin's settings files (`settings`,
//! `override-defaults`), which a component cannot source: their statements
//! were read when the plan was made and are applied here, to the variable
//! space, before the plugin's call in that phase.

use anyhow::bail;

use crate::bash::Outcome;
use crate::config::localconf::{Line, Op};
use crate::run::space::{describe, Space};

/// Apply a WASM plugin's settings statements to the variable space, as
/// sourcing them would: `$NAME` expands from the space at that moment.
pub(super) fn apply_ops(space: &mut Space, ops: &[Line<Op>]) -> Result<(), String> {
    for op in ops {
        apply_op(space, &op.value).map_err(|e| format!("settings line {}: {e:#}", op.line))?;
    }
    Ok(())
}

fn apply_op(space: &mut Space, op: &Op) -> anyhow::Result<()> {
    let (function, args): (&str, Vec<&str>) = match op {
        Op::Set {
            name,
            value,
            append,
            ..
        } => {
            let mut text = match append {
                true => space.var(name)?.unwrap_or_default(),
                false => String::new(),
            };
            let mut failed = None;
            text.push_str(&value.expand(|var| match space.var(var) {
                Ok(v) => v.unwrap_or_default(),
                Err(e) => {
                    failed = Some(e);
                    String::new()
                }
            }));
            if let Some(e) = failed {
                return Err(e);
            }
            return space.assign(name, &text);
        }
        Op::EnableService(names) => ("enable_service", names.iter().map(String::as_str).collect()),
        Op::DisableService(names) => (
            "disable_service",
            names.iter().map(String::as_str).collect(),
        ),
        Op::DisableAllServices => ("disable_all_services", Vec::new()),
        Op::EnablePlugin { .. } => bail!("enable_plugin belongs in local.conf"),
    };
    match space.ask(function, &args)? {
        Outcome::Success => Ok(()),
        other => bail!("{function} {}", describe(&other)),
    }
}
