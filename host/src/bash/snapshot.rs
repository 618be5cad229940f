//! Restarting the session with its state after a plugin's call cost it.
//!
//! Before a plugin's bounded call that may run arbitrary shell code (a
//! granted function, `install_package`), the same request first runs
//! `__hh_snap` (session.sh): bash's own `declare -p` and `declare -f`,
//! written to the session's private directory (no fork). hookhost's own
//! service helpers take none: builtins only, the stop always ends them. Should the call then end bash (a function that
//! ignores the stop signal and is killed, one that calls `exit`), the
//! run's next session replays that file: the state exactly as it was
//! before the call. Otherwise the file is removed when the call returns.
//!
//! What bash printed is replayed as bash printed it (its quoting is made to
//! be read back), with three changes made here:
//!
//! - bash's own variables (`BASH*`, `PPID`, `RANDOM`...) and the session's
//!   (`__hh_*`: descriptors, tokens and records of the old session) are
//!   left out: the new session has its own;
//! - every other variable of the new session is unset first, so what a
//!   hook had unset stays unset;
//! - errors (a session function is read-only in the new session too) are
//!   not shown.

use anyhow::{bail, Result};

/// The line between the variables and the functions.
const FUNCTIONS: &[u8] = b"# hookhost functions\n";

/// Variables never restored nor unset, by exact name: bash's dynamic and
/// read-only ones, and the working directory (the session puts it back).
const OWN_NAMES: &[&str] = &[
    "COMP_WORDBREAKS",
    "DIRSTACK",
    "EPOCHREALTIME",
    "EPOCHSECONDS",
    "EUID",
    "FUNCNAME",
    "GROUPS",
    "HISTCMD",
    "LINENO",
    "OLDPWD",
    "PIPESTATUS",
    "PPID",
    "PWD",
    "RANDOM",
    "SECONDS",
    "SHELLOPTS",
    "SRANDOM",
    "UID",
    "_",
];

/// Variables never restored nor unset, by prefix: bash's (`BASH_SOURCE`,
/// `BASHOPTS`...) and the session's.
const OWN_PREFIXES: &[&str] = &["BASH", "__hh_"];

/// Whether `dump` is a whole snapshot, the one written with `token`.
pub fn is_complete(dump: &[u8], token: &str) -> bool {
    dump.ends_with(format!("# hookhost end {token}\n").as_bytes())
}

/// The script that gives a fresh session the state in `dump` (a complete
/// snapshot, see [`is_complete`]). Fails when the dump is not what
/// `__hh_snap` writes.
pub fn replay_script(dump: &[u8]) -> Result<Vec<u8>> {
    let (declarations, functions) = split(dump)?;
    let functions = without_last_line(functions);
    let mut script = b"\\builtin set +o errexit\n".to_vec();
    script.extend(forget_line());
    script.extend_from_slice(b"{\n");
    for declaration in declarations {
        if !is_own(declared_name(declaration)?) {
            script.extend_from_slice(declaration);
        }
    }
    script.extend_from_slice(functions);
    script.extend_from_slice(b"} 2>&\"$__hh_null\"\n");
    Ok(script)
}

fn is_own(name: &str) -> bool {
    OWN_NAMES.contains(&name) || OWN_PREFIXES.iter().any(|p| name.starts_with(p))
}

/// A loop that unsets every variable of the session but bash's and the
/// session's own (`${!A@}`: the names starting with `A`; no fork, no
/// subshell). `unset -n` unsets a nameref itself (not what it names) and
/// leaves any other variable alone; `unset -v` then does the rest.
fn forget_line() -> Vec<u8> {
    let mut line = b"for __hh_v in".to_vec();
    for first in (b'A'..=b'Z').chain(b'a'..=b'z').chain([b'_']) {
        line.extend_from_slice(format!(" \"${{!{}@}}\"", first as char).as_bytes());
    }
    let own: Vec<String> = OWN_PREFIXES
        .iter()
        .map(|p| format!("{p}*"))
        .chain(OWN_NAMES.iter().map(|n| n.to_string()))
        .collect();
    line.extend_from_slice(
        format!(
            "; do [[ $__hh_v == @({}) ]] || {{ \\builtin unset -n \"$__hh_v\"; \
             \\builtin unset -v \"$__hh_v\"; }}; done 2>&\"$__hh_null\"\n",
            own.join("|")
        )
        .as_bytes(),
    );
    line
}

/// The declarations (each a whole statement, newline included) and the
/// rest, from the line between them on.
fn split(dump: &[u8]) -> Result<(Vec<&[u8]>, &[u8])> {
    let mut declarations = Vec::new();
    let mut rest = dump;
    loop {
        if let Some(functions) = rest.strip_prefix(FUNCTIONS) {
            return Ok((declarations, functions));
        }
        if rest.is_empty() {
            bail!("the snapshot has no functions part");
        }
        let end = statement_end(rest)?;
        declarations.push(&rest[..end]);
        rest = &rest[end..];
    }
}

/// How bash quotes in `declare -p`'s output.
#[derive(Clone, Copy, PartialEq)]
enum Quote {
    None,
    /// `"..."`, where a backslash escapes the next byte.
    Double,
    /// `'...'`, no escapes.
    Single,
    /// `$'...'`, where a backslash escapes the next byte.
    Ansi,
}

