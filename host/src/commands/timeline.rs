//! `hookhost status --timeline FILE.svg` (or `.html`): the last run drawn
//! as a waterfall, the way CI systems show where a pipeline's time went.
//! Each phase is a band holding one bar per hook or driver call, placed by
//! when it started and as long as it took; the host's own work (start-up,
//! compiling components, starting the session) has bars of its own. Bars
//! are coloured by kind (bash, wasm, the host) unless the call failed, was
//! interrupted or never ended; hovering one shows its times and reason.
//!
//! Everything drawn comes from the state journal, and hook names and
//! failure reasons there are a plugin's text: each string is made inert
//! ([`crate::model::inert`]) and XML-escaped, and the picture holds no
//! script (the HTML page forbids one with its Content-Security-Policy).

use std::fmt::Write as _;
use std::path::Path;

use anyhow::Context;

use crate::commands::status::{last_run, HostWorkView, LastRun, StepView};
use crate::model::inert::inert;
use crate::model::units::show_millis;

/// The picture's width and its parts, in pixels.
const WIDTH: f64 = 1000.0;
const LABEL_W: f64 = 280.0;
const CHART_W: f64 = WIDTH - LABEL_W - 70.0;
const HEAD_H: f64 = 64.0;
const BAND_HEAD: f64 = 20.0;
const ROW_H: f64 = 20.0;
const BAR_H: f64 = 14.0;
const LEGEND_H: f64 = 36.0;
/// A bar this thin still shows (a no-op hook takes microseconds).
const MIN_BAR: f64 = 3.0;
/// Labels are cut here so one long name cannot push the chart away.
const MAX_LABEL: usize = 44;
/// Tooltips are cut here (a failure reason can be long).
const MAX_TIP: usize = 600;

const BACKGROUND: &str = "#ffffff";
const BASH: &str = "#4e79a7";
const WASM: &str = "#9b5fc0";
const OTHER: &str = "#2a9d8f";
const HOST: &str = "#7f7f7f";
const FAILED: &str = "#d62728";
const INTERRUPTED: &str = "#f28e2b";

/// What the picture is written as, from the file's extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Svg,
    Html,
}

impl Format {
    pub fn of(path: &Path) -> anyhow::Result<Format> {
        let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
        match ext.to_ascii_lowercase().as_str() {
            "svg" => Ok(Format::Svg),
            "html" | "htm" => Ok(Format::Html),
            _ => anyhow::bail!(
                "--timeline {}: the file name must end in .svg or .html (the picture's format)",
                path.display()
            ),
        }
    }
}

/// Draw the last run recorded in `state_dir` into `file`; the line to
/// print says what was written.
pub fn write(state_dir: &Path, file: &Path) -> anyhow::Result<String> {
    let format = Format::of(file)?;
    let Some(run) = last_run(state_dir)? else {
        anyhow::bail!(
            "no run recorded in {} yet: nothing to draw (run `hookhost stack` first)",
            state_dir.display()
        );
    };
    let text = match format {
        Format::Svg => svg(&run),
        Format::Html => html(&run),
    };
    std::fs::write(file, text)
        .with_context(|| format!("cannot write the timeline {}", file.display()))?;
    Ok(format!(
        "wrote the timeline of run {} ({} bars) to {}\n",
        inert(&run.run),
        run.steps.len() + run.host_work.len(),
        file.display()
    ))
}

/// One bar of the picture.
struct Bar {
    /// The text left of the chart.
    label: String,
    /// `bash`, `wasm`, `host`, ...
    kind: String,
    /// ok, failed, interrupted, running.
    status: String,
    /// Milliseconds since the Unix epoch.
    start: f64,
    took: f64,
    tip: String,
}

/// A band: a phase with its calls, or a stretch of the host's own work.
struct Band {
    name: String,
    host: bool,
    bars: Vec<Bar>,
}

/// The drawing's time axis: from the run's start to its last known moment.
struct Axis {
    start: f64,
    span: f64,
}

impl Axis {
    fn x(&self, ms: f64) -> f64 {
        LABEL_W + ((ms - self.start) / self.span).clamp(0.0, 1.0) * CHART_W
    }
}

/// The picture as a standalone SVG document.
pub fn svg(run: &LastRun) -> String {
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    out.push_str(&svg_element(run));
    out
}

