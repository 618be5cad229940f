//! The compiled-component cache: what makes a warm start cheap.
//!
//! Compiling a component with Cranelift takes a noticeable part of a
//! second; loading the machine code compiled by an earlier run takes a
//! small fraction of that. So each
//! component a run compiles is stored in a cache directory, and later runs
//! load it from there.
//!
//! - Where: `$HOOKHOST_CACHE_DIR`, else `$XDG_CACHE_HOME/hookhost`, else
//!   `~/.cache/hookhost` ([`default_dir`]); created mode 0700.
//! - Key: sha256 of the component's bytes, mixed with hookhost's version and
//!   build (the running binary's size, mtime and inode) and the engine's
//!   compilation settings (`Engine::precompile_compatibility_hash`, which
//!   names the compiler: Winch's and Cranelift's code of one component are
//!   two entries, see `super::tier`). A
//!   changed `.wasm`, a rebuilt hookhost or another engine setting therefore
//!   looks up another file: stale code is never loaded.
//! - Trust: only files hookhost wrote itself are ever deserialized (see
//!   [`Entry::parse`] and [`CompileCache::read`]). Each entry carries an
//!   HMAC-SHA256 over its header and machine code, keyed by a per-user
//!   secret (`secret.key` in the cache directory: 32 random bytes, created
//!   once with `O_EXCL`, mode 0600; a key file another user owns, that
//!   others may read or write, or that is a symlink turns the cache off for
//!   the run). An entry whose code does not match is never deserialized:
//!   it is recompiled, with a warning. The key lives in the cache directory
//!   because nothing a plugin is granted can reach it: grants are
//!   directories inside the stack, and one covering the cache is refused.
//! - Writes go to a temporary file in the same directory, renamed into
//!   place, so two runs at once never see half a file.
//! - A broken or unwritable cache only costs speed: the component is
//!   compiled, and the run gets one warning ([`CompileCache::take_warning`]).
//!
//! `hookhost cache clean` empties it ([`clean`]).

use std::collections::HashMap;
use std::fs::{self, DirBuilder, File, OpenOptions};
use std::hash::{Hash, Hasher};
use std::io::{self, Read, Write};
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{SystemTime, UNIX_EPOCH};

use hmac::digest::KeyInit;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

use super::load::first_line;
use wasmtime::component::Component;
use wasmtime::Engine;

/// First bytes of every cache entry; the last two are the format version.
const MAGIC: &[u8; 16] = b"hookhost-cwasm\x00\x02";
/// Suffix of cache entries; `clean` removes only these (and our temp files).
const ENTRY_SUFFIX: &str = ".hhc";
/// Prefix of temporary files being written.
const TEMP_PREFIX: &str = ".tmp-";
/// The per-user secret entries are authenticated with, in the cache directory.
const SECRET_FILE: &str = "secret.key";
/// magic, key, sha256 of the artifact, artifact length, then the HMAC of
/// all of these and the artifact.
const HEADER_LEN: usize = 16 + 32 + 32 + 8 + 32;
/// Where the HMAC starts in the header.
const MAC_AT: usize = HEADER_LEN - 32;

pub(crate) type Digest32 = [u8; 32];
type HmacSha256 = Hmac<Sha256>;

/// The key entries are authenticated with.
#[derive(Clone, Default)]
struct Secret([u8; 32]);

impl std::fmt::Debug for Secret {
    /// Never the key itself.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(..)")
    }
}

impl Secret {
    fn mac(&self) -> HmacSha256 {
        // HMAC pads a key shorter than the hash's block with zeros to the
        // block: padded here, the secret is the same key, given as the
        // whole block (which cannot be refused).
        let mut block = [0u8; 64];
        block[..32].copy_from_slice(&self.0);
        <HmacSha256 as KeyInit>::new(&block.into())
    }
}

