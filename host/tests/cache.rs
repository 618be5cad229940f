//! The compiled-component cache, through the real binary: warm runs load
//! what cold runs stored, a changed component gets its own entry, entries
//! hookhost did not write (or that were damaged, or rewritten without the
//! user's key) are never loaded, a broken cache only warns, concurrent runs
//! do not corrupt it, and `hookhost cache clean` empties it.

mod support;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use support::{component, hookhost_with_cache, two_plugin_stack, Run, TestStack};

/// `hookhost cache ACTION` with the cache in `cache`.
fn cache_command(cache: &Path, action: &str) -> Run {
    let output = Command::new(env!("CARGO_BIN_EXE_hookhost"))
        .args(["cache", action])
        .env("HOOKHOST_CACHE_DIR", cache)
        .output()
        .expect("run hookhost cache");
    Run::from(output)
}

fn entries(cache: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(cache)
        .map(|dir| dir.map(|e| e.unwrap().path()).collect())
        .unwrap_or_default();
    files.retain(|p| p.extension().is_some_and(|e| e == "hhc"));
    files.sort();
    files
}

fn cache_warnings(run: &Run) -> usize {
    run.stderr
        .lines()
        .chain(run.stdout.lines())
        .filter(|l| l.contains("warning") && l.contains("cache"))
        .count()
}

#[test]
fn a_cold_run_fills_the_cache_and_a_warm_run_uses_it() {
    let stack = two_plugin_stack();
    let cache = tempfile::tempdir().unwrap();
    let dir = cache.path().join("hh");
    hookhost_with_cache(&stack, &dir, &["stack"])
        .assert_code(0)
        .assert_no_panic();
    let stored = entries(&dir);
    assert_eq!(stored.len(), 2, "one entry per component: {stored:?}");
    let mode = std::fs::metadata(&dir).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o700, "the cache directory is private");

    let warm = hookhost_with_cache(&stack, &dir, &["stack"]);
    warm.assert_code(0)
        .assert_stdout_has("probe 40-probe stack extra");
    assert_eq!(cache_warnings(&warm), 0, "{}", warm.all());
    assert_eq!(entries(&dir), stored, "a warm run adds nothing");
}

#[test]
fn a_changed_component_gets_its_own_entry() {
    let stack = TestStack::new();
    stack.wasm("20-plugin", "noop", None);
    let cache = tempfile::tempdir().unwrap();
    hookhost_with_cache(&stack, cache.path(), &["stack"]).assert_code(0);
    assert_eq!(entries(cache.path()).len(), 1);

    // Same name, other bytes: the old entry must not be what runs.
    std::fs::copy(component("probe"), stack.path("extras.d/20-plugin.wasm")).unwrap();
    hookhost_with_cache(&stack, cache.path(), &["stack"])
        .assert_code(0)
        .assert_stdout_has("probe 20-plugin source");
    assert_eq!(entries(cache.path()).len(), 2);
}

#[test]
fn a_damaged_entry_is_recompiled_with_one_warning() {
    let stack = two_plugin_stack();
    let cache = tempfile::tempdir().unwrap();
    hookhost_with_cache(&stack, cache.path(), &["stack"]).assert_code(0);
    for entry in entries(cache.path()) {
        let mut bytes = std::fs::read(&entry).unwrap();
        let last = bytes.len() - 1;
        bytes[last] ^= 0xff;
        std::fs::write(&entry, bytes).unwrap();
    }
    let run = hookhost_with_cache(&stack, cache.path(), &["stack"]);
    run.assert_code(0)
        .assert_stdout_has("probe 40-probe stack extra")
        .assert_no_panic();
    assert_eq!(cache_warnings(&run), 1, "{}", run.all());
    assert!(run.all().contains("checksum"), "{}", run.all());

    // The damaged entries were replaced by good ones.
    let again = hookhost_with_cache(&stack, cache.path(), &["stack"]);
    assert_eq!(cache_warnings(&again), 0, "{}", again.all());
}

