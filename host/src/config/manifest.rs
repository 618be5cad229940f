//! A hook's manifest `extras.d/NN-name.toml`: what the plugin is and the
//! capabilities it requests. The operator's grants decide what it gets
//! (see `capabilities`); this module only reads and checks the request.
//!
//! ```toml
//! [plugin]
//! description = "..."        # optional
//! [capabilities]
//! read = ["lib/foo"]         # stack-relative directories, read-only
//! write = ["files"]          # read-write
//! vars-read = ["NOVA_*"]     # variable names; a trailing * matches a prefix
//! vars-write = ["FOO_DONE"]
//! functions = ["is_service_enabled"]   # bash session functions it may call
//! commands = ["systemctl restart *"]   # `*` one argument, `**` the rest
//! net = ["pypi.org:443"]     # host:port
//! packages = ["qemu-utils"]  # distribution packages it may install
//! memory = "64MiB"           # optional ceiling: KiB, MiB, GiB
//! timeout = "30s"            # optional per-call limit: ms, s, m
//! confine = false            # bash hooks only: run confined (Landlock)
//! ```
//!
//! Unknown keys are errors (a typo must not silently drop a request).
//! Checks: paths are relative, without `..`, and are normalized (`./lib/` is
//! `lib`, the stack top is `.`); variable, function and package names may end
//! in one `*` (a package pattern not `*` alone: naming the packages is the
//! point of the request; see [`crate::model::names::is_package_name`] for the
//! grammar); a command pattern names a program and uses `*`/`**` only as
//! whole arguments, `**` last; `net` entries are `host:port`. Every problem
//! is reported, one line each: `FILE: line N: capabilities.FIELD: what — hint`.

use std::fs;
use std::ops::Range;
use std::path::{Component, Path};
use std::time::Duration;

use anyhow::{anyhow, bail};
use serde::Deserialize;
use toml::Spanned;

use crate::model::problems::io_message;
use crate::model::problems::{Problem, Problems};
use crate::model::snippet::Snippet;

/// A parsed and checked manifest.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Manifest {
    pub description: Option<String>,
    pub capabilities: Capabilities,
}

/// What a plugin requests. Lists hold the checked, normalized entries.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Capabilities {
    /// Stack-relative directories, read-only (`.` is the stack top).
    pub read: Vec<String>,
    /// Stack-relative directories, read-write.
    pub write: Vec<String>,
    /// Variable names; a trailing `*` matches a prefix.
    pub vars_read: Vec<String>,
    pub vars_write: Vec<String>,
    /// Bash session functions it may call.
    pub functions: Vec<String>,
    /// `program arg-pattern...`, single-spaced.
    pub commands: Vec<String>,
    /// `host:port`.
    pub net: Vec<String>,
    pub packages: Vec<String>,
    /// Repository URL patterns `git-clone` may clone (WIT 0.2.0).
    pub git: Vec<String>,
    /// Memory ceiling in bytes.
    pub memory: Option<u64>,
    /// Time limit of one call.
    pub timeout: Option<Duration>,
    /// Run a bash hook confined (Landlock).
    pub confine: bool,
}

impl Capabilities {
    /// Whether nothing at all is requested.
    pub fn is_empty(&self) -> bool {
        *self == Capabilities::default()
    }
}

#[derive(Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
struct RawManifest {
    plugin: RawPlugin,
    capabilities: RawCapabilities,
}

#[derive(Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
struct RawPlugin {
    description: Option<Spanned<String>>,
}

type Entries = Vec<Spanned<String>>;

#[derive(Deserialize, Default)]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
struct RawCapabilities {
    read: Entries,
    write: Entries,
    vars_read: Entries,
    vars_write: Entries,
    functions: Entries,
    commands: Entries,
    net: Entries,
    packages: Entries,
    git: Entries,
    memory: Option<Spanned<String>>,
    timeout: Option<Spanned<String>>,
    confine: bool,
}

/// Read and check the manifest at `path`.
pub fn load(path: &Path) -> anyhow::Result<Manifest> {
    let text = fs::read_to_string(path).map_err(|e| {
        anyhow!(
            "{}: cannot read the manifest: {}",
            path.display(),
            io_message(&e)
        )
    })?;
    parse_str(path, &text)
}

