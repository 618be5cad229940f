//! Host-side bindings for the WIT package `hookhost:plugin@0.1.0`.
//!
//! One `bindgen!` over the widest world (hook and driver) gives the host
//! trait and both export interfaces; the runtime picks the exports a
//! component actually has, so hook-only and driver-only components load
//! through the same code.

wasmtime::component::bindgen!({
    path: "../wit/v0.1.0",
    world: "hook-and-driver-plugin",
    imports: {
        // `die` and `call-function` may end the guest with a trap.
        default: trappable,
    },
});

pub use self::exports::hookhost::plugin::{driver, hook};
pub use self::hookhost::plugin::{host, types};

/// The fully-qualified names the host looks for in a component.
pub const HOOK_EXPORT: &str = "hookhost:plugin/hook@0.1.0";
pub const DRIVER_EXPORT: &str = "hookhost:plugin/driver@0.1.0";
pub const HOST_IMPORT: &str = "hookhost:plugin/host@0.1.0";
/// Everything of hookhost's own a component may import.
pub const PROVIDED_IMPORTS: [&str; 2] = [HOST_IMPORT, "hookhost:plugin/types@0.1.0"];
pub const WIT_VERSION: &str = "0.1.0";
