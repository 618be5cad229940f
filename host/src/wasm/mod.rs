//! The WebAssembly runtime: compiles hook components, checks them against
//! the WIT worlds, and calls them per phase inside a per-plugin sandbox.
//!
//! - [`load`]: read a `.wasm`, check what it exports and imports.
//! - [`cache`]: compiled components on disk, so a warm start does not compile.
//! - [`tier`]: which compiler a component gets (Winch first, then Cranelift).
//! - [`plugin`]: one instance per plugin per run, called per phase.
//! - [`wit`]: one module per WIT version (bindings, conversions), and the
//!   enums over what a component of any version exports.
//! - [`host`]: the helpers plugins import, checked against their policy;
//!   `config` (INI files) and `git` (clones) for WIT 0.2.0.
//! - [`sandbox`]: WASI context and memory limiter from a policy.
//! - [`files`]: no links leading out of a plugin's writable directories.
//! - [`output`]: bounded capture of a guest's stdout and stderr.

pub mod cache;
mod command;
mod config;
pub(crate) mod files;
mod git;
pub(crate) mod host;
pub mod load;
pub(crate) mod output;
pub(crate) mod plugin;
mod refusal;
mod sandbox;
pub mod sections;
mod tier;
pub(crate) mod wit;

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use wasmtime::component::Linker;
use wasmtime::{Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig};

use cache::CompileCache;

pub use host::{Died, HostServices, SharedServices};
pub use load::{load, load_all, LoadError, LoadedComponent, Role};
pub use output::{LineSink, Stream};
pub use plugin::{CallFailure, DriverCall, Plugin, PluginConfig};
pub use refusal::HostError;
pub use tier::{CompileCount, Tier};
pub use wit::WitVersion;

/// How often the engine's epoch advances; time limits are counted in ticks.
pub(crate) const EPOCH_TICK: Duration = Duration::from_millis(10);

/// Most plugin instances one run keeps alive at once (hooks and a driver):
/// the size of the pooling allocator. Every instance lives for the whole
/// run, so this bounds the plugins of one stack.
pub const MAX_PLUGINS: u32 = 1000;

/// The engine, the linker with hookhost's imports and WASI, the compiled-
/// component cache, and the clock that enforces time limits. One per
/// hookhost process.
pub struct Runtime {
    engine: Engine,
    linker: Linker<host::PluginState>,
    /// The baseline compiler's engine and linker, made on the first
    /// component the optimizing one has no cached code for.
    baseline: tier::Baseline,
    cache: Arc<CompileCache>,
    /// Why the engine fell back to on-demand allocation, until reported.
    engine_warning: Mutex<Option<String>>,
    ticker_stop: Arc<AtomicBool>,
}

impl Runtime {
    /// A runtime with the compiled-component cache at its default place
    /// ([`cache::default_dir`]).
    pub fn new() -> anyhow::Result<Runtime> {
        Runtime::build(CompileCache::open)
    }

    /// A runtime with the cache in `dir`, or none (every component is
    /// compiled): for tests and benchmarks.
    pub fn with_cache(dir: Option<PathBuf>) -> anyhow::Result<Runtime> {
        Runtime::build(|engine| match dir {
            Some(dir) => CompileCache::at(engine, dir),
            None => CompileCache::disabled(engine),
        })
    }

    fn build(cache: impl FnOnce(&Engine) -> CompileCache) -> anyhow::Result<Runtime> {
        let (engine, engine_warning) = new_engine()?;
        let linker = new_linker(&engine)?;
        let ticker_stop = Arc::new(AtomicBool::new(false));
        let baseline = tier::Baseline::default();
        start_ticker(engine.clone(), baseline.clone(), ticker_stop.clone());
        Ok(Runtime {
            cache: Arc::new(cache(&engine)),
            engine,
            linker,
            baseline,
            engine_warning: Mutex::new(engine_warning),
            ticker_stop,
        })
    }

    /// What the runtime had to give up on (the pooling allocator, the
    /// cache), each said once: a run shows these as warnings and goes on.
    pub fn take_warnings(&self) -> Vec<String> {
        let engine = self
            .engine_warning
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        engine
            .into_iter()
            .chain(self.cache.take_warning())
            .collect()
    }

    pub fn cache(&self) -> &CompileCache {
        &self.cache
    }

