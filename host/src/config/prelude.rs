//! The DevStack prelude: what a DevStack tree's `stack.sh` (`unstack.sh`,
//! `clean.sh`) sourced and set before it sourced its first hook, so that the
//! tree's own hooks find the function library, `stackrc`'s variables and the
//! `lib/*` files they were written against.
//!
//! The list is derived from the entry script itself, statement by statement
//! (top-level statements start at column 0; compound ones run to their
//! column-0 `fi`/`done`/`esac`/`}`; here-documents and continued lines are
//! part of their statement), up to the first `run_phase source` or the
//! extras.d loop. A whitelist keeps what only defines things: `source` of a
//! file of the tree, plain assignments (command substitutions only of
//! read-only commands), a few pure calls (`GetDistro`,
//! `disable_negated_services`...), the local.conf extraction into
//! `.localrc.auto`, `if`/`for` blocks made only of those, and function
//! definitions hookhost does not own. Everything else (sudo, package
//! installs, `mkdir /opt/stack`, the root and distribution checks that
//! `exit`/`die`, screen) is skipped and listed in `plan`.
//!
//! The kept statements are written as a *padded* copy of the script (every
//! other line blanked), so `$LINENO` and messages name the script's own
//! lines. A `run_phase override_defaults` line splits the prelude in two:
//! hookhost's `override_defaults` phase runs between the parts, as DevStack
//! ran it. `hookhost.toml` may replace the derived list:
//! `[devstack] prelude = ["functions", "stackrc", ...]`.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::bail;
use serde::Deserialize;
use serde_json::json;

use crate::config::localconf::{LocalConf, Op};
use crate::model::phases::Entry;

/// Where hookhost writes the padded scripts, under its state directory.
pub const DIR: &str = "prelude";

/// `[devstack]` of hookhost.toml.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct DevstackConfig {
    /// Treat `--top` as a DevStack tree (or not) whatever it holds.
    pub tree: Option<bool>,
    /// The files to source, relative to the tree, instead of the derived list.
    pub prelude: Option<Vec<String>>,
}

/// Function names hookhost keeps its own definition of (stack.sh defined
/// them itself; hookhost's never prompt and print to the progress).
const OWNED_FUNCTIONS: [&str; 3] = ["echo_summary", "echo_nolog", "read_password"];

/// Calls that only read the system or set variables.
const PURE_CALLS: [&str; 6] = [
    "GetDistro",
    "GetOSVersion",
    "export_proxy_variables",
    "disable_negated_services",
    "check_rpc_backend",
    "umask",
];

/// Commands whose output a kept assignment may use.
const READ_ONLY_COMMANDS: [&str; 8] = [
    "trueorfalse",
    "date",
    "hostname",
    "whoami",
    "id",
    "uname",
    "cd",
    "dirname",
];

/// Paths whose origin `plan` shows.
const SHOWN_VARS: [&str; 6] = [
    "DEST",
    "DATA_DIR",
    "SERVICE_DIR",
    "LOGDIR",
    "FILES",
    "VIRT_DRIVER",
];

/// One statement of the prelude (or one skipped), by its first line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// 1-based line in the entry script (0 for hookhost.toml's list).
    pub line: usize,
    pub text: String,
}

/// A statement of the entry script that the prelude does not run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    pub step: Step,
    pub why: &'static str,
}

/// One part of the prelude: the padded script and what it runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Part {
    pub steps: Vec<Step>,
    pub padded: String,
    /// Files of the tree (relative to it) sourced after `padded`, in order:
    /// hookhost.toml's list. The session side writes the `source` lines,
    /// quoting each path.
    pub sources: Vec<String>,
}

/// Where a variable's value comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    pub name: String,
    /// The value, when it is a literal (or built from literals) statically.
    pub value: Option<String>,
    /// `local.conf:12`, `stackrc:15`, `environment`, `set at run time`.
    pub from: String,
}

/// What a DevStack tree's session sources before its hooks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prelude {
    /// `stack.sh` (the entry script it was derived from) or `hookhost.toml`.
    pub script: String,
    /// One part, or two with `override_defaults` between them.
    pub parts: Vec<Part>,
    /// The entry script runs `run_phase override_defaults` between the parts.
    pub split: bool,
    /// stack.sh's steps after `run_phase source` that define what later
    /// phases use (passwords, the database URL, `save_stackenv`): run after
    /// the hooks' `source`, before `stack pre-install`. None for unstack.sh,
    /// clean.sh and a configured list.
    pub post_source: Option<Part>,
    pub skipped: Vec<Skipped>,
    /// hookhost writes `.localrc.auto` from local.conf before the prelude
    /// (the script does not: unstack.sh, clean.sh, a configured list).
    pub extract_localrc: bool,
    pub origins: Vec<Origin>,
}

