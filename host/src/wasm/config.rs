//! DevStack's INI helpers for 0.2.0 plugins (the `config` interface):
//! `iniset`, `iniset-multiline`, `iniget`, `ini-has-option`, `inicomment`
//! on a guest path (`/stack/etc/x.conf`, `/data/x.conf`).
//!
//! The path is the plugin's, so hostile: it is checked as a path (absolute,
//! no `.` or `..`, bounded), mapped to the grant it falls in (the deepest
//! one; a write needs a write grant, a read any grant), and opened beneath
//! that grant's directory with cap-std, as wasmtime-wasi opens the
//! plugin's own file accesses: a symlink leading out of the grant is
//! refused. The edit itself is [`crate::config::ini`]'s, the same code the
//! meta-section merge uses, held to the bash helpers' bytes by a test.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use cap_std::ambient_authority;
use cap_std::fs::{Dir, OpenOptions, OpenOptionsExt};

use super::host::{PluginState, Reply};
use super::HostError;
use crate::capabilities::audit::Decision;
use crate::capabilities::DirGrant;
use crate::config::ini;
use crate::model::inert::quoted;
use crate::model::limits::{cut, list_problem, MAX_LINE, MAX_NAME, MAX_VALUE};

/// The largest INI file the helpers read or write.
pub const MAX_INI_FILE: u64 = 16 << 20;

/// Where the guest sees the stack.
const STACK: &str = "/stack";

/// A guest path mapped into one of the plugin's grants.
pub(super) struct Resolved<'p> {
    /// The path as the plugin wrote it, normalised (`/stack/etc/x.conf`).
    pub guest: String,
    pub grant: &'p DirGrant,
    /// The path beneath the grant's directory (never empty).
    pub relative: PathBuf,
}

impl PluginState {
    /// `iniset` (one value) or `iniset-multiline` (`multiline`).
    pub(super) fn ini_set(
        &mut self,
        file: &str,
        section: &str,
        option: &str,
        values: &[String],
        multiline: bool,
    ) -> Reply<()> {
        let call = if multiline {
            "iniset-multiline"
        } else {
            "iniset"
        };
        if let Err(e) = self.ini_arguments(call, section, option, values) {
            return Ok(Err(e));
        }
        let (dir, relative, guest) = match self.open_grant(call, file, true) {
            Ok(found) => found,
            Err(e) => return Ok(Err(e)),
        };
        let mut lines = match read_ini(&dir, &relative, &guest) {
            Ok(text) => ini::split_lines(&text.unwrap_or_default()),
            Err(e) => return Ok(Err(e)),
        };
        match values {
            [value] if !multiline => ini::iniset(&mut lines, section, option, value),
            _ => ini::iniset_multiline(&mut lines, section, option, values),
        }
        self.audit(
            "ini",
            &format!("{call} {guest} [{section}] {option}"),
            Decision::Used,
        );
        Ok(write_ini(&dir, &relative, &guest, &ini::join_lines(&lines)))
    }

    /// `iniget` and `ini-has-option`: the value, `None` when the option,
    /// its section or the file is not there.
    pub(super) fn ini_get(
        &mut self,
        file: &str,
        section: &str,
        option: &str,
    ) -> Reply<Option<String>> {
        if let Err(e) = self.ini_arguments("iniget", section, option, &[]) {
            return Ok(Err(e));
        }
        let (dir, relative, guest) = match self.open_grant("iniget", file, false) {
            Ok(found) => found,
            Err(e) => return Ok(Err(e)),
        };
        let text = match read_ini(&dir, &relative, &guest) {
            Ok(text) => text.unwrap_or_default(),
            Err(e) => return Ok(Err(e)),
        };
        self.audit(
            "ini",
            &format!("iniget {guest} [{section}] {option}"),
            Decision::Used,
        );
        Ok(Ok(ini::iniget(&ini::split_lines(&text), section, option)))
    }

    /// `inicomment`: a file without the option is left as it is.
    pub(super) fn ini_comment(&mut self, file: &str, section: &str, option: &str) -> Reply<()> {
        if let Err(e) = self.ini_arguments("inicomment", section, option, &[]) {
            return Ok(Err(e));
        }
        let (dir, relative, guest) = match self.open_grant("inicomment", file, true) {
            Ok(found) => found,
            Err(e) => return Ok(Err(e)),
        };
        let mut lines = match read_ini(&dir, &relative, &guest) {
            Ok(text) => ini::split_lines(&text.unwrap_or_default()),
            Err(e) => return Ok(Err(e)),
        };
        self.audit(
            "ini",
            &format!("inicomment {guest} [{section}] {option}"),
            Decision::Used,
        );
        if !ini::inicomment(&mut lines, section, option) {
            return Ok(Ok(()));
        }
        Ok(write_ini(&dir, &relative, &guest, &ini::join_lines(&lines)))
    }