/// Where compiled components are kept, and what this process's entries are
/// keyed with.
pub struct CompileCache {
    /// None: the cache is off for this run (it could not be used).
    dir: Option<PathBuf>,
    /// The key of this user's entries (when the cache is on).
    secret: Secret,
    /// hookhost's version and build; mixed with the engine's settings into
    /// every key (a run has two engines, see `super::Tier`).
    build: Vec<u8>,
    /// The first problem met, for the run's one warning.
    warning: Mutex<Warning>,
    /// Components this process already has, by key: a component installed
    /// under two names is compiled (or read) once.
    compiled: Mutex<HashMap<Digest32, Arc<OnceLock<Compiled>>>>,
}

/// A compiled component, or why it does not compile (one line).
type Compiled = Result<Component, String>;

impl CompileCache {
    /// The cache at [`default_dir`], for components compiled by `engine`.
    pub fn open(engine: &Engine) -> CompileCache {
        match default_dir() {
            Some(dir) => CompileCache::at(engine, dir),
            None => CompileCache::off(
                engine,
                "no cache directory: set HOOKHOST_CACHE_DIR, XDG_CACHE_HOME or HOME".into(),
            ),
        }
    }

    /// The cache in `dir` (created if missing).
    pub fn at(engine: &Engine, dir: PathBuf) -> CompileCache {
        let build = match build_id() {
            Ok(id) => id,
            Err(e) => {
                return CompileCache::off(
                    engine,
                    format!("cannot identify the hookhost binary: {e}"),
                )
            }
        };
        match prepare_dir(&dir).and_then(|()| load_secret(&dir)) {
            Ok(secret) => CompileCache {
                dir: Some(dir),
                secret,
                build,
                warning: Mutex::default(),
                compiled: Mutex::default(),
            },
            Err(why) => CompileCache {
                dir: None,
                secret: Secret::default(),
                build,
                warning: Warning::new(format!(
                    "not using the compiled-component cache {}: {why}",
                    dir.display()
                )),
                compiled: Mutex::default(),
            },
        }
    }

    /// No cache: every component is compiled.
    pub fn off(_engine: &Engine, why: String) -> CompileCache {
        CompileCache {
            dir: None,
            secret: Secret::default(),
            build: Vec::new(),
            warning: Warning::new(format!("compiled-component cache off: {why}")),
            compiled: Mutex::default(),
        }
    }

    /// No cache, by choice (tests, benchmarks): no warning.
    pub fn disabled(_engine: &Engine) -> CompileCache {
        CompileCache {
            dir: None,
            secret: Secret::default(),
            build: Vec::new(),
            warning: Mutex::default(),
            compiled: Mutex::default(),
        }
    }

    /// The directory in use, if the cache is on.
    pub fn dir(&self) -> Option<&Path> {
        self.dir.as_deref()
    }

    /// The first problem the cache met, once; later calls return None.
    pub fn take_warning(&self) -> Option<String> {
        let mut warning = self.warning.lock().unwrap_or_else(|e| e.into_inner());
        warning.taken = true;
        warning.message.take()
    }

    /// The compiled component for `wasm`: from this process's memory, else
    /// from the cache directory when a valid entry is there, else compiled
    /// (and stored). Errors are compile errors only. Safe to call from
    /// several threads: each component is compiled once.
    pub fn component(&self, engine: &Engine, wasm: &[u8]) -> Compiled {
        self.component_of(engine, wasm, &wasm_digest(wasm))
    }

    /// [`CompileCache::component`] with the sha256 of `wasm` already known.
    pub(crate) fn component_of(&self, engine: &Engine, wasm: &[u8], digest: &Digest32) -> Compiled {
        let key = self.key(engine, digest);
        self.cell(&key)
            .get_or_init(|| self.load_or_compile(engine, wasm, &key))
            .clone()
    }

    /// The component compiled by `engine` if this process or an earlier
    /// run has it (in memory or in the cache directory); None when it
    /// would have to be compiled.
    pub(crate) fn cached(&self, engine: &Engine, digest: &Digest32) -> Option<Compiled> {
        let key = self.key(engine, digest);
        let cell = self.cell(&key);
        if let Some(compiled) = cell.get() {
            return Some(compiled.clone());
        }
        let dir = self.dir.as_ref()?;
        let path = self.entry_path(dir, &key);
        match self.read(engine, &path, &key) {
            Ok(Some(component)) => Some(cell.get_or_init(|| Ok(component)).clone()),
            Ok(None) => None,
            Err(why) => {
                self.warn(format!(
                    "ignored the cached {}: {why}; compiling instead",
                    path.display()
                ));
                None
            }
        }
    }

