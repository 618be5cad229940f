//! Attacks with the strings the plugin hands the host: huge ones, ones
//! that would drive a terminal, and names that are not names.
//!
//! The text of an attack is `HOSTILE_TEXT` with these escapes decoded:
//! `\e` ESC, `\r`, `\n`, `\t`, `\0`, `\a` BEL, `\xNN` (a character below
//! U+0100, so `\x9b` is the C1 CSI); repeated up to `HOSTILE_SIZE` bytes
//! when that is set. `HOSTILE_COUNT` (default 1) repeats a call.
//!
//! | attack | what it does |
//! |---|---|
//! | `echo` | `echo-summary` the text |
//! | `warn` | `warn` the text, `HOSTILE_COUNT` times |
//! | `stdout` | print the text on stdout and on stderr |
//! | `die` | `die` with the text |
//! | `error` | the phase returns `Err` with the text |
//! | `setvar-big` | set `HOSTILE_VAR0`, `HOSTILE_VAR1`... (`HOSTILE_COUNT` of them) to the text |
//! | `install` | `install-package` the `,`-separated (decoded) `HOSTILE_PACKAGES` |
//! | `service` | call `HOSTILE_CALL` (`is`, `enable` or `disable`) on the `,`-separated (decoded) `HOSTILE_SERVICES` |
//! | `getvar-name` | `get-var` the decoded `HOSTILE_NAME` |
//! | `hold` | build the text and keep it, handing the host nothing (a control for memory) |

use std::hint::black_box;

use hookhost_sdk::prelude::*;

use super::arg;

/// Carry out a strings attack; None when `attack` is not one of these.
pub fn attempt(attack: &str) -> Option<std::result::Result<String, String>> {
    Some(match attack {
        "echo" => {
            echo_summary(text());
            Ok("echoed".to_string())
        }
        "warn" => {
            let text = text();
            for _ in 0..count() {
                warn(&text);
            }
            Ok(format!("warned {} times", count()))
        }
        "stdout" => {
            let text = text();
            println!("{text}");
            eprintln!("{text}");
            Ok("printed".to_string())
        }
        "die" => die(text()),
        "setvar-big" => set_vars(),
        "install" => {
            let names = list("HOSTILE_PACKAGES");
            install_package(&names)
                .map(|()| format!("installed {names:?}"))
                .map_err(|e| e.to_string())
        }
        "service" => service(&arg("HOSTILE_CALL"), &list("HOSTILE_SERVICES")),
        "getvar-name" => {
            let name = decode(&arg("HOSTILE_NAME"));
            Ok(format!("get-var {name:?}: {:?}", get_var(&name)))
        }
        "hold" => {
            // As much as `error` keeps: the text and the error's copy of it.
            let text = text();
            let copy = black_box(text.clone());
            Ok(format!(
                "held {} bytes",
                black_box(&text).len() + copy.len()
            ))
        }
        _ => return None,
    })
}

/// The phase's own result for the `error` attack: `Err` with the text.
pub fn hook_error(attack: &str) -> Result {
    match attack {
        "error" => Err(Error::msg(text())),
        // A plugin that fails with what its libc said of a denied open.
        "read-fail" => {
            let path = arg("HOSTILE_PATH");
            std::fs::read_to_string(&path)
                .map(|_| ())
                .map_err(|e| Error::msg(format!("read {path}: {e}")))
        }
        _ => Ok(()),
    }
}

fn count() -> usize {
    arg("HOSTILE_COUNT").parse().unwrap_or(1)
}

/// The attack's text (see the module).
fn text() -> String {
    let base = decode(&arg("HOSTILE_TEXT"));
    let size: usize = arg("HOSTILE_SIZE").parse().unwrap_or(0);
    if size <= base.len() {
        return base;
    }
    let unit = if base.is_empty() {
        "x".to_string()
    } else {
        base
    };
    let mut text = unit.repeat(size / unit.len() + 1);
    text.truncate(size);
    text
}

/// A `,`-separated list of decoded entries.
fn list(var: &str) -> Vec<String> {
    arg(var).split(',').map(decode).collect()
}

fn set_vars() -> std::result::Result<String, String> {
    let text = text();
    let prefix = arg("HOSTILE_VAR");
    let mut refused = Vec::new();
    for i in 0..count() {
        if let Err(e) = set_var(&format!("{prefix}{i}"), &text) {
            refused.push(e.to_string());
        }
    }
    match refused.first() {
        None => Ok(format!("set {} variables", count())),
        Some(first) => Err(format!(
            "{} of {} set-var refused: {first}",
            refused.len(),
            count()
        )),
    }
}

fn service(call: &str, names: &[String]) -> std::result::Result<String, String> {
    match call {
        "is" => Ok(format!("is_service_enabled: {}", is_service_enabled(names))),
        "enable" => {
            enable_service(names);
            Ok("enabled".to_string())
        }
        "disable" => {
            disable_service(names);
            Ok("disabled".to_string())
        }
        other => Err(format!("unknown service call {other:?}")),
    }
}

/// `text` with the escapes of the module decoded.
fn decode(text: &str) -> String {
    let mut out = String::new();
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('e') => out.push('\u{1b}'),
            Some('r') => out.push('\r'),
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some('0') => out.push('\0'),
            Some('a') => out.push('\u{7}'),
            Some('x') => {
                let hex: String = chars.by_ref().take(2).collect();
                out.push(u8::from_str_radix(&hex, 16).map_or('?', char::from));
            }
            Some(other) => {
                out.push('\\');
                out.push(other);
            }
            None => out.push('\\'),
        }
    }
    out
}
