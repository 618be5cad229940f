//! Finding the hooks of a stack: every `extras.d/NN-name.sh` (bash) and
//! `extras.d/NN-name.wasm` (component), with the manifest `NN-name.toml`
//! beside it, in the order they run.
//!
//! DevStack's rules, and the decisions this module makes where DevStack is silent:
//!
//! - **Name rule.** A hook file is `NN-name.EXT`: `NN` two ASCII digits, a
//!   `-`, a name of one or more ASCII letters, digits, `_` and `-`, then
//!   `.sh` or `.wasm` (lower case). A dot is not allowed in the name: the
//!   first dot ends the name, so `50-x.orig.sh` or `50-x.sh.bak` can never be
//!   mistaken for a hook (DevStack's `*.sh` glob would have run the former),
//!   and every stem (`50-template`) is a TOML bare key, so an operator's
//!   grants file can say `[hooks.50-template]` without quotes.
//! - **Order.** Both kinds sorted together by the bytes of the whole file
//!   name, as `LC_ALL=C` globbing sorts (`50-a-b.sh` < `50-a.wasm` <
//!   `50-a_b.sh`, `10-Z.sh` < `10-a.sh`).
//! - **Nothing is silently ignored.** Every other entry of `extras.d/`
//!   (hidden files, editor backups, directories, dangling symlinks, names
//!   without `NN-`, non-UTF-8 names, a manifest without a hook) is returned
//!   in [`Discovery::skipped`] with the reason and the valid form.
//! - **Errors**, all collected and returned together: a hook numbered `00`-`09`
//!   or `90`-`99` (reserved for hookhost) unless allowed; two hooks with the
//!   same stem; a manifest beside a hook that cannot be read as a file (a
//!   hook must never run without the manifest its author or operator put
//!   there, e.g. one asking for confinement).
//! - Symlinks are followed to decide what an entry is. A stack without
//!   `extras.d/` simply has no hooks; a missing `--top` directory is an error.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use crate::model::hooks::{HookFile, HookKind};
use crate::model::names::is_file_name_char;
use crate::model::problems::io_message;
use crate::model::problems::{Problem, Problems};

/// The valid form, repeated in every skip reason.
pub const EXPECTED: &str = "expected NN-name.sh or NN-name.wasm";

/// An entry of `extras.d/` that is not a hook, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    pub path: PathBuf,
    pub reason: String,
}

/// The hooks of a stack in run order, and everything else found beside them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Discovery {
    pub hooks: Vec<HookFile>,
    pub skipped: Vec<Skipped>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DiscoveryOptions {
    /// Accept third-party hooks numbered `00`-`09` and `90`-`99`.
    pub allow_reserved: bool,
}

/// Everything wrong with a stack's hooks, one problem each.
pub type DiscoveryError = Problems;

/// One problem that stops discovery.
fn one(message: String) -> DiscoveryError {
    Problems::from(Problem::new(message))
}

/// Sequence numbers hookhost keeps for its own hooks.
pub fn is_reserved(number: u8) -> bool {
    number <= 9 || number >= 90
}

/// Find the hooks of the stack at `top`, in run order.
pub fn discover(top: &Path, options: &DiscoveryOptions) -> Result<Discovery, DiscoveryError> {
    check_top(top)?;
    let dir = top.join("extras.d");
    let Some(entries) = read_sorted(&dir)? else {
        return Ok(Discovery::default());
    };
    let mut scan = Scan::default();
    for (name, path) in entries {
        scan.entry(name, path, options);
    }
    scan.finish()
}

/// The files of `extras.d/` skipped as not hooks, whether or not the stack
/// is refused for other reasons: a refusal still says what it skipped.
pub fn skipped_files(top: &Path) -> Vec<Skipped> {
    let Ok(Some(entries)) = read_sorted(&top.join("extras.d")) else {
        return Vec::new();
    };
    let mut scan = Scan::default();
    let options = DiscoveryOptions {
        allow_reserved: true,
    };
    for (name, path) in entries {
        scan.entry(name, path, &options);
    }
    scan.attach_manifests();
    scan.sorted_skips()
}

