//! `hookhost new NAME`: a Rust plugin crate that builds as is with
//! `hookhost build` — Cargo.toml, the manifest `NAME.toml`, `src/lib.rs`
//! with a `hookhost_sdk::Hook` impl of every phase (for WIT 0.2.0, through
//! `hookhost_sdk::v0_2`),
//! and a unit test of its logic that runs natively with `cargo test`.
//!
//! The SDK dependency: `--sdk PATH`, else the `sdk/` of the hookhost checkout
//! this binary was built from (a relative path when the crate is created
//! inside that checkout, so it can be committed there), else version 0.1 of
//! `hookhost-sdk` from crates.io.

use std::path::{Component, Path, PathBuf};

use anyhow::{bail, Context};

use super::{absolute, repo_root};

/// What `new` created.
#[derive(Debug)]
pub struct Scaffold {
    pub dir: PathBuf,
    pub files: Vec<PathBuf>,
    /// The `hookhost-sdk = ...` dependency line written to Cargo.toml.
    pub sdk_dependency: String,
}

/// Create the crate and tell the author what to do next.
pub fn run(name: &str, path: Option<&Path>, sdk: Option<&Path>) -> anyhow::Result<Scaffold> {
    let scaffold = create(name, path, sdk)?;
    println!(
        "created plugin crate `{name}` in {}",
        scaffold.dir.display()
    );
    for file in &scaffold.files {
        let shown = file.strip_prefix(&scaffold.dir).unwrap_or(file);
        println!("  {}", shown.display());
    }
    println!("  (depends on {})", scaffold.sdk_dependency);
    println!("\nnext:");
    println!(
        "  edit {}/src/lib.rs (every phase is there) and {}/{name}.toml (what it requests)",
        scaffold.dir.display(),
        scaffold.dir.display()
    );
    println!("  hookhost build {}", scaffold.dir.display());
    Ok(scaffold)
}

/// Write the crate's files; refuses a bad name or a non-empty directory.
pub fn create(name: &str, path: Option<&Path>, sdk: Option<&Path>) -> anyhow::Result<Scaffold> {
    check_name(name)?;
    let dir = absolute(path.unwrap_or_else(|| Path::new(name)))?;
    if dir.exists() {
        let empty = std::fs::read_dir(&dir)
            .with_context(|| format!("{}: cannot read the directory", dir.display()))?
            .next()
            .is_none();
        if !empty {
            bail!(
                "{}: already exists and is not empty; choose another --path",
                dir.display()
            );
        }
    }
    let sdk_dependency = sdk_dependency(&dir, sdk)?;
    let files = [
        ("Cargo.toml", cargo_toml(name, &sdk_dependency)),
        (&format!("{name}.toml"), manifest(name)),
        ("src/lib.rs", lib_rs(name)),
        (".gitignore", "/target\n".to_string()),
    ];
    let mut written = Vec::new();
    for (rel, text) in files {
        let file = dir.join(rel);
        if let Some(parent) = file.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("{}: cannot create the directory", parent.display()))?;
        }
        std::fs::write(&file, text)
            .with_context(|| format!("{}: cannot write it", file.display()))?;
        written.push(file);
    }
    Ok(Scaffold {
        dir,
        files: written,
        sdk_dependency,
    })
}

/// A crate name that is also a good hook name (`50-NAME.wasm`) and grant
/// key (`[grants.NAME]`).
fn check_name(name: &str) -> anyhow::Result<()> {
    let starts_with_letter = name.chars().next().is_some_and(|c| c.is_ascii_lowercase());
    let allowed = name
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if name.starts_with(|c: char| c.is_ascii_digit()) {
        bail!(
            "`{name}`: leave the number out of the plugin name; it is chosen when the \
             component is dropped into extras.d/ (`50-{}.wasm`)",
            name.trim_start_matches(|c: char| c.is_ascii_digit() || c == '-')
        );
    }
    if !starts_with_letter || !allowed || name.ends_with('-') || name.contains("--") {
        bail!(
            "`{name}` is not a plugin name: use lowercase letters, digits and single `-`, \
             starting with a letter (e.g. `my-hook`)"
        );
    }
    Ok(())
}

