//! How hookhost tells the operator to grant an item a plugin asked for:
//! the hookhost.toml line and the `--allow-*` flag, in the refusal before a
//! run, the denial list after it and the `grant` a plugin is handed.
//!
//! The item is the plugin's (or its manifest's) string, and the advice is
//! made to be pasted, so it is data on both sides: the TOML value is
//! serialized by the `toml` crate (one string, whatever quotes it holds),
//! and the flag's value is quoted as one shell word. An item no grant can
//! name (a command that is not a plain program name) gets "cannot be
//! granted" instead, and a flag that would grant more than the item (a
//! command's arguments) says so.

use crate::config::manifest::check_grant;
use crate::config::operator::{grant_table, table_key_of};
use crate::model::inert::inert;
use crate::model::shell;

/// How the operator grants `item` under `key` to the hook `hook` (its
/// stem or name): the hookhost.toml line, in the table that names the
/// plugin, and, where one exists, the flag. The plugin's manifest must
/// request it as well.
pub fn grant_hint(hook: &str, key: &str, item: &str) -> String {
    if let Some(why) = ungrantable(key, item) {
        return format!("cannot be granted: {why}");
    }
    let line = format!(
        "{} {} in hookhost.toml",
        grant_table(table_key_of(hook)),
        toml_line(key, item)
    );
    match flag(key, item) {
        Some(Flag::Exact(flag)) => format!("{line}, or {flag}"),
        Some(Flag::Wider(flag, more)) => format!("{line} ({flag} {more})"),
        None => line,
    }
}

/// The refusal line of one requested item no grant covers, for `plan`:
/// `  KEY ITEM: add `LINE` under [grants.NAME] in hookhost.toml or pass FLAG`.
pub(crate) fn missing_hint(table_key: &str, key: &str, item: &str) -> String {
    let shown = inert(item);
    if let Some(why) = ungrantable(key, item) {
        return format!("  {key} {shown}: cannot be granted: {why}");
    }
    let flag = match flag(key, item) {
        Some(Flag::Exact(flag)) => format!(" or pass {flag}"),
        Some(Flag::Wider(flag, more)) => format!(" ({flag} {more})"),
        None => String::new(),
    };
    format!(
        "  {key} {shown}: add `{}` under {} in hookhost.toml{flag}",
        toml_line(key, item),
        grant_table(table_key)
    )
}

/// `key = ["item"]`, the item a TOML string whatever it holds.
fn toml_line(key: &str, item: &str) -> String {
    format!("{key} = [{}]", toml::Value::String(item.to_string()))
}

/// The flag that grants an item: exactly it, or more, and what more (a
/// command line's program with any arguments; a variable's reading and
/// setting both).
enum Flag {
    Exact(String),
    Wider(String, String),
}

fn flag(key: &str, item: &str) -> Option<Flag> {
    let env = || format!("--allow-env={}", shell::word(item));
    let name = match key {
        "read" => "--allow-read",
        "write" => "--allow-write",
        "vars-read" => return Some(Flag::Wider(env(), "would let it set it too".into())),
        "vars-write" => return Some(Flag::Wider(env(), "would let it read it too".into())),
        "functions" => "--allow-function",
        "net" => "--allow-net",
        "commands" => {
            let mut words = item.split_whitespace();
            let program = words.next().unwrap_or(item);
            let flag = format!("--allow-run={}", shell::word(program));
            return Some(match words.collect::<Vec<_>>()[..] {
                [] | ["**"] => Flag::Exact(flag),
                _ => Flag::Wider(
                    flag,
                    format!("would allow {} with any arguments", shell::word(program)),
                ),
            });
        }
        _ => return None,
    };
    Some(Flag::Exact(format!("{name}={}", shell::word(item))))
}

/// Why no grant can allow `item` under `key`, when none can: an item the
/// operator's grant would be refused for, a command whose program is not
/// a plain name (a grant names a program; a shell
/// word is not one), or whose arguments a grant would read as patterns.
fn ungrantable(key: &str, item: &str) -> Option<String> {
    // What the operator could not write as a grant (a git URL holding a
    // quote, a path with `..`) no advice can grant.
    if let Err(why) = check_grant(key, item) {
        return Some(inert(&why).into_owned());
    }
    if key != "commands" {
        return None;
    }
    let mut words = item.split_whitespace();
    let program = words.next().unwrap_or_default();
    if !plain_program(program) {
        return Some(format!(
            "{} is not a plain command name (letters, digits, `.`, `_`, `+`, `-` and `/`)",
            shell::word(&inert(program))
        ));
    }
    if words.any(|w| w.contains('*')) {
        return Some(
            "a `*` in its arguments would be a pattern in a grant, matching other commands"
                .to_string(),
        );
    }
    None
}

/// A program a grant can name: `systemctl`, `/usr/bin/git`, `python3.11`.
fn plain_program(program: &str) -> bool {
    !program.is_empty()
        && !program.starts_with('-')
        && program
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._+-/".contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_grant_is_written_as_the_operator_writes_it() {
        assert_eq!(
            grant_hint("50-x", "write", "etc/x"),
            "[grants.x] write = [\"etc/x\"] in hookhost.toml, or --allow-write=etc/x"
        );
        assert_eq!(
            grant_hint("50-x", "git", "https://opendev.org/*"),
            "[grants.x] git = [\"https://opendev.org/*\"] in hookhost.toml"
        );
    }

    #[test]
    fn hostile_items_stay_one_toml_string_and_one_shell_word() {
        let hint = grant_hint("50-x", "read", "lib/$(touch /tmp/x)");
        assert!(
            hint.ends_with("--allow-read='lib/$(touch /tmp/x)'"),
            "{hint}"
        );
        let hint = grant_hint("50-x", "commands", "systemctl restart nova\",\"bash");
        let line = hint.split(" in hookhost.toml").next().unwrap();
        let table: toml::Table = toml::from_str(line.trim_start_matches("[grants.x] "))
            .expect("the advised line is TOML");
        assert_eq!(table["commands"].as_array().unwrap().len(), 1, "{hint}");
    }

    #[test]
    fn commands_that_no_grant_names_say_so() {
        let hint = grant_hint("50-x", "commands", "x;touch${IFS}/tmp/a 1");
        assert!(hint.starts_with("cannot be granted: 'x;touch"), "{hint}");
        assert!(!hint.contains("--allow-run"), "{hint}");
        let hint = grant_hint("50-x", "commands", "sh -c id");
        assert!(
            hint.ends_with("(--allow-run=sh would allow sh with any arguments)"),
            "{hint}"
        );
        assert!(grant_hint("50-x", "commands", "true").ends_with("or --allow-run=true"));
    }

    #[test]
    fn items_no_grant_can_hold_say_so() {
        let hint = grant_hint("50-x", "git", "https://e/x\",\"https://github.com/*");
        assert!(hint.starts_with("cannot be granted: "), "{hint}");
        let hint = grant_hint("50-x", "read", "lib/\u{1b}[2J");
        assert!(hint.starts_with("cannot be granted: "), "{hint}");
        assert!(!hint.contains('\u{1b}'), "{hint}");
    }

    #[test]
    fn a_numbered_name_is_advised_by_its_stem() {
        assert!(grant_hint("50-20-nova", "write", "etc").starts_with("[grants.50-20-nova]"));
    }
}
