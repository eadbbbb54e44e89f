//! What the sender's handle and its thread share: the events of this run the exit must wait
//! for, what this run queued, the log file, the queue, and this run as a claimant of it.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, OnceLock};
use std::time::Duration;

use serde_json::Map;

use super::logfile::{diagnostic, LogFile};
use super::queue::{Claimed, Owner, Queue};
use super::transport::otlp::Wire;
use crate::config::{AppConfig, Delivery, Settings};
use crate::event::Event;
use crate::record::guard::Locked;

pub(super) struct Shared {
    pub(super) app: AppConfig,
    pub(super) settings: Settings,
    pub(super) log: Option<Arc<LogFile>>,
    pub(super) queue: Option<Queue>,
    /// This run as a claimant of the queue, made at its first claim (`None`: it could not be).
    owner: OnceLock<Option<Owner>>,
    pub(super) progress: Mutex<Progress>,
    pub(super) settled: Condvar,
    /// Known once the sender thread has looked at the environment.
    pub(super) execution_id: OnceLock<String>,
    /// What is left of the process's deadline for waiting at flushes.
    pub(super) budget: Mutex<Duration>,
    pub(super) wire: Wire,
    /// Detached delivery, until a hand-off fails (then inline for the rest of the run).
    detached: AtomicBool,
    /// A note that the queue could not be written was logged.
    queue_failure_noted: AtomicBool,
    /// This run trimmed the queue to its bounds (once, after its first append).
    trimmed: AtomicBool,
    /// Detached: the run's lock in the queue, held while the process lives.
    pub(super) run_lock: OnceLock<std::fs::File>,
}

#[derive(Default)]
pub(super) struct Progress {
    pub(super) next_id: u64,
    /// Events the exit waits for: inline, until their fate is known; detached, until they
    /// are in the queue.
    pub(super) pending: BTreeMap<u64, Pending>,
    /// Detached: events this run queued (their waiting files), for the hand-off, or for
    /// sending them inline when no sender can be started.
    pub(super) queued: Vec<(Event, PathBuf)>,
    /// The early hand-off is due or under way (the exit waits for it).
    pub(super) handoff_busy: bool,
    /// The early hand-off was done (once per run).
    pub(super) handed_early: bool,
    /// Senders this process started, to reap.
    pub(super) spawned: Vec<u32>,
    /// Events of earlier runs claimed by this run and in flight (inline).
    pub(super) draining: Vec<Claimed>,
    /// A drain of the queue is due or under way (set before this run's first request, so
    /// that the exit waits for the claims it is about to make).
    pub(super) drain_busy: bool,
    /// Events the deadline put back to waiting (id → file): if their request is answered
    /// with a final outcome after all, the file goes.
    pub(super) left: BTreeMap<u64, PathBuf>,
}

impl Progress {
    /// A new pending event; its id.
    pub(super) fn add_pending(
        &mut self,
        event_type: String,
        event: Option<Event>,
        claim: Option<Claimed>,
    ) -> u64 {
        let id = self.next_id;
        self.next_id += 1;
        self.pending.insert(
            id,
            Pending {
                event_type,
                event,
                claim,
            },
        );
        id
    }
}

pub(super) struct Pending {
    pub(super) event_type: String,
    /// The complete envelope, once the sender thread has made it.
    pub(super) event: Option<Event>,
    /// Inline: its file in the queue, claimed by this run.
    pub(super) claim: Option<Claimed>,
}

impl Shared {
    pub(super) fn new(app: AppConfig, settings: Settings) -> Shared {
        let log = settings
            .log_file
            .clone()
            .map(|path| Arc::new(LogFile::new(path)));
        Shared {
            log: log.clone(),
            queue: settings
                .spool
                .clone()
                .map(|dir| Queue::new(dir).with_log(log)),
            owner: OnceLock::new(),
            progress: Mutex::new(Progress::default()),
            settled: Condvar::new(),
            execution_id: OnceLock::new(),
            budget: Mutex::new(settings.timeout),
            wire: Wire {
                span_name: app.span_name.clone(),
            },
            detached: AtomicBool::new(settings.delivery == Delivery::Detached),
            queue_failure_noted: AtomicBool::new(false),
            trimmed: AtomicBool::new(false),
            run_lock: OnceLock::new(),
            app,
            settings,
        }
    }

