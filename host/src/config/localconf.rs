//! DevStack's `local.conf`: the `[[local|localrc]]` settings that seed a
//! run's variable space, and the other `[[phase|file]]` meta-sections.
//!
//! hookhost reads local.conf; it never runs it. The `[[local|localrc]]`
//! sections accept the subset of shell that real local.conf files use, one
//! statement per line:
//!
//! - blank lines and `#` comments (whole-line, or after a blank outside quotes);
//! - `NAME=value`, `NAME+=value` (`ENABLED_SERVICES+=,foo`), `export NAME=value`;
//! - a value is one shell word made of unquoted text, `"double"` quoted text
//!   (escapes `\"` `\\` `\$` `` \` ``, may run over several lines) and
//!   `'single'` quoted text, concatenated; `$NAME` and `${NAME}` expand
//!   (unquoted or in double quotes), a leading `~` or `~/` means `$HOME`, and a
//!   backslash before a newline continues the line;
//! - `enable_service a b`, `disable_service a`, `disable_all_services`,
//!   `enable_plugin NAME URL [REF]`.
//!
//! Anything else (`$(...)`, backticks, `${NAME:-x}`, `if`, pipes, `source`,
//! unknown commands, unterminated quotes, bad names) is an error naming the
//! file and line. All errors are collected and returned together.
//!
//! Meta-sections, and the decisions made where DevStack is lax:
//!
//! - A header is a line starting with `[[` (column 1, as DevStack's awk sees
//!   it) of the exact form `[[phase|file]]`; a malformed one is an error.
//! - Phases are DevStack's: `local`, `post-config`, `extra`, `post-extra`,
//!   `test-config`; any other is an error, and `local` takes only `localrc`.
//! - Text before the first header is an error, except blank and comment
//!   lines: DevStack silently ignores it (an old-style `localrc` pasted into
//!   local.conf without a header), and hookhost ignores nothing silently.
//! - `[[local|localrc]]` may appear more than once; its statements are
//!   merged in file order. Other sections are kept verbatim, in file order,
//!   with their `file` unexpanded (it may name `$NOVA_CONF`).
//! - `enable_plugin` lines are listed by [`LocalConf::plugins`]; hookhost
//!   does not fetch plugins.

use std::collections::BTreeMap;
use std::fmt;
use std::fs;
use std::path::{Path, PathBuf};

use crate::model::names::is_variable_name;
use crate::model::problems::io_message;
use crate::model::problems::{Problem, Problems};
use crate::model::snippet::{line_offset, Snippet};

/// The phases DevStack knows for `[[phase|file]]` headers.
pub const PHASES: [&str; 5] = ["local", "post-config", "extra", "post-extra", "test-config"];

/// The variable `enable_service` and `disable_service` edit.
pub const SERVICES: &str = "ENABLED_SERVICES";

/// What `[[local|localrc]]` accepts, for error hints.
const SUPPORTED: &str = "[[local|localrc]] takes NAME=value, NAME+=value, export NAME=value, \
     enable_service, disable_service, disable_all_services and enable_plugin";

/// A parsed local.conf.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalConf {
    pub path: PathBuf,
    /// The statements of every `[[local|localrc]]` section, in file order.
    pub localrc: Vec<Line<Op>>,
    /// Every other meta-section, in file order.
    pub meta: Vec<MetaSection>,
}

/// A value and the (1-based) line of local.conf it starts on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line<T> {
    pub line: usize,
    pub value: T,
}

/// One statement of `[[local|localrc]]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Op {
    Set {
        name: String,
        value: Word,
        append: bool,
        export: bool,
    },
    EnableService(Vec<String>),
    DisableService(Vec<String>),
    DisableAllServices,
    EnablePlugin {
        name: String,
        url: Word,
        git_ref: Option<Word>,
    },
}

/// A shell word with its quotes removed and its `$NAME` references kept.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Word(pub Vec<WordPart>);

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WordPart {
    Text(String),
    Var(String),
}

impl Word {
    /// The word's text if it references no variable.
    pub fn literal(&self) -> Option<String> {
        self.0
            .iter()
            .map(|part| match part {
                WordPart::Text(text) => Some(text.as_str()),
                WordPart::Var(_) => None,
            })
            .collect()
    }

    /// The word with every variable replaced by `lookup(name)`.
    pub fn expand(&self, mut lookup: impl FnMut(&str) -> String) -> String {
        let mut out = String::new();
        for part in &self.0 {
            match part {
                WordPart::Text(text) => out.push_str(text),
                WordPart::Var(name) => out.push_str(&lookup(name)),
            }
        }
        out
    }
}

/// Shows the word unexpanded: `https://${GIT_BASE}/x`.
impl fmt::Display for Word {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for part in &self.0 {
            match part {
                WordPart::Text(text) => f.write_str(text)?,
                WordPart::Var(name) => write!(f, "${{{name}}}")?,
            }
        }
        Ok(())
    }
}

/// A `[[phase|file]]` section other than `[[local|localrc]]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetaSection {
    /// The line of the header.
    pub line: usize,
    /// `post-config`, `extra`, `post-extra` or `test-config`.
    pub phase: String,
    /// The file as written; may contain `$VARS`.
    pub file: String,
    /// The lines after the header, verbatim.
    pub body: Vec<Line<String>>,
}

/// An `enable_plugin NAME URL [REF]` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plugin {
    pub line: usize,
    pub name: String,
    pub url: Word,
    pub git_ref: Option<Word>,
}

/// Everything wrong with a local.conf, each problem at its line.
pub type LocalConfError = Problems;

/// Read and parse a local.conf.
pub fn parse(path: &Path) -> Result<LocalConf, LocalConfError> {
    let bytes = fs::read(path).map_err(|e| {
        let message = format!("cannot read: {}", io_message(&e));
        Problems::from(Problem::at(path, None, message))
    })?;
    let text = String::from_utf8(bytes).map_err(|e| {
        let valid = &e.as_bytes()[..e.utf8_error().valid_up_to()];
        let line = valid.iter().filter(|b| **b == b'\n').count() + 1;
        let problem = Problem::at(path, Some(line), "not UTF-8 text");
        Problems::from(problem.advise("save local.conf as UTF-8"))
    })?;
    parse_str(path, &text)
}

/// Parse the text of a local.conf; `path` names it in errors.
pub fn parse_str(path: &Path, text: &str) -> Result<LocalConf, LocalConfError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut errors = Errors {
        path,
        text,
        list: Vec::new(),
    };
    let mut conf = LocalConf {
        path: path.to_path_buf(),
        localrc: Vec::new(),
        meta: Vec::new(),
    };
    for section in split_sections(text, &mut errors) {
        if section.phase == "local" {
            let ops = parse_localrc(&section.body, &mut errors);
            conf.localrc.extend(ops);
        } else {
            // An INI body that cannot be merged refuses the run up front.
            if let Err(bad) = crate::config::ini::parse_body(&section.body) {
                for (line, message) in bad {
                    errors.at(
                        line,
                        &format!("[[{}|{}]]: {message}", section.phase, section.file),
                    );
                }
            }
            conf.meta.push(section);
        }
    }
    if errors.list.is_empty() {
        return Ok(conf);
    }
    Err(errors.into_error())
}

