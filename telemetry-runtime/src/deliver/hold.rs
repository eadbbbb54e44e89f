//! The endpoint's `Retry-After`, kept with the queue (SPEC S-13, S-21): a 429 or 503 that
//! names a time holds every queued event until then — no later run or sender of this app
//! and user calls the endpoint before it. The time lives in the queue directory's
//! `retry-after` file (Unix milliseconds, written whole by a rename), so it is deleted with
//! the queue when telemetry is switched off. An unreadable file holds nothing.

use std::fs;
use std::time::SystemTime;

use serde_json::{Map, Value};

use super::fates::hold_line;
use super::queue::Queue;
use super::response::unix_millis;
use super::transport::Outcome;
use crate::config::write_private;

const FILE: &str = "retry-after";

impl Queue {
    /// The time (Unix ms) the endpoint asked not to be called before, while it is ahead.
    pub(crate) fn held_until(&self) -> Option<u64> {
        let text = fs::read_to_string(self.dir.join(FILE)).ok()?;
        let until: u64 = text.trim().parse().ok()?;
        (until > unix_millis(SystemTime::now())).then_some(until)
    }

    /// Holds the queue until `until` (Unix ms), or later if a later hold is already kept.
    pub(crate) fn hold_until(&self, until: u64) {
        if self.held_until().is_some_and(|kept| kept >= until) {
            return;
        }
        let tmp = self.dir.join(format!(".{FILE}.{}", crate::random::hex(12)));
        if write_private(&tmp, until.to_string().as_bytes()).is_ok()
            && fs::rename(&tmp, self.dir.join(FILE)).is_err()
        {
            let _ = fs::remove_file(&tmp);
        }
    }
}

/// After a request: a `Retry-After` (a throttled outcome) holds `queue`, if there is one;
/// the line that names the time, for the log file of the process `run`.
pub(super) fn hold_for(
    queue: Option<&Queue>,
    outcome: &Outcome,
    run: Option<&str>,
) -> Option<Map<String, Value>> {
    let Outcome::Throttled { until, .. } = outcome else {
        return None;
    };
    if let Some(queue) = queue {
        queue.hold_until(*until);
    }
    Some(hold_line(*until, run))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hold_is_kept_until_its_time_and_only_grows() {
        let dir = tempfile::tempdir().unwrap();
        let queue = Queue::new(dir.path().to_owned());
        assert_eq!(queue.held_until(), None);
        let now = unix_millis(SystemTime::now());
        queue.hold_until(now + 60_000);
        assert_eq!(queue.held_until(), Some(now + 60_000));
        queue.hold_until(now + 1_000); // an earlier time does not shorten it
        assert_eq!(queue.held_until(), Some(now + 60_000));
        queue.hold_until(now + 120_000);
        assert_eq!(queue.held_until(), Some(now + 120_000));
        // Past, or unreadable: no hold.
        fs::write(dir.path().join(FILE), (now - 1).to_string()).unwrap();
        assert_eq!(queue.held_until(), None);
        fs::write(dir.path().join(FILE), "garbage").unwrap();
        assert_eq!(queue.held_until(), None);
        // No directory (the queue is gone): nothing written, no panic.
        let gone = Queue::new(dir.path().join("nope/deeper"));
        gone.hold_until(now + 5_000);
        assert_eq!(gone.held_until(), None);
    }
}