    pub(crate) fn cache_handle(&self) -> Arc<CompileCache> {
        self.cache.clone()
    }

    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// The linker for components compiled by `engine` (each engine has
    /// its own: code of one cannot be linked by the other).
    pub(crate) fn linker_for(&self, engine: &Engine) -> &Linker<host::PluginState> {
        match self.baseline.get() {
            Some((winch, linker)) if Engine::same(winch, engine) => linker,
            _ => &self.linker,
        }
    }

    /// What advances the clock of every engine by `ticks` (Ctrl-C: past
    /// every deadline), the baseline engine's too if it is made later.
    pub fn epoch_bumper(&self, ticks: u64) -> impl Fn() + Send + Sync + 'static {
        let engine = self.engine.clone();
        let baseline = self.baseline.clone();
        move || {
            for _ in 0..ticks {
                engine.increment_epoch();
                if let Some((winch, _)) = baseline.get() {
                    winch.increment_epoch();
                }
            }
        }
    }
}

/// A linker with hookhost's imports and WASI, for components of `engine`.
pub(crate) fn new_linker(engine: &Engine) -> anyhow::Result<Linker<host::PluginState>> {
    let mut linker = Linker::new(engine);
    wasmtime_wasi::p2::add_to_linker_sync(&mut linker).map_err(anyhow::Error::from)?;
    files::add_to_linker(&mut linker)?;
    wit::add_to_linker(&mut linker).map_err(anyhow::Error::from)?;
    Ok(linker)
}

impl Drop for Runtime {
    fn drop(&mut self) {
        self.ticker_stop.store(true, Ordering::Relaxed);
    }
}

/// The engine: component model, epoch interruption for time limits, and
/// the pooling allocator, so instantiating a plugin takes slots from
/// address space reserved once instead of fresh mappings. When that
/// reservation is refused (a low `ulimit -v`), on-demand allocation works
/// the same, a little slower, with a warning.
///
/// This engine compiles a component on the thread that asks for it
/// (`parallel_compilation(false)`), and [`load_all`] runs one such thread
/// per core, one plugin each. (With wasmtime's rayon pool as well, both
/// competed for the same cores and loading in parallel gained nothing; see
/// docs/design.md.) The baseline engine of a first run differs ([`tier`]).
fn new_engine() -> anyhow::Result<(Engine, Option<String>)> {
    match Engine::new(&engine_config(true)) {
        Ok(engine) => Ok((engine, None)),
        Err(pool_error) => {
            let engine = Engine::new(&engine_config(false)).map_err(anyhow::Error::from)?;
            let why = load::first_line(&pool_error);
            Ok((
                engine,
                Some(format!(
                    "WebAssembly pooling allocator unavailable ({why}); instantiating on demand"
                )),
            ))
        }
    }
}

pub(crate) fn engine_config(pooling: bool) -> Config {
    let mut config = Config::new();
    // One component per thread (see above); the baseline engine differs.
    config.parallel_compilation(false);
    config.wasm_component_model(true);
    config.epoch_interruption(true);
    if pooling {
        config.allocation_strategy(InstanceAllocationStrategy::Pooling(pool_config()));
    }
    config
}

/// Limits of the pool. Each of up to [`MAX_PLUGINS`] live component
/// instances is several core instances (the guest, WASI adapter shims),
/// a few tables and one or two memories. Instance counts cost nothing
/// until used; each memory slot reserves address space only (wasmtime's
/// default 4 GiB + guard, the wasm32 maximum, so a plugin's own `memory`
/// ceiling, enforced by its limiter, is the limit that applies). No fiber
/// stacks: guests are called synchronously, and each pooled stack would
/// cost an mprotect at start-up.
fn pool_config() -> PoolingAllocationConfig {
    let mut pool = PoolingAllocationConfig::new();
    pool.total_component_instances(MAX_PLUGINS)
        .total_core_instances(MAX_PLUGINS * 16)
        .total_memories(MAX_PLUGINS * 2)
        .total_tables(MAX_PLUGINS * 8)
        .total_stacks(0);
    pool
}

/// One clock for both engines: a plugin's time limit counts ticks of the
/// engine that compiled it.
fn start_ticker(engine: Engine, baseline: tier::Baseline, stop: Arc<AtomicBool>) {
    thread::spawn(move || {
        while !stop.load(Ordering::Relaxed) {
            thread::sleep(EPOCH_TICK);
            engine.increment_epoch();
            if let Some((winch, _)) = baseline.get() {
                winch.increment_epoch();
            }
        }
    });
}
