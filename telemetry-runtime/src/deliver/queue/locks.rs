//! The queue's locks and tokens (SPEC S-19, R-5): the one sender's lock, the spawn lock, the
//! start tokens of senders being started, the run locks of detached runs alive, and the
//! `.stop` an opt-out leaves for a live sender.
//!
//! Lock files are made once and kept: only an opt-out removes `sender.lock` and
//! `spawn.lock`, and only while it holds them; whoever takes one checks afterwards that the
//! path still names the file it locked (else it was removed in between, and it takes the one
//! there now). So one lock file is one lock, and a probe ([`Queue::sender_alive`]) never
//! takes it.

use std::fs::{self, File};
use std::io;
use std::time::{Duration, Instant};

use super::dir::{is_token, older_than, sanitize, Queue, STARTING};
use super::oslock::{self, Held, Taken, PATIENCE};
use super::safe::{self, file_identity, identity, OpenError};
use crate::config::write_private;

pub(super) const SENDER_LOCK: &str = "sender.lock";
pub(super) const SPAWN_LOCK: &str = "spawn.lock";
pub(super) const START_PREFIX: &str = ".start-";
pub(super) const RUN_PREFIX: &str = ".run-";
pub(super) const STOP: &str = ".stop";
/// A lock file being made, before it is published (a temporary file of the queue's).
const TMP_LOCK_PREFIX: &str = ".tmp-lock-";

/// The detached sender's lock, held until dropped, with the identity of the lock file it
/// was taken on.
pub(crate) struct SenderLock {
    _file: File,
    identity: Option<(u64, u64)>,
}

/// A lock taken, or why not.
enum Take {
    Got(File, Option<(u64, u64)>),
    Busy,
    Failed,
}

impl Queue {
    /// Opens a lock file of the queue (creating it when `create`). An entry in its place
    /// that the queue did not make (a link, a FIFO, another user's file) is removed, said in
    /// the log file, and made anew.
    pub(super) fn lock_file(&self, name: &str, create: bool) -> io::Result<File> {
        let path = self.dir.join(name);
        for _ in 0..2 {
            match safe::open_lock(&path, create) {
                Ok(file) => return Ok(file),
                Err(OpenError::Io(e)) => return Err(e),
                Err(OpenError::Bad(bad)) => {
                    let removed = safe::remove_entry(&path);
                    self.note_bad(name.as_ref(), bad, removed);
                    if !removed || !create {
                        break;
                    }
                }
            }
        }
        Err(io::Error::other("not a lock file of the queue"))
    }

    /// Takes the lock `name` without waiting, on the file its path names once it is taken.
    fn take(&self, name: &str) -> Take {
        for _ in 0..3 {
            let Ok(file) = self.lock_file(name, true) else {
                return Take::Failed;
            };
            if oslock::try_lock(&file) == Taken::Busy {
                return Take::Busy;
            }
            // Where a file's identity can't be read, the check can't be made: taken.
            let id = file_identity(&file);
            if id.is_none() || identity(&self.dir.join(name)) == id {
                return Take::Got(file, id);
            }
            // Removed (an opt-out) or replaced while it was being taken: the one there now.
        }
        Take::Failed
    }

    /// Whether someone holds the lock `name`, without taking it.
    pub(super) fn probe(&self, name: &str) -> Held {
        match self.lock_file(name, false) {
            Ok(file) => oslock::probe(&file),
            Err(_) => Held::No,
        }
    }

    /// A lock file of this process's own, published under `name` only once it is locked
    /// (made under a temporary name, locked, renamed): so a lock file by that name nobody
    /// holds belongs to a process that died, and may go at once. `Err` when it can't be
    /// made; a file system without locks publishes it unlocked.
    pub(super) fn own_lock(&self, name: &str) -> io::Result<File> {
        self.writable()?;
        let tmp = format!("{TMP_LOCK_PREFIX}{}", crate::random::hex(12));
        let file = self.lock_file(&tmp, true)?;
        let published = match oslock::try_lock(&file) {
            Taken::Yes | Taken::Unsupported => fs::rename(self.dir.join(&tmp), self.dir.join(name)),
            Taken::Busy => Err(io::Error::other("a fresh lock file is locked")),
        };
        published.inspect_err(|_| {
            let _ = fs::remove_file(self.dir.join(&tmp));
        })?;
        Ok(file)
    }