/// Parse shell text with `[[local|localrc]]`'s rules (an external WASM
/// plugin's `devstack/settings`, which hookhost reads but never runs);
/// `path` names it in errors, lines count from 1.
pub fn parse_statements(path: &Path, text: &str) -> Result<Vec<Line<Op>>, LocalConfError> {
    let body: Vec<Line<String>> = text
        .lines()
        .enumerate()
        .map(|(i, l)| Line {
            line: i + 1,
            value: l.to_string(),
        })
        .collect();
    let mut errors = Errors {
        path,
        text,
        list: Vec::new(),
    };
    let ops = parse_localrc(&body, &mut errors);
    match errors.list.is_empty() {
        true => Ok(ops),
        false => Err(errors.into_error()),
    }
}

impl LocalConf {
    /// Apply the localrc statements in order on top of `base` (the subset of
    /// the operator's environment the host passes). `$NAME` expands from
    /// what localrc assigned so far, then `base`, else to nothing. Returns
    /// the assignments in order (a later one for the same name wins):
    /// one per `NAME=`, and one `ENABLED_SERVICES` per service statement,
    /// edited as DevStack does (a comma list, no duplicates, no stray
    /// commas, `-name` entries remove `name`). Like stack.sh after sourcing
    /// localrc, a final `ENABLED_SERVICES` is added when the list that
    /// localrc set still needs that clean-up. Never fails today.
    pub fn resolve(
        &self,
        base: &BTreeMap<String, String>,
    ) -> Result<Vec<(String, String)>, LocalConfError> {
        let mut vars = Vars {
            base,
            set: BTreeMap::new(),
            out: Vec::new(),
        };
        for op in &self.localrc {
            vars.apply(&op.value);
        }
        vars.clean_services();
        Ok(vars.out)
    }

    /// The `enable_plugin` lines, in order.
    pub fn plugins(&self) -> Vec<Plugin> {
        let plugin = |line: &Line<Op>| match &line.value {
            Op::EnablePlugin { name, url, git_ref } => Some(Plugin {
                line: line.line,
                name: name.clone(),
                url: url.clone(),
                git_ref: git_ref.clone(),
            }),
            _ => None,
        };
        self.localrc.iter().filter_map(plugin).collect()
    }
}

/// The variable space while localrc is applied.
struct Vars<'a> {
    base: &'a BTreeMap<String, String>,
    set: BTreeMap<String, String>,
    out: Vec<(String, String)>,
}

impl Vars<'_> {
    fn get(&self, name: &str) -> String {
        let value = self.set.get(name).or_else(|| self.base.get(name));
        value.cloned().unwrap_or_default()
    }

    fn assign(&mut self, name: &str, value: String) {
        self.set.insert(name.to_string(), value.clone());
        self.out.push((name.to_string(), value));
    }

    fn apply(&mut self, op: &Op) {
        let services = self.get(SERVICES);
        match op {
            Op::Set {
                name,
                value,
                append,
                ..
            } => {
                let mut text = if *append {
                    self.get(name)
                } else {
                    String::new()
                };
                text.push_str(&value.expand(|var| self.get(var)));
                self.assign(name, text);
            }
            Op::EnableService(names) => self.assign(SERVICES, enable_services(&services, names)),
            Op::DisableService(names) => self.assign(SERVICES, disable_services(&services, names)),
            Op::DisableAllServices => self.assign(SERVICES, String::new()),
            Op::EnablePlugin { .. } => {}
        }
    }

    fn clean_services(&mut self) {
        let Some(current) = self.set.get(SERVICES) else {
            return;
        };
        let clean = disable_negated_services(current);
        if clean != *current {
            self.assign(SERVICES, clean);
        }
    }
}

/// The entries of a comma-separated service list, without empty ones.
pub fn service_list(list: &str) -> Vec<&str> {
    list.split(',').filter(|s| !s.is_empty()).collect()
}

/// Whether `service` is an entry of the list (exact match).
pub fn is_service_enabled(list: &str, service: &str) -> bool {
    service_list(list).contains(&service)
}

/// DevStack's `enable_service`: append the names not yet in the list, then
/// drop negated entries (`-name` removes `name`).
pub fn enable_services(list: &str, names: &[impl AsRef<str>]) -> String {
    let mut services = service_list(list);
    services.extend(names.iter().map(AsRef::as_ref));
    disable_negated_services(&services.join(","))
}

/// DevStack's `disable_service`: remove the names from the list.
pub fn disable_services(list: &str, names: &[impl AsRef<str>]) -> String {
    let services = service_list(list);
    let kept = services
        .into_iter()
        .filter(|s| !names.iter().any(|n| n.as_ref() == *s));
    unique(kept).join(",")
}

/// DevStack's `disable_negated_services`: `-name` entries remove themselves
/// and `name`; the result has no duplicates and no empty entries.
pub fn disable_negated_services(list: &str) -> String {
    let services = service_list(list);
    let negated: Vec<&str> = services
        .iter()
        .filter_map(|s| s.strip_prefix('-'))
        .collect();
    let kept = services
        .into_iter()
        .filter(|s| !s.starts_with('-') && !negated.contains(s));
    unique(kept).join(",")
}

fn unique<'a>(services: impl Iterator<Item = &'a str>) -> Vec<&'a str> {
    let mut out: Vec<&str> = Vec::new();
    for service in services {
        if !out.contains(&service) {
            out.push(service);
        }
    }
    out
}

/// Errors collected while parsing: the line and the message.
struct Errors<'a> {
    path: &'a Path,
    /// The text the lines are of, for the snippet under each problem.
    text: &'a str,
    list: Vec<(usize, String, Option<Place>)>,
}

impl Errors<'_> {
    fn at(&mut self, line: usize, message: &str) {
        self.list.push((line, message.to_string(), None));
    }

    fn fault(&mut self, fault: Fault) {
        self.list.push((fault.line, fault.message, fault.at));
    }

    /// The source under a problem: the place in the line when known, else
    /// the whole line.
    fn snippet(&self, line: usize, place: Option<Place>, label: &str) -> Option<Snippet> {
        let Some(place) = place else {
            return Snippet::line(self.path, self.text, line, label);
        };
        let start = line_offset(self.text, line)?;
        let body = self.text[start..].split('\n').next().unwrap_or_default();
        let byte = |chars: usize| {
            body.char_indices()
                .nth(chars)
                .map_or(body.len(), |(at, _)| at)
        };
        let from = byte(place.column - 1);
        let to = byte(place.column - 1 + place.width);
        Some(Snippet::new(
            self.path,
            self.text,
            start + from..start + to,
            label,
        ))
    }

    /// The errors in line order; control characters quoted from the file
    /// (a terminal escape) are shown escaped.
    fn into_error(mut self) -> LocalConfError {
        self.list.sort_by_key(|(line, _, _)| *line);
        let problems = self.list.iter().map(|(line, m, place)| {
            let m = crate::config::manifest::escape_controls(m);
            let snippet = self.snippet(*line, *place, &m);
            Problem::at(self.path, Some(*line), m).show(snippet)
        });
        Problems(problems.collect())
    }
}

