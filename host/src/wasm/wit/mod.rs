//! The WIT versions this host runs, one module per version (as Zed's
//! extension host keeps `since_v0_1_0.rs`, `since_v0_2_0.rs`, ...): each
//! module holds its version's bindings and implements its imports over the
//! host's own helpers ([`super::host`]), converting to and from its types.
//! [`WitVersion`] names the versions; [`HookIndices`]/[`Hook`] and
//! [`DriverIndices`]/[`Driver`] hold a loaded component's exports, whatever
//! its version, so the rest of the runtime never looks at a version.
//!
//! Every version is linked into the one linker: a 0.1.0 component imports
//! `hookhost:plugin/host@0.1.0`, a 0.2.0 one `...@0.2.0`, and both run in
//! the same stack over the same variable space.
//!
//! Adding a version: a folder `wit/vX.Y.Z/`, a module `since_vX_Y_Z.rs`, a
//! variant in each enum here. Earlier modules are not changed.

pub(crate) mod since_v0_1_0;
pub(crate) mod since_v0_2_0;

use std::fmt;

use wasmtime::component::{HasSelf, Instance, InstancePre, Linker};
use wasmtime::Store;

use super::host::PluginState;
use super::plugin::DriverCall;
use crate::model::phases::Phase;

/// The package every hookhost interface belongs to.
const PACKAGE: &str = "hookhost:plugin/";

/// A WIT version of `hookhost:plugin` this host runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum WitVersion {
    V0_1_0,
    V0_2_0,
}

impl WitVersion {
    /// Every version this host runs, oldest first.
    pub const ALL: [WitVersion; 2] = [WitVersion::V0_1_0, WitVersion::V0_2_0];
    /// What `hookhost new` scaffolds and the SDK builds by default.
    pub const LATEST: WitVersion = WitVersion::V0_2_0;

    pub fn as_str(self) -> &'static str {
        match self {
            WitVersion::V0_1_0 => "0.1.0",
            WitVersion::V0_2_0 => "0.2.0",
        }
    }

    pub fn parse(text: &str) -> Option<WitVersion> {
        WitVersion::ALL.into_iter().find(|v| v.as_str() == text)
    }

    /// The interfaces of this version a component may import.
    fn imports(self) -> &'static [&'static str] {
        match self {
            WitVersion::V0_1_0 => &["host", "types"],
            WitVersion::V0_2_0 => &["host", "types", "config", "source"],
        }
    }

    /// `hookhost:plugin/hook@X`.
    pub fn hook_export(self) -> String {
        format!("{PACKAGE}hook@{self}")
    }

    /// `hookhost:plugin/driver@X`.
    pub fn driver_export(self) -> String {
        format!("{PACKAGE}driver@{self}")
    }
}

impl fmt::Display for WitVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `0.1.0 and 0.2.0`, for refusals.
pub fn known_versions() -> String {
    let all: Vec<&str> = WitVersion::ALL.iter().map(|v| v.as_str()).collect();
    match all.split_last() {
        Some((last, [])) => last.to_string(),
        Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
        None => String::new(),
    }
}

/// Link every version's imports.
pub fn add_to_linker(linker: &mut Linker<PluginState>) -> wasmtime::Result<()> {
    since_v0_1_0::HookAndDriverPlugin::add_to_linker::<_, HasSelf<_>>(linker, |s| s)?;
    since_v0_2_0::HookAndDriverPlugin::add_to_linker::<_, HasSelf<_>>(linker, |s| s)?;
    Ok(())
}

/// The version a component was built for, read from the hookhost names it
/// imports and exports; or why it is refused: it names a version this host
/// does not run, mixes versions, imports an interface its version does not
/// have, or imports something that is neither hookhost nor WASI.
pub fn version_of(imports: &[String], exports: &[String]) -> Result<WitVersion, String> {
    let mut found: Option<(WitVersion, &str)> = None;
    for (name, imported) in imports
        .iter()
        .map(|n| (n, true))
        .chain(exports.iter().map(|n| (n, false)))
    {
        let Some((interface, version)) = name
            .strip_prefix(PACKAGE)
            .map(|rest| rest.split_once('@').unwrap_or((rest, "")))
        else {
            if imported && !name.starts_with("wasi:") {
                return Err(format!(
                    "imports {name}, which hookhost does not provide (it provides \
                     {PACKAGE}host of WIT versions {} and WASI 0.2)",
                    known_versions()
                ));
            }
            continue;
        };
        let verb = if imported { "imports" } else { "exports" };
        let Some(known) = WitVersion::parse(version) else {
            return Err(format!(
                "{verb} {name}, built for WIT version {}, but this hookhost runs WIT versions \
                 {}; upgrade hookhost or rebuild the plugin against one of those",
                if version.is_empty() {
                    "(none)"
                } else {
                    version
                },
                known_versions()
            ));
        };
        if imported && !known.imports().contains(&interface) {
            return Err(format!(
                "imports {name}, which WIT version {known} does not have (it has {})",
                known.imports().join(", ")
            ));
        }
        match found {
            Some((first, first_name)) if first != known => {
                return Err(format!(
                    "mixes WIT versions: {first_name} is {first}, {name} is {known}; \
                     rebuild it against one version"
                ))
            }
            Some(_) => {}
            None => found = Some((known, name)),
        }
    }
    Ok(found.map_or(WitVersion::LATEST, |(v, _)| v))
}

