//! One running plugin: its store, its instance and the calls into it.
//!
//! A plugin instance lives for the whole run, as a bash hook's shell state
//! does: whatever it set up in `source` is there in later phases. Each call
//! gets the plugin's time limit; a trap (panic, limit, `die`) fails the call
//! and retires the instance, so later phases report it rather than run it.

use std::time::Duration;

use wasmtime::{ResourceLimiter, Store, Trap};

use super::files::{self, FileGuard};
use super::host::{Died, PluginState, SharedServices, TimeLimit};
use super::load::{first_line, LoadedComponent};
use super::output::{GuestOutput, LineSink};
use super::sandbox::{self, Limiter};
use super::wit::{Driver, Hook};
use super::{Runtime, EPOCH_TICK};
use crate::capabilities::Policy;
use crate::model::phases::Phase;
use crate::model::units::{show_limit as show_duration, show_size};

/// How one plugin is set up for a run.
pub struct PluginConfig {
    /// The hook's stem (`50-template`), used in messages.
    pub name: String,
    pub policy: Policy,
    pub services: SharedServices,
    /// Where its output lines go.
    pub sink: LineSink,
}

/// The five calls of a hypervisor driver.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DriverCall {
    Install,
    Configure,
    Start,
    Stop,
    Cleanup,
}

impl DriverCall {
    pub fn function_name(self) -> &'static str {
        match self {
            DriverCall::Install => "install_nova_hypervisor",
            DriverCall::Configure => "configure_nova_hypervisor",
            DriverCall::Start => "start_nova_hypervisor",
            DriverCall::Stop => "stop_nova_hypervisor",
            DriverCall::Cleanup => "cleanup_nova_hypervisor",
        }
    }
}

/// Why a call into a plugin failed, with the tail of what it printed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallFailure {
    pub reason: String,
    /// What the operator can do about it, when the host knows (a limit
    /// the grants can raise).
    pub help: Option<String>,
    pub output_tail: Vec<String>,
}

/// The advice for a plugin stopped at its time limit.
pub(crate) const TIME_LIMIT_HELP: &str = "raise it with `timeout` in the operator's grants";

/// The advice for a plugin stopped at its memory limit.
const MEMORY_LIMIT_HELP: &str = "raise it with `memory` in the operator's grants";

/// A guest call, or why it failed around the call itself.
enum Guarded<T> {
    Called(T),
    Refused(String),
}

/// A live plugin instance.
pub struct Plugin {
    store: Store<PluginState>,
    hook: Option<Hook>,
    driver: Option<Driver>,
    output: GuestOutput,
    timeout: Duration,
    /// Set once the instance trapped: it is not entered again.
    retired: Option<String>,
}

