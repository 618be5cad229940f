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
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};

use crate::capabilities::OperatorConfig;
use crate::localconf::{self, LocalConf};

/// hookhost's own directory inside a stack.
pub const STATE_DIR: &str = ".hookhost";
/// The operator's grants file at the stack root.
pub const OPERATOR_CONFIG: &str = "hookhost.toml";

/// An opened stack.
#[derive(Debug, Clone)]
pub struct Stack {
    /// The stack directory, absolute.
    pub top: PathBuf,
    pub state_dir: PathBuf,
    /// `DEST` (local.conf may set it; default `<top>/.hookhost/dest`).
    pub dest: PathBuf,
    /// `DATA_DIR` (default `$DEST/data`); each WASM plugin's private data
    /// directory is `$DATA_DIR/<name>`.
    pub data_dir: PathBuf,
    /// The variables local.conf's `[[local|localrc]]` section sets, in order.
    pub vars: Vec<(String, String)>,
    pub local_conf: Option<LocalConf>,
    pub operator: OperatorConfig,
}

impl Stack {
    /// Open the stack at `top`, reading local.conf and hookhost.toml.
    /// `env` is the environment local.conf may refer to (`$HOME`).
    pub fn open(top: &Path, env: &BTreeMap<String, String>) -> anyhow::Result<Stack> {
        if !top.is_dir() {
            bail!(
                "{}: no such stack directory (pass --top DIR)",
                top.display()
            );
        }
        let top = top
            .canonicalize()
            .with_context(|| format!("cannot resolve {}", top.display()))?;
        let local_conf = read_local_conf(&top)?;
        let vars = match &local_conf {
            Some(conf) => {
                // As stackrc sets TOP_DIR before it sources localrc, so
                // `$TOP_DIR/...` in local.conf names the stack, not `/...`.
                let mut base = env.clone();
                base.insert("TOP_DIR".to_string(), top.display().to_string());
                conf.resolve(&base).map_err(|e| anyhow::anyhow!("{e}"))?
            }
            None => Vec::new(),
        };
        let operator = OperatorConfig::load(&top.join(OPERATOR_CONFIG))?;
        let state_dir = top.join(STATE_DIR);
        let lookup = |name: &str| vars.iter().rev().find(|(n, _)| n == name).map(|(_, v)| v);
        let dest = lookup("DEST").map_or_else(|| state_dir.join("dest"), PathBuf::from);
        let data_dir = lookup("DATA_DIR").map_or_else(|| dest.join("data"), PathBuf::from);
        Ok(Stack {
            top,
            state_dir,
            dest,
            data_dir,
            vars,
            local_conf,
            operator,
        })
    }

    pub fn extras_dir(&self) -> PathBuf {
        self.top.join("extras.d")
    }
}

fn read_local_conf(top: &Path) -> anyhow::Result<Option<LocalConf>> {
    let path = top.join("local.conf");
    if !path.exists() {
        return Ok(None);
    }
    localconf::parse(&path)
        .map(Some)
        .map_err(|e| anyhow::anyhow!("{e}"))
}
