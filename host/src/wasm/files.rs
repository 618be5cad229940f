//! What a plugin leaves in the directories it may write, for the trusted
//! code that runs after it: no symlink leading out of them, and no more
//! entries than the host checks.
//!
//! A plugin's own file accesses are confined by wasmtime-wasi (cap-std
//! resolves every guest path beneath its preopen). What it cannot do
//! itself, it could otherwise make trusted code do: a symlink named like a
//! config file, leading out of its directories, is followed by the bash
//! hook or the host that writes or reads that file later. So:
//!
//! - **At creation**: the guest's `symlink-at` is checked before the link
//!   is made. The target is resolved from where the link would be (through
//!   the links already there, including dangling ones); one that leads out
//!   of every writable directory of the plugin (its `/data` and its write
//!   grants) is refused with `not-permitted`, as is an absolute target (a
//!   guest path such as `/stack/x` means nothing on the host). Read-only
//!   grants do not count: a link into one would let trusted code write
//!   there on the plugin's behalf.
//! - **After each call** (instantiation, every hook phase, every driver
//!   function): every writable directory is walked; a symlink that now
//!   leads out (a link that was inside when made can lead out once a
//!   directory on its way is replaced by a link) and that was not there
//!   before the call is removed. Links that were there before the call
//!   (trusted code's own) are left alone.
//! - **Bounded**: the walk counts entries; a plugin's writable directories
//!   may hold [`MAX_ENTRIES`]. Creating past that fails with `quota` and
//!   fails the call; directories already past it fail the call before the
//!   plugin runs.
//!
//! Hard links need no check here: wasmtime-wasi refuses one unless both
//! directories are writable grants with the same permissions, so a hard
//! link never brings a file the plugin could only read into a writable
//! directory. They count as entries.
//!
//! Each refusal or removal is an audit record (`kind` `symlink`) and a
//! warning of the hook.

use std::collections::HashSet;
use std::ffi::OsString;
use std::os::fd::AsRawFd;
use std::os::unix::fs::MetadataExt;
use std::path::{Component, Path, PathBuf};

use wasmtime::component::{Linker, Resource};
use wasmtime::StoreContextMut;
use wasmtime_wasi::filesystem::{Descriptor, WasiFilesystemView};
use wasmtime_wasi::p2::bindings::sync::filesystem::types::{
    DescriptorFlags, ErrorCode, Host, HostDescriptor, OpenFlags, PathFlags,
};
use wasmtime_wasi::p2::FsResult;
use wasmtime_wasi::FsPerms;

use super::host::PluginState;
use super::output::Stream;
use crate::capabilities::audit::{self, At, Decision, Record};
use crate::capabilities::Policy;
use crate::model::limits::{cut, MAX_AUDIT_ITEM};

/// Entries (files, directories, links) a plugin's writable directories may
/// hold together: what the host walks twice per call at most.
pub const MAX_ENTRIES: u64 = 100_000;

/// Bytes a plugin may add to its writable directories in one run (all its
/// calls together): its private `/data` persists between runs, so
/// unbounded writes would fill the disk.
pub const MAX_GROWTH: u64 = 1 << 30;

/// Bytes a plugin's private `/data` may hold when its first call of a run
/// begins: with [`MAX_GROWTH`] per run, this bounds what runs add up to.
pub const MAX_DATA: u64 = 1 << 30;

/// How often, in ticks of the engine's clock, a running call's writes are
/// measured against [`MAX_GROWTH`].
pub const GROWTH_CHECK: u64 = 25;

/// Links followed while resolving one target, as the kernel's limit.
const MAX_HOPS: u32 = 40;

/// Refusals and removals reported one by one per call; the rest are counted.
const MAX_REPORTED: u32 = 20;

/// Longest link target or link path checked: the kernel refuses longer
/// ones anyway.
const MAX_TARGET: usize = 4095;

/// The `wasi:filesystem` interface whose calls are checked here, as
/// wasmtime-wasi defines it (guests importing an older 0.2 version are
/// linked to it).
const FILESYSTEM: &str = "wasi:filesystem/types@0.2.12";

/// One plugin's writable directories and what it may still create in them.
pub struct FileGuard {
    /// The writable directories as granted (the plugin's `/data` first).
    granted: Vec<PathBuf>,
    /// The same, symlinks resolved, none inside another; set per call.
    roots: Vec<PathBuf>,
    /// Links leading out that were there before the call: not the plugin's.
    before: HashSet<LinkId>,
    /// Entries the plugin may still create during this call.
    budget: u64,
    /// A creation was refused for the budget during this call.
    exhausted: bool,
    /// Refusals and removals of this call, reported or not.
    reported: u32,
    /// Bytes in the writable directories when the run's first call began.
    bytes_at_start: Option<u64>,
    /// The first file access of this call refused for its grants, said
    /// with what would allow it (for the call's failure).
    first_denied: Option<String>,
}

