//! Loading a component and checking it against the hookhost worlds before
//! anything runs: garbage bytes, a core module, a component of another world
//! or one importing what the host does not provide are refused with one line
//! naming the file and what is wrong.
//!
//! Compiling is what costs: [`load_all`] takes
//! compiled code from the cache ([`super::cache`]) and compiles what is not
//! there on every core at once, one component per core (wasmtime compiles
//! each component on the thread that asks, see `engine_config`), with the
//! compiler [`super::tier`] picks. [`read_all`] first reads every file and
//! says how many are cached, so a run can tell what it is about to compile.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;
use std::thread;

use wasmtime::component::{Component, InstancePre};

use super::cache::{wasm_digest, Digest32};
use super::host::PluginState;
use super::tier::{CompileCount, Got, Tier};
use super::wit::{self, DriverIndices, HookIndices, WitVersion};
use super::Runtime;

/// What the host needs a component to export.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// An extras.d hook: exports `hookhost:plugin/hook`.
    Hook,
    /// A hypervisor driver: exports `hookhost:plugin/driver`.
    Driver,
}

/// A component that passed every load-time check.
pub struct LoadedComponent {
    pub path: PathBuf,
    /// Which hookhost interfaces it exports.
    pub exports_hook: bool,
    pub exports_driver: bool,
    /// The WIT version it was built for (and is linked against).
    pub version: WitVersion,
    /// Which compiler made its code.
    pub tier: Tier,
    pub(super) pre: InstancePre<PluginState>,
    pub(super) hook: Option<HookIndices>,
    pub(super) driver: Option<DriverIndices>,
}

/// A component refused at load time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadError {
    pub path: PathBuf,
    pub problem: String,
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path.display(), self.problem)
    }
}

impl std::error::Error for LoadError {}

/// A component file read for loading: its bytes (or why they cannot be
/// used), their sha256, and whether its code is in the cache.
pub struct Source {
    path: PathBuf,
    role: Role,
    bytes: Result<(Vec<u8>, Digest32), LoadError>,
    cached: bool,
}

/// Read each of `wanted` and look up whether its code is cached (no
/// compiling yet).
pub fn read_all(runtime: &Runtime, wanted: &[(&Path, Role)]) -> Vec<Source> {
    wanted
        .iter()
        .map(|&(path, role)| {
            let bytes = read_component(path).map(|b| {
                let digest = wasm_digest(&b);
                (b, digest)
            });
            let cached = match &bytes {
                Ok((_, digest)) => runtime.is_cached(digest),
                Err(_) => true,
            };
            Source {
                path: path.to_path_buf(),
                role,
                bytes,
                cached,
            }
        })
        .collect()
}

/// How many of `sources` are cached and how many will be compiled.
pub fn count(sources: &[Source]) -> CompileCount {
    let cached = sources.iter().filter(|s| s.cached).count();
    CompileCount {
        cached,
        compiled: sources.len() - cached,
    }
}

/// Read, compile and check one component for `role`.
pub fn load(runtime: &Runtime, path: &Path, role: Role) -> Result<LoadedComponent, LoadError> {
    let wasm = read_component(path)?;
    check(
        runtime,
        path,
        role,
        runtime.code_for(path, &wasm_digest(&wasm), &wasm),
    )
}

fn load_source(runtime: &Runtime, source: &Source) -> Result<LoadedComponent, LoadError> {
    let (wasm, digest) = source.bytes.as_ref().map_err(Clone::clone)?;
    let got = runtime.code_for(&source.path, digest, wasm);
    check(runtime, &source.path, source.role, got)
}

/// [`load`] for each of `wanted`, in parallel (see [`load_sources`]).
pub fn load_all(
    runtime: &Runtime,
    wanted: &[(&Path, Role)],
) -> Vec<Result<LoadedComponent, LoadError>> {
    load_sources(runtime, &read_all(runtime, wanted), &|_| {})
}

/// Load each of `sources`, in parallel: one worker thread per core, each
/// taking the next component, the biggest first (a big plugin taken last
/// would leave the other cores idle while it compiles). Each component
/// compiles on the worker that took it; `compiled` is told after each one
/// that was not cached, with how many of those are done. Results are in
/// the order of `sources`.
pub fn load_sources(
    runtime: &Runtime,
    sources: &[Source],
    compiled: &(dyn Fn(usize) + Sync),
) -> Vec<Result<LoadedComponent, LoadError>> {
    let done = AtomicUsize::new(0);
    let one = |source: &Source| {
        let result = load_source(runtime, source);
        if !source.cached {
            compiled(done.fetch_add(1, Ordering::Relaxed) + 1);
        }
        result
    };
    let cores = thread::available_parallelism().map_or(1, |n| n.get());
    let workers = cores.min(sources.len());
    if workers <= 1 {
        return sources.iter().map(one).collect();
    }
    let order = biggest_first(sources);
    let next = AtomicUsize::new(0);
    let results: Vec<OnceLock<Result<LoadedComponent, LoadError>>> =
        sources.iter().map(|_| OnceLock::new()).collect();
    let work = || {
        while let Some(&index) = order.get(next.fetch_add(1, Ordering::Relaxed)) {
            let _ = results[index].set(one(&sources[index]));
        }
    };
    // This thread is one of the workers.
    thread::scope(|scope| {
        for _ in 1..workers {
            scope.spawn(work);
        }
        work();
    });
    results
        .into_iter()
        .zip(sources)
        .map(|(slot, source)| {
            // Empty only if a worker died (it cannot: `load` returns its
            // errors); load it here rather than lose it.
            slot.into_inner()
                .unwrap_or_else(|| load_source(runtime, source))
        })
        .collect()
}