    /// Whether `engine`'s code for the component is in this process or
    /// has an entry in the cache directory (not read: it may still turn
    /// out unusable).
    pub(crate) fn has(&self, engine: &Engine, digest: &Digest32) -> bool {
        let key = self.key(engine, digest);
        if self.cell(&key).get().is_some_and(Result::is_ok) {
            return true;
        }
        self.dir
            .as_ref()
            .is_some_and(|dir| self.entry_path(dir, &key).is_file())
    }

    /// Compile `wasm` with `engine` into the cache directory unless an
    /// entry is there already, without keeping it in this process: for the
    /// background upgrade to optimized code (`super::Runtime`).
    pub(crate) fn store(&self, engine: &Engine, wasm: &[u8]) {
        let key = self.key(engine, &wasm_digest(wasm));
        let Some(dir) = &self.dir else { return };
        let path = self.entry_path(dir, &key);
        if let Ok(Some(_)) = self.read(engine, &path, &key) {
            return;
        }
        if let Ok(component) = Component::new(engine, wasm) {
            self.write(dir, &path, &key, &component);
        }
    }

    fn cell(&self, key: &Digest32) -> Arc<OnceLock<Compiled>> {
        self.compiled
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(*key)
            .or_default()
            .clone()
    }

    fn entry_path(&self, dir: &Path, key: &Digest32) -> PathBuf {
        dir.join(format!("{}{ENTRY_SUFFIX}", hex(key)))
    }

    /// Forget the components this process already compiled or read: the
    /// next [`CompileCache::component`] of each compiles (or reads) it
    /// again. For benchmarks that time compiling with one engine.
    pub fn forget_compiled(&self) {
        self.compiled
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
    }

    fn load_or_compile(&self, engine: &Engine, wasm: &[u8], key: &Digest32) -> Compiled {
        let compile = || Component::new(engine, wasm).map_err(|e| first_line(&e));
        let Some(dir) = &self.dir else {
            return compile();
        };
        let path = self.entry_path(dir, key);
        match self.read(engine, &path, key) {
            Ok(Some(component)) => return Ok(component),
            Ok(None) => {}
            Err(why) => self.warn(format!(
                "ignored the cached {}: {why}; compiling instead",
                path.display()
            )),
        }
        let component = compile()?;
        self.write(dir, &path, key, &component);
        Ok(component)
    }

    /// Store a compiled component; a failure is the run's cache warning.
    fn write(&self, dir: &Path, path: &Path, key: &Digest32, component: &Component) {
        let stored = component
            .serialize()
            .map_err(|e| io::Error::other(first_line(&e)))
            .and_then(|artifact| {
                // Header and artifact written apart: a big component's
                // artifact is not copied once more to put them together.
                let header = Entry::header(&self.secret, key, &artifact);
                write_atomically(dir, path, &[&header, &artifact])
            });
        if let Err(e) = stored {
            self.warn(format!(
                "cannot write to the compiled-component cache {}: {e}",
                dir.display()
            ));
        }
    }

    /// The key a component's bytes are stored under.
    fn key(&self, engine: &Engine, digest: &Digest32) -> Digest32 {
        let mut hasher = Sha256::new();
        hasher.update(b"hookhost compiled component\0");
        hasher.update(salt(engine, &self.build));
        hasher.update(digest);
        hasher.finalize().into()
    }