/// The picture in a web page with no script.
pub fn html(run: &LastRun) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">\n\
         <title>{}</title>\n<style>body{{margin:0;background:{BACKGROUND}}} svg{{display:block}}</style>\n\
         </head>\n<body>\n{}</body>\n</html>\n",
        xml(&title(run), MAX_TIP),
        svg_element(run)
    )
}

fn title(run: &LastRun) -> String {
    format!("hookhost {} in {}: {}", run.entry, run.top, run.status())
}

fn svg_element(run: &LastRun) -> String {
    let bands = bands(run);
    let axis = axis(run, &bands);
    let rows: usize = bands.iter().map(|b| b.bars.len()).sum();
    let chart_h = bands.len() as f64 * BAND_HEAD + rows as f64 * ROW_H;
    let height = HEAD_H + chart_h.max(ROW_H) + LEGEND_H;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{WIDTH}\" height=\"{height}\" \
         viewBox=\"0 0 {WIDTH} {height}\" font-family=\"sans-serif\" font-size=\"12\">"
    );
    let _ = writeln!(
        out,
        "<rect class=\"background\" width=\"{WIDTH}\" height=\"{height}\" fill=\"{BACKGROUND}\"/>"
    );
    heading(&mut out, run);
    grid(&mut out, &axis, HEAD_H, chart_h);
    let mut y = HEAD_H;
    for (i, band) in bands.iter().enumerate() {
        y = draw_band(&mut out, band, &axis, y, i % 2 == 0);
    }
    if bands.is_empty() {
        let _ = writeln!(
            out,
            "<text x=\"8\" y=\"{}\" fill=\"#333\">no hook ran</text>",
            HEAD_H + 14.0
        );
    }
    legend(&mut out, height - LEGEND_H + 14.0);
    out.push_str("</svg>\n");
    out
}

/// The title line and the run's id, start and result.
fn heading(out: &mut String, run: &LastRun) {
    let _ = writeln!(
        out,
        "<text class=\"title\" x=\"8\" y=\"18\" font-size=\"15\" font-weight=\"bold\" fill=\"#111\">{}</text>",
        xml(&title(run), 120)
    );
    let took = run
        .end
        .as_ref()
        .and_then(|e| e.duration_ms)
        .map(|ms| format!(", took {}", show_millis(ms)))
        .unwrap_or_default();
    let line = format!("run {}, started {} UTC{took}", run.run, run.started);
    let _ = writeln!(
        out,
        "<text x=\"8\" y=\"36\" fill=\"#444\">{}</text>",
        xml(&line, 120)
    );
}

/// The phases and the host's work in time order, each a band; a phase
/// that comes back (after host work) is a band again.
fn bands(run: &LastRun) -> Vec<Band> {
    let mut items: Vec<(String, bool, Bar)> = Vec::new();
    for work in &run.host_work {
        items.push(("hookhost".to_string(), true, host_bar(work)));
    }
    let end = last_moment(run);
    let mut at = run.started_ms as f64;
    for step in &run.steps {
        let bar = step_bar(step, at, end);
        at = bar.start;
        items.push((step.phase.clone(), false, bar));
    }
    // Stable: calls that started in the same millisecond keep their order.
    items.sort_by(|a, b| a.2.start.total_cmp(&b.2.start));
    let mut bands: Vec<Band> = Vec::new();
    for (name, host, bar) in items {
        match bands.last_mut() {
            Some(band) if band.name == name && band.host == host => band.bars.push(bar),
            _ => bands.push(Band {
                name,
                host,
                bars: vec![bar],
            }),
        }
    }
    bands
}

fn host_bar(work: &HostWorkView) -> Bar {
    let label = match work.detail.is_empty() {
        true => work.name.clone(),
        false => format!("{}: {}", work.name, work.detail),
    };
    Bar {
        tip: format!("{label} ({})", show_millis(work.duration_ms)),
        label,
        kind: "host".to_string(),
        status: "ok".to_string(),
        start: work.started_ms as f64,
        took: work.duration_ms,
    }
}

/// A call's bar; one never ended runs to `end`. `before` is when the call
/// before it started (a journal without a start time keeps the order).
fn step_bar(step: &StepView, before: f64, end: f64) -> Bar {
    let start = step.started_ms.map_or(before, |ms| ms as f64);
    let took = match step.duration_ms {
        Some(ms) => ms.max(0.0),
        None => (end - start).max(0.0),
    };
    let label = format!("{} ({})", step.hook, step.kind);
    let mut tip = format!(
        "{label} in {}: {}, {}",
        step.phase,
        step.status,
        show_millis(took)
    );
    if let Some(reason) = &step.reason {
        tip.push_str(": ");
        tip.push_str(reason);
    }
    Bar {
        label,
        kind: step.kind.clone(),
        status: step.status.clone(),
        start,
        took,
        tip,
    }
}