/// Split local.conf into its sections; `[[local|localrc]]` ones included.
fn split_sections(text: &str, errors: &mut Errors) -> Vec<MetaSection> {
    let mut sections = Vec::new();
    let mut current: Option<MetaSection> = None;
    let mut seen_header = false;
    let mut reported_outside = false;
    for (index, raw) in text.lines().enumerate() {
        let line = index + 1;
        if raw.starts_with("[[") {
            sections.extend(current.take());
            seen_header = true;
            match parse_header(raw) {
                Ok((phase, file)) => current = Some(new_section(line, phase, file)),
                Err(message) => errors.at(line, &message),
            }
        } else if let Some(section) = current.as_mut() {
            let value = raw.to_string();
            section.body.push(Line { line, value });
        } else if !seen_header && !reported_outside && !is_blank_or_comment(raw) {
            // The body of a malformed header is dropped: its header is reported.
            errors.at(line, OUTSIDE);
            reported_outside = true;
        }
    }
    sections.extend(current);
    sections
}

const OUTSIDE: &str = "text before the first [[phase|file]] section header — DevStack \
     silently ignores it; put shell settings under a [[local|localrc]] line";

fn new_section(line: usize, phase: String, file: String) -> MetaSection {
    MetaSection {
        line,
        phase,
        file,
        body: Vec::new(),
    }
}

fn is_blank_or_comment(raw: &str) -> bool {
    let text = raw.trim_start();
    text.is_empty() || text.starts_with('#')
}

/// The phase and file of a `[[phase|file]]` header, or what is wrong with it.
fn parse_header(raw: &str) -> Result<(String, String), String> {
    let text = raw.trim_end();
    let hint = "expected [[phase|file]], e.g. [[local|localrc]] or [[post-config|$NOVA_CONF]]";
    let inner = text.strip_prefix("[[").and_then(|t| t.strip_suffix("]]"));
    let Some(inner) = inner else {
        return Err(format!("malformed section header `{text}` — {hint}"));
    };
    let Some((phase, file)) = inner.split_once('|') else {
        return Err(format!("section header `{text}` has no `|file` — {hint}"));
    };
    if phase.is_empty() || file.is_empty() {
        let what = if phase.is_empty() { "phase" } else { "file" };
        return Err(format!(
            "section header `{text}` has an empty {what} — {hint}"
        ));
    }
    let bad = |c: &char| c.is_whitespace() || "[]|".contains(*c);
    if let Some(c) = phase.chars().chain(file.chars()).find(bad) {
        return Err(format!("section header `{text}` contains `{c}` — {hint}"));
    }
    if !PHASES.contains(&phase) {
        return Err(format!(
            "unknown phase `{phase}` in `{text}` — DevStack's phases are local, post-config, \
             extra, post-extra and test-config"
        ));
    }
    if phase == "local" && file != "localrc" {
        return Err(format!(
            "`{text}`: the local phase has only the file localrc — write [[local|localrc]]"
        ));
    }
    Ok((phase.to_string(), file.to_string()))
}

/// A parse error at a line of local.conf, and where in the line when the
/// parser knows exactly (a shell operator, an extra word).
#[derive(Debug)]
struct Fault {
    line: usize,
    message: String,
    at: Option<Place>,
}

/// A 1-based column of a line and a width, in characters.
#[derive(Debug, Clone, Copy)]
struct Place {
    column: usize,
    width: usize,
}

fn fault(line: usize, message: impl Into<String>) -> Fault {
    Fault {
        line,
        message: message.into(),
        at: None,
    }
}

impl Fault {
    /// The same fault, at `width` characters from `column`.
    fn at(mut self, column: usize, width: usize) -> Fault {
        self.at = Some(Place { column, width });
        self
    }
}

/// The characters of one `[[local|localrc]]` body, each with its line.
struct Src {
    chars: Vec<(char, usize)>,
    pos: usize,
}

impl Src {
    fn new(body: &[Line<String>]) -> Src {
        let mut chars = Vec::new();
        for line in body {
            chars.extend(line.value.chars().map(|c| (c, line.line)));
            chars.push(('\n', line.line));
        }
        Src { chars, pos: 0 }
    }

    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).map(|(c, _)| *c)
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek();
        self.pos += usize::from(c.is_some());
        c
    }

    /// The line of the next character (or of the last one at the end).
    fn line(&self) -> usize {
        let at = self.pos.min(self.chars.len().saturating_sub(1));
        self.chars.get(at).map_or(0, |(_, line)| *line)
    }

    fn text(&self, from: usize) -> String {
        self.chars[from..self.pos].iter().map(|(c, _)| c).collect()
    }

    fn skip_blanks(&mut self) {
        while matches!(self.peek(), Some(' ' | '\t')) {
            self.bump();
        }
    }

    /// The 1-based column of the next character in its line.
    fn column(&self) -> usize {
        let before = &self.chars[..self.pos.min(self.chars.len())];
        let start = before
            .iter()
            .rposition(|(c, _)| *c == '\n')
            .map_or(0, |at| at + 1);
        self.pos - start + 1
    }

    /// Skip to the end of the current line, leaving the newline.
    fn skip_comment(&mut self) {
        while !matches!(self.peek(), None | Some('\n')) {
            self.bump();
        }
    }

    /// Skip past the end of the current line.
    fn skip_line(&mut self) {
        self.skip_comment();
        self.bump();
    }
}

/// A piece of a word as read, before it becomes a [`Word`].
#[derive(Debug)]
enum Piece {
    Text { text: String, quoted: bool },
    Var(String),
}

/// One shell word as read: its pieces, its line and its source text.
#[derive(Debug)]
struct RawWord {
    pieces: Vec<Piece>,
    line: usize,
    /// The 1-based column it starts at.
    column: usize,
    text: String,
}

impl RawWord {
    fn push(&mut self, c: char, quoted: bool) {
        match self.pieces.last_mut() {
            Some(Piece::Text { text, quoted: q }) if *q == quoted => text.push(c),
            _ => self.pieces.push(Piece::Text {
                text: c.to_string(),
                quoted,
            }),
        }
    }

    /// Mark the start of a quoted part, so that `""` is a word.
    fn open_quote(&mut self) {
        if !matches!(self.pieces.last(), Some(Piece::Text { quoted: true, .. })) {
            self.pieces.push(Piece::Text {
                text: String::new(),
                quoted: true,
            });
        }
    }

    /// The word's text if it has no variables.
    fn literal(&self) -> Option<String> {
        let text = |p: &Piece| match p {
            Piece::Text { text, .. } => Some(text.clone()),
            Piece::Var(_) => None,
        };
        self.pieces.iter().map(text).collect()
    }

    /// The word if it is plain unquoted text (a command name).
    fn bare(&self) -> Option<&str> {
        match self.pieces.as_slice() {
            [Piece::Text {
                text,
                quoted: false,
            }] => Some(text),
            _ => None,
        }
    }
}

