//! The manifest a WASM hook's run uses. `hookhost build` embeds the
//! plugin's manifest in the component (custom section
//! [`MANIFEST_SECTION`](crate::wasm::sections::MANIFEST_SECTION)); it counts:
//!
//! - only the `.toml` beside it: that one;
//! - only the embedded one: that one (a component copied without its
//!   `.toml` keeps its capabilities instead of running without them);
//! - both: the `.toml` (the operator's copy) wins; when they differ, a
//!   note in `plan` and in the run says so;
//! - neither: a WIT 0.2.0 (or later) component is refused (it must say
//!   what it requests, an empty `[capabilities]` if nothing); a 0.1.0
//!   component runs with no capabilities, as it always did, and `plan`
//!   says so (a 0.1.0 component has no way to say it requests nothing).

use std::path::Path;

use crate::config::manifest::{self, Manifest};
use crate::model::hooks::{HookFile, HookKind};
use crate::wasm::sections::read_sections;
use crate::wasm::wit::{self, WitVersion};

/// The manifest chosen for a hook, and a note for the operator.
pub struct Chosen {
    pub manifest: Option<Manifest>,
    pub note: Option<String>,
}

/// Choose the manifest of `file` as described at the top.
pub fn manifest_for(file: &HookFile) -> anyhow::Result<Chosen> {
    let beside = match &file.manifest {
        Some(path) => Some(manifest::load(path)?),
        None => None,
    };
    if file.kind != HookKind::Wasm {
        return Ok(Chosen {
            manifest: beside,
            note: None,
        });
    }
    // A file that cannot be read or parsed is refused when it is loaded,
    // with the error `inspect` and `stack` give; here it has no manifest.
    let bytes = std::fs::read(&file.path).unwrap_or_default();
    let sections = read_sections(&bytes).ok();
    let embedded = match sections
        .as_ref()
        .and_then(|s| s.embedded_manifest.as_deref())
    {
        Some(text) => Some(embedded_manifest(&file.path, text)?),
        None => None,
    };
    let shown = file.path.display();
    let note = match (&beside, &embedded) {
        (Some(b), Some(e)) if b != e => Some(format!(
            "{shown}: the manifest beside it ({}) differs from the one embedded in it by \
             `hookhost build`; the run uses the one beside it (rebuild the plugin, or fix the \
             .toml, to make them agree)",
            file.manifest.as_deref().unwrap_or(Path::new("")).display()
        )),
        (None, None) => {
            return match sections
                .as_ref()
                .and_then(|s| plugin_version(&s.imports, &s.exports))
            {
                Some(v) if v > WitVersion::V0_1_0 => Err(no_manifest(file, v)),
                // 0.1.0 plugins run as they always did (test fixtures
                // among them); not a hookhost plugin of a known version:
                // loading it says what is wrong.
                _ => Ok(Chosen {
                    manifest: None,
                    note: None,
                }),
            };
        }
        _ => None,
    };
    Ok(Chosen {
        manifest: beside.or(embedded),
        note,
    })
}

/// The WIT version of a component that exports something of hookhost's.
fn plugin_version(imports: &[String], exports: &[String]) -> Option<WitVersion> {
    let plugin = exports.iter().any(|e| e.starts_with("hookhost:plugin/"));
    plugin
        .then(|| wit::version_of(imports, exports).ok())
        .flatten()
}

fn embedded_manifest(path: &Path, text: &str) -> anyhow::Result<Manifest> {
    let shown = format!("{} (the manifest embedded in it)", path.display());
    manifest::parse_str(Path::new(&shown), text)
}

fn no_manifest(file: &HookFile, version: WitVersion) -> anyhow::Error {
    anyhow::anyhow!(
        "{}: no manifest: none beside it ({}) and none embedded in it; a WIT {version} \
         plugin must say what it requests: put the manifest beside it (`[capabilities]` \
         alone when it needs nothing) or build it with `hookhost build`, which embeds it",
        file.path.display(),
        file.path.with_extension("toml").display()
    )
}
