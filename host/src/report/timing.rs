//! The timing table printed at the end of a run.

use std::time::Duration;

use crate::model::events::Timing;
use crate::model::inert::inert;
use crate::model::units::show_elapsed;

/// DevStack-style timing table: per phase, then per hook, then the total.
/// A hook that failed is marked, and so is the one Ctrl-C stopped.
pub fn timing_table(timings: &[Timing], total: Duration, interrupted: Option<&str>) -> String {
    let mut out = String::from("\n=========================\nhookhost timing\n");
    let width = timings
        .iter()
        .map(|t| t.hook.len())
        .max()
        .unwrap_or(4)
        .max(18);
    out.push_str("per phase:\n");
    for (phase, d, _) in sums(timings, |t| t.phase.to_string()) {
        out.push_str(&format!("  {phase:<width$} {:>10}\n", show_elapsed(d)));
    }
    out.push_str("per hook:\n");
    for (hook, d, failed) in sums(timings, |t| t.hook.clone()) {
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

/// Durations summed by `key`, in order of first appearance, with whether
/// any of them failed.
fn sums(timings: &[Timing], key: impl Fn(&Timing) -> String) -> Vec<(String, Duration, bool)> {
    let mut out: Vec<(String, Duration, bool)> = Vec::new();
    for t in timings {
        let k = key(t);
        match out.iter_mut().find(|(name, _, _)| *name == k) {
            Some((_, d, failed)) => {
                *d += t.duration;
                *failed |= !t.ok;
            }
            None => out.push((k, t.duration, !t.ok)),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::phases::Phase;

    #[test]
    fn the_table_sums_per_phase_and_hook_and_marks_failures() {
        let t = |hook: &str, phase, ms, ok| Timing {
            phase,
            hook: hook.into(),
            kind: "bash".into(),
            duration: Duration::from_millis(ms),
            ok,
        };
        let table = timing_table(
            &[
                t("10-a", Phase::Source, 1, true),
                t("20-b", Phase::Source, 2, true),
                t("10-a", Phase::Unstack, 4, false),
            ],
            Duration::from_millis(10),
            None,
        );
        assert!(table.contains("source"), "{table}");
        assert!(table.contains("3.00 ms"), "{table}");
        assert!(table.contains("5.00 ms  bash  FAILED"), "{table}");
        assert!(table.contains("total"), "{table}");
    }
}