    /// Section, option and values as the bash helpers can hold them: no
    /// line break (`\n`, or `\r`, which Python's config readers take for
    /// one: either would start lines of its own, new sections and options),
    /// no NUL, no bracket in a section name, bounded; section and option
    /// not empty.
    fn ini_arguments(
        &self,
        call: &str,
        section: &str,
        option: &str,
        values: &[String],
    ) -> Result<(), HostError> {
        let refuse = |why: String| {
            self.audit_detail("ini", call, Decision::Denied, &why);
            Err(HostError::Invalid(format!(
                "{} may not {call}: {why}",
                self.name
            )))
        };
        for (what, text) in [("section", section), ("option", option)] {
            if text.is_empty() || text.len() > MAX_NAME {
                return refuse(format!("the {what} must be 1 to {MAX_NAME} bytes"));
            }
            if text.contains(['\n', '\r', '\0']) {
                return refuse(format!("a line break or NUL in the {what} {}", shown(text)));
            }
        }
        if section.contains(['[', ']']) {
            return refuse(format!(
                "the section {} is not a section name",
                shown(section)
            ));
        }
        if option.contains('=') || option.starts_with(['[', '#', ';']) {
            return refuse(format!(
                "the option {} is not an option name",
                shown(option)
            ));
        }
        if let Some(why) = list_problem(values, MAX_VALUE) {
            return refuse(format!("its values are {why}"));
        }
        if values.iter().any(|v| v.contains(['\n', '\r', '\0'])) {
            return refuse("a line break or NUL in a value".to_string());
        }
        Ok(())
    }

    /// Open the grant `file` falls in (a write grant when `write`) with
    /// cap-std; the path beneath it, and the guest path for messages.
    fn open_grant(
        &self,
        call: &str,
        file: &str,
        write: bool,
    ) -> Result<(Dir, PathBuf, String), HostError> {
        if write && super::files::names_git_dir(file) {
            self.audit_detail("write", &cut(file, MAX_LINE), Decision::Denied, call);
            return Err(HostError::Invalid(format!(
                "{} may not {call} {}: a git repository's own files (their hooks and config \
                 run when trusted code runs git there)",
                self.name,
                shown(file)
            )));
        }
        let resolved = match self.resolve(file, write) {
            Ok(resolved) => resolved,
            // Listed as the grant that would allow it, the one the
            // plugin's error names.
            Err(HostError::Denied(denied)) => {
                let directory = grant_directory(&denied.item);
                self.audit(&denied.capability, &directory, Decision::Denied);
                return Err(HostError::Denied(denied));
            }
            Err(e) => {
                let kind = if write { "write" } else { "read" };
                let why = format!("{call}: {}", e.message());
                self.audit_detail(kind, &cut(file, MAX_LINE), Decision::Denied, &why);
                return Err(e);
            }
        };
        let dir =
            Dir::open_ambient_dir(&resolved.grant.host, ambient_authority()).map_err(|e| {
                HostError::Failed(format!(
                    "{}: cannot open the grant of {}: {e}",
                    self.name, resolved.guest
                ))
            })?;
        Ok((dir, resolved.relative, resolved.guest))
    }

    /// Map a guest path to the deepest grant holding it (which must be
    /// writable when `write`); a path in no such grant is denied, naming
    /// the grant that would allow it.
    pub(super) fn resolve(&self, file: &str, write: bool) -> Result<Resolved<'_>, HostError> {
        let parts = guest_parts(file).map_err(|why| {
            HostError::Invalid(format!(
                "{} may not use the path {}: {why}",
                self.name,
                shown(file)
            ))
        })?;
        let guest = format!("/{}", parts.join("/"));
        let inside = |grant: &&DirGrant| {
            let prefix: Vec<&str> = grant.guest.split('/').filter(|p| !p.is_empty()).collect();
            parts.len() > prefix.len() && parts.starts_with(&prefix)
        };
        // The deepest grant, as the guest's own file calls resolve a path
        // (its preopen with the longest prefix): a read-only grant inside
        // a write grant stays read-only here too.
        let best = self
            .policy
            .dirs
            .iter()
            .filter(inside)
            .max_by_key(|g| g.guest.len())
            .filter(|g| g.writable || !write);
        if let Some(grant) = best {
            let depth = grant.guest.split('/').filter(|p| !p.is_empty()).count();
            return Ok(Resolved {
                relative: parts[depth..].iter().collect(),
                grant,
                guest,
            });
        }
        if !guest.starts_with(&format!("{STACK}/")) {
            return Err(HostError::Invalid(format!(
                "{} may not use the path {}: only /stack/... and /data/... are plugin paths",
                self.name,
                shown(file)
            )));
        }
        let (capability, verb) = if write {
            ("write", "write")
        } else {
            ("read", "read")
        };
        let directory = grant_directory(&guest);
        let message = format!(
            "{} may not {verb} {guest}: not granted ({capability} {directory})",
            self.name
        );
        Err(HostError::denied(
            &self.name, capability, &guest, &directory, message,
        ))
    }
}