/// Whether `top` is a DevStack tree: it has `functions` and `stackrc`, or
/// hookhost.toml says so.
pub fn is_tree(top: &Path, config: &DevstackConfig) -> bool {
    config
        .tree
        .unwrap_or_else(|| top.join("functions").is_file() && top.join("stackrc").is_file())
}

/// The prelude of `entry` for the tree at `top`, or None when `top` is not
/// a DevStack tree.
pub fn plan(
    top: &Path,
    entry: Entry,
    config: &DevstackConfig,
    local_conf: Option<&LocalConf>,
) -> anyhow::Result<Option<Prelude>> {
    if !is_tree(top, config) {
        return Ok(None);
    }
    let mut prelude = match &config.prelude {
        Some(list) => configured(top, list)?,
        None => derived(top, entry)?,
    };
    prelude.origins = origins(top, local_conf);
    Ok(Some(prelude))
}

/// The prelude from hookhost.toml's list: the environment stack.sh set up,
/// then each file sourced in order (override_defaults runs after it all).
fn configured(top: &Path, list: &[String]) -> anyhow::Result<Prelude> {
    let mut steps = Vec::new();
    for entry in list {
        check_entry(top, entry)?;
        let text = format!("source $TOP_DIR/{entry}");
        steps.push(Step { line: 0, text });
    }
    let part = Part {
        steps,
        padded: ENVIRONMENT.to_string(),
        sources: list.to_vec(),
    };
    Ok(Prelude {
        script: crate::config::stack::OPERATOR_CONFIG.to_string(),
        parts: vec![part],
        split: false,
        post_source: None,
        skipped: Vec::new(),
        extract_localrc: top.join("inc/meta-config").is_file(),
        origins: Vec::new(),
    })
}

/// What stack.sh set up before sourcing anything (hookhost.toml's list
/// gets it too): C locale, no GREP_OPTIONS, umask 022.
const ENVIRONMENT: &str =
    "builtin unset GREP_OPTIONS LANG LANGUAGE; LC_ALL=C; builtin export LC_ALL; builtin umask 022\n";

fn check_entry(top: &Path, entry: &str) -> anyhow::Result<()> {
    let path = Path::new(entry);
    let inside = path.is_relative()
        && path
            .components()
            .all(|c| matches!(c, std::path::Component::Normal(_)));
    if !inside {
        bail!(
            "{}: [devstack] prelude: `{entry}` must be a path inside the tree, relative to it",
            top.join(crate::config::stack::OPERATOR_CONFIG).display()
        );
    }
    if !top.join(path).is_file() {
        bail!(
            "{}: [devstack] prelude: {} does not exist; list files of the tree, e.g. \"functions\", \"stackrc\"",
            top.join(crate::config::stack::OPERATOR_CONFIG).display(),
            top.join(path).display()
        );
    }
    Ok(())
}

/// The prelude derived from the entry script of the tree.
fn derived(top: &Path, entry: Entry) -> anyhow::Result<Prelude> {
    let script = format!("{}.sh", entry.name());
    let path = top.join(&script);
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) => bail!(
            "{}: cannot read the DevStack entry script ({e}); this looks like a DevStack tree \
             (functions and stackrc), so hookhost derives the prelude from it; list the files \
             to source in hookhost.toml ([devstack] prelude = [...]) or set [devstack] tree = false",
            path.display()
        ),
    };
    let lines: Vec<&str> = text.lines().collect();
    let mut builder = Builder::new(lines.len());
    let mut after_source = false;
    for statement in statements(&lines) {
        let text = &lines[statement.first..=statement.last];
        if after_source {
            match classify_post_source(text) {
                Class::Stop => break,
                Class::Split => {
                    builder.keep(&lines, &statement);
                    break;
                }
                Class::Keep => builder.keep(&lines, &statement),
                Class::Skip(why) => builder.skip(&lines, &statement, why),
            }
            continue;
        }
        match classify(text) {
            // stack.sh goes on to define what later phases use (after
            // `run_phase source`, or the extras.d loop of older trees).
            Class::Stop if entry == Entry::Stack => {
                builder.start_post_source();
                after_source = true;
            }
            Class::Stop => break,
            Class::Split => builder.split(),
            Class::Keep => builder.keep(&lines, &statement),
            Class::Skip(why) => builder.skip(&lines, &statement, why),
        }
    }
    let extract_localrc = !builder.has_localrc && top.join("inc/meta-config").is_file();
    Ok(builder.finish(script, extract_localrc))
}

