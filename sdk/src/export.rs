//! The traits a plugin implements and the macros that export them.

use crate::error::Result;

/// An extras.d hook: one method per phase, each a no-op by default.
///
/// Implement the phases you need and export the type with
/// [`export_hook!`](crate::export_hook). The host calls the method matching
/// DevStack's hook arguments (shown on each method). Every entry point
/// (`stack`, `unstack`, `clean`) starts with [`source`](Hook::source), so
/// phases must be re-entrant within a run.
///
/// One value of the type lives for the whole run: it is created with
/// [`Default`] just before the first phase that is called, and every later
/// phase of the run gets the same value, like the shell state a bash hook
/// keeps between phases. Use fields for what `source` computes and later
/// phases use. (Nothing survives between runs: persist to
/// [`data_dir`](crate::data_dir) for that.)
///
/// An `Err` fails the hook with its message; so does a panic (the host
/// reports the panic text) or [`die`](crate::die).
///
/// ```
/// use hookhost_sdk::{echo_summary, export_hook, get_var, Hook, Result};
///
/// #[derive(Default)]
/// struct Greeter {
///     name: String,
/// }
///
/// impl Hook for Greeter {
///     fn source(&mut self) -> Result {
///         self.name = get_var("GREETING_NAME").unwrap_or_else(|| "world".into());
///         Ok(())
///     }
///
///     fn install(&mut self) -> Result {
///         echo_summary(format!("Hello, {}", self.name));
///         Ok(())
///     }
/// }
///
/// export_hook!(Greeter);
/// ```
pub trait Hook: Default + 'static {
    /// `source`: first in every entry point. Set defaults and the state
    /// later phases use (DevStack sources `lib/<name>` here).
    fn source(&mut self) -> Result {
        Ok(())
    }

    /// `stack pre-install`: after OS setup, before project source is installed.
    fn pre_install(&mut self) -> Result {
        Ok(())
    }

    /// `stack install`: after the layer 1 and 2 projects and their
    /// dependencies are installed.
    fn install(&mut self) -> Result {
        Ok(())
    }

    /// `stack post-config`: after the layer 1 and 2 services are configured.
    fn post_config(&mut self) -> Result {
        Ok(())
    }

    /// `stack extra`: near the end, after the layer 1 and 2 services started.
    fn extra(&mut self) -> Result {
        Ok(())
    }

    /// `stack test-config` (opt-in extension, later DevStack): after `extra`.
    fn test_config(&mut self) -> Result {
        Ok(())
    }

    /// `unstack`: before other services are shut down.
    fn unstack(&mut self) -> Result {
        Ok(())
    }

    /// `clean`: remove state and transient data. `clean` runs `unstack` first.
    fn clean(&mut self) -> Result {
        Ok(())
    }

    /// `override_defaults` (opt-in extension, later DevStack): before `source`.
    fn override_defaults(&mut self) -> Result {
        Ok(())
    }
}

/// A hypervisor driver (`lib/nova_plugins/hypervisor-<name>.wasm`, selected by
/// `VIRT_DRIVER=<name>`). All five functions are required.
///
/// Export with [`export_driver!`](crate::export_driver), or
/// [`export_hook_and_driver!`](crate::export_hook_and_driver) for a type that
/// is also a [`Hook`]. As with hooks, one value lives for the whole run.
///
/// ```
/// use hookhost_sdk::{echo_summary, export_driver, Driver, Result};
///
/// #[derive(Default)]
/// struct Fake;
///
/// impl Driver for Fake {
///     fn install_nova_hypervisor(&mut self) -> Result {
///         echo_summary("Installing the fake hypervisor");
///         Ok(())
///     }
///     fn configure_nova_hypervisor(&mut self) -> Result { Ok(()) }
///     fn start_nova_hypervisor(&mut self) -> Result { Ok(()) }
///     fn stop_nova_hypervisor(&mut self) -> Result { Ok(()) }
///     fn cleanup_nova_hypervisor(&mut self) -> Result { Ok(()) }
/// }
///
/// export_driver!(Fake);
/// ```
pub trait Driver: Default + 'static {
    /// Install any external requirements (during `stack install`).
    fn install_nova_hypervisor(&mut self) -> Result;
    /// Make configuration changes, including those to other services
    /// (during `stack install`, after `install_nova_hypervisor`).
    fn configure_nova_hypervisor(&mut self) -> Result;
    /// Start any external services (after `stack post-config`).
    fn start_nova_hypervisor(&mut self) -> Result;
    /// Stop any external services (during `unstack`, after the unstack hooks).
    fn stop_nova_hypervisor(&mut self) -> Result;
    /// Remove transient data and cache (during `clean`, after the clean hooks).
    fn cleanup_nova_hypervisor(&mut self) -> Result;
}