/// The `hookhost-sdk = ...` line for a crate created in `dir`.
fn sdk_dependency(dir: &Path, sdk: Option<&Path>) -> anyhow::Result<String> {
    let sdk_dir = match sdk {
        Some(path) => {
            let path = absolute(path)?;
            if !path.join("Cargo.toml").is_file() {
                bail!(
                    "{}: --sdk must be the hookhost-sdk crate's directory (it has no Cargo.toml)",
                    path.display()
                );
            }
            path
        }
        None => match repo_root() {
            Some(root) => root.join("sdk"),
            None => {
                return Ok(format!(
                    "hookhost-sdk = \"{}\"",
                    env!("CARGO_PKG_VERSION")
                        .rsplit_once('.')
                        .map_or("0.1", |(major_minor, _)| major_minor)
                ))
            }
        },
    };
    // Inside the same checkout: relative, so the crate can be committed there.
    let shown = match (repo_root(), relative_to(&sdk_dir, dir)) {
        (Some(root), Some(rel)) if dir.starts_with(&root) && sdk_dir.starts_with(&root) => rel,
        _ => sdk_dir,
    };
    Ok(format!(
        "hookhost-sdk = {{ path = \"{}\" }}",
        shown.display().to_string().replace('\\', "/")
    ))
}

/// `target` as a path relative to `from` (both absolute).
fn relative_to(target: &Path, from: &Path) -> Option<PathBuf> {
    let target: Vec<Component> = target.components().collect();
    let from: Vec<Component> = from.components().collect();
    let common = target.iter().zip(&from).take_while(|(a, b)| a == b).count();
    if common == 0 {
        return None;
    }
    let mut rel = PathBuf::new();
    for _ in common..from.len() {
        rel.push("..");
    }
    for part in &target[common..] {
        rel.push(part.as_os_str());
    }
    Some(rel)
}

fn cargo_toml(name: &str, sdk_dependency: &str) -> String {
    format!(
        r#"[package]
name = "{name}"
version = "0.1.0"
edition = "2021"
publish = false
description = "A hookhost plugin"

# A component for wasm32-wasip2 (`hookhost build`); `cargo test` runs the
# unit tests natively.
[lib]
crate-type = ["cdylib"]

[dependencies]
{sdk_dependency}

# Its own workspace, even when created inside another one.
[workspace]

[profile.release]
opt-level = "s"
lto = true
codegen-units = 1
# wasm has no unwinding; the fallback toolchain builds std with panic_abort.
panic = "abort"
strip = true
"#
    )
}

fn manifest(name: &str) -> String {
    format!(
        r#"# What `{name}` requests. Drop it beside the component, named like it:
# extras.d/50-{name}.wasm + extras.d/50-{name}.toml. The operator grants it in
# the stack's hookhost.toml under [grants.{name}] (or with --allow-* flags);
# a request that is not granted refuses the run, saying what to add.
[plugin]
description = "{name}: a hookhost plugin"

[capabilities]
read = []          # stack-relative directories, read-only
write = []         # read-write (its own data directory, /data, is always there)
vars-read = []     # variables it reads; a trailing * matches a prefix
vars-write = []    # variables it sets for later hooks
functions = []     # bash session functions it may call
commands = []      # "program arg-pattern...": * one argument, ** the rest
net = []           # "host:port"
packages = []      # distribution packages it may install
git = []           # repository URLs git-clone may clone; a trailing * matches a prefix
# memory = "64MiB" # ceiling (default: the operator's)
# timeout = "30s"  # per call (default: the operator's)
"#
    )
}

/// Rust type name for a plugin name: `my-hook` -> `MyHook`.
fn type_name(name: &str) -> String {
    name.split('-')
        .map(|part| {
            let mut chars = part.chars();
            chars.next().map_or(String::new(), |first| {
                first.to_ascii_uppercase().to_string() + chars.as_str()
            })
        })
        .collect()
}

