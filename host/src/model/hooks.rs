//! A hook as the layers above discovery know it: which file, what kind,
//! and the names the operator's grants and the run use for it. Discovery
//! finds them; capabilities, planning and the run read them.

use std::fmt;
use std::path::PathBuf;

/// What runs a hook.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HookKind {
    Bash,
    Wasm,
}

impl HookKind {
    /// The file extension of this kind, without the dot.
    pub fn extension(self) -> &'static str {
        match self {
            HookKind::Bash => "sh",
            HookKind::Wasm => "wasm",
        }
    }
}

impl fmt::Display for HookKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            HookKind::Bash => "bash",
            HookKind::Wasm => "wasm",
        })
    }
}

/// One hook of the stack.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HookFile {
    /// The sequence number `NN`.
    pub number: u8,
    /// The part after `NN-` (`template`).
    pub name: String,
    /// The file name without its extension (`50-template`).
    pub stem: String,
    pub kind: HookKind,
    pub path: PathBuf,
    /// `NN-name.toml` beside the hook, if there is one.
    pub manifest: Option<PathBuf>,
}

impl HookFile {
    /// The file name (`50-template.sh`).
    pub fn file_name(&self) -> String {
        format!("{}.{}", self.stem, self.kind.extension())
    }
}