/// Collects the parts while the statements are classified.
struct Builder {
    parts: Vec<(Vec<Step>, Vec<String>)>,
    skipped: Vec<Skipped>,
    len: usize,
    has_localrc: bool,
    /// The last of `parts` is the post-source step.
    post_source: bool,
}

impl Builder {
    fn new(len: usize) -> Builder {
        Builder {
            parts: vec![(Vec::new(), vec![String::new(); len])],
            skipped: Vec::new(),
            len,
            has_localrc: false,
            post_source: false,
        }
    }

    fn start_post_source(&mut self) {
        self.parts.push((Vec::new(), vec![String::new(); self.len]));
        self.post_source = true;
    }

    fn split(&mut self) {
        if self.parts.len() == 1 {
            self.parts.push((Vec::new(), vec![String::new(); self.len]));
        }
    }

    fn keep(&mut self, lines: &[&str], statement: &Statement) {
        let (steps, padded) = self.parts.last_mut().expect("one part at least");
        steps.push(step(lines, statement));
        for i in statement.first..=statement.last {
            padded[i] = lines[i].to_string();
            self.has_localrc |= lines[i].contains(".localrc.auto");
        }
    }

    fn skip(&mut self, lines: &[&str], statement: &Statement, why: &'static str) {
        self.skipped.push(Skipped {
            step: step(lines, statement),
            why,
        });
    }

    fn finish(self, script: String, extract_localrc: bool) -> Prelude {
        let mut parts: Vec<Part> = self
            .parts
            .into_iter()
            .map(|(steps, padded)| Part {
                steps,
                padded: padded.join("\n") + "\n",
                sources: Vec::new(),
            })
            .collect();
        let post_source = match self.post_source {
            true => parts.pop().filter(|part| !part.steps.is_empty()),
            false => None,
        };
        Prelude {
            script,
            split: parts.len() == 2,
            parts,
            post_source,
            skipped: self.skipped,
            extract_localrc,
            origins: Vec::new(),
        }
    }
}

fn step(lines: &[&str], statement: &Statement) -> Step {
    Step {
        line: statement.first + 1,
        text: lines[statement.first].trim().to_string(),
    }
}

/// A top-level statement: its first and last line (0-based, inclusive).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Statement {
    first: usize,
    last: usize,
}

/// The top-level statements of a script, comments and blank lines aside.
fn statements(lines: &[&str]) -> Vec<Statement> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        let trimmed = line.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            i += 1;
            continue;
        }
        let last = match opens_compound(line) {
            Some(closer) => compound_end(lines, i, closer),
            None => simple_end(lines, i),
        };
        out.push(Statement { first: i, last });
        i = last + 1;
    }
    out
}

/// The column-0 word that ends the compound statement `line` starts, when
/// it starts one that does not end on the same line.
fn opens_compound(line: &str) -> Option<&'static str> {
    let word = first_word(line);
    let closer = match word {
        "if" => "fi",
        "for" | "while" | "until" | "select" => "done",
        "case" => "esac",
        "function" | "{" => "}",
        _ if word.ends_with("()") || line.contains("() {") || line.contains("(){") => "}",
        _ => return None,
    };
    let code = strip_comment(line).trim_end();
    let closed = code.ends_with(&format!("; {closer}"))
        || code.ends_with(&format!(";{closer}"))
        || (closer == "}" && code.ends_with('}') && code.contains('{'));
    (!closed).then_some(closer)
}

/// The last line of the compound statement starting at `first`: the first
/// later line that is `closer` at column 0 (here-documents skipped).
fn compound_end(lines: &[&str], first: usize, closer: &str) -> usize {
    let mut i = first;
    while i < lines.len() {
        i = skip_heredoc(lines, i);
        if i > first && i < lines.len() {
            let line = lines[i];
            let word = first_word(line);
            if !line.starts_with([' ', '\t']) && word.trim_end_matches(';') == closer {
                return i;
            }
        }
        i += 1;
    }
    lines.len() - 1
}