/// Check the text of a manifest; `path` names it in errors.
pub fn parse_str(path: &Path, text: &str) -> anyhow::Result<Manifest> {
    let hook = hook_of(path);
    let raw: RawManifest = toml::from_str(text).map_err(|e| {
        let mut problem = toml_problem(path, text, &e);
        problem.hook = hook.clone();
        anyhow::Error::new(Problems::from(problem))
    })?;
    let mut check = Check {
        path,
        text,
        hook,
        problems: Problems::new(),
    };
    let manifest = check.manifest(raw);
    check.problems.or_ok(manifest).map_err(anyhow::Error::new)
}

/// Checks the entries of a manifest, collecting every problem.
struct Check<'a> {
    path: &'a Path,
    text: &'a str,
    /// The hook the manifest is of, for machines (`--json`).
    hook: Option<String>,
    problems: Problems,
}

impl Check<'_> {
    fn manifest(&mut self, raw: RawManifest) -> Manifest {
        let c = raw.capabilities;
        let capabilities = Capabilities {
            read: self.list("read", c.read, check_path),
            write: self.list("write", c.write, check_path),
            vars_read: self.list("vars-read", c.vars_read, check_var),
            vars_write: self.list("vars-write", c.vars_write, check_var),
            functions: self.list("functions", c.functions, check_function),
            commands: self.list("commands", c.commands, check_command),
            net: self.list("net", c.net, check_net),
            packages: self.list("packages", c.packages, check_package),
            git: self.list("git", c.git, check_git),
            memory: self.value("memory", c.memory, parse_size),
            timeout: self.value("timeout", c.timeout, parse_duration),
            confine: c.confine,
        };
        let description = raw
            .plugin
            .description
            .and_then(|d| match visible(d.get_ref()) {
                Ok(()) => Some(d.into_inner()),
                Err(message) => {
                    self.fail_in("plugin", d.span(), "description", &message);
                    None
                }
            });
        Manifest {
            description,
            capabilities,
        }
    }

    fn fail(&mut self, span: Range<usize>, field: &str, message: &str) {
        self.fail_in("capabilities", span, field, message);
    }

    /// A problem with `table.field` at `span`.
    fn fail_in(&mut self, table: &str, span: Range<usize>, field: &str, message: &str) {
        let line = line_of(self.text, span.start);
        let message = escape_controls(message);
        // A manifest's problems say `FILE: line N:`, as TOML's own errors
        // about it do, so the line stays part of the message.
        let snippet = Snippet::new(self.path, self.text, span, message.clone());
        let message = format!("line {line}: {table}.{field}: {message}");
        let mut problem = Problem::at(self.path, None, message).about(field);
        problem.hook = self.hook.clone();
        self.problems.push(problem.show(Some(snippet)));
    }

    fn list(
        &mut self,
        field: &str,
        entries: Entries,
        check: fn(&str) -> Result<String, String>,
    ) -> Vec<String> {
        let mut out = Vec::new();
        for entry in entries {
            match visible(entry.get_ref()).and_then(|()| check(entry.get_ref())) {
                Ok(value) => out.push(value),
                Err(message) => self.fail(entry.span(), field, &message),
            }
        }
        out
    }

    fn value<T>(
        &mut self,
        field: &str,
        entry: Option<Spanned<String>>,
        parse: fn(&str) -> anyhow::Result<T>,
    ) -> Option<T> {
        let entry = entry?;
        match parse(entry.get_ref()) {
            Ok(value) => Some(value),
            Err(e) => {
                self.fail(entry.span(), field, &e.to_string());
                None
            }
        }
    }
}

/// Text a person reads in refusals, `plan`, `list` and `inspect` holds no
/// control character, bidirectional control or invisible character: a
/// third party's manifest could otherwise reach the operator's terminal
/// with an escape sequence, start a forged line, or make one name look
/// like another.
fn visible(text: &str) -> Result<(), String> {
    match crate::model::inert::has_hidden(text) {
        false => Ok(()),
        true => Err(format!(
            "{} holds a control, bidirectional or invisible character (shown escaped) — \
             write plain text",
            crate::model::inert::quoted(text)
        )),
    }
}

/// A stack-relative directory, normalized.
fn check_path(path: &str) -> Result<String, String> {
    let hint = "paths are relative to the stack top, e.g. \"lib/foo\" (\".\" is the top)";
    if path.is_empty() {
        return Err(format!("an empty path — {hint}"));
    }
    if path.starts_with('~') {
        return Err(format!("\"{path}\": `~` is not expanded — {hint}"));
    }
    let mut parts = Vec::new();
    for component in Path::new(path).components() {
        match component {
            Component::Normal(part) => parts.push(part.to_string_lossy()),
            Component::CurDir => {}
            Component::ParentDir => {
                return Err(format!(
                    "\"{path}\" contains `..` — a plugin cannot reach outside the stack; {hint}"
                ));
            }
            Component::RootDir | Component::Prefix(_) => {
                return Err(format!("\"{path}\" is absolute — {hint}"));
            }
        }
    }
    match parts.is_empty() {
        true => Ok(".".to_string()),
        false => Ok(parts.join("/")),
    }
}

