//! One hook of a plan, and how a hook file becomes one: its manifest read
//! and its request weighed against the operator's grants. Shared by every
//! producer of hooks (extras.d, external plugins), so none of them calls
//! back into the assembly of the plan.

use crate::capabilities::Policy;
use crate::config::manifest::Manifest;
use crate::config::stack::Stack;
use crate::model::hooks::{HookFile, HookKind};
use crate::plan::external::ExternalPlugin;

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
    /// [`super::embedded`]), shown in `plan` and the run.
    pub note: Option<String>,
}

/// Plan one hook: its manifest, and its policy (a WASM hook's grants and
/// data directory by name, a confined bash hook's paths).
pub(crate) fn plan_hook(stack: &Stack, file: HookFile) -> anyhow::Result<PlannedHook> {
    let super::embedded::Chosen { manifest, note } = super::embedded::manifest_for(&file)?;
    let policy = match file.kind {
        HookKind::Bash => confined_policy(stack, &file, manifest.as_ref())?,
        HookKind::Wasm => {
            let requested = manifest.as_ref().map(|m| &m.capabilities);
            let data_dir = stack.plugin_data_dir(&file.name);
            let mut policy = stack
                .operator
                .resolve(&stack.top, &file, requested, &data_dir)?;
            policy.root = Some(stack.empty_root());
            Some(policy)
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
