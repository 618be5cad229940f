//! INI edits as DevStack makes them: the body of a local.conf meta-section
//! (`[[post-config|$NOVA_CONF]]` ...) merged into the named file with
//! `merge_config_file`'s semantics, which are `iniset`'s per key.
//!
//! - **Body syntax** (checked when local.conf is read, so a bad line refuses
//!   the run before anything runs): blank lines, `#`/`;` comments,
//!   `[section]` headers and `key = value` lines. DevStack's awk silently
//!   dropped what it could not read (an indented line, a key before any
//!   section, a line without `=`); here each is an error with its line.
//! - **A key given once** is `iniset`: every `key = ...` line of that
//!   section in the file gets the new value; a key the section lacks is
//!   inserted right after the section's header; a section the file lacks is
//!   appended (after a blank line) with the key.
//! - **A key given more than once** in one section is `iniset_multiline`:
//!   every existing line of the key in the section is removed and one line
//!   per value is inserted after the header, in the body's order (oslo's
//!   multi-valued options, e.g. `pci_alias`).
//! - Everything else in the file (comments, order, other keys, a commented
//!   `#key = x`) is kept. Values are taken literally: not unquoted, not
//!   expanded. A missing file is created.

use std::fs;
use std::io;
use std::path::Path;

use crate::config::localconf::Line;
use crate::model::names::is_variable_name;
use crate::model::phases::{Phase, StackStep};

/// The meta-section groups DevStack merges after the hooks of `phase`
/// (stack.sh's `merge_config_group` calls), in order.
pub fn groups_after(phase: Phase) -> &'static [&'static str] {
    match phase {
        Phase::Stack(StackStep::PostConfig) => &["post-config"],
        Phase::Stack(StackStep::Extra) => &["extra", "post-extra"],
        Phase::Stack(StackStep::TestConfig) => &["test-config"],
        _ => &[],
    }
}

/// `$NAME` and `${NAME}` replaced by `lookup(NAME)`; any other `$` is text.
pub(crate) fn expand(text: &str, mut lookup: impl FnMut(&str) -> String) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        let (name, used) = match after.strip_prefix('{') {
            Some(inner) => match inner.find('}') {
                Some(end) if is_variable_name(&inner[..end]) => (&inner[..end], end + 2),
                _ => ("", 0),
            },
            None => {
                let end = after
                    .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                    .unwrap_or(after.len());
                match is_variable_name(&after[..end]) {
                    true => (&after[..end], end),
                    false => ("", 0),
                }
            }
        };
        if used == 0 {
            out.push('$');
            rest = after;
        } else {
            out.push_str(&lookup(name));
            rest = &after[used..];
        }
    }
    out.push_str(rest);
    out
}

/// One key of a meta-section body, with every value it was given there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IniSetting {
    pub section: String,
    pub key: String,
    /// One value: `iniset`; several: `iniset_multiline`.
    pub values: Vec<String>,
}

/// Read a meta-section body into its settings, in order of first
/// appearance; or every bad line as (line, message).
pub fn parse_body(body: &[Line<String>]) -> Result<Vec<IniSetting>, Vec<(usize, String)>> {
    let mut settings: Vec<IniSetting> = Vec::new();
    let mut errors = Vec::new();
    let mut section: Option<String> = None;
    for line in body {
        match parse_line(&line.value) {
            Ok(Parsed::Skip) => {}
            Ok(Parsed::Section(name)) => section = Some(name),
            Ok(Parsed::Key(key, value)) => match &section {
                Some(section) => add(&mut settings, section, key, value),
                None => errors.push((
                    line.line,
                    format!(
                        "`{}` comes before any [section] header — put it under one, \
                         e.g. [DEFAULT]",
                        line.value.trim()
                    ),
                )),
            },
            Err(message) => errors.push((line.line, message)),
        }
    }
    match errors.is_empty() {
        true => Ok(settings),
        false => Err(errors),
    }
}

/// Merge `settings` into the INI file at `path`, creating it if missing.
pub fn merge_file(path: &Path, settings: &[IniSetting]) -> io::Result<()> {
    let text = match fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(e),
    };
    let merged = merge_text(&text, settings);
    if merged != text {
        fs::write(path, merged)?;
    }
    Ok(())
}

/// The text of an INI file with `settings` merged in.
pub fn merge_text(text: &str, settings: &[IniSetting]) -> String {
    let mut lines = split_lines(text);
    for setting in settings {
        match setting.values.as_slice() {
            [value] => iniset(&mut lines, &setting.section, &setting.key, value),
            values => iniset_multiline(&mut lines, &setting.section, &setting.key, values),
        }
    }
    join_lines(&lines)
}

