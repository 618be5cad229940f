//! How much of a plugin's text hookhost keeps: every limit on a string or
//! list a WASM plugin hands the host, in one place, and how a string past
//! its limit is cut.
//!
//! A plugin is hostile until proven otherwise: whatever it passes (a
//! warning, an error, a variable's value, a list of names) must cost the
//! host a bounded amount of memory, log and journal, whatever its size.
//! Two kinds of limit apply:
//!
//! - **Messages** (`echo-summary`, `warn`, `die`, a hook's `Err`) are cut:
//!   the operator still sees the start, followed by a marker saying how
//!   much was dropped (`… [cut: 16777100 more bytes]`).
//! - **Data** (variable values, names, arguments, list entries) is refused
//!   past its limit: a value cut short would be a different value, so the
//!   call fails with an error naming the limit instead.
//!
//! Budgets bound what repeats: per call (warnings kept), and per plugin per
//! run (the bytes of warnings kept for the summary, the bytes of variables
//! it set). docs/design.md lists the limits for operators and authors.

use std::borrow::Cow;

/// Longest message a plugin's `echo-summary`, `warn`, `die` or hook error
/// keeps; the rest is cut.
pub const MAX_MESSAGE: usize = 64 << 10;
/// Warnings of one call kept for the run's summary.
pub const MAX_WARNINGS_PER_CALL: u32 = 100;
/// Bytes of warnings one plugin may leave in the run's summary over a run.
pub const MAX_WARNINGS_PER_RUN: usize = 1 << 20;
/// Longest value `set-var` accepts.
pub const MAX_VALUE: usize = 1 << 20;
/// Bytes of variables (names and values) one plugin may hold in the
/// session over a run, counting each variable's latest value once.
pub const MAX_VARS_PER_RUN: usize = 8 << 20;
/// Longest name: variable, service, package, function, or a command.
pub const MAX_NAME: usize = 256;
/// Most entries of one list argument (services, packages, arguments).
pub const MAX_LIST: usize = 1024;
/// Different packages one plugin may ask for in one run (each is a line of
/// the record of wanted packages, or an argument of the package manager).
pub const MAX_PACKAGES_PER_RUN: usize = 1024;
/// Bytes of all arguments of one `run-command` or `call-function` call
/// (half of Linux's usual `ARG_MAX`).
pub const MAX_ARGS: usize = 1 << 20;
/// Longest line of a plugin's output forwarded to the terminal and log;
/// the rest of the line is cut.
pub const MAX_LINE: usize = 4096;
/// Bytes of a plugin's output forwarded in one call; past it, output is
/// counted, and the count shown at the end of the call.
pub const MAX_OUTPUT_PER_CALL: u64 = 1 << 20;
/// Bytes of a plugin's output forwarded over a run.
pub const MAX_OUTPUT_PER_RUN: u64 = 4 << 20;
/// Longest item or detail of one audit record.
pub const MAX_AUDIT_ITEM: usize = 4096;
/// Longest failure reason the state journal keeps.
pub const MAX_REASON: usize = MAX_MESSAGE + 1024;

/// `text` when it fits in `max` bytes; else its first `max` bytes (at a
/// character boundary) and a marker saying how many bytes were dropped.
pub fn cut(text: &str, max: usize) -> Cow<'_, str> {
    if text.len() <= max {
        return Cow::Borrowed(text);
    }
    let end = floor_char_boundary(text, max);
    let dropped = text.len() - end;
    Cow::Owned(format!("{}… [cut: {dropped} more bytes]", &text[..end]))
}

/// The largest index `<= max` that is a character boundary of `text`.
pub fn floor_char_boundary(text: &str, max: usize) -> usize {
    if text.len() <= max {
        return text.len();
    }
    (0..=max)
        .rev()
        .find(|&i| text.is_char_boundary(i))
        .unwrap_or(0)
}

/// Why a list argument is refused: too many entries, or too many bytes
/// all together; None when it is within [`MAX_LIST`] and `max_bytes`.
pub fn list_problem(items: &[String], max_bytes: usize) -> Option<String> {
    if items.len() > MAX_LIST {
        return Some(format!(
            "{} entries, more than the limit of {MAX_LIST}",
            items.len()
        ));
    }
    let bytes: usize = items.iter().map(String::len).sum();
    (bytes > max_bytes).then(|| format!("{bytes} bytes, more than the limit of {max_bytes}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_text_is_kept_whole() {
        assert!(matches!(cut("hello", 5), Cow::Borrowed("hello")));
    }

    #[test]
    fn long_text_is_cut_with_what_was_dropped() {
        let text = "x".repeat(100);
        assert_eq!(
            cut(&text, 10),
            format!("{}… [cut: 90 more bytes]", "x".repeat(10))
        );
    }

    #[test]
    fn a_cut_never_splits_a_character() {
        // "é" is two bytes: a cut at 3 keeps "aé" minus nothing, at 2 keeps "a".
        assert_eq!(cut("aéé", 2), "a… [cut: 4 more bytes]");
        assert_eq!(cut("aéé", 3), "aé… [cut: 2 more bytes]");
    }

    #[test]
    fn lists_are_bounded_in_entries_and_bytes() {
        let many = vec![String::from("a"); MAX_LIST + 1];
        assert!(list_problem(&many, usize::MAX).unwrap().contains("entries"));
        let big = vec!["y".repeat(10)];
        assert!(list_problem(&big, 9).unwrap().contains("10 bytes"));
        assert_eq!(list_problem(&big, 10), None);
    }
}