/// The last line of the simple statement starting at `first`: continued
/// by a trailing `\`, `|`, `||` or `&&`, and including a here-document.
fn simple_end(lines: &[&str], first: usize) -> usize {
    let mut i = first;
    loop {
        i = skip_heredoc(lines, i);
        let code = strip_comment(lines[i.min(lines.len() - 1)])
            .trim_end()
            .to_string();
        let continued = code.ends_with('\\') || code.ends_with('|') || code.ends_with("&&");
        if !continued || i + 1 >= lines.len() {
            return i.min(lines.len() - 1);
        }
        i += 1;
    }
}

/// When line `i` starts a here-document, the line of its delimiter (else `i`).
fn skip_heredoc(lines: &[&str], i: usize) -> usize {
    let Some(delimiter) = heredoc_delimiter(lines[i]) else {
        return i;
    };
    let strip_tabs = lines[i].contains("<<-");
    for (j, line) in lines.iter().enumerate().skip(i + 1) {
        let candidate = if strip_tabs {
            line.trim_start_matches('\t')
        } else {
            line
        };
        if candidate == delimiter {
            return j;
        }
    }
    lines.len() - 1
}

/// The delimiter of a here-document the line opens (`<<EOF`, `<<-'EOF'`).
fn heredoc_delimiter(line: &str) -> Option<String> {
    let code = strip_comment(line);
    let mut rest = code;
    while let Some(at) = rest.find("<<") {
        let after = &rest[at + 2..];
        if let Some(here_string) = after.strip_prefix('<') {
            rest = here_string;
            continue;
        }
        let after = after.strip_prefix('-').unwrap_or(after).trim_start();
        let word: String = after
            .trim_start_matches(['\'', '"'])
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        if !word.is_empty() {
            return Some(word);
        }
        rest = after;
    }
    None
}

/// The line without a trailing `# comment` (a `#` after a blank, outside
/// quotes).
fn strip_comment(line: &str) -> &str {
    let mut quote = None;
    let mut previous = ' ';
    for (at, c) in line.char_indices() {
        match (quote, c) {
            (None, '\'' | '"') => quote = Some(c),
            (Some(q), c) if c == q => quote = None,
            (None, '#') if previous.is_whitespace() => return &line[..at],
            _ => {}
        }
        previous = c;
    }
    line
}

fn first_word(line: &str) -> &str {
    line.split_whitespace().next().unwrap_or("")
}

/// What the prelude does with a statement.
#[derive(Debug, PartialEq, Eq)]
enum Class {
    Keep,
    Skip(&'static str),
    /// `run_phase override_defaults`: the parts' boundary.
    Split,
    /// `run_phase source` or the extras.d loop: the prelude ends before it.
    Stop,
}

fn classify(lines: &[&str]) -> Class {
    let first = lines[0].trim();
    let word = first_word(first);
    if word == "run_phase" {
        return match first.split_whitespace().nth(1) {
            Some("override_defaults") => Class::Split,
            Some("source") => Class::Stop,
            _ => Class::Skip("runs hooks"),
        };
    }
    if word == "for" && first.contains("extras.d/") {
        return Class::Stop;
    }
    if lines
        .iter()
        .any(|l| l.contains("get_meta_section") || l.contains(".localrc.auto"))
    {
        return Class::Keep;
    }
    if let Some(name) = function_name(first) {
        return match OWNED_FUNCTIONS.contains(&name) {
            true => Class::Skip("hookhost provides its own"),
            false => Class::Keep,
        };
    }
    if lines.len() == 1 || matches!(word, "if" | "for") {
        if let Some(class) = classify_block(lines) {
            return class;
        }
    }
    Class::Skip(skip_reason(lines))
}

/// Calls stack.sh makes after `run_phase source` that only set variables
/// (hookhost's `read_password` never prompts and writes only its state).
const POST_SOURCE_CALLS: [&str; 3] = ["read_password", "initialize_database_backends", "echo"];

/// What the post-source step does with a statement of stack.sh after
/// `run_phase source`: `save_stackenv` is its last statement (`Split`:
/// kept, then the step ends); package installs and other phases end it.
fn classify_post_source(lines: &[&str]) -> Class {
    let first = lines[0].trim();
    let word = first_word(first);
    if word == "save_stackenv" {
        return Class::Split;
    }
    let extras_loop = word == "for" && first.contains("extras.d/");
    if word == "run_phase" || extras_loop || lines.iter().any(|l| l.contains("install_prereqs")) {
        return Class::Stop;
    }
    if let Some(name) = function_name(first) {
        return match OWNED_FUNCTIONS.contains(&name) {
            true => Class::Skip("hookhost provides its own"),
            false => Class::Keep,
        };
    }
    let chain_keeps = |line: &&str| {
        let code = strip_comment(line).trim();
        code.split(';')
            .flat_map(|part| part.split("&&"))
            .flat_map(|part| part.split("||"))
            .all(|command| {
                let command = command.trim();
                let word = first_word(command);
                keeps(command) || POST_SOURCE_CALLS.contains(&word) || word.starts_with('[')
            })
    };
    let simple = lines.len() == 1 || matches!(word, "if" | "for");
    if simple
        && !lines.iter().any(|l| l.trim_end().ends_with('\\'))
        && lines.iter().all(chain_keeps)
    {
        return Class::Keep;
    }
    Class::Skip(skip_reason(lines))
}

/// A function definition's name.
fn function_name(line: &str) -> Option<&str> {
    if let Some(rest) = line.strip_prefix("function ") {
        let name = rest.split_whitespace().next()?;
        return Some(name.trim_end_matches("()").trim_end_matches('{'));
    }
    let (name, _) = line.split_once("()")?;
    let name = name.trim();
    let valid = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | ':'));
    valid.then_some(name)
}