#[test]
fn a_file_hookhost_did_not_write_is_never_loaded() {
    let stack = TestStack::new();
    stack.wasm("20-noop", "noop", None);
    let cache = tempfile::tempdir().unwrap();
    hookhost_with_cache(&stack, cache.path(), &["stack"]).assert_code(0);
    let entry = entries(cache.path()).remove(0);
    // Something else planted under the right name: a raw wasmtime
    // artifact or garbage is refused before wasmtime sees it.
    std::fs::write(&entry, b"\x7fELF not written by hookhost").unwrap();
    let run = hookhost_with_cache(&stack, cache.path(), &["stack"]);
    run.assert_code(0).assert_no_panic();
    assert!(
        run.all().contains("not a hookhost cache entry"),
        "{}",
        run.all()
    );
}

/// The artifact length an entry's header records (bytes 80..88); the
/// artifact is that many bytes at the end of the file.
fn artifact_len(entry: &[u8]) -> usize {
    u64::from_le_bytes(entry[80..88].try_into().unwrap()) as usize
}

/// `header_from`'s header with `artifact_from`'s artifact, its sha256 and
/// length recomputed: a checksum-valid entry another component's code.
fn forge(header_from: &[u8], artifact_from: &[u8]) -> Vec<u8> {
    use sha2::{Digest, Sha256};
    let artifact = &artifact_from[artifact_from.len() - artifact_len(artifact_from)..];
    let mut forged = header_from[..header_from.len() - artifact_len(header_from)].to_vec();
    forged[48..80].copy_from_slice(&Sha256::digest(artifact));
    forged[80..88].copy_from_slice(&(artifact.len() as u64).to_le_bytes());
    forged.extend_from_slice(artifact);
    forged
}

#[test]
fn an_entry_with_a_valid_checksum_but_not_the_users_key_is_never_run() {
    let cache = tempfile::tempdir().unwrap();
    let probe = TestStack::new();
    probe.wasm("40-probe", "probe", None);
    hookhost_with_cache(&probe, cache.path(), &["stack"]).assert_code(0);
    let probe_entry = entries(cache.path()).remove(0);
    let noop = TestStack::new();
    noop.wasm("40-noop", "noop", None);
    hookhost_with_cache(&noop, cache.path(), &["stack"]).assert_code(0);
    let noop_entry = entries(cache.path())
        .into_iter()
        .find(|e| *e != probe_entry)
        .unwrap();

    // The probe's entry, now holding the noop's valid machine code.
    let forged = forge(
        &std::fs::read(&probe_entry).unwrap(),
        &std::fs::read(&noop_entry).unwrap(),
    );
    std::fs::write(&probe_entry, &forged).unwrap();
    let run = hookhost_with_cache(&probe, cache.path(), &["stack"]);
    run.assert_code(0)
        .assert_no_panic()
        .assert_stdout_has("probe 40-probe source")
        .assert_stdout_has("probe 40-probe stack extra");
    assert_eq!(cache_warnings(&run), 1, "{}", run.all());
    assert!(run.all().contains("authentication code"), "{}", run.all());
    // Compiled again and stored with the key: the next run is quiet.
    assert_ne!(std::fs::read(&probe_entry).unwrap(), forged);
    let again = hookhost_with_cache(&probe, cache.path(), &["stack"]);
    again.assert_stdout_has("probe 40-probe source");
    assert_eq!(cache_warnings(&again), 0, "{}", again.all());
}

#[test]
fn the_key_is_private_and_a_key_others_can_read_turns_the_cache_off() {
    let stack = TestStack::new();
    stack.wasm("20-noop", "noop", None);
    let cache = tempfile::tempdir().unwrap();
    hookhost_with_cache(&stack, cache.path(), &["stack"]).assert_code(0);
    let key = cache.path().join("secret.key");
    let meta = std::fs::metadata(&key).unwrap();
    assert_eq!(meta.permissions().mode() & 0o777, 0o600);
    assert_eq!(meta.len(), 32);

    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
    for entry in entries(cache.path()) {
        std::fs::remove_file(entry).unwrap();
    }
    let run = hookhost_with_cache(&stack, cache.path(), &["stack"]);
    run.assert_code(0).assert_no_panic();
    assert_eq!(cache_warnings(&run), 1, "{}", run.all());
    assert!(run.all().contains("chmod 600"), "{}", run.all());
    assert!(
        entries(cache.path()).is_empty(),
        "nothing stored without a key"
    );
}