    /// A cached entry, if there is one hookhost wrote; Ok(None) when there
    /// is none, Err when there is one that cannot be trusted or used.
    fn read(
        &self,
        engine: &Engine,
        path: &Path,
        key: &Digest32,
    ) -> Result<Option<Component>, String> {
        let mut file = match OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NOFOLLOW)
            .open(path)
        {
            Ok(file) => file,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e.to_string()),
        };
        let meta = file.metadata().map_err(|e| e.to_string())?;
        check_owned(&meta, "file")?;
        let mut bytes = Vec::with_capacity(meta.len() as usize);
        file.read_to_end(&mut bytes).map_err(|e| e.to_string())?;
        let artifact = Entry::parse(&bytes, key, &self.secret)?;
        // SAFETY: `Component::deserialize` runs machine code from `artifact`
        // as if wasmtime compiled it, so it must be bytes wasmtime produced.
        // These are: the file lies in a directory owned by this user that
        // no one else can write (`prepare_dir`), it is a regular file owned
        // by this user and writable by no one else, opened without following
        // symlinks (`check_owned`), and it starts with hookhost's magic, the
        // key it was stored under, the sha256 of the artifact, which
        // matches, and an HMAC of all that keyed by this user's secret, which
        // matches too (`Entry::parse`): hookhost, run by this user, wrote it,
        // whole, for exactly this component, and it was not changed since;
        // a file put there by other means (a plugin's write grant, a copy
        // from elsewhere) lacks the secret. wasmtime itself also refuses an
        // artifact of another wasmtime version or engine setting.
        // The bytes are copied into wasmtime's own memory, so later changes
        // to the file cannot reach the loaded code.
        let component = unsafe { Component::deserialize(engine, artifact) }
            .map_err(|e| format!("wasmtime refused it ({})", first_line(&e)))?;
        Ok(Some(component))
    }

    fn warn(&self, message: String) {
        let mut warning = self.warning.lock().unwrap_or_else(|e| e.into_inner());
        // One warning per run: the first problem says what to fix.
        if !warning.taken && warning.message.is_none() {
            warning.message = Some(message);
        }
    }
}

/// The run's one cache warning.
#[derive(Default)]
struct Warning {
    message: Option<String>,
    /// Handed out already: later problems stay quiet.
    taken: bool,
}

impl Warning {
    fn new(message: String) -> Mutex<Warning> {
        Mutex::new(Warning {
            message: Some(message),
            taken: false,
        })
    }
}

/// The layout of a cache entry: a header hookhost writes, then the
/// artifact wasmtime produced.
struct Entry;

impl Entry {
    #[cfg(test)]
    fn encode(secret: &Secret, key: &Digest32, artifact: &[u8]) -> Vec<u8> {
        let mut bytes = Entry::header(secret, key, artifact);
        bytes.extend_from_slice(artifact);
        bytes
    }

    /// What goes before the artifact in an entry.
    fn header(secret: &Secret, key: &Digest32, artifact: &[u8]) -> Vec<u8> {
        let mut bytes = Vec::with_capacity(HEADER_LEN);
        bytes.extend_from_slice(MAGIC);
        bytes.extend_from_slice(key);
        bytes.extend_from_slice(&Sha256::digest(artifact));
        bytes.extend_from_slice(&(artifact.len() as u64).to_le_bytes());
        let mac = Entry::mac(secret, &bytes, artifact).finalize().into_bytes();
        bytes.extend_from_slice(&mac);
        bytes
    }

    /// The HMAC of the header fields before it and the artifact.
    fn mac(secret: &Secret, header: &[u8], artifact: &[u8]) -> HmacSha256 {
        let mut mac = secret.mac();
        mac.update(header);
        mac.update(artifact);
        mac
    }

    /// The artifact, if `bytes` is an entry hookhost wrote for `key` with
    /// `secret`, whole and unchanged.
    fn parse<'a>(bytes: &'a [u8], key: &Digest32, secret: &Secret) -> Result<&'a [u8], String> {
        if bytes.len() < HEADER_LEN || &bytes[..16] != MAGIC {
            return Err("it is not a hookhost cache entry".into());
        }
        if &bytes[16..48] != key {
            return Err("it was stored for another component".into());
        }
        let mut len = [0u8; 8];
        len.copy_from_slice(&bytes[80..88]);
        let artifact = &bytes[HEADER_LEN..];
        if u64::from_le_bytes(len) != artifact.len() as u64 {
            return Err("it is truncated".into());
        }
        if Sha256::digest(artifact).as_slice() != &bytes[48..80] {
            return Err("its checksum does not match (corrupted)".into());
        }
        Entry::mac(secret, &bytes[..MAC_AT], artifact)
            .verify_slice(&bytes[MAC_AT..HEADER_LEN])
            .map_err(|_| {
                "its authentication code does not match: this user's hookhost did not \
                 write it"
                    .to_string()
            })?;
        Ok(artifact)
    }
}