/// Export `$ty` (a [`Hook`]) as this component's `hook` interface
/// (world `hook-plugin`). Use once per plugin crate, at the top level.
///
/// ```
/// #[derive(Default)]
/// struct Noop;
/// impl hookhost_sdk::Hook for Noop {}
/// hookhost_sdk::export_hook!(Noop);
/// ```
#[macro_export]
macro_rules! export_hook {
    ($ty:ty) => {
        const _: () = {
            $crate::__private::instance!(__HOOKHOST_INSTANCE, $ty);
            struct __HookhostExport;
            $crate::__private::impl_hook!(__HookhostExport, $ty, __HOOKHOST_INSTANCE);
            $crate::bindings::hook_plugin::export_hook_plugin!(
                __HookhostExport with_types_in $crate::bindings::hook_plugin
            );
        };
    };
}

/// Export `$ty` (a [`Driver`]) as this component's `driver` interface
/// (world `driver-plugin`). Use once per plugin crate, at the top level.
#[macro_export]
macro_rules! export_driver {
    ($ty:ty) => {
        const _: () = {
            $crate::__private::instance!(__HOOKHOST_INSTANCE, $ty);
            struct __HookhostExport;
            $crate::__private::impl_driver!(__HookhostExport, $ty, __HOOKHOST_INSTANCE);
            $crate::bindings::driver_plugin::export_driver_plugin!(
                __HookhostExport with_types_in $crate::bindings::driver_plugin
            );
        };
    };
}

/// Export `$ty` (a [`Hook`] and a [`Driver`]) as both the `hook` and the
/// `driver` interface (world `hook-and-driver-plugin`). Hook phases and driver
/// functions share one value of `$ty` for the whole run.
///
/// ```
/// use hookhost_sdk::{Driver, Hook, Result};
///
/// #[derive(Default)]
/// struct Both {
///     installed: bool,
/// }
///
/// impl Hook for Both {
///     fn install(&mut self) -> Result {
///         self.installed = true;
///         Ok(())
///     }
/// }
///
/// impl Driver for Both {
///     fn install_nova_hypervisor(&mut self) -> Result { Ok(()) }
///     fn configure_nova_hypervisor(&mut self) -> Result { Ok(()) }
///     fn start_nova_hypervisor(&mut self) -> Result {
///         if !self.installed {
///             hookhost_sdk::bail!("not installed");
///         }
///         Ok(())
///     }
///     fn stop_nova_hypervisor(&mut self) -> Result { Ok(()) }
///     fn cleanup_nova_hypervisor(&mut self) -> Result { Ok(()) }
/// }
///
/// hookhost_sdk::export_hook_and_driver!(Both);
/// ```
#[macro_export]
macro_rules! export_hook_and_driver {
    ($ty:ty) => {
        const _: () = {
            $crate::__private::instance!(__HOOKHOST_INSTANCE, $ty);
            struct __HookhostExport;
            $crate::__private::impl_hook!(__HookhostExport, $ty, __HOOKHOST_INSTANCE);
            $crate::__private::impl_driver!(__HookhostExport, $ty, __HOOKHOST_INSTANCE);
            // Two `component-type` sections (hook-plugin, driver-plugin) that
            // wit-component unions into the hook-and-driver-plugin world.
            $crate::bindings::hook_plugin::export_hook_plugin!(
                __HookhostExport with_types_in $crate::bindings::hook_plugin
            );
            $crate::bindings::driver_plugin::export_driver_plugin!(
                __HookhostExport with_types_in $crate::bindings::driver_plugin
            );
        };
    };
}

/// Support for the export macros; not public API.
#[doc(hidden)]
pub mod __private {
    use std::cell::RefCell;
    use std::thread::LocalKey;

    pub use crate::bindings::driver_plugin::exports::hookhost::plugin::driver::Guest as DriverGuest;
    pub use crate::bindings::hook_plugin::exports::hookhost::plugin::hook::Guest as HookGuest;
    pub use crate::bindings::hook_plugin::hookhost::plugin::types::{Phase, StackStep};

    use super::{Driver, Hook};
    use crate::error::Result;

    /// The plugin's one value for the run, created on first use.
    pub struct Instance<T>(pub(crate) RefCell<Option<T>>);

    impl<T> Instance<T> {
        #[allow(clippy::new_without_default)]
        pub const fn new() -> Self {
            Self(RefCell::new(None))
        }
    }

