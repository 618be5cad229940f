//! Which compiler a component gets, so that a first run starts about as
//! fast as later ones.
//!
//! wasmtime has two compilers: Cranelift optimizes (slow to compile, fast
//! code) and Winch is a baseline compiler (several times faster to compile,
//! slower code). A component is taken, in this order:
//!
//! 1. Cranelift's code from the compiled-component cache (every run after
//!    the upgrade below);
//! 2. Winch's code from the cache (runs before that upgrade);
//! 3. compiled now by Winch, and stored in the cache.
//!
//! A run that used Winch's code upgrades it: a background thread at the
//! lowest CPU priority compiles those components with Cranelift into the
//! cache, starting [`UPGRADE_AFTER`] into the run. A short run (tests,
//! benchmarks, a quick `unstack`) ends before that: the thread never
//! starts, and its exit is never delayed by it (an unfinished upgrade is
//! dropped with the process, and the next long run does it). A real
//! installer run lasts minutes, so its first run leaves optimized code.
//!
//! The compiler is part of wasmtime's compatibility check, so each has its
//! own engine, and its own linker; a plugin's store is made by the engine
//! that compiled it. The Winch engine is made only when a component has no
//! Cranelift code cached (a warm run never pays for it), and allocates
//! instances on demand (no second pool of reserved address space).
//! Where Winch cannot be used (not x86_64), Cranelift compiles everything.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};
use std::thread;
use std::time::Duration;

use wasmtime::component::Linker;
use wasmtime::{Engine, Strategy};

use super::cache::{wasm_digest, CompileCache, Digest32};
use super::host::PluginState;
use super::Runtime;

/// How long a run must have lasted before it upgrades Winch's code.
const UPGRADE_AFTER: Duration = Duration::from_secs(3);

/// Which compiler produced a component's code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tier {
    /// Cranelift.
    Optimized,
    /// Winch.
    Baseline,
}

/// How many components a load took from the cache and how many it compiled.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CompileCount {
    pub cached: usize,
    pub compiled: usize,
}

/// An engine and its linker.
type Made = (Engine, Linker<PluginState>);

/// The Winch engine and its linker, made once when first needed (None:
/// Winch is not available here), and the components that used its code.
#[derive(Clone, Default)]
pub(crate) struct Baseline {
    made: Arc<OnceLock<Option<Made>>>,
    used: Arc<Mutex<Vec<Used>>>,
}

impl Baseline {
    /// The engine and linker, if made.
    pub(crate) fn get(&self) -> Option<&Made> {
        self.made.get().and_then(Option::as_ref)
    }

    fn get_or_make(&self) -> Option<&Made> {
        self.made.get_or_init(make_baseline).as_ref()
    }
}

/// The Winch engine: the optimizing engine's settings, another compiler.
fn make_baseline() -> Option<Made> {
    let mut config = super::engine_config(false);
    config.strategy(Strategy::Winch);
    // A big component (an interpreter) is one compile: its functions are
    // spread over the cores. Small ones gain nothing, and lose nothing:
    // `load_all`'s workers wait while the pool compiles.
    config.parallel_compilation(true);
    // Less to compile and keep for code that is replaced later anyway: no
    // map from machine code back to wasm offsets (a trap still names the
    // function) and no native unwind tables (wasmtime unwinds wasm frames
    // itself).
    config.generate_address_map(false);
    config.native_unwind_info(false);
    let engine = Engine::new(&config).ok()?;
    let linker = super::new_linker(&engine).ok()?;
    Some((engine, linker))
}

/// A component that ran on Winch's code: where it was read, and what.
#[derive(Clone)]
struct Used {
    path: PathBuf,
    digest: Digest32,
    len: u64,
}

/// A component's code, and which compiler made it.
pub(crate) struct Got {
    pub compiled: Result<wasmtime::component::Component, String>,
    pub tier: Tier,
}

impl Runtime {
    /// The code for the component `wasm` (read from `path`), by the order
    /// in the module's documentation.
    pub(crate) fn code_for(&self, path: &Path, digest: &Digest32, wasm: &[u8]) -> Got {
        let cache = self.cache();
        if let Some(compiled) = cache.cached(self.engine(), digest) {
            return got(compiled, Tier::Optimized);
        }
        let Some((winch, _)) = self.baseline.get_or_make() else {
            let compiled = cache.component_of(self.engine(), wasm, digest);
            return got(compiled, Tier::Optimized);
        };
        self.baseline
            .used
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(Used {
                path: path.to_path_buf(),
                digest: *digest,
                len: wasm.len() as u64,
            });
        match cache.cached(winch, digest) {
            Some(compiled) => got(compiled, Tier::Baseline),
            None => got(cache.component_of(winch, wasm, digest), Tier::Baseline),
        }
    }

