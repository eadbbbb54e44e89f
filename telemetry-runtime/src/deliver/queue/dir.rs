//! The queue directory and its vocabulary: [`Queue`] (its path, the log file it reports to,
//! whether it is trusted), this process as a claimant ([`Owner`]), the bounds, and the
//! helpers every file of the queue uses.

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use serde_json::Map;

use super::safe;
use crate::deliver::logfile::{diagnostic, LogFile};

/// At most this many events are kept; the oldest are dropped first.
pub const MAX_EVENTS: usize = 200;
/// Events older than this are dropped.
pub const MAX_AGE: Duration = Duration::from_secs(7 * 24 * 3600);
/// Where locks are not available: a claim older than this belongs to a process that died.
/// Also the age after which a temporary file nobody renamed is litter.
pub(crate) const STALE_CLAIM: Duration = Duration::from_secs(60);
/// Events an inline run sends from the queue after its own first request (one request).
pub const DRAIN_BATCH: usize = 50;
/// A sender started less than this long ago is still starting: no second one is spawned.
pub(crate) const STARTING: Duration = Duration::from_secs(5);

/// A queue directory.
#[derive(Clone)]
pub(crate) struct Queue {
    pub(super) dir: PathBuf,
    /// Where lines about the queue's own state go (entries removed, bounds kept).
    log: Option<Arc<LogFile>>,
    /// Whether the directory is one the queue trusts, checked once (after it is made).
    trusted: Arc<OnceLock<Result<(), &'static str>>>,
}

impl std::fmt::Debug for Queue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Queue").field("dir", &self.dir).finish()
    }
}

/// This process as a claimant: it holds the lock of `.owner-<id>.lock` for as long as it
/// lives (the kernel releases it when the process ends, however it ends).
pub(crate) struct Owner {
    pub(super) id: String,
    pub(super) _lock: std::fs::File,
}

impl Queue {
    pub(crate) fn new(dir: PathBuf) -> Queue {
        Queue {
            dir,
            log: None,
            trusted: Arc::default(),
        }
    }

    /// The same queue, saying what it removed or skipped in `log`.
    pub(crate) fn with_log(mut self, log: Option<Arc<LogFile>>) -> Queue {
        self.log = log;
        self
    }

    pub(crate) fn dir(&self) -> &Path {
        &self.dir
    }

    /// Makes the directory if it is missing (0700) and checks, once per process, that it
    /// is one the queue may use. `Err`: a fixed phrase saying why not.
    pub(crate) fn ready(&self) -> Result<(), &'static str> {
        *self.trusted.get_or_init(|| {
            if std::fs::symlink_metadata(&self.dir).is_err() {
                crate::config::create_private_dir(&self.dir)
                    .map_err(|_| "the queue directory can't be created")?;
            }
            safe::trust_dir(&self.dir)
        })
    }

    /// `ready` as an I/O error, for the operations that write.
    pub(super) fn writable(&self) -> std::io::Result<()> {
        self.ready().map_err(std::io::Error::other)
    }

    /// A line about the queue's own state, in the log file the queue was given.
    pub(super) fn note(&self, message: &str, fields: Map<String, serde_json::Value>) {
        if let Some(log) = &self.log {
            log.try_write(&diagnostic("warn", message, None, fields));
        }
    }

    /// Says that an entry that is not one of the queue's files was removed (or skipped).
    pub(super) fn note_bad(&self, name: &std::ffi::OsStr, bad: safe::Bad, removed: bool) {
        let mut fields = Map::new();
        fields.insert("kind".into(), bad.as_str().into());
        // The name, as far as it is made of the characters the queue's own names use.
        let shown: String = name
            .to_string_lossy()
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || "._-".contains(*c))
            .take(80)
            .collect();
        fields.insert("name".into(), shown.into());
        fields.insert("removed".into(), removed.into());
        self.note(
            "an entry of the queue that it did not make was found and not used",
            fields,
        );
    }
}

/// Tokens and owner ids are lowercase hex: nothing that could name another path.
pub(crate) fn is_token(s: &str) -> bool {
    !s.is_empty() && s.len() <= 64 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

pub(crate) fn sanitize(s: &str) -> String {
    s.chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .take(64)
        .collect()
}

/// Whether the file at `path` was last changed more than `age` ago. A time in the future
/// (the clock jumped back) counts as that far in the past: a token or lock dated tomorrow is
/// stale once the distance passes `age`, instead of blocking until wall time catches up.
pub(crate) fn older_than(path: &Path, age: Duration) -> bool {
    std::fs::symlink_metadata(path)
        .and_then(|m| m.modified())
        .ok()
        .is_some_and(|t| match t.elapsed() {
            Ok(elapsed) => elapsed > age,
            Err(future) => future.duration() > age,
        })
}
