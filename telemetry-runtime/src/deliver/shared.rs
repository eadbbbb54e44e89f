//! What the sender's handle and its thread share: the events of this run whose fate is not
//! known yet, the log file, the spool, and the lines that record each event's fate.

use std::collections::BTreeMap;
use std::sync::{Condvar, Mutex, OnceLock};
use std::time::Duration;

use serde_json::{Map, Value};

use super::logfile::{diagnostic, LogFile};
use super::otlp::Wire;
use super::spool::{Claimed, Spool};
use super::transport::Outcome;
use crate::config::{AppConfig, Settings};
use crate::event::Event;

pub(super) struct Shared {
    pub(super) app: AppConfig,
    pub(super) settings: Settings,
    pub(super) log: Option<LogFile>,
    pub(super) spool: Option<Spool>,
    pub(super) progress: Mutex<Progress>,
    pub(super) settled: Condvar,
    /// Known once the sender thread has looked at the environment.
    pub(super) execution_id: OnceLock<String>,
    /// What is left of the process's deadline for waiting at flushes.
    pub(super) budget: Mutex<Duration>,
    pub(super) wire: Wire,
}

#[derive(Default)]
pub(super) struct Progress {
    pub(super) next_id: u64,
    /// Events of this run whose fate is not known yet.
    pub(super) pending: BTreeMap<u64, Pending>,
    /// Spooled events of earlier runs, claimed by this run and in flight.
    pub(super) draining: Vec<Claimed>,
    /// A drain of the spool is due or under way (set before this run's first request, so
    /// that the exit waits for the claims it is about to make).
    pub(super) drain_busy: bool,
}

pub(super) struct Pending {
    pub(super) event_type: String,
    /// The complete envelope, once the sender thread has made it (for the spool).
    pub(super) event: Option<Event>,
}

/// Failures worth another try in a later run: no response, or 408, 429, 5xx.
pub(super) fn retryable(outcome: &Outcome) -> bool {
    match outcome {
        Outcome::Delivered(_) => false,
        Outcome::Rejected(status) => matches!(status, 408 | 429 | 500..=599),
        Outcome::Failed(_) => true,
    }
}

impl Shared {
    pub(super) fn lock(&self) -> std::sync::MutexGuard<'_, Progress> {
        self.progress.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(super) fn run_id(&self) -> Option<&str> {
        self.execution_id.get().map(String::as_str)
    }

    pub(super) fn settle(&self, ids: &[u64]) {
        let mut progress = self.lock();
        for id in ids {
            progress.pending.remove(id);
        }
        drop(progress);
        self.settled.notify_all();
    }

    /// Which of `ids` nobody has given up on (the deadline takes over the others).
    pub(super) fn still_pending(&self, ids: &[u64]) -> Vec<u64> {
        let progress = self.lock();
        ids.iter()
            .copied()
            .filter(|id| progress.pending.contains_key(id))
            .collect()
    }

    pub(super) fn log_line<T: serde::Serialize + ?Sized>(&self, line: &T) {
        if let Some(log) = &self.log {
            log.write(line);
        }
    }

    /// For the handler's thread: never waits for another writer.
    pub(super) fn log_line_nowait<T: serde::Serialize + ?Sized>(&self, line: &T) {
        if let Some(log) = &self.log {
            log.try_write(line);
        }
    }

    /// Adds events to the spool; false when there is none or it can't be written.
    pub(super) fn spool_events(&self, events: &[&Event]) -> bool {
        match &self.spool {
            Some(spool) if !events.is_empty() => match spool.add(events) {
                Ok(_) => true,
                Err(_) => {
                    self.log_line_nowait(&diagnostic(
                        "warn",
                        "the spool could not be written; events dropped",
                        self.run_id(),
                        Map::new(),
                    ));
                    false
                }
            },
            _ => false,
        }
    }

    /// One log line per event: what became of it.
    pub(super) fn log_outcome(&self, events: &[&Event], outcome: &Outcome, spooled: bool) {
        let (level, message) = match (outcome, spooled) {
            (Outcome::Delivered(_), _) => ("info", "event delivered"),
            (Outcome::Rejected(_), false) => ("warn", "event rejected by the endpoint"),
            (Outcome::Rejected(_), true) => (
                "warn",
                "event rejected by the endpoint; spooled for a later run",
            ),
            (Outcome::Failed(_), false) => ("warn", "event delivery failed"),
            (Outcome::Failed(_), true) => {
                ("warn", "event delivery failed; spooled for a later run")
            }
        };
        for event in events {
            let mut fields = Map::new();
            fields.insert("event".into(), event.event_type.as_str().into());
            outcome_fields(outcome, &mut fields);
            if !matches!(outcome, Outcome::Delivered(_)) {
                fields.insert("spooled".into(), spooled.into());
            }
            self.log_line(&diagnostic(
                level,
                message,
                Some(&event.execution_id),
                fields,
            ));
        }
    }
}

pub(super) fn outcome_fields(outcome: &Outcome, fields: &mut Map<String, Value>) {
    match outcome {
        Outcome::Delivered(status) | Outcome::Rejected(status) => {
            fields.insert("httpStatus".into(), (*status).into())
        }
        Outcome::Failed(why) => fields.insert("error".into(), why.as_str().into()),
    };
}