/// A symlink as it was seen: a link moved, replaced or remade is another.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct LinkId {
    path: PathBuf,
    inode: u64,
    ctime: (i64, i64),
}

/// A symlink leading out of the writable directories.
struct OutLink {
    id: LinkId,
    target: PathBuf,
}

/// Whether a walk adds up the files' sizes.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Sizes {
    Counted,
    Skipped,
}

/// What a walk of the writable directories found.
struct Walk {
    entries: u64,
    /// Bytes of the regular files (hard links counted once per name); 0
    /// when the walk skipped sizes.
    bytes: u64,
    out: Vec<OutLink>,
    /// The first thing that could not be checked (the walk went on past
    /// it, except past the entry limit).
    problem: Option<String>,
}

impl FileGuard {
    pub fn new(policy: &Policy) -> FileGuard {
        FileGuard {
            granted: policy
                .dirs
                .iter()
                .filter(|d| d.writable)
                .map(|d| d.host.clone())
                .collect(),
            roots: Vec::new(),
            before: HashSet::new(),
            budget: 0,
            exhausted: false,
            reported: 0,
            bytes_at_start: None,
            first_denied: None,
        }
    }

    /// Before a call: note the links already leading out, and how many
    /// entries the plugin may create.
    fn begin(&mut self) -> Result<(), String> {
        self.roots = distinct_roots(&self.granted);
        self.first_denied = None;
        self.exhausted = false;
        self.reported = 0;
        let walk = self.walk(MAX_ENTRIES, Sizes::Counted);
        if let Some(problem) = walk.problem {
            return Err(problem);
        }
        self.before = walk.out.into_iter().map(|l| l.id).collect();
        self.budget = MAX_ENTRIES - walk.entries;
        if self.bytes_at_start.is_none() {
            self.check_data_size()?;
        }
        let at_start = *self.bytes_at_start.get_or_insert(walk.bytes);
        match walk.bytes.saturating_sub(at_start) > MAX_GROWTH {
            true => Err(self.grown_reason()),
            false => Ok(()),
        }
    }

    /// Before the run's first call: Err when the private `/data` (the
    /// first writable directory) holds more than [`MAX_DATA`].
    fn check_data_size(&self) -> Result<(), String> {
        let Some(data) = self.granted.first().and_then(|d| real_path(d)) else {
            return Ok(());
        };
        let walk = self.walk_from(std::slice::from_ref(&data), 2 * MAX_ENTRIES, Sizes::Counted);
        match walk.bytes > MAX_DATA {
            true => Err(format!(
                "its private data directory {} holds more than {}, the most hookhost lets a \
                 plugin keep between runs; remove what it left there",
                data.display(),
                crate::model::units::show_size(MAX_DATA)
            )),
            false => Ok(()),
        }
    }

    /// After a call: the links the plugin left leading out, removed, and
    /// the first thing that could not be checked or removed.
    fn end(&mut self) -> (Vec<OutLink>, Option<String>) {
        // Twice the limit: what the plugin could add is counted already;
        // the margin is for trusted processes writing there meanwhile.
        // Sizes are for the growth limit during the call: not needed now.
        let walk = self.walk(2 * MAX_ENTRIES, Sizes::Skipped);
        let mut problem = walk.problem;
        let mut removed = Vec::new();
        for link in walk.out {
            if self.before.contains(&link.id) {
                continue;
            }
            match std::fs::remove_file(&link.id.path) {
                Ok(()) => removed.push(link),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => {
                    problem.get_or_insert(format!(
                        "it left the symlink {} leading out of its writable directories, \
                         and hookhost cannot remove it: {e}",
                        link.id.path.display()
                    ));
                }
            }
        }
        (removed, problem)
    }

    /// During a call: why it must stop when the plugin added more than
    /// [`MAX_GROWTH`] bytes to its writable directories in this run
    /// (checked every [`GROWTH_CHECK`] of the engine's clock, so it may
    /// overshoot by what it writes in that time; its next call is then
    /// refused before it runs).
    pub(super) fn grown_too_much(&self) -> Option<String> {
        let walk = self.walk(2 * MAX_ENTRIES, Sizes::Counted);
        let grown = walk
            .bytes
            .saturating_sub(self.bytes_at_start.unwrap_or(walk.bytes));
        (grown > MAX_GROWTH).then(|| self.grown_reason())
    }

