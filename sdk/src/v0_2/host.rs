//! Safe wrappers for the helpers of WIT 0.2.0: the 0.1.0 set with typed
//! errors ([`HostError`]), plus the INI helpers, `is_package_installed` and
//! `git_clone`. Outside a host (a native build) the bindings are stubs that
//! panic when called.

use std::fmt;

use super::bindings::hook_plugin::hookhost::plugin::{config, host, source, types};
use crate::host::{CommandOutput, Names};

/// Why a host call failed, as the host says it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HostError {
    /// The plugin lacks a capability: which (`capability`, its manifest
    /// key), for what (`item`), and the grant that would allow it
    /// (`grant`, in the operator's words; the manifest must request it too).
    Denied {
        /// `vars-read`, `vars-write`, `read`, `write`, `functions`, `commands`, `packages`, `git`.
        capability: String,
        /// The variable, path, function, command line, package or repository.
        item: String,
        /// The hookhost.toml line (and flag) that grants it.
        grant: String,
        /// The whole refusal as one line.
        message: String,
    },
    /// What was named is not there.
    NotFound(String),
    /// An argument hookhost refuses whatever is granted.
    Invalid(String),
    /// Permitted and valid, but it did not work.
    Failed(String),
}

impl HostError {
    /// True for a missing capability.
    pub fn is_denied(&self) -> bool {
        matches!(self, HostError::Denied { .. })
    }
}

impl fmt::Display for HostError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            // The grant too: a plugin that passes the error on with `?`
            // tells the operator exactly what would allow it.
            HostError::Denied { message, grant, .. } => {
                write!(f, "{message}; the operator grants it with {grant}")
            }
            HostError::NotFound(m) | HostError::Invalid(m) | HostError::Failed(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for HostError {}

impl From<types::Error> for HostError {
    fn from(e: types::Error) -> Self {
        match e {
            types::Error::Denied(d) => HostError::Denied {
                capability: d.capability,
                item: d.item,
                grant: d.grant,
                message: d.message,
            },
            types::Error::NotFound(m) => HostError::NotFound(m),
            types::Error::Invalid(m) => HostError::Invalid(m),
            types::Error::Failed(m) => HostError::Failed(m),
        }
    }
}

/// A host call's result: the value, or a [`HostError`] (which `?`
/// converts into the hook's [`crate::Error`]).
pub type HostResult<T = ()> = std::result::Result<T, HostError>;

/// The value of a variable of the run: `Ok(None)` when it is unset,
/// `Err(HostError::Denied { .. })` when the plugin may not read it
/// (`vars-read` in its manifest), whether it is set or not.
pub fn get_var(name: &str) -> HostResult<Option<String>> {
    host::get_var(name).map_err(HostError::from)
}

/// Set a variable of the run; later hooks of both kinds see it.
pub fn set_var(name: &str, value: impl AsRef<str>) -> HostResult {
    host::set_var(name, value.as_ref()).map_err(HostError::from)
}

/// True when any of the services is in `ENABLED_SERVICES`.
pub fn is_service_enabled(services: impl Names) -> bool {
    host::is_service_enabled(&services.into_names())
}

/// Add services to `ENABLED_SERVICES`.
pub fn enable_service(services: impl Names) {
    host::enable_service(&services.into_names());
}

/// Remove services from `ENABLED_SERVICES`.
pub fn disable_service(services: impl Names) {
    host::disable_service(&services.into_names());
}

/// DevStack's `trueorfalse`: the boolean value of `name`, `default` when
/// it is unset or empty; denied when the plugin may not read it.
pub fn trueorfalse(default: bool, name: &str) -> HostResult<bool> {
    host::trueorfalse(default, name).map_err(HostError::from)
}

/// A one-line progress summary, shown to the operator.
pub fn echo_summary(message: impl AsRef<str>) {
    host::echo_summary(message.as_ref());
}

/// A warning, shown and collected in the run's summary.
pub fn warn(message: impl AsRef<str>) {
    host::warn(message.as_ref());
}

/// Stop the hook with an error (DevStack's `die`).
pub fn die(message: impl AsRef<str>) -> ! {
    let message = message.as_ref();
    host::die(message);
    // The host ends the guest inside `die`; if a host ever returned, still stop.
    panic!("die: {message}")
}

/// Install distribution packages (recorded only without an install grant).
pub fn install_package(names: impl Names) -> HostResult {
    host::install_package(&names.into_names()).map_err(HostError::from)
}

/// True when every one of the packages is installed; needs no grant.
pub fn is_package_installed(names: impl Names) -> HostResult<bool> {
    host::is_package_installed(&names.into_names()).map_err(HostError::from)
}

/// Run a granted command.
pub fn run_command(command: &str, args: impl Names) -> HostResult<CommandOutput> {
    host::run_command(command, &args.into_names())
        .map(|o| CommandOutput {
            status: o.status,
            stdout: o.stdout,
            stderr: o.stderr,
        })
        .map_err(HostError::from)
}

/// Call a granted shell function of the run's bash session.
pub fn call_function(name: &str, args: impl Names) -> HostResult<i32> {
    host::call_function(name, &args.into_names()).map_err(HostError::from)
}

/// DevStack's `iniset FILE SECTION KEY VALUE` on a guest path inside a
/// write grant (`/stack/etc/x.conf`, `/data/x.conf`); writes what bash's
/// `iniset` writes.
///
/// ```no_run
/// use hookhost_sdk::v0_2::iniset;
/// # fn main() -> hookhost_sdk::Result {
/// iniset("/stack/etc/nova/nova.conf", "DEFAULT", "debug", "True")?;
/// # Ok(()) }
/// ```
pub fn iniset(file: &str, section: &str, key: &str, value: impl AsRef<str>) -> HostResult {
    config::iniset(file, section, key, value.as_ref()).map_err(HostError::from)
}

/// DevStack's `iniset_multiline`: one line per value, old lines removed.
pub fn iniset_multiline(file: &str, section: &str, key: &str, values: impl Names) -> HostResult {
    config::iniset_multiline(file, section, key, &values.into_names()).map_err(HostError::from)
}

/// DevStack's `iniget`: the key's value, `None` when it is not there.
pub fn iniget(file: &str, section: &str, key: &str) -> HostResult<Option<String>> {
    config::iniget(file, section, key).map_err(HostError::from)
}

/// DevStack's `ini_has_option`.
pub fn ini_has_option(file: &str, section: &str, key: &str) -> HostResult<bool> {
    config::ini_has_option(file, section, key).map_err(HostError::from)
}

/// DevStack's `inicomment`: comment out the key's lines in the section.
pub fn inicomment(file: &str, section: &str, key: &str) -> HostResult {
    config::inicomment(file, section, key).map_err(HostError::from)
}

/// DevStack's `git_clone REPO DEST [REF]` for a new checkout at a guest
/// path inside a write grant; needs a `git` grant covering the URL.
pub fn git_clone(repository: &str, destination: &str, reference: Option<&str>) -> HostResult {
    source::git_clone(repository, destination, reference).map_err(HostError::from)
}
