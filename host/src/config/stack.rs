//! A stack on disk: its directory, its `local.conf` and the operator's
//! `hookhost.toml`, and the paths a run uses (DEST, DATA_DIR, state).
//!
//! Layout (`--top DIR`, default the current directory):
//!
//! ```text
//! DIR/extras.d/NN-name.{sh,wasm,toml}   hooks and their manifests
//! DIR/local.conf                        DevStack's local.conf (optional)
//! DIR/hookhost.toml                     the operator's grants (optional)
//! DIR/lib/, DIR/lib/nova_plugins/       scripts hooks source, drivers
//! DIR/.hookhost/                        hookhost's own state (logs, records)
//! DIR/.hookhost/plugin-data/<name>/     each WASM plugin's private `/data`
//! ```
//!
//! A plugin's private directory is hookhost's, not DevStack's: under
//! `$DATA_DIR/<name>` it would be the directory trusted code uses for the
//! service of that name, and whatever the plugin left there (a symlink
//! named like a config file) would redirect that code.

use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};

use anyhow::{bail, Context};

use crate::config::localconf::{self, LocalConf};
use crate::config::operator::OperatorConfig;
use crate::model::problems::Problems;

/// hookhost's own directory inside a stack.
pub const STATE_DIR: &str = ".hookhost";
/// The operator's grants file at the stack root.
pub const OPERATOR_CONFIG: &str = "hookhost.toml";
/// DevStack's settings file at the stack root.
pub const LOCAL_CONF: &str = "local.conf";
/// Where plugins' private directories live, inside the state directory.
pub const PLUGIN_DATA: &str = "plugin-data";

/// Where the empty directory plugins see as `/` is kept, in the state dir.
pub const EMPTY_ROOT: &str = "empty-root";

/// An opened stack.
#[derive(Debug, Clone)]
pub struct Stack {
    /// The stack directory, absolute.
    pub top: PathBuf,
    pub state_dir: PathBuf,
    /// `DEST` (local.conf may set it; default `<top>/.hookhost/dest`).
    pub dest: PathBuf,
    /// `DATA_DIR` (default `$DEST/data`): DevStack's, for trusted code.
    /// Plugins' private directories are elsewhere ([`Stack::plugin_data_dir`]).
    pub data_dir: PathBuf,
    /// The variables local.conf's `[[local|localrc]]` section sets, in order.
    pub vars: Vec<(String, String)>,
    pub local_conf: Option<LocalConf>,
    pub operator: OperatorConfig,
    /// A DevStack tree (see `prelude`): its own stackrc sets DEST and the
    /// other paths, and the session sources its prelude before the hooks.
    pub devstack: bool,
    /// The environment hookhost was started with, read once by `main`:
    /// what planning looks up beside local.conf (`VIRT_DRIVER`, `GIT_BASE`).
    pub env: BTreeMap<String, String>,
}

impl Stack {
    /// Open the stack at `top`, reading local.conf and hookhost.toml.
    /// `env` is the environment local.conf may refer to (`$HOME`).
    pub fn open(top: &Path, env: &BTreeMap<String, String>) -> anyhow::Result<Stack> {
        Stack::open_with_state(top, env, None)
    }

    /// [`Stack::open`], with hookhost's state kept in `state_dir` (absolute)
    /// instead of `<top>/.hookhost` when it is given (`--state-dir`).
    pub fn open_with_state(
        top: &Path,
        env: &BTreeMap<String, String>,
        state_dir: Option<&Path>,
    ) -> anyhow::Result<Stack> {
        let (stack, problems) = Stack::open_checked(top, env, state_dir)?;
        problems.or_ok(stack).map_err(anyhow::Error::new)
    }

    /// [`Stack::open_with_state`], going on past local.conf's problems so
    /// that the rest of the stack is checked in the same pass: the stack
    /// comes back as if it had no local.conf, with those problems beside
    /// it. What leaves nothing to check (not a stack, hookhost.toml) is an
    /// error.
    pub fn open_checked(
        top: &Path,
        env: &BTreeMap<String, String>,
        state_dir: Option<&Path>,
    ) -> anyhow::Result<(Stack, Problems)> {
        check_is_stack(top)?;
        let top = top
            .canonicalize()
            .with_context(|| format!("cannot resolve {}", top.display()))?;
        let mut problems = Problems::new();
        let resolved = read_local_conf(&top).and_then(|conf| {
            let Some(conf) = conf else {
                return Ok((None, Vec::new()));
            };
            // As stackrc sets TOP_DIR before it sources localrc, so
            // `$TOP_DIR/...` in local.conf names the stack, not `/...`.
            let mut base = env.clone();
            base.insert("TOP_DIR".to_string(), top.display().to_string());
            let vars = conf.resolve(&base)?;
            Ok((Some(conf), vars))
        });
        let (local_conf, vars) = resolved.unwrap_or_else(|e| {
            problems.push_error(&e);
            (None, Vec::new())
        });
        let operator = OperatorConfig::load(&top.join(OPERATOR_CONFIG))?;
        let state_dir = state_dir.map_or_else(|| top.join(STATE_DIR), Path::to_path_buf);
        let devstack = crate::config::prelude::is_tree(&top, &operator.devstack);
        let (dest, data_dir) = match devstack {
            true => tree_paths(&top, local_conf.as_ref()),
            false => {
                let lookup =
                    |name: &str| vars.iter().rev().find(|(n, _)| n == name).map(|(_, v)| v);
                let dest = lookup("DEST").map_or_else(|| state_dir.join("dest"), PathBuf::from);
                let data_dir = lookup("DATA_DIR").map_or_else(|| dest.join("data"), PathBuf::from);
                (dest, data_dir)
            }
        };
        check_apart(
            &state_dir.join(PLUGIN_DATA),
            &[("DEST", &dest), ("DATA_DIR", &data_dir)],
        )?;
        let stack = Stack {
            top,
            state_dir,
            dest,
            data_dir,
            vars,
            local_conf,
            operator,
            devstack,
            env: env.clone(),
        };
        Ok((stack, problems))
    }