/// Indexes of `sources`, biggest first (unreadable ones last: they fail
/// fast). Sizes stand in for compile times.
fn biggest_first(sources: &[Source]) -> Vec<usize> {
    let sizes: Vec<usize> = sources
        .iter()
        .map(|s| s.bytes.as_ref().map_or(0, |(b, _)| b.len()))
        .collect();
    let mut order: Vec<usize> = (0..sources.len()).collect();
    // Stable: equal sizes keep their order.
    order.sort_by_key(|&i| std::cmp::Reverse(sizes[i]));
    order
}

fn read_component(path: &Path) -> Result<Vec<u8>, LoadError> {
    let refuse = |problem: String| LoadError {
        path: path.to_path_buf(),
        problem,
    };
    let bytes = std::fs::read(path).map_err(|e| refuse(format!("cannot read it: {e}")))?;
    check_kind(&bytes).map_err(refuse)?;
    Ok(bytes)
}

/// Check a compiled component against `role` and link it.
fn check(
    runtime: &Runtime,
    path: &Path,
    role: Role,
    got: Got,
) -> Result<LoadedComponent, LoadError> {
    let refuse = |problem: String| LoadError {
        path: path.to_path_buf(),
        problem,
    };
    let component = got
        .compiled
        .map_err(|e| refuse(format!("is not a valid component: {e}")))?;
    let exports = export_names(&component);
    let version = wit::version_of(&import_names(&component), &exports).map_err(refuse)?;
    let (hook_export, driver_export) = (version.hook_export(), version.driver_export());
    let exports_hook = exports.contains(&hook_export);
    let exports_driver = exports.contains(&driver_export);
    let wanted = match role {
        Role::Hook => &hook_export,
        Role::Driver => &driver_export,
    };
    if !exports.contains(wanted) {
        return Err(refuse(missing_export(wanted, &exports)));
    }
    let pre = runtime
        .linker_for(component.engine())
        .instantiate_pre(&component)
        .map_err(|e| refuse(format!("cannot be linked: {}", first_line(&e))))?;
    let bad_shape = |name: &str, e: wasmtime::Error| {
        refuse(format!(
            "exports {name} but not as hookhost defines it: {}",
            first_line(&e)
        ))
    };
    let hook = match exports_hook {
        true => Some(HookIndices::new(version, &pre).map_err(|e| bad_shape(&hook_export, e))?),
        false => None,
    };
    let driver = match exports_driver {
        true => Some(DriverIndices::new(version, &pre).map_err(|e| bad_shape(&driver_export, e))?),
        false => None,
    };
    Ok(LoadedComponent {
        path: path.to_path_buf(),
        exports_hook,
        exports_driver,
        version,
        tier: got.tier,
        pre,
        hook,
        driver,
    })
}

/// Tell garbage and core modules from components by their header.
fn check_kind(bytes: &[u8]) -> Result<(), String> {
    if bytes.is_empty() {
        return Err("is empty, not a WebAssembly component".into());
    }
    if !bytes.starts_with(b"\0asm") {
        return Err(
            "is not a WebAssembly file (it does not start with the `\\0asm` header)".into(),
        );
    }
    if wasmparser::Parser::is_core_wasm(bytes) {
        return Err(
            "is a core WebAssembly module, not a component: build it for the \
                    wasm32-wasip2 target (`scripts/build-plugins.sh` does)"
                .into(),
        );
    }
    if !wasmparser::Parser::is_component(bytes) {
        return Err("has an unknown WebAssembly header version".into());
    }
    Ok(())
}

/// What a component imports: hookhost interfaces of one known version
/// and WASI, checked by [`wit::version_of`].
fn import_names(component: &Component) -> Vec<String> {
    let ty = component.component_type();
    ty.imports(component.engine())
        .map(|(name, _)| name.to_string())
        .collect()
}

fn export_names(component: &Component) -> Vec<String> {
    let ty = component.component_type();
    ty.exports(component.engine())
        .map(|(name, _)| name.to_string())
        .collect()
}

/// Why a component lacks the export `wanted`: of its own WIT version when
/// it exports something of hookhost's, else of any version.
fn missing_export(wanted: &str, exports: &[String]) -> String {
    let found = match exports.is_empty() {
        true => "it exports nothing".to_string(),
        false => format!("it exports {}", exports.join(", ")),
    };
    let wanted = match exports.iter().any(|e| e.starts_with("hookhost:plugin/")) {
        true => wanted.to_string(),
        false => format!(
            "{} (of WIT versions {})",
            wanted.split('@').next().unwrap_or(wanted),
            wit::known_versions()
        ),
    };
    format!("does not export {wanted}, so it is not a hookhost plugin of that kind ({found})")
}

/// wasmtime errors can span lines (backtraces, causes); users get the first.
pub(super) fn first_line(e: &dyn fmt::Display) -> String {
    let text = format!("{e:#}");
    text.lines().next().unwrap_or("").trim().to_string()
}