    pub(super) fn lock(&self) -> Locked<'_, Progress> {
        crate::record::guard::lock(&self.progress)
    }

    pub(super) fn run_id(&self) -> Option<&str> {
        self.execution_id.get().map(String::as_str)
    }

    pub(super) fn detached(&self) -> bool {
        self.detached.load(Ordering::Acquire)
    }

    /// No detached sender can take this run's events: inline from now on.
    pub(super) fn go_inline(&self) {
        self.detached.store(false, Ordering::Release);
    }

    /// This run as a claimant of the queue.
    pub(super) fn owner(&self) -> Option<&Owner> {
        self.owner
            .get_or_init(|| self.queue.as_ref()?.owner().ok())
            .as_ref()
    }

    /// Keeps the queue in its bounds (SPEC S-13: 200 events, 7 days): once per detached run,
    /// on the hand-off's thread (a run adds a handful of events; every claim — an inline
    /// run's drain, a sender's — trims too). Dropped events are said in the log file.
    pub(super) fn trim_once(&self, queue: &Queue) {
        if self.trimmed.swap(true, Ordering::Relaxed) {
            return;
        }
        let dropped = queue.trim();
        if dropped > 0 {
            let mut fields = Map::new();
            fields.insert("events".into(), dropped.into());
            self.log_line(&diagnostic(
                "warn",
                "the queue was over its bounds (200 events, 7 days); the oldest events were dropped",
                self.run_id(),
                fields,
            ));
        }
    }

    /// The queue failed: said once per run in the log file.
    pub(super) fn note_queue_failure(&self, what: &str, why: &std::io::Error) {
        if !self.queue_failure_noted.swap(true, Ordering::Relaxed) {
            // The library's own phrases, or the system's error text (which names no path).
            let mut fields = Map::new();
            fields.insert("reason".into(), why.to_string().into());
            self.log_line(&diagnostic("warn", what, self.run_id(), fields));
        }
    }

    /// Whether [`Shared::conclude`] would keep each of `ids` queued.
    pub(super) fn would_keep(&self, ids: &[u64], final_: bool) -> Vec<bool> {
        let progress = self.lock();
        ids.iter()
            .map(|id| {
                !final_
                    && (progress.pending.get(id).is_some_and(|p| p.claim.is_some())
                        || progress.left.contains_key(id))
            })
            .collect()
    }

    /// The events `ids` reached an outcome: `final_` (delivered, rejected) removes their
    /// queue files; otherwise they go back to waiting for a later sender. Returns, per id,
    /// whether it stays queued. The exit may follow at once: log lines go before.
    pub(super) fn conclude(&self, ids: &[u64], final_: bool) -> Vec<bool> {
        let mut progress = self.lock();
        let kept = ids
            .iter()
            .map(|id| {
                if let Some(pending) = progress.pending.remove(id) {
                    match pending.claim {
                        Some(claim) if final_ => {
                            claim.done();
                            false
                        }
                        Some(claim) => {
                            claim.release();
                            true
                        }
                        None => false,
                    }
                } else if let Some(waiting) = progress.left.remove(id) {
                    // The deadline put it back; the answer came after all.
                    if final_ {
                        let _ = std::fs::remove_file(waiting);
                    }
                    !final_
                } else {
                    false
                }
            })
            .collect();
        drop(progress);
        self.settled.notify_all();
        kept
    }

    pub(super) fn log_line<T: serde::Serialize + ?Sized>(&self, line: &T) {
        if let Some(log) = &self.log {
            log.write(line);
        }
    }

    /// For the handler's thread: waits for another writer only briefly.
    pub(super) fn log_line_nowait<T: serde::Serialize + ?Sized>(&self, line: &T) {
        if let Some(log) = &self.log {
            log.try_write(line);
        }
    }
}
