//! The export macros of WIT 0.2.0: the same [`Hook`](crate::Hook) and
//! [`Driver`](crate::Driver) traits as 0.1.0, exported as 0.2.0's
//! `hook` and `driver` interfaces. Use them through [`super`]:
//! `hookhost_sdk::v0_2::export_hook!(MyHook);`.

/// Export `$ty` (a [`Hook`](crate::Hook)) as a WIT 0.2.0 `hook-plugin`.
#[doc(hidden)]
#[macro_export]
macro_rules! __hookhost_v0_2_export_hook {
    ($ty:ty) => {
        const _: () = {
            $crate::__private::instance!(__HOOKHOST_INSTANCE, $ty);
            struct __HookhostExport;
            $crate::v0_2::__private::impl_hook!(__HookhostExport, $ty, __HOOKHOST_INSTANCE);
            $crate::v0_2::bindings::hook_plugin::export_hook_plugin_v0_2!(
                __HookhostExport with_types_in $crate::v0_2::bindings::hook_plugin
            );
        };
    };
}

/// Export `$ty` (a [`Driver`](crate::Driver)) as a WIT 0.2.0 `driver-plugin`.
#[doc(hidden)]
#[macro_export]
macro_rules! __hookhost_v0_2_export_driver {
    ($ty:ty) => {
        const _: () = {
            $crate::__private::instance!(__HOOKHOST_INSTANCE, $ty);
            struct __HookhostExport;
            $crate::v0_2::__private::impl_driver!(__HookhostExport, $ty, __HOOKHOST_INSTANCE);
            $crate::v0_2::bindings::driver_plugin::export_driver_plugin_v0_2!(
                __HookhostExport with_types_in $crate::v0_2::bindings::driver_plugin
            );
        };
    };
}

/// Export `$ty` as both 0.2.0 interfaces (world `hook-and-driver-plugin`).
#[doc(hidden)]
#[macro_export]
macro_rules! __hookhost_v0_2_export_hook_and_driver {
    ($ty:ty) => {
        const _: () = {
            $crate::__private::instance!(__HOOKHOST_INSTANCE, $ty);
            struct __HookhostExport;
            $crate::v0_2::__private::impl_hook!(__HookhostExport, $ty, __HOOKHOST_INSTANCE);
            $crate::v0_2::__private::impl_driver!(__HookhostExport, $ty, __HOOKHOST_INSTANCE);
            $crate::v0_2::bindings::hook_plugin::export_hook_plugin_v0_2!(
                __HookhostExport with_types_in $crate::v0_2::bindings::hook_plugin
            );
            $crate::v0_2::bindings::driver_plugin::export_driver_plugin_v0_2!(
                __HookhostExport with_types_in $crate::v0_2::bindings::driver_plugin
            );
        };
    };
}

/// Support for the 0.2.0 export macros; not public API.
#[doc(hidden)]
pub mod __private {
    use std::thread::LocalKey;

    pub use crate::v0_2::bindings::driver_plugin::exports::hookhost::plugin::driver::Guest as DriverGuest;
    pub use crate::v0_2::bindings::hook_plugin::exports::hookhost::plugin::hook::Guest as HookGuest;
    pub use crate::v0_2::bindings::hook_plugin::hookhost::plugin::types::{Phase, StackStep};

    use crate::__private::{with_instance, Instance};
    use crate::error::Result;
    use crate::Hook;

    /// Call the [`Hook`] method for `phase`.
    pub fn dispatch<T: Hook>(hook: &mut T, phase: Phase) -> Result {
        match phase {
            Phase::Source => hook.source(),
            Phase::Stack(StackStep::PreInstall) => hook.pre_install(),
            Phase::Stack(StackStep::Install) => hook.install(),
            Phase::Stack(StackStep::PostConfig) => hook.post_config(),
            Phase::Stack(StackStep::Extra) => hook.extra(),
            Phase::Stack(StackStep::TestConfig) => hook.test_config(),
            Phase::Unstack => hook.unstack(),
            Phase::Clean => hook.clean(),
            Phase::OverrideDefaults => hook.override_defaults(),
        }
    }

    pub fn run_hook<T: Hook>(
        key: &'static LocalKey<Instance<T>>,
        phase: Phase,
    ) -> std::result::Result<(), String> {
        with_instance(key, |hook| dispatch(hook, phase))
    }

    #[doc(hidden)]
    #[macro_export]
    macro_rules! __hookhost_v0_2_impl_hook {
        ($export:ident, $ty:ty, $instance:ident) => {
            impl $crate::v0_2::__private::HookGuest for $export {
                fn run(
                    phase: $crate::v0_2::__private::Phase,
                ) -> ::core::result::Result<(), ::std::string::String> {
                    $crate::v0_2::__private::run_hook::<$ty>(&$instance, phase)
                }
            }
        };
    }
    pub use __hookhost_v0_2_impl_hook as impl_hook;

    #[doc(hidden)]
    #[macro_export]
    macro_rules! __hookhost_v0_2_impl_driver {
        ($export:ident, $ty:ty, $instance:ident) => {
            impl $crate::v0_2::__private::DriverGuest for $export {
                fn install_nova_hypervisor() -> ::core::result::Result<(), ::std::string::String> {
                    $crate::__private::run_driver::<$ty>(
                        &$instance,
                        <$ty as $crate::Driver>::install_nova_hypervisor,
                    )
                }
                fn configure_nova_hypervisor() -> ::core::result::Result<(), ::std::string::String>
                {
                    $crate::__private::run_driver::<$ty>(
                        &$instance,
                        <$ty as $crate::Driver>::configure_nova_hypervisor,
                    )
                }
                fn start_nova_hypervisor() -> ::core::result::Result<(), ::std::string::String> {
                    $crate::__private::run_driver::<$ty>(
                        &$instance,
                        <$ty as $crate::Driver>::start_nova_hypervisor,
                    )
                }
                fn stop_nova_hypervisor() -> ::core::result::Result<(), ::std::string::String> {
                    $crate::__private::run_driver::<$ty>(
                        &$instance,
                        <$ty as $crate::Driver>::stop_nova_hypervisor,
                    )
                }
                fn cleanup_nova_hypervisor() -> ::core::result::Result<(), ::std::string::String> {
                    $crate::__private::run_driver::<$ty>(
                        &$instance,
                        <$ty as $crate::Driver>::cleanup_nova_hypervisor,
                    )
                }
            }
        };
    }
    pub use __hookhost_v0_2_impl_driver as impl_driver;
}
