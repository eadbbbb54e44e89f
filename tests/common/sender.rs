//! Pieces the detached sender's black-box suites share (`detached.rs`, `sender_life.rs`,
//! `sender_trust.rs`): a run that delivers detached, its queue, and waiting for senders.
#![cfg(target_os = "linux")]

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::procs::alive;
use super::{eventually, sender_pids, Run};

/// How long these suites wait for a sender or a delivery at most.
pub const LONG: Duration = Duration::from_secs(30);

/// Telemetry on, sending to `url`, logging to `log`, delivering detached.
pub fn detached(run: Run, url: &str, log: &Path) -> Run {
    run.telemetry(url, log)
        .env("WERF_TELEMETRY_DELIVERY", "detached")
}

/// The mini-werf's queue in a test home.
pub fn queue_dir(home: &tempfile::TempDir) -> PathBuf {
    home.path().join("cache/werf/telemetry-spool")
}

/// Event files in the queue, waiting or claimed.
pub fn queued(home: &tempfile::TempDir) -> Vec<String> {
    std::fs::read_dir(queue_dir(home))
        .map(|d| {
            d.flatten()
                .filter_map(|e| e.file_name().into_string().ok())
                .filter(|n| n.contains(".json"))
                .collect()
        })
        .unwrap_or_default()
}

/// Waits for every sender named in `log` to be gone.
pub fn senders_end(log: &Path) {
    assert!(
        eventually(LONG, || sender_pids(log).iter().all(|p| !alive(*p))),
        "the senders of {} ended",
        log.display()
    );
}