fn parse_localrc(body: &[Line<String>], errors: &mut Errors) -> Vec<Line<Op>> {
    let mut src = Src::new(body);
    let mut ops = Vec::new();
    loop {
        src.skip_blanks();
        match src.peek() {
            None => break,
            Some('\n') | Some('#') => src.skip_line(),
            Some(_) => {
                let line = src.line();
                match statement(&mut src) {
                    Ok(Some(op)) => ops.push(Line { line, value: op }),
                    Ok(None) => {}
                    Err(f) => {
                        errors.fault(f);
                        src.skip_line();
                    }
                }
            }
        }
    }
    ops
}

/// Read one statement up to the end of its (logical) line.
fn statement(src: &mut Src) -> Result<Option<Op>, Fault> {
    let words = read_words(src)?;
    let Some((first, rest)) = words.split_first() else {
        return Ok(None);
    };
    if let Some((name, append, value)) = assignment(first)? {
        if let Some(extra) = rest.first() {
            return Err(after_assignment(extra));
        }
        return Ok(Some(set(name, append, value, false)));
    }
    let Some(command) = first.bare() else {
        let message = format!("`{}` is not a statement — {SUPPORTED}", first.text);
        return Err(fault(first.line, message));
    };
    command_op(command, rest, first.line).map(Some)
}

fn set(name: String, append: bool, value: Word, export: bool) -> Op {
    Op::Set {
        name,
        value,
        append,
        export,
    }
}

fn after_assignment(extra: &RawWord) -> Fault {
    let message = format!(
        "unexpected `{}` after the assignment — write one assignment per line, and quote \
         a value with blanks: NAME=\"a b\"",
        extra.text
    );
    let width = extra.text.chars().count().max(1);
    fault(extra.line, message).at(extra.column, width)
}

fn command_op(command: &str, args: &[RawWord], line: usize) -> Result<Op, Fault> {
    match command {
        "export" => export(args, line),
        "enable_service" => Ok(Op::EnableService(services(command, args, line)?)),
        "disable_service" => Ok(Op::DisableService(services(command, args, line)?)),
        "disable_all_services" if args.is_empty() => Ok(Op::DisableAllServices),
        "disable_all_services" => Err(fault(line, "disable_all_services takes no arguments")),
        "enable_plugin" => plugin(args, line),
        "source" | "." => Err(fault(
            line,
            format!("`{command}` is not supported — local.conf cannot read other files; put the settings here"),
        )),
        _ if is_shell_keyword(command) => Err(fault(
            line,
            format!("`{command}`: shell control flow is not supported — local.conf is read as settings, not run; {SUPPORTED}"),
        )),
        _ => Err(fault(line, format!("unknown command `{command}` — {SUPPORTED}"))),
    }
}

fn is_shell_keyword(word: &str) -> bool {
    const KEYWORDS: [&str; 18] = [
        "if", "then", "else", "elif", "fi", "for", "while", "until", "do", "done", "case", "esac",
        "function", "select", "{", "}", "[[", "!",
    ];
    KEYWORDS.contains(&word)
}

fn export(args: &[RawWord], line: usize) -> Result<Op, Fault> {
    let Some((word, rest)) = args.split_first() else {
        return Err(fault(
            line,
            "`export` needs NAME=value — write export NAME=value",
        ));
    };
    let Some((name, append, value)) = assignment(word)? else {
        let message = format!(
            "`export {}` without a value is not supported — write export NAME=value",
            word.text
        );
        return Err(fault(word.line, message));
    };
    match rest.first() {
        Some(extra) => Err(after_assignment(extra)),
        None => Ok(set(name, append, value, true)),
    }
}

/// The service names of `enable_service`/`disable_service` (commas and
/// blanks separate names, as DevStack's unquoted `$@` and comma list do).
fn services(command: &str, args: &[RawWord], line: usize) -> Result<Vec<String>, Fault> {
    let mut names = Vec::new();
    for arg in args {
        let Some(text) = arg.literal() else {
            let message = format!(
                "{command}: `{}` is not a literal service name — variables are not expanded here",
                arg.text
            );
            return Err(fault(arg.line, message));
        };
        let split = text.split(|c: char| c == ',' || c.is_whitespace());
        names.extend(split.filter(|s| !s.is_empty()).map(String::from));
    }
    if names.is_empty() {
        let message = format!("{command} needs at least one service name, e.g. {command} tempest");
        return Err(fault(line, message));
    }
    Ok(names)
}

fn plugin(args: &[RawWord], line: usize) -> Result<Op, Fault> {
    let usage = "enable_plugin takes NAME URL [REF], e.g. \
                 enable_plugin heat https://opendev.org/openstack/heat master";
    let (name, url, git_ref) = match args {
        [name, url] => (name, url, None),
        [name, url, git_ref] => (name, url, Some(git_ref)),
        _ => return Err(fault(line, usage)),
    };
    let valid = |n: &str| !n.is_empty() && !n.contains(|c: char| c == '/' || c.is_whitespace());
    let Some(plugin_name) = name.literal().filter(|n| valid(n)) else {
        let message = format!(
            "enable_plugin: `{}` is not a plugin name — {usage}",
            name.text
        );
        return Err(fault(name.line, message));
    };
    Ok(Op::EnablePlugin {
        name: plugin_name,
        url: word(url)?,
        git_ref: git_ref.map(word).transpose()?,
    })
}

/// If `raw` is `NAME=value` or `NAME+=value`: the name, whether it appends,
/// and the value. `Ok(None)` when it is no assignment at all.
fn assignment(raw: &RawWord) -> Result<Option<(String, bool, Word)>, Fault> {
    let Some(Piece::Text {
        text,
        quoted: false,
    }) = raw.pieces.first()
    else {
        return Ok(None);
    };
    let Some((lhs, first)) = text.split_once('=') else {
        return Ok(None);
    };
    let (name, append) = match lhs.strip_suffix('+') {
        Some(name) => (name, true),
        None => (lhs, false),
    };
    if !is_variable_name(name) {
        return Err(fault(raw.line, bad_name(name)));
    }
    let mut pieces = vec![Piece::Text {
        text: first.to_string(),
        quoted: false,
    }];
    pieces.extend(raw.pieces[1..].iter().map(clone_piece));
    let value = to_word(pieces, raw.line)?;
    Ok(Some((name.to_string(), append, value)))
}

fn clone_piece(piece: &Piece) -> Piece {
    match piece {
        Piece::Text { text, quoted } => Piece::Text {
            text: text.clone(),
            quoted: *quoted,
        },
        Piece::Var(name) => Piece::Var(name.clone()),
    }
}

fn bad_name(name: &str) -> String {
    if name.is_empty() {
        return "`=` without a variable name before it — write NAME=value".to_string();
    }
    if name.contains('[') {
        return format!("`{name}`: arrays are not supported in local.conf");
    }
    format!(
        "`{name}` is not a valid variable name — names are letters, digits and _, \
         and do not start with a digit"
    )
}