/// The last moment the journal knows of: the run's end, now for a run
/// still going, else the end of its last call.
fn last_moment(run: &LastRun) -> f64 {
    if run.running {
        return std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0.0, |d| d.as_millis() as f64);
    }
    let ended = run.end.as_ref().map(|e| e.unix_ms as f64).unwrap_or(0.0);
    let calls = run.steps.iter().filter_map(|s| {
        let start = s.started_ms? as f64;
        Some(start + s.duration_ms.unwrap_or(0.0))
    });
    calls.fold(ended.max(run.started_ms as f64), f64::max)
}

fn axis(run: &LastRun, bands: &[Band]) -> Axis {
    let bars = bands.iter().flat_map(|b| &b.bars);
    let first = bars
        .clone()
        .map(|b| b.start)
        .fold(run.started_ms as f64, f64::min);
    let last = bars
        .map(|b| b.start + b.took)
        .fold(last_moment(run), f64::max);
    Axis {
        start: first,
        span: (last - first).max(1.0),
    }
}

/// Vertical lines at round times, labelled above the chart.
fn grid(out: &mut String, axis: &Axis, top: f64, height: f64) {
    let step = tick_step(axis.span);
    let mut t = 0.0;
    while t <= axis.span + step / 1000.0 {
        let x = axis.x(axis.start + t);
        let _ = writeln!(
            out,
            "<line class=\"tick\" x1=\"{x:.1}\" y1=\"{:.1}\" x2=\"{x:.1}\" y2=\"{:.1}\" stroke=\"#e3e3e3\"/>",
            top - 4.0,
            top + height
        );
        let _ = writeln!(
            out,
            "<text x=\"{x:.1}\" y=\"{:.1}\" fill=\"#666\" font-size=\"10\" text-anchor=\"middle\">{}</text>",
            top - 8.0,
            if t == 0.0 { "0".to_string() } else { show_millis(t) }
        );
        t += step;
    }
}

/// A round interval giving about eight ticks over `span` milliseconds.
fn tick_step(span: f64) -> f64 {
    let rough = span / 8.0;
    let power = 10f64.powf(rough.log10().floor());
    [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * power)
        .find(|step| *step >= rough)
        .unwrap_or(10.0 * power)
        .max(0.001)
}

/// One band: its background, its phase's extent, its name, and its bars.
/// Returns where the next band starts.
fn draw_band(out: &mut String, band: &Band, axis: &Axis, y: f64, even: bool) -> f64 {
    let height = BAND_HEAD + band.bars.len() as f64 * ROW_H;
    let class = if band.host { "band host" } else { "band phase" };
    let fill = match (band.host, even) {
        (true, _) => "#f4f1ea",
        (false, true) => "#eef3f8",
        (false, false) => "#f7f9fb",
    };
    let _ = writeln!(
        out,
        "<g class=\"{class}\" data-name=\"{}\">",
        xml(&band.name, MAX_LABEL)
    );
    let _ = writeln!(
        out,
        "<rect x=\"0\" y=\"{y:.1}\" width=\"{WIDTH}\" height=\"{height:.1}\" fill=\"{fill}\"/>"
    );
    let first = band.bars.iter().map(|b| b.start).fold(f64::MAX, f64::min);
    let last = band
        .bars
        .iter()
        .map(|b| b.start + b.took)
        .fold(0.0, f64::max);
    let (x0, x1) = (axis.x(first), axis.x(last).max(axis.x(first) + MIN_BAR));
    let _ = writeln!(
        out,
        "<rect class=\"extent\" x=\"{x0:.1}\" y=\"{y:.1}\" width=\"{:.1}\" height=\"{height:.1}\" fill=\"#d5e1ee\" fill-opacity=\"0.5\"/>",
        x1 - x0
    );
    let _ = writeln!(
        out,
        "<text x=\"8\" y=\"{:.1}\" font-weight=\"bold\" fill=\"#222\">{} <tspan font-weight=\"normal\" fill=\"#666\">{}</tspan></text>",
        y + 14.0,
        xml(&band.name, MAX_LABEL),
        show_millis(last - first)
    );
    let mut row = y + BAND_HEAD;
    for bar in &band.bars {
        draw_bar(out, bar, axis, row);
        row += ROW_H;
    }
    out.push_str("</g>\n");
    y + height
}

