//! Safe wrappers for the helpers the host provides (WIT interface `host`).
//!
//! These are the same helpers bash hooks get as shell functions, over the same
//! variable space: a variable a bash hook set earlier in the run is visible
//! here, and one set here is visible to later bash hooks.
//!
//! Every call goes to the host and is checked against the plugin's granted
//! capabilities. The examples are `no_run`: outside a host (a native build, a
//! unit test) the bindings are stubs that panic when called.

use std::borrow::Cow;
use std::path::PathBuf;

use crate::bindings::hook_plugin::hookhost::plugin::host;
use crate::error::{Error, Result};

/// What a command run with [`run_command`] returned.
pub use crate::bindings::hook_plugin::hookhost::plugin::types::CommandOutput;

/// The guest path where the host maps this plugin's private, read-write data
/// directory (`.hookhost/plugin-data/<hook-name>` in the stack on the host,
/// e.g. `.hookhost/plugin-data/template` for `extras.d/50-template.wasm`).
/// See [`data_dir`].
pub const DATA_DIR: &str = "/data";

/// A list of strings for the helpers that take several names or arguments.
///
/// Pass a single `&str` or `String` (one name), `&[...]` of `&str`, or a
/// `Vec` or slice of `&str`/`String`:
///
/// ```no_run
/// use hookhost_sdk::{is_service_enabled, install_package, run_command};
/// # fn main() -> hookhost_sdk::Result {
/// is_service_enabled("template");
/// is_service_enabled(&["n-cpu", "n-api"]);
/// let pkgs: Vec<String> = vec!["cowsay".into()];
/// install_package(&pkgs)?;
/// run_command("true", &[])?; // no arguments
/// # Ok(()) }
/// ```
pub trait Names {
    /// The strings, owned.
    fn into_names(self) -> Vec<String>;
}

impl Names for &str {
    fn into_names(self) -> Vec<String> {
        vec![self.to_owned()]
    }
}

impl Names for String {
    fn into_names(self) -> Vec<String> {
        vec![self]
    }
}

impl Names for &String {
    fn into_names(self) -> Vec<String> {
        vec![self.clone()]
    }
}

impl<S: AsRef<str>> Names for &[S] {
    fn into_names(self) -> Vec<String> {
        self.iter().map(|s| s.as_ref().to_owned()).collect()
    }
}

// One array impl only (borrowed, of `&str`): it lets `&[]` infer its type and
// keeps `&["a", "b"]` the one spelling clippy is happy with.
impl<const N: usize> Names for &[&str; N] {
    fn into_names(self) -> Vec<String> {
        self.iter().map(|s| (*s).to_owned()).collect()
    }
}

impl<S: AsRef<str>> Names for Vec<S> {
    fn into_names(self) -> Vec<String> {
        self.iter().map(|s| s.as_ref().to_owned()).collect()
    }
}

impl<S: AsRef<str>> Names for &Vec<S> {
    fn into_names(self) -> Vec<String> {
        self.as_slice().into_names()
    }
}

/// The value of a variable of the run, or `None` when it is unset or the
/// plugin was not granted read access to it (`vars-read` in its manifest).
///
/// ```no_run
/// use hookhost_sdk::get_var;
/// let greeting = get_var("TEMPLATE_GREETING").unwrap_or_else(|| "Hello".to_string());
/// ```
pub fn get_var(name: &str) -> Option<String> {
    host::get_var(name)
}

/// Set a variable of the run; later hooks of both kinds see it (bash hooks
/// as a shell variable). Fails when the plugin was not granted write access
/// to it (`vars-write` in its manifest).
///
/// ```no_run
/// use hookhost_sdk::set_var;
/// # fn main() -> hookhost_sdk::Result {
/// set_var("TEMPLATE_INSTALLED", "True")?;
/// # Ok(()) }
/// ```
pub fn set_var(name: &str, value: impl AsRef<str>) -> Result {
    host::set_var(name, value.as_ref()).map_err(Error::msg)
}

/// True when any of the services is in `ENABLED_SERVICES`
/// (DevStack's `is_service_enabled`).
///
/// ```no_run
/// use hookhost_sdk::is_service_enabled;
/// if is_service_enabled("template") { /* ... */ }
/// if is_service_enabled(&["n-cpu", "n-api"]) { /* either one */ }
/// ```
pub fn is_service_enabled(services: impl Names) -> bool {
    host::is_service_enabled(&services.into_names())
}

/// Add services to `ENABLED_SERVICES` (DevStack's `enable_service`).
///
/// ```no_run
/// hookhost_sdk::enable_service("auditor");
/// ```
pub fn enable_service(services: impl Names) {
    host::enable_service(&services.into_names());
}

