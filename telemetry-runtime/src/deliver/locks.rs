//! The queue's locks and tokens (SPEC S-19): the one sender's lock, the spawn lock, the
//! start tokens of senders being started, and the run locks of detached runs alive.
//! The operating system's locks (`flock`/`LockFileEx`): a process that dies releases them.

use std::collections::HashSet;
use std::fs::{self, File, TryLockError};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use super::queue::{
    execution_of, held, is_token, older_than, open_lock, sanitize, Held, Queue, RUN_PREFIX,
    STARTING, START_PREFIX,
};
use crate::config::{create_private_dir, write_private};

impl Queue {
    /// A detached run's lock, held for the life of the process (`None` when it can't be).
    pub(crate) fn run_lock(&self, execution_id: &str) -> Option<File> {
        let file = open_lock(
            &self
                .dir
                .join(format!("{RUN_PREFIX}{}.lock", sanitize(execution_id))),
        )
        .ok()?;
        file.try_lock().ok()?;
        Some(file)
    }

    /// Whether a run whose events wait here (not in `skip`) is still alive: its run lock is
    /// held. Run locks nobody holds are removed.
    pub(crate) fn live_run_waiting(&self, skip: &HashSet<PathBuf>) -> bool {
        let runs: HashSet<String> = self
            .waiting_files()
            .iter()
            .filter(|(path, _)| !skip.contains(path))
            .filter_map(|(path, _)| execution_of(path).map(str::to_owned))
            .collect();
        let mut alive = false;
        for run in runs {
            let lock = self.dir.join(format!("{RUN_PREFIX}{run}.lock"));
            match held(&lock) {
                Held::Yes => alive = true,
                Held::No if lock.exists() && older_than(&lock, STARTING) => {
                    let _ = fs::remove_file(&lock);
                }
                _ => {}
            }
        }
        alive
    }

    /// The detached sender's lock, if nobody holds it (kept until the `File` is dropped).
    /// Where the file system has no locks, the sender runs anyway.
    pub(crate) fn sender_lock(&self) -> Option<File> {
        create_private_dir(&self.dir).ok()?;
        let file = open_lock(&self.dir.join("sender.lock")).ok()?;
        match file.try_lock() {
            Ok(()) | Err(TryLockError::Error(_)) => Some(file),
            Err(TryLockError::WouldBlock) => None,
        }
    }

    /// Whether a detached sender holds its lock now.
    pub(crate) fn sender_alive(&self) -> bool {
        matches!(held(&self.dir.join("sender.lock")), Held::Yes)
    }

    /// The spawn lock, waited for at most `limit` (it is held for microseconds).
    pub(crate) fn spawn_lock(&self, limit: Duration) -> Option<File> {
        create_private_dir(&self.dir).ok()?;
        let file = open_lock(&self.dir.join("spawn.lock")).ok()?;
        let give_up = Instant::now() + limit;
        loop {
            match file.try_lock() {
                Ok(()) | Err(TryLockError::Error(_)) => return Some(file),
                Err(TryLockError::WouldBlock) if Instant::now() < give_up => {
                    std::thread::sleep(Duration::from_micros(200));
                }
                Err(TryLockError::WouldBlock) => return None,
            }
        }
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
    pub(crate) fn create_start(&self) -> std::io::Result<String> {
        create_private_dir(&self.dir)?;
        let token = crate::random::hex(32);
        write_private(&self.dir.join(format!("{START_PREFIX}{token}")), b"")?;
        Ok(token)
    }

    /// Whether `token` names a sender this queue is starting.
    pub(crate) fn start_exists(&self, token: &str) -> bool {
        is_token(token) && self.dir.join(format!("{START_PREFIX}{token}")).is_file()
    }

    /// The sender took over (or was never started).
    pub(crate) fn remove_start(&self, token: &str) {
        if is_token(token) {
            let _ = fs::remove_file(self.dir.join(format!("{START_PREFIX}{token}")));
        }
    }
}
