//! Tools for plugin authors: `hookhost new` scaffolds a Rust plugin crate,
//! `hookhost build` turns it into a component ready for `extras.d/`, and
//! `hookhost inspect` says what a component is before an operator runs it.

pub mod build;
pub mod inspect;
pub mod scaffold;

use std::path::{Path, PathBuf};

/// The hookhost checkout this binary was built from, if it is still there:
/// plugins made with `hookhost new` depend on its `sdk/` by path.
pub fn repo_root() -> Option<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent()?;
    root.join("sdk/Cargo.toml")
        .is_file()
        .then(|| root.to_path_buf())
}

/// `dir` made absolute against the current directory, without resolving
/// symlinks (for messages and for paths written into files).
pub fn absolute(dir: &Path) -> anyhow::Result<PathBuf> {
    std::path::absolute(dir).map_err(|e| anyhow::anyhow!("cannot resolve {}: {e}", dir.display()))
}
