//! The durable queue (SPEC S-13, S-19): every recorded event waits here until its fate is
//! final — delivered, rejected, or dropped by the bounds — so that a run killed by a signal
//! or an abort loses nothing, and what could not be delivered is sent by a later sender.
//!
//! One file per event in a 0700 directory of the user's cache directory, mode 0600:
//!
//! - `<ts>-<executionID>-<eventType>-<nonce>.json`: waiting; any sender may take it;
//! - `….json.claimed-<owner>`: taken by the process whose *owner lock*
//!   `.owner-<owner>.lock` is locked. Claiming is a rename (atomic: of concurrent claimants
//!   exactly one wins); a claim whose owner's lock is free belongs to a process that died
//!   and goes back to waiting at the next claim. An inline run writes its own events
//!   claimed, so that no other sender sends them while it does;
//! - `sender.lock`: held by the one detached sender alive; `spawn.lock`: held for a moment
//!   while a run decides whether to start one; `.start-<token>`: a sender being started
//!   (the token its environment carries; the child removes it);
//! - `.run-<executionID>.lock`: held by a detached run while it lives, so that a sender
//!   that finds the run's first events waits for its last ones instead of leaving (and the
//!   run's exit need not start another sender).
//!
//! Locks are the operating system's (`flock`/`LockFileEx`): a process that dies releases
//! them. Where a file system has no locks, claims older than [`STALE_CLAIM`] count as
//! stale instead. Anything unreadable is skipped; nothing here ever affects the command.

use std::collections::HashSet;
use std::fs::{self, File, OpenOptions, TryLockError};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use crate::config::{create_private_dir, write_private};
use crate::event::Event;

/// At most this many events are kept; the oldest are dropped first.
pub const MAX_EVENTS: usize = 200;
/// Events older than this are dropped.
pub const MAX_AGE: Duration = Duration::from_secs(7 * 24 * 3600);
/// Where locks are not available: a claim older than this belongs to a process that died.
pub(super) const STALE_CLAIM: Duration = Duration::from_secs(60);
/// Events an inline run sends from the queue after its own first request (one request).
pub const DRAIN_BATCH: usize = 50;
/// A sender started less than this long ago is still starting: no second one is spawned.
pub(super) const STARTING: Duration = Duration::from_secs(5);

const SUFFIX: &str = ".json";
const CLAIMED: &str = ".claimed-";
const OWNER_PREFIX: &str = ".owner-";
pub(super) const START_PREFIX: &str = ".start-";
pub(super) const RUN_PREFIX: &str = ".run-";

/// A queue directory.
#[derive(Clone, Debug)]
pub(crate) struct Queue {
    pub(super) dir: PathBuf,
}

/// This process as a claimant: it holds the lock of `.owner-<id>.lock` for as long as it
/// lives (the kernel releases it when the process ends, however it ends).
pub(crate) struct Owner {
    id: String,
    _lock: File,
}

impl Owner {
    /// Done with the queue: its lock file goes (no claim of its may be left).
    pub(crate) fn retire(self, queue: &Queue) {
        let _ = fs::remove_file(queue.dir.join(format!("{OWNER_PREFIX}{}.lock", self.id)));
    }
}

/// An event claimed by this process.
pub(crate) struct Claimed {
    pub event: Event,
    waiting: PathBuf,
    claimed: PathBuf,
}

/// Whether a lock file is held by someone.
pub(super) enum Held {
    Yes,
    No,
    /// The file system has no locks.
    Unknown,
}

impl Queue {
    pub(crate) fn new(dir: PathBuf) -> Queue {
        Queue { dir }
    }

    pub(crate) fn dir(&self) -> &Path {
        &self.dir
    }

    /// Becomes a claimant with a fresh id: creates and locks `.owner-<id>.lock`.
    pub(crate) fn owner(&self) -> std::io::Result<Owner> {
        create_private_dir(&self.dir)?;
        let id = crate::random::hex(16);
        let file = open_lock(&self.dir.join(format!("{OWNER_PREFIX}{id}.lock")))?;
        match file.try_lock() {
            Ok(()) | Err(TryLockError::Error(_)) => Ok(Owner { id, _lock: file }),
            Err(TryLockError::WouldBlock) => Err(std::io::Error::other("owner lock taken")),
        }
    }

