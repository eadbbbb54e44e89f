//! The offline spool (SPEC S-13): events that were not delivered — left at the deadline, or
//! refused with a connection error, 408, 429 or 5xx — wait in a bounded directory in the
//! user's cache directory and are sent by a later run's sender, after that run's own
//! events and within its deadline.
//!
//! One file per event (`<ts>-<executionID>-<eventType>-<nonce>.json`, mode 0600), written
//! under a temporary name and renamed into place. A run claims a file by renaming it to
//! `…json.claimed-<nonce>` (rename is atomic: of concurrent runs, exactly one wins), deletes
//! it once delivered and renames it back otherwise. Claims older than [`STALE_CLAIM`] (a run
//! that died) are taken back. Anything unreadable is skipped; nothing here ever affects the
//! command.

use std::fs;
use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use crate::config::{create_private_dir, write_private};
use crate::event::Event;

/// At most this many events are kept; the oldest are dropped first.
pub const MAX_EVENTS: usize = 200;
/// Events older than this are dropped.
pub const MAX_AGE: Duration = Duration::from_secs(7 * 24 * 3600);
/// A claim older than this belongs to a run that died: the file is taken back.
const STALE_CLAIM: Duration = Duration::from_secs(60);
/// Events sent from the spool per run (one request).
pub const DRAIN_BATCH: usize = 50;

const SUFFIX: &str = ".json";
const CLAIMED: &str = ".claimed-";

/// A spool directory.
#[derive(Clone, Debug)]
pub(crate) struct Spool {
    dir: PathBuf,
}

/// A spooled event claimed by this run.
pub(crate) struct Claimed {
    pub event: Event,
    original: PathBuf,
    claimed: PathBuf,
}

impl Spool {
    pub(crate) fn new(dir: PathBuf) -> Spool {
        Spool { dir }
    }

    /// Adds events; then trims the spool to its bounds. Returns how many were written.
    pub(crate) fn add(&self, events: &[&Event]) -> std::io::Result<usize> {
        create_private_dir(&self.dir)?;
        let mut written = 0;
        for event in events {
            let name = format!(
                "{:016}-{}-{}-{}{SUFFIX}",
                event.ts,
                sanitize(&event.execution_id),
                sanitize(&event.event_type),
                nonce()
            );
            let tmp = self.dir.join(format!(".tmp-{name}"));
            let bytes = serde_json::to_vec(event).map_err(std::io::Error::other)?;
            write_private(&tmp, &bytes)?;
            if let Err(e) = fs::rename(&tmp, self.dir.join(&name)) {
                let _ = fs::remove_file(&tmp);
                return Err(e);
            }
            written += 1;
        }
        self.trim();
        Ok(written)
    }

    /// Drops the oldest events beyond [`MAX_EVENTS`] and those older than [`MAX_AGE`].
    fn trim(&self) {
        let mut files = self.waiting_files();
        let now = SystemTime::now();
        files.retain(|(path, ts)| {
            // A name with an absurd timestamp (far future, or beyond what SystemTime can
            // hold) is kept like a fresh one: checked arithmetic, never a panic.
            let too_old = SystemTime::UNIX_EPOCH
                .checked_add(Duration::from_millis(*ts))
                .and_then(|written| now.duration_since(written).ok())
                .is_some_and(|age| age > MAX_AGE);
            if too_old {
                let _ = fs::remove_file(path);
            }
            !too_old
        });
        if files.len() > MAX_EVENTS {
            for (path, _) in &files[..files.len() - MAX_EVENTS] {
                let _ = fs::remove_file(path);
            }
        }
    }

    /// Spooled files not claimed by anyone, oldest first, with their timestamps.
    fn waiting_files(&self) -> Vec<(PathBuf, u64)> {
        let Ok(entries) = fs::read_dir(&self.dir) else {
            return Vec::new();
        };
        let mut files: Vec<(PathBuf, u64)> = entries
            .flatten()
            .filter_map(|entry| {
                let name = entry.file_name().into_string().ok()?;
                if !name.ends_with(SUFFIX) || name.starts_with('.') {
                    return None;
                }
                let ts = name.split('-').next()?.parse().ok()?;
                Some((entry.path(), ts))
            })
            .collect();
        files.sort();
        files
    }

    /// Claims up to `max` waiting events, oldest first, leaving those of the execution
    /// `own` (a run never re-sends its own events: no retries inside a run, SPEC S-8).
    /// Corrupt files are removed; stale claims of dead runs are taken back first.
    pub(crate) fn claim(&self, max: usize, own: Option<&str>) -> (Vec<Claimed>, usize) {
        self.reclaim_stale();
        self.trim();
        let mut claimed = Vec::new();
        let mut corrupt = 0;
        for (path, _) in self.waiting_files() {
            if claimed.len() >= max {
                break;
            }
            let target = PathBuf::from(format!("{}{CLAIMED}{}", path.display(), nonce()));
            if fs::rename(&path, &target).is_err() {
                continue; // another run got it
            }
            match fs::read(&target)
                .ok()
                .and_then(|b| serde_json::from_slice::<Event>(&b).ok())
            {
                Some(event) if Some(event.execution_id.as_str()) == own => {
                    let _ = fs::rename(&target, &path);
                }
                Some(event) => claimed.push(Claimed {
                    event,
                    original: path,
                    claimed: target,
                }),
                None => {
                    corrupt += 1;
                    let _ = fs::remove_file(&target);
                }
            }
        }
        (claimed, corrupt)
    }