    pub fn extras_dir(&self) -> PathBuf {
        self.top.join("extras.d")
    }

    /// The private directory of the WASM plugin `name` (`/data` in the
    /// guest): `<top>/.hookhost/plugin-data/<name>`.
    pub fn plugin_data_dir(&self, name: &str) -> PathBuf {
        self.state_dir.join(PLUGIN_DATA).join(name)
    }

    /// The empty, read-only directory every plugin sees as `/`
    /// ([`crate::capabilities::Policy::root`]).
    pub fn empty_root(&self) -> PathBuf {
        self.state_dir.join(EMPTY_ROOT)
    }
}

/// What marks a directory as a stack: any one of these.
const STACK_MARKS: [&str; 4] = ["extras.d", LOCAL_CONF, "lib/nova_plugins", OPERATOR_CONFIG];

/// Refuse a `--top` that is not a stack, before anything is written in
/// it: a directory with none of [`STACK_MARKS`] (a typo'd or wrong
/// `--top`) would otherwise run nothing, successfully, and leave a
/// `.hookhost/` behind.
pub fn check_is_stack(top: &Path) -> anyhow::Result<()> {
    if top.exists() && !top.is_dir() {
        bail!(
            "{}: is not a directory; pass --top with the stack's directory (the one that holds \
             extras.d/ or local.conf)",
            top.display()
        );
    }
    if !top.is_dir() {
        bail!(
            "{}: no such stack directory (pass --top DIR)",
            top.display()
        );
    }
    if STACK_MARKS.iter().any(|mark| top.join(mark).exists()) {
        return Ok(());
    }
    bail!(
        "{}: not a stack: it has no extras.d/, local.conf, lib/nova_plugins/ or hookhost.toml \
         — a stack holds its hooks in extras.d/ (NN-name.sh, NN-name.wasm), DevStack's \
         settings in local.conf, hypervisor drivers in lib/nova_plugins/ and the operator's \
         grants in hookhost.toml; pass --top with the stack's directory",
        top.display()
    )
}

/// DevStack's directories must not lie in the plugins' private ones:
/// trusted code would then use what a plugin wrote as its own.
fn check_apart(plugin_data: &Path, dirs: &[(&str, &Path)]) -> anyhow::Result<()> {
    for (name, dir) in dirs {
        if lexical(dir).starts_with(lexical(plugin_data)) {
            bail!(
                "local.conf: {name}={} lies in {}, where hookhost keeps plugins' private \
                 directories; set {name} to another directory",
                dir.display(),
                plugin_data.display()
            );
        }
    }
    Ok(())
}

/// `path` with `.` and `..` taken away by their names (it may not exist yet).
pub(crate) fn lexical(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for part in path.components() {
        match part {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

/// DEST and DATA_DIR of a DevStack tree, as its stackrc sets them (unless
/// local.conf does); DevStack's defaults when they cannot be told statically.
fn tree_paths(top: &Path, local_conf: Option<&LocalConf>) -> (PathBuf, PathBuf) {
    let origins = crate::config::prelude::origins(top, local_conf);
    let value = |name: &str| {
        origins
            .iter()
            .find(|o| o.name == name)
            .and_then(|o| o.value.clone())
    };
    let dest = PathBuf::from(value("DEST").unwrap_or_else(|| "/opt/stack".to_string()));
    let data_dir = value("DATA_DIR").map_or_else(|| dest.join("data"), PathBuf::from);
    (dest, data_dir)
}

fn read_local_conf(top: &Path) -> anyhow::Result<Option<LocalConf>> {
    let path = top.join(LOCAL_CONF);
    if !path.exists() {
        return Ok(None);
    }
    // The problems stay a list the binary can render one by one.
    localconf::parse(&path)
        .map(Some)
        .map_err(anyhow::Error::new)
}