    fn write_event(&self, event: &Event) -> std::io::Result<(PathBuf, PathBuf)> {
        let name = format!(
            "{:016}-{}-{}-{}{SUFFIX}",
            event.ts,
            sanitize(&event.execution_id),
            sanitize(&event.event_type),
            crate::random::hex(12)
        );
        let tmp = self.dir.join(format!(".tmp-{name}"));
        let bytes = serde_json::to_vec(event).map_err(std::io::Error::other)?;
        // The directory is made when it is missing (not on every append: a system call
        // fewer on the exit's path).
        match write_private(&tmp, &bytes) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                create_private_dir(&self.dir)?;
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
}

/// Drops, from `files` (waiting files oldest first) and from the disk, those beyond the
/// bounds. Returns how many were dropped.
fn trim_list(files: &mut Vec<(PathBuf, u64)>) -> usize {
    {
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
}

impl Queue {
    /// Waiting files, oldest first, with their timestamps.
    pub(super) fn waiting_files(&self) -> Vec<(PathBuf, u64)> {
        let Ok(entries) = fs::read_dir(&self.dir) else {
            return Vec::new();
        };
        let mut files: Vec<(PathBuf, u64)> = entries
            .flatten()
            .filter_map(|entry| waiting_entry(&entry.file_name().into_string().ok()?, &self.dir))
            .collect();
        files.sort();
        files
    }

    /// One look at the directory: claims of processes that died go back to waiting, owner
    /// locks nobody holds and start tokens older than [`STALE_CLAIM`] are removed; returns
    /// the waiting files, oldest first.
    fn scan(&self) -> Vec<(PathBuf, u64)> {
        let Ok(entries) = fs::read_dir(&self.dir) else {
            return Vec::new();
        };
        let names: Vec<String> = entries
            .flatten()
            .filter_map(|e| e.file_name().into_string().ok())
            .collect();
        let mut owners: std::collections::HashMap<String, Held> = std::collections::HashMap::new();
        let mut files = Vec::new();
        for name in &names {
            if let Some(file) = waiting_entry(name, &self.dir) {
                files.push(file);
                continue;
            }
            let path = self.dir.join(name);
            if let Some(pos) = name.find(CLAIMED) {
                let owner = &name[pos + CLAIMED.len()..];
                let held = owners
                    .entry(owner.to_owned())
                    .or_insert_with(|| self.owner_held(owner));
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
            } else if name.starts_with(OWNER_PREFIX) && name.ends_with(".lock") {
                if older_than(&path, STALE_CLAIM) && matches!(held(&path), Held::No) {
                    let _ = fs::remove_file(&path);
                }
            } else if (name.starts_with(START_PREFIX) && older_than(&path, STALE_CLAIM))
                || (name.starts_with(RUN_PREFIX)
                    && older_than(&path, STALE_CLAIM)
                    && matches!(held(&path), Held::No))
            {
                let _ = fs::remove_file(&path);
            }
        }
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
        skip: &HashSet<PathBuf>,
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
                None => {} // another claimant got it
            }
        }
        (claimed, corrupt)
    }

    /// Claims one waiting file: `None` when another claimant got it first, `Some(Err)` when
    /// it was corrupt (and is removed).
    pub(crate) fn claim_file(&self, waiting: &Path, owner: &Owner) -> Option<Result<Claimed, ()>> {
        let claimed = claimed_name(waiting, owner);
        fs::rename(waiting, &claimed).ok()?;
        match fs::read(&claimed)
            .ok()
            .and_then(|b| serde_json::from_slice::<Event>(&b).ok())
        {
            Some(event) => Some(Ok(Claimed {
                event,
                waiting: waiting.to_owned(),
                claimed,
            })),
            None => {
                let _ = fs::remove_file(&claimed);
                Some(Err(()))
            }
        }
    }

    /// Whether anything is waiting that a sender has not tried yet (`skip`), after taking
    /// back the claims of processes that died.
    pub(crate) fn has_waiting(&self, skip: &HashSet<PathBuf>) -> bool {
        self.scan().iter().any(|(path, _)| !skip.contains(path))
    }

    fn owner_held(&self, owner: &str) -> Held {
        if !is_token(owner) {
            return Held::No;
        }
        let lock = self.dir.join(format!("{OWNER_PREFIX}{owner}.lock"));
        if !lock.exists() {
            return Held::No;
        }
        held(&lock)
    }