    /// The first file access of the current call that its grants refused:
    /// to a plugin it looks like a missing file, so its own error says
    /// little; this says what happened and what would allow it.
    pub(super) fn first_denied(&self) -> Option<&str> {
        self.first_denied.as_deref()
    }

    fn grown_reason(&self) -> String {
        format!(
            "wrote more than {} into its writable directories ({}) in this run, the most \
             hookhost lets a plugin add in one run; remove what it left there",
            crate::model::units::show_size(MAX_GROWTH),
            show_paths(&self.roots)
        )
    }

    fn too_many(&self) -> String {
        format!(
            "its writable directories ({}) hold more than {MAX_ENTRIES} entries, the most \
             hookhost checks for planted links around each call; remove files there or grant \
             a smaller directory",
            show_paths(&self.roots)
        )
    }

    fn exhausted_reason(&self) -> String {
        format!(
            "it tried to fill its writable directories ({}) past {MAX_ENTRIES} entries, the \
             most hookhost checks for planted links after each call (creating more was \
             refused); remove files there or grant a smaller directory",
            show_paths(&self.roots)
        )
    }

    /// Every writable directory, walked without following links: the
    /// entries counted and the links leading out. A directory or link that
    /// cannot be checked (a path too long to open, say) is the walk's
    /// problem, and so is passing `limit` entries (the walk stops there).
    /// With [`Sizes::Counted`], the regular files' sizes are added up (a
    /// stat per file).
    fn walk(&self, limit: u64, sizes: Sizes) -> Walk {
        self.walk_from(&self.roots, limit, sizes)
    }

    /// [`FileGuard::walk`] of `roots`.
    fn walk_from(&self, roots: &[PathBuf], limit: u64, sizes: Sizes) -> Walk {
        let mut walk = Walk {
            entries: 0,
            bytes: 0,
            out: Vec::new(),
            problem: None,
        };
        let mut dirs: Vec<PathBuf> = roots.to_vec();
        while let Some(dir) = dirs.pop() {
            if let Err(problem) = self.walk_dir(&dir, limit, sizes, &mut walk, &mut dirs) {
                walk.problem.get_or_insert(problem);
                if walk.entries > limit {
                    break;
                }
            }
        }
        walk
    }

    /// The entries of one directory; its subdirectories go to `dirs`.
    fn walk_dir(
        &self,
        dir: &Path,
        limit: u64,
        sizes: Sizes,
        walk: &mut Walk,
        dirs: &mut Vec<PathBuf>,
    ) -> Result<(), String> {
        let entries = match std::fs::read_dir(dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(unchecked(dir, e)),
        };
        for entry in entries {
            let entry = entry.map_err(|e| unchecked(dir, e))?;
            walk.entries += 1;
            if walk.entries > limit {
                return Err(self.too_many());
            }
            let kind = entry.file_type().map_err(|e| unchecked(&entry.path(), e))?;
            if kind.is_dir() {
                dirs.push(entry.path());
            } else if kind.is_symlink() {
                walk.out.extend(self.leading_out(dir, entry.path())?);
            } else if kind.is_file() && sizes == Sizes::Counted {
                walk.bytes += entry.metadata().map_or(0, |m| m.len());
            }
        }
        Ok(())
    }

    /// The writable directory (symlinks resolved) that holds `path`.
    fn root_of(&self, path: &Path) -> Option<PathBuf> {
        self.roots
            .iter()
            .find(|root| path.starts_with(root))
            .cloned()
    }

    /// The link at `path` (in the real directory `dir`), if it leads out.
    fn leading_out(&self, dir: &Path, path: PathBuf) -> Result<Option<OutLink>, String> {
        let target = std::fs::read_link(&path).map_err(|e| unchecked(&path, e))?;
        if resolve(dir, &target).is_some_and(|end| self.inside(&end)) {
            return Ok(None);
        }
        let meta = std::fs::symlink_metadata(&path).map_err(|e| unchecked(&path, e))?;
        Ok(Some(OutLink {
            id: LinkId {
                path,
                inode: meta.ino(),
                ctime: (meta.ctime(), meta.ctime_nsec()),
            },
            target,
        }))
    }

    fn inside(&self, path: &Path) -> bool {
        self.roots.iter().any(|root| path.starts_with(root))
    }

