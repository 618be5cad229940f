//! WIT `hookhost:plugin@0.1.0` (`wit/v0.1.0`): its bindings, and its
//! imports implemented over the host's helpers. Like its WIT, this module
//! does not change: a 0.1.0 plugin sees exactly what it always saw (errors
//! as strings, an ungranted variable as unset, a bad argument to a call
//! without an error channel failing the hook).

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

use wasmtime::Store;

use crate::model::phases::{Phase, StackStep};
use crate::wasm::command::CommandOutput;
use crate::wasm::host::PluginState;
use crate::wasm::plugin::DriverCall;
use crate::wasm::HostError;

impl types::Host for PluginState {}

impl host::Host for PluginState {
    fn get_var(&mut self, name: String) -> wasmtime::Result<Option<String>> {
        read(self, "get-var", &name)
    }

    fn set_var(&mut self, name: String, value: String) -> wasmtime::Result<Result<(), String>> {
        Ok(message(self.set_variable(&name, &value)?))
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

    fn trueorfalse(&mut self, default: bool, name: String) -> wasmtime::Result<bool> {
        let value = read(self, "trueorfalse", &name)?;
        Ok(PluginState::truth(default, value.as_deref()))
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

    fn install_package(&mut self, names: Vec<String>) -> wasmtime::Result<Result<(), String>> {
        Ok(message(self.install_packages(names)?))
    }

    fn run_command(
        &mut self,
        command: String,
        args: Vec<String>,
    ) -> wasmtime::Result<Result<types::CommandOutput, String>> {
        Ok(message(self.run_granted(&command, &args)?).map(output))
    }

    fn call_function(
        &mut self,
        name: String,
        args: Vec<String>,
    ) -> wasmtime::Result<Result<i32, String>> {
        Ok(message(self.call_shell_function(&name, &args)?))
    }
}

/// 0.1.0's reading of a variable: a denial reads as unset, so a plugin
/// cannot tell a secret exists; an invalid name fails the hook (the call
/// has no error channel).
fn read(state: &PluginState, call: &str, name: &str) -> wasmtime::Result<Option<String>> {
    match state.var(call, name)? {
        Ok(value) => Ok(value),
        Err(HostError::Denied(_)) => Ok(None),
        Err(e) => Err(PluginState::bad_argument_trap(e)),
    }
}

/// 0.1.0 errors are the message alone.
fn message<T>(reply: Result<T, HostError>) -> Result<T, String> {
    reply.map_err(|e| e.message().to_string())
}

fn output(o: CommandOutput) -> types::CommandOutput {
    types::CommandOutput {
        status: o.status,
        stdout: o.stdout,
        stderr: o.stderr,
    }
}

/// A phase as 0.1.0 names it.
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