/// This user's secret in the cache directory `dir`, created on first use.
fn load_secret(dir: &Path) -> Result<Secret, String> {
    let path = dir.join(SECRET_FILE);
    let explain = |why: String| format!("its key {}: {why}", path.display());
    // Twice at most: created by this run, or by another one meanwhile.
    for _ in 0..2 {
        if let Some(secret) = read_secret(&path).map_err(explain)? {
            return Ok(secret);
        }
        create_secret(dir, &path).map_err(|e| explain(format!("cannot create it: {e}")))?;
    }
    Err(explain("it vanished while being created".into()))
}

/// The secret, None when there is no key file yet; Err when there is one
/// that cannot be trusted: not a regular file of this user's, readable or
/// writable by others, or not 32 bytes.
fn read_secret(path: &Path) -> Result<Option<Secret>, String> {
    let mut file = match OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW)
        .open(path)
    {
        Ok(file) => file,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) if e.raw_os_error() == Some(libc::ELOOP) => {
            return Err("it is a symbolic link; remove it".into())
        }
        Err(e) => return Err(e.to_string()),
    };
    let meta = file.metadata().map_err(|e| e.to_string())?;
    check_owned(&meta, "file")?;
    if meta.mode() & 0o077 != 0 {
        return Err(format!(
            "other users may read it (mode {:o}); `chmod 600` it or remove it",
            meta.mode() & 0o777
        ));
    }
    let mut secret = Secret::default();
    let mut rest = Vec::new();
    file.read_exact(&mut secret.0)
        .and_then(|()| file.read_to_end(&mut rest))
        .map_err(|e| format!("cannot read it: {e}"))?;
    if !rest.is_empty() {
        return Err("it is not a hookhost key (longer than 32 bytes); remove it".into());
    }
    Ok(Some(secret))
}

/// Create the key file whole or not at all: 32 random bytes written to a
/// private temporary file (`O_EXCL`, mode 0600), then linked to its name,
/// which fails if another run created it first (that key is then used).
fn create_secret(dir: &Path, path: &Path) -> io::Result<()> {
    let mut secret = Secret::default();
    getrandom::fill(&mut secret.0).map_err(|e| io::Error::other(e.to_string()))?;
    let temp = temp_path(dir);
    let result = (|| {
        let mut file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .custom_flags(libc::O_NOFOLLOW)
            .open(&temp)?;
        file.write_all(&secret.0)?;
        file.sync_all()?;
        match fs::hard_link(&temp, path) {
            Err(e) if e.kind() != io::ErrorKind::AlreadyExists => Err(e),
            _ => Ok(()),
        }
    })();
    let _ = fs::remove_file(&temp);
    result
}

/// `$HOOKHOST_CACHE_DIR`, else `$XDG_CACHE_HOME/hookhost`, else
/// `$HOME/.cache/hookhost`. Empty variables count as unset.
pub fn default_dir() -> Option<PathBuf> {
    crate::config::operator::compile_cache_dir()
}

/// What [`clean`] removed.
pub struct Cleaned {
    pub files: Vec<PathBuf>,
    pub bytes: u64,
}

/// Remove every cache entry (and leftover temporary file) from `dir`.
/// Other files are left alone, in case the directory is shared.
pub fn clean(dir: &Path) -> io::Result<Cleaned> {
    let mut cleaned = Cleaned {
        files: Vec::new(),
        bytes: 0,
    };
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(cleaned),
        Err(e) => return Err(e),
    };
    for entry in entries {
        let entry = entry?;
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if !(name.ends_with(ENTRY_SUFFIX) || name.starts_with(TEMP_PREFIX)) {
            continue;
        }
        let meta = entry.metadata()?;
        if !meta.is_file() {
            continue;
        }
        fs::remove_file(entry.path())?;
        cleaned.bytes += meta.len();
        cleaned.files.push(entry.path());
    }
    cleaned.files.sort();
    Ok(cleaned)
}