/// The length of the first statement of `text`: up to a newline outside
/// quotes (a value with a newline may be printed in double quotes, over
/// several lines, by older bash).
fn statement_end(text: &[u8]) -> Result<usize> {
    let mut quote = Quote::None;
    let mut i = 0;
    while i < text.len() {
        let byte = text[i];
        match (quote, byte) {
            (Quote::None, b'\n') => return Ok(i + 1),
            (Quote::None, b'"') => quote = Quote::Double,
            (Quote::None, b'\'') => quote = Quote::Single,
            (Quote::None, b'$') if text.get(i + 1) == Some(&b'\'') => {
                quote = Quote::Ansi;
                i += 1;
            }
            (Quote::None | Quote::Double | Quote::Ansi, b'\\') => i += 1,
            (Quote::Double, b'"') | (Quote::Single | Quote::Ansi, b'\'') => quote = Quote::None,
            _ => {}
        }
        i += 1;
    }
    bail!("the snapshot ends inside a declaration")
}

/// The name a `declare -FLAGS NAME[=VALUE]` statement declares.
fn declared_name(declaration: &[u8]) -> Result<&str> {
    let malformed = || anyhow::anyhow!("the snapshot holds a line that is not a declaration");
    let rest = declaration
        .strip_prefix(b"declare -")
        .ok_or_else(malformed)?;
    let flags_end = rest.iter().position(|&b| b == b' ').ok_or_else(malformed)?;
    let rest = &rest[flags_end + 1..];
    let name_end = rest
        .iter()
        .position(|&b| b == b'=' || b == b'\n')
        .ok_or_else(malformed)?;
    let name = std::str::from_utf8(&rest[..name_end]).map_err(|_| malformed())?;
    if !super::framing::is_var_name(name) {
        return Err(malformed());
    }
    Ok(name)
}

/// `text` without its last line (the snapshot's end line).
fn without_last_line(text: &[u8]) -> &[u8] {
    let body = text.strip_suffix(b"\n").unwrap_or(text);
    match body.iter().rposition(|&b| b == b'\n') {
        Some(newline) => &text[..newline + 1],
        None => &[],
    }
}

/// The declarations of a snapshot that a replay restores, as text (for
/// tests comparing a session's state with a restored one).
#[cfg(test)]
pub fn restorable_declarations(dump: &[u8]) -> Vec<String> {
    let (declarations, _) = split(dump).unwrap();
    declarations
        .into_iter()
        .filter(|d| !is_own(declared_name(d).unwrap()))
        .map(|d| String::from_utf8_lossy(d).into_owned())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dump(declarations: &str, functions: &str) -> Vec<u8> {
        format!("{declarations}# hookhost functions\n{functions}# hookhost end t0k\n").into_bytes()
    }

    #[test]
    fn a_dump_is_complete_only_with_its_own_end_line() {
        let whole = dump("declare -- A=\"1\"\n", "");
        assert!(is_complete(&whole, "t0k"));
        assert!(!is_complete(&whole, "other"));
        assert!(!is_complete(&whole[..whole.len() - 1], "t0k"));
    }

    #[test]
    fn statements_end_at_newlines_outside_quotes_only() {
        let text = b"declare -- A=\"x\ny\\\"\nz\"\ndeclare -a B=([0]=$'it\\'s\n' [1]='q\n')\ndeclare -- C\n";
        let text = [&text[..], FUNCTIONS].concat();
        let (declarations, _) = split(&text).unwrap();
        let names: Vec<&str> = declarations
            .iter()
            .map(|d| declared_name(d).unwrap())
            .collect();
        assert_eq!(names, ["A", "B", "C"]);
        assert!(declarations[0].ends_with(b"z\"\n"));
    }

    #[test]
    fn bash_and_session_variables_are_left_out_of_the_replay() {
        let script = replay_script(&dump(
            "declare -- BASHPID\ndeclare -r __hh_out=\"10\"\ndeclare -ir PPID=\"1\"\n\
             declare -- KEPT=\"yes\"\ndeclare -x PATH=\"/bin\"\n",
            "f () \n{ \n    echo f\n}\n",
        ))
        .unwrap();
        let text = String::from_utf8(script).unwrap();
        assert!(text.contains("declare -- KEPT=\"yes\"\n"), "{text}");
        assert!(text.contains("declare -x PATH=\"/bin\"\n"), "{text}");
        assert!(text.contains("f () \n{ \n    echo f\n}\n"), "{text}");
        for own in ["declare -- BASHPID", "__hh_out=", "PPID=\"1\"", "end t0k"] {
            assert!(!text.contains(own), "{own} in {text}");
        }
    }

    #[test]
    fn a_dump_that_is_not_a_snapshot_is_refused() {
        for bad in [
            dump("echo pwned\n", ""),
            dump("declare -- A=\"unclosed\n", ""),
            dump("declare -- a[$(id)]=1\n", ""),
            b"declare -- A=\"1\"\n".to_vec(),
        ] {
            assert!(
                replay_script(&bad).is_err(),
                "{}",
                String::from_utf8_lossy(&bad)
            );
        }
    }
}
