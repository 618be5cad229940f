//! Write hookhost plugins in Rust.
//!
//! A hookhost plugin is a WebAssembly component that runs as one of a stack's
//! DevStack-style hooks (`extras.d/NN-name.wasm`) or as a hypervisor driver
//! (`lib/nova_plugins/hypervisor-<name>.wasm`). This crate is all a plugin
//! needs:
//!
//! - a trait per export, [`Hook`] (a no-op default per phase) and [`Driver`]
//!   (five required functions);
//! - a macro to export it: [`export_hook!`], [`export_driver!`] or
//!   [`export_hook_and_driver!`];
//! - safe wrappers for the host's helpers, the same ones bash hooks get:
//!   [`get_var`], [`set_var`], [`is_service_enabled`], [`enable_service`],
//!   [`disable_service`], [`trueorfalse`], [`echo_summary`], [`warn`], [`die`],
//!   [`install_package`], [`run_command`], [`call_function`], plus
//!   [`data_dir`] for the plugin's private files;
//! - an [`Error`] type (any `std::error::Error` converts with `?`), [`bail!`]
//!   and [`Context`].
//!
//! # A complete plugin
//!
//! `Cargo.toml`:
//!
//! ```toml
//! [package]
//! name = "template"
//! version = "0.1.0"
//! edition = "2021"
//!
//! [lib]
//! crate-type = ["cdylib"]
//!
//! [dependencies]
//! hookhost-sdk = { path = "../../sdk" }
//! ```
//!
//! `src/lib.rs`, the Rust version of DevStack's `extras.d` template:
//!
//! ```
//! use hookhost_sdk::prelude::*;
//!
//! #[derive(Default)]
//! struct Template;
//!
//! impl Hook for Template {
//!     fn pre_install(&mut self) -> Result {
//!         if is_service_enabled("template") {
//!             echo_summary("Configuring system services Template");
//!             install_package(&["cowsay"])?;
//!         }
//!         Ok(())
//!     }
//!
//!     fn post_config(&mut self) -> Result {
//!         if is_service_enabled("template") {
//!             let greeting = get_var("TEMPLATE_GREETING").unwrap_or_else(|| "Hello".into());
//!             std::fs::write(data_dir().join("template.conf"), format!("greeting = {greeting}\n"))
//!                 .context("writing template.conf")?;
//!         }
//!         Ok(())
//!     }
//! }
//!
//! export_hook!(Template);
//! ```
//!
//! Build it to a component with `scripts/build-plugins.sh template` in the
//! hookhost repository (which picks the right toolchain), or on a machine with
//! the rustup target: `cargo build --release --target wasm32-wasip2`. The
//! output `target/wasm32-wasip2/release/template.wasm` is already a component;
//! copy it to `extras.d/50-template.wasm` with a manifest `50-template.toml`
//! beside it requesting what it uses (here `vars-read = ["TEMPLATE_GREETING"]`,
//! `packages = ["cowsay"]`).
//!
//! # How the pieces map to the WIT
//!
//! The bindings are generated from `wit/v0.1.0` (`hookhost:plugin@0.1.0`).
//! `export_hook!` produces world `hook-plugin`, `export_driver!` world
//! `driver-plugin`, `export_hook_and_driver!` world `hook-and-driver-plugin`.
//! A phase's `Err(e)` becomes the `run` result's error string. The value of
//! the exported type lives for the whole run (the host keeps one component
//! instance per run), created with `Default` before the first call.
//!
//! The crate also compiles for native targets, so a workspace can lint and
//! unit-test plugin logic natively; calling a host helper there panics.

#![warn(missing_docs)]

#[doc(hidden)]
pub mod bindings;
mod error;
mod export;
mod host;
pub mod v0_2;

pub use error::{Context, Error, Result};
#[doc(hidden)]
pub use export::__private;
pub use export::{Driver, Hook};
pub use host::{
    call_function, data_dir, die, disable_service, echo_summary, enable_service, get_var,
    install_package, is_service_enabled, run_command, set_var, trueorfalse, warn, CommandOutput,
    Names, DATA_DIR,
};

/// Everything a plugin usually needs: `use hookhost_sdk::prelude::*;`.
pub mod prelude {
    pub use crate::{
        bail, call_function, data_dir, die, disable_service, echo_summary, enable_service,
        export_driver, export_hook, export_hook_and_driver, get_var, install_package,
        is_service_enabled, run_command, set_var, trueorfalse, warn, CommandOutput, Context,
        Driver, Error, Hook, Result,
    };
}
