//! The background sender (SPEC S-9, S-10, S-13): the handler's thread only enqueues; a
//! thread started at install does all slow work (git lookup, hashing, HTTP client and TLS
//! set-up, sending, the log file, the spool) and records each event's fate. At the end of
//! a command, [`Sender::flush`] waits for pending events until the deadline and then moves
//! on: it never joins or drops anything that may still be blocked. The deadline is one
//! budget for the whole process: however many commands end and flush, the time spent
//! waiting adds up to at most the deadline.

use std::collections::BTreeMap;
use std::sync::mpsc;
use std::sync::{Arc, Condvar, Mutex, OnceLock};
use std::time::{Duration, Instant};

use serde_json::{Map, Value};

use super::logfile::{diagnostic, LogFile};
use super::otlp::{self, Wire};
use super::spool::{Claimed, Spool, DRAIN_BATCH};
use super::transport::{self, Outcome, Request, Transport};
use crate::config::{AppConfig, ProcessEnv, Settings};
use crate::event::{Event, ProcessInfo, RawEvent};

pub(crate) struct Sender {
    shared: Arc<Shared>,
    /// Started at the first event; `None` if the thread could not be spawned.
    tx: OnceLock<Option<mpsc::Sender<(u64, RawEvent)>>>,
}

struct Shared {
    app: AppConfig,
    settings: Settings,
    log: Option<LogFile>,
    spool: Option<Spool>,
    progress: Mutex<Progress>,
    settled: Condvar,
    /// Known once the sender thread has looked at the environment.
    execution_id: OnceLock<String>,
    /// What is left of the process's deadline for waiting at flushes.
    budget: Mutex<Duration>,
    wire: Wire,
}

#[derive(Default)]
struct Progress {
    next_id: u64,
    /// Events of this run whose fate is not known yet.
    pending: BTreeMap<u64, Pending>,
    /// Spooled events of earlier runs, claimed by this run and in flight.
    draining: Vec<Claimed>,
    /// A drain of the spool is due or under way (set before this run's first request, so
    /// that the exit waits for the claims it is about to make).
    drain_busy: bool,
}

struct Pending {
    event_type: String,
    /// The complete envelope, once the sender thread has made it (for the spool).
    event: Option<Event>,
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

fn spawn(shared: Arc<Shared>) -> Option<mpsc::Sender<(u64, RawEvent)>> {
    let (tx, rx) = mpsc::channel();
    std::thread::Builder::new()
        .name("cli-telemetry".into())
        .spawn(move || run(shared, rx))
        .ok()
        .map(|_| tx)
}

/// How much longer than the deadline a request may take (it only matters to processes
/// that go on running after a command).
const REQUEST_GRACE: std::time::Duration = std::time::Duration::from_millis(500);

/// Failures worth another try in a later run: no response, or 408, 429, 5xx.
fn retryable(outcome: &Outcome) -> bool {
    match outcome {
        Outcome::Delivered(_) => false,
        Outcome::Rejected(status) => matches!(status, 408 | 429 | 500..=599),
        Outcome::Failed(_) => true,
    }
}

impl Shared {
    fn lock(&self) -> std::sync::MutexGuard<'_, Progress> {
        self.progress.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn run_id(&self) -> Option<&str> {
        self.execution_id.get().map(String::as_str)
    }

    fn settle(&self, ids: &[u64]) {
        let mut progress = self.lock();
        for id in ids {
            progress.pending.remove(id);
        }
        drop(progress);
        self.settled.notify_all();
    }

    /// Which of `ids` nobody has given up on (the deadline takes over the others).
    fn still_pending(&self, ids: &[u64]) -> Vec<u64> {
        let progress = self.lock();
        ids.iter()
            .copied()
            .filter(|id| progress.pending.contains_key(id))
            .collect()
    }

    fn log_line<T: serde::Serialize + ?Sized>(&self, line: &T) {
        if let Some(log) = &self.log {
            log.write(line);
        }
    }

    /// For the handler's thread: never waits for another writer.
    fn log_line_nowait<T: serde::Serialize + ?Sized>(&self, line: &T) {
        if let Some(log) = &self.log {
            log.try_write(line);
        }
    }