/// [`clean`], as `hookhost cache clean` prints it: each file removed, then
/// a total line.
pub fn clean_report(dir: &Path) -> anyhow::Result<String> {
    let cleaned =
        clean(dir).map_err(|e| anyhow::anyhow!("cannot clean the cache {}: {e}", dir.display()))?;
    let mut report = String::new();
    for file in &cleaned.files {
        report.push_str(&format!("removed {}\n", file.display()));
    }
    report.push_str(&format!(
        "removed {} compiled component{} ({:.1} MB) from {}\n",
        cleaned.files.len(),
        if cleaned.files.len() == 1 { "" } else { "s" },
        cleaned.bytes as f64 / 1e6,
        dir.display()
    ));
    Ok(report)
}

/// Create the cache directory (0700) and check that no one else can write
/// into it: its entries become machine code.
fn prepare_dir(dir: &Path) -> Result<(), String> {
    DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(|e| format!("cannot create it: {e}"))?;
    let meta = fs::metadata(dir).map_err(|e| e.to_string())?;
    if !meta.is_dir() {
        return Err("it is not a directory".into());
    }
    check_owned(&meta, "directory")
}

/// Owned by this user and writable by no one else.
fn check_owned(meta: &fs::Metadata, what: &str) -> Result<(), String> {
    // SAFETY: geteuid has no preconditions and cannot fail.
    let me = unsafe { libc::geteuid() };
    if meta.uid() != me {
        return Err(format!(
            "the {what} belongs to user {}, not to this user ({me})",
            meta.uid()
        ));
    }
    if meta.mode() & 0o022 != 0 {
        return Err(format!(
            "the {what} is writable by other users (mode {:o})",
            meta.mode() & 0o777
        ));
    }
    if what == "file" && !meta.is_file() {
        return Err("it is not a regular file".into());
    }
    Ok(())
}

/// Write `bytes` to `path` so that readers see the old file or the whole
/// new one: a private temporary file in the same directory, then a rename.
/// No fsync: a file torn by a crash fails its checksum and is recompiled.
fn write_atomically(dir: &Path, path: &Path, parts: &[&[u8]]) -> io::Result<()> {
    let temp = temp_path(dir);
    let result = (|| {
        let mut file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&temp)?;
        for bytes in parts {
            file.write_all(bytes)?;
        }
        drop(file);
        fs::rename(&temp, path)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&temp);
    }
    result
}

