//! The queue's event files: appending (waiting, or claimed by this run), claiming, giving
//! back, the bounds (200 events, 7 days), the scan that takes back the claims of processes
//! that died and clears litter, and the deletion an opt-out asks for.

use std::ffi::{OsStr, OsString};
use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use super::dir::{is_token, older_than, sanitize, Owner, Queue, MAX_AGE, MAX_EVENTS, STALE_CLAIM};
use super::locks::{RUN_PREFIX, SENDER_LOCK, SPAWN_LOCK, START_PREFIX, STOP};
use super::oslock::Held;
use super::safe::{self, OpenError};
use crate::config::{create_private_dir, write_private};
use crate::event::Event;

const SUFFIX: &str = ".json";
const CLAIMED: &str = ".claimed-";
const OWNER_PREFIX: &str = ".owner-";
const TMP_PREFIX: &str = ".tmp-";

/// The order of this process's appends, in the names of its event files.
static ORDER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// An event claimed by this process.
pub(crate) struct Claimed {
    pub event: Event,
    waiting: PathBuf,
    claimed: PathBuf,
}

impl Owner {
    /// Done with the queue: its lock file goes (no claim of its may be left).
    pub(crate) fn retire(self, queue: &Queue) {
        let _ = fs::remove_file(queue.dir.join(format!("{OWNER_PREFIX}{}.lock", self.id)));
    }
}

impl Queue {
    /// Becomes a claimant with a fresh id: creates and locks `.owner-<id>.lock`.
    pub(crate) fn owner(&self) -> std::io::Result<Owner> {
        let id = crate::random::hex(16);
        let file = self.own_lock(&format!("{OWNER_PREFIX}{id}.lock"))?;
        Ok(Owner { id, _lock: file })
    }