    /// Whether the component with these bytes has code of either compiler
    /// in this process or in the cache (for counting, before loading: an
    /// entry's file is looked at, not read).
    pub(crate) fn is_cached(&self, digest: &Digest32) -> bool {
        let cache = self.cache();
        cache.has(self.engine(), digest)
            || self
                .baseline
                .get_or_make()
                .is_some_and(|(winch, _)| cache.has(winch, digest))
    }

    /// Start the upgrade of the components that used Winch's code (see the
    /// module): nothing happens unless the run lasts [`UPGRADE_AFTER`].
    pub fn upgrade_in_background(&self) {
        let used = self.to_upgrade();
        if used.is_empty() {
            return;
        }
        let (engine, cache) = (self.engine().clone(), self.cache_handle());
        let _ = thread::Builder::new()
            .name("hookhost-upgrade".into())
            .spawn(move || {
                thread::sleep(UPGRADE_AFTER);
                lowest_priority();
                upgrade(&engine, &cache, &used);
            });
    }

    /// The components that used Winch's code, once (none without a cache:
    /// the upgrade would be lost).
    fn to_upgrade(&self) -> Vec<Used> {
        let mut used = self.baseline.used.lock().unwrap_or_else(|e| e.into_inner());
        match self.cache().dir() {
            Some(_) => std::mem::take(&mut *used),
            None => Vec::new(),
        }
    }
}

/// Compile each component in `used` with the optimizing `engine` into
/// the cache. The file is read again, no more than it held, and compiled
/// only when it still holds the bytes that ran: what replaced it since is
/// for the next run to check and compile.
fn upgrade(engine: &Engine, cache: &CompileCache, used: &[Used]) {
    use std::io::Read;
    for component in used {
        let mut wasm = Vec::new();
        let read = std::fs::File::open(&component.path)
            .and_then(|file| file.take(component.len + 1).read_to_end(&mut wasm));
        if read.is_ok() && wasm_digest(&wasm) == component.digest {
            cache.store(engine, &wasm);
        }
    }
}

fn got(compiled: Result<wasmtime::component::Component, String>, tier: Tier) -> Got {
    Got { compiled, tier }
}

/// The calling thread only gets the CPU no one else wants.
fn lowest_priority() {
    // SAFETY: gettid and setpriority only read their integer arguments;
    // on Linux, PRIO_PROCESS with a thread id changes that thread alone.
    unsafe {
        let tid = libc::gettid();
        libc::setpriority(libc::PRIO_PROCESS, tid as libc::id_t, 19);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn winch_code_comes_first_and_cranelift_code_after_the_upgrade() {
        let dir = tempfile::tempdir().unwrap();
        let wasm = wat::parse_str("(component (core module))").unwrap();
        let path = dir.path().join("c.wasm");
        std::fs::write(&path, &wasm).unwrap();
        let digest = wasm_digest(&wasm);
        let cache = dir.path().join("cache");
        let runtime = || Runtime::with_cache(Some(cache.clone())).unwrap();
        let tier = |runtime: &Runtime| {
            let got = runtime.code_for(&path, &digest, &wasm);
            assert!(got.compiled.is_ok());
            got.tier
        };

        let first = runtime();
        assert!(!first.is_cached(&digest));
        assert_eq!(tier(&first), Tier::Baseline, "compiled by Winch");
        let second = runtime();
        assert!(second.is_cached(&digest));
        assert_eq!(tier(&second), Tier::Baseline, "Winch's code, cached");

        let used = second.to_upgrade();
        let paths: Vec<&PathBuf> = used.iter().map(|u| &u.path).collect();
        assert_eq!(paths, [&path]);
        upgrade(second.engine(), second.cache(), &used);
        let third = runtime();
        assert_eq!(tier(&third), Tier::Optimized, "upgraded");
        assert!(third.to_upgrade().is_empty(), "nothing left to upgrade");
    }

    #[test]
    fn a_component_replaced_since_it_ran_is_not_upgraded() {
        let dir = tempfile::tempdir().unwrap();
        let wasm = wat::parse_str("(component (core module))").unwrap();
        let other = wat::parse_str("(component (core module (func)))").unwrap();
        let path = dir.path().join("c.wasm");
        std::fs::write(&path, &wasm).unwrap();
        let runtime = Runtime::with_cache(Some(dir.path().join("cache"))).unwrap();
        let got = runtime.code_for(&path, &wasm_digest(&wasm), &wasm);
        assert_eq!(got.tier, Tier::Baseline);
        std::fs::write(&path, &other).unwrap();
        upgrade(runtime.engine(), runtime.cache(), &runtime.to_upgrade());
        let optimized = |bytes: &[u8]| {
            runtime
                .cache()
                .cached(runtime.engine(), &wasm_digest(bytes))
        };
        assert!(optimized(&other).is_none(), "the replacement was compiled");
        assert!(
            optimized(&wasm).is_none(),
            "the original is gone from the path"
        );
    }
}