/// The lines of a file as bash's `mapfile -t` reads them: split at `\n`
/// only (a `\r` stays), a last line without `\n` counts.
pub fn split_lines(text: &str) -> Vec<String> {
    if text.is_empty() {
        return Vec::new();
    }
    let text = text.strip_suffix('\n').unwrap_or(text);
    text.split('\n').map(str::to_string).collect()
}

/// Lines written back as `printf '%s\n'` does: each ends in `\n`.
pub fn join_lines(lines: &[String]) -> String {
    lines.iter().map(|l| format!("{l}\n")).collect()
}

enum Parsed {
    Skip,
    Section(String),
    Key(String, String),
}

fn parse_line(raw: &str) -> Result<Parsed, String> {
    let trimmed = raw.trim();
    if trimmed.is_empty() || trimmed.starts_with('#') || trimmed.starts_with(';') {
        return Ok(Parsed::Skip);
    }
    if raw.starts_with([' ', '\t']) {
        return Err(format!(
            "indented line `{trimmed}` — DevStack ignores it silently; start it in column 1"
        ));
    }
    if raw.starts_with('[') {
        return section_name(raw.trim_end()).map(Parsed::Section);
    }
    let Some((key, value)) = raw.split_once('=') else {
        return Err(format!(
            "`{trimmed}` is not `key = value` or a [section] header"
        ));
    };
    let key = key.trim_end();
    if key.contains(char::is_whitespace) {
        return Err(format!(
            "`{key}` is not an option name (it contains a blank)"
        ));
    }
    Ok(Parsed::Key(key.to_string(), value.trim().to_string()))
}

fn section_name(text: &str) -> Result<String, String> {
    let name = text.strip_prefix('[').and_then(|t| t.strip_suffix(']'));
    match name {
        Some(name) if !name.is_empty() && !name.contains(['[', ']']) && name.trim() == name => {
            Ok(name.to_string())
        }
        _ => Err(format!(
            "malformed section header `{text}` — expected [name], e.g. [DEFAULT]"
        )),
    }
}

fn add(settings: &mut Vec<IniSetting>, section: &str, key: String, value: String) {
    let same = |s: &&mut IniSetting| s.section == section && s.key == key;
    match settings.iter_mut().find(same) {
        Some(setting) => setting.values.push(value),
        None => settings.push(IniSetting {
            section: section.to_string(),
            key,
            values: vec![value],
        }),
    }
}

/// Whether `line` is a section header, and of which section.
fn header(line: &str) -> Option<&str> {
    let line = line.trim_end_matches(is_blank);
    line.strip_prefix('[')?.strip_suffix(']')
}

/// Whether `line` sets `key` (`key = ...`, `key=...`, in column 1).
fn sets_key(line: &str, key: &str) -> bool {
    line.strip_prefix(key)
        .is_some_and(|rest| rest.trim_start_matches([' ', '\t']).starts_with('='))
}

/// The indices of the lines inside every occurrence of `section`.
fn section_lines(lines: &[String], section: &str) -> Vec<usize> {
    let mut inside = false;
    let mut out = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        match header(line) {
            Some(name) => inside = name == section,
            None if inside => out.push(i),
            None => {}
        }
    }
    out
}

/// The index of the first header of `section`, appending one if missing.
fn ensure_section(lines: &mut Vec<String>, section: &str) -> usize {
    if let Some(i) = lines.iter().position(|l| header(l) == Some(section)) {
        return i;
    }
    if lines.last().is_some_and(|l| !l.trim().is_empty()) {
        lines.push(String::new());
    }
    lines.push(format!("[{section}]"));
    lines.len() - 1
}

/// DevStack's `iniset`: every line of `key` in `section` set to `value`;
/// a missing key inserted right after the section's first header; a
/// missing section appended (after a blank line).
pub(crate) fn iniset(lines: &mut Vec<String>, section: &str, key: &str, value: &str) {
    let mut replaced = false;
    for i in section_lines(lines, section) {
        if sets_key(&lines[i], key) {
            lines[i] = format!("{key} = {value}");
            replaced = true;
        }
    }
    if !replaced {
        let at = ensure_section(lines, section);
        lines.insert(at + 1, format!("{key} = {value}"));
    }
}

/// DevStack's `iniset_multiline`: every line of `key` in `section`
/// removed, one line per value inserted after the section's first header.
pub fn iniset_multiline(lines: &mut Vec<String>, section: &str, key: &str, values: &[String]) {
    let old = section_lines(lines, section);
    for i in old.into_iter().rev() {
        if sets_key(&lines[i], key) {
            lines.remove(i);
        }
    }
    let at = ensure_section(lines, section);
    for (n, value) in values.iter().enumerate() {
        lines.insert(at + 1 + n, format!("{key} = {value}"));
    }
}