    fn write_event(&self, event: &Event) -> std::io::Result<(PathBuf, PathBuf)> {
        self.writable()?;
        // `<ts>-<execution>-<order><type>-<nonce>`: names sort in the order the run
        // recorded its events, also within one millisecond (CommandStarted before
        // CommandExited), so that a sender's batch keeps it.
        let order = ORDER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let name = format!(
            "{:016}-{}-{:08}{}-{}{SUFFIX}",
            event.ts,
            sanitize(&event.execution_id),
            order % 100_000_000,
            sanitize(&event.event_type),
            crate::random::hex(12)
        );
        let tmp = self.dir.join(format!("{TMP_PREFIX}{name}"));
        let bytes = serde_json::to_vec(event).map_err(std::io::Error::other)?;
        match write_private(&tmp, &bytes) {
            // The directory went (an opt-out, or someone's `rm -r`): made again, and
            // checked again, since it is not the one checked before.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                create_private_dir(&self.dir)?;
                safe::trust_dir(&self.dir).map_err(std::io::Error::other)?;
                write_private(&tmp, &bytes)?;
            }
            other => other?,
        }
        Ok((tmp, self.dir.join(name)))
    }

    /// Appends an event as waiting (any sender may take it). Returns the file's path. The
    /// bounds are kept by [`Queue::trim`], which the caller runs off the exit's path, and
    /// every claim.
    pub(crate) fn append(&self, event: &Event) -> std::io::Result<PathBuf> {
        let (tmp, waiting) = self.write_event(event)?;
        rename_or_remove(&tmp, &waiting)?;
        Ok(waiting)
    }

    /// Appends an event claimed by `owner`: no other sender takes it while `owner` lives.
    pub(crate) fn append_claimed(&self, event: &Event, owner: &Owner) -> std::io::Result<Claimed> {
        let (tmp, waiting) = self.write_event(event)?;
        let claimed = claimed_name(&waiting, owner);
        rename_or_remove(&tmp, &claimed)?;
        Ok(Claimed {
            event: event.clone(),
            waiting,
            claimed,
        })
    }

    /// Drops the oldest waiting events beyond [`MAX_EVENTS`] and those older than
    /// [`MAX_AGE`]. Returns how many were dropped.
    pub(crate) fn trim(&self) -> usize {
        let mut files = self.waiting_files();
        trim_list(&mut files)
    }

    /// Waiting files, oldest first, with their timestamps.
    pub(crate) fn waiting_files(&self) -> Vec<(PathBuf, u64)> {
        let Ok(entries) = fs::read_dir(&self.dir) else {
            return Vec::new();
        };
        let mut files: Vec<(PathBuf, u64)> = entries
            .flatten()
            .filter_map(|entry| waiting_entry(entry.file_name().to_str()?, &self.dir))
            .collect();
        files.sort();
        files
    }

    /// One look at the directory: claims of processes that died go back to waiting; owner
    /// and run locks nobody holds, start tokens, temporary files and a hold past its time go
    /// once they are stale; an entry named like one of the queue's files that is not a
    /// regular file of this user is removed (and said). Returns the waiting files, oldest
    /// first.
    fn scan(&self) -> Vec<(PathBuf, u64)> {
        let Ok(entries) = fs::read_dir(&self.dir) else {
            return Vec::new();
        };
        let names: Vec<OsString> = entries.flatten().map(|e| e.file_name()).collect();
        // Claimants seen in this look (a handful): asked once each.
        let mut owners: Vec<(&str, Held)> = Vec::new();
        let mut files = Vec::new();
        for os_name in &names {
            let Some(name) = os_name.to_str() else {
                continue; // not a name the queue makes: left alone
            };
            let path = self.dir.join(name);
            if is_ours(name) {
                if let Some(bad) = safe::bad_entry(&path) {
                    let removed = safe::remove_entry(&path);
                    self.note_bad(os_name, bad, removed);
                    continue;
                }
            }
            if let Some(file) = waiting_entry(name, &self.dir) {
                files.push(file);
            } else if let Some(pos) = name.find(CLAIMED) {
                let owner = &name[pos + CLAIMED.len()..];
                let held = match owners.iter().find(|(o, _)| *o == owner) {
                    Some((_, held)) => *held,
                    None => {
                        let held = self.owner_held(owner);
                        owners.push((owner, held));
                        held
                    }
                };
                let stale = match held {
                    Held::Yes => false,
                    Held::No => true,
                    Held::Unknown => older_than(&path, STALE_CLAIM),
                };
                let waiting = self.dir.join(&name[..pos]);
                if stale && fs::rename(&path, &waiting).is_ok() {
                    if let Some(file) = waiting_entry(&name[..pos], &self.dir) {
                        files.push(file);
                    }
                }
            } else if name.starts_with(OWNER_PREFIX) || name.starts_with(RUN_PREFIX) {
                // Published only once locked: nobody holds it, so its process died.
                if self.probe(name) == Held::No {
                    let _ = fs::remove_file(&path);
                }
            } else if (name.starts_with(START_PREFIX)
                || name.starts_with(TMP_PREFIX)
                || name.starts_with(super::hold::TMP_PREFIX))
                && older_than(&path, STALE_CLAIM)
            {
                let _ = fs::remove_file(&path);
            }
        }
        self.clear_past_hold();
        files.sort();
        files
    }

    /// Claims up to `max` waiting events for `owner`, oldest first, leaving those of the
    /// execution `own` (a run never re-sends its own events: no retries inside a run,
    /// SPEC S-8) and those in `skip` (a sender's events it already tried). Claims of
    /// processes that died are taken back first; corrupt files are removed and counted.
    pub(crate) fn claim(
        &self,
        max: usize,
        owner: &Owner,
        own: Option<&str>,
        skip: &[PathBuf],
    ) -> (Vec<Claimed>, usize) {
        let mut files = self.scan();
        trim_list(&mut files);
        let own = own.map(sanitize);
        let mut claimed = Vec::new();
        let mut corrupt = 0;
        for (path, _) in files {
            if claimed.len() >= max {
                break;
            }
            if skip.contains(&path)
                || own
                    .as_deref()
                    .is_some_and(|own| execution_of(&path) == Some(own))
            {
                continue;
            }
            match self.claim_file(&path, owner) {
                Some(Ok(c)) => claimed.push(c),
                Some(Err(())) => corrupt += 1,
                None => {} // another claimant got it, or it was not an event file
            }
        }
        (claimed, corrupt)
    }

    /// Claims one waiting file: `None` when another claimant got it first (or it was not
    /// a file of the queue's: removed and said), `Some(Err)` when it was corrupt (and is
    /// removed).
    pub(crate) fn claim_file(&self, waiting: &Path, owner: &Owner) -> Option<Result<Claimed, ()>> {
        let claimed = claimed_name(waiting, owner);
        fs::rename(waiting, &claimed).ok()?;
        let bytes = match safe::read_file(&claimed) {
            Ok(bytes) => bytes,
            Err(OpenError::Bad(bad)) => {
                let removed = safe::remove_entry(&claimed);
                self.note_bad(claimed.file_name().unwrap_or_default(), bad, removed);
                return None;
            }
            Err(OpenError::Io(_)) => Vec::new(),
        };
        match serde_json::from_slice::<Event>(&bytes) {
            Ok(event) => Some(Ok(Claimed {
                event,
                waiting: waiting.to_owned(),
                claimed,
            })),
            Err(_) => {
                let _ = fs::remove_file(&claimed);
                Some(Err(()))
            }
        }
    }

    /// Whether anything is waiting that a sender has not tried yet (`skip`), after taking
    /// back the claims of processes that died.
    pub(crate) fn has_waiting(&self, skip: &[PathBuf]) -> bool {
        self.scan().iter().any(|(path, _)| !skip.contains(path))
    }

    fn owner_held(&self, owner: &str) -> Held {
        if !is_token(owner) {
            return Held::No;
        }
        self.probe(&format!("{OWNER_PREFIX}{owner}.lock"))
    }

    /// Telemetry was switched off (SPEC S-13, R-5): every queued event, claimed or not,
    /// goes, with the hold, tokens and temporary files. Locks a live process holds stay —
    /// removing a live sender's lock would let a second sender start beside it — and a
    /// live sender is asked to end (`.stop`, seen within 250 ms, mid-request too). The
    /// directory itself goes when nothing is left in it.
    pub(crate) fn delete(&self) {
        // Not a directory the queue trusts (a link to elsewhere, another user's): nothing
        // in it is the queue's to delete.
        if safe::trust_dir(&self.dir).is_err() {
            return;
        }
        let Ok(entries) = fs::read_dir(&self.dir) else {
            return;
        };
        let sender_alive = !self.remove_locks();
        if sender_alive {
            self.request_stop();
        }
        for entry in entries.flatten() {
            let os_name = entry.file_name();
            let Some(name) = os_name.to_str() else {
                continue;
            };
            let path = entry.path();
            if name == SENDER_LOCK || name == SPAWN_LOCK || (name == STOP && sender_alive) {
                continue;
            }
            if name.starts_with(OWNER_PREFIX) || name.starts_with(RUN_PREFIX) {
                // Held: a live process's, and it stays.
                if self.probe(name) == Held::No {
                    let _ = fs::remove_file(&path);
                }
            } else if is_ours(name) || name == STOP {
                safe::remove_entry(&path);
            }
        }
        let _ = fs::remove_dir(&self.dir);
    }
}

