//! The endpoint's `Retry-After`, kept with the queue (SPEC S-13, S-21): a 429 or 503 that
//! names a time holds every queued event until then — no later run or sender of this app
//! and user calls the endpoint before it. The time lives in the queue directory's
//! `retry-after` file (Unix milliseconds, written whole by a rename), so it is deleted with
//! the queue when telemetry is switched off. An unreadable file holds nothing; a time more
//! than [`MAX_HOLD`] ahead (a clock that jumped, a planted file) is clamped to that when it
//! is read, and the clamp is written back, so no hold outlasts it.

use std::fs;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::dir::Queue;
use super::safe;
use crate::config::write_private;

const FILE: &str = "retry-after";
/// Temporary files of a hold being written: `.retry-after.<nonce>`.
pub(super) const TMP_PREFIX: &str = ".retry-after.";
/// The longest hold kept: what `Retry-After` is clamped to when it is received, too.
pub(crate) const MAX_HOLD: Duration = Duration::from_secs(24 * 3600);

pub(super) fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

impl Queue {
    /// The time (Unix ms) the endpoint asked not to be called before, while it is ahead.
    pub(crate) fn held_until(&self) -> Option<u64> {
        let bytes = safe::read_file(&self.dir.join(FILE)).ok()?;
        let until: u64 = std::str::from_utf8(&bytes).ok()?.trim().parse().ok()?;
        let now = now_ms();
        let latest = now.saturating_add(MAX_HOLD.as_millis() as u64);
        if until > latest {
            self.write_hold(latest);
            return Some(latest);
        }
        (until > now).then_some(until)
    }

    /// Holds the queue until `until` (Unix ms), or later if a later hold is already kept.
    pub(crate) fn hold_until(&self, until: u64) {
        if self.held_until().is_some_and(|kept| kept >= until) {
            return;
        }
        self.write_hold(until);
    }

    fn write_hold(&self, until: u64) {
        let tmp = self
            .dir
            .join(format!("{TMP_PREFIX}{}", crate::random::hex(12)));
        if write_private(&tmp, until.to_string().as_bytes()).is_ok()
            && fs::rename(&tmp, self.dir.join(FILE)).is_err()
        {
            let _ = fs::remove_file(&tmp);
        }
    }

    /// A hold whose time has passed is litter: it goes.
    pub(super) fn clear_past_hold(&self) {
        let path = self.dir.join(FILE);
        if path.symlink_metadata().is_ok() && self.held_until().is_none() {
            let _ = fs::remove_file(path);
        }
    }

    /// Whether `name` is the hold or one being written.
    pub(super) fn is_hold(name: &str) -> bool {
        name == FILE || name.starts_with(TMP_PREFIX)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hold_is_kept_until_its_time_and_only_grows() {
        let dir = tempfile::tempdir().unwrap();
        let queue = Queue::new(dir.path().to_owned());
        assert_eq!(queue.held_until(), None);
        let now = now_ms();
        queue.hold_until(now + 60_000);
        assert_eq!(queue.held_until(), Some(now + 60_000));
        queue.hold_until(now + 1_000); // an earlier time does not shorten it
        assert_eq!(queue.held_until(), Some(now + 60_000));
        queue.hold_until(now + 120_000);
        assert_eq!(queue.held_until(), Some(now + 120_000));
        // Past, or unreadable: no hold.
        fs::write(dir.path().join(FILE), (now - 1).to_string()).unwrap();
        assert_eq!(queue.held_until(), None);
        queue.clear_past_hold();
        assert!(!dir.path().join(FILE).exists(), "a past hold is removed");
        fs::write(dir.path().join(FILE), "garbage").unwrap();
        assert_eq!(queue.held_until(), None);
        // No directory (the queue is gone): nothing written, no panic.
        let gone = Queue::new(dir.path().join("nope/deeper"));
        gone.hold_until(now + 5_000);
        assert_eq!(gone.held_until(), None);
    }

    #[test]
    fn a_hold_far_ahead_is_clamped_for_good() {
        let dir = tempfile::tempdir().unwrap();
        let queue = Queue::new(dir.path().to_owned());
        fs::write(dir.path().join(FILE), u64::MAX.to_string()).unwrap();
        let day = MAX_HOLD.as_millis() as u64;
        let first = queue.held_until().unwrap();
        assert!(first <= now_ms() + day);
        // Written back: a later read does not move it on.
        std::thread::sleep(Duration::from_millis(5));
        assert_eq!(queue.held_until(), Some(first));
        // A link in the hold's place holds nothing.
        fs::remove_file(dir.path().join(FILE)).unwrap();
        #[cfg(unix)]
        {
            let target = dir.path().join("t");
            fs::write(&target, (now_ms() + 60_000).to_string()).unwrap();
            std::os::unix::fs::symlink(&target, dir.path().join(FILE)).unwrap();
            assert_eq!(queue.held_until(), None);
        }
    }
}
