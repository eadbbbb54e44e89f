//! The local log file (SPEC S-10): every event as one JSON line, plus diagnostic lines
//! (`level`, `message`, no `eventType`). Opened lazily in append mode, mode 0600; one
//! `write` call per line so concurrent processes never tear lines. Every failure is
//! swallowed: the log file never affects the command.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

use serde::Serialize;
use serde_json::{Map, Value};

use crate::event::unix_millis;
use crate::record::guard::{lock, try_lock, Locked};

/// How long the deadline path waits for another writer of the log file.
const NOWAIT_LIMIT: std::time::Duration = std::time::Duration::from_millis(3);

pub(crate) struct LogFile {
    path: PathBuf,
    /// `None`: not opened yet; `Some(None)`: opening failed, don't try again.
    file: Mutex<Option<Option<File>>>,
    /// A deadline-path write gave up waiting once: the file is stuck, never wait again.
    stuck: AtomicBool,
}

impl LogFile {
    pub(crate) fn new(path: PathBuf) -> Self {
        LogFile {
            path,
            file: Mutex::new(None),
            stuck: AtomicBool::new(false),
        }
    }

    /// Appends one line; blocks only on another line being written by this process.
    pub(crate) fn write<T: Serialize + ?Sized>(&self, value: &T) {
        Self::write_locked(&self.path, lock(&self.file), value);
    }

    /// Like [`LogFile::write`], but waits for another writer at most [`NOWAIT_LIMIT`] and
    /// then gives up: for the handler's thread at the deadline, which must never block on a
    /// stuck writer. A line being written by the sender thread takes microseconds, so the
    /// line is written unless the file itself is stuck.
    /// Once it has given up, it never waits again: a stuck file costs the process at most
    /// one [`NOWAIT_LIMIT`] past the deadline, however many lines are left.
    pub(crate) fn try_write<T: Serialize + ?Sized>(&self, value: &T) {
        let limit = if self.stuck.load(Ordering::Relaxed) {
            std::time::Duration::ZERO
        } else {
            NOWAIT_LIMIT
        };
        let give_up = std::time::Instant::now() + limit;
        loop {
            match try_lock(&self.file) {
                Some(guard) => return Self::write_locked(&self.path, guard, value),
                None if std::time::Instant::now() < give_up => {
                    std::thread::sleep(std::time::Duration::from_micros(50));
                }
                None => {
                    self.stuck.store(true, Ordering::Relaxed);
                    return;
                }
            }
        }
    }

    fn write_locked<T: Serialize + ?Sized>(
        path: &Path,
        mut guard: Locked<'_, Option<Option<File>>>,
        value: &T,
    ) {
        let Ok(mut line) = serde_json::to_vec(value) else {
            return;
        };
        line.push(b'\n');
        let file = guard.get_or_insert_with(|| open(path).ok());
        if let Some(file) = file {
            // One write: O_APPEND makes it land whole after every other process's lines.
            let _ = file.write(&line);
        }
    }
}

fn open(path: &Path) -> std::io::Result<File> {
    let mut options = OpenOptions::new();
    options.append(true).create(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        // O_NONBLOCK: a FIFO without a reader fails to open instead of hanging the sender.
        options.mode(0o600).custom_flags(nonblock_flag());
    }
    let file = options.open(path)?;
    if !file.metadata()?.is_file() {
        return Err(std::io::Error::other("log file is not a regular file"));
    }
    Ok(file)
}

#[cfg(unix)]
fn nonblock_flag() -> i32 {
    // Values of O_NONBLOCK per platform, to avoid a libc dependency for one constant.
    if cfg!(any(target_os = "linux", target_os = "android")) {
        if cfg!(any(target_arch = "mips", target_arch = "mips64")) {
            0x80
        } else if cfg!(any(target_arch = "sparc", target_arch = "sparc64")) {
            0x4000
        } else {
            0o4000
        }
    } else {
        0x0004 // macOS, iOS, the BSDs
    }
}

/// A diagnostic line: `ts`, `level`, `message`, then context fields. Never an `eventType`.
pub(crate) fn diagnostic(
    level: &str,
    message: &str,
    execution_id: Option<&str>,
    fields: Map<String, Value>,
) -> Map<String, Value> {
    let mut line = Map::new();
    line.insert("ts".into(), unix_millis().into());
    line.insert("level".into(), level.into());
    line.insert("message".into(), message.into());
    if let Some(id) = execution_id {
        line.insert("executionID".into(), id.into());
    }
    line.extend(fields);
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn appends_lines_with_mode_0600() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.log");
        let log = LogFile::new(path.clone());
        log.write(&serde_json::json!({"a": 1}));
        log.write(&diagnostic("warn", "x", Some("e"), Map::new()));
        let text = std::fs::read_to_string(&path).unwrap();
        let lines: Vec<_> = text.lines().collect();
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0], r#"{"a":1}"#);
        let diag: Value = serde_json::from_str(lines[1]).unwrap();
        assert_eq!(diag["level"], "warn");
        assert_eq!(diag["message"], "x");
        assert!(diag.get("eventType").is_none());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(
                std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
                0o600
            );
        }
    }

    #[test]
    fn the_deadline_path_waits_for_a_stuck_writer_once_at_most() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.log");
        let log = LogFile::new(path.clone());
        let held = log.file.lock().unwrap(); // another writer, stuck
        assert!(!log.stuck.load(Ordering::Relaxed));
        log.try_write(&1); // waits NOWAIT_LIMIT, gives up
        assert!(
            log.stuck.load(Ordering::Relaxed),
            "marked stuck: later lines never wait"
        );
        for _ in 0..50 {
            log.try_write(&1); // no wait at all: the limit is zero now
        }
        drop(held);
        log.try_write(&2);
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "2\n");
    }

    #[test]
    fn failures_are_swallowed() {
        let dir = tempfile::tempdir().unwrap();
        // A directory, a missing parent: nothing happens, nothing panics.
        LogFile::new(dir.path().to_owned()).write(&1);
        LogFile::new(dir.path().join("missing/x.log")).write(&1);
        assert!(!dir.path().join("missing").exists());
        #[cfg(target_os = "linux")]
        LogFile::new("/dev/full".into()).write(&1);
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn fifo_without_reader_does_not_block() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("fifo");
        let ok = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .map(|s| s.success())
            .unwrap_or(false);
        if ok {
            LogFile::new(fifo).write(&1); // returns: ENXIO instead of waiting for a reader
        }
    }
}