impl Runtime {
    /// Instantiate a loaded component for one run.
    pub fn instantiate(
        &self,
        loaded: &LoadedComponent,
        config: PluginConfig,
    ) -> Result<Plugin, CallFailure> {
        let output = GuestOutput::new(config.sink);
        let wasi =
            sandbox::wasi_ctx(&config.name, &config.policy, &output).map_err(|e| CallFailure {
                reason: format!("cannot set up its sandbox: {e:#}"),
                help: None,
                output_tail: Vec::new(),
            })?;
        let timeout = config.policy.timeout;
        let state = PluginState {
            name: config.name,
            limiter: Limiter::new(config.policy.memory),
            files: FileGuard::new(&config.policy),
            policy: config.policy,
            services: config.services,
            output: output.clone(),
            wasi,
            table: wasmtime::component::ResourceTable::new(),
            deadline: std::time::Instant::now() + timeout,
            phase: "start".to_string(),
            warnings: 0,
            spent: Default::default(),
        };
        // The engine that compiled it (see `tier`).
        let mut store = Store::new(loaded.pre.engine(), state);
        store.limiter(|state| &mut state.limiter as &mut dyn ResourceLimiter);
        // The clock stops the call at its deadline or on Ctrl-C, and on the
        // way checks how much the plugin has written.
        store.epoch_deadline_callback(|ctx| {
            let state = ctx.data();
            let left = state
                .deadline
                .saturating_duration_since(std::time::Instant::now());
            // Ctrl-C advances the clock past every deadline to stop the call.
            if left.is_zero() || crate::interrupt::requested() {
                return Err(Trap::Interrupt.into());
            }
            if let Some(reason) = state.files.grown_too_much() {
                return Err(wasmtime::Error::new(DiskLimit(reason)));
            }
            let ticks = (left.as_millis() / EPOCH_TICK.as_millis()).max(1) as u64;
            Ok(wasmtime::UpdateDeadline::Continue(
                ticks.min(files::GROWTH_CHECK),
            ))
        });
        let mut plugin = Plugin {
            store,
            hook: None,
            driver: None,
            output,
            timeout,
            retired: None,
        };
        plugin.arm();
        plugin.output.begin_call();
        let instance = plugin.guarded(|store| loaded.pre.instantiate(store));
        let tail = plugin.output.end_call();
        let instance = match instance {
            Guarded::Called(result) => result.map_err(|e| plugin.failure(e, tail))?,
            Guarded::Refused(reason) => {
                return Err(CallFailure {
                    reason,
                    help: None,
                    output_tail: tail,
                })
            }
        };
        let load = |e| CallFailure {
            reason: format!("its exports cannot be used: {}", first_line(&e)),
            help: None,
            output_tail: Vec::new(),
        };
        if let Some(indices) = &loaded.hook {
            plugin.hook = Some(indices.load(&mut plugin.store, &instance).map_err(load)?);
        }
        if let Some(indices) = &loaded.driver {
            plugin.driver = Some(indices.load(&mut plugin.store, &instance).map_err(load)?);
        }
        Ok(plugin)
    }
}

impl Plugin {
    /// Run the hook for one phase.
    pub fn run_phase(&mut self, phase: Phase) -> Result<(), CallFailure> {
        let Some(hook) = self.hook.clone() else {
            return Err(self.refusal("does not export the hook interface"));
        };
        self.store.data_mut().phase = phase.to_string();
        self.call(|store| hook.run(store, phase))
    }

    /// Call one of the five driver functions.
    pub fn driver_call(&mut self, call: DriverCall) -> Result<(), CallFailure> {
        let Some(driver) = self.driver.clone() else {
            return Err(self.refusal("does not export the driver interface"));
        };
        self.call(|store| driver.call(store, call))
    }

    fn call(
        &mut self,
        f: impl FnOnce(&mut Store<PluginState>) -> wasmtime::Result<Result<(), String>>,
    ) -> Result<(), CallFailure> {
        if let Some(why) = &self.retired {
            return Err(self.refusal(&format!("was not called: {why}")));
        }
        self.arm();
        self.output.begin_call();
        let result = self.guarded(f);
        let tail = self.output.end_call();
        let result = match result {
            Guarded::Called(result) => result,
            Guarded::Refused(reason) => {
                return Err(CallFailure {
                    reason,
                    help: None,
                    output_tail: tail,
                })
            }
        };
        match result {
            Ok(Ok(())) => Ok(()),
            Ok(Err(message)) => Err(CallFailure {
                reason: format!(
                    "returned an error: {}",
                    self.store.data().hook_error(&message)
                ),
                help: self.store.data().files.first_denied().map(str::to_string),
                output_tail: tail,
            }),
            Err(trap) => {
                let failure = self.failure(trap, tail);
                self.retired = Some(format!(
                    "it failed earlier in this run ({})",
                    failure.reason
                ));
                Err(failure)
            }
        }
    }

    /// Enter the guest through `f`, with its writable directories checked
    /// before and after ([`files`]): links it left leading out are removed;
    /// directories past the limit fail the call (before: it is not made).
    /// A trap of the call is its failure rather than what the check found.
    fn guarded<T>(
        &mut self,
        f: impl FnOnce(&mut Store<PluginState>) -> wasmtime::Result<T>,
    ) -> Guarded<wasmtime::Result<T>> {
        if let Err(reason) = files::before_call(self.store.data_mut()) {
            return Guarded::Refused(reason);
        }
        let result = f(&mut self.store);
        match files::after_call(self.store.data_mut()) {
            Err(reason) if result.is_ok() => Guarded::Refused(reason),
            _ => Guarded::Called(result),
        }
    }

