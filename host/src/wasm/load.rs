//! Loading a component and checking it against the hookhost worlds before
//! anything runs: garbage bytes, a core module, a component of another world
//! or one importing what the host does not provide are refused with one line
//! naming the file and what is wrong.
//!
//! Compiling is what costs: [`load_all`] takes
//! compiled code from the cache ([`super::cache`]) and compiles what is not
//! there on every core at once, one component per core (wasmtime compiles
//! each component on the thread that asks, see `engine_config`).

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;
use std::thread;

use wasmtime::component::{Component, InstancePre};

use super::host::PluginState;
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

/// Read, compile and check one component for `role`.
pub fn load(runtime: &Runtime, path: &Path, role: Role) -> Result<LoadedComponent, LoadError> {
    let compiled = runtime
        .cache()
        .component(runtime.engine(), &read_component(path)?);
    check(runtime, path, role, compiled)
}

/// [`load`] for each of `wanted`, in parallel: one worker thread per core,
/// each taking the next component, the biggest files first (a big plugin
/// taken last would leave the other cores idle while it compiles). Each
/// component compiles on the worker that took it. Results are in the order
/// of `wanted`.
pub fn load_all(
    runtime: &Runtime,
    wanted: &[(&Path, Role)],
) -> Vec<Result<LoadedComponent, LoadError>> {
    let cores = thread::available_parallelism().map_or(1, |n| n.get());
    let workers = cores.min(wanted.len());
    if workers <= 1 {
        return wanted.iter().map(|&(p, r)| load(runtime, p, r)).collect();
    }
    let order = biggest_first(wanted);
    let next = AtomicUsize::new(0);
    let results: Vec<OnceLock<Result<LoadedComponent, LoadError>>> =
        wanted.iter().map(|_| OnceLock::new()).collect();
    let work = || {
        while let Some(&index) = order.get(next.fetch_add(1, Ordering::Relaxed)) {
            let (path, role) = wanted[index];
            let _ = results[index].set(load(runtime, path, role));
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
        .zip(wanted)
        .map(|(slot, &(path, role))| {
            // Empty only if a worker died (it cannot: `load` returns its
            // errors); load it here rather than lose it.
            slot.into_inner()
                .unwrap_or_else(|| load(runtime, path, role))
        })
        .collect()
}

/// Indexes of `wanted`, biggest file first (unreadable ones last: they fail
/// fast). Sizes stand in for compile times.
fn biggest_first(wanted: &[(&Path, Role)]) -> Vec<usize> {
    let sizes: Vec<u64> = wanted
        .iter()
        .map(|(path, _)| std::fs::metadata(path).map_or(0, |m| m.len()))
        .collect();
    let mut order: Vec<usize> = (0..wanted.len()).collect();
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
    compiled: Result<Component, String>,
) -> Result<LoadedComponent, LoadError> {
    let refuse = |problem: String| LoadError {
        path: path.to_path_buf(),
        problem,
    };
    let component = compiled.map_err(|e| refuse(format!("is not a valid component: {e}")))?;
    let exports = export_names(runtime, &component);
    let version = wit::version_of(&import_names(runtime, &component), &exports).map_err(refuse)?;
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
        .linker()
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
fn import_names(runtime: &Runtime, component: &Component) -> Vec<String> {
    let ty = component.component_type();
    ty.imports(runtime.engine())
        .map(|(name, _)| name.to_string())
        .collect()
}

fn export_names(runtime: &Runtime, component: &Component) -> Vec<String> {
    let ty = component.component_type();
    ty.exports(runtime.engine())
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
