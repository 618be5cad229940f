//! Durations, sizes and times as hookhost shows them.
//!
//! Two forms of a duration, for two readers: a limit as an operator writes
//! it in a manifest or grant (`30s`, [`show_limit`]), and the time a step
//! took as people read a timing table (`3.21 s`, [`show_elapsed`]). Times
//! are UTC, computed by `jiff`.

use std::time::{Duration, SystemTime};

use jiff::civil::DateTime;
use jiff::tz::TimeZone;
use jiff::Timestamp;

/// A duration as an operator writes it in a manifest (`30s`, `250ms`, `2m`).
pub fn show_limit(d: Duration) -> String {
    let ms = d.as_millis();
    if ms.is_multiple_of(60_000) && ms > 0 {
        format!("{}m", ms / 60_000)
    } else if ms.is_multiple_of(1000) {
        format!("{}s", ms / 1000)
    } else {
        format!("{ms}ms")
    }
}

/// A size as an operator writes it in a manifest (`64MiB`).
pub fn show_size(bytes: u64) -> String {
    const UNITS: [(u64, &str); 3] = [(1 << 30, "GiB"), (1 << 20, "MiB"), (1 << 10, "KiB")];
    UNITS
        .iter()
        .find(|(unit, _)| bytes >= *unit && bytes.is_multiple_of(*unit))
        .map(|(unit, name)| format!("{}{name}", bytes / unit))
        .unwrap_or_else(|| format!("{bytes}B"))
}

/// Milliseconds with two decimals: hooks are often well under one.
pub fn show_ms(d: Duration) -> String {
    format!("{:.2} ms", millis(d))
}

/// The time something took, as people read it: `0.42 ms`, `512.30 ms`,
/// `3.21 s`, `2m 05s`.
/// [`show_elapsed`] of a number of milliseconds as a journal records it
/// (a float from a file: negative, NaN or huge values are shown, not
/// trusted).
pub fn show_millis(ms: f64) -> String {
    let secs = if ms.is_finite() {
        ms.max(0.0) / 1000.0
    } else {
        0.0
    };
    show_elapsed(Duration::try_from_secs_f64(secs).unwrap_or(Duration::MAX))
}

pub fn show_elapsed(d: Duration) -> String {
    let secs = d.as_secs_f64();
    if secs < 1.0 {
        show_ms(d)
    } else if secs < 60.0 {
        format!("{secs:.2} s")
    } else {
        format!("{}m {:02}s", d.as_secs() / 60, d.as_secs() % 60)
    }
}

/// Milliseconds to the microsecond (JSON consumers need no more digits).
pub fn millis(d: Duration) -> f64 {
    (d.as_secs_f64() * 1_000_000.0).round() / 1000.0
}

/// `YYYYMMDD-HHMMSS` in UTC, for file names.
pub fn file_timestamp(time: SystemTime) -> String {
    utc(time).strftime("%Y%m%d-%H%M%S").to_string()
}

/// `YYYY-MM-DD HH:MM:SS` in UTC.
pub fn utc_timestamp(time: SystemTime) -> String {
    utc(time).strftime("%Y-%m-%d %H:%M:%S").to_string()
}

/// `HH:MM:SS.mmm` in UTC, the stamp of each log line.
pub fn utc_time_of_day(time: SystemTime) -> String {
    utc(time).strftime("%H:%M:%S%.3f").to_string()
}

/// RFC 3339 in UTC with milliseconds (`2026-11-21T10:00:00.123Z`).
pub fn rfc3339_millis(time: SystemTime) -> String {
    utc(time).strftime("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

/// The civil UTC date and time of `time`; a time before 1970 (a clock set
/// wrong) shows as the epoch.
fn utc(time: SystemTime) -> DateTime {
    let at = Timestamp::try_from(time)
        .ok()
        .filter(|t| *t >= Timestamp::UNIX_EPOCH)
        .unwrap_or(Timestamp::UNIX_EPOCH);
    TimeZone::UTC.to_datetime(at)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::UNIX_EPOCH;

    #[test]
    fn milliseconds_from_a_file_never_panic() {
        assert_eq!(show_millis(1.5), show_elapsed(Duration::from_micros(1500)));
        for odd in [-1.0, f64::NAN, f64::INFINITY, 1e30] {
            assert!(!show_millis(odd).is_empty());
        }
    }

    #[test]
    fn utc_dates_are_civil() {
        let at = |secs| UNIX_EPOCH + Duration::from_secs(secs);
        assert_eq!(utc_timestamp(at(0)), "1970-01-01 00:00:00");
        assert_eq!(utc_timestamp(at(951_782_400)), "2000-02-29 00:00:00");
        assert_eq!(file_timestamp(at(1_795_000_000)), "20261118-110640");
        assert_eq!(
            utc_time_of_day(at(3_661) + Duration::from_millis(7)),
            "01:01:01.007"
        );
        let t = UNIX_EPOCH + Duration::from_millis(1_795_255_200_123);
        assert_eq!(rfc3339_millis(t), "2026-11-21T10:00:00.123Z");
        assert_eq!(rfc3339_millis(UNIX_EPOCH), "1970-01-01T00:00:00.000Z");
    }

    #[test]
    fn elapsed_times_read_as_people_write_them() {
        assert_eq!(show_elapsed(Duration::from_micros(420)), "0.42 ms");
        assert_eq!(show_elapsed(Duration::from_millis(3210)), "3.21 s");
        assert_eq!(show_elapsed(Duration::from_secs(125)), "2m 05s");
    }

    #[test]
    fn limits_read_as_operators_write_them() {
        assert_eq!(show_limit(Duration::from_secs(30)), "30s");
        assert_eq!(show_limit(Duration::from_millis(250)), "250ms");
        assert_eq!(show_limit(Duration::from_secs(120)), "2m");
        assert_eq!(show_size(64 << 20), "64MiB");
        assert_eq!(show_size(1000), "1000B");
    }
}