fn check_top(top: &Path) -> Result<(), DiscoveryError> {
    match fs::metadata(top) {
        Ok(meta) if meta.is_dir() => Ok(()),
        Ok(_) => Err(one(format!(
            "{}: the stack is not a directory; pass --top DIR with the directory that holds extras.d/",
            top.display()
        ))),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Err(one(format!(
            "{}: the stack directory does not exist; pass --top DIR with the directory that holds extras.d/",
            top.display()
        ))),
        Err(e) => Err(one(format!(
            "{}: cannot read the stack directory: {}",
            top.display(),
            io_message(&e)
        ))),
    }
}

/// The entries of `extras.d/` sorted by the bytes of their names, or `None`
/// when the stack has no `extras.d/`.
fn read_sorted(dir: &Path) -> Result<Option<Vec<(OsString, PathBuf)>>, DiscoveryError> {
    let cannot = |e: io::Error| one(format!("extras.d: cannot read: {}", io_message(&e)));
    match fs::metadata(dir) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(cannot(e)),
        Ok(meta) if !meta.is_dir() => {
            return Err(one(
                "extras.d: is not a directory; hooks live in the directory extras.d/ of the stack"
                    .to_string(),
            ))
        }
        Ok(_) => {}
    }
    let mut entries = Vec::new();
    for entry in fs::read_dir(dir).map_err(cannot)? {
        let entry = entry.map_err(cannot)?;
        entries.push((entry.file_name(), entry.path()));
    }
    entries.sort_by(|a, b| a.0.as_encoded_bytes().cmp(b.0.as_encoded_bytes()));
    Ok(Some(entries))
}

/// What a file name in `extras.d/` says it is, by name alone.
#[derive(Debug, PartialEq, Eq)]
enum Named {
    Hook(HookName),
    Manifest { stem: String },
    Other(String),
}

/// The parts of a valid hook file name.
#[derive(Debug, PartialEq, Eq)]
struct HookName {
    number: u8,
    name: String,
    stem: String,
    kind: HookKind,
}

/// Classify a file name (see the name rule at the top of this file).
fn classify(file_name: &str) -> Named {
    if file_name.starts_with('.') {
        return Named::Other(format!("hidden file; {EXPECTED}"));
    }
    let Some((base, ext)) = file_name.rsplit_once('.') else {
        return Named::Other(format!(
            "no extension; {EXPECTED} (DevStack silently skipped such files)"
        ));
    };
    let kind = match ext {
        "sh" => Some(HookKind::Bash),
        "wasm" => Some(HookKind::Wasm),
        "toml" => None,
        _ => return Named::Other(format!("unknown extension `.{ext}`; {EXPECTED}")),
    };
    let (number, name) = match parse_stem(base) {
        Ok(parts) => parts,
        Err(problem) => return Named::Other(format!("{problem}; {EXPECTED}")),
    };
    let stem = base.to_string();
    match kind {
        Some(kind) => Named::Hook(HookName {
            number,
            name: name.to_string(),
            stem,
            kind,
        }),
        None => Named::Manifest { stem },
    }
}

/// Split `NN-name` into its number and name, or say what is wrong.
fn parse_stem(stem: &str) -> Result<(u8, &str), String> {
    let bytes = stem.as_bytes();
    let numbered = bytes.len() >= 3
        && bytes[0].is_ascii_digit()
        && bytes[1].is_ascii_digit()
        && bytes[2] == b'-';
    if !numbered {
        return Err(
            "the name does not start with a two-digit sequence number and `-` (NN-)".into(),
        );
    }
    let number = (bytes[0] - b'0') * 10 + (bytes[1] - b'0');
    let name = &stem[3..];
    if name.is_empty() {
        return Err("the name after `NN-` is empty".into());
    }
    if let Some(bad) = name.chars().find(|c| !is_file_name_char(*c)) {
        return Err(format!(
            "the name `{name}` contains `{bad}`; names use only ASCII letters, digits, `_` and `-`"
        ));
    }
    Ok((number, name))
}