/// Keep a one-line statement, or an `if`/`for` block, when every command
/// in it only defines things; None when something in it does more.
fn classify_block(lines: &[&str]) -> Option<Class> {
    if lines.iter().any(|l| l.trim_end().ends_with('\\')) {
        return None;
    }
    for line in lines {
        let code = strip_comment(line).trim();
        for part in code.split(';') {
            if !keeps(part.trim()) {
                return None;
            }
        }
    }
    Some(Class::Keep)
}

/// Whether one command (or block keyword) only defines things.
fn keeps(command: &str) -> bool {
    let command = command.trim();
    let (keyword, rest) = match command.split_once(char::is_whitespace) {
        Some((k, r)) => (k, r.trim()),
        None => (command, ""),
    };
    match keyword {
        "" | "then" | "else" | "fi" | "do" | "done" => return rest.is_empty() || keeps(rest),
        "if" | "elif" | "while" => return condition_is_pure(rest),
        "for" => return substitutions_are_read_only(rest),
        _ => {}
    }
    if keyword == "source" || keyword == "." {
        return sources_tree_file(rest);
    }
    if PURE_CALLS.contains(&keyword) {
        return !command.contains("$(") && !command.contains('`');
    }
    if matches!(keyword, "export" | "unset" | "declare" | "local") || is_assignment(command) {
        return !command.starts_with("TOP_DIR=") && substitutions_are_read_only(command);
    }
    false
}

/// A test (`[[ ]]`, `[ ]`) or a call of a function that only answers
/// (`is_service_enabled`, `is_ubuntu`...), with read-only substitutions.
fn condition_is_pure(condition: &str) -> bool {
    let condition = condition.trim_start_matches('!').trim();
    let word = first_word(condition);
    let pure = word.starts_with('[') || word.starts_with("is_") || word == "type";
    pure && !condition.contains("$(") && !condition.contains('`')
}

/// `source $TOP_DIR/...` of a file of the tree (not its tools/).
fn sources_tree_file(path: &str) -> bool {
    let path = path.trim_matches('"');
    let tree = ["$TOP_DIR/", "${TOP_DIR}/", "$RC_DIR/", "${RC_DIR}/"];
    tree.iter().any(|p| path.starts_with(p)) && !path.contains("/tools/")
}

fn is_assignment(command: &str) -> bool {
    let name: String = command
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect();
    let rest = &command[name.len()..];
    !name.is_empty()
        && !name.starts_with(|c: char| c.is_ascii_digit())
        && (rest.starts_with('=') || rest.starts_with("+=") || rest.starts_with('['))
}

/// Every `$(...)` or backtick substitution in `text` runs a read-only
/// command.
fn substitutions_are_read_only(text: &str) -> bool {
    let mut commands = Vec::new();
    for (at, _) in text.match_indices("$(") {
        if !text[at + 2..].starts_with('(') {
            commands.push(first_word(&text[at + 2..]));
        }
    }
    for (i, piece) in text.split('`').enumerate() {
        if i % 2 == 1 {
            commands.push(first_word(piece));
        }
    }
    commands
        .iter()
        .all(|c| READ_ONLY_COMMANDS.contains(&c.trim_end_matches(')')))
}

