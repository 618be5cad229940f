//! Generated bindings for `hookhost:plugin@0.1.0` (not public API).
//!
//! The imports (`types`, `host`) are generated once, in [`hook_plugin`], and
//! reused by [`driver_plugin`] through `with:`. Each world's export macro is
//! `#[macro_export]`ed and emits the world's `component-type` custom section in
//! the *plugin* crate, so a plugin only claims the exports it implements.
//!
//! There is no third `generate!` for `hook-and-driver-plugin`: generating the
//! `hook` or `driver` export twice would `#[macro_export]` two macros with the
//! same name (E0428). `export_hook_and_driver!` invokes both world export
//! macros instead; `wit-component` unions the two `component-type` sections
//! (imports `host`, exports `hook` and `driver`), which is exactly the
//! `hook-and-driver-plugin` world.

/// World `hook-plugin`: imports `types` and `host`, exports `hook`.
pub mod hook_plugin {
    wit_bindgen::generate!({
        path: "../wit/v0.1.0",
        world: "hookhost:plugin/hook-plugin@0.1.0",
        additional_derives: [PartialEq, Eq],
        pub_export_macro: true,
        export_macro_name: "export_hook_plugin",
        default_bindings_module: "$crate::bindings::hook_plugin",
    });
}

/// World `driver-plugin`: reuses the imports of [`hook_plugin`], exports `driver`.
pub mod driver_plugin {
    wit_bindgen::generate!({
        path: "../wit/v0.1.0",
        world: "hookhost:plugin/driver-plugin@0.1.0",
        with: {
            "hookhost:plugin/types@0.1.0": crate::bindings::hook_plugin::hookhost::plugin::types,
            "hookhost:plugin/host@0.1.0": crate::bindings::hook_plugin::hookhost::plugin::host,
        },
        pub_export_macro: true,
        export_macro_name: "export_driver_plugin",
        default_bindings_module: "$crate::bindings::driver_plugin",
    });
}
