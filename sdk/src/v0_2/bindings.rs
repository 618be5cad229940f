//! Generated bindings for `hookhost:plugin@0.2.0` (not public API), laid
//! out as the 0.1.0 ones ([`crate::bindings`]): the imports generated once
//! in [`hook_plugin`], reused by [`driver_plugin`]; each world's export
//! macro emits its `component-type` section in the plugin crate.
//!
//! wit-bindgen names a world's hidden export macro after the world
//! (`__export_hook_plugin_impl`), and `#[macro_export]` puts it at the
//! crate root, where the 0.1.0 world of the same name already is: so each
//! 0.2.0 world is wrapped, unchanged, in a world of its own name
//! (`hook-plugin-v0-2`, by `include`).

/// World `hook-plugin` of 0.2.0: imports `types`, `host`, `config`, `source`; exports `hook`.
pub mod hook_plugin {
    wit_bindgen::generate!({
        inline: "package hookhost:sdk@0.2.0;
                 world hook-plugin-v0-2 { include hookhost:plugin/hook-plugin@0.2.0; }",
        path: "../wit/v0.2.0",
        world: "hookhost:sdk/hook-plugin-v0-2@0.2.0",
        // The interfaces are another package's (hookhost:plugin).
        generate_all,
        additional_derives: [PartialEq, Eq],
        pub_export_macro: true,
        export_macro_name: "export_hook_plugin_v0_2",
        default_bindings_module: "$crate::v0_2::bindings::hook_plugin",
    });
}

/// World `driver-plugin` of 0.2.0: reuses the imports of [`hook_plugin`], exports `driver`.
pub mod driver_plugin {
    wit_bindgen::generate!({
        inline: "package hookhost:sdk@0.2.0;
                 world driver-plugin-v0-2 { include hookhost:plugin/driver-plugin@0.2.0; }",
        path: "../wit/v0.2.0",
        world: "hookhost:sdk/driver-plugin-v0-2@0.2.0",
        with: {
            "hookhost:plugin/types@0.2.0": crate::v0_2::bindings::hook_plugin::hookhost::plugin::types,
            "hookhost:plugin/host@0.2.0": crate::v0_2::bindings::hook_plugin::hookhost::plugin::host,
            "hookhost:plugin/config@0.2.0": crate::v0_2::bindings::hook_plugin::hookhost::plugin::config,
            "hookhost:plugin/source@0.2.0": crate::v0_2::bindings::hook_plugin::hookhost::plugin::source,
        },
        pub_export_macro: true,
        export_macro_name: "export_driver_plugin_v0_2",
        default_bindings_module: "$crate::v0_2::bindings::driver_plugin",
    });
}