/// Remove services from `ENABLED_SERVICES` (DevStack's `disable_service`).
///
/// ```no_run
/// hookhost_sdk::disable_service(&["tempest", "horizon"]);
/// ```
pub fn disable_service(services: impl Names) {
    host::disable_service(&services.into_names());
}

/// DevStack's `trueorfalse DEFAULT NAME`: the boolean value of variable
/// `name` (DevStack's spellings: `True`, `yes`, `on`, `1`, `False`, `no`, ...),
/// or `default` when it is unset or empty.
///
/// ```no_run
/// let debug = hookhost_sdk::trueorfalse(false, "TEMPLATE_DEBUG");
/// ```
pub fn trueorfalse(default: bool, name: &str) -> bool {
    host::trueorfalse(default, name)
}

/// A one-line progress summary shown to the operator (DevStack's `echo_summary`).
///
/// ```no_run
/// hookhost_sdk::echo_summary("Installing Template");
/// ```
pub fn echo_summary(message: impl AsRef<str>) {
    host::echo_summary(message.as_ref());
}

/// A warning shown to the operator and collected in the run summary
/// (DevStack's `warn`). The hook goes on.
///
/// ```no_run
/// hookhost_sdk::warn(format!("{} is deprecated", "TEMPLATE_OLD"));
/// ```
pub fn warn(message: impl AsRef<str>) {
    host::warn(message.as_ref());
}

/// Stop the hook now with an error (DevStack's `die`); never returns.
///
/// Prefer returning an [`Error`] from the phase (`bail!`), which lets `Drop`
/// code run; `die` is for code that cannot return one.
///
/// ```no_run
/// if hookhost_sdk::get_var("DEST").is_none() {
///     hookhost_sdk::die("DEST is not set");
/// }
/// ```
pub fn die(message: impl AsRef<str>) -> ! {
    let message = message.as_ref();
    host::die(message);
    // The host ends the guest inside `die`; if a host ever returned, still stop.
    panic!("die: {message}")
}

/// Install distribution packages (DevStack's `install_package`). Without an
/// install grant the host records what would be installed and returns `Ok`.
///
/// ```no_run
/// # fn main() -> hookhost_sdk::Result {
/// hookhost_sdk::install_package(&["cowsay"])?;
/// # Ok(()) }
/// ```
pub fn install_package(names: impl Names) -> Result {
    host::install_package(&names.into_names()).map_err(Error::msg)
}

/// Run a granted command (`commands` in the manifest; argument patterns are
/// part of the grant) and return its status and output. `Err` means the host
/// refused or could not start it; a non-zero exit is an `Ok` with that
/// status (see [`CommandOutput::check`]).
///
/// ```no_run
/// use hookhost_sdk::run_command;
/// # fn main() -> hookhost_sdk::Result {
/// let out = run_command("systemctl", &["is-active", "cron"])?;
/// if out.success() {
///     println!("{}", out.stdout_lossy().trim());
/// }
/// run_command("mkdir", &["-p", "/opt/stack/template"])?.check()?;
/// # Ok(()) }
/// ```
pub fn run_command(command: &str, args: impl Names) -> Result<CommandOutput> {
    host::run_command(command, &args.into_names()).map_err(Error::msg)
}

/// Call a shell function that a bash hook or `lib/` script defined in the
/// run's shared bash session (needs a `functions` grant). Its output is shown
/// as this hook's output; returns its exit status.
///
/// ```no_run
/// # fn main() -> hookhost_sdk::Result {
/// let status = hookhost_sdk::call_function("render_motd", &["Hello"])?;
/// if status != 0 {
///     hookhost_sdk::bail!("render_motd failed with status {status}");
/// }
/// # Ok(()) }
/// ```
pub fn call_function(name: &str, args: impl Names) -> Result<i32> {
    host::call_function(name, &args.into_names()).map_err(Error::msg)
}

/// This plugin's private, read-write data directory: `/data` in the guest
/// ([`DATA_DIR`]), `.hookhost/plugin-data/<hook-name>` in the stack on the
/// host (not DevStack's `$DATA_DIR`: trusted code does not look there). It
/// persists across phases and runs; no other plugin sees it. Symlinks made
/// in it must stay inside the plugin's writable directories.
///
/// ```no_run
/// # fn main() -> hookhost_sdk::Result {
/// std::fs::write(hookhost_sdk::data_dir().join("state.txt"), "installed\n")?;
/// # Ok(()) }
/// ```
pub fn data_dir() -> PathBuf {
    PathBuf::from(DATA_DIR)
}

