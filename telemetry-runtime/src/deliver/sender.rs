//! The background sender (SPEC S-9, S-10, S-13): the handler's thread only enqueues; a
//! thread started at install does all slow work (git lookup, hashing, HTTP client and TLS
//! set-up, sending, the log file, the spool) and records each event's fate. At the end of
//! a command, [`Sender::flush`] waits for pending events until the deadline and then moves
//! on: it never joins or drops anything that may still be blocked. The deadline is one
//! budget for the whole process: however many commands end and flush, the time spent
//! waiting adds up to at most the deadline.

use std::sync::mpsc;
use std::sync::{Arc, Condvar, Mutex, OnceLock};
use std::time::Instant;

use serde_json::Map;

use super::logfile::{diagnostic, LogFile};
use super::otlp::Wire;
use super::shared::{Pending, Progress, Shared};
use super::spool::Spool;
use super::worker::spawn;
use crate::config::{AppConfig, Settings};
use crate::event::{Event, RawEvent};

pub(crate) struct Sender {
    shared: Arc<Shared>,
    /// Started at the first event; `None` if the thread could not be spawned.
    tx: OnceLock<Option<mpsc::Sender<(u64, RawEvent)>>>,
}

impl Sender {
    pub(crate) fn new(app: AppConfig, settings: Settings) -> Sender {
        let log = settings.log_file.clone().map(LogFile::new);
        let spool = settings.spool.clone().map(Spool::new);
        Sender {
            shared: Arc::new(Shared {
                log,
                spool,
                progress: Mutex::new(Progress::default()),
                settled: Condvar::new(),
                execution_id: OnceLock::new(),
                budget: Mutex::new(settings.timeout),
                wire: Wire {
                    span_name: app.span_name.clone(),
                },
                app,
                settings,
            }),
            tx: OnceLock::new(),
        }
    }

    /// Starts the sender thread now (at install), so that its set-up — git lookup,
    /// attributes — overlaps with parsing and the command instead of following them, and
    /// the handler's thread never pays for a thread start.
    pub(crate) fn start(&self) {
        self.tx.get_or_init(|| spawn(self.shared.clone()));
    }

    /// Hands an event to the sender thread (starting it if needed). Never blocks on I/O.
    pub(crate) fn emit(&self, event: RawEvent) {
        let tx = self.tx.get_or_init(|| spawn(self.shared.clone()));
        let Some(tx) = tx else { return };
        let id = {
            let mut progress = self.shared.lock();
            let id = progress.next_id;
            progress.next_id += 1;
            progress.pending.insert(
                id,
                Pending {
                    event_type: event.event_type.clone(),
                    event: None,
                },
            );
            id
        };
        if tx.send((id, event)).is_err() {
            self.shared.settle(&[id]);
        }
    }

    /// Waits until every emitted event (and every spooled one being re-sent) has a known
    /// fate, or the deadline passes. At the deadline the events still pending are spooled
    /// and recorded as left, claimed spool entries go back, and the caller moves on.
    ///
    /// The deadline is what is left of the process's budget: each flush spends the time it
    /// waited, so that a process whose handler runs (and flushes) many times waits at most
    /// the deadline in all.
    pub(crate) fn flush(&self) {
        let start = Instant::now();
        let mut budget = self.shared.budget.lock().unwrap_or_else(|p| p.into_inner());
        let deadline = start + *budget;
        let mut progress = self.shared.lock();
        while !progress.pending.is_empty() || progress.drain_busy {
            let now = Instant::now();
            if now >= deadline {
                break;
            }
            progress = match self.shared.settled.wait_timeout(progress, deadline - now) {
                Ok((guard, _)) => guard,
                Err(poisoned) => poisoned.into_inner().0,
            };
        }
        let left = std::mem::take(&mut progress.pending);
        let claims = std::mem::take(&mut progress.draining);
        progress.drain_busy = false;
        drop(progress);
        *budget = budget.saturating_sub(start.elapsed());
        drop(budget);
        for claim in claims {
            claim.release();
        }
        if left.is_empty() {
            return;
        }
        let complete: Vec<&Event> = left.values().filter_map(|p| p.event.as_ref()).collect();
        let spooled = self.shared.spool_events(&complete);
        let deadline_ms = self.shared.settings.timeout.as_millis() as u64;
        for pending in left.values() {
            let mut fields = Map::new();
            fields.insert("event".into(), pending.event_type.as_str().into());
            fields.insert("deadlineMs".into(), deadline_ms.into());
            fields.insert(
                "spooled".into(),
                (spooled && pending.event.is_some()).into(),
            );
            self.shared.log_line_nowait(&diagnostic(
                "warn",
                "event left undelivered at the deadline",
                self.shared.run_id(),
                fields,
            ));
        }
    }
}

impl crate::record::state::Sink for Sender {
    fn start(&self) {
        Sender::start(self);
    }
    fn emit(&self, event: RawEvent) {
        Sender::emit(self, event);
    }
    fn flush(&self) {
        Sender::flush(self);
    }
}
