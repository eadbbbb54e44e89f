//! Handing the queue to a detached sender (SPEC S-19, R-5): at most one sender per app and
//! user, no event stranded.
//!
//! Under the queue's spawn lock (held for microseconds), a run that finds a live sender
//! (its lock held — probed, not taken) or one being started (a fresh start token) only
//! leaves its events in the queue; otherwise it writes a start token and spawns the same
//! executable with the token and the application's settings in its environment — never in
//! argv. A sender, before it exits, releases its lock and looks at the queue once more
//! (taking the lock again if anything arrived): so an event appended before a run saw the
//! lock held is always seen by the holder, and one appended after a sender's last look
//! finds the lock free and starts a new one. At most two senders are alive at a moment: one
//! finishing, one starting.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::config::{SenderConfig, ARGV0, CONFIG, MARKER, QUEUE};
use crate::config::{AppConfig, SpoolSetting};
use crate::deliver::queue::Queue;

/// Who takes the queue.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum HandOff {
    /// A sender was started now (its process id).
    Spawned(u32),
    /// A sender is alive and will see the new events.
    Running,
    /// A sender was started a moment ago and will see them.
    Starting,
}

/// How long a run waits for the spawn lock (held by other runs for microseconds).
const SPAWN_LOCK_WAIT: Duration = Duration::from_millis(50);

/// Decides who takes the queue, starting a sender if none is alive or starting. `log_file`:
/// the run's log file (absolute), where the sender writes the fates. `parent`: the process
/// the sender waits for before it drains; `generation`: 0 from a run, 1 for a sender's
/// successor. `Err`: a fixed phrase saying why no sender could be started (then no start
/// token is left behind).
pub(crate) fn hand_off(
    queue: &Queue,
    app: &AppConfig,
    log_file: Option<&Path>,
    parent: u32,
    generation: u32,
) -> Result<HandOff, &'static str> {
    // Everything the child needs, made before anything is written.
    let mut app = app.clone();
    app.spool = SpoolSetting::Default; // the queue travels as bytes, below
    let config = SenderConfig {
        app,
        parent,
        generation,
    };
    let json = serde_json::to_string(&config).map_err(|_| "the settings can't be encoded")?;
    let mut vars: Vec<(OsString, OsString)> = vec![
        (CONFIG.into(), json.into()),
        (QUEUE.into(), queue.dir().as_os_str().to_owned()),
    ];
    vars.extend(absolute_paths(&config.app, log_file));
    // The sender's working directory: beside the queue, never the command's (which it
    // would keep busy: a directory nobody can unmount, or delete on Windows).
    let cwd = queue
        .dir()
        .parent()
        .map(PathBuf::from)
        .unwrap_or_else(|| queue.dir().to_owned());

    let spawn_lock = queue.spawn_lock(SPAWN_LOCK_WAIT);
    if queue.sender_alive() {
        return Ok(HandOff::Running);
    }
    if queue.sender_starting() {
        return Ok(HandOff::Starting);
    }
    if spawn_lock.is_none() && queue.dir().exists() {
        // Other runs hold the spawn lock this long only if the disk is stuck: one of them
        // is starting a sender.
        return Ok(HandOff::Starting);
    }
    let token = queue
        .create_start()
        .map_err(|_| "the queue directory can't be written")?;
    drop(spawn_lock);
    vars.push((MARKER.into(), token.clone().into()));
    match super::spawn::spawn_detached(ARGV0, &vars, &cwd) {
        Ok(pid) => Ok(HandOff::Spawned(pid)),
        Err(why) => {
            queue.remove_start(&token);
            Err(why)
        }
    }
}

/// The paths the sender inherits through the environment, made absolute where they are
/// relative (it works in another directory): the log file, `SSL_CERT_FILE`, and each entry
/// of `SSL_CERT_DIR`.
fn absolute_paths(app: &AppConfig, log_file: Option<&Path>) -> Vec<(OsString, OsString)> {
    let mut vars = Vec::new();
    if let Some(log) = log_file {
        vars.push((app.var("_LOG_FILE").into(), log.as_os_str().to_owned()));
    }
    for var in ["SSL_CERT_FILE", "SSL_CERT_DIR"] {
        let Some(value) = std::env::var_os(var) else {
            continue;
        };
        let entries: Vec<PathBuf> = std::env::split_paths(&value)
            .map(|p| std::path::absolute(&p).unwrap_or(p))
            .collect();
        if let Ok(joined) = std::env::join_paths(entries) {
            if joined != value {
                vars.push((var.into(), joined));
            }
        }
    }
    vars
}
