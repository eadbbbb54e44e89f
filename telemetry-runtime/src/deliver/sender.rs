//! The sender handle (SPEC S-9, S-10, S-13): what the installed runtime's events go to. The
//! handler's thread only enqueues; the sender thread (`worker`) does all slow work.
//!
//! At the end of a command or of the process, [`Sender::flush`] waits for what the exit
//! must wait for — inline, every event's fate; detached, only that every event is in the
//! queue — until the deadline, and then moves on: it never joins or drops anything that may
//! still be blocked. The deadline is one budget for the whole process: however many
//! commands end and flush, the time spent waiting adds up to at most the deadline.
//! Detached, the flush then hands the queue to one detached sender process; if none can be
//! started, this run's events go inline within what is left of the deadline.

use std::sync::{Arc, OnceLock};
use std::time::Instant;

use serde_json::Map;

use super::logfile::diagnostic;
use super::mailbox::Mailbox;
use super::shared::Shared;
use super::worker::{spawn, Msg};
use crate::config::{AppConfig, Settings};
use crate::event::RawEvent;

pub(crate) struct Sender {
    shared: Arc<Shared>,
    /// Started at install; `None` if the thread could not be spawned.
    tx: OnceLock<Option<Arc<Mailbox<Msg>>>>,
    /// The process that installed telemetry. A child forked from it (a daemon) has neither
    /// the sender thread nor a run of its own: it records nothing and never waits.
    pid: u32,
}

impl Sender {
    pub(crate) fn new(app: AppConfig, settings: Settings) -> Sender {
        Sender {
            shared: Arc::new(Shared::new(app, settings)),
            tx: OnceLock::new(),
            pid: std::process::id(),
        }
    }

    fn forked(&self) -> bool {
        std::process::id() != self.pid
    }

    fn tx(&self) -> Option<&Arc<Mailbox<Msg>>> {
        if self.forked() {
            return None;
        }
        self.tx.get_or_init(|| spawn(self.shared.clone())).as_ref()
    }

    /// Starts the sender thread now (at install), so that its set-up — git lookup,
    /// attributes — overlaps with parsing and the command instead of following them, and
    /// the handler's thread never pays for a thread start.
    pub(crate) fn start(&self) {
        let _ = self.tx();
    }

    /// Hands an event to the sender thread. Never blocks on I/O.
    pub(crate) fn emit(&self, event: RawEvent) {
        let Some(tx) = self.tx() else { return };
        let id = self
            .shared
            .lock()
            .add_pending(event.event_type.clone(), None, None);
        if tx.send(Msg::Event(id, event)).is_err() {
            self.shared.conclude(&[id], false);
        }
    }

    /// Waits for what the exit must wait for, within what is left of the deadline; then,
    /// detached, hands the queue over (or, when no sender can be started, sends this run's
    /// events inline and waits for them in what is left).
    pub(crate) fn flush(&self) {
        if self.forked() {
            return;
        }
        self.wait();
        if !self.shared.detached() {
            return;
        }
        let inline = self.shared.ensure_sender(true);
        // A sender started here is reaped by a thread of its own, in case this process
        // lives on (a process that exits needs none).
        let spawned = std::mem::take(&mut self.shared.lock().spawned);
        for pid in spawned {
            let _ = std::thread::Builder::new()
                .name("cli-telemetry-reaper".into())
                .spawn(move || super::detached::reap(pid));
        }
        if let Some(batch) = inline {
            // No sender could be started: this run's events go inline.
            let ids: Vec<u64> = batch.iter().map(|(id, _)| *id).collect();
            let sent = !batch.is_empty()
                && self
                    .tx()
                    .is_some_and(|tx| tx.send(Msg::Inline(batch)).is_ok());
            if !sent {
                self.shared.conclude(&ids, false);
            }
            self.wait();
        }
    }

    /// Waits until every pending event (and every queued one being re-sent) is settled, or
    /// the deadline passes. At the deadline, events still pending go back to waiting in the
    /// queue, for a later sender, and are recorded as left.
    fn wait(&self) {
        let shared = &self.shared;
        let start = Instant::now();
        let mut budget = crate::record::guard::lock(&shared.budget);
        let deadline = start + *budget;
        let mut progress = shared.lock();
        // The early hand-off too: a process that ended in the middle of it would leave a
        // start token and no sender.
        while !progress.pending.is_empty() || progress.drain_busy || progress.handoff_busy {
            let now = Instant::now();
            if now >= deadline {
                break;
            }
            progress = progress.wait_timeout(&shared.settled, deadline - now);
        }
        let left = std::mem::take(&mut progress.pending);
        let claims = std::mem::take(&mut progress.draining);
        progress.drain_busy = false;
        let mut kept = Vec::with_capacity(left.len());
        for (id, pending) in left {
            // Inline, every event the sender thread has seen is in the queue, claimed.
            let waiting = pending.claim.map(|claim| claim.release());
            if let Some(path) = &waiting {
                progress.left.insert(id, path.clone());
            }
            kept.push((pending.event_type, waiting.is_some()));
        }
        drop(progress);
        *budget = budget.saturating_sub(start.elapsed());
        drop(budget);
        for claim in claims {
            claim.release();
        }
        let deadline_ms = shared.settings.timeout.as_millis() as u64;
        for (event_type, spooled) in kept {
            let mut fields = Map::new();
            fields.insert("event".into(), event_type.into());
            fields.insert("deadlineMs".into(), deadline_ms.into());
            fields.insert("spooled".into(), spooled.into());
            shared.log_line_nowait(&diagnostic(
                "warn",
                "event left undelivered at the deadline",
                shared.run_id(),
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
    fn note(&self, message: &str) {
        if self.forked() {
            return;
        }
        let line = diagnostic("warn", message, self.shared.run_id(), Map::new());
        if self.shared.settings.debug {
            if let Ok(text) = serde_json::to_string(&line) {
                use std::io::Write;
                let _ = writeln!(std::io::stderr().lock(), "{text}");
            }
        }
        self.shared.log_line_nowait(&line);
    }
}
