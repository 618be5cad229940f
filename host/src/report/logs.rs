//! Where run logs live: one file per run in `.hookhost/logs/`, the newest
//! linked as `latest.log`, old ones pruned.

use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use crate::model::units::file_timestamp;

/// How many run logs a stack keeps in `.hookhost/logs/` (older ones are removed).
pub const KEEP_LOGS: usize = 30;

/// A fresh log file name for a run: `DIR/<entry>-YYYYMMDD-HHMMSS.log` (UTC),
/// with `-2`, `-3`... when a run of the same second already wrote one.
/// Old logs beyond [`KEEP_LOGS`] are removed first.
pub fn new_log_path(dir: &Path, entry: &str) -> PathBuf {
    prune_logs(dir, KEEP_LOGS.saturating_sub(1));
    let stamp = file_timestamp(SystemTime::now());
    let mut path = dir.join(format!("{entry}-{stamp}.log"));
    let mut n = 2;
    while path.exists() {
        path = dir.join(format!("{entry}-{stamp}-{n}.log"));
        n += 1;
    }
    path
}

/// Point `latest.log` beside `log` at it (a relative symlink), so
/// `less .hookhost/logs/latest.log` always shows the newest run. Best effort:
/// a file system without symlinks just has no `latest.log`.
pub fn link_latest(log: &Path) {
    let (Some(dir), Some(name)) = (log.parent(), log.file_name()) else {
        return;
    };
    let link = dir.join("latest.log");
    let _ = std::fs::remove_file(&link);
    let _ = std::os::unix::fs::symlink(name, &link);
}

/// Keep the `keep` newest run logs of `dir` (by name: they sort by time
/// within an entry; by modification time across entries).
fn prune_logs(dir: &Path, keep: usize) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut logs: Vec<(SystemTime, PathBuf)> = entries
        .flatten()
        .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "log"))
        .map(|p| {
            (
                p.metadata()
                    .and_then(|m| m.modified())
                    .unwrap_or(UNIX_EPOCH),
                p,
            )
        })
        .collect();
    if logs.len() <= keep {
        return;
    }
    logs.sort();
    let excess = logs.len() - keep;
    for (_, path) in logs.into_iter().take(excess) {
        let _ = std::fs::remove_file(path);
    }
}