    /// Deletes the whole queue (telemetry switched off).
    pub(crate) fn delete(&self) {
        let _ = fs::remove_dir_all(&self.dir);
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
}

/// A waiting file's path and timestamp, when `name` is one.
fn waiting_entry(name: &str, dir: &Path) -> Option<(PathBuf, u64)> {
    if !name.ends_with(SUFFIX) || name.starts_with('.') {
        return None;
    }
    let ts = name.split('-').next()?.parse().ok()?;
    Some((dir.join(name), ts))
}

fn claimed_name(waiting: &Path, owner: &Owner) -> PathBuf {
    PathBuf::from(format!("{}{CLAIMED}{}", waiting.display(), owner.id))
}

/// The (sanitized) execution id in a waiting file's name.
pub(super) fn execution_of(path: &Path) -> Option<&str> {
    path.file_name()?.to_str()?.split('-').nth(1)
}

fn rename_or_remove(from: &Path, to: &Path) -> std::io::Result<()> {
    fs::rename(from, to).inspect_err(|_| {
        let _ = fs::remove_file(from);
    })
}

pub(super) fn open_lock(path: &Path) -> std::io::Result<File> {
    let mut options = OpenOptions::new();
    options.read(true).write(true).create(true).truncate(false);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path)
}

pub(super) fn held(path: &Path) -> Held {
    let Ok(file) = OpenOptions::new().read(true).write(true).open(path) else {
        return Held::No;
    };
    match file.try_lock() {
        Ok(()) => Held::No, // released when `file` is dropped
        Err(TryLockError::WouldBlock) => Held::Yes,
        Err(TryLockError::Error(_)) => Held::Unknown,
    }
}

pub(super) fn older_than(path: &Path, age: Duration) -> bool {
    fs::metadata(path)
        .and_then(|m| m.modified())
        .ok()
        .and_then(|t| t.elapsed().ok())
        .is_some_and(|elapsed| elapsed > age)
}

/// Tokens and owner ids are lowercase hex: nothing that could name another path.
pub(super) fn is_token(s: &str) -> bool {
    !s.is_empty() && s.len() <= 64 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

pub(super) fn sanitize(s: &str) -> String {
    s.chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .take(64)
        .collect()
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

    fn none() -> HashSet<PathBuf> {
        HashSet::new()
    }

    #[test]
    fn a_run_never_claims_its_own_events() {
        let dir = tempfile::tempdir().unwrap();
        let queue = Queue::new(dir.path().join("q"));
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
        let queue = Queue::new(dir.path().join("q"));
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
        let tried = HashSet::from([back]);
        assert!(queue.claim(10, &other, None, &tried).0.is_empty());
        assert!(!queue.has_waiting(&tried));
        assert!(queue.has_waiting(&none()));
    }

    #[test]
    fn the_claims_of_a_process_that_died_go_back_at_once() {
        let dir = tempfile::tempdir().unwrap();
        let queue = Queue::new(dir.path().join("q"));
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
        let queue = Queue::new(dir.path().to_owned());
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
        let queue = Queue::new(dir.path().to_owned());
        let owner = queue.owner().unwrap();
        let now = crate::event::unix_millis();
        fs::write(
            dir.path().join(format!("{now:016}-x-y-z.json")),
            b"{not json",
        )
        .unwrap();
        fs::write(dir.path().join("unrelated.txt"), b"x").unwrap();
        queue.append(&event(0)).unwrap();
        let (claimed, corrupt) = queue.claim(10, &owner, None, &none());
        assert_eq!((claimed.len(), corrupt), (1, 1));
        assert!(dir.path().join("unrelated.txt").exists());
    }

    #[test]
    fn absurd_timestamps_in_names_do_not_panic() {
        let dir = tempfile::tempdir().unwrap();
        let queue = Queue::new(dir.path().to_owned());
        let owner = queue.owner().unwrap();
        fs::write(dir.path().join(format!("{}-x-y-z.json", u64::MAX)), b"{}").unwrap();
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

    #[test]
    fn one_sender_lock_and_start_tokens() {
        let dir = tempfile::tempdir().unwrap();
        let queue = Queue::new(dir.path().join("q"));
        assert!(!queue.sender_alive());
        let lock = queue.sender_lock().expect("free");
        assert!(queue.sender_alive());
        assert!(queue.sender_lock().is_none(), "one sender at a time");
        drop(lock);
        assert!(!queue.sender_alive());
        assert!(!queue.sender_starting());
        let token = queue.create_start().unwrap();
        assert!(queue.sender_starting());
        assert!(queue.start_exists(&token));
        assert!(!queue.start_exists("../../etc/passwd"));
        assert!(!queue.start_exists("0123"));
        queue.remove_start(&token);
        assert!(!queue.start_exists(&token));
        assert!(!queue.sender_starting());
        let _spawn = queue.spawn_lock(Duration::from_millis(1)).expect("free");
        assert!(
            queue.spawn_lock(Duration::from_millis(5)).is_none(),
            "held: a bounded wait"
        );
    }
}
