//! Handing the queue to a detached sender at exit (SPEC S-19, R-5): at most one sender per
//! app and user, and no event stranded.
//!
//! Under the queue's spawn lock (held for microseconds), a run that finds a live sender
//! (its lock held) or one being started (a fresh start token) only leaves its events in the
//! queue; otherwise it writes a start token and spawns the same executable with the token
//! and the application's settings in its environment — never in argv. A sender, before it
//! exits, releases its lock and looks at the queue once more (taking the lock again if
//! anything arrived): so an event appended before a run saw the lock held is always seen
//! by the holder, and one appended after a sender's last look finds the lock free and
//! starts a new one. At most two senders are alive at a moment: one finishing, one
//! starting.

use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::queue::Queue;
use crate::config::AppConfig;

/// The environment variable that makes the executable a detached sender: a start token.
pub(crate) const MARKER: &str = "CLI_TELEMETRY_SENDER";
/// The environment variable with the sender's settings ([`SenderConfig`] as JSON).
pub(crate) const CONFIG: &str = "CLI_TELEMETRY_SENDER_CONFIG";
/// The sender's `argv[0]` (and its whole command line): a name, not a payload, that tells a
/// process this library started (which must never run the application, whatever else is
/// wrong) from one that merely found the marker in its environment (which must run it).
/// `ps` shows it, so people can see what the process is.
pub(crate) const ARGV0: &str = "cli-telemetry-sender";

/// What a detached sender needs to know, since `main`'s body never runs in it.
#[derive(Serialize, Deserialize)]
pub(crate) struct SenderConfig {
    pub app: AppConfig,
    pub queue: PathBuf,
}

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

/// Decides who takes the queue, starting a sender if none is alive or starting. `Err`: a
/// fixed phrase saying why no sender could be started.
pub(crate) fn hand_off(queue: &Queue, app: &AppConfig) -> Result<HandOff, &'static str> {
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
    let config = SenderConfig {
        app: app.clone(),
        queue: queue.dir().to_owned(),
    };
    let json = serde_json::to_string(&config).map_err(|_| "the settings can't be encoded")?;
    // The sender's working directory: beside the queue, never the command's (which it
    // would keep busy: a directory nobody can unmount, or delete on Windows).
    let cwd = queue
        .dir()
        .parent()
        .map(PathBuf::from)
        .unwrap_or_else(|| queue.dir().to_owned());
    match super::spawn::spawn_detached(ARGV0, &[(MARKER, &token), (CONFIG, &json)], &cwd) {
        Ok(pid) => Ok(HandOff::Spawned(pid)),
        Err(why) => {
            queue.remove_start(&token);
            Err(why)
        }
    }
}
