//! The WebAssembly runtime: compiles hook components, checks them against
//! the WIT worlds, and calls them per phase inside a per-plugin sandbox.
//!
//! - [`load`]: read a `.wasm`, check what it exports and imports.
//! - [`plugin`]: one instance per plugin per run, called per phase.
//! - [`host`]: the helpers plugins import, checked against their policy.
//! - [`sandbox`]: WASI context and memory limiter from a policy.
//! - [`output`]: bounded capture of a guest's stdout and stderr.

pub mod bindings;
mod command;
pub mod host;
pub mod load;
pub mod output;
pub mod plugin;
mod sandbox;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use wasmtime::component::{HasSelf, Linker};
use wasmtime::{Config, Engine};

pub use host::{Died, HostServices, SharedServices};
pub use load::{load, LoadError, LoadedComponent, Role};
pub use output::{LineSink, Stream};
pub use plugin::{CallFailure, DriverCall, Plugin, PluginConfig};

/// How often the engine's epoch advances; time limits are counted in ticks.
pub(crate) const EPOCH_TICK: Duration = Duration::from_millis(10);

/// The engine, the linker with hookhost's imports and WASI, and the clock
/// that enforces time limits. One per hookhost process.
pub struct Runtime {
    engine: Engine,
    linker: Linker<host::PluginState>,
    ticker_stop: Arc<AtomicBool>,
}

impl Runtime {
    pub fn new() -> anyhow::Result<Runtime> {
        let mut config = Config::new();
        config.wasm_component_model(true);
        config.epoch_interruption(true);
        let engine = Engine::new(&config).map_err(anyhow::Error::from)?;
        let mut linker = Linker::new(&engine);
        wasmtime_wasi::p2::add_to_linker_sync(&mut linker).map_err(anyhow::Error::from)?;
        bindings::HookAndDriverPlugin::add_to_linker::<_, HasSelf<_>>(&mut linker, |s| s)
            .map_err(anyhow::Error::from)?;
        let ticker_stop = Arc::new(AtomicBool::new(false));
        start_ticker(engine.clone(), ticker_stop.clone());
        Ok(Runtime {
            engine,
            linker,
            ticker_stop,
        })
    }

    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    pub(crate) fn linker(&self) -> &Linker<host::PluginState> {
        &self.linker
    }
}

impl Drop for Runtime {
    fn drop(&mut self) {
        self.ticker_stop.store(true, Ordering::Relaxed);
    }
}

fn start_ticker(engine: Engine, stop: Arc<AtomicBool>) {
    thread::spawn(move || {
        while !stop.load(Ordering::Relaxed) {
            thread::sleep(EPOCH_TICK);
            engine.increment_epoch();
        }
    });
}