    /// A detached run's lock, held for the life of the process (`None` when it can't be).
    pub(crate) fn run_lock(&self, execution_id: &str) -> Option<File> {
        self.own_lock(&format!("{RUN_PREFIX}{}.lock", sanitize(execution_id)))
            .ok()
    }

    /// Whether a detached run is alive (its run lock is held): a sender waits for its last
    /// events rather than leave them to a sender the run's exit would start. Run locks
    /// nobody holds are removed.
    pub(crate) fn live_run(&self) -> bool {
        let Ok(entries) = fs::read_dir(&self.dir) else {
            return false;
        };
        let mut alive = false;
        for entry in entries.flatten() {
            let name = entry.file_name();
            let Some(name) = name.to_str() else { continue };
            if !name.starts_with(RUN_PREFIX) {
                continue;
            }
            match self.probe(name) {
                Held::Yes => alive = true,
                // Published only once locked: nobody holds it, so its run has ended.
                Held::No => {
                    let _ = fs::remove_file(entry.path());
                }
                Held::Unknown => {}
            }
        }
        alive
    }

    /// The detached sender's lock, if nobody holds it (kept until dropped). A probe or an
    /// opt-out may hold it for a moment: it is tried again for [`PATIENCE`] before another
    /// sender is taken to hold it. Where the file system has no locks, the sender runs.
    pub(crate) fn sender_lock(&self) -> Option<SenderLock> {
        self.ready().ok()?;
        let give_up = Instant::now() + PATIENCE;
        loop {
            match self.take(SENDER_LOCK) {
                Take::Got(file, identity) => {
                    return Some(SenderLock {
                        _file: file,
                        identity,
                    })
                }
                Take::Failed => return None,
                Take::Busy if Instant::now() < give_up => {
                    std::thread::sleep(Duration::from_millis(2));
                }
                Take::Busy => return None,
            }
        }
    }

    /// Whether a detached sender holds its lock now (a probe: the lock is not taken).
    pub(crate) fn sender_alive(&self) -> bool {
        self.probe(SENDER_LOCK) == Held::Yes
    }

    /// The spawn lock, waited for at most `limit` (it is held for microseconds).
    pub(crate) fn spawn_lock(&self, limit: Duration) -> Option<File> {
        self.ready().ok()?;
        let give_up = Instant::now() + limit;
        loop {
            match self.take(SPAWN_LOCK) {
                Take::Got(file, _) => return Some(file),
                Take::Failed => return None,
                Take::Busy if Instant::now() < give_up => {
                    std::thread::sleep(Duration::from_micros(200));
                }
                Take::Busy => return None,
            }
        }
    }

    /// Takes `sender.lock` and `spawn.lock` if nobody holds them and removes them while
    /// holding them (an opt-out with no sender alive); false if a sender holds its lock.
    pub(super) fn remove_locks(&self) -> bool {
        let Take::Got(sender, _) = self.take(SENDER_LOCK) else {
            return false;
        };
        let spawn = self.take(SPAWN_LOCK);
        let _ = fs::remove_file(self.dir.join(SENDER_LOCK));
        if let Take::Got(..) = spawn {
            let _ = fs::remove_file(self.dir.join(SPAWN_LOCK));
        }
        drop(sender);
        true
    }

    /// Whether a sender was started less than [`STARTING`] ago and has not taken over yet.
    pub(crate) fn sender_starting(&self) -> bool {
        let Ok(entries) = fs::read_dir(&self.dir) else {
            return false;
        };
        entries.flatten().any(|e| {
            e.file_name()
                .to_str()
                .is_some_and(|n| n.starts_with(START_PREFIX))
                && !older_than(&e.path(), STARTING)
        })
    }