fn word(raw: &RawWord) -> Result<Word, Fault> {
    to_word(raw.pieces.iter().map(clone_piece).collect(), raw.line)
}

/// Turn pieces into a [`Word`]: a leading unquoted `~` or `~/` becomes
/// `$HOME`, and adjacent text merges.
fn to_word(mut pieces: Vec<Piece>, line: usize) -> Result<Word, Fault> {
    let mut parts = Vec::new();
    let single = pieces.len() == 1;
    if let Some(Piece::Text {
        text,
        quoted: false,
    }) = pieces.first_mut()
    {
        if let Some(rest) = text.strip_prefix('~') {
            let prefix = rest.split('/').next().unwrap_or_default();
            if !prefix.is_empty() {
                let message =
                    format!("`~{prefix}` is not supported — write the directory out, or use $HOME");
                return Err(fault(line, message));
            }
            if rest.starts_with('/') || (rest.is_empty() && single) {
                parts.push(WordPart::Var("HOME".to_string()));
                *text = text[1..].to_string();
            }
        }
    }
    for piece in pieces {
        match (piece, parts.last_mut()) {
            (Piece::Text { text, .. }, Some(WordPart::Text(last))) => last.push_str(&text),
            (Piece::Text { text, .. }, _) if text.is_empty() => {}
            (Piece::Text { text, .. }, _) => parts.push(WordPart::Text(text)),
            (Piece::Var(name), _) => parts.push(WordPart::Var(name)),
        }
    }
    Ok(Word(parts))
}

/// Read the words of one statement, up to its newline or comment.
fn read_words(src: &mut Src) -> Result<Vec<RawWord>, Fault> {
    let mut words = Vec::new();
    loop {
        src.skip_blanks();
        match src.peek() {
            None | Some('\n') => return Ok(words),
            Some('#') => {
                src.skip_comment();
                return Ok(words);
            }
            Some(_) => {
                let word = read_word(src)?;
                if !word.pieces.is_empty() {
                    words.push(word);
                }
            }
        }
    }
}

fn read_word(src: &mut Src) -> Result<RawWord, Fault> {
    let start = src.pos;
    let mut word = RawWord {
        pieces: Vec::new(),
        line: src.line(),
        column: src.column(),
        text: String::new(),
    };
    while let Some(c) = src.peek() {
        match c {
            ' ' | '\t' | '\n' => break,
            '#' if word.pieces.is_empty() => break,
            '\'' => single_quoted(src, &mut word)?,
            '"' => double_quoted(src, &mut word)?,
            '\\' => escaped(src, &mut word)?,
            '$' => dollar(src, &mut word, false)?,
            '`' => return Err(backtick(src.line()).at(src.column(), 1)),
            '|' | '&' | ';' | '<' | '>' | '(' | ')' => {
                return Err(operator(src.line(), c).at(src.column(), 1))
            }
            _ => {
                src.bump();
                word.push(c, false);
            }
        }
    }
    word.text = src.text(start);
    Ok(word)
}

fn backtick(line: usize) -> Fault {
    fault(
        line,
        "command substitution with backticks is not supported — local.conf is read as \
         settings, not run; write the value literally",
    )
}

fn operator(line: usize, c: char) -> Fault {
    let message = format!(
        "shell operator `{c}` is not supported (no pipes, redirections, `;`, `&`, subshells, \
         arrays or functions) — quote it if it is part of a value: NAME=\"a{c}b\""
    );
    fault(line, message)
}

fn single_quoted(src: &mut Src, word: &mut RawWord) -> Result<(), Fault> {
    let (start, column) = (src.line(), src.column());
    src.bump();
    word.open_quote();
    loop {
        match src.bump() {
            None => return Err(unterminated(start, '\'').at(column, 1)),
            Some('\'') => return Ok(()),
            Some(c) => word.push(c, true),
        }
    }
}

fn double_quoted(src: &mut Src, word: &mut RawWord) -> Result<(), Fault> {
    let (start, column) = (src.line(), src.column());
    src.bump();
    word.open_quote();
    loop {
        match src.peek() {
            None => return Err(unterminated(start, '"').at(column, 1)),
            Some('"') => {
                src.bump();
                return Ok(());
            }
            Some('\\') => {
                src.bump();
                match src.bump() {
                    None => return Err(unterminated(start, '"').at(column, 1)),
                    Some('\n') => {}
                    Some(c @ ('"' | '\\' | '$' | '`')) => word.push(c, true),
                    Some(c) => {
                        word.push('\\', true);
                        word.push(c, true);
                    }
                }
            }
            Some('$') => dollar(src, word, true)?,
            Some('`') => return Err(backtick(src.line())),
            Some(c) => {
                src.bump();
                word.push(c, true);
            }
        }
    }
}

fn unterminated(line: usize, quote: char) -> Fault {
    let kind = if quote == '"' { "double" } else { "single" };
    fault(
        line,
        format!("unterminated {kind} quote: the `{quote}` opened on this line is never closed — close it with `{quote}`"),
    )
}

/// An unquoted backslash: the next character is literal; before a newline
/// it continues the line.
fn escaped(src: &mut Src, word: &mut RawWord) -> Result<(), Fault> {
    let line = src.line();
    src.bump();
    match src.bump() {
        None => Err(fault(
            line,
            "a backslash at the end of the section escapes nothing — remove it",
        )),
        Some('\n') => Ok(()),
        Some(c) => {
            word.push(c, true);
            Ok(())
        }
    }
}

/// `$NAME`, `${NAME}`, or a literal `$`; anything else that `$` starts is an error.
fn dollar(src: &mut Src, word: &mut RawWord, quoted: bool) -> Result<(), Fault> {
    let line = src.line();
    src.bump();
    match src.peek() {
        Some('{') => braced(src, word, line),
        Some('(') => Err(fault(
            line,
            "command substitution `$(...)` and arithmetic `$((...))` are not supported — \
             local.conf is read as settings, not run; write the value literally",
        )),
        Some(c) if c == '_' || c.is_ascii_alphabetic() => {
            word.pieces.push(Piece::Var(take_name(src)));
            Ok(())
        }
        Some(c) if c.is_ascii_digit() || "?#@*$!-".contains(c) => Err(fault(
            line,
            format!("special parameter `${c}` is not supported — local.conf has no positional or special parameters"),
        )),
        Some(q @ ('\'' | '"')) if !quoted => Err(fault(
            line,
            format!("`${q}...{q}` quoting is not supported — use '...' or \"...\""),
        )),
        _ => {
            word.push('$', quoted);
            Ok(())
        }
    }
}

fn braced(src: &mut Src, word: &mut RawWord, line: usize) -> Result<(), Fault> {
    src.bump();
    let name = take_name(src);
    match src.peek() {
        Some('}') if is_variable_name(&name) => {
            src.bump();
            word.pieces.push(Piece::Var(name));
            Ok(())
        }
        None | Some('\n') => Err(fault(line, "unterminated `${` — close it with `}`")),
        Some(_) if is_variable_name(&name) => Err(fault(
            line,
            format!("`${{{name}` followed by an operator: `${{NAME:-default}}` and the like are not supported — use ${{{name}}} or a literal value"),
        )),
        Some(_) => Err(fault(
            line,
            "bad substitution: only ${NAME} is supported, NAME made of letters, digits and _ \
             and not starting with a digit",
        )),
    }
}