    /// May the guest make the link `link` (relative to the directory
    /// `dir`) with the target `target`? Err says why not.
    fn check_link(&self, dir: &Path, link: &str, target: &str) -> Result<(), String> {
        let target = Path::new(target);
        if target.is_absolute() {
            return Err(
                "its target is absolute: a guest path means nothing on the host; \
                        use a relative target"
                    .into(),
            );
        }
        let parent = Path::new(link).parent().unwrap_or(Path::new(""));
        let end = resolve(dir, parent)
            .and_then(|from| resolve(&from, target))
            .ok_or("its target cannot be resolved (too many links)")?;
        if !self.inside(&end) {
            return Err(format!(
                "it would lead to {}, outside the plugin's writable directories ({})",
                end.display(),
                show_paths(&self.roots)
            ));
        }
        Ok(())
    }

    /// Take one entry from the budget, if any is left.
    fn take_entry(&mut self) -> bool {
        if self.budget == 0 {
            self.exhausted = true;
            return false;
        }
        self.budget -= 1;
        true
    }
}

/// The directories, symlinks resolved, without those inside another (each
/// entry is walked once).
fn distinct_roots(granted: &[PathBuf]) -> Vec<PathBuf> {
    let real: Vec<PathBuf> = granted
        .iter()
        .map(|p| real_path(p).unwrap_or_else(|| p.clone()))
        .collect();
    let mut roots: Vec<PathBuf> = Vec::new();
    for path in &real {
        let covered = real
            .iter()
            .any(|other| other != path && path.starts_with(other));
        if !covered && !roots.contains(path) {
            roots.push(path.clone());
        }
    }
    roots
}

/// `path` with every link resolved, as the kernel names what it opens:
/// one open and one read of its descriptor's link in /proc, where
/// `canonicalize` reads a link per component, each a lookup from `/`.
/// None when it cannot be opened.
fn real_path(path: &Path) -> Option<PathBuf> {
    use std::os::unix::fs::OpenOptionsExt;
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_PATH)
        .open(path)
        .ok()?;
    std::fs::read_link(format!("/proc/self/fd/{}", file.as_raw_fd())).ok()
}

fn unchecked(path: &Path, e: std::io::Error) -> String {
    format!(
        "hookhost cannot check {} for links leading out of the plugin's writable \
         directories: {e}",
        path.display()
    )
}

fn show_paths(paths: &[PathBuf]) -> String {
    let shown: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
    shown.join(", ")
}

/// One step of a path being resolved.
enum Part {
    Root,
    Up,
    Name(OsString),
}

fn parts(path: &Path) -> Vec<Part> {
    path.components()
        .filter_map(|c| match c {
            Component::RootDir | Component::Prefix(_) => Some(Part::Root),
            Component::ParentDir => Some(Part::Up),
            Component::CurDir => None,
            Component::Normal(name) => Some(Part::Name(name.to_os_string())),
        })
        .collect()
}

/// Where `path`, taken from the real directory `start`, leads: each
/// existing link on the way is followed (as the kernel would), the part
/// that does not exist yet is taken by its names. None: a loop, or a part
/// that cannot be looked at.
fn resolve(start: &Path, path: &Path) -> Option<PathBuf> {
    let mut at = start.to_path_buf();
    let mut pending: Vec<Part> = parts(path);
    pending.reverse();
    let mut hops = 0;
    while let Some(part) = pending.pop() {
        match part {
            Part::Root => at = PathBuf::from("/"),
            Part::Up => {
                at.pop();
            }
            Part::Name(name) => {
                let next = at.join(&name);
                let is_link = match std::fs::symlink_metadata(&next) {
                    Ok(meta) => meta.file_type().is_symlink(),
                    // Not there (yet): taken by its name, as it would be made.
                    Err(e) if missing(&e) => false,
                    // Cannot be looked at (too long, say): not known inside.
                    Err(_) => return None,
                };
                if !is_link {
                    at = next;
                    continue;
                }
                hops += 1;
                if hops > MAX_HOPS {
                    return None;
                }
                let inner = std::fs::read_link(&next).ok()?;
                pending.extend(parts(&inner).into_iter().rev());
            }
        }
    }
    Some(at)
}

/// A path that does not exist: a name missing, or a file where a
/// directory would be.
fn missing(e: &std::io::Error) -> bool {
    matches!(
        e.kind(),
        std::io::ErrorKind::NotFound | std::io::ErrorKind::NotADirectory
    )
}