    fn reclaim_stale(&self) {
        let Ok(entries) = fs::read_dir(&self.dir) else {
            return;
        };
        for entry in entries.flatten() {
            let Ok(name) = entry.file_name().into_string() else {
                continue;
            };
            let Some(pos) = name.find(CLAIMED) else {
                continue;
            };
            let stale = entry
                .metadata()
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| t.elapsed().ok())
                .is_some_and(|age| age > STALE_CLAIM);
            if stale {
                let _ = fs::rename(entry.path(), self.dir.join(&name[..pos]));
            }
        }
    }

    /// Deletes the whole spool (telemetry switched off).
    pub(crate) fn delete(&self) {
        let _ = fs::remove_dir_all(&self.dir);
    }
}

impl Claimed {
    /// Delivered: gone for good.
    pub(crate) fn done(self) {
        let _ = fs::remove_file(&self.claimed);
    }

    /// Not delivered: back in the spool for a later run.
    pub(crate) fn release(self) {
        if fs::rename(&self.claimed, &self.original).is_err() {
            let _ = fs::remove_file(&self.claimed);
        }
    }
}

fn sanitize(s: &str) -> String {
    s.chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .take(64)
        .collect()
}

fn nonce() -> String {
    crate::random::hex(12)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{ProcessInfo, RawEvent};

    fn event(ts_offset: u64) -> Event {
        let mut raw = RawEvent::exited("werf converge".into(), 0, 1);
        raw.ts -= ts_offset;
        raw.complete(&ProcessInfo {
            execution_id: "0b6f3c2e-9a3b-4a8e-8d2f-1f2e3d4c5b6a".into(),
            ..Default::default()
        })
    }

    #[test]
    fn a_run_never_claims_its_own_events() {
        let dir = tempfile::tempdir().unwrap();
        let spool = Spool::new(dir.path().join("spool"));
        let own = event(1);
        spool.add(&[&own]).unwrap();
        let (claimed, _) = spool.claim(10, Some(&own.execution_id));
        assert!(claimed.is_empty());
        // Left waiting, for a later run.
        let (claimed, _) = spool.claim(10, Some("another-run"));
        assert_eq!(claimed.len(), 1);
    }

    #[test]
    fn add_claim_done_release() {
        let dir = tempfile::tempdir().unwrap();
        let spool = Spool::new(dir.path().join("spool"));
        let (a, b) = (event(2), event(1));
        assert_eq!(spool.add(&[&a, &b]).unwrap(), 2);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            for entry in fs::read_dir(dir.path().join("spool")).unwrap() {
                assert_eq!(
                    entry.unwrap().metadata().unwrap().permissions().mode() & 0o777,
                    0o600
                );
            }
        }
        let (claimed, corrupt) = spool.claim(10, None);
        assert_eq!(corrupt, 0);
        assert_eq!(
            claimed.iter().map(|c| c.event.clone()).collect::<Vec<_>>(),
            vec![a, b]
        );
        // Claimed files are invisible to other runs.
        assert_eq!(spool.claim(10, None).0.len(), 0);
        let mut it = claimed.into_iter();
        it.next().unwrap().done();
        it.next().unwrap().release();
        let (again, _) = spool.claim(10, None);
        assert_eq!(again.len(), 1);
    }

    #[test]
    fn bounded_by_count_and_age() {
        let dir = tempfile::tempdir().unwrap();
        let spool = Spool::new(dir.path().to_owned());
        let events: Vec<Event> = (0..MAX_EVENTS as u64 + 5).rev().map(event).collect();
        spool.add(&events.iter().collect::<Vec<_>>()).unwrap();
        let (claimed, _) = spool.claim(1000, None);
        assert_eq!(claimed.len(), MAX_EVENTS);
        // The oldest five were dropped.
        assert_eq!(claimed[0].event.ts, events[5].ts);
        for c in claimed {
            c.done();
        }
        let old = event(MAX_AGE.as_millis() as u64 + 60_000);
        spool.add(&[&old]).unwrap();
        assert_eq!(spool.claim(10, None).0.len(), 0);
    }

    #[test]
    fn corrupt_files_are_skipped_and_removed() {
        let dir = tempfile::tempdir().unwrap();
        let spool = Spool::new(dir.path().to_owned());
        let now = crate::event::unix_millis();
        fs::write(
            dir.path().join(format!("{now:016}-x-y-z.json")),
            b"{not json",
        )
        .unwrap();
        fs::write(dir.path().join("unrelated.txt"), b"x").unwrap();
        spool.add(&[&event(0)]).unwrap();
        let (claimed, corrupt) = spool.claim(10, None);
        assert_eq!((claimed.len(), corrupt), (1, 1));
        assert!(dir.path().join("unrelated.txt").exists());
    }

    #[test]
    fn absurd_timestamps_in_names_do_not_panic() {
        let dir = tempfile::tempdir().unwrap();
        let spool = Spool::new(dir.path().to_owned());
        fs::write(dir.path().join(format!("{}-x-y-z.json", u64::MAX)), b"{}").unwrap();
        spool.add(&[&event(0)]).unwrap();
        let (claimed, corrupt) = spool.claim(10, None);
        assert_eq!((claimed.len(), corrupt), (1, 1));
    }

    #[test]
    fn unwritable_spool_is_an_error_value_not_a_panic() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("file");
        fs::write(&file, b"x").unwrap();
        let spool = Spool::new(file.join("spool")); // parent is a file
        assert!(spool.add(&[&event(0)]).is_err());
        assert_eq!(spool.claim(10, None).0.len(), 0);
        spool.delete();
    }
}