/// Split a name pattern into its name and whether it ends in `*`; a `*`
/// anywhere else is an error.
fn glob_name(pattern: &str) -> Result<&str, String> {
    let name = pattern.strip_suffix('*').unwrap_or(pattern);
    if name.contains('*') {
        return Err(format!(
            "\"{pattern}\": `*` may only end a pattern (\"NOVA_*\")"
        ));
    }
    Ok(name)
}

fn check_var(pattern: &str) -> Result<String, String> {
    let name = glob_name(pattern)?;
    let glob = name.len() < pattern.len();
    let mut chars = name.chars();
    let first_ok = chars
        .next()
        .map_or(glob, |c| c == '_' || c.is_ascii_alphabetic());
    if !first_ok || !chars.all(|c| c == '_' || c.is_ascii_alphanumeric()) {
        return Err(format!(
            "\"{pattern}\" is not a variable name — letters, digits and _, not starting with a \
             digit; a trailing * matches a prefix (\"NOVA_*\")"
        ));
    }
    Ok(pattern.to_string())
}

fn check_function(pattern: &str) -> Result<String, String> {
    let name = glob_name(pattern)?;
    let glob = name.len() < pattern.len();
    let mut chars = name.chars();
    let first_ok = chars
        .next()
        .map_or(glob, |c| c == '_' || c.is_ascii_alphabetic());
    if !first_ok || !chars.all(|c| c.is_ascii_alphanumeric() || "_:.-".contains(c)) {
        return Err(format!(
            "\"{pattern}\" is not a function name — letters, digits, _, :, . and -, starting \
             with a letter or _ (\"is_service_enabled\")"
        ));
    }
    Ok(pattern.to_string())
}

/// A repository URL pattern: an `https://`, `http://` or `git://` URL of a
/// named host, or a prefix of one ending in `*` after the host's `/`
/// (`https://opendev.org/openstack/*`): a prefix ending inside the host
/// name would cover other hosts (`https://opendev.org*`).
fn check_git(pattern: &str) -> Result<String, String> {
    let rest = ["https://", "http://", "git://"]
        .iter()
        .find_map(|s| pattern.strip_prefix(s))
        .ok_or_else(|| format!("{pattern:?} is not an https://, http:// or git:// URL"))?;
    let plain = pattern
        .chars()
        .all(|c| c.is_ascii_graphic() && !matches!(c, '\\' | '%' | '?' | '#' | '"' | '\''));
    let host_done = rest
        .split_once('/')
        .is_some_and(|(host, _)| !host.is_empty() && !host.contains('*'));
    let star_last = pattern.find('*').is_none_or(|at| at == pattern.len() - 1);
    if !plain || !host_done || !star_last || rest.split('/').any(|s| s == ".." || s == ".") {
        return Err(format!(
            "{pattern:?} is not a repository URL pattern: a URL with a host and a path \
             (\"https://opendev.org/openstack/nova\"), or a prefix of one ending in * \
             (\"https://opendev.org/openstack/*\")"
        ));
    }
    Ok(pattern.to_string())
}

fn check_package(pattern: &str) -> Result<String, String> {
    if pattern == "*" {
        return Err(
            "\"*\" would let the plugin install any package — list the packages it needs by \
             name (\"qemu-utils\"), or a prefix (\"python3-*\")"
                .to_string(),
        );
    }
    let name = glob_name(pattern)?;
    let valid = match name.len() < pattern.len() {
        // A prefix: every name it covers must still start well.
        true => {
            let mut chars = name.chars();
            chars.next().is_some_and(|c| c.is_ascii_alphanumeric())
                && chars.all(crate::model::names::is_package_char)
        }
        false => crate::model::names::is_package_name(name),
    };
    if !valid {
        return Err(format!(
            "\"{pattern}\" is not a package name — letters, digits and + - . _ :, starting with \
             a letter or digit, not ending in - (\"qemu-utils\")"
        ));
    }
    Ok(pattern.to_string())
}