/// Before a guest call: Err (the reason the call fails) when the plugin's
/// writable directories are already past the limit.
pub(super) fn before_call(state: &mut PluginState) -> Result<(), String> {
    state.files.begin()
}

/// After a guest call: remove the links the plugin left leading out, with
/// a warning and an audit record each; Err (the reason the call fails)
/// when the directories could not be checked or the plugin ran out of
/// entries.
pub(super) fn after_call(state: &mut PluginState) -> Result<(), String> {
    let (removed, problem) = state.files.end();
    for link in removed {
        let item = format!("{} -> {}", link.id.path.display(), link.target.display());
        report(
            state,
            "symlink",
            &item,
            "removed after the call: it leads outside the plugin's writable directories",
            format!(
                "removed the symlink {item} it left: it leads outside its writable directories"
            ),
        );
    }
    let unreported = state.files.reported.saturating_sub(MAX_REPORTED);
    if unreported > 0 {
        let message = format!("{unreported} more symlinks refused or removed (not shown)");
        warn(state, &message);
    }
    if let Some(problem) = problem {
        return Err(problem);
    }
    match state.files.exhausted {
        true => Err(state.files.exhausted_reason()),
        false => Ok(()),
    }
}

/// Record a refused or removed entry: an audit record and a warning, for
/// the first [`MAX_REPORTED`] of a call.
fn report(state: &mut PluginState, kind: &str, item: &str, detail: &str, message: String) {
    state.files.reported += 1;
    if state.files.reported > MAX_REPORTED {
        return;
    }
    // The audit keeps the exact bytes (its JSON escapes them); the
    // warning, shown on a terminal, shows control characters escaped.
    audit::record(Record {
        hook: &state.name,
        at: At::Run,
        phase: Some(&state.phase),
        kind,
        item,
        decision: Decision::Denied,
        detail: Some(detail),
    });
    warn(state, &crate::config::manifest::escape_controls(&message));
}

fn warn(state: &mut PluginState, message: &str) {
    state
        .output
        .line(Stream::Stderr, &format!("[WARNING] {message}"));
    let mut services = state.services.lock().unwrap_or_else(|e| e.into_inner());
    services.warn(&state.name, message);
}

/// Replace wasmtime-wasi's calls that add entries to a directory with the
/// checked ones of this module.
pub(super) fn add_to_linker(linker: &mut Linker<PluginState>) -> anyhow::Result<()> {
    linker.allow_shadowing(true);
    let mut types = linker.instance(FILESYSTEM)?;
    types.func_wrap("[method]descriptor.symlink-at", symlink_at)?;
    types.func_wrap("[method]descriptor.link-at", link_at)?;
    types.func_wrap(
        "[method]descriptor.create-directory-at",
        create_directory_at,
    )?;
    types.func_wrap("[method]descriptor.open-at", open_at)?;
    types.func_wrap("[method]descriptor.rename-at", rename_at)?;
    linker.allow_shadowing(false);
    Ok(())
}

type Store<'a> = StoreContextMut<'a, PluginState>;

/// The host directory of a writable directory descriptor; None for
/// anything else (wasmtime-wasi refuses what follows on its own).
fn writable_dir(state: &PluginState, fd: &Resource<Descriptor>) -> Option<PathBuf> {
    match state.table.get(fd) {
        Ok(Descriptor::Dir(dir)) if dir.perms == FsPerms::ReadWrite => dir_of(state, fd),
        _ => None,
    }
}

/// wasmtime-wasi's result as the guest gets it (a trap stays a trap).
fn to_guest<T>(
    state: &mut PluginState,
    result: FsResult<T>,
) -> wasmtime::Result<Result<T, ErrorCode>> {
    match result {
        Ok(value) => Ok(Ok(value)),
        Err(e) => Ok(Err(Host::convert_error_code(&mut state.filesystem(), e)?)),
    }
}

/// Whether a path names a git repository's own files: a `.git` component
/// (a directory, or a file pointing to one). git runs the hooks and the
/// commands its config names when trusted code runs git there, so a plugin
/// may not make, rename into or write such a path in a writable directory,
/// whatever its grants (reading is fine).
pub(super) fn names_git_dir(path: &str) -> bool {
    path.split('/')
        .any(|part| part.eq_ignore_ascii_case(".git"))
}

/// Whether `dir` (a descriptor's host path) is inside a git repository's
/// own files: a descriptor the plugin opened on `.git` itself reaches
/// `config` without naming `.git` again.
fn in_git_dir(dir: &Path) -> bool {
    dir.components()
        .any(|c| c.as_os_str().eq_ignore_ascii_case(".git"))
}