/// Why an entry cannot be run as a file, following symlinks; `Err` when it
/// cannot be examined at all.
fn file_problem(path: &Path) -> Result<Option<&'static str>, io::Error> {
    match fs::metadata(path) {
        Ok(meta) if meta.is_file() => Ok(None),
        Ok(meta) if meta.is_dir() => Ok(Some("is a directory")),
        Ok(_) => Ok(Some("is not a regular file (a device, socket or FIFO)")),
        Err(e) if e.kind() == io::ErrorKind::NotFound && is_symlink(path) => {
            Ok(Some("is a dangling symlink (its target does not exist)"))
        }
        Err(e) => Err(e),
    }
}

/// The one entry of `extras.d/` skipped without a word.
const QUIET_NON_HOOK: &str = "README.md";

/// Why a hook file, named as one, cannot run.
enum Unusable {
    /// DevStack tested `[[ -r ]]` and skipped it: a warning, not an error.
    Unreadable(String),
    /// A bash hook with CRLF line endings; the 1-based line of the first.
    Crlf(usize),
}

/// Read a hook's content far enough to know it can run: readable, and for
/// a bash hook, without CRLF line endings.
fn content_problem(path: &Path, kind: HookKind) -> Result<(), Unusable> {
    let unreadable = |e: io::Error| Unusable::Unreadable(io_message(&e));
    if kind == HookKind::Wasm {
        return fs::File::open(path).map(drop).map_err(unreadable);
    }
    let text = fs::read(path).map_err(unreadable)?;
    match text.windows(2).position(|w| w == b"\r\n") {
        Some(at) => Err(Unusable::Crlf(1 + bytecount_newlines(&text[..at]))),
        None => Ok(()),
    }
}

fn bytecount_newlines(bytes: &[u8]) -> usize {
    bytes.iter().filter(|&&b| b == b'\n').count()
}

fn is_symlink(path: &Path) -> bool {
    fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink())
}

/// A manifest found by name, and why it cannot be read as a file, if so.
struct ManifestEntry {
    stem: String,
    path: PathBuf,
    problem: Option<&'static str>,
}

/// The state of one pass over `extras.d/`.
#[derive(Default)]
struct Scan {
    hooks: Vec<HookFile>,
    manifests: Vec<ManifestEntry>,
    skipped: Vec<Skipped>,
    errors: Vec<Problem>,
}

impl Scan {
    fn entry(&mut self, name: OsString, path: PathBuf, options: &DiscoveryOptions) {
        let Some(name) = name.to_str() else {
            return self.skip(
                path,
                format!("the file name is not valid UTF-8; {EXPECTED}"),
            );
        };
        // Every DevStack tree ships one: a known non-hook, not worth a warning.
        if name == QUIET_NON_HOOK {
            return;
        }
        let problem = match file_problem(&path) {
            Ok(problem) => problem,
            Err(e) => {
                let message = format!("cannot read: {}", io_message(&e));
                return self.errors.push(Problem::at(path, None, message));
            }
        };
        match (classify(name), problem) {
            (Named::Manifest { stem }, problem) => self.manifests.push(ManifestEntry {
                stem,
                path,
                problem,
            }),
            (_, Some(problem)) => self.skip(path, format!("{problem}; {EXPECTED}")),
            (Named::Other(reason), None) => self.skip(path, reason),
            (Named::Hook(hook), None) => match content_problem(&path, hook.kind) {
                Ok(()) => self.hook(hook, path, options),
                Err(Unusable::Unreadable(why)) => self.skip(
                    path,
                    format!("cannot be read ({why}); DevStack skipped unreadable hooks too, fix its permissions to run it"),
                ),
                Err(Unusable::Crlf(line)) => {
                    let problem = crlf_problem(&path, line).for_hook(&hook.stem);
                    self.errors.push(problem)
                }
            },
        }
    }

