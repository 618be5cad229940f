//! File attacks on the trusted code that runs after the plugin: links and
//! entries left in the plugin's writable directories for a bash hook or the
//! host to follow later (`host/tests/boundary_files.rs`).
//!
//! | attack | what it does |
//! |---|---|
//! | `symlink` | create the symlink `HOSTILE_PATH` with the target `HOSTILE_TARGET` (taken as is) |
//! | `hardlink` | hard-link the existing `HOSTILE_TARGET` as `HOSTILE_PATH` |
//! | `swap` | in the directory `HOSTILE_PATH`, make `sub/escape` lead to `HOSTILE_TARGET` one level above that directory, through links that each stay inside when made |
//! | `many` | create `HOSTILE_COUNT` empty files in the directory `HOSTILE_PATH` |
//!
//! Links are made with raw `wasi:filesystem` calls, so the target string
//! reaches the host exactly as given.

use hookhost_sdk::prelude::*;
use wasip2::filesystem::preopens::get_directories;
use wasip2::filesystem::types::{Descriptor, PathFlags};

type Outcome = std::result::Result<String, String>;

/// Carry out the file attack `attack` on `path`.
pub fn attempt(attack: &str, path: &str) -> Outcome {
    let target = get_var("HOSTILE_TARGET").unwrap_or_default();
    match attack {
        "symlink" => symlink(&target, path),
        "hardlink" => hardlink(&target, path),
        "swap" => swap(path, &target),
        "many" => many(path),
        other => Err(format!("unknown file attack {other:?}")),
    }
}

/// The preopened directory holding the guest path `path`, and the rest of
/// the path below it.
fn at(path: &str) -> std::result::Result<(Descriptor, String), String> {
    let mut best: Option<(Descriptor, String)> = None;
    for (dir, name) in get_directories() {
        let Some(rest) = path.strip_prefix(name.as_str()) else {
            continue;
        };
        if !(rest.is_empty() || rest.starts_with('/')) {
            continue;
        }
        let longer = best.as_ref().is_none_or(|(_, b)| rest.len() < b.len());
        if longer {
            best = Some((dir, rest.to_string()));
        }
    }
    let (dir, rest) = best.ok_or_else(|| format!("{path}: under no preopened directory"))?;
    let rest = rest.trim_start_matches('/');
    let rest = if rest.is_empty() { "." } else { rest };
    Ok((dir, rest.to_string()))
}

fn symlink(target: &str, link: &str) -> Outcome {
    let (dir, rest) = at(link)?;
    dir.symlink_at(target, &rest)
        .map(|()| format!("symlink {link} -> {target}"))
        .map_err(|e| format!("symlink {link} -> {target}: {e:?}"))
}

fn hardlink(existing: &str, link: &str) -> Outcome {
    let (from, from_rest) = at(existing)?;
    let (to, to_rest) = at(link)?;
    from.link_at(PathFlags::empty(), &from_rest, &to, &to_rest)
        .map(|()| format!("hardlink {link} = {existing}"))
        .map_err(|e| format!("hardlink {link} = {existing}: {e:?}"))
}

/// `sub/escape -> x/../../TARGET` is inside while `sub/x` is a directory;
/// once `sub/x` is replaced by `sub/x -> .` (inside as well), `escape`
/// climbs one level more: out of the directory.
fn swap(dir: &str, target: &str) -> Outcome {
    let step = |what: &str, e: std::io::Error| format!("swap {dir}: {what}: {e}");
    std::fs::create_dir_all(format!("{dir}/sub/x")).map_err(|e| step("mkdir sub/x", e))?;
    symlink(&format!("x/../../{target}"), &format!("{dir}/sub/escape"))?;
    std::fs::remove_dir(format!("{dir}/sub/x")).map_err(|e| step("rmdir sub/x", e))?;
    symlink(".", &format!("{dir}/sub/x"))?;
    Ok(format!("swap {dir}: sub/escape now leads to ../{target}"))
}

fn many(dir: &str) -> Outcome {
    let count: u64 = get_var("HOSTILE_COUNT")
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    for n in 0..count {
        std::fs::write(format!("{dir}/f{n}"), b"")
            .map_err(|e| format!("many {dir}: created {n} files, then: {e}"))?;
    }
    Ok(format!("many {dir}: created {count} files"))
}