/// Why a statement is not run, for `plan`.
fn skip_reason(lines: &[&str]) -> &'static str {
    let text = lines.join("\n");
    let has = |word: &str| {
        text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-'))
            .any(|w| w == word)
    };
    if has("EUID") {
        return "check: DevStack refused to run as root here";
    }
    if has("DISTRO") && has("die") {
        return "check: stops on a distribution DevStack did not test, unless FORCE=yes";
    }
    if has("exit") || has("die") {
        return "check: could stop the script";
    }
    if has("fetch_plugins") {
        return "hookhost fetches external plugins itself";
    }
    let effects = [
        "sudo",
        "install_package",
        "apt_get",
        "yum_install",
        "mkdir",
        "rm",
        "screen",
        "exec",
        "trap",
        "safe_chown",
        "safe_chmod",
        "mktemp",
        "ln",
        "find",
        "tee",
    ];
    if effects.iter().any(|w| has(w)) {
        return "side effect on the system";
    }
    if text.starts_with("TOP_DIR=") {
        return "hookhost sets TOP_DIR";
    }
    "not needed before the hooks"
}

/// Where DEST, DATA_DIR and the other shown paths come from: the last
/// assignment in local.conf's localrc, else stackrc's first top-level
/// assignment (stackrc sets DEST and DATA_DIR unconditionally *before* it
/// sources localrc, so local.conf's DEST does not move DATA_DIR: DevStack's
/// own behaviour), else the environment.
pub fn origins(top: &Path, local_conf: Option<&LocalConf>) -> Vec<Origin> {
    let stackrc = std::fs::read_to_string(top.join("stackrc")).unwrap_or_default();
    // stackrc's assignments before the line that sources localrc see only
    // stackrc's own values; later ones see local.conf's too.
    let localrc_at = stackrc
        .lines()
        .position(|l| l.contains("localrc") && l.trim_start().starts_with("source"))
        .map_or(0, |i| i + 1);
    let top_dir = ("TOP_DIR".to_string(), top.display().to_string());
    let mut known = vec![top_dir.clone()];
    let mut stackrc_only = vec![top_dir];
    let mut out = Vec::new();
    for name in SHOWN_VARS {
        let from_stackrc = stackrc_assignment(&stackrc, name, localrc_at, &stackrc_only, &known);
        if let Some(value) = from_stackrc.as_ref().and_then(|o| o.value.clone()) {
            stackrc_only.push((name.to_string(), value));
        }
        let origin = local_assignment(local_conf, name, &known)
            .or(from_stackrc)
            .unwrap_or_else(|| Origin {
                name: name.to_string(),
                value: None,
                from: "environment, or set at run time".to_string(),
            });
        if let Some(value) = &origin.value {
            known.push((name.to_string(), value.clone()));
        }
        out.push(origin);
    }
    out
}

fn local_assignment(
    local_conf: Option<&LocalConf>,
    name: &str,
    known: &[(String, String)],
) -> Option<Origin> {
    let conf = local_conf?;
    let (line, value) = conf.localrc.iter().rev().find_map(|l| match &l.value {
        Op::Set { name: n, value, .. } if n == name => Some((l.line, value)),
        _ => None,
    })?;
    let value = value.expand(|v| lookup(known, v).unwrap_or_default());
    Some(Origin {
        name: name.to_string(),
        value: Some(value),
        from: format!("local.conf:{line}"),
    })
}

fn stackrc_assignment(
    stackrc: &str,
    name: &str,
    localrc_at: usize,
    before: &[(String, String)],
    after: &[(String, String)],
) -> Option<Origin> {
    let (line, text) = stackrc.lines().enumerate().find_map(|(i, l)| {
        let rest = l.strip_prefix("export ").unwrap_or(l);
        rest.strip_prefix(name)?
            .strip_prefix('=')
            .map(|v| (i + 1, v))
    })?;
    let known = if line < localrc_at { before } else { after };
    Some(Origin {
        name: name.to_string(),
        value: expand_simple(text.trim().trim_matches('"'), known),
        from: format!("stackrc:{line}"),
    })
}

/// `$NAME`, `${NAME}` and `${NAME:-default}` from `known`; None when the
/// value needs anything else (a command, an unknown variable).
fn expand_simple(text: &str, known: &[(String, String)]) -> Option<String> {
    if text.contains("$(") || text.contains('`') {
        return None;
    }
    let mut out = String::new();
    let mut rest = text;
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        let (inner, next) = match after.strip_prefix('{') {
            Some(body) => {
                let end = body.find('}')?;
                (&body[..end], &body[end + 1..])
            }
            None => {
                let end = after
                    .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                    .unwrap_or(after.len());
                (&after[..end], &after[end..])
            }
        };
        let (var, default) = match inner.split_once(":-") {
            Some((v, d)) => (v, Some(d)),
            None => (inner, None),
        };
        match (lookup(known, var), default) {
            (Some(value), _) => out.push_str(&value),
            (None, Some(default)) => out.push_str(&expand_simple(default, known)?),
            (None, None) => return None,
        }
        rest = next;
    }
    out.push_str(rest);
    Some(out)
}