    fn hook(&mut self, hook: HookName, path: PathBuf, options: &DiscoveryOptions) {
        if is_reserved(hook.number) && !options.allow_reserved {
            let problem = Problem::at(&path, None, reserved_message(hook.number));
            self.errors.push(problem.for_hook(&hook.stem));
        }
        self.hooks.push(HookFile {
            number: hook.number,
            name: hook.name,
            stem: hook.stem,
            kind: hook.kind,
            path,
            manifest: None,
        });
    }

    fn skip(&mut self, path: PathBuf, reason: String) {
        self.skipped.push(Skipped { path, reason });
    }

    fn finish(mut self) -> Result<Discovery, DiscoveryError> {
        self.check_duplicates();
        self.attach_manifests();
        if !self.errors.is_empty() {
            return Err(Problems(self.errors));
        }
        let skipped = self.sorted_skips();
        Ok(Discovery {
            hooks: self.hooks,
            skipped,
        })
    }

    fn sorted_skips(&mut self) -> Vec<Skipped> {
        let mut skipped = std::mem::take(&mut self.skipped);
        skipped.sort_by(|a, b| {
            let (a, b) = (a.path.as_os_str(), b.path.as_os_str());
            a.as_encoded_bytes().cmp(b.as_encoded_bytes())
        });
        skipped
    }

    fn check_duplicates(&mut self) {
        let mut by_stem: BTreeMap<&str, Vec<&Path>> = BTreeMap::new();
        for hook in &self.hooks {
            by_stem.entry(&hook.stem).or_default().push(&hook.path);
        }
        for (stem, files) in by_stem.into_iter().filter(|(_, f)| f.len() > 1) {
            let others: Vec<String> = files[1..].iter().map(|f| f.display().to_string()).collect();
            let message = format!(
                "two hooks named {stem} (this one and {}); a name may be used by one hook only, \
                 so rename or remove one of them",
                others.join(" and ")
            );
            self.errors
                .push(Problem::at(files[0], None, message).for_hook(stem));
        }
    }

    fn attach_manifests(&mut self) {
        for manifest in std::mem::take(&mut self.manifests) {
            let owners: Vec<&mut HookFile> = self
                .hooks
                .iter_mut()
                .filter(|hook| hook.stem == manifest.stem)
                .collect();
            match (owners.is_empty(), manifest.problem) {
                (true, problem) => self.skipped.push(Skipped {
                    reason: orphan_reason(&manifest.stem, problem),
                    path: manifest.path,
                }),
                (false, Some(problem)) => {
                    let message = format!(
                        "the manifest of hook {} {problem}; fix it or remove it",
                        manifest.stem
                    );
                    let problem = Problem::at(&manifest.path, None, message);
                    self.errors.push(problem.for_hook(&manifest.stem))
                }
                (false, None) => {
                    for hook in owners {
                        hook.manifest = Some(manifest.path.clone());
                    }
                }
            }
        }
    }
}

fn orphan_reason(stem: &str, problem: Option<&str>) -> String {
    match problem {
        Some(problem) => format!("{problem}; a manifest must be a file beside its hook"),
        None => format!(
            "a manifest without a hook: there is no {stem}.sh or {stem}.wasm beside it; \
             a manifest NN-name.toml belongs beside its hook NN-name.sh or NN-name.wasm"
        ),
    }
}

/// A bash hook with CRLF line endings, the first at `line`: the fix names
/// the file as it is, so it runs from wherever the operator is.
fn crlf_problem(path: &Path, line: usize) -> Problem {
    let message = format!(
        "has Windows (CRLF) line endings, which bash reads as part of \
         each command; convert it to LF line endings (e.g. `sed -i 's/\\r$//' {}`)",
        path.display()
    );
    Problem::at(path, Some(line), message)
}