/// A fresh name for a temporary file in `dir`.
fn temp_path(dir: &Path) -> PathBuf {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    dir.join(format!(
        "{TEMP_PREFIX}{}-{nanos}-{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    ))
}

/// What identifies this build of hookhost: its version, and the running
/// binary's size, modification time and inode (a rebuilt binary differs in
/// at least one; reading the whole binary to hash it would cost more than
/// a warm start is allowed to).
fn build_id() -> io::Result<Vec<u8>> {
    let exe = std::env::current_exe()?;
    let meta = File::open(&exe)?.metadata()?;
    let id = format!(
        "hookhost {} {} size={} mtime={}.{} dev={} ino={}",
        env!("CARGO_PKG_VERSION"),
        exe.display(),
        meta.len(),
        meta.mtime(),
        meta.mtime_nsec(),
        meta.dev(),
        meta.ino()
    );
    Ok(id.into_bytes())
}

/// The build id and the engine's compilation settings, as one digest.
fn salt(engine: &Engine, build_id: &[u8]) -> Digest32 {
    let mut hasher = ShaHasher(Sha256::new());
    hasher.0.update(build_id);
    engine.precompile_compatibility_hash().hash(&mut hasher);
    hasher.0.finalize().into()
}

/// Feeds `Hash` implementations into sha256: unlike std's hashers, the
/// result is the same in every process, so it can key files on disk.
struct ShaHasher(Sha256);

impl Hasher for ShaHasher {
    fn write(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }

    fn finish(&self) -> u64 {
        let digest = self.0.clone().finalize();
        u64::from_le_bytes(digest[..8].try_into().unwrap_or_default())
    }
}

/// The sha256 of a component's bytes, the part of its key that is its own.
pub(crate) fn wasm_digest(wasm: &[u8]) -> Digest32 {
    Sha256::digest(wasm).into()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entry_round_trips_and_refuses_tampering() {
        let key = [7u8; 32];
        let secret = Secret([1u8; 32]);
        let entry = Entry::encode(&secret, &key, b"artifact bytes");
        let parse = |bytes: &[u8]| Entry::parse(bytes, &key, &secret).map(|a| a.to_vec());
        assert_eq!(parse(&entry).unwrap(), b"artifact bytes");

        assert!(Entry::parse(&entry, &[8u8; 32], &secret)
            .unwrap_err()
            .contains("another component"));
        let mut flipped = entry.clone();
        *flipped.last_mut().unwrap() ^= 1;
        assert!(parse(&flipped).unwrap_err().contains("checksum"));
        assert!(parse(&entry[..entry.len() - 1])
            .unwrap_err()
            .contains("truncated"));
        assert!(parse(b"\0asm garbage")
            .unwrap_err()
            .contains("not a hookhost cache entry"));
        // Another key: the checksum holds, the code does not.
        let forged = Entry::encode(&Secret([2u8; 32]), &key, b"artifact bytes");
        assert!(parse(&forged).unwrap_err().contains("authentication code"));
    }

    #[test]
    fn the_secret_is_private_and_made_once() {
        let dir = tempfile::tempdir().unwrap();
        let first = load_secret(dir.path()).unwrap();
        let path = dir.path().join(SECRET_FILE);
        let meta = fs::symlink_metadata(&path).unwrap();
        assert_eq!(meta.mode() & 0o777, 0o600);
        assert_eq!(load_secret(dir.path()).unwrap().0, first.0);
        let mut perms = meta.permissions();
        std::os::unix::fs::PermissionsExt::set_mode(&mut perms, 0o644);
        fs::set_permissions(&path, perms).unwrap();
        assert!(load_secret(dir.path()).unwrap_err().contains("mode 644"));
        fs::remove_file(&path).unwrap();
        std::os::unix::fs::symlink("/dev/null", &path).unwrap();
        assert!(load_secret(dir.path())
            .unwrap_err()
            .contains("symbolic link"));
        fs::remove_file(&path).unwrap();
        fs::write(&path, b"short").unwrap();
        let mut perms = fs::metadata(&path).unwrap().permissions();
        std::os::unix::fs::PermissionsExt::set_mode(&mut perms, 0o600);
        fs::set_permissions(&path, perms).unwrap();
        assert!(load_secret(dir.path()).unwrap_err().contains("cannot read"));
    }

    #[test]
    fn the_key_changes_with_the_component_and_the_engine_settings() {
        let engine = |epochs: bool| {
            let mut config = wasmtime::Config::new();
            config.epoch_interruption(epochs);
            Engine::new(&config).unwrap()
        };
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (engine(true), engine(false));
        let cache_a = CompileCache::at(&a, dir.path().to_path_buf());
        let cache_b = CompileCache::at(&b, dir.path().to_path_buf());
        let (x, y) = (wasm_digest(b"x"), wasm_digest(b"y"));
        assert_eq!(
            cache_a.key(&a, &x),
            CompileCache::at(&a, dir.path().into()).key(&a, &x)
        );
        assert_ne!(cache_a.key(&a, &x), cache_a.key(&a, &y));
        assert_ne!(cache_a.key(&a, &x), cache_b.key(&b, &x));
        assert!(cache_a.take_warning().is_none());
    }

    #[test]
    fn clean_removes_only_cache_files() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("ab.hhc"), b"x").unwrap();
        fs::write(dir.path().join(".tmp-1-2-3"), b"yy").unwrap();
        fs::write(dir.path().join("notes.txt"), b"keep").unwrap();
        let cleaned = clean(dir.path()).unwrap();
        assert_eq!(cleaned.files.len(), 2);
        assert_eq!(cleaned.bytes, 3);
        assert!(dir.path().join("notes.txt").exists());
        assert_eq!(clean(&dir.path().join("missing")).unwrap().files.len(), 0);
    }
}
