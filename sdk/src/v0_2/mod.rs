//! Plugins for WIT 0.2.0 (`hookhost:plugin@0.2.0`, `wit/v0.2.0`).
//!
//! The SDK keeps one module per WIT version: the crate root builds 0.1.0
//! components (as it always did), this module 0.2.0 ones. A plugin picks
//! its version by what it imports, nothing else changes:
//!
//! ```
//! use hookhost_sdk::v0_2::prelude::*;
//!
//! #[derive(Default)]
//! struct Nova;
//!
//! impl Hook for Nova {
//!     fn post_config(&mut self) -> Result {
//!         let conf = "/stack/etc/nova/nova.conf";
//!         iniset(conf, "DEFAULT", "debug", "True")?;
//!         match get_var("NOVA_CELLS") {
//!             Ok(Some(cells)) => iniset(conf, "cells", "count", cells)?,
//!             Ok(None) => {}
//!             Err(e) if e.is_denied() => warn(format!("cells left alone: {e}")),
//!             Err(e) => return Err(e.into()),
//!         }
//!         Ok(())
//!     }
//! }
//!
//! export_hook!(Nova);
//! ```
//!
//! What 0.2.0 changes for a plugin:
//!
//! - every helper with an error returns [`HostError`]: `Denied` names the
//!   capability and the grant that would allow it; `?` turns it into the
//!   hook's [`Error`](crate::Error);
//! - [`get_var`] returns `Ok(None)` for unset and `Err(Denied)` for a
//!   variable it may not read; [`trueorfalse`] can be denied too;
//! - new: [`iniset`], [`iniset_multiline`], [`iniget`],
//!   [`ini_has_option`], [`inicomment`] (on guest paths inside the
//!   plugin's grants), [`is_package_installed`], [`git_clone`].
//!
//! The [`Hook`](crate::Hook) and [`Driver`](crate::Driver) traits,
//! [`Error`](crate::Error), [`bail!`](crate::bail) and
//! [`Context`](crate::Context) are the crate root's.

#[doc(hidden)]
pub mod bindings;
mod export;
mod host;

pub use crate::host::{data_dir, CommandOutput, Names, DATA_DIR};
#[doc(hidden)]
pub use export::__private;
pub use host::{
    call_function, die, disable_service, echo_summary, enable_service, get_var, git_clone,
    ini_has_option, inicomment, iniget, iniset, iniset_multiline, install_package,
    is_package_installed, is_service_enabled, run_command, set_var, trueorfalse, warn, HostError,
    HostResult,
};

pub use crate::__hookhost_v0_2_export_driver as export_driver;
pub use crate::__hookhost_v0_2_export_hook as export_hook;
pub use crate::__hookhost_v0_2_export_hook_and_driver as export_hook_and_driver;

/// Everything a 0.2.0 plugin usually needs: `use hookhost_sdk::v0_2::prelude::*;`.
pub mod prelude {
    pub use super::{
        call_function, data_dir, die, disable_service, echo_summary, enable_service, export_driver,
        export_hook, export_hook_and_driver, get_var, git_clone, ini_has_option, inicomment,
        iniget, iniset, iniset_multiline, install_package, is_package_installed,
        is_service_enabled, run_command, set_var, trueorfalse, warn, CommandOutput, HostError,
        HostResult,
    };
    pub use crate::{bail, Context, Driver, Error, Hook, Result};
}