fn lookup(known: &[(String, String)], name: &str) -> Option<String> {
    known
        .iter()
        .rev()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.clone())
}

impl Prelude {
    /// The value `plan` shows for a variable, when known statically.
    pub fn value_of(&self, name: &str) -> Option<&str> {
        self.origins
            .iter()
            .find(|o| o.name == name)
            .and_then(|o| o.value.as_deref())
    }

    /// The padded script of each part, where the session sources it from:
    /// `<state>/prelude/<n>/<script>`.
    pub fn part_path(&self, state_dir: &Path, part: usize) -> PathBuf {
        state_dir
            .join(DIR)
            .join((part + 1).to_string())
            .join(&self.script)
    }

    /// The prelude as people read it, for `plan`.
    pub fn render(&self, out: &mut String) {
        let _ = writeln!(
            out,
            "\nprelude (DevStack tree; sourced before the hooks, as {} did):",
            self.script
        );
        if self.extract_localrc {
            out.push_str("  local.conf [[local|localrc]] -> .localrc.auto (written by hookhost)\n");
        }
        for (i, part) in self.parts.iter().enumerate() {
            if i == 1 {
                out.push_str("  -- override_defaults phase --\n");
            }
            for step in &part.steps {
                let _ = writeln!(out, "  {}", self.place(step));
            }
        }
        if let Some(post) = &self.post_source {
            out.push_str("  -- source phase; then, before `stack pre-install` --\n");
            for step in &post.steps {
                let _ = writeln!(out, "  {}", self.place(step));
            }
        }
        if !self.skipped.is_empty() {
            let _ = writeln!(out, "  not run ({} steps):", self.skipped.len());
            for skipped in &self.skipped {
                let _ = writeln!(out, "    {}  ({})", self.place(&skipped.step), skipped.why);
            }
        }
        out.push_str("  variables:\n");
        for origin in &self.origins {
            let value = origin.value.as_deref().unwrap_or("?");
            let _ = writeln!(out, "    {:<12} {value}  ({})", origin.name, origin.from);
        }
    }

    fn place(&self, step: &Step) -> String {
        match step.line {
            0 => format!("{}: {}", self.script, step.text),
            line => format!("{}:{line}  {}", self.script, step.text),
        }
    }