fn reserved_message(number: u8) -> String {
    format!(
        "sequence number {number:02} is reserved for hookhost's own hooks (00-09, 90-99); \
         renumber it, or pass --allow-reserved if you trust it"
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::ffi::OsStrExt;
    use std::os::unix::fs::symlink;
    use tempfile::TempDir;

    fn stack(files: &[&str]) -> TempDir {
        let top = tempfile::tempdir().unwrap();
        fs::create_dir(top.path().join("extras.d")).unwrap();
        for file in files {
            fs::write(top.path().join("extras.d").join(file), "").unwrap();
        }
        top
    }

    fn found(top: &TempDir) -> Discovery {
        discover(top.path(), &DiscoveryOptions::default()).unwrap()
    }

    fn names(d: &Discovery) -> Vec<String> {
        d.hooks.iter().map(HookFile::file_name).collect()
    }

    fn reason_of(d: &Discovery, file: &str) -> String {
        let skipped = d.skipped.iter().find(|s| s.path.ends_with(file));
        skipped.expect(file).reason.clone()
    }

    fn errors(top: &TempDir, options: DiscoveryOptions) -> Vec<String> {
        let problems = discover(top.path(), &options).unwrap_err();
        // The problems name files absolutely; shown here from the stack top.
        let prefix = format!("{}/", top.path().display());
        let shown = problems.iter().map(|p| p.to_string().replace(&prefix, ""));
        shown.collect()
    }

    #[test]
    fn both_kinds_merge_in_c_locale_byte_order() {
        let top = stack(&[
            "50-a_b.sh",
            "50-a.wasm",
            "10-a.sh",
            "10-Z.sh",
            "50-a-b.wasm",
            "20-9.sh",
            "20-10.wasm",
            "11-x.sh",
        ]);
        let expected = [
            "10-Z.sh",
            "10-a.sh",
            "11-x.sh",
            "20-10.wasm",
            "20-9.sh",
            "50-a-b.wasm",
            "50-a.wasm",
            "50-a_b.sh",
        ];
        let d = found(&top);
        assert_eq!(names(&d), expected);
        assert!(d.skipped.is_empty(), "{:?}", d.skipped);
    }

    #[test]
    fn order_matches_lc_all_c_glob() {
        let files = ["50-a_b.sh", "50-a.wasm", "10-a.sh", "10-Z.sh", "50-a-b.sh"];
        let top = stack(&files);
        // One glob over both kinds: bash sorts its matches by the locale.
        let script = "cd extras.d && for f in *; do case $f in *.sh|*.wasm) echo $f;; esac; done";
        let out = std::process::Command::new("bash")
            .args(["-c", script])
            .env("LC_ALL", "C")
            .current_dir(top.path())
            .output()
            .unwrap();
        let globbed: Vec<String> = String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .map(String::from)
            .collect();
        assert_eq!(names(&found(&top)), globbed);
    }

    #[test]
    fn hook_fields() {
        let top = stack(&["50-template.sh", "60-hello_world.wasm"]);
        let d = found(&top);
        let h = &d.hooks[0];
        assert_eq!((h.number, h.name.as_str()), (50, "template"));
        assert_eq!((h.stem.as_str(), h.kind), ("50-template", HookKind::Bash));
        assert_eq!(h.path, top.path().join("extras.d/50-template.sh"));
        assert_eq!(h.manifest, None);
        assert_eq!(d.hooks[1].kind, HookKind::Wasm);
        assert_eq!(d.hooks[1].name, "hello_world");
        assert_eq!(HookKind::Bash.to_string(), "bash");
        assert_eq!(HookKind::Wasm.to_string(), "wasm");
    }

    #[test]
    fn bad_names_are_skipped_with_a_reason() {
        let top = stack(&[
            "70-trove",
            "50-x.sh~",
            "README",
            ".hidden",
            "foo.sh",
            "5-x.sh",
            "50-.sh",
            "50-a b.sh",
            "50-x.orig.sh",
            "50-x.SH",
            "50x.wasm",
        ]);
        let d = found(&top);
        assert!(d.hooks.is_empty());
        let cases = [
            ("70-trove", "no extension"),
            ("50-x.sh~", "unknown extension `.sh~`"),
            ("README", "no extension"),
            (".hidden", "hidden file"),
            ("foo.sh", "two-digit sequence number"),
            ("5-x.sh", "two-digit sequence number"),
            ("50-.sh", "name after `NN-` is empty"),
            ("50-a b.sh", "contains ` `"),
            ("50-x.orig.sh", "contains `.`"),
            ("50-x.SH", "unknown extension `.SH`"),
            ("50x.wasm", "two-digit sequence number"),
        ];
        for (file, why) in cases {
            let reason = reason_of(&d, file);
            assert!(reason.contains(why), "{file}: {reason}");
            assert!(reason.contains(EXPECTED), "{file}: {reason}");
        }
        assert_eq!(d.skipped.len(), cases.len());
    }

    #[test]
    fn skipped_are_in_byte_order() {
        let top = stack(&["b", "a", "C"]);
        let d = found(&top);
        let files: Vec<_> = d
            .skipped
            .iter()
            .map(|s| s.path.file_name().unwrap())
            .collect();
        assert_eq!(files, ["C", "a", "b"]);
    }

    #[test]
    fn directories_and_dangling_symlinks_are_skipped() {
        let top = stack(&["target.sh"]);
        let extras = top.path().join("extras.d");
        fs::create_dir(extras.join("50-dir.sh")).unwrap();
        fs::create_dir(extras.join("lib")).unwrap();
        symlink(extras.join("missing"), extras.join("60-gone.sh")).unwrap();
        symlink(extras.join("target.sh"), extras.join("70-linked.sh")).unwrap();
        let d = found(&top);
        assert_eq!(names(&d), ["70-linked.sh"]);
        assert!(reason_of(&d, "50-dir.sh").starts_with("is a directory"));
        assert!(reason_of(&d, "lib").starts_with("is a directory"));
        assert!(reason_of(&d, "60-gone.sh").contains("dangling symlink"));
        assert!(reason_of(&d, "target.sh").contains("two-digit"));
    }

    #[test]
    fn non_utf8_names_are_skipped() {
        let top = stack(&[]);
        let name = std::ffi::OsStr::from_bytes(b"50-\xff.sh");
        fs::write(top.path().join("extras.d").join(name), "").unwrap();
        let d = found(&top);
        assert!(d.hooks.is_empty());
        assert!(d.skipped[0].reason.contains("not valid UTF-8"));
    }

    #[test]
    fn reserved_numbers_are_refused_unless_allowed() {
        let top = stack(&[
            "05-early.sh",
            "50-ok.sh",
            "90-late.wasm",
            "09-x.sh",
            "89-x.sh",
        ]);
        let errs = errors(&top, DiscoveryOptions::default());
        assert_eq!(errs.len(), 3, "{errs:?}");
        assert_eq!(
            errs[0],
            "extras.d/05-early.sh: sequence number 05 is reserved for hookhost's own hooks \
             (00-09, 90-99); renumber it, or pass --allow-reserved if you trust it"
        );
        assert!(errs[1].starts_with("extras.d/09-x.sh: sequence number 09"));
        assert!(errs[2].starts_with("extras.d/90-late.wasm: sequence number 90"));
        let allow = DiscoveryOptions {
            allow_reserved: true,
        };
        let d = discover(top.path(), &allow).unwrap();
        assert_eq!(d.hooks.len(), 5);
        assert_eq!(d.hooks[0].number, 5);
    }

    #[test]
    fn same_stem_twice_is_refused() {
        let top = stack(&["50-x.sh", "50-x.wasm", "60-y.sh"]);
        let errs = errors(&top, DiscoveryOptions::default());
        assert_eq!(errs.len(), 1);
        assert!(
            errs[0].starts_with(
                "extras.d/50-x.sh: two hooks named 50-x (this one and extras.d/50-x.wasm)"
            ),
            "{errs:?}"
        );
        let problems = discover(top.path(), &DiscoveryOptions::default()).unwrap_err();
        assert_eq!(problems.0[0].hook.as_deref(), Some("50-x"));
    }

    #[test]
    fn a_crlf_hook_is_refused_at_its_first_crlf_line_with_a_fix_that_runs_anywhere() {
        let top = stack(&[]);
        let hook = top.path().join("extras.d/30-dos.sh");
        fs::write(&hook, "echo one\necho two\r\n").unwrap();
        let problems = discover(top.path(), &DiscoveryOptions::default()).unwrap_err();
        let problem = &problems.0[0];
        assert_eq!(problem.file.as_deref(), Some(hook.as_path()));
        assert_eq!(problem.line, Some(2));
        assert_eq!(problem.hook.as_deref(), Some("30-dos"));
        let fix = format!("sed -i 's/\\r$//' {}", hook.display());
        assert!(problem.message.contains(&fix), "{problem}");
    }

    #[test]
    fn skipped_files_are_known_when_the_stack_is_refused() {
        let top = stack(&["05-early.sh", "myhook.sh", "50-x.sh"]);
        assert!(discover(top.path(), &DiscoveryOptions::default()).is_err());
        let skipped = skipped_files(top.path());
        assert_eq!(skipped.len(), 1, "{skipped:?}");
        assert!(skipped[0].path.ends_with("myhook.sh"));
    }

    #[test]
    fn all_errors_come_together() {
        let top = stack(&["01-a.sh", "50-x.sh", "50-x.wasm", "99-z.wasm"]);
        let err = discover(top.path(), &DiscoveryOptions::default()).unwrap_err();
        assert_eq!(err.0.len(), 3);
        assert_eq!(err.to_string().lines().count(), 3);
    }

    #[test]
    fn manifest_attaches_to_its_hook() {
        let top = stack(&["50-x.wasm", "50-x.toml", "60-y.sh"]);
        let d = found(&top);
        let manifest = top.path().join("extras.d/50-x.toml");
        assert_eq!(d.hooks[0].manifest, Some(manifest));
        assert_eq!(d.hooks[1].manifest, None);
        assert!(d.skipped.is_empty());
    }

    #[test]
    fn orphan_manifest_is_skipped() {
        let top = stack(&["50-x.toml", "60-y.sh", "foo.toml"]);
        let d = found(&top);
        assert_eq!(names(&d), ["60-y.sh"]);
        assert!(reason_of(&d, "50-x.toml").contains("no 50-x.sh or 50-x.wasm beside it"));
        assert!(reason_of(&d, "foo.toml").contains("two-digit"));
    }

    #[test]
    fn broken_manifest_of_a_hook_is_an_error() {
        let top = stack(&["50-x.sh"]);
        let extras = top.path().join("extras.d");
        symlink(extras.join("missing"), extras.join("50-x.toml")).unwrap();
        let errs = errors(&top, DiscoveryOptions::default());
        assert!(errs[0].starts_with("extras.d/50-x.toml: the manifest of hook 50-x is a dangling"));
    }

    #[test]
    fn stack_without_extras_d_has_no_hooks() {
        let top = tempfile::tempdir().unwrap();
        let d = discover(top.path(), &DiscoveryOptions::default()).unwrap();
        assert_eq!(d, Discovery::default());
    }

    #[test]
    fn missing_top_is_an_error() {
        let top = tempfile::tempdir().unwrap();
        let missing = top.path().join("nope");
        let err = discover(&missing, &DiscoveryOptions::default()).unwrap_err();
        assert!(err
            .to_string()
            .contains("nope: the stack directory does not exist"));
        fs::write(&missing, "").unwrap();
        let err = discover(&missing, &DiscoveryOptions::default()).unwrap_err();
        assert!(err.to_string().contains("is not a directory"));
    }

    #[test]
    fn extras_d_as_a_file_is_an_error() {
        let top = tempfile::tempdir().unwrap();
        fs::write(top.path().join("extras.d"), "").unwrap();
        let err = discover(top.path(), &DiscoveryOptions::default()).unwrap_err();
        assert!(err.to_string().starts_with("extras.d: is not a directory"));
    }
}