/// Refuse a change to a git repository's own files, with a warning that
/// says why (see [`names_git_dir`]).
fn refuse_git(state: &mut PluginState, dir: &Path, path: &str) -> ErrorCode {
    let item = dir.join(path).display().to_string();
    let message = format!(
        "refused to write {item}: a git repository's own files (its hooks and config run when \
         trusted code runs git there)"
    );
    report(state, "write", &item, "inside .git", message);
    ErrorCode::NotPermitted
}

fn symlink_at(
    mut store: Store<'_>,
    (fd, target, link): (Resource<Descriptor>, String, String),
) -> wasmtime::Result<(Result<(), ErrorCode>,)> {
    let state = store.data_mut();
    if let Some(dir) = writable_dir(state, &fd)
        .filter(|d| names_git_dir(&link) || names_git_dir(&target) || in_git_dir(d))
    {
        return Ok((Err(refuse_git(state, &dir, &link)),));
    }
    if let Some(dir) = writable_dir(state, &fd) {
        if target.len() > MAX_TARGET || link.len() > MAX_TARGET {
            return Ok((Err(ErrorCode::NameTooLong),));
        }
        if let Err(why) = state.files.check_link(&dir, &link, &target) {
            let item = format!("{} -> {target}", dir.join(&link).display());
            let message = format!("refused to create the symlink {item}: {why}");
            report(
                state,
                "symlink",
                &item,
                "refused: it would lead outside the plugin's writable directories",
                message,
            );
            return Ok((Err(ErrorCode::NotPermitted),));
        }
        if !state.files.take_entry() {
            return Ok((Err(ErrorCode::Quota),));
        }
    }
    let result = HostDescriptor::symlink_at(&mut state.filesystem(), fd, target, link);
    Ok((to_guest(state, result)?,))
}

fn link_at(
    mut store: Store<'_>,
    (fd, flags, old, new_fd, new): (
        Resource<Descriptor>,
        PathFlags,
        String,
        Resource<Descriptor>,
        String,
    ),
) -> wasmtime::Result<(Result<(), ErrorCode>,)> {
    let state = store.data_mut();
    if let Some(dir) = writable_dir(state, &new_fd).filter(|d| names_git_dir(&new) || in_git_dir(d))
    {
        return Ok((Err(refuse_git(state, &dir, &new)),));
    }
    // A hard link stays inside the directory grant it is made in: a file
    // of one grant linked into another (the private `/data`, say) would
    // stay writable through the other after the first grant is withdrawn.
    let from = writable_dir(state, &fd).and_then(|d| state.files.root_of(&d));
    let to = writable_dir(state, &new_fd).and_then(|d| state.files.root_of(&d));
    if from.is_none() || from != to {
        return Ok((Err(ErrorCode::NotPermitted),));
    }
    if !state.files.take_entry() {
        return Ok((Err(ErrorCode::Quota),));
    }
    let result = HostDescriptor::link_at(&mut state.filesystem(), fd, flags, old, new_fd, new);
    Ok((to_guest(state, result)?,))
}

fn create_directory_at(
    mut store: Store<'_>,
    (fd, path): (Resource<Descriptor>, String),
) -> wasmtime::Result<(Result<(), ErrorCode>,)> {
    let state = store.data_mut();
    if let Some(dir) = writable_dir(state, &fd).filter(|d| names_git_dir(&path) || in_git_dir(d)) {
        return Ok((Err(refuse_git(state, &dir, &path)),));
    }
    if writable_dir(state, &fd).is_some() && !state.files.take_entry() {
        return Ok((Err(ErrorCode::Quota),));
    }
    let result = HostDescriptor::create_directory_at(&mut state.filesystem(), fd, path);
    Ok((to_guest(state, result)?,))
}

