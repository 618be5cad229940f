//! The timing table printed at the end of a run.

use std::time::Duration;

use crate::model::events::{HostWork, Timing};
use crate::model::inert::inert;
use crate::model::phases::Phase;
use crate::model::units::show_elapsed;

/// What the table is made of.
pub struct Rows<'a> {
    /// The host's own work before the first phase (start-up, compile,
    /// session start), in order.
    pub host: &'a [HostWork],
    /// Each phase's wall time, in order (a phase run twice is summed).
    pub phases: &'a [(Phase, Duration)],
    /// Each hook's time in each phase.
    pub hooks: &'a [Timing],
}

/// DevStack-style timing table: the host's own work and each phase (these
/// add up to the total), then each hook. A hook that failed is marked, and
/// so is the one Ctrl-C stopped.
pub fn timing_table(rows: &Rows, total: Duration, interrupted: Option<&str>) -> String {
    let timings = rows.hooks;
    let mut out = String::from("\n=========================\nhookhost timing\n");
    let width = timings
        .iter()
        .map(|t| t.hook.len())
        .max()
        .unwrap_or(4)
        .max(18);
    if !rows.host.is_empty() {
        out.push_str("host:\n");
        for work in rows.host {
            out.push_str(&format!(
                "  {:<width$} {:>10}  {}\n",
                work.name,
                show_elapsed(work.duration),
                inert(&work.detail)
            ));
        }
    }
    out.push_str("per phase:\n");
    let phases = sums(rows.phases.iter(), |(p, d)| (p.to_string(), *d, false));
    for (phase, d, _) in phases {
        out.push_str(&format!("  {phase:<width$} {:>10}\n", show_elapsed(d)));
    }
    out.push_str("per hook:\n");
    let hooks = sums(timings.iter(), |t| (t.hook.clone(), t.duration, !t.ok));
    for (hook, d, failed) in hooks {
        let shown = inert(&hook);
        let kind = timings
            .iter()
            .find(|t| t.hook == hook)
            .map_or("", |t| t.kind.as_str());
        let mark = match (interrupted == Some(hook.as_str()), failed) {
            (true, _) => "  INTERRUPTED",
            (false, true) => "  FAILED",
            (false, false) => "",
        };
        out.push_str(&format!(
            "  {shown:<width$} {:>10}  {kind}{mark}\n",
            show_elapsed(d)
        ));
    }
    out.push_str(&format!(
        "  {:<width$} {:>10}\n",
        "total",
        show_elapsed(total)
    ));
    out.push_str("=========================\n");
    out
}

/// Durations summed by key, in order of first appearance, with whether
/// any of them failed; `row` gives each item's key, duration and failure.
fn sums<T>(
    items: impl Iterator<Item = T>,
    row: impl Fn(T) -> (String, Duration, bool),
) -> Vec<(String, Duration, bool)> {
    let mut out: Vec<(String, Duration, bool)> = Vec::new();
    for item in items {
        let (k, d, bad) = row(item);
        match out.iter_mut().find(|(name, _, _)| *name == k) {
            Some((_, sum, failed)) => {
                *sum += d;
                *failed |= bad;
            }
            None => out.push((k, d, bad)),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_has_host_work_and_phase_spans_and_sums_hooks() {
        let t = |hook: &str, phase, ms, ok| Timing {
            phase,
            hook: hook.into(),
            kind: "bash".into(),
            duration: Duration::from_millis(ms),
            ok,
        };
        let ms = Duration::from_millis;
        let host = [HostWork {
            name: "compile".into(),
            detail: "2 components (1 cached)".into(),
            duration: ms(7),
        }];
        let table = timing_table(
            &Rows {
                host: &host,
                phases: &[(Phase::Source, ms(6)), (Phase::Unstack, ms(5))],
                hooks: &[
                    t("10-a", Phase::Source, 1, true),
                    t("20-b", Phase::Source, 2, true),
                    t("10-a", Phase::Unstack, 4, false),
                ],
            },
            Duration::from_millis(18),
            None,
        );
        let row = |name: &str| {
            table
                .lines()
                .find(|l| l.trim_start().starts_with(name))
                .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
                .unwrap_or_default()
        };
        assert!(table.contains("host:\n  compile"), "{table}");
        assert_eq!(row("compile"), "compile 7.00 ms 2 components (1 cached)");
        assert_eq!(row("source"), "source 6.00 ms", "a phase's wall time");
        assert_eq!(row("20-b"), "20-b 2.00 ms bash");
        assert!(table.contains("5.00 ms  bash  FAILED"), "{table}");
        assert!(table.contains("total"), "{table}");
    }
}