    /// Give the next call the plugin's whole time limit.
    fn arm(&mut self) {
        let ticks = (self.timeout.as_millis() / EPOCH_TICK.as_millis()).max(1) as u64;
        self.store
            .set_epoch_deadline(ticks.min(files::GROWTH_CHECK));
        // Host calls the plugin makes run on the same clock.
        let state = self.store.data_mut();
        state.deadline = std::time::Instant::now() + self.timeout;
        state.warnings = 0;
    }

    fn refusal(&self, why: &str) -> CallFailure {
        CallFailure {
            reason: why.to_string(),
            help: None,
            output_tail: Vec::new(),
        }
    }

    /// Turn a trap into a reason an operator can act on.
    fn failure(&self, error: wasmtime::Error, tail: Vec<String>) -> CallFailure {
        let limiter = &self.store.data().limiter;
        let mut help = None;
        let reason = if let Some(died) = error.downcast_ref::<Died>() {
            died.to_string()
        } else if let Some(disk) = error.downcast_ref::<DiskLimit>() {
            self.store.data().audit(
                "disk",
                &show_size(files::MAX_GROWTH),
                crate::capabilities::audit::Decision::Exceeded,
            );
            disk.0.clone()
        } else if let Some(limit) = error.downcast_ref::<TimeLimit>() {
            help = Some(TIME_LIMIT_HELP.to_string());
            limit.to_string()
        } else if let Some(wanted) = limiter.exceeded() {
            self.store.data().audit(
                "memory",
                &show_size(wanted),
                crate::capabilities::audit::Decision::Exceeded,
            );
            help = Some(MEMORY_LIMIT_HELP.to_string());
            format!(
                "hit its memory limit of {} (it asked for {})",
                show_size(limiter.max()),
                show_size(wanted)
            )
        } else {
            match error.downcast_ref::<Trap>() {
                Some(Trap::Interrupt) => {
                    let limit = show_duration(self.timeout);
                    self.store.data().audit(
                        "timeout",
                        &limit,
                        crate::capabilities::audit::Decision::Exceeded,
                    );
                    help = Some(TIME_LIMIT_HELP.to_string());
                    format!("ran past its time limit of {limit}")
                }
                Some(Trap::StackOverflow) => "overflowed its stack (wasm trap)".to_string(),
                // A Rust guest keeps its stack in linear memory, below its
                // data: overflowing it is an out-of-bounds access.
                Some(Trap::MemoryOutOfBounds) => "trapped: out of bounds memory access (a guest \
                    that overflows the stack it keeps in linear memory ends this way)"
                    .to_string(),
                Some(Trap::UnreachableCodeReached) => panic_reason(&tail),
                Some(trap) => format!("trapped: {trap}"),
                // A failed host call: wasmtime wraps it in backtrace context;
                // the cause is what the operator needs.
                None => error
                    .chain()
                    .last()
                    .map_or_else(|| first_line(&error), |cause| first_line(&cause)),
            }
        };
        CallFailure {
            reason,
            help,
            output_tail: tail,
        }
    }
}

/// A call stopped for writing too much into the plugin's directories.
#[derive(Debug)]
struct DiskLimit(String);

impl std::fmt::Display for DiskLimit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for DiskLimit {}

/// A Rust guest's panic reaches the host as an `unreachable` trap; its
/// message is on the guest's stderr (`panicked at src/lib.rs:3:5:` then the
/// message on the next line).
fn panic_reason(tail: &[String]) -> String {
    let at = tail.iter().rposition(|line| line.contains("panicked at"));
    match at.and_then(|i| tail.get(i + 1)) {
        Some(message) => format!("panicked: {message}"),
        None => "panicked (wasm `unreachable` trap)".to_string(),
    }
}
