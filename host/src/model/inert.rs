//! Text from hooks made inert on a terminal and in the log.
//!
//! A plugin's output, warnings and errors are shown to the operator; raw,
//! an ESC could move the cursor, erase hookhost's own prefix and print a
//! forged "stack finished" line, and a newline could start a line in the
//! log that looks like hookhost's. So every control character but tab is
//! shown escaped, in a form that cannot be mistaken for the character:
//! `\e` for ESC, `\r`, `\n`, `\x07` for other C0 characters and DEL,
//! `\u{9b}` for C1 characters, and the same for the Unicode characters that
//! reorder or break what is displayed (bidirectional overrides, line and
//! paragraph separators). Everything else, backslashes included, is shown
//! as it is: this is for reading, not a reversible encoding (`--json` and
//! `--audit` keep the exact text).

use std::borrow::Cow;
use std::fmt::Write;

/// `text` with every control character but tab escaped (see the module).
pub fn inert(text: &str) -> Cow<'_, str> {
    if !text.chars().any(needs_escape) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        push_shown(&mut out, c);
    }
    Cow::Owned(out)
}

/// The lines of `text` (split at each newline), each made inert: a
/// message spanning several lines is shown as several lines, each of
/// which the caller prefixes. A carriage return ending a line (`\r\n`)
/// is dropped: before a newline it cannot overwrite anything.
pub fn inert_lines(text: &str) -> impl Iterator<Item = Cow<'_, str>> {
    text.split('\n')
        .map(|line| inert(line.strip_suffix('\r').unwrap_or(line)))
}

/// `text` in double quotes, made inert, for naming a string in a message
/// (`invalid service name "x\e[2K"`).
pub fn quoted(text: &str) -> String {
    format!("\"{}\"", inert(text))
}

/// Whether `text` holds a character [`inert`] escapes: a control
/// character (tab included), a bidirectional control or an invisible one.
/// Such a character in a value hookhost is asked to check (a manifest's
/// request, a grant) makes the value refused, not shown.
pub fn has_hidden(text: &str) -> bool {
    text.chars().any(|c| c == '\t' || needs_escape(c))
}

/// Whether `c` is one [`inert`] escapes (a control character but tab, a
/// bidirectional control, an invisible character).
pub fn hidden(c: char) -> bool {
    needs_escape(c)
}

/// Whether `c` is shown escaped.
fn needs_escape(c: char) -> bool {
    match c {
        '\t' => false,
        '\u{0}'..='\u{1f}' | '\u{7f}'..='\u{9f}' => true,
        // Bidirectional marks, embeddings, overrides and isolates.
        '\u{61c}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' => {
            true
        }
        // Line and paragraph separators.
        '\u{2028}' | '\u{2029}' => true,
        // Invisible characters that make one text look like another:
        // zero-width space and joiners, word joiner and invisible
        // operators, the byte-order mark, tag characters.
        '\u{200b}'..='\u{200d}' | '\u{2060}'..='\u{2064}' | '\u{feff}' => true,
        // Soft hyphen and the Mongolian vowel separator: shown as nothing.
        '\u{ad}' | '\u{180e}' => true,
        '\u{e0000}'..='\u{e007f}' => true,
        _ => false,
    }
}

fn push_shown(out: &mut String, c: char) {
    if !needs_escape(c) {
        out.push(c);
        return;
    }
    let _ = match c {
        '\u{1b}' => write!(out, "\\e"),
        '\r' => write!(out, "\\r"),
        '\n' => write!(out, "\\n"),
        '\u{0}'..='\u{1f}' | '\u{7f}' => write!(out, "\\x{:02x}", c as u32),
        _ => write!(out, "\\u{{{:x}}}", c as u32),
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_text_and_tabs_are_kept() {
        assert!(matches!(inert("a\tb ✓ é"), Cow::Borrowed("a\tb ✓ é")));
    }

    #[test]
    fn control_characters_are_escaped() {
        assert_eq!(
            inert("\u{1b}[2K\r✓ done\u{7}\n\u{0}\u{7f}"),
            "\\e[2K\\r✓ done\\x07\\n\\x00\\x7f"
        );
    }

    #[test]
    fn invisible_characters_are_escaped() {
        for c in ['\u{200b}', '\u{2060}', '\u{feff}', '\u{e0041}'] {
            let text = format!("a{c}b");
            assert_ne!(inert(&text), text, "{c:?}");
        }
        assert_eq!(inert("ünïcødé"), "ünïcødé");
    }

    #[test]
    fn c1_and_reordering_characters_are_escaped() {
        assert_eq!(inert("\u{9b}31m"), "\\u{9b}31m");
        assert_eq!(inert("a\u{202e}b\u{2028}"), "a\\u{202e}b\\u{2028}");
    }

    #[test]
    fn lines_are_split_then_escaped() {
        let lines: Vec<_> = inert_lines("one\r\ntwo\r\u{1b}").collect();
        assert_eq!(lines, ["one", "two\\r\\e"]);
        assert_eq!(quoted("x\ny"), "\"x\\ny\"");
    }
}