/// Where a component's `hook` export is, per version.
pub enum HookIndices {
    V0_1_0(since_v0_1_0::hook::GuestIndices),
    V0_2_0(since_v0_2_0::hook::GuestIndices),
}

/// A live instance's `hook` export, per version.
#[derive(Clone)]
pub enum Hook {
    V0_1_0(since_v0_1_0::hook::Guest),
    V0_2_0(since_v0_2_0::hook::Guest),
}

impl HookIndices {
    pub fn new(version: WitVersion, pre: &InstancePre<PluginState>) -> wasmtime::Result<Self> {
        Ok(match version {
            WitVersion::V0_1_0 => HookIndices::V0_1_0(since_v0_1_0::hook::GuestIndices::new(pre)?),
            WitVersion::V0_2_0 => HookIndices::V0_2_0(since_v0_2_0::hook::GuestIndices::new(pre)?),
        })
    }

    pub fn load(
        &self,
        store: &mut Store<PluginState>,
        instance: &Instance,
    ) -> wasmtime::Result<Hook> {
        Ok(match self {
            HookIndices::V0_1_0(i) => Hook::V0_1_0(i.load(store, instance)?),
            HookIndices::V0_2_0(i) => Hook::V0_2_0(i.load(store, instance)?),
        })
    }
}

impl Hook {
    /// Call `run` for `phase`.
    pub fn run(
        &self,
        store: &mut Store<PluginState>,
        phase: Phase,
    ) -> wasmtime::Result<Result<(), String>> {
        match self {
            Hook::V0_1_0(g) => g.call_run(store, since_v0_1_0::phase(phase)),
            Hook::V0_2_0(g) => g.call_run(store, since_v0_2_0::phase(phase)),
        }
    }
}

/// Where a component's `driver` export is, per version.
pub enum DriverIndices {
    V0_1_0(since_v0_1_0::driver::GuestIndices),
    V0_2_0(since_v0_2_0::driver::GuestIndices),
}

/// A live instance's `driver` export, per version.
#[derive(Clone)]
pub enum Driver {
    V0_1_0(since_v0_1_0::driver::Guest),
    V0_2_0(since_v0_2_0::driver::Guest),
}

impl DriverIndices {
    pub fn new(version: WitVersion, pre: &InstancePre<PluginState>) -> wasmtime::Result<Self> {
        Ok(match version {
            WitVersion::V0_1_0 => {
                DriverIndices::V0_1_0(since_v0_1_0::driver::GuestIndices::new(pre)?)
            }
            WitVersion::V0_2_0 => {
                DriverIndices::V0_2_0(since_v0_2_0::driver::GuestIndices::new(pre)?)
            }
        })
    }

    pub fn load(
        &self,
        store: &mut Store<PluginState>,
        instance: &Instance,
    ) -> wasmtime::Result<Driver> {
        Ok(match self {
            DriverIndices::V0_1_0(i) => Driver::V0_1_0(i.load(store, instance)?),
            DriverIndices::V0_2_0(i) => Driver::V0_2_0(i.load(store, instance)?),
        })
    }
}

impl Driver {
    /// Call one of the five driver functions.
    pub fn call(
        &self,
        store: &mut Store<PluginState>,
        call: DriverCall,
    ) -> wasmtime::Result<Result<(), String>> {
        match self {
            Driver::V0_1_0(g) => since_v0_1_0::call_driver(g, store, call),
            Driver::V0_2_0(g) => since_v0_2_0::call_driver(g, store, call),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn each_known_version_is_recognised() {
        for v in WitVersion::ALL {
            let imports = names(&[
                &format!("hookhost:plugin/host@{v}"),
                "wasi:cli/stdout@0.2.3",
            ]);
            assert_eq!(version_of(&imports, &[v.hook_export()]), Ok(v));
        }
    }

    #[test]
    fn an_unknown_version_is_refused_naming_both() {
        let e = version_of(&names(&["hookhost:plugin/host@0.3.0"]), &[]).unwrap_err();
        assert!(e.contains("0.3.0") && e.contains("0.1.0 and 0.2.0"), "{e}");
        let e = version_of(&[], &names(&["hookhost:plugin/hook@1.0.0"])).unwrap_err();
        assert!(e.starts_with("exports hookhost:plugin/hook@1.0.0"), "{e}");
    }

    #[test]
    fn mixed_versions_and_missing_interfaces_are_refused() {
        let e = version_of(
            &names(&["hookhost:plugin/host@0.1.0"]),
            &names(&["hookhost:plugin/hook@0.2.0"]),
        )
        .unwrap_err();
        assert!(e.starts_with("mixes WIT versions"), "{e}");
        let e = version_of(&names(&["hookhost:plugin/config@0.1.0"]), &[]).unwrap_err();
        assert!(e.contains("which WIT version 0.1.0 does not have"), "{e}");
        let e = version_of(&names(&["evil:x/y"]), &[]).unwrap_err();
        assert!(e.contains("which hookhost does not provide"), "{e}");
    }
}