fn draw_bar(out: &mut String, bar: &Bar, axis: &Axis, row: f64) {
    let x = axis.x(bar.start);
    let width = (axis.x(bar.start + bar.took) - x).max(MIN_BAR);
    let top = row + (ROW_H - BAR_H) / 2.0;
    let (fill, extra) = match bar.status.as_str() {
        "failed" => (FAILED, ""),
        "interrupted" => (INTERRUPTED, ""),
        "running" => (
            kind_colour(&bar.kind),
            " fill-opacity=\"0.55\" stroke=\"#222\" stroke-dasharray=\"3 2\"",
        ),
        _ => (kind_colour(&bar.kind), ""),
    };
    let _ = writeln!(
        out,
        "<text class=\"label\" x=\"20\" y=\"{:.1}\" fill=\"#222\">{}</text>",
        row + 14.0,
        xml(&bar.label, MAX_LABEL)
    );
    let _ = writeln!(
        out,
        "<rect class=\"bar\" data-kind=\"{}\" data-status=\"{}\" x=\"{x:.1}\" y=\"{top:.1}\" \
         width=\"{width:.1}\" height=\"{BAR_H}\" fill=\"{fill}\"{extra}><title>{}</title></rect>",
        xml(&bar.kind, MAX_LABEL),
        xml(&bar.status, MAX_LABEL),
        xml(&bar.tip, MAX_TIP)
    );
    let _ = writeln!(
        out,
        "<text x=\"{:.1}\" y=\"{:.1}\" fill=\"#555\" font-size=\"10\">{}</text>",
        x + width + 4.0,
        row + 14.0,
        show_millis(bar.took)
    );
}

fn kind_colour(kind: &str) -> &'static str {
    match kind {
        "bash" => BASH,
        "wasm" => WASM,
        "host" => HOST,
        _ => OTHER,
    }
}

/// What the colours mean.
fn legend(out: &mut String, y: f64) {
    let entries = [
        ("bash hook", BASH),
        ("wasm hook", WASM),
        ("hookhost's own work", HOST),
        ("other", OTHER),
        ("failed", FAILED),
        ("interrupted", INTERRUPTED),
    ];
    let mut x = 8.0;
    out.push_str("<g class=\"legend\">\n");
    for (name, colour) in entries {
        let _ = writeln!(
            out,
            "<rect x=\"{x:.1}\" y=\"{:.1}\" width=\"12\" height=\"12\" fill=\"{colour}\"/>\
             <text x=\"{:.1}\" y=\"{y:.1}\" fill=\"#333\">{name}</text>",
            y - 10.0,
            x + 16.0
        );
        // About 7 px a character at 12 px sans-serif, and a gap.
        x += 34.0 + name.len() as f64 * 7.0;
    }
    out.push_str("</g>\n");
}

/// `text` cut to `max` characters, made inert (no control characters,
/// which XML forbids), and escaped for XML text and attributes.
fn xml(text: &str, max: usize) -> String {
    let shown = inert(text);
    let mut cut: String = shown.chars().take(max).collect();
    if shown.chars().nth(max).is_some() {
        cut.push('…');
    }
    let mut out = String::with_capacity(cut.len());
    for c in cut.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_text_is_escaped_and_cut() {
        let text = xml("<script>alert('x')</script>&\u{1b}[2K\"", 100);
        assert_eq!(
            text,
            "&lt;script&gt;alert(&apos;x&apos;)&lt;/script&gt;&amp;\\e[2K&quot;"
        );
        assert_eq!(xml(&"a".repeat(50), 4), "aaaa…");
    }

    #[test]
    fn ticks_are_round_and_about_eight() {
        assert_eq!(tick_step(8000.0), 1000.0);
        assert_eq!(tick_step(12.0), 2.0);
        assert_eq!(tick_step(700.0), 100.0);
        assert!(tick_step(0.0) > 0.0);
    }

    #[test]
    fn the_format_comes_from_the_extension() {
        assert_eq!(Format::of(Path::new("a.svg")).unwrap(), Format::Svg);
        assert_eq!(Format::of(Path::new("a.HTML")).unwrap(), Format::Html);
        let err = Format::of(Path::new("a.png")).unwrap_err().to_string();
        assert!(err.contains(".svg or .html"), "{err}");
    }
}
