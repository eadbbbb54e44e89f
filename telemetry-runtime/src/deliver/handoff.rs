//! Handing the queue to a detached sender (SPEC S-19, R-5): at most one sender per app and
//! user, no event stranded, and no spawn on the exit's path when it can be helped.
//!
//! The hand-off happens early: as soon as the run's first event is in the queue, the sender
//! thread makes sure a sender is alive or starting — spawning one if not — while the
//! command still runs. A sender started so waits for the run's process to end (or for most
//! of its own life) before it drains, so that the run's events go in one request. At the
//! exit the run only appends; it spawns a sender then only if none is alive or starting any
//! more (a command that outlived the early one's life, or whose early hand-off found
//! another run's sender, since gone).
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
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use serde_json::Map;

use super::logfile::diagnostic;
use super::queue::Queue;
use super::shared::Shared;
use crate::config::AppConfig;
use crate::event::Event;

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
    /// The run that started it: the sender drains once it has ended.
    pub parent: u32,
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

/// A sender found or started this recently (by the early hand-off) is taken to be there
/// still at the exit, which then checks nothing: less than its shortest life.
const RECENT: Duration = Duration::from_millis(500);

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
        parent: std::process::id(),
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

impl Shared {
    /// Makes sure a detached sender will take this run's queued events: one alive or being
    /// started, or one spawned now. `at_exit`: the check at the process's end, which is
    /// quiet when a sender is there. When no sender can be started, the run goes inline:
    /// its queued events are claimed back and returned, to be sent inline (`Some`).
    pub(super) fn ensure_sender(&self, at_exit: bool) -> Option<Vec<(u64, Event)>> {
        let queue = self.queue.as_ref()?;
        let nothing_queued = self.lock().queued.is_empty();
        if nothing_queued {
            return None;
        }
        if !at_exit {
            // While this run lives, a sender that finds its events waits for the rest.
            if let Some(id) = self.run_id() {
                if let Some(lock) = queue.run_lock(id) {
                    let _ = self.run_lock.set(lock);
                }
            }
        }
        if at_exit {
            // The early hand-off found or started a sender a moment ago: it is there.
            let recent = self
                .lock()
                .sender_seen
                .is_some_and(|at| at.elapsed() < RECENT);
            if recent || queue.sender_alive() || queue.sender_starting() {
                return None;
            }
        }
        let started = Instant::now();
        let result = hand_off(queue, &self.app);
        let mut fields = Map::new();
        fields.insert("events".into(), self.lock().queued.len().into());
        // What the hand-off cost (locks, a start token, the spawn), for people who measure.
        fields.insert(
            "handOffUs".into(),
            (started.elapsed().as_micros() as u64).into(),
        );
        let when = if at_exit { "at exit" } else { "early" };
        fields.insert("when".into(), when.into());
        match result {
            Ok(how) => {
                let mut progress = self.lock();
                progress.sender_seen = Some(Instant::now());
                if let HandOff::Spawned(pid) = how {
                    progress.spawned.push(pid);
                }
                drop(progress);
                let message = match how {
                    HandOff::Spawned(pid) => {
                        fields.insert("senderPid".into(), pid.into());
                        "events queued for the detached sender, started now"
                    }
                    HandOff::Running => "events queued for the detached sender already running",
                    HandOff::Starting => "events queued for the detached sender being started",
                };
                self.log_line_nowait(&diagnostic("info", message, self.run_id(), fields));
                None
            }
            Err(why) => {
                fields.insert("error".into(), why.into());
                self.log_line_nowait(&diagnostic(
                    "warn",
                    "the detached sender could not be started; delivering inline",
                    self.run_id(),
                    fields,
                ));
                self.go_inline();
                Some(self.claim_back())
            }
        }
    }

    /// This run's queued events, claimed back from the queue (those a sender already took
    /// stay its) and pending again, to go inline.
    fn claim_back(&self) -> Vec<(u64, Event)> {
        let (Some(queue), Some(owner)) = (&self.queue, self.owner()) else {
            return Vec::new();
        };
        let mut progress = self.lock();
        let queued: Vec<_> = progress.queued.drain(..).collect();
        let mut batch = Vec::new();
        for (event, waiting) in queued {
            let Some(Ok(claim)) = queue.claim_file(&waiting, owner) else {
                continue;
            };
            let id =
                progress.add_pending(event.event_type.clone(), Some(event.clone()), Some(claim));
            batch.push((id, event));
        }
        batch
    }
}