impl CommandOutput {
    /// True when the command exited with status 0.
    ///
    /// ```no_run
    /// use hookhost_sdk::{run_command, warn};
    /// # fn main() -> hookhost_sdk::Result {
    /// // Needs a grant such as `commands = ["systemctl is-active *"]`.
    /// if !run_command("systemctl", &["is-active", "libvirtd"])?.success() {
    ///     warn("libvirtd is not running");
    /// }
    /// # Ok(()) }
    /// ```
    pub fn success(&self) -> bool {
        self.status == 0
    }

    /// Standard output as text (invalid UTF-8 replaced).
    ///
    /// ```no_run
    /// use hookhost_sdk::{run_command, set_var};
    /// # fn main() -> hookhost_sdk::Result {
    /// let out = run_command("uname", &["-r"])?.check()?;
    /// set_var("KERNEL_RELEASE", out.stdout_lossy().trim())?;
    /// # Ok(()) }
    /// ```
    pub fn stdout_lossy(&self) -> Cow<'_, str> {
        String::from_utf8_lossy(&self.stdout)
    }

    /// Standard error as text (invalid UTF-8 replaced).
    ///
    /// ```no_run
    /// use hookhost_sdk::{echo_summary, run_command};
    /// # fn main() -> hookhost_sdk::Result {
    /// let out = run_command("qemu-img", &["--version"])?;
    /// for line in out.stderr_lossy().lines() {
    ///     echo_summary(format!("qemu-img: {line}"));
    /// }
    /// # Ok(()) }
    /// ```
    pub fn stderr_lossy(&self) -> Cow<'_, str> {
        String::from_utf8_lossy(&self.stderr)
    }

    /// `Ok(self)` when the command succeeded, otherwise an error with its
    /// status and the end of its standard error; with `?` a failing
    /// command fails the phase with that message.
    ///
    /// ```no_run
    /// use hookhost_sdk::{run_command, Context};
    /// # fn main() -> hookhost_sdk::Result {
    /// run_command("systemctl", &["restart", "libvirtd"])?
    ///     .check()
    ///     .context("restarting libvirtd")?;
    /// # Ok(()) }
    /// ```
    pub fn check(self) -> Result<Self> {
        if self.success() {
            return Ok(self);
        }
        let stderr = self.stderr_lossy();
        let stderr = stderr.trim();
        let tail = match stderr.char_indices().rev().nth(499) {
            Some((i, _)) => &stderr[i..],
            None => stderr,
        };
        if tail.is_empty() {
            Err(Error::msg(format!(
                "command exited with status {}",
                self.status
            )))
        } else {
            Err(Error::msg(format!(
                "command exited with status {}: {tail}",
                self.status
            )))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(n: impl Names) -> Vec<String> {
        n.into_names()
    }

    #[test]
    fn names_accepts_the_usual_shapes() {
        assert_eq!(names("a"), ["a"]);
        assert_eq!(names(String::from("a")), ["a"]);
        let one = String::from("a");
        assert_eq!(names(&one), [one.as_str()]);
        assert_eq!(names(&["a", "b"]), ["a", "b"]);
        assert_eq!(names(&["a", "b"][..]), ["a", "b"]);
        assert_eq!(names(&[]), Vec::<String>::new());
        let owned = vec![String::from("x"), String::from("y")];
        assert_eq!(names(&owned), ["x", "y"]);
        assert_eq!(names(&owned[..]), ["x", "y"]);
        assert_eq!(names(owned), ["x", "y"]);
        assert_eq!(names(vec!["z"]), ["z"]);
    }

    fn output(status: i32, stderr: &str) -> CommandOutput {
        CommandOutput {
            status,
            stdout: b"out\n".to_vec(),
            stderr: stderr.as_bytes().to_vec(),
        }
    }

    #[test]
    fn command_output_helpers() {
        let ok = output(0, "");
        assert!(ok.success());
        assert_eq!(ok.stdout_lossy(), "out\n");
        assert!(ok.check().is_ok());
        assert_eq!(
            output(2, "bad thing\n").check().unwrap_err().message(),
            "command exited with status 2: bad thing"
        );
        assert_eq!(
            output(1, "").check().unwrap_err().message(),
            "command exited with status 1"
        );
        let long = "é".repeat(600);
        let msg = output(1, &long).check().unwrap_err().to_string();
        assert_eq!(msg.chars().filter(|c| *c == 'é').count(), 500);
    }

    #[test]
    fn data_dir_is_slash_data() {
        assert_eq!(data_dir(), PathBuf::from("/data"));
    }
}