fn open_at(
    mut store: Store<'_>,
    (fd, path_flags, path, open, flags): (
        Resource<Descriptor>,
        PathFlags,
        String,
        OpenFlags,
        DescriptorFlags,
    ),
) -> wasmtime::Result<(Result<Resource<Descriptor>, ErrorCode>,)> {
    let state = store.data_mut();
    let changes = open.intersects(OpenFlags::CREATE | OpenFlags::TRUNCATE)
        || flags.intersects(DescriptorFlags::WRITE | DescriptorFlags::MUTATE_DIRECTORY);
    // Looked up once: each lookup reads a link in /proc, a path walk of its own.
    let dir = changes.then(|| writable_dir(state, &fd)).flatten();
    if let Some(dir) = dir
        .as_ref()
        .filter(|d| names_git_dir(&path) || in_git_dir(d))
    {
        return Ok((Err(refuse_git(state, dir, &path)),));
    }
    if open.contains(OpenFlags::CREATE) {
        // Only a file that is not there yet is a new entry.
        let new = dir.is_some_and(|dir| !dir.join(&path).exists());
        if new && !state.files.take_entry() {
            return Ok((Err(ErrorCode::Quota),));
        }
    }
    let dir = dir_of(state, &fd);
    let result = HostDescriptor::open_at(
        &mut state.filesystem(),
        fd,
        path_flags,
        path.clone(),
        open,
        flags,
    );
    if result.is_err() {
        if let Some(dir) = dir {
            note_denied_open(state, &dir, &path, changes);
        }
    }
    Ok((to_guest(state, result)?,))
}

/// The host directory behind a directory descriptor.
fn dir_of(state: &PluginState, fd: &Resource<Descriptor>) -> Option<PathBuf> {
    match state.table.get(fd) {
        Ok(Descriptor::Dir(dir)) => {
            std::fs::read_link(format!("/proc/self/fd/{}", dir.dir.as_raw_fd())).ok()
        }
        _ => None,
    }
}

/// A failed open that was a denial, recorded as one (the end of the run
/// lists it with the grant that would allow it): a path outside every
/// grant (opened beneath the empty `/`), or a write beneath a read-only
/// grant. A file that is simply not there in a granted directory is not.
fn note_denied_open(state: &mut PluginState, dir: &Path, path: &str, changes: bool) {
    let kind = if changes { "write" } else { "read" };
    let root = state
        .policy
        .root
        .as_ref()
        .and_then(|r| r.canonicalize().ok());
    let guest = if root.as_deref() == Some(dir) {
        format!("/{}", path.trim_start_matches('/'))
    } else {
        let read_only = state
            .policy
            .dirs
            .iter()
            .find(|d| !d.writable && d.host.canonicalize().ok().as_deref() == Some(dir));
        match (changes, read_only) {
            (true, Some(grant)) => format!("{}/{}", grant.guest, path.trim_start_matches('/')),
            _ => return,
        }
    };
    let said = match guest.strip_prefix("/stack/") {
        Some(relative) => {
            state.audit(kind, relative, Decision::Denied);
            let hint = crate::capabilities::grant_hint(&state.name, kind, relative);
            format!("{kind} {guest} is not granted (grant it with {hint})")
        }
        None => {
            let outside = "outside the stack: no grant reaches it";
            state.audit_detail(kind, &guest, Decision::Denied, outside);
            format!("{kind} {guest} was refused: it is {outside}")
        }
    };
    let said = format!("{said}; a path a plugin may not use looks missing to it");
    let said = crate::model::inert::inert(&cut(&said, MAX_AUDIT_ITEM)).into_owned();
    state.files.first_denied.get_or_insert(said);
}