impl Claimed {
    /// Its fate is final: gone for good.
    pub(crate) fn done(self) {
        let _ = fs::remove_file(&self.claimed);
    }

    /// Not delivered: back to waiting, for a later sender. Returns the waiting path.
    pub(crate) fn release(self) -> PathBuf {
        if fs::rename(&self.claimed, &self.waiting).is_err() {
            let _ = fs::remove_file(&self.claimed);
        }
        self.waiting
    }

    /// Whether its file is still there: an opt-out deletes the queue, claims included.
    pub(crate) fn exists(&self) -> bool {
        fs::symlink_metadata(&self.claimed).is_ok()
    }
}

/// Names of event files and of the queue's other data (not its locks, which are checked
/// when they are opened).
fn is_ours(name: &str) -> bool {
    name.ends_with(SUFFIX)
        || name.contains(CLAIMED)
        || name.starts_with(TMP_PREFIX)
        || name.starts_with(START_PREFIX)
        || Queue::is_hold(name)
}

/// Drops, from `files` (waiting files oldest first) and from the disk, those beyond the
/// bounds. Returns how many were dropped.
fn trim_list(files: &mut Vec<(PathBuf, u64)>) -> usize {
    let now = SystemTime::now();
    let mut dropped = 0;
    files.retain(|(path, ts)| {
        // A name with an absurd timestamp (far future, or beyond what SystemTime can
        // hold) is kept like a fresh one: checked arithmetic, never a panic.
        let too_old = SystemTime::UNIX_EPOCH
            .checked_add(Duration::from_millis(*ts))
            .and_then(|written| now.duration_since(written).ok())
            .is_some_and(|age| age > MAX_AGE);
        if too_old && fs::remove_file(path).is_ok() {
            dropped += 1;
        }
        !too_old
    });
    if files.len() > MAX_EVENTS {
        let over = files.len() - MAX_EVENTS;
        for (path, _) in files.drain(..over) {
            if fs::remove_file(path).is_ok() {
                dropped += 1;
            }
        }
    }
    dropped
}

