//! The source under a problem's headline, as rustc shows it: the file,
//! line and column, the line itself and a caret under what is wrong.
//! Config files (hookhost.toml, manifests, hookhost.lock, local.conf) and
//! the planning layer attach one to a [`crate::model::problems::Problem`];
//! whoever prints the problem renders it, in colour only on a terminal.
//!
//! Only the lines the span covers are kept (a problem outlives the text it
//! was found in), and control characters in them are shown as `?`, so a
//! file cannot put a terminal escape on the operator's screen.

use std::fmt;
use std::ops::Range;
use std::path::Path;

use annotate_snippets::{AnnotationKind, Group, Level, Renderer, Snippet as Source};

use super::inert::hidden;

/// At most this many lines of source are shown under one problem.
const MAX_LINES: usize = 3;

/// A span of a file's text, with a label under its caret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snippet {
    path: String,
    /// The lines the span covers (whole lines, control characters shown as `?`).
    source: String,
    /// The 1-based line `source` starts at.
    first_line: usize,
    /// The span within `source`.
    span: Range<usize>,
    label: String,
}

impl Snippet {
    /// The span `span` (byte offsets) of `text`, the contents of `path`.
    pub fn new(path: &Path, text: &str, span: Range<usize>, label: impl Into<String>) -> Snippet {
        let start = floor_char(text, span.start.min(text.len()));
        let end = floor_char(text, span.end.clamp(start, text.len()));
        let line_start = text[..start].rfind('\n').map_or(0, |at| at + 1);
        let mut line_end = text[end..].find('\n').map_or(text.len(), |at| end + at);
        // Long spans (an unclosed table) are cut to a few lines.
        let lines_end = text[line_start..line_end]
            .match_indices('\n')
            .nth(MAX_LINES - 1)
            .map(|(at, _)| line_start + at);
        if let Some(cut) = lines_end {
            line_end = cut;
        }
        let end = end.min(line_end);
        let source: String = text[line_start..line_end]
            .chars()
            .map(|c| match c {
                '\t' | '\n' => c,
                '\r' => ' ',
                c if c.is_control() || hidden(c) => '?',
                c => c,
            })
            .collect();
        // `?` is one byte: offsets past a wider control character move.
        let shift = |at: usize| clean_len(&text[line_start..at]);
        Snippet {
            path: path.display().to_string(),
            first_line: text[..line_start].matches('\n').count() + 1,
            span: shift(start)..shift(end),
            source,
            label: short(&label.into()),
        }
    }

    /// The whole of line `line` (1-based) of `text`, leading blanks left out.
    pub fn line(path: &Path, text: &str, line: usize, label: impl Into<String>) -> Option<Snippet> {
        let start = line_offset(text, line)?;
        let rest = &text[start..];
        let len = rest.find('\n').unwrap_or(rest.len());
        let body = rest[..len].trim_end_matches('\r');
        let indent = body.len() - body.trim_start().len();
        let span = start + indent..start + body.len();
        Some(Snippet::new(path, text, span, label))
    }

    /// The 1-based line the span starts at.
    pub fn line_number(&self) -> usize {
        self.first_line + self.source[..self.span.start].matches('\n').count()
    }

    /// The 1-based column (in characters) the span starts at.
    pub fn column(&self) -> usize {
        let before = &self.source[..self.span.start];
        let line_start = before.rfind('\n').map_or(0, |at| at + 1);
        before[line_start..].chars().count() + 1
    }

    /// As rustc prints it: ` --> FILE:LINE:COL`, the line and a caret.
    /// `color` for a terminal that shows colours.
    pub fn render(&self, color: bool) -> String {
        let renderer = match color {
            true => Renderer::styled(),
            false => Renderer::plain(),
        };
        // An empty span (the end of the file) still gets a caret.
        let span = self.span.clone();
        let source = Source::source(self.source.as_str())
            .line_start(self.first_line)
            .path(self.path.as_str())
            .fold(false)
            .annotation(
                AnnotationKind::Primary
                    .span(span)
                    .label(self.label.as_str()),
            );
        let report = [Group::with_level(Level::ERROR).element(source)];
        renderer.render(&report).trim_end().to_string()
    }
}

impl fmt::Display for Snippet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.render(false))
    }
}

/// The gist of a message, for under the caret: the headline above the
/// snippet says the rest (what was expected, what to do).
fn short(message: &str) -> String {
    let cut = [" — ", "; ", ", expected", " ("]
        .iter()
        .filter_map(|sep| message.find(sep))
        .min()
        .unwrap_or(message.len());
    message[..cut].to_string()
}

/// The byte offset line `line` (1-based) of `text` starts at.
pub fn line_offset(text: &str, line: usize) -> Option<usize> {
    if line == 0 {
        return None;
    }
    if line == 1 {
        return Some(0);
    }
    text.match_indices('\n').nth(line - 2).map(|(at, _)| at + 1)
}

/// The length of `text` once its control characters are shown as `?`.
fn clean_len(text: &str) -> usize {
    text.chars()
        .map(|c| match c {
            '\t' | '\n' => 1,
            c if c.is_control() || hidden(c) => 1,
            c => c.len_utf8(),
        })
        .sum()
}

fn floor_char(text: &str, mut at: usize) -> usize {
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_span_shows_file_line_column_source_and_caret() {
        let text = "[capabilities]\nredd = []\n";
        let snippet = Snippet::new(Path::new("x.toml"), text, 15..19, "unknown field");
        assert_eq!((snippet.line_number(), snippet.column()), (2, 1));
        let shown = snippet.render(false);
        assert!(shown.contains("--> x.toml:2:1"), "{shown}");
        assert!(shown.contains("2 | redd = []"), "{shown}");
        assert!(shown.contains("^^^^ unknown field"), "{shown}");
        assert!(!shown.contains("\u{1b}["), "{shown}");
    }

    #[test]
    fn control_characters_in_the_source_are_shown_as_question_marks() {
        let text = "a = \"\u{1b}[31m\u{85}x\"\nb = 1\n";
        let at = text.find('x').unwrap();
        let snippet = Snippet::new(Path::new("x.toml"), text, at..at + 1, "here");
        let shown = snippet.render(false);
        assert!(
            !shown.contains('\u{1b}') && !shown.contains('\u{85}'),
            "{shown}"
        );
        assert!(shown.contains("a = \"?[31m?x\""), "{shown}");
        assert_eq!(snippet.column(), 12);
    }

    #[test]
    fn a_whole_line_leaves_its_indent_out() {
        let text = "[[local|localrc]]\n  A=1 | b\n";
        let snippet = Snippet::line(Path::new("local.conf"), text, 2, "here").unwrap();
        assert_eq!((snippet.line_number(), snippet.column()), (2, 3));
        assert!(Snippet::line(Path::new("l"), text, 9, "x").is_none());
    }

    #[test]
    fn a_long_span_is_cut_to_a_few_lines() {
        let text = "a\nb\nc\nd\ne\nf\n";
        let snippet = Snippet::new(Path::new("x"), text, 0..text.len(), "all");
        assert_eq!(snippet.source.lines().count(), MAX_LINES);
        let end = Snippet::new(Path::new("x"), "a = ", 4..4, "value expected");
        assert!(end.render(false).contains('^'), "{}", end.render(false));
    }
}