/// The stack directory whose grant allows the guest path `guest`
/// (`/stack/files/x.conf` is `files`; the stack top is `.`).
fn grant_directory(guest: &str) -> String {
    let in_stack = guest.strip_prefix(&format!("{STACK}/")).unwrap_or(guest);
    Path::new(in_stack)
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .map_or(".".to_string(), |p| p.display().to_string())
}

/// The components of an absolute guest path, each a plain name.
fn guest_parts(file: &str) -> Result<Vec<&str>, String> {
    if file.len() > MAX_LINE {
        return Err(format!("it is longer than {MAX_LINE} bytes"));
    }
    if file.chars().any(char::is_control) {
        return Err("it contains a control character".to_string());
    }
    if !file.starts_with('/') {
        return Err("a plugin path is absolute (/stack/..., /data/...)".to_string());
    }
    let parts: Vec<&str> = file.split('/').filter(|p| !p.is_empty()).collect();
    if parts.iter().any(|p| *p == "." || *p == "..") {
        return Err("`.` and `..` are refused in a plugin path".to_string());
    }
    if parts.is_empty() {
        return Err("it names no file".to_string());
    }
    Ok(parts)
}

/// The file's text, `None` when it does not exist.
fn read_ini(dir: &Dir, relative: &Path, guest: &str) -> Result<Option<String>, HostError> {
    let mut options = OpenOptions::new();
    options.read(true);
    let file = match open_regular(dir, relative, guest, &mut options) {
        Ok(file) => file,
        Err(HostError::NotFound(_)) if !exists(dir, relative) => return Ok(None),
        Err(e) => return Err(e),
    };
    let mut bytes = Vec::new();
    file.take(MAX_INI_FILE + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| HostError::Failed(format!("cannot read {guest}: {e}")))?;
    if bytes.len() as u64 > MAX_INI_FILE {
        return Err(HostError::Invalid(format!(
            "{guest} is bigger than {} MiB, the most the INI helpers read",
            MAX_INI_FILE >> 20
        )));
    }
    String::from_utf8(bytes)
        .map(Some)
        .map_err(|_| HostError::Invalid(format!("{guest} is not UTF-8 text")))
}

fn write_ini(dir: &Dir, relative: &Path, guest: &str, text: &str) -> Result<(), HostError> {
    if text.len() as u64 > MAX_INI_FILE {
        return Err(HostError::Invalid(format!(
            "{guest} would be bigger than {} MiB, the most the INI helpers write",
            MAX_INI_FILE >> 20
        )));
    }
    let mut options = OpenOptions::new();
    options.write(true).create(true);
    let mut file = open_regular(dir, relative, guest, &mut options)?;
    file.set_len(0)
        .map_err(|e| HostError::Failed(format!("cannot write {guest}: {e}")))?;
    file.write_all(text.as_bytes())
        .map_err(|e| HostError::Failed(format!("cannot write {guest}: {e}")))
}

/// Open a regular file only. Without blocking (a FIFO in a grant would
/// hang the host on open or read), and nothing but a plain file is read or
/// written: a FIFO, socket or device is refused.
fn open_regular(
    dir: &Dir,
    relative: &Path,
    guest: &str,
    options: &mut OpenOptions,
) -> Result<cap_std::fs::File, HostError> {
    options.custom_flags(libc::O_NONBLOCK);
    let file = dir
        .open_with(relative, options)
        .map_err(|e| open_error(guest, e))?;
    let regular = file.metadata().is_ok_and(|m| m.is_file());
    if !regular {
        return Err(HostError::Invalid(format!("{guest} is not a regular file")));
    }
    Ok(file)
}

/// Whether `relative` names anything (a dangling name is not a file).
fn exists(dir: &Dir, relative: &Path) -> bool {
    dir.symlink_metadata(relative).is_ok()
}

/// cap-std refuses a path that leads out of the grant (a symlink, say)
/// with `PermissionDenied`: said as such, not as a bare errno.
fn open_error(guest: &str, e: std::io::Error) -> HostError {
    match e.kind() {
        std::io::ErrorKind::NotFound => {
            HostError::NotFound(format!("{guest}: its directory does not exist"))
        }
        std::io::ErrorKind::PermissionDenied => HostError::Invalid(format!(
            "{guest} leads outside its grant (a symlink out of it?) or is not accessible: {e}"
        )),
        _ => HostError::Failed(format!("cannot open {guest}: {e}")),
    }
}

/// A string of the plugin's, quoted, inert and short, for a message.
fn shown(text: &str) -> String {
    quoted(&cut(text, 100))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guest_paths_are_plain_and_absolute() {
        assert_eq!(
            guest_parts("/stack//etc/x.conf"),
            Ok(vec!["stack", "etc", "x.conf"])
        );
        for bad in [
            "etc/x",
            "/stack/../etc",
            "/stack/./x",
            "/",
            "/a\0b",
            "/stack/a\x1b[2Jb",
        ] {
            assert!(guest_parts(bad).is_err(), "{bad:?}");
        }
        assert!(guest_parts(&format!("/{}", "a".repeat(MAX_LINE))).is_err());
    }
}