/// DevStack's `iniget`: the value of the first line of `key` in
/// `section`, blanks trimmed; `None` when there is none.
pub fn iniget(lines: &[String], section: &str, key: &str) -> Option<String> {
    let first = section_lines(lines, section)
        .into_iter()
        .find(|&i| sets_key(&lines[i], key))?;
    let value = lines[first].split_once('=').map_or("", |(_, v)| v);
    Some(value.trim_matches(is_blank).to_string())
}

/// DevStack's `inicomment`: `#` put before every line of `key` in
/// `section`. Whether any line was changed.
pub fn inicomment(lines: &mut [String], section: &str, key: &str) -> bool {
    let hits: Vec<usize> = section_lines(lines, section)
        .into_iter()
        .filter(|&i| sets_key(&lines[i], key))
        .collect();
    for &i in &hits {
        lines[i].insert(0, '#');
    }
    !hits.is_empty()
}

/// Bash's `[[:space:]]` in the C locale.
fn is_blank(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\r' | '\x0b' | '\x0c')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(text: &str) -> Vec<Line<String>> {
        text.lines()
            .enumerate()
            .map(|(i, l)| Line {
                line: i + 10,
                value: l.to_string(),
            })
            .collect()
    }

    fn merged(file: &str, section_body: &str) -> String {
        merge_text(file, &parse_body(&body(section_body)).unwrap())
    }

    #[test]
    fn a_new_file_gets_its_sections_in_order() {
        assert_eq!(
            merged(
                "",
                "[DEFAULT]\ndebug = True\n\n# c\n[db]\nconnection=sqlite://\n"
            ),
            "[DEFAULT]\ndebug = True\n\n[db]\nconnection = sqlite://\n"
        );
    }

    #[test]
    fn a_key_is_replaced_in_place_and_the_rest_kept() {
        let file = "# nova\n[DEFAULT]\n#debug = False\ndebug=False\nhost = a\n[other]\ndebug = x\n";
        assert_eq!(
            merged(file, "[DEFAULT]\ndebug = True\n"),
            "# nova\n[DEFAULT]\n#debug = False\ndebug = True\nhost = a\n[other]\ndebug = x\n"
        );
    }

    #[test]
    fn a_missing_key_goes_right_after_the_header() {
        assert_eq!(
            merged("[DEFAULT]\nhost = a\n", "[DEFAULT]\nport = 1\n"),
            "[DEFAULT]\nport = 1\nhost = a\n"
        );
    }

    #[test]
    fn a_repeated_key_replaces_every_old_value() {
        let file = "[pci]\nalias = old1\nx = 1\nalias = old2\n";
        assert_eq!(
            merged(file, "[pci]\nalias = a\nalias = b\n"),
            "[pci]\nalias = a\nalias = b\nx = 1\n"
        );
    }

    #[test]
    fn values_are_literal() {
        assert_eq!(
            merged("", "[a]\nk =  \"$X\" = y  \n"),
            "[a]\nk = \"$X\" = y\n"
        );
    }

    #[test]
    fn bad_lines_are_errors_with_their_line() {
        let errors = parse_body(&body(
            "k = v\n[ok]\n  indented = 1\nnoequals\n[bad\n[]\na b = c\n",
        ))
        .unwrap_err();
        let lines: Vec<usize> = errors.iter().map(|(l, _)| *l).collect();
        assert_eq!(lines, [10, 12, 13, 14, 15, 16]);
        assert!(errors[0].1.contains("before any [section]"), "{errors:?}");
        assert!(errors[1].1.contains("indented line"), "{errors:?}");
        assert!(errors[2].1.contains("is not `key = value`"), "{errors:?}");
        assert!(
            errors[3].1.contains("malformed section header"),
            "{errors:?}"
        );
    }

    #[test]
    fn file_names_expand_variables() {
        let vars = |n: &str| format!("<{n}>");
        assert_eq!(expand("$A/x/${B_1}.conf", vars), "<A>/x/<B_1>.conf");
        assert_eq!(expand("a$/$1${x-y}$", vars), "a$/$1${x-y}$");
        assert_eq!(expand("/etc/plain.conf", vars), "/etc/plain.conf");
    }

    #[test]
    fn groups_follow_devstack() {
        assert_eq!(
            groups_after(Phase::Stack(StackStep::Extra)),
            ["extra", "post-extra"]
        );
        assert!(groups_after(Phase::Stack(StackStep::Install)).is_empty());
    }

    #[test]
    fn merge_file_creates_and_updates() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.conf");
        let settings = parse_body(&body("[a]\nk = 1\n")).unwrap();
        merge_file(&path, &settings).unwrap();
        assert_eq!(fs::read_to_string(&path).unwrap(), "[a]\nk = 1\n");
        fs::write(&path, "[b]\nz = 0").unwrap();
        merge_file(&path, &settings).unwrap();
        assert_eq!(
            fs::read_to_string(&path).unwrap(),
            "[b]\nz = 0\n\n[a]\nk = 1\n"
        );
    }
}