/// `program arg-pattern...`: `*` is one argument, `**` the rest (last only).
fn check_command(command: &str) -> Result<String, String> {
    let hint = "write \"program arg-pattern...\", e.g. \"systemctl restart *\" or \"git **\"";
    let words: Vec<&str> = command.split_whitespace().collect();
    let Some((program, args)) = words.split_first() else {
        return Err(format!("an empty command — {hint}"));
    };
    if program.contains('*') {
        return Err(format!(
            "\"{command}\": the program must be named, not a pattern — {hint}"
        ));
    }
    for (i, arg) in args.iter().enumerate() {
        if *arg == "**" && i + 1 != args.len() {
            return Err(format!(
                "\"{command}\": `**` matches the rest, so it must come last — {hint}"
            ));
        }
        if arg.contains('*') && *arg != "*" && *arg != "**" {
            return Err(format!(
                "\"{command}\": `{arg}` — `*` and `**` stand for whole arguments only; {hint}"
            ));
        }
    }
    Ok(words.join(" "))
}

/// `host:port`, IPv6 in brackets.
fn check_net(entry: &str) -> Result<String, String> {
    let hint = "write \"host:port\", e.g. \"pypi.org:443\" or \"[::1]:8080\"";
    let Some((host, port)) = entry.rsplit_once(':') else {
        return Err(format!("\"{entry}\" has no port — {hint}"));
    };
    if !port.parse::<u16>().is_ok_and(|p| p != 0) {
        return Err(format!(
            "\"{entry}\": port \"{port}\" is not a number from 1 to 65535 — {hint}"
        ));
    }
    let host_ok = match host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        Some(ip) => ip.parse::<std::net::Ipv6Addr>().is_ok(),
        None => {
            !host.is_empty()
                && host
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || ".-_".contains(c))
        }
    };
    if !host_ok {
        return Err(format!(
            "\"{entry}\": \"{host}\" is not a host name or address — {hint}"
        ));
    }
    Ok(entry.to_string())
}

/// One entry an operator grants or denies (`hookhost.toml`, a flag),
/// checked by the rules a manifest's request of the same kind follows,
/// except that a grant may be wider: a host without a port, and `*`.
pub fn check_grant(field: &str, value: &str) -> Result<String, String> {
    visible(value)?;
    match field {
        "read" | "write" => check_path(value),
        "vars-read" | "vars-write" => check_var(value),
        "functions" => check_function(value),
        "commands" => check_command(value),
        "git" => check_git(value),
        "packages" if value == "*" => Ok(value.to_string()),
        "packages" => check_package(value),
        "net" if value == "*" => Ok(value.to_string()),
        // A host alone grants every port of it.
        "net" if bare_host(value) => check_net(&format!("{value}:1"))
            .map(|_| value.to_string())
            .map_err(|e| e.replace(":1\"", "\"")),
        "net" => check_net(value),
        _ => Ok(value.to_string()),
    }
}

/// A net grant without a port: `pypi.org`, `[::1]`.
fn bare_host(value: &str) -> bool {
    match value.strip_prefix('[') {
        Some(rest) => rest.ends_with(']'),
        None => !value.contains(':'),
    }
}

/// A whole number and the rest of the text (its unit), or why there is none.
fn split_number<'a>(text: &'a str, example: &str) -> anyhow::Result<(u64, &'a str)> {
    let trimmed = text.trim();
    let end = trimmed
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(trimmed.len());
    let (digits, unit) = trimmed.split_at(end);
    if digits.is_empty() || unit.starts_with(['.', ',']) {
        bail!("\"{text}\": expected a whole number and a unit, e.g. \"{example}\"");
    }
    let number: u64 = digits
        .parse()
        .map_err(|_| anyhow!("\"{text}\": the number is too large"))?;
    if number == 0 {
        bail!("\"{text}\": must be more than 0");
    }
    Ok((number, unit.trim_start()))
}

/// A size such as `64MiB`: a whole number and KiB, MiB or GiB (powers of 1024).
/// Manifests and `hookhost.toml` share it. Not `bytesize`: it also takes
/// decimal units (`64MB`), fractions (`1.5GiB`) and any case (`64mib`),
/// which these files refuse so that one text always means one size.
pub fn parse_size(text: &str) -> anyhow::Result<u64> {
    let (number, unit) = split_number(text, "64MiB")?;
    let scale: u64 = match unit {
        "KiB" => 1 << 10,
        "MiB" => 1 << 20,
        "GiB" => 1 << 30,
        "" => bail!("\"{text}\": missing unit — use KiB, MiB or GiB, e.g. \"64MiB\""),
        _ => bail!(
            "\"{text}\": unknown unit \"{unit}\" — use KiB, MiB or GiB (powers of 1024), e.g. \"64MiB\""
        ),
    };
    number
        .checked_mul(scale)
        .ok_or_else(|| anyhow!("\"{text}\": the size is too large"))
}