fn lib_rs(name: &str) -> String {
    let ty = type_name(name);
    format!(
        r#"//! `{name}`: a hookhost plugin, an extras.d hook built as a WebAssembly
//! component with `hookhost build`.
//!
//! Every phase DevStack calls hooks in is below, in run order; each says
//! that it ran. Keep the ones you need (a phase you delete is a no-op) and
//! request what they use in `{name}.toml`. One value of `{ty}` lives for the
//! whole run: `source` runs first in every entry point and can set fields
//! later phases use.
//!
//! Built for WIT 0.2.0 (`hookhost_sdk::v0_2`): host calls return typed
//! errors (`HostError::Denied` names the grant that would allow it), and
//! DevStack's INI helpers edit config files inside the plugin's grants:
//! `iniset("/stack/etc/{name}/{name}.conf", "DEFAULT", "debug", "True")?`
//! with `write = ["etc/{name}"]` requested in `{name}.toml`.

use hookhost_sdk::v0_2::prelude::*;

#[derive(Default)]
struct {ty} {{
    /// How many phases ran in this run (state lives as long as the run).
    phases_run: u32,
}}

impl {ty} {{
    /// Say that `phase` ran: shown as `[NN-{name}] ...` in the run's output.
    fn ran(&mut self, phase: &str) -> Result {{
        self.phases_run += 1;
        echo_summary(summary(phase, self.phases_run));
        Ok(())
    }}
}}

/// The line a phase prints (plain logic: unit-tested natively below).
fn summary(phase: &str, count: u32) -> String {{
    format!("{name}: {{phase}} (phase {{count}} of this run)")
}}

impl Hook for {ty} {{
    /// `override_defaults` (opt-in, `--override-defaults`): before `source`.
    fn override_defaults(&mut self) -> Result {{
        self.ran("override_defaults")
    }}

    /// `source`: first in every entry point; set defaults here.
    fn source(&mut self) -> Result {{
        self.ran("source")
    }}

    /// `stack pre-install`: after OS setup, before projects are installed.
    fn pre_install(&mut self) -> Result {{
        self.ran("stack pre-install")
    }}

    /// `stack install`: install your service.
    fn install(&mut self) -> Result {{
        self.ran("stack install")
    }}

    /// `stack post-config`: configure it.
    fn post_config(&mut self) -> Result {{
        self.ran("stack post-config")
    }}

    /// `stack extra`: start it, after the core services started.
    fn extra(&mut self) -> Result {{
        self.ran("stack extra")
    }}

    /// `stack test-config` (opt-in, `--test-config`): after `extra`.
    fn test_config(&mut self) -> Result {{
        self.ran("stack test-config")
    }}

    /// `unstack`: stop what it started.
    fn unstack(&mut self) -> Result {{
        self.ran("unstack")
    }}

    /// `clean`: remove what it installed (`clean` runs `unstack` first).
    fn clean(&mut self) -> Result {{
        self.ran("clean")
    }}
}}

export_hook!({ty});

#[cfg(test)]
mod tests {{
    use super::*;

    #[test]
    fn the_summary_names_the_plugin_and_phase() {{
        assert_eq!(
            summary("stack install", 3),
            "{name}: stack install (phase 3 of this run)"
        );
    }}
}}
"#
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_checked_with_a_hint() {
        assert!(check_name("my-hook").is_ok());
        assert!(check_name("hook2").is_ok());
        let numbered = check_name("50-my-hook").unwrap_err().to_string();
        assert!(numbered.contains("`50-my-hook.wasm`"), "{numbered}");
        for bad in ["My-Hook", "-x", "x-", "a--b", "my_hook", ""] {
            assert!(check_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn type_names_are_camel_case() {
        assert_eq!(type_name("my-hook"), "MyHook");
        assert_eq!(type_name("x"), "X");
    }

    #[test]
    fn relative_paths_climb_to_the_common_parent() {
        let rel = relative_to(Path::new("/r/sdk"), Path::new("/r/plugins/x"));
        assert_eq!(rel, Some(PathBuf::from("../../sdk")));
    }

    #[test]
    fn a_non_empty_directory_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("keep"), "").unwrap();
        let err = create("x", Some(dir.path()), None).unwrap_err().to_string();
        assert!(err.contains("not empty"), "{err}");
    }
}