#[test]
fn a_cache_others_can_write_is_not_used() {
    let stack = TestStack::new();
    stack.wasm("20-noop", "noop", None);
    let cache = tempfile::tempdir().unwrap();
    std::fs::set_permissions(cache.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
    let run = hookhost_with_cache(&stack, cache.path(), &["stack"]);
    run.assert_code(0).assert_no_panic();
    assert!(
        run.all().contains("writable by other users"),
        "{}",
        run.all()
    );
    assert!(entries(cache.path()).is_empty());
}

#[test]
fn an_unusable_cache_only_warns() {
    let stack = two_plugin_stack();
    let file = tempfile::NamedTempFile::new().unwrap();
    // A directory below a regular file cannot be created, even by root.
    let run = hookhost_with_cache(&stack, &file.path().join("cache"), &["stack"]);
    run.assert_code(0)
        .assert_stdout_has("probe 40-probe stack extra")
        .assert_no_panic();
    assert_eq!(cache_warnings(&run), 1, "{}", run.all());
}

#[test]
fn concurrent_cold_runs_leave_a_valid_cache() {
    // Four stacks (one run per stack at a time) with the same plugins, one cache.
    let stacks: Vec<TestStack> = (0..4).map(|_| two_plugin_stack()).collect();
    let cache = tempfile::tempdir().unwrap();
    let start = |stack: &TestStack| {
        Command::new(env!("CARGO_BIN_EXE_hookhost"))
            .args(["stack", "--top"])
            .arg(stack.top())
            .env("HOOKHOST_CACHE_DIR", cache.path())
            .output()
            .expect("run hookhost")
    };
    let runs: Vec<_> = std::thread::scope(|s| {
        let handles: Vec<_> = stacks.iter().map(|t| s.spawn(|| start(t))).collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    for output in runs {
        Run::from(output).assert_code(0).assert_no_panic();
    }
    assert_eq!(entries(cache.path()).len(), 2);
    let leftovers = std::fs::read_dir(cache.path())
        .unwrap()
        .filter(|e| {
            let name = e.as_ref().unwrap().file_name();
            name.to_string_lossy().starts_with(".tmp-")
        })
        .count();
    assert_eq!(leftovers, 0, "no temporary files left behind");
    let warm = hookhost_with_cache(&stacks[0], cache.path(), &["stack"]);
    assert_eq!(cache_warnings(&warm), 0, "{}", warm.all());
}

#[test]
fn cache_clean_empties_the_cache_and_says_what_it_removed() {
    let stack = two_plugin_stack();
    let cache = tempfile::tempdir().unwrap();
    hookhost_with_cache(&stack, cache.path(), &["stack"]).assert_code(0);
    std::fs::write(cache.path().join("README"), "not ours").unwrap();
    let stored = entries(cache.path());

    let clean = cache_command(cache.path(), "clean");
    clean
        .assert_code(0)
        .assert_stdout_has("removed 2 compiled components");
    for entry in &stored {
        clean.assert_stdout_has(&entry.display().to_string());
    }
    assert!(entries(cache.path()).is_empty());
    assert!(cache.path().join("README").exists(), "other files stay");

    cache_command(cache.path(), "dir")
        .assert_code(0)
        .assert_stdout_has(&cache.path().display().to_string());
    // The next run compiles again and still works.
    hookhost_with_cache(&stack, cache.path(), &["stack"]).assert_code(0);
    assert_eq!(entries(cache.path()).len(), 2);
}