/// A duration such as `30s`: a whole number and ms, s or m. Manifests and
/// `hookhost.toml` share it. Not `humantime`: it also takes hours, days,
/// sums (`1m 30s`) and other spellings (`2min`, `30sec`), which these files
/// refuse; a limit stays in the three units `plan` shows it in.
pub fn parse_duration(text: &str) -> anyhow::Result<Duration> {
    let (number, unit) = split_number(text, "30s")?;
    let millis: u64 = match unit {
        "ms" => 1,
        "s" => 1000,
        "m" => 60_000,
        "" => bail!("\"{text}\": missing unit — use ms, s or m, e.g. \"30s\""),
        _ => bail!("\"{text}\": unknown unit \"{unit}\" — use ms, s or m, e.g. \"30s\" or \"2m\""),
    };
    number
        .checked_mul(millis)
        .map(Duration::from_millis)
        .ok_or_else(|| anyhow!("\"{text}\": the duration is too long"))
}

/// The 1-based line of a byte offset.
fn line_of(text: &str, offset: usize) -> usize {
    let end = offset.min(text.len());
    text.as_bytes()[..end]
        .iter()
        .filter(|b| **b == b'\n')
        .count()
        + 1
}

/// The hook a manifest `NN-name.toml` is of: its stem (an embedded
/// manifest is named after its component, and says nothing here).
fn hook_of(path: &Path) -> Option<String> {
    match path.extension().is_some_and(|e| e == "toml") {
        true => path.file_stem().map(|s| s.to_string_lossy().into_owned()),
        false => None,
    }
}

/// A TOML (or serde) error in `text`, the contents of `path`, as a
/// problem: `FILE: line N: MESSAGE` with the source and a caret under it.
/// An unknown key says which known key it is likely a typo of.
pub(crate) fn toml_problem(path: &Path, text: &str, error: &toml::de::Error) -> Problem {
    let message = did_you_mean_field(&one_line(error.message()));
    let Some(span) = error.span() else {
        return Problem::at(path, None, message);
    };
    let line = line_of(text, span.start);
    let snippet = Snippet::new(path, text, span, message.clone());
    Problem::at(path, None, format!("line {line}: {message}")).show(Some(snippet))
}

/// serde's `unknown field `X`, expected one of `a`, `b`` with a
/// suggestion after the field, when one of the expected names is close.
fn did_you_mean_field(message: &str) -> String {
    let Some(rest) = message.strip_prefix("unknown field `") else {
        return message.to_string();
    };
    let Some((field, expected)) = rest.split_once('`') else {
        return message.to_string();
    };
    let known: Vec<&str> = expected.split('`').skip(1).step_by(2).collect();
    let hint = crate::model::suggest::hint(field, known);
    let expected = expected.strip_prefix(',').unwrap_or(expected);
    format!("unknown field `{field}`{hint};{expected}")
}

fn one_line(message: &str) -> String {
    let lines: Vec<&str> = message
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    escape_controls(&lines.join("; "))
}

