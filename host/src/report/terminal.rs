//! The terminal side of reporting: colours, styles, the spinner, and
//! writes to stdout and stderr that never stop a run when the reader goes
//! away.

use std::io::{self, IsTerminal, Write};
use std::time::Duration;

use anstream::ColorChoice;
use anstyle::{Ansi256Color, AnsiColor, Color, Style};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressFinish, ProgressStyle, TermLike};

/// Colours for the hook-name prefixes on any colour terminal: the 16
/// basic colours but red (errors), black and white (one of them is the
/// background), dim ones first.
const PALETTE_16: [AnsiColor; 10] = [
    AnsiColor::Cyan,
    AnsiColor::Magenta,
    AnsiColor::Green,
    AnsiColor::Blue,
    AnsiColor::Yellow,
    AnsiColor::BrightCyan,
    AnsiColor::BrightMagenta,
    AnsiColor::BrightGreen,
    AnsiColor::BrightBlue,
    AnsiColor::BrightYellow,
];

/// More colours for the hook-name prefixes on a 256-colour terminal, after
/// [`PALETTE_16`]: hues of the 6x6x6 cube far from those and from each
/// other, none of them red.
const MORE_256: [u8; 10] = [
    208, // orange
    99,  // slate blue
    148, // lime
    37,  // teal
    219, // pink
    136, // dark gold
    81,  // sky blue
    171, // orchid
    65,  // sage
    180, // tan
];

/// The style of the `n`th hook to print (from 0, in order of first
/// output): a colour of its own while the palette has one left.
pub(super) fn hook_style(n: usize) -> Style {
    let size = match wide_palette() {
        true => PALETTE_16.len() + MORE_256.len(),
        false => PALETTE_16.len(),
    };
    let n = n % size;
    let colour = match PALETTE_16.get(n) {
        Some(basic) => Color::Ansi(*basic),
        None => Color::Ansi256(Ansi256Color(MORE_256[n - PALETTE_16.len()])),
    };
    Style::new().fg_color(Some(colour))
}

/// Whether the terminal says it has 256 colours (or more).
fn wide_palette() -> bool {
    let term = std::env::var("TERM").unwrap_or_default();
    term.ends_with("256color") || std::env::var_os("COLORTERM").is_some_and(|c| !c.is_empty())
}

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

/// The spinner line on stderr. It is cleared when the reporter drops it
/// without finishing (a run that ends on an error), and it leaves the
/// terminal's last columns free (see [`Narrowed`]).
pub(super) fn spinner(steps: u64) -> ProgressBar {
    let target = ProgressDrawTarget::term_like_with_hz(Box::new(Narrowed::stderr()), 20);
    let bar =
        ProgressBar::with_draw_target(Some(steps), target).with_finish(ProgressFinish::AndClear);
    // `wide_msg` cuts a long hook name rather than wrap the line.
    let template = if color_allowed(&io::stderr()) {
        "{spinner:.cyan} [{pos}/{len}] {prefix:.bold} {wide_msg} {elapsed:.dim}"
    } else {
        "{spinner} [{pos}/{len}] {prefix} {wide_msg} {elapsed}"
    };
    if let Ok(style) = ProgressStyle::with_template(template) {
        bar.set_style(style);
    }
    bar.enable_steady_tick(Duration::from_millis(100));
    bar
}

/// Columns the spinner leaves free at the right of the terminal.
const FREE_COLUMNS: u16 = 4;

/// stderr as the spinner's terminal, [`FREE_COLUMNS`] narrower than it is.
/// The spinner pads its line to the terminal's width, leaving the cursor
/// in the last column; the terminal's echo of Ctrl-C (`^C`, twice for a
/// second one) then wrapped onto a new line, and clearing "the spinner's
/// line" cleared that one, leaving the spinner on screen above it.
#[derive(Debug)]
struct Narrowed(console::Term);

impl Narrowed {
    fn stderr() -> Narrowed {
        Narrowed(console::Term::buffered_stderr())
    }
}

impl TermLike for Narrowed {
    fn width(&self) -> u16 {
        self.0.size().1.saturating_sub(FREE_COLUMNS).max(1)
    }

    fn height(&self) -> u16 {
        self.0.size().0
    }

    fn move_cursor_up(&self, n: usize) -> io::Result<()> {
        self.0.move_cursor_up(n)
    }

    fn move_cursor_down(&self, n: usize) -> io::Result<()> {
        self.0.move_cursor_down(n)
    }

    fn move_cursor_right(&self, n: usize) -> io::Result<()> {
        self.0.move_cursor_right(n)
    }

    fn move_cursor_left(&self, n: usize) -> io::Result<()> {
        self.0.move_cursor_left(n)
    }

    fn write_line(&self, s: &str) -> io::Result<()> {
        self.0.write_line(s)
    }

    fn write_str(&self, s: &str) -> io::Result<()> {
        self.0.write_str(s)
    }

    fn clear_line(&self) -> io::Result<()> {
        self.0.clear_line()
    }

    fn flush(&self) -> io::Result<()> {
        self.0.flush()
    }
}

pub(super) fn paint(on: bool, style: Style, text: &str) -> String {
    match on {
        true => format!("{style}{text}{style:#}"),
        false => text.to_string(),
    }
}