/// A waiting file's path and timestamp, when `name` is one.
fn waiting_entry(name: &str, dir: &Path) -> Option<(PathBuf, u64)> {
    if !name.ends_with(SUFFIX) || name.starts_with('.') {
        return None;
    }
    let ts = name.split('-').next()?.parse().ok()?;
    Some((dir.join(name), ts))
}

/// `<waiting>.claimed-<owner>`, built from the path's own bytes (any path, UTF-8 or not).
fn claimed_name(waiting: &Path, owner: &Owner) -> PathBuf {
    let mut name: OsString = waiting.as_os_str().to_owned();
    name.push(OsStr::new(CLAIMED));
    name.push(OsStr::new(&owner.id));
    PathBuf::from(name)
}

/// The (sanitized) execution id in a waiting file's name.
pub(crate) fn execution_of(path: &Path) -> Option<&str> {
    path.file_name()?.to_str()?.split('-').nth(1)
}

fn rename_or_remove(from: &Path, to: &Path) -> std::io::Result<()> {
    fs::rename(from, to).inspect_err(|_| {
        let _ = fs::remove_file(from);
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{ProcessInfo, RawEvent};

    fn event_of(execution_id: &str, ts_offset: u64) -> Event {
        let mut raw = RawEvent::exited("werf converge".into(), 0, 1);
        raw.ts -= ts_offset;
        raw.complete(&ProcessInfo {
            execution_id: execution_id.into(),
            ..Default::default()
        })
    }

    fn event(ts_offset: u64) -> Event {
        event_of("0b6f3c2e-9a3b-4a8e-8d2f-1f2e3d4c5b6a", ts_offset)
    }

    fn none() -> Vec<PathBuf> {
        Vec::new()
    }

    /// A queue in a private directory of its own (`tempdir` is 0700).
    fn queue_in(dir: &tempfile::TempDir) -> Queue {
        Queue::new(dir.path().join("q"))
    }

    #[test]
    fn a_batch_keeps_the_order_the_run_recorded_in_one_millisecond() {
        let dir = tempfile::tempdir().unwrap();
        let queue = queue_in(&dir);
        let owner = queue.owner().unwrap();
        let info = ProcessInfo {
            execution_id: "e".into(),
            ..Default::default()
        };
        let mut started = RawEvent::started("werf".into(), &[]);
        let mut exited = RawEvent::exited("werf".into(), 0, 0);
        started.ts = crate::event::unix_millis();
        exited.ts = started.ts;
        queue.append(&started.complete(&info)).unwrap();
        queue.append(&exited.complete(&info)).unwrap();
        let (claimed, _) = queue.claim(10, &owner, None, &none());
        let types: Vec<&str> = claimed
            .iter()
            .map(|c| c.event.event_type.as_str())
            .collect();
        assert_eq!(types, ["CommandStarted", "CommandExited"]);
    }

    #[test]
    fn a_run_never_claims_its_own_events() {
        let dir = tempfile::tempdir().unwrap();
        let queue = queue_in(&dir);
        let owner = queue.owner().unwrap();
        let own = event(1);
        queue.append(&own).unwrap();
        let (claimed, _) = queue.claim(10, &owner, Some(&own.execution_id), &none());
        assert!(claimed.is_empty());
        // Left waiting, for a later run.
        let (claimed, _) = queue.claim(10, &owner, Some("another-run"), &none());
        assert_eq!(claimed.len(), 1);
    }

    #[test]
    fn append_claim_done_release_and_mode_0600() {
        let dir = tempfile::tempdir().unwrap();
        let queue = queue_in(&dir);
        let owner = queue.owner().unwrap();
        let (a, b) = (event(2), event(1));
        queue.append(&a).unwrap();
        queue.append(&b).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            for entry in fs::read_dir(dir.path().join("q")).unwrap() {
                assert_eq!(
                    entry.unwrap().metadata().unwrap().permissions().mode() & 0o777,
                    0o600
                );
            }
        }
        let (claimed, corrupt) = queue.claim(10, &owner, None, &none());
        assert_eq!(corrupt, 0);
        assert_eq!(
            claimed.iter().map(|c| c.event.clone()).collect::<Vec<_>>(),
            vec![a, b]
        );
        // Claimed files are invisible to other claimants while their owner lives.
        let other = queue.owner().unwrap();
        assert_eq!(queue.claim(10, &other, None, &none()).0.len(), 0);
        let mut it = claimed.into_iter();
        it.next().unwrap().done();
        let back = it.next().unwrap().release();
        let (again, _) = queue.claim(10, &other, None, &none());
        assert_eq!(again.len(), 1);
        // A sender skips what it already tried.
        again.into_iter().for_each(|c| {
            c.release();
        });
        let tried = vec![back];
        assert!(queue.claim(10, &other, None, &tried).0.is_empty());
        assert!(!queue.has_waiting(&tried));
        assert!(queue.has_waiting(&none()));
    }

    #[test]
    fn the_claims_of_a_process_that_died_go_back_at_once() {
        let dir = tempfile::tempdir().unwrap();
        let queue = queue_in(&dir);
        let dead = queue.owner().unwrap();
        let own = queue.append_claimed(&event(1), &dead).unwrap();
        let alive = queue.owner().unwrap();
        assert!(
            queue.claim(10, &alive, None, &none()).0.is_empty(),
            "its owner lives"
        );
        drop(own); // the claim stays on disk
        drop(dead); // its lock is released, as when a process is killed
        let (claimed, _) = queue.claim(10, &alive, None, &none());
        assert_eq!(claimed.len(), 1);
    }

    #[test]
    fn bounded_by_count_and_age() {
        let dir = tempfile::tempdir().unwrap();
        let queue = queue_in(&dir);
        let owner = queue.owner().unwrap();
        let events: Vec<Event> = (0..MAX_EVENTS as u64 + 5).rev().map(event).collect();
        for e in &events {
            queue.append(e).unwrap();
        }
        let (claimed, _) = queue.claim(1000, &owner, None, &none());
        assert_eq!(claimed.len(), MAX_EVENTS);
        // The oldest five were dropped.
        assert_eq!(claimed[0].event.ts, events[5].ts);
        for c in claimed {
            c.done();
        }
        let old = event(MAX_AGE.as_millis() as u64 + 60_000);
        queue.append(&old).unwrap();
        assert_eq!(queue.claim(10, &owner, None, &none()).0.len(), 0);
    }

    #[test]
    fn corrupt_files_are_skipped_and_removed() {
        let dir = tempfile::tempdir().unwrap();
        let queue = queue_in(&dir);
        let owner = queue.owner().unwrap();
        let now = crate::event::unix_millis();
        let q = dir.path().join("q");
        fs::write(q.join(format!("{now:016}-x-y-z.json")), b"{not json").unwrap();
        fs::write(q.join("unrelated.txt"), b"x").unwrap();
        queue.append(&event(0)).unwrap();
        let (claimed, corrupt) = queue.claim(10, &owner, None, &none());
        assert_eq!((claimed.len(), corrupt), (1, 1));
        assert!(q.join("unrelated.txt").exists());
    }

    #[test]
    fn absurd_timestamps_in_names_do_not_panic() {
        let dir = tempfile::tempdir().unwrap();
        let queue = queue_in(&dir);
        let owner = queue.owner().unwrap();
        fs::write(
            dir.path()
                .join("q")
                .join(format!("{}-x-y-z.json", u64::MAX)),
            b"{}",
        )
        .unwrap();
        queue.append(&event(0)).unwrap();
        let (claimed, corrupt) = queue.claim(10, &owner, None, &none());
        assert_eq!((claimed.len(), corrupt), (1, 1));
    }

    #[test]
    fn unwritable_queue_is_an_error_value_not_a_panic() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("file");
        fs::write(&file, b"x").unwrap();
        let queue = Queue::new(file.join("q")); // parent is a file
        assert!(queue.append(&event(0)).is_err());
        assert!(queue.owner().is_err());
        assert!(queue.sender_lock().is_none());
        assert!(!queue.has_waiting(&none()));
        queue.delete();
    }

    #[cfg(unix)]
    #[test]
    fn entries_the_queue_did_not_make_are_removed_and_the_rest_still_go() {
        use std::os::unix::fs::symlink;
        let dir = tempfile::tempdir().unwrap();
        let queue = queue_in(&dir);
        let owner = queue.owner().unwrap();
        let q = dir.path().join("q");
        let now = crate::event::unix_millis();
        let secret = dir.path().join("secret");
        fs::write(&secret, serde_json::to_vec(&event(0)).unwrap()).unwrap();
        symlink(&secret, q.join(format!("{now:016}-a-b-link.json"))).unwrap();
        symlink("/dev/zero", q.join(format!("{now:016}-a-b-zero.json"))).unwrap();
        let fifo = q.join(format!("{now:016}-a-b-fifo.json"));
        let c = std::ffi::CString::new(fifo.as_os_str().as_encoded_bytes()).unwrap();
        // SAFETY: mkfifo on a NUL-terminated path.
        #[allow(unsafe_code)]
        let made = unsafe { libc::mkfifo(c.as_ptr(), 0o600) };
        assert_eq!(made, 0);
        fs::write(
            q.join(format!("{now:016}-a-b-big.json")),
            vec![b' '; safe::MAX_FILE as usize + 10],
        )
        .unwrap();
        queue.append(&event(0)).unwrap();
        let (claimed, corrupt) = queue.claim(10, &owner, None, &none());
        assert_eq!(
            (claimed.len(), corrupt),
            (1, 0),
            "the real event still goes"
        );
        let left: Vec<String> = fs::read_dir(&q)
            .unwrap()
            .flatten()
            .filter_map(|e| e.file_name().into_string().ok())
            .filter(|n| n.contains("-a-b-"))
            .collect();
        assert!(left.is_empty(), "removed: {left:?}");
        assert!(secret.exists(), "a link's target is never touched");
    }

    #[test]
    fn a_failed_write_leaves_no_temporary_file_and_the_scan_clears_old_litter() {
        let dir = tempfile::tempdir().unwrap();
        let queue = queue_in(&dir);
        let owner = queue.owner().unwrap();
        let q = dir.path().join("q");
        let old = q.join(".tmp-0000000000000001-a-b-c.json");
        fs::write(&old, b"{").unwrap();
        let stale_hold = q.join(".retry-after.0123456789ab");
        fs::write(&stale_hold, b"1").unwrap();
        let long_ago = SystemTime::now() - Duration::from_secs(3600);
        for path in [&old, &stale_hold] {
            fs::File::options()
                .write(true)
                .open(path)
                .unwrap()
                .set_modified(long_ago)
                .unwrap();
        }
        let fresh = q.join(".tmp-0000000000000002-a-b-c.json");
        fs::write(&fresh, b"{").unwrap();
        queue.claim(10, &owner, None, &none());
        assert!(!old.exists() && !stale_hold.exists(), "stale litter goes");
        assert!(fresh.exists(), "a write in progress is left alone");
    }

    #[test]
    fn deleting_removes_events_but_never_a_live_sender_s_lock() {
        let dir = tempfile::tempdir().unwrap();
        let queue = queue_in(&dir);
        let q = dir.path().join("q");
        queue.append(&event(0)).unwrap();
        let owner = queue.owner().unwrap();
        let claim = queue.append_claimed(&event(1), &owner).unwrap();
        let lock = queue.sender_lock().unwrap();
        queue.delete();
        assert!(queue.waiting_files().is_empty());
        assert!(!claim.exists(), "claims go too");
        assert!(queue.still_holds(&lock), "the live sender's lock stays");
        assert!(queue.stop_requested(), "and it is asked to end");
        assert!(queue.sender_lock().is_none(), "still one sender");
        drop(lock);
        owner.retire(&queue);
        queue.delete();
        assert!(!q.exists(), "nothing held: the directory goes");
    }

    #[cfg(unix)]
    #[test]
    fn any_path_works_utf_8_or_not() {
        use std::os::unix::ffi::OsStrExt;
        let dir = tempfile::tempdir().unwrap();
        let odd = dir.path().join(OsStr::from_bytes(b"cache-\xff\xfe"));
        let queue = Queue::new(odd.join("q"));
        let owner = queue.owner().unwrap();
        let claim = queue.append_claimed(&event(0), &owner).unwrap();
        assert!(claim.exists());
        let back = claim.release();
        assert!(back.exists());
        let (claimed, _) = queue.claim(10, &owner, None, &none());
        assert_eq!(claimed.len(), 1);
    }
}