/// Text quoted from a manifest or grants file, made safe to print on one
/// line: control characters (a newline in a value, a terminal escape a
/// third-party manifest could carry), bidirectional controls and invisible
/// characters are written escaped, as [`crate::model::inert::inert`] does.
pub fn escape_controls(text: &str) -> String {
    crate::model::inert::inert(text).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &str = "extras.d/50-x.toml";

    fn parse(text: &str) -> Manifest {
        parse_str(Path::new(FILE), text).unwrap()
    }

    /// The headline of each problem, one per line.
    fn error(text: &str) -> String {
        let error = parse_str(Path::new(FILE), text).unwrap_err();
        match error.downcast_ref::<Problems>() {
            Some(problems) => problems
                .iter()
                .map(Problem::headline)
                .collect::<Vec<_>>()
                .join("\n"),
            None => error.to_string(),
        }
    }

    /// Every problem as printed: each headline, then its source.
    fn shown(text: &str) -> String {
        parse_str(Path::new(FILE), text).unwrap_err().to_string()
    }

    fn caps(body: &str) -> Capabilities {
        parse(&format!("[capabilities]\n{body}\n")).capabilities
    }

    /// The error of one `[capabilities]` line, which is line 2.
    fn cap_error(body: &str) -> String {
        error(&format!("[capabilities]\n{body}\n"))
    }

    fn strings(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn a_grant_is_checked_as_a_request_and_may_be_wider() {
        assert_eq!(check_grant("write", "./files/").as_deref(), Ok("files"));
        assert!(check_grant("write", "/etc")
            .unwrap_err()
            .contains("is absolute"));
        assert!(check_grant("read", "../..")
            .unwrap_err()
            .contains("contains `..`"));
        assert_eq!(check_grant("net", "pypi.org").as_deref(), Ok("pypi.org"));
        assert_eq!(check_grant("net", "[::1]").as_deref(), Ok("[::1]"));
        assert_eq!(check_grant("net", "*").as_deref(), Ok("*"));
        let port = check_grant("net", "pypi.org:99999").unwrap_err();
        assert!(port.contains("port \"99999\""), "{port}");
        let host = check_grant("net", "a b").unwrap_err();
        assert!(host.contains("\"a b\" is not a host name"), "{host}");
        assert_eq!(check_grant("packages", "*").as_deref(), Ok("*"));
        assert!(check_grant("vars-read", "A-B").is_err());
        assert!(check_grant("commands", "*").is_err());
    }

    #[test]
    fn empty_manifest_requests_nothing() {
        let m = parse("");
        assert_eq!(m, Manifest::default());
        assert!(m.capabilities.is_empty());
        let m = parse("[plugin]\n[capabilities]\n");
        assert!(m.capabilities.is_empty());
    }

    #[test]
    fn full_manifest() {
        let m = parse(
            r#"
[plugin]
description = "Installs the template service"

[capabilities]
read = ["lib", "./files/", "."]
write = ["data/template"]
vars-read = ["DEST", "TEMPLATE_*", "*"]
vars-write = ["TEMPLATE_DONE"]
functions = ["is_service_enabled", "echo_summary", "ini*"]
commands = ["systemctl  restart *", "git **", "true"]
net = ["pypi.org:443", "[::1]:8080", "10.0.0.1:80"]
packages = ["qemu-utils", "libvirt0:amd64", "g++", "python3-*"]
memory = "128MiB"
timeout = "2m"
confine = true
"#,
        );
        assert_eq!(
            m.description.as_deref(),
            Some("Installs the template service")
        );
        let c = m.capabilities;
        assert_eq!(c.read, strings(&["lib", "files", "."]));
        assert_eq!(c.write, strings(&["data/template"]));
        assert_eq!(c.vars_read, strings(&["DEST", "TEMPLATE_*", "*"]));
        assert_eq!(c.vars_write, strings(&["TEMPLATE_DONE"]));
        assert_eq!(
            c.functions,
            strings(&["is_service_enabled", "echo_summary", "ini*"])
        );
        assert_eq!(
            c.commands,
            strings(&["systemctl restart *", "git **", "true"])
        );
        assert_eq!(c.net.len(), 3);
        assert_eq!(c.packages.len(), 4);
        assert_eq!(c.memory, Some(128 << 20));
        assert_eq!(c.timeout, Some(Duration::from_secs(120)));
        assert!(c.confine);
        assert!(!c.is_empty());
    }

    #[test]
    fn each_field_alone() {
        let one = |list: &[&str]| strings(list);
        assert_eq!(caps("read = [\"lib/x/\"]").read, one(&["lib/x"]));
        assert_eq!(caps("write = [\"./data\"]").write, one(&["data"]));
        assert_eq!(caps("vars-read = [\"DEST\"]").vars_read, one(&["DEST"]));
        assert_eq!(caps("vars-write = [\"X_*\"]").vars_write, one(&["X_*"]));
        assert_eq!(caps("functions = [\"die\"]").functions, one(&["die"]));
        assert_eq!(caps("commands = [\"ls\"]").commands, one(&["ls"]));
        assert_eq!(caps("net = [\"h:1\"]").net, one(&["h:1"]));
        assert_eq!(caps("packages = [\"vim\"]").packages, one(&["vim"]));
        assert_eq!(caps("memory = \"1KiB\"").memory, Some(1024));
        assert_eq!(
            caps("timeout = \"5ms\"").timeout,
            Some(Duration::from_millis(5))
        );
        assert!(caps("confine = true").confine);
        assert!(caps("confine = false").is_empty());
    }

    #[test]
    fn unknown_fields_are_errors_with_a_line() {
        let err = cap_error("reed = [\"lib\"]");
        assert!(
            err.starts_with(
                "extras.d/50-x.toml: line 2: unknown field `reed` (did you mean `read`?); \
                 expected one of"
            ),
            "{err}"
        );
        assert_eq!(
            err.lines().next().unwrap().matches("line 2").count(),
            1,
            "{err}"
        );
        let err = error("[plugin]\nname = \"x\"\n");
        assert!(
            err.starts_with("extras.d/50-x.toml: line 2: unknown field `name`"),
            "{err}"
        );
        let err = error("[capability]\n");
        assert!(
            err.starts_with("extras.d/50-x.toml: line 1: unknown field `capability`"),
            "{err}"
        );
    }

    #[test]
    fn toml_errors_have_one_headline_then_the_source_with_a_caret() {
        for (text, why) in [
            ("[capabilities]\nmemory = 64\n", "invalid type"),
            ("[capabilities]\nread = \"lib\"\n", "invalid type"),
            ("[capabilities]\nconfine = \"yes\"\n", "invalid type"),
            ("[capabilities\n", "line 1"),
            ("[capabilities]\nread = [\"a\"\n", "expected `]`"),
        ] {
            let err = shown(text);
            assert!(err.starts_with("extras.d/50-x.toml: line "), "{err}");
            let (headline, snippet) = err.split_once('\n').unwrap();
            assert!(headline.contains(why), "{text}: {err}");
            assert!(snippet.starts_with(" --> extras.d/50-x.toml:"), "{err}");
            assert!(snippet.contains('^'), "{err}");
        }
    }

    #[test]
    fn path_errors_name_the_entry() {
        let cases = [
            (
                "read = [\"/etc\"]",
                "capabilities.read: \"/etc\" is absolute",
            ),
            (
                "write = [\"../x\"]",
                "capabilities.write: \"../x\" contains `..`",
            ),
            ("read = [\"lib/../../x\"]", "\"lib/../../x\" contains `..`"),
            ("read = [\"\"]", "capabilities.read: an empty path"),
            ("read = [\"~/x\"]", "`~` is not expanded"),
        ];
        for (body, why) in cases {
            let err = cap_error(body);
            assert!(err.starts_with("extras.d/50-x.toml: line 2: "), "{err}");
            assert!(err.contains(why), "{body}: {err}");
        }
    }

    #[test]
    fn name_errors() {
        let cases = [
            (
                "vars-read = [\"A-B\"]",
                "capabilities.vars-read: \"A-B\" is not a variable name",
            ),
            ("vars-write = [\"1A\"]", "\"1A\" is not a variable name"),
            ("vars-read = [\"*A\"]", "`*` may only end a pattern"),
            ("vars-read = [\"\"]", "\"\" is not a variable name"),
            (
                "functions = [\"a b\"]",
                "capabilities.functions: \"a b\" is not a function name",
            ),
            (
                "packages = [\"-rf\"]",
                "capabilities.packages: \"-rf\" is not a package name",
            ),
            ("packages = [\"a b\"]", "is not a package name"),
            ("packages = [\"a/b\"]", "is not a package name"),
            ("packages = [\"vim-\"]", "not ending in -"),
            (
                "packages = [\"*\"]",
                "would let the plugin install any package",
            ),
            ("packages = [\"-*\"]", "is not a package name"),
        ];
        for (body, why) in cases {
            let err = cap_error(body);
            assert!(err.starts_with("extras.d/50-x.toml: line 2: "), "{err}");
            assert!(err.contains(why), "{body}: {err}");
        }
    }

    #[test]
    fn command_errors() {
        let cases = [
            (
                "commands = [\"\"]",
                "capabilities.commands: an empty command",
            ),
            ("commands = [\"   \"]", "an empty command"),
            ("commands = [\"* x\"]", "the program must be named"),
            ("commands = [\"git ** x\"]", "`**` matches the rest"),
            (
                "commands = [\"rm -rf*\"]",
                "`-rf*` — `*` and `**` stand for whole arguments",
            ),
        ];
        for (body, why) in cases {
            let err = cap_error(body);
            assert!(err.starts_with("extras.d/50-x.toml: line 2: "), "{err}");
            assert!(err.contains(why), "{body}: {err}");
        }
    }

    #[test]
    fn net_errors() {
        let cases = [
            (
                "net = [\"pypi.org\"]",
                "capabilities.net: \"pypi.org\" has no port",
            ),
            ("net = [\"pypi.org:0\"]", "port \"0\" is not a number"),
            ("net = [\"pypi.org:https\"]", "port \"https\""),
            ("net = [\":443\"]", "\"\" is not a host"),
            ("net = [\"::1:443\"]", "\"::1\" is not a host"),
            ("net = [\"a b:443\"]", "\"a b\" is not a host"),
        ];
        for (body, why) in cases {
            let err = cap_error(body);
            assert!(err.contains(why), "{body}: {err}");
        }
    }

    #[test]
    fn git_patterns_name_a_host_before_any_star() {
        assert_eq!(
            caps("git = [\"https://opendev.org/openstack/*\", \"git://h:9418/x.git\"]")
                .git
                .len(),
            2
        );
        for bad in [
            "https://opendev.org*",
            "https://*/x",
            "https://h/*/x",
            "ext::sh -c id",
            "file:///etc",
            "/srv/git",
            "https://h/a/../b",
            "https://h/a b",
            "https://h/%2e%2e/x",
        ] {
            let err = cap_error(&format!("git = [\"{bad}\"]"));
            assert!(err.contains("capabilities.git:"), "{bad}: {err}");
        }
    }

    #[test]
    fn memory_and_timeout_errors() {
        let err = cap_error("memory = \"64MB\"");
        assert_eq!(
            err,
            "extras.d/50-x.toml: line 2: capabilities.memory: \"64MB\": unknown unit \"MB\" — \
             use KiB, MiB or GiB (powers of 1024), e.g. \"64MiB\""
        );
        let err = cap_error("timeout = \"30\"");
        assert!(
            err.contains("capabilities.timeout: \"30\": missing unit"),
            "{err}"
        );
    }

    #[test]
    fn every_problem_is_reported() {
        let err = error("[capabilities]\nread = [\"/a\", \"b\", \"../c\"]\n\ncommands = [\"\"]\nmemory = \"1\"\n");
        let lines: Vec<&str> = err.lines().collect();
        assert_eq!(lines.len(), 4, "{err}");
        assert!(lines[0].starts_with("extras.d/50-x.toml: line 2: capabilities.read: \"/a\""));
        assert!(lines[1].starts_with("extras.d/50-x.toml: line 2: capabilities.read: \"../c\""));
        assert!(lines[2].starts_with("extras.d/50-x.toml: line 4: capabilities.commands"));
        assert!(lines[3].starts_with("extras.d/50-x.toml: line 5: capabilities.memory"));
    }

    #[test]
    fn sizes() {
        assert_eq!(parse_size("64MiB").unwrap(), 64 << 20);
        assert_eq!(parse_size("1 KiB").unwrap(), 1024);
        assert_eq!(parse_size("2GiB").unwrap(), 2 << 30);
        for (text, why) in [
            ("64", "missing unit"),
            ("64MB", "unknown unit \"MB\""),
            ("64mib", "unknown unit"),
            ("1.5GiB", "whole number"),
            ("MiB", "whole number"),
            ("", "whole number"),
            ("0MiB", "more than 0"),
            ("-1MiB", "whole number"),
            ("99999999999999999999MiB", "too large"),
            ("17179869184GiB", "too large"),
        ] {
            let err = parse_size(text).unwrap_err().to_string();
            assert!(err.contains(why), "{text}: {err}");
        }
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("250ms").unwrap(), Duration::from_millis(250));
        assert_eq!(parse_duration("30s").unwrap(), Duration::from_secs(30));
        assert_eq!(parse_duration("2m").unwrap(), Duration::from_secs(120));
        for (text, why) in [
            ("30", "missing unit"),
            ("1h", "unknown unit \"h\""),
            ("0s", "more than 0"),
            ("1.5s", "whole number"),
            ("s", "whole number"),
        ] {
            let err = parse_duration(text).unwrap_err().to_string();
            assert!(err.contains(why), "{text}: {err}");
        }
    }

    #[test]
    fn load_reads_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("50-x.toml");
        fs::write(&path, "[capabilities]\nvars-read = [\"DEST\"]\n").unwrap();
        assert_eq!(load(&path).unwrap().capabilities.vars_read, ["DEST"]);
        fs::write(&path, "[capabilities]\nread = [\"/\"]\n").unwrap();
        let err = load(&path).unwrap_err().to_string();
        assert!(err.starts_with(&format!("{}: line 2: capabilities.read", path.display())));
        let err = load(&dir.path().join("nope.toml")).unwrap_err().to_string();
        assert!(
            err.ends_with("nope.toml: cannot read the manifest: No such file or directory"),
            "{err}"
        );
    }
}
