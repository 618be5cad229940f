//! The helpers a plugin imports (`hookhost:plugin/host`), checked against
//! the plugin's [`Policy`] before they reach the run's shared variable space.
//!
//! The runtime does not know how the variable space is kept (the run keeps
//! it in its bash session); it talks to it through [`HostServices`].

use std::sync::{Arc, Mutex};

use wasmtime::component::ResourceTable;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

use super::bindings::{host, types};
use super::output::{GuestOutput, Stream};
use crate::capabilities::Policy;

/// What the run provides to every plugin: the shared variable space and the
/// DevStack helpers over it. Implemented by the run over its bash session.
pub trait HostServices: Send {
    fn get_var(&mut self, name: &str) -> anyhow::Result<Option<String>>;
    fn set_var(&mut self, name: &str, value: &str) -> anyhow::Result<()>;
    fn is_service_enabled(&mut self, services: &[String]) -> anyhow::Result<bool>;
    fn enable_service(&mut self, services: &[String]) -> anyhow::Result<()>;
    fn disable_service(&mut self, services: &[String]) -> anyhow::Result<()>;
    /// Call a shell function of the session; its output lines go to `out`.
    fn call_function(
        &mut self,
        name: &str,
        args: &[String],
        out: &mut dyn FnMut(Stream, &str),
    ) -> anyhow::Result<i32>;
    /// Install packages (`really`), or record that `hook` wanted them.
    fn install_packages(
        &mut self,
        hook: &str,
        names: &[String],
        really: bool,
    ) -> anyhow::Result<()>;
    /// A warning to collect for the run's summary.
    fn warn(&mut self, hook: &str, message: &str);
}

/// The shared services, as each plugin's store holds them.
pub type SharedServices = Arc<Mutex<dyn HostServices>>;

/// The error a plugin's `die` raises; the run reports it as the hook's failure.
#[derive(Debug)]
pub struct Died(pub String);

impl std::fmt::Display for Died {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "died: {}", self.0)
    }
}

impl std::error::Error for Died {}

/// Everything one plugin's store holds.
pub struct PluginState {
    pub(super) name: String,
    pub(super) policy: Policy,
    pub(super) services: SharedServices,
    pub(super) output: GuestOutput,
    pub(super) wasi: WasiCtx,
    pub(super) table: ResourceTable,
    pub(super) limiter: super::sandbox::Limiter,
}

impl WasiView for PluginState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl PluginState {
    fn services(&self) -> std::sync::MutexGuard<'_, dyn HostServices + 'static> {
        self.services.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn read(&self, name: &str) -> wasmtime::Result<Option<String>> {
        if !self.policy.may_read_var(name) {
            // Ungranted variables read as unset: a plugin cannot tell a
            // secret exists. The denial is still recorded for the operator.
            return Ok(None);
        }
        host_result(self.services().get_var(name))
    }
}

/// A failure of the host side (e.g. the bash session ended) traps the guest.
fn host_result<T>(result: anyhow::Result<T>) -> wasmtime::Result<T> {
    result.map_err(|e| wasmtime::Error::msg(format!("host call failed: {e:#}")))
}

impl types::Host for PluginState {}

impl host::Host for PluginState {
    fn get_var(&mut self, name: String) -> wasmtime::Result<Option<String>> {
        self.read(&name)
    }

    fn set_var(&mut self, name: String, value: String) -> wasmtime::Result<Result<(), String>> {
        if !self.policy.may_write_var(&name) {
            return Ok(Err(format!(
                "{} may not set variable {name}: not granted (vars-write)",
                self.name
            )));
        }
        host_result(self.services().set_var(&name, &value)).map(Ok)
    }

    fn is_service_enabled(&mut self, services: Vec<String>) -> wasmtime::Result<bool> {
        host_result(self.services().is_service_enabled(&services))
    }

    fn enable_service(&mut self, services: Vec<String>) -> wasmtime::Result<()> {
        host_result(self.services().enable_service(&services))
    }

    fn disable_service(&mut self, services: Vec<String>) -> wasmtime::Result<()> {
        host_result(self.services().disable_service(&services))
    }

    fn trueorfalse(&mut self, default: bool, name: String) -> wasmtime::Result<bool> {
        Ok(match self.read(&name)?.as_deref() {
            Some("1" | "yes" | "Yes" | "YES" | "true" | "True" | "TRUE" | "on" | "On" | "ON") => {
                true
            }
            Some(
                "0" | "no" | "No" | "NO" | "false" | "False" | "FALSE" | "off" | "Off" | "OFF",
            ) => false,
            _ => default,
        })
    }

    fn echo_summary(&mut self, message: String) -> wasmtime::Result<()> {
        self.output.line(Stream::Stdout, &message);
        Ok(())
    }

    fn warn(&mut self, message: String) -> wasmtime::Result<()> {
        self.output
            .line(Stream::Stderr, &format!("[WARNING] {message}"));
        self.services().warn(&self.name, &message);
        Ok(())
    }

    fn die(&mut self, message: String) -> wasmtime::Result<()> {
        Err(wasmtime::Error::new(Died(message)))
    }

    fn install_package(&mut self, names: Vec<String>) -> wasmtime::Result<Result<(), String>> {
        if let Some(name) = names.iter().find(|n| !self.policy.may_install(n)) {
            return Ok(Err(format!(
                "{} may not install package {name}: not requested in its manifest (packages)",
                self.name
            )));
        }
        let really = self.policy.install;
        if !really {
            let note = format!(
                "install_package: would install {} (no install grant; pass --allow-install)",
                names.join(" ")
            );
            self.output.line(Stream::Stdout, &note);
        }
        let name = self.name.clone();
        host_result(self.services().install_packages(&name, &names, really)).map(Ok)
    }

    fn run_command(
        &mut self,
        command: String,
        args: Vec<String>,
    ) -> wasmtime::Result<Result<types::CommandOutput, String>> {
        if !self.policy.may_run(&command, &args) {
            return Ok(Err(format!(
                "{} may not run `{}`: not granted (commands)",
                self.name,
                shown_command(&command, &args)
            )));
        }
        Ok(super::command::run(&command, &args, self.policy.timeout))
    }

    fn call_function(
        &mut self,
        name: String,
        args: Vec<String>,
    ) -> wasmtime::Result<Result<i32, String>> {
        if !self.policy.may_call_function(&name) {
            return Ok(Err(format!(
                "{} may not call function {name}: not granted (functions)",
                self.name
            )));
        }
        let output = self.output.clone();
        let mut out = |stream: Stream, line: &str| output.line(stream, line);
        host_result(self.services().call_function(&name, &args, &mut out)).map(Ok)
    }
}

fn shown_command(command: &str, args: &[String]) -> String {
    std::iter::once(command)
        .chain(args.iter().map(String::as_str))
        .collect::<Vec<_>>()
        .join(" ")
}