    /// Adds events to the spool; false when there is none or it can't be written.
    fn spool_events(&self, events: &[&Event]) -> bool {
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
    fn log_outcome(&self, events: &[&Event], outcome: &Outcome, spooled: bool) {
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

    /// Encodes events as one request body, in the configured protocol.
    fn send(&self, transport: &dyn Transport, events: &[&Event]) -> Outcome {
        let (content_type, body) =
            otlp::encode(self.settings.protocol, &self.app.name, &self.wire, events);
        transport.send(&Request {
            content_type,
            body: &body,
        })
    }

    /// Sends one batch of this run's events; spools those worth a later try.
    fn deliver(&self, transport: &dyn Transport, batch: Vec<(u64, Event)>) {
        let events: Vec<&Event> = batch.iter().map(|(_, e)| e).collect();
        let outcome = self.send(transport, &events);
        let ids: Vec<u64> = batch.iter().map(|(id, _)| *id).collect();
        let mut spooled = false;
        if retryable(&outcome) {
            let still = self.still_pending(&ids);
            let to_spool: Vec<&Event> = batch
                .iter()
                .filter(|(id, _)| still.contains(id))
                .map(|(_, e)| e)
                .collect();
            spooled = self.spool_events(&to_spool);
        }
        self.log_outcome(&events, &outcome, spooled);
        self.settle(&ids);
    }

    /// Re-sends events spooled by earlier runs, after this run's own first request.
    fn drain(self: &Arc<Self>, transport: &Arc<dyn Transport>) {
        let Some(spool) = &self.spool else { return };
        let (claims, corrupt) = spool.claim(DRAIN_BATCH, self.run_id());
        if corrupt > 0 {
            let mut fields = Map::new();
            fields.insert("files".into(), corrupt.into());
            self.log_line(&diagnostic(
                "warn",
                "corrupt spool files skipped and removed",
                self.run_id(),
                fields,
            ));
        }
        if claims.is_empty() {
            self.drain_done();
            return;
        }
        let events: Vec<Event> = claims.iter().map(|c| c.event.clone()).collect();
        {
            let mut progress = self.lock();
            if !progress.drain_busy {
                // The deadline passed while claiming: put them back for a later run.
                drop(progress);
                claims.into_iter().for_each(Claimed::release);
                return;
            }
            progress.draining = claims;
        }
        let (shared, transport) = (self.clone(), transport.clone());
        let job = move || {
            let outcome = shared.send(&*transport, &events.iter().collect::<Vec<_>>());
            // The deadline may have put the claims back already; then they stay there.
            let claims = std::mem::take(&mut shared.lock().draining);
            let delivered = matches!(outcome, Outcome::Delivered(_));
            for claim in claims {
                let mut fields = Map::new();
                fields.insert("event".into(), claim.event.event_type.as_str().into());
                fields.insert(
                    "originalExecutionID".into(),
                    claim.event.execution_id.as_str().into(),
                );
                outcome_fields(&outcome, &mut fields);
                let (level, message) = if delivered {
                    ("info", "event sent from the spool")
                } else if retryable(&outcome) {
                    ("warn", "spooled event not delivered; kept in the spool")
                } else {
                    ("warn", "spooled event rejected by the endpoint; dropped")
                };
                shared.log_line(&diagnostic(level, message, shared.run_id(), fields));
                if retryable(&outcome) {
                    claim.release();
                } else {
                    claim.done();
                }
            }
            shared.drain_done();
        };
        if std::thread::Builder::new()
            .name("cli-telemetry-spool".into())
            .spawn(job)
            .is_err()
        {
            for claim in std::mem::take(&mut self.lock().draining) {
                claim.release();
            }
            self.drain_done();
        }
    }

    fn drain_done(&self) {
        self.lock().drain_busy = false;
        self.settled.notify_all();
    }
}

fn outcome_fields(outcome: &Outcome, fields: &mut Map<String, Value>) {
    match outcome {
        Outcome::Delivered(status) | Outcome::Rejected(status) => {
            fields.insert("httpStatus".into(), (*status).into())
        }
        Outcome::Failed(why) => fields.insert("error".into(), why.as_str().into()),
    };
}

/// The sender thread.
fn run(shared: Arc<Shared>, rx: mpsc::Receiver<(u64, RawEvent)>) {
    let mut notes = shared.settings.notes.clone();
    let process = detect_process(&shared.app, &mut notes);
    let _ = shared.execution_id.set(process.execution_id.clone());
    let mut transport: Option<Result<Arc<dyn Transport>, &'static str>> = None;
    let mut drained = false;
    while let Ok(first) = rx.recv() {
        // Notes go to the log with the run's first event: a run without an instrumented
        // command (`app version`, `app telemetry status`) writes nothing.
        for note in notes.drain(..) {
            shared.log_line(&diagnostic(
                note.level,
                &note.message,
                Some(&process.execution_id),
                Map::new(),
            ));
        }
        let mut batch = Vec::new();
        accept(&shared, &process, first, &mut batch);
        while let Ok(next) = rx.try_recv() {
            accept(&shared, &process, next, &mut batch);
        }
        if batch.is_empty() {
            continue;
        }
        let transport = transport.get_or_insert_with(|| {
            // A little longer than the deadline: at exit the deadline decides (and spools),
            // so the two never race for the same events.
            transport::build(
                &shared.settings,
                &ProcessEnv,
                shared.settings.timeout + REQUEST_GRACE,
            )
        });
        // Events that arrived while the client was being built go in the same request.
        while let Ok(next) = rx.try_recv() {
            accept(&shared, &process, next, &mut batch);
        }
        match transport {
            Ok(transport) => {
                let drain_now = !drained && shared.spool.is_some();
                if drain_now {
                    shared.lock().drain_busy = true;
                }
                send_in_background(&shared, transport, batch);
                if drain_now {
                    drained = true;
                    shared.drain(transport);
                }
            }
            Err(why) => {
                let events: Vec<&Event> = batch.iter().map(|(_, e)| e).collect();
                shared.log_outcome(&events, &Outcome::Failed((*why).to_owned()), false);
                shared.settle(&batch.iter().map(|(id, _)| *id).collect::<Vec<_>>());
            }
        }
    }
}

fn detect_process(app: &AppConfig, notes: &mut Vec<crate::config::Note>) -> ProcessInfo {
    let project_id = std::env::current_dir()
        .map(|dir| crate::project::project_id_for_dir(&dir))
        .unwrap_or_default();
    let attributes = crate::attributes::detect(app, &ProcessEnv, notes);
    // None in CI: a fresh CI machine would count as a new installation on every run.
    let user_id = if app.installation_id && attributes.ci != Some(true) {
        app.choice_file(&ProcessEnv)
            .and_then(|path| crate::choice::installation_id(&path))
    } else {
        None
    };
    ProcessInfo {
        execution_id: crate::random::uuid_v4().to_string(),
        user_id,
        project_id,
        attributes,
        schema_version: app.schema_version,
    }
}

/// Completes the envelope, logs it, prints it in debug mode (then it is settled: debug
/// mode never sends), or queues it for the next request.
fn accept(
    shared: &Shared,
    process: &ProcessInfo,
    (id, raw): (u64, RawEvent),
    batch: &mut Vec<(u64, Event)>,
) {
    let event = raw.complete(process);
    shared.log_line(&event);
    if shared.settings.debug {
        if let Ok(line) = serde_json::to_string(&event) {
            use std::io::Write;
            let _ = writeln!(std::io::stderr().lock(), "{line}");
        }
        shared.settle(&[id]);
    } else {
        if let Some(pending) = shared.lock().pending.get_mut(&id) {
            pending.event = Some(event.clone());
        }
        batch.push((id, event));
    }
}

/// One request per batch, each on its own short-lived thread, so that a slow response to
/// an earlier batch never delays a later one (P-4: at most one round trip at exit).
fn send_in_background(
    shared: &Arc<Shared>,
    transport: &Arc<dyn Transport>,
    batch: Vec<(u64, Event)>,
) {
    let ids: Vec<u64> = batch.iter().map(|(id, _)| *id).collect();
    let (thread_shared, transport) = (shared.clone(), transport.clone());
    let spawned = std::thread::Builder::new()
        .name("cli-telemetry-http".into())
        .spawn(move || thread_shared.deliver(&*transport, batch));
    if spawned.is_err() {
        shared.log_line(&diagnostic(
            "warn",
            "event delivery failed: no thread for the request",
            shared.run_id(),
            Map::new(),
        ));
        shared.settle(&ids);
    }
}
