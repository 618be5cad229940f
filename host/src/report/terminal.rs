//! The terminal side of reporting: colours, styles, the spinner, and
//! writes to stdout and stderr that never stop a run when the reader goes
//! away.

use std::io::{self, IsTerminal, Write};
use std::time::Duration;

use anstream::ColorChoice;
use anstyle::{AnsiColor, Style};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Colours for the hook-name prefixes, cycled in order of first output.
pub(super) const PALETTE: [AnsiColor; 6] = [
    AnsiColor::Cyan,
    AnsiColor::Magenta,
    AnsiColor::Green,
    AnsiColor::Blue,
    AnsiColor::Yellow,
    AnsiColor::BrightCyan,
];

/// The styles of the reporter's own words.
pub(super) const BOLD: Style = Style::new().bold();
pub(super) const DIM: Style = Style::new().dimmed();
pub(super) const PHASE: Style = BOLD.fg_color(Some(anstyle::Color::Ansi(AnsiColor::Blue)));
pub(super) const WARNING: Style = BOLD.fg_color(Some(anstyle::Color::Ansi(AnsiColor::Yellow)));
pub(super) const ERROR: Style = BOLD.fg_color(Some(anstyle::Color::Ansi(AnsiColor::Red)));
pub(super) const GOOD: Style = BOLD.fg_color(Some(anstyle::Color::Ansi(AnsiColor::Green)));

/// One line on stdout, flushed. A closed stdout (`hookhost stack | head`)
/// must not stop the installer halfway: the line is dropped there and kept
/// in the log.
pub(super) fn out_line(line: &str) {
    out_bytes(format!("{line}\n").as_bytes());
}

/// Whole lines on stdout in one write_all (nothing when empty): stdout's
/// line buffering would cut `writeln!` at every newline inside (a held
/// event before this one). Errors ignored as for [`out_line`].
pub(super) fn out_bytes(lines: &[u8]) {
    if lines.is_empty() {
        return;
    }
    let mut out = io::stdout().lock();
    let _ = out.write_all(lines);
    let _ = out.flush();
}

/// One line (or block) on stderr; errors ignored as for [`out_line`].
pub(super) fn err_line(text: &str) {
    let _ = writeln!(io::stderr().lock(), "{text}");
}

/// Colour is for terminals, and never when `NO_COLOR` is set (no-color.org)
/// or the terminal is dumb; `anstream` decides by the common conventions.
pub(super) fn color_allowed(stream: &impl anstream::stream::RawStream) -> bool {
    anstream::AutoStream::choice(stream) != ColorChoice::Never
}

pub(super) fn dumb_terminal() -> bool {
    std::env::var_os("TERM").is_some_and(|t| t == "dumb")
}

/// A spinner needs stderr to be a terminal that can redraw a line.
pub(super) fn live_terminal() -> bool {
    io::stderr().is_terminal() && !dumb_terminal()
}

pub(super) fn spinner(steps: u64) -> ProgressBar {
    let bar = ProgressBar::with_draw_target(Some(steps), ProgressDrawTarget::stderr());
    let template = if color_allowed(&io::stderr()) {
        "{spinner:.cyan} [{pos}/{len}] {prefix:.bold} {msg} {elapsed:.dim}"
    } else {
        "{spinner} [{pos}/{len}] {prefix} {msg} {elapsed}"
    };
    if let Ok(style) = ProgressStyle::with_template(template) {
        bar.set_style(style);
    }
    bar.enable_steady_tick(Duration::from_millis(100));
    bar
}

pub(super) fn paint(on: bool, style: Style, text: &str) -> String {
    match on {
        true => format!("{style}{text}{style:#}"),
        false => text.to_string(),
    }
}