fn rename_at(
    mut store: Store<'_>,
    (fd, old, new_fd, new): (Resource<Descriptor>, String, Resource<Descriptor>, String),
) -> wasmtime::Result<(Result<(), ErrorCode>,)> {
    let state = store.data_mut();
    if let Some(dir) = writable_dir(state, &new_fd).filter(|d| names_git_dir(&new) || in_git_dir(d))
    {
        return Ok((Err(refuse_git(state, &dir, &new)),));
    }
    if let Some(dir) = writable_dir(state, &fd).filter(|d| names_git_dir(&old) || in_git_dir(d)) {
        return Ok((Err(refuse_git(state, &dir, &old)),));
    }
    let result = HostDescriptor::rename_at(&mut state.filesystem(), fd, old, new_fd, new);
    Ok((to_guest(state, result)?,))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    fn guard(dirs: &[&Path]) -> FileGuard {
        let mut policy = Policy::default();
        for dir in dirs {
            policy.dirs.push(crate::capabilities::DirGrant {
                host: dir.to_path_buf(),
                guest: "/x".into(),
                writable: true,
            });
        }
        let mut guard = FileGuard::new(&policy);
        guard.begin().unwrap();
        guard
    }

    #[test]
    fn targets_are_resolved_through_existing_links_and_by_name_beyond() {
        let tmp = tempfile::tempdir().unwrap();
        let top = tmp.path().canonicalize().unwrap();
        std::fs::create_dir_all(top.join("w/sub")).unwrap();
        symlink("..", top.join("w/sub/up")).unwrap();
        symlink("up/..", top.join("w/sub/upup")).unwrap();
        let w = top.join("w");
        assert_eq!(resolve(&w, Path::new("sub/up/x")), Some(w.join("x")));
        assert_eq!(resolve(&w, Path::new("sub/upup/x")), Some(top.join("x")));
        assert_eq!(
            resolve(&w, Path::new("missing/../../y")),
            Some(top.join("y"))
        );
        assert_eq!(resolve(&w, Path::new("/etc")), Some(PathBuf::from("/etc")));
        symlink("loop", top.join("w/loop")).unwrap();
        assert_eq!(resolve(&w, Path::new("loop")), None);
    }

    #[test]
    fn a_link_must_stay_inside_the_writable_directories() {
        let tmp = tempfile::tempdir().unwrap();
        let top = tmp.path().canonicalize().unwrap();
        let (w, data) = (top.join("w"), top.join("data"));
        std::fs::create_dir_all(w.join("deep")).unwrap();
        std::fs::create_dir_all(&data).unwrap();
        let guard = guard(&[&w, &data]);
        assert!(guard.check_link(&w, "a", "deep/x").is_ok());
        assert!(guard.check_link(&w, "deep/a", "../x").is_ok());
        assert!(
            guard.check_link(&w, "a", "../data/x").is_ok(),
            "another writable dir"
        );
        assert!(guard.check_link(&w, "deep/a", "../../x").is_err());
        assert!(guard.check_link(&w, "a", "/stack/x").is_err());
        symlink(&top, w.join("out")).unwrap();
        assert!(
            guard.check_link(&w, "a", "out/x").is_err(),
            "through a link out"
        );
    }

    #[test]
    fn only_links_made_during_the_call_are_removed() {
        let tmp = tempfile::tempdir().unwrap();
        let top = tmp.path().canonicalize().unwrap();
        let w = top.join("w");
        std::fs::create_dir_all(w.join("d")).unwrap();
        symlink("/etc", w.join("trusted")).unwrap();
        let mut guard = guard(&[&w]);
        symlink("../../x", w.join("d/planted")).unwrap();
        symlink("inside", w.join("d/fine")).unwrap();
        let (removed, problem) = guard.end();
        assert_eq!(problem, None);
        let paths: Vec<&Path> = removed.iter().map(|l| l.id.path.as_path()).collect();
        assert_eq!(paths, [w.join("d/planted")]);
        assert!(w.join("trusted").symlink_metadata().is_ok());
        assert!(w.join("d/fine").symlink_metadata().is_ok());
        // A trusted link moved elsewhere is another link.
        guard.begin().unwrap();
        std::fs::rename(w.join("trusted"), w.join("d/moved")).unwrap();
        assert_eq!(guard.end().0.len(), 1);
    }

    #[test]
    fn a_directory_too_deep_to_open_is_a_problem_rather_than_skipped() {
        let tmp = tempfile::tempdir().unwrap();
        let w = tmp.path().canonicalize().unwrap();
        let guard = guard(&[&w]);
        // Made one level at a time, as a guest can: no path is ever long.
        let name = "d".repeat(200);
        let mut dir = cap_std::fs::Dir::open_ambient_dir(&w, cap_std::ambient_authority()).unwrap();
        for _ in 0..25 {
            dir.create_dir(&name).unwrap();
            dir = dir.open_dir(&name).unwrap();
        }
        dir.symlink("x", "planted").unwrap();
        symlink("../x", w.join("out")).unwrap();
        let walk = guard.walk(MAX_ENTRIES, Sizes::Counted);
        let why = walk.problem.unwrap();
        assert!(why.contains("cannot check"), "{why}");
        // The rest was still walked: what can be removed, is.
        assert!(walk.out.iter().any(|l| l.id.path == w.join("out")));
    }

    #[test]
    fn the_walk_is_bounded() {
        let tmp = tempfile::tempdir().unwrap();
        let w = tmp.path().canonicalize().unwrap();
        for n in 0..5 {
            std::fs::write(w.join(format!("f{n}")), "").unwrap();
        }
        let guard = guard(&[&w]);
        assert_eq!(guard.walk(5, Sizes::Skipped).entries, 5);
        assert!(guard
            .walk(4, Sizes::Skipped)
            .problem
            .unwrap()
            .contains("more than"));
        assert_eq!(guard.budget, MAX_ENTRIES - 5);
    }
}