    /// A start token for a sender about to be spawned.
    pub(crate) fn create_start(&self) -> io::Result<String> {
        self.writable()?;
        let token = crate::random::hex(32);
        write_private(&self.dir.join(format!("{START_PREFIX}{token}")), b"")?;
        Ok(token)
    }

    /// Whether `token` names a sender this queue is starting (a regular file, not a link).
    pub(crate) fn start_exists(&self, token: &str) -> bool {
        is_token(token)
            && fs::symlink_metadata(self.dir.join(format!("{START_PREFIX}{token}")))
                .is_ok_and(|m| m.is_file())
    }

    /// The sender took over (or was never started).
    pub(crate) fn remove_start(&self, token: &str) {
        if is_token(token) {
            let _ = fs::remove_file(self.dir.join(format!("{START_PREFIX}{token}")));
        }
    }

    /// An opt-out asks the live sender to end (it looks every 250 ms).
    pub(super) fn request_stop(&self) {
        let _ = write_private(&self.dir.join(STOP), b"");
    }

    /// Whether an opt-out asked the live sender to end.
    pub(crate) fn stop_requested(&self) -> bool {
        fs::symlink_metadata(self.dir.join(STOP)).is_ok()
    }

    /// A sender that holds the lock clears a request meant for one before it.
    pub(crate) fn clear_stop(&self) {
        let _ = fs::remove_file(self.dir.join(STOP));
    }

    /// Whether the queue is still the one `lock` was taken in: its lock file still the one
    /// held (not deleted with the directory, not replaced).
    pub(crate) fn still_holds(&self, lock: &SenderLock) -> bool {
        lock.identity.is_none() || identity(&self.dir.join(SENDER_LOCK)) == lock.identity
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_sender_lock_start_tokens_and_a_probe_that_takes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let queue = Queue::new(dir.path().join("q"));
        assert!(!queue.sender_alive());
        let lock = queue.sender_lock().expect("free");
        assert!(queue.sender_alive());
        assert!(queue.still_holds(&lock));
        let started = Instant::now();
        assert!(queue.sender_lock().is_none(), "one sender at a time");
        assert!(started.elapsed() >= PATIENCE, "tried again for a while");
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

    #[test]
    fn a_removed_or_replaced_lock_file_is_noticed() {
        let dir = tempfile::tempdir().unwrap();
        let queue = Queue::new(dir.path().join("q"));
        let lock = queue.sender_lock().unwrap();
        fs::remove_file(dir.path().join("q").join(SENDER_LOCK)).unwrap();
        assert!(!queue.still_holds(&lock));
        // A new lock file is a new lock: the old holder does not block it.
        let second = queue.sender_lock().expect("the file there now is free");
        assert!(queue.still_holds(&second));
        assert!(!queue.remove_locks(), "held: an opt-out leaves it");
        drop(second);
        assert!(queue.remove_locks());
        assert!(!dir.path().join("q").join(SENDER_LOCK).exists());
    }

    #[test]
    fn a_future_token_is_stale_once_the_clock_distance_passes_the_bound() {
        let dir = tempfile::tempdir().unwrap();
        let queue = Queue::new(dir.path().join("q"));
        let token = queue.create_start().unwrap();
        let path = dir.path().join("q").join(format!("{START_PREFIX}{token}"));
        let file = File::options().write(true).open(&path).unwrap();
        file.set_modified(std::time::SystemTime::now() + Duration::from_secs(3600))
            .unwrap();
        assert!(!queue.sender_starting(), "an hour ahead: stale, not fresh");
        file.set_modified(std::time::SystemTime::now() + Duration::from_secs(1))
            .unwrap();
        assert!(queue.sender_starting(), "a second of skew: still starting");
    }
}