fn take_name(src: &mut Src) -> String {
    let mut name = String::new();
    while let Some(c) = src
        .peek()
        .filter(|c| *c == '_' || c.is_ascii_alphanumeric())
    {
        name.push(c);
        src.bump();
    }
    name
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conf(text: &str) -> LocalConf {
        parse_str(Path::new("local.conf"), text).unwrap()
    }

    fn errors(text: &str) -> Vec<String> {
        let problems = parse_str(Path::new("local.conf"), text).unwrap_err();
        problems.iter().map(Problem::headline).collect()
    }

    /// The single error of a localrc body that starts on line 2.
    fn localrc_error(body: &str) -> String {
        let errs = errors(&format!("[[local|localrc]]\n{body}\n"));
        assert_eq!(errs.len(), 1, "{errs:?}");
        errs[0].clone()
    }

    fn ops(body: &str) -> Vec<Op> {
        let parsed = conf(&format!("[[local|localrc]]\n{body}\n"));
        parsed.localrc.into_iter().map(|l| l.value).collect()
    }

    fn text(s: &str) -> Word {
        Word(vec![WordPart::Text(s.to_string())])
    }

    fn var(s: &str) -> WordPart {
        WordPart::Var(s.to_string())
    }

    fn assign(name: &str, value: Word) -> Op {
        set(name.to_string(), false, value, false)
    }

    fn resolved(body: &str, base: &[(&str, &str)]) -> Vec<(String, String)> {
        let base = base
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        conf(&format!("[[local|localrc]]\n{body}\n"))
            .resolve(&base)
            .unwrap()
    }

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn assignments_comments_and_blank_lines() {
        let parsed = conf(
            "# my stack\n\n[[local|localrc]]\n# a comment\n\nADMIN_PASSWORD=secret  # trailing\n\
             DEST=/opt/stack\nHASH=a#b\nEMPTY=\n  INDENTED=yes\n",
        );
        let lines: Vec<usize> = parsed.localrc.iter().map(|l| l.line).collect();
        assert_eq!(lines, [6, 7, 8, 9, 10]);
        let ops: Vec<Op> = parsed.localrc.into_iter().map(|l| l.value).collect();
        assert_eq!(
            ops,
            [
                assign("ADMIN_PASSWORD", text("secret")),
                assign("DEST", text("/opt/stack")),
                assign("HASH", text("a#b")),
                assign("EMPTY", Word::default()),
                assign("INDENTED", text("yes")),
            ]
        );
    }

    #[test]
    fn append_and_export() {
        assert_eq!(
            ops("ENABLED_SERVICES+=,foo\nexport OS_CLOUD=devstack\nexport PATH+=:/x"),
            [
                set("ENABLED_SERVICES".into(), true, text(",foo"), false),
                set("OS_CLOUD".into(), false, text("devstack"), true),
                set("PATH".into(), true, text(":/x"), true),
            ]
        );
    }

    #[test]
    fn quoting_and_concatenation() {
        let ops = ops(
            "A=\"a b\"'c $d'e\\ f\nB=\"q\\\"\\\\\\$x\\n\"\nC=''\nD=\"\"\nE='#'x\nF=$\nG=\"a $\"",
        );
        assert_eq!(
            ops,
            [
                assign("A", text("a bc $de f")),
                assign("B", text("q\"\\$x\\n")),
                assign("C", Word::default()),
                assign("D", Word::default()),
                assign("E", text("#x")),
                assign("F", text("$")),
                assign("G", text("a $")),
            ]
        );
    }

    #[test]
    fn variables_are_kept_for_resolve() {
        let ops = ops("URL=http://$HOST:${PORT}/x\nQ=\"$A-${B}\"\nS='$NOT'");
        let url = Word(vec![
            WordPart::Text("http://".into()),
            var("HOST"),
            WordPart::Text(":".into()),
            var("PORT"),
            WordPart::Text("/x".into()),
        ]);
        let q = Word(vec![var("A"), WordPart::Text("-".into()), var("B")]);
        assert_eq!(
            ops,
            [
                assign("URL", url.clone()),
                assign("Q", q),
                assign("S", text("$NOT"))
            ]
        );
        assert_eq!(url.to_string(), "http://${HOST}:${PORT}/x");
        assert_eq!(url.literal(), None);
        assert_eq!(text("x").literal().as_deref(), Some("x"));
    }

    #[test]
    fn tilde_means_home() {
        let home = |rest: &str| {
            let mut parts = vec![var("HOME")];
            parts.extend((!rest.is_empty()).then(|| WordPart::Text(rest.into())));
            Word(parts)
        };
        assert_eq!(
            ops("A=~\nB=~/stack\nC=\"~\"\nD=a~\nE=\\~/x"),
            [
                assign("A", home("")),
                assign("B", home("/stack")),
                assign("C", text("~")),
                assign("D", text("a~")),
                assign("E", text("~/x")),
            ]
        );
        assert!(localrc_error("A=~stack/x").starts_with("local.conf:2: `~stack` is not supported"));
    }

    #[test]
    fn double_quoted_value_over_several_lines() {
        let parsed = conf("[[local|localrc]]\nA=\"one\ntwo\"\nB=3\nC='x\ny'\n");
        let lines: Vec<usize> = parsed.localrc.iter().map(|l| l.line).collect();
        assert_eq!(lines, [2, 4, 5]);
        assert_eq!(parsed.localrc[0].value, assign("A", text("one\ntwo")));
        assert_eq!(parsed.localrc[2].value, assign("C", text("x\ny")));
    }

    #[test]
    fn backslash_newline_continues_the_line() {
        assert_eq!(
            ops("enable_service a \\\n    b\nA=x\\\ny\nB=\"p\\\nq\""),
            [
                Op::EnableService(vec!["a".into(), "b".into()]),
                assign("A", text("xy")),
                assign("B", text("pq")),
            ]
        );
    }

    #[test]
    fn service_and_plugin_commands() {
        let ops = ops(
            "enable_service heat h-api,h-eng\ndisable_service tempest\ndisable_all_services\n\
             enable_plugin heat https://opendev.org/openstack/heat\n\
             enable_plugin ironic $GIT_BASE/ironic stable/2024.1 # pinned",
        );
        assert_eq!(
            ops[0],
            Op::EnableService(vec!["heat".into(), "h-api".into(), "h-eng".into()])
        );
        assert_eq!(ops[1], Op::DisableService(vec!["tempest".into()]));
        assert_eq!(ops[2], Op::DisableAllServices);
        let heat = Op::EnablePlugin {
            name: "heat".into(),
            url: text("https://opendev.org/openstack/heat"),
            git_ref: None,
        };
        assert_eq!(ops[3], heat);
        let Op::EnablePlugin { url, git_ref, .. } = &ops[4] else {
            panic!("{:?}", ops[4]);
        };
        assert_eq!(url.to_string(), "${GIT_BASE}/ironic");
        assert_eq!(
            git_ref.as_ref().map(Word::to_string).as_deref(),
            Some("stable/2024.1")
        );
    }

    #[test]
    fn plugins_are_listed_with_their_lines() {
        let parsed = conf("[[local|localrc]]\nA=1\nenable_plugin heat https://x/heat master\n");
        let plugins = parsed.plugins();
        assert_eq!(plugins.len(), 1);
        assert_eq!((plugins[0].line, plugins[0].name.as_str()), (3, "heat"));
        assert_eq!(plugins[0].git_ref, Some(text("master")));
    }

    #[test]
    fn meta_sections_are_kept_verbatim() {
        let parsed = conf(
            "[[local|localrc]]\nA=1\n[[post-config|$NOVA_CONF]]\n[DEFAULT]\nuse_syslog = True\n\n\
             [[local|localrc]]\nB=2\n[[test-config|$TEMPEST_CONFIG]]\n[compute]\n",
        );
        let names: Vec<&str> = parsed
            .localrc
            .iter()
            .map(|l| match &l.value {
                Op::Set { name, .. } => name.as_str(),
                _ => "",
            })
            .collect();
        assert_eq!(names, ["A", "B"]);
        assert_eq!(parsed.meta.len(), 2);
        let nova = &parsed.meta[0];
        assert_eq!(
            (nova.line, nova.phase.as_str(), nova.file.as_str()),
            (3, "post-config", "$NOVA_CONF")
        );
        let body: Vec<(usize, &str)> = nova
            .body
            .iter()
            .map(|l| (l.line, l.value.as_str()))
            .collect();
        assert_eq!(body, [(4, "[DEFAULT]"), (5, "use_syslog = True"), (6, "")]);
        assert_eq!(parsed.meta[1].phase, "test-config");
    }

    #[test]
    fn a_bad_ini_body_is_an_error_with_its_line() {
        let errs =
            errors("[[local|localrc]]\nA=1\n[[post-config|$NOVA_CONF]]\nk = v\n[DEFAULT]\nnope\n");
        assert_eq!(errs.len(), 2, "{errs:?}");
        assert!(
            errs[0].starts_with("local.conf:4: [[post-config|$NOVA_CONF]]: `k = v` comes before")
        );
        assert!(errs[1].starts_with("local.conf:6: [[post-config|$NOVA_CONF]]: `nope` is not"));
    }

    #[test]
    fn every_devstack_phase_is_accepted() {
        for phase in ["post-config", "extra", "post-extra", "test-config"] {
            let parsed = conf(&format!("[[{phase}|/etc/x.conf]]\n[a]\nb = c\n"));
            assert_eq!(parsed.meta[0].phase, phase);
        }
        assert_eq!(conf("").localrc, []);
        assert_eq!(conf("# only comments\n\n").meta, []);
        assert_eq!(
            conf("\u{feff}[[local|localrc]]\r\nA=1\r\n").localrc.len(),
            1
        );
    }

    #[test]
    fn malformed_headers_are_errors() {
        let cases = [
            ("[[post-config]]", "has no `|file`"),
            ("[[|x]]", "has an empty phase"),
            ("[[extra|]]", "has an empty file"),
            ("[[local|localrc]", "malformed section header"),
            ("[[local|localrc]] # x", "malformed section header"),
            ("[[post-config|a b]]", "contains ` `"),
            ("[[post-config|a|b]]", "contains `|`"),
            ("[[post-install|x]]", "unknown phase `post-install`"),
            (
                "[[local|other]]",
                "the local phase has only the file localrc",
            ),
        ];
        for (header, why) in cases {
            let errs = errors(&format!("[[local|localrc]]\nA=1\n{header}\nbody = 1\n"));
            assert_eq!(errs.len(), 1, "{header}: {errs:?}");
            assert!(errs[0].starts_with("local.conf:3: "), "{}", errs[0]);
            assert!(errs[0].contains(why), "{header}: {}", errs[0]);
        }
    }

    #[test]
    fn text_before_the_first_header_is_an_error() {
        let errs = errors("# fine\n\nADMIN_PASSWORD=x\nDEST=/opt\n[[local|localrc]]\nA=1\n");
        assert_eq!(errs.len(), 1, "{errs:?}");
        assert!(errs[0].starts_with("local.conf:3: text before the first [[phase|file]]"));
    }

    #[test]
    fn unsupported_shell_is_an_error_with_file_and_line() {
        let cases = [
            ("A=$(hostname)", "command substitution `$(...)`"),
            ("A=$((1+2))", "arithmetic"),
            ("A=`hostname`", "backticks"),
            ("A=\"x `y`\"", "backticks"),
            ("if true; then", "`;`"),
            ("if [ x ]", "`if`: shell control flow"),
            ("for x in a b", "`for`: shell control flow"),
            ("A=x | tee", "shell operator `|`"),
            ("A=x > f", "shell operator `>`"),
            ("A=(a b)", "shell operator `(`"),
            ("foo() {", "shell operator `(`"),
            ("source ~/x", "`source` is not supported"),
            ("git clone x", "unknown command `git`"),
            ("\"A\"=1", "is not a statement"),
            ("A=\"abc", "unterminated double quote"),
            ("A='abc", "unterminated single quote"),
            ("1A=x", "`1A` is not a valid variable name"),
            ("A-B=x", "`A-B` is not a valid variable name"),
            ("A[1]=x", "arrays are not supported"),
            ("=x", "without a variable name"),
            ("A=${B:-c}", "`${NAME:-default}`"),
            ("A=${B", "unterminated `${`"),
            ("A=${1}", "bad substitution"),
            ("A=$1", "special parameter `$1`"),
            ("A=\"$?\"", "special parameter `$?`"),
            ("A=$'x'", "quoting is not supported"),
            ("A=1 B=2", "unexpected `B=2` after the assignment"),
            ("A=a b", "unexpected `b` after the assignment"),
            ("export A", "`export A` without a value"),
            ("export", "`export` needs NAME=value"),
            ("export A=1 B=2", "unexpected `B=2`"),
            ("enable_service", "needs at least one service name"),
            ("disable_service ,", "needs at least one service name"),
            ("enable_service $X", "not a literal service name"),
            ("disable_all_services now", "takes no arguments"),
            ("enable_plugin heat", "enable_plugin takes NAME URL [REF]"),
            (
                "enable_plugin a b c d",
                "enable_plugin takes NAME URL [REF]",
            ),
            ("enable_plugin a/b url", "is not a plugin name"),
            ("enable_plugin $P url", "is not a plugin name"),
        ];
        for (body, why) in cases {
            let err = localrc_error(body);
            assert!(err.starts_with("local.conf:2: "), "{body}: {err}");
            assert!(err.contains(why), "{body}: {err}");
            assert!(!err.contains('\n'), "{body}: {err}");
        }
    }

    #[test]
    fn unterminated_quote_names_the_line_it_opened_on() {
        let errs = errors("[[local|localrc]]\nA=1\nB=\"x\nC=2\nD=3\n");
        assert_eq!(errs, ["local.conf:3: unterminated double quote: the `\"` opened on this line is never closed — close it with `\"`"]);
    }

    #[test]
    fn a_quote_does_not_run_into_the_next_section() {
        let errs = errors("[[local|localrc]]\nA=\"x\n[[post-config|f]]\n[s]\nk = \"v\n");
        assert_eq!(errs.len(), 1, "{errs:?}");
        assert!(errs[0].starts_with("local.conf:2: unterminated double quote"));
    }

    #[test]
    fn a_variable_name_may_be_longer_than_a_plugin_may_hand_the_host() {
        let long = "A".repeat(crate::model::limits::MAX_NAME + 1);
        let parsed = conf(&format!("[[local|localrc]]\n{long}=1\n"));
        assert_eq!(
            parsed.resolve(&BTreeMap::new()).unwrap(),
            [(long, "1".into())]
        );
    }

    #[test]
    fn all_errors_are_reported_together() {
        let text =
            "[[local|localrc]]\nA=$(x)\nB=ok\ngit pull\n[[nope|x]]\n[[local|localrc]]\nC=`y`\n";
        let err = parse_str(Path::new("/s/local.conf"), text).unwrap_err();
        let shown: Vec<String> = err.iter().map(ToString::to_string).collect();
        let lines: Vec<&str> = shown.iter().map(|e| e.split(' ').next().unwrap()).collect();
        assert_eq!(
            lines,
            [
                "/s/local.conf:2:",
                "/s/local.conf:4:",
                "/s/local.conf:5:",
                "/s/local.conf:7:"
            ]
        );
        let headlines = err
            .to_string()
            .lines()
            .filter(|l| l.starts_with('/'))
            .count();
        assert_eq!(headlines, 4);
    }

    #[test]
    fn an_error_shows_its_line_under_the_headline() {
        let problems = parse_str(Path::new("local.conf"), "[[local|localrc]]\n  A=x|y\n");
        let shown = problems.unwrap_err().to_string();
        let lines: Vec<&str> = shown.lines().collect();
        assert!(
            lines[0].starts_with("local.conf:2: shell operator `|`"),
            "{shown}"
        );
        assert_eq!(lines[1], " --> local.conf:2:6", "{shown}");
        assert!(
            shown.contains("2 |   A=x|y\n  |      ^ shell operator"),
            "{shown}"
        );
    }

    #[test]
    fn the_caret_is_where_the_parser_stopped_or_under_the_whole_line() {
        let at = |text: &str| {
            let problems = parse_str(Path::new("l"), text).unwrap_err();
            let snippet = problems.0[0].snippet.clone().unwrap();
            (snippet.line_number(), snippet.column())
        };
        assert_eq!(at("[[local|localrc]]\nA=1 extra\n"), (2, 5));
        assert_eq!(at("[[local|localrc]]\nA=`x`\n"), (2, 3));
        assert_eq!(at("[[local|localrc]]\nA=é'x\n"), (2, 4));
        assert_eq!(at("[[local|localrc]]\n  A=$(x)\n"), (2, 3));
        assert_eq!(at("x\n[[local|localrc]]\n"), (1, 1));
    }

    #[test]
    fn parse_reads_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("local.conf");
        fs::write(&path, "[[local|localrc]]\nA=1\n").unwrap();
        assert_eq!(parse(&path).unwrap().localrc.len(), 1);
        fs::write(&path, b"[[local|localrc]]\nA=\xff\n").unwrap();
        let err = parse(&path).unwrap_err().to_string();
        assert!(
            err.ends_with("local.conf:2: not UTF-8 text — save local.conf as UTF-8"),
            "{err}"
        );
        let missing = dir.path().join("nope.conf");
        let err = parse(&missing).unwrap_err().to_string();
        assert!(
            err.ends_with("nope.conf: cannot read: No such file or directory"),
            "{err}"
        );
    }

    #[test]
    fn resolve_expands_in_order_then_base() {
        let out = resolved(
            "HOST=h1\nURL=http://$HOST:${PORT}/\nHOST=h2\nUSER_DIR=~/x\nNONE=[$UNSET]\nS='$HOST'",
            &[("PORT", "80"), ("HOST", "base"), ("HOME", "/home/op")],
        );
        assert_eq!(
            out,
            pairs(&[
                ("HOST", "h1"),
                ("URL", "http://h1:80/"),
                ("HOST", "h2"),
                ("USER_DIR", "/home/op/x"),
                ("NONE", "[]"),
                ("S", "$HOST"),
            ])
        );
    }

    #[test]
    fn resolve_appends_to_assigned_or_base() {
        let out = resolved("A+=x\nA+=y\nexport B+=2", &[("A", "0"), ("B", "1")]);
        assert_eq!(out, pairs(&[("A", "0x"), ("A", "0xy"), ("B", "12")]));
    }

    #[test]
    fn resolve_edits_enabled_services_like_devstack() {
        let base = [("ENABLED_SERVICES", "key,n-api,tempest")];
        let out = resolved(
            "enable_service heat key\ndisable_service tempest n-api\nenable_service swift,heat",
            &base,
        );
        assert_eq!(
            out,
            pairs(&[
                ("ENABLED_SERVICES", "key,n-api,tempest,heat"),
                ("ENABLED_SERVICES", "key,heat"),
                ("ENABLED_SERVICES", "key,heat,swift"),
            ])
        );
        let out = resolved("enable_service a", &[]);
        assert_eq!(out, pairs(&[("ENABLED_SERVICES", "a")]));
        let out = resolved("disable_all_services\nenable_service key", &base);
        assert_eq!(
            out,
            pairs(&[("ENABLED_SERVICES", ""), ("ENABLED_SERVICES", "key")])
        );
    }

    #[test]
    fn resolve_cleans_the_list_localrc_set_as_stack_sh_does() {
        let base = [("ENABLED_SERVICES", "key,rabbit,mysql")];
        let out = resolved("ENABLED_SERVICES+=,-rabbit,,heat", &base);
        assert_eq!(
            out,
            pairs(&[
                ("ENABLED_SERVICES", "key,rabbit,mysql,-rabbit,,heat"),
                ("ENABLED_SERVICES", "key,mysql,heat"),
            ])
        );
        let out = resolved("ENABLED_SERVICES+=,x", &[]);
        assert_eq!(
            out,
            pairs(&[("ENABLED_SERVICES", ",x"), ("ENABLED_SERVICES", "x")])
        );
        assert_eq!(resolved("A=1", &base), pairs(&[("A", "1")]));
    }

    #[test]
    fn service_list_helpers() {
        assert!(is_service_enabled(",a,b,", "b"));
        assert!(!is_service_enabled("ab,c", "a"));
        assert_eq!(enable_services("a,,a,b", &["b", "c"]), "a,b,c");
        assert_eq!(enable_services("a,b", &["-a"]), "b");
        assert_eq!(disable_services(",a,b,a,", &["a"]), "b");
        assert_eq!(disable_negated_services("-x,x,y,-z"), "y");
    }
}
