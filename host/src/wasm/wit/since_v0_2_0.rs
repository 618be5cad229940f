//! WIT `hookhost:plugin@0.2.0` (`wit/v0.2.0`): its bindings, and its
//! imports implemented over the host's helpers, errors typed
//! ([`HostError`] to `types::Error`): a denial names the capability and
//! the grant that would allow it; `get-var` tells unset from denied; the
//! `config` (INI) and `source` (git) interfaces.

wasmtime::component::bindgen!({
    path: "../wit/v0.2.0",
    world: "hook-and-driver-plugin",
    imports: {
        // `die` and `call-function` may end the guest with a trap.
        default: trappable,
    },
});

pub use self::exports::hookhost::plugin::{driver, hook};
pub use self::hookhost::plugin::{config, host, source, types};

use wasmtime::Store;

use crate::model::phases::{Phase, StackStep};
use crate::wasm::command::CommandOutput;
use crate::wasm::host::PluginState;
use crate::wasm::plugin::DriverCall;
use crate::wasm::HostError;

type Typed<T> = wasmtime::Result<Result<T, types::Error>>;

impl types::Host for PluginState {}

impl host::Host for PluginState {
    fn get_var(&mut self, name: String) -> Typed<Option<String>> {
        Ok(typed(self.var("get-var", &name)?))
    }

    fn set_var(&mut self, name: String, value: String) -> Typed<()> {
        Ok(typed(self.set_variable(&name, &value)?))
    }

    fn is_service_enabled(&mut self, services: Vec<String>) -> wasmtime::Result<bool> {
        self.services_enabled(&services)
    }

    fn enable_service(&mut self, services: Vec<String>) -> wasmtime::Result<()> {
        self.enable_services(&services)
    }

    fn disable_service(&mut self, services: Vec<String>) -> wasmtime::Result<()> {
        self.disable_services(&services)
    }

    fn trueorfalse(&mut self, default: bool, name: String) -> Typed<bool> {
        let value = typed(self.var("trueorfalse", &name)?);
        Ok(value.map(|v| PluginState::truth(default, v.as_deref())))
    }

    fn echo_summary(&mut self, message: String) -> wasmtime::Result<()> {
        self.summary(&message);
        Ok(())
    }

    fn warn(&mut self, message: String) -> wasmtime::Result<()> {
        self.warning(&message);
        Ok(())
    }

    fn die(&mut self, message: String) -> wasmtime::Result<()> {
        Err(self.died(&message))
    }

    fn install_package(&mut self, names: Vec<String>) -> Typed<()> {
        Ok(typed(self.install_packages(names)?))
    }

    fn is_package_installed(&mut self, names: Vec<String>) -> Typed<bool> {
        Ok(typed(self.packages_installed(names)?))
    }

    fn run_command(&mut self, command: String, args: Vec<String>) -> Typed<types::CommandOutput> {
        Ok(typed(self.run_granted(&command, &args)?).map(output))
    }

    fn call_function(&mut self, name: String, args: Vec<String>) -> Typed<i32> {
        Ok(typed(self.call_shell_function(&name, &args)?))
    }
}

impl config::Host for PluginState {
    fn iniset(
        &mut self,
        file: String,
        section: String,
        option: String,
        value: String,
    ) -> Typed<()> {
        Ok(typed(self.ini_set(
            &file,
            &section,
            &option,
            &[value],
            false,
        )?))
    }

    fn iniset_multiline(
        &mut self,
        file: String,
        section: String,
        option: String,
        values: Vec<String>,
    ) -> Typed<()> {
        Ok(typed(
            self.ini_set(&file, &section, &option, &values, true)?,
        ))
    }

    fn iniget(&mut self, file: String, section: String, option: String) -> Typed<Option<String>> {
        Ok(typed(self.ini_get(&file, &section, &option)?))
    }

    fn ini_has_option(&mut self, file: String, section: String, option: String) -> Typed<bool> {
        Ok(typed(self.ini_get(&file, &section, &option)?).map(|v| v.is_some()))
    }

    fn inicomment(&mut self, file: String, section: String, option: String) -> Typed<()> {
        Ok(typed(self.ini_comment(&file, &section, &option)?))
    }
}

impl source::Host for PluginState {
    fn git_clone(
        &mut self,
        repository: String,
        destination: String,
        reference: Option<String>,
    ) -> Typed<()> {
        Ok(typed(self.git_clone(
            &repository,
            &destination,
            reference.as_deref(),
        )?))
    }
}

/// The host's error as 0.2.0's `error` variant.
fn typed<T>(reply: Result<T, HostError>) -> Result<T, types::Error> {
    reply.map_err(|e| match e {
        HostError::Denied(d) => types::Error::Denied(types::CapabilityDenied {
            capability: d.capability,
            item: d.item,
            grant: d.grant,
            message: d.message,
        }),
        HostError::NotFound(m) => types::Error::NotFound(m),
        HostError::Invalid(m) => types::Error::Invalid(m),
        HostError::Failed(m) => types::Error::Failed(m),
    })
}

fn output(o: CommandOutput) -> types::CommandOutput {
    types::CommandOutput {
        status: o.status,
        stdout: o.stdout,
        stderr: o.stderr,
    }
}

/// A phase as 0.2.0 names it.
pub fn phase(phase: Phase) -> types::Phase {
    match phase {
        Phase::OverrideDefaults => types::Phase::OverrideDefaults,
        Phase::Source => types::Phase::Source,
        Phase::Unstack => types::Phase::Unstack,
        Phase::Clean => types::Phase::Clean,
        Phase::Stack(step) => types::Phase::Stack(match step {
            StackStep::PreInstall => types::StackStep::PreInstall,
            StackStep::Install => types::StackStep::Install,
            StackStep::PostConfig => types::StackStep::PostConfig,
            StackStep::Extra => types::StackStep::Extra,
            StackStep::TestConfig => types::StackStep::TestConfig,
        }),
    }
}

pub fn call_driver(
    driver: &driver::Guest,
    store: &mut Store<PluginState>,
    call: DriverCall,
) -> wasmtime::Result<Result<(), String>> {
    match call {
        DriverCall::Install => driver.call_install_nova_hypervisor(store),
        DriverCall::Configure => driver.call_configure_nova_hypervisor(store),
        DriverCall::Start => driver.call_start_nova_hypervisor(store),
        DriverCall::Stop => driver.call_stop_nova_hypervisor(store),
        DriverCall::Cleanup => driver.call_cleanup_nova_hypervisor(store),
    }
}