    /// The prelude as JSON, for `plan --json`.
    pub fn to_json(&self) -> serde_json::Value {
        let steps = |part: &Part| {
            part.steps
                .iter()
                .map(|s| json!({"line": s.line, "text": s.text}))
                .collect::<Vec<_>>()
        };
        json!({
            "script": self.script,
            "extract_localrc": self.extract_localrc,
            "parts": self.parts.iter().map(steps).collect::<Vec<_>>(),
            "override_defaults_between_parts": self.split,
            "post_source": self.post_source.as_ref().map(steps),
            "skipped": self.skipped.iter().map(|s| json!({
                "line": s.step.line, "text": s.step.text, "why": s.why,
            })).collect::<Vec<_>>(),
            "variables": self.origins.iter().map(|o| json!({
                "name": o.name, "value": o.value, "from": o.from,
            })).collect::<Vec<_>>(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kept(script: &str) -> Vec<String> {
        let lines: Vec<&str> = script.lines().collect();
        let mut out = Vec::new();
        for s in statements(&lines) {
            match classify(&lines[s.first..=s.last]) {
                Class::Keep => out.push(lines[s.first].trim().to_string()),
                Class::Stop => break,
                _ => {}
            }
        }
        out
    }

    #[test]
    fn a_column_zero_heredoc_inside_an_if_is_not_top_level() {
        let script = "if is_fedora; then\n    cat <<EOF | sudo tee /x\nenabled=0\nEOF\nfi\nA=1\n";
        assert_eq!(kept(script), ["A=1"]);
    }

    #[test]
    fn sources_of_the_tree_and_guarded_sources_are_kept() {
        let script = "source $TOP_DIR/functions\nsource $TOP_DIR/tools/x.sh\n\
                      if is_service_enabled n-api; then\n    source $TOP_DIR/lib/nova\nfi\n\
                      sudo mkdir -p $DEST\nX=$(mktemp)\nY=$(trueorfalse True Y)\n";
        assert_eq!(
            kept(script),
            [
                "source $TOP_DIR/functions",
                "if is_service_enabled n-api; then",
                "Y=$(trueorfalse True Y)"
            ]
        );
    }

    #[test]
    fn the_prelude_stops_at_run_phase_source_and_the_extras_loop() {
        assert_eq!(kept("A=1\nrun_phase source\nB=2\n"), ["A=1"]);
        let loop_ = "A=1\nfor i in $TOP_DIR/extras.d/*.sh; do\n    source $i source\ndone\nB=2\n";
        assert_eq!(kept(loop_), ["A=1"]);
    }

    #[test]
    fn continued_lines_belong_to_their_statement() {
        let script = "sudo grep -q x /etc/sudoers ||\n    echo y | sudo tee -a /etc/sudoers\nA=1\n";
        assert_eq!(kept(script), ["A=1"]);
    }

    #[test]
    fn stack_sh_after_run_phase_source_gives_the_post_source_step() {
        let dir = tempfile::tempdir().unwrap();
        let script = "source $TOP_DIR/functions\nrun_phase source\n\
                      function read_password {\n    read -e $1\n}\n\
                      initialize_database_backends && echo \"Using $DATABASE_TYPE\" || echo none\n\
                      if is_service_enabled key; then\n    read_password ADMIN_PASSWORD \"X\"\nfi\n\
                      sudo mkdir -p /opt\nsave_stackenv $LINENO\nA=after\n";
        std::fs::write(dir.path().join("stack.sh"), script).unwrap();
        let prelude = derived(dir.path(), Entry::Stack).unwrap();
        let post = prelude.post_source.expect("a post-source step");
        let kept: Vec<usize> = post.steps.iter().map(|s| s.line).collect();
        assert_eq!(kept, [6, 7, 11]);
        assert!(post
            .padded
            .lines()
            .nth(5)
            .unwrap()
            .starts_with("initialize_database_backends"));
        assert_eq!(post.padded.lines().nth(1), Some(""));
        assert!(prelude.skipped.iter().any(|s| s.step.line == 3));
        assert!(prelude.skipped.iter().any(|s| s.step.line == 10));
        assert!(!post.padded.contains("A=after"));
        assert_eq!(prelude.parts.len(), 1);
        std::fs::write(dir.path().join("unstack.sh"), script).unwrap();
        assert_eq!(
            derived(dir.path(), Entry::Unstack).unwrap().post_source,
            None
        );
        // An older stack.sh: inline extras.d loops instead of run_phase.
        let older = "source $TOP_DIR/functions\n\
                     for i in $TOP_DIR/extras.d/*.sh; do\n    [[ -r $i ]] && source $i source\ndone\n\
                     read_password SERVICE_TOKEN \"X\"\n\
                     for i in $TOP_DIR/extras.d/*.sh; do\n    [[ -r $i ]] && source $i stack pre-install\ndone\n\
                     B=later\n";
        std::fs::write(dir.path().join("stack.sh"), older).unwrap();
        let prelude = derived(dir.path(), Entry::Stack).unwrap();
        let post = prelude.post_source.expect("a post-source step");
        let kept: Vec<usize> = post.steps.iter().map(|s| s.line).collect();
        assert_eq!(kept, [5]);
        assert!(!post.padded.contains("B=later"));
        // Nothing kept after the hooks' source: no step.
        let bare = "source $TOP_DIR/functions\nrun_phase source\nsudo mkdir /opt\n";
        std::fs::write(dir.path().join("stack.sh"), bare).unwrap();
        assert_eq!(derived(dir.path(), Entry::Stack).unwrap().post_source, None);
    }

    #[test]
    fn hookhost_owned_functions_are_skipped_others_kept() {
        let script =
            "function echo_summary {\n    echo $@ >&6\n}\nfunction spinner {\n    sleep 1\n}\n";
        assert_eq!(kept(script), ["function spinner {"]);
    }

    #[test]
    fn stackrc_defaults_give_devstack_s_data_dir_quirk() {
        let known = vec![("DEST".to_string(), "/opt/stack".to_string())];
        assert_eq!(
            expand_simple("${DEST}/data", &known).as_deref(),
            Some("/opt/stack/data")
        );
        assert_eq!(expand_simple("$(x)", &known), None);
        assert_eq!(
            expand_simple("${LOGDIR:-$DEST/logs}", &known).as_deref(),
            Some("/opt/stack/logs")
        );
    }
}
