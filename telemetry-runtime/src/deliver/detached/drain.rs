//! The sender's state while it drains ([`Drain`]), why it stops, and how it watches for a
//! reason to stop at once — every [`WATCH`], while it waits and while a request is in
//! flight: the person's choice is off now (the queue is deleted), a run switched telemetry
//! off (it deleted the queue and left `.stop`), or the queue it took was deleted or
//! replaced (its lock file is not the one it holds).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::Map;

use crate::config::{AppConfig, ProcessEnv, Settings};
use crate::deliver::logfile::{diagnostic, LogFile};
use crate::deliver::queue::{Owner, Queue, SenderLock};
use crate::deliver::transport::otlp::Wire;
use crate::deliver::transport::Transport;

/// How often the sender looks for a reason to stop.
pub(super) const WATCH: Duration = Duration::from_millis(250);

/// Why a drain stopped.
pub(super) enum Stop {
    /// Nothing left that this sender has not tried.
    Empty,
    /// Its life is over; what is left stays queued.
    LifeOver,
    /// The endpoint asked not to be called before a time past this sender's life.
    Held,
    /// A reason to stop at once.
    Interrupted(Why),
}

/// A reason to stop at once.
#[derive(Clone, Copy)]
pub(super) enum Why {
    /// The person's choice says off now: the queue is deleted.
    Off,
    /// A run switched telemetry off (it deleted the queue and left `.stop`).
    Asked,
    /// The queue directory was deleted or replaced.
    Gone,
}

pub(super) struct Drain<'a> {
    pub(super) app: &'a AppConfig,
    pub(super) queue: Queue,
    pub(super) lock: Option<SenderLock>,
    /// The queue directory's identity when the sender started.
    pub(super) identity: Option<(u64, u64)>,
    pub(super) owner: Owner,
    /// Switched off while it ran: the queue is deleted as it exits.
    pub(super) off: bool,
    pub(super) log: Option<Arc<LogFile>>,
    pub(super) wire: Wire,
    pub(super) end: Instant,
    /// Waiting files this sender tried and put back: not tried twice in one life (at most
    /// the queue's bound of them, so a list).
    pub(super) tried: Vec<PathBuf>,
    pub(super) transport: Option<Result<Arc<dyn Transport>, &'static str>>,
    /// How long its last answered request took: a request is not begun when less of its
    /// life is left (it would be cut, and its events sent again by the next sender).
    pub(super) last_request: Option<Duration>,
}

impl Drain<'_> {
    pub(super) fn log_line<T: serde::Serialize + ?Sized>(&self, line: &T) {
        if let Some(log) = &self.log {
            log.write(line);
        }
    }

    /// Waits while `busy` says so (each call may block for up to [`WATCH`]), until `until`,
    /// looking for a reason to stop every [`WATCH`].
    pub(super) fn wait_until(
        &self,
        until: Instant,
        mut busy: impl FnMut(&Self) -> bool,
    ) -> Result<(), Why> {
        let mut looked = None::<Instant>;
        loop {
            if looked.is_none_or(|at| at.elapsed() >= WATCH) {
                if let Some(why) = self.interrupted() {
                    return Err(why);
                }
                looked = Some(Instant::now());
            }
            if Instant::now() >= until || !busy(self) {
                return Ok(());
            }
            let left = until.saturating_duration_since(Instant::now());
            std::thread::sleep(left.min(Duration::from_millis(20)));
        }
    }

    /// A reason to stop at once, if there is one: the person's choice is off now, an opt-out
    /// asked (`.stop`), or the queue is not the one this sender took.
    pub(super) fn interrupted(&self) -> Option<Why> {
        let settings = Settings::from_env(self.app, &ProcessEnv);
        if !settings.enabled || settings.debug {
            return Some(Why::Off);
        }
        if self.queue.stop_requested() {
            return Some(Why::Asked);
        }
        let same_lock = self
            .lock
            .as_ref()
            .is_none_or(|lock| self.queue.still_holds(lock));
        if !same_lock || crate::deliver::queue::identity(self.queue.dir()) != self.identity {
            return Some(Why::Gone);
        }
        None
    }

    /// Stops for `why`, saying so in the log file; off deletes the queue.
    pub(super) fn stopped(&mut self, why: Why) {
        let message = match why {
            Why::Off => {
                drop(self.lock.take());
                self.queue.delete();
                self.off = true; // and once more when its own lock files are gone
                "telemetry is off now: the detached sender stopped and deleted the queue"
            }
            Why::Asked => {
                self.queue.clear_stop();
                "telemetry was switched off by another run, which deleted the queue: the detached sender stopped"
            }
            Why::Gone => {
                "the queue was deleted or replaced while the detached sender ran: it stopped"
            }
        };
        let mut log = self.log.clone();
        if log.is_none() {
            // Switched off: the person's own setting may name a log file now.
            let settings = Settings::from_env(self.app, &ProcessEnv);
            log = settings.log_file.map(|p| Arc::new(LogFile::new(p)));
        }
        if let Some(log) = log {
            log.write(&diagnostic("info", message, None, Map::new()));
        }
    }
}