    /// Run `f` on the run's value of `T`, creating it with `Default` first.
    pub fn with_instance<T: Default + 'static>(
        key: &'static LocalKey<Instance<T>>,
        f: impl FnOnce(&mut T) -> Result,
    ) -> std::result::Result<(), String> {
        key.with(|instance| {
            // The component model forbids re-entering a component, so this
            // borrow is never contended.
            let mut slot = instance.0.borrow_mut();
            f(slot.get_or_insert_with(T::default)).map_err(String::from)
        })
    }

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

    pub fn run_driver<T: Driver>(
        key: &'static LocalKey<Instance<T>>,
        f: fn(&mut T) -> Result,
    ) -> std::result::Result<(), String> {
        with_instance(key, f)
    }

    #[doc(hidden)]
    #[macro_export]
    macro_rules! __hookhost_instance {
        ($name:ident, $ty:ty) => {
            ::std::thread_local! {
                static $name: $crate::__private::Instance<$ty> =
                    const { $crate::__private::Instance::new() };
            }
        };
    }
    pub use __hookhost_instance as instance;

    #[doc(hidden)]
    #[macro_export]
    macro_rules! __hookhost_impl_hook {
        ($export:ident, $ty:ty, $instance:ident) => {
            impl $crate::__private::HookGuest for $export {
                fn run(
                    phase: $crate::__private::Phase,
                ) -> ::core::result::Result<(), ::std::string::String> {
                    $crate::__private::run_hook::<$ty>(&$instance, phase)
                }
            }
        };
    }
    pub use __hookhost_impl_hook as impl_hook;

    #[doc(hidden)]
    #[macro_export]
    macro_rules! __hookhost_impl_driver {
        ($export:ident, $ty:ty, $instance:ident) => {
            impl $crate::__private::DriverGuest for $export {
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
    pub use __hookhost_impl_driver as impl_driver;
}

#[cfg(test)]
mod tests {
    use super::__private::{dispatch, with_instance, Instance, Phase, StackStep};
    use super::*;

    #[derive(Default)]
    struct Recorder {
        calls: Vec<&'static str>,
    }

    impl Hook for Recorder {
        fn source(&mut self) -> Result {
            self.calls.push("source");
            Ok(())
        }
        fn pre_install(&mut self) -> Result {
            self.calls.push("stack pre-install");
            Ok(())
        }
        fn install(&mut self) -> Result {
            self.calls.push("stack install");
            Ok(())
        }
        fn post_config(&mut self) -> Result {
            self.calls.push("stack post-config");
            Ok(())
        }
        fn extra(&mut self) -> Result {
            self.calls.push("stack extra");
            Ok(())
        }
        fn test_config(&mut self) -> Result {
            self.calls.push("stack test-config");
            Ok(())
        }
        fn unstack(&mut self) -> Result {
            self.calls.push("unstack");
            Ok(())
        }
        fn clean(&mut self) -> Result {
            self.calls.push("clean");
            crate::bail!("clean failed")
        }
        fn override_defaults(&mut self) -> Result {
            self.calls.push("override_defaults");
            Ok(())
        }
    }

    #[test]
    fn dispatch_maps_every_phase() {
        let phases = [
            (Phase::OverrideDefaults, "override_defaults"),
            (Phase::Source, "source"),
            (Phase::Stack(StackStep::PreInstall), "stack pre-install"),
            (Phase::Stack(StackStep::Install), "stack install"),
            (Phase::Stack(StackStep::PostConfig), "stack post-config"),
            (Phase::Stack(StackStep::Extra), "stack extra"),
            (Phase::Stack(StackStep::TestConfig), "stack test-config"),
            (Phase::Unstack, "unstack"),
            (Phase::Clean, "clean"),
        ];
        let mut hook = Recorder::default();
        for (phase, _) in phases {
            let _ = dispatch(&mut hook, phase);
        }
        let expected: Vec<_> = phases.iter().map(|(_, name)| *name).collect();
        assert_eq!(hook.calls, expected);
    }

    #[derive(Default)]
    struct Noop;
    impl Hook for Noop {}

    #[test]
    fn default_phases_are_no_ops() {
        for phase in [
            Phase::Source,
            Phase::Stack(StackStep::Install),
            Phase::Unstack,
            Phase::Clean,
        ] {
            assert!(dispatch(&mut Noop, phase).is_ok());
        }
    }

    thread_local! {
        static INSTANCE: Instance<Recorder> = const { Instance::new() };
    }

    #[test]
    fn one_instance_per_run_and_errors_become_strings() {
        let run = |phase| with_instance(&INSTANCE, |h: &mut Recorder| dispatch(h, phase));
        assert_eq!(run(Phase::Source), Ok(()));
        assert_eq!(run(Phase::Stack(StackStep::Install)), Ok(()));
        assert_eq!(run(Phase::Clean), Err("clean failed".to_string()));
        let calls = INSTANCE.with(|i| i.0.borrow().as_ref().unwrap().calls.clone());
        assert_eq!(calls, ["source", "stack install", "clean"]);
    }
}
