//! The background sender (SPEC S-9, S-10): the handler's thread only enqueues; a thread
//! started at the first event does all slow work (git lookup, hashing, HTTP client and TLS
//! set-up, sending, the log file) and reports each event's fate. At the end of a command,
//! [`Sender::flush`] waits for pending events until the deadline and then moves on: it
//! never joins or drops anything that may still be blocked.

use std::collections::BTreeMap;
use std::sync::mpsc;
use std::sync::{Arc, Condvar, Mutex, OnceLock};
use std::time::Instant;

use serde_json::{Map, Value};

use crate::config::{AppConfig, ProcessEnv, Settings};
use crate::event::{Event, ProcessInfo, RawEvent};
use crate::logfile::{diagnostic, LogFile};
use crate::transport::{endpoint_url, Outcome, Transport};

pub(crate) struct Sender {
    shared: Arc<Shared>,
    /// Started at the first event; `None` if the thread could not be spawned.
    tx: OnceLock<Option<mpsc::Sender<(u64, RawEvent)>>>,
}

struct Shared {
    app: AppConfig,
    settings: Settings,
    log: Option<LogFile>,
    progress: Mutex<Progress>,
    settled: Condvar,
    /// Known once the sender thread has looked at the environment.
    execution_id: OnceLock<String>,
}

#[derive(Default)]
struct Progress {
    next_id: u64,
    /// Events emitted whose fate is not known yet: id → event type.
    pending: BTreeMap<u64, String>,
}

impl Sender {
    pub(crate) fn new(app: AppConfig, settings: Settings) -> Sender {
        let log = settings.log_file.clone().map(LogFile::new);
        Sender {
            shared: Arc::new(Shared {
                app,
                settings,
                log,
                progress: Mutex::new(Progress::default()),
                settled: Condvar::new(),
                execution_id: OnceLock::new(),
            }),
            tx: OnceLock::new(),
        }
    }

    /// Hands an event to the sender thread (starting it the first time). Never blocks on I/O.
    pub(crate) fn emit(&self, event: RawEvent) {
        let tx = self.tx.get_or_init(|| spawn(self.shared.clone()));
        let Some(tx) = tx else { return };
        let id = {
            let mut progress = self.shared.lock();
            let id = progress.next_id;
            progress.next_id += 1;
            progress.pending.insert(id, event.event_type.clone());
            id
        };
        if tx.send((id, event)).is_err() {
            self.shared.settle(&[id]);
        }
    }

    /// Waits until every emitted event has a known fate, or the deadline passes. At the
    /// deadline the events still pending are recorded as left and the caller moves on.
    pub(crate) fn flush(&self) {
        let deadline = Instant::now() + self.shared.settings.timeout;
        let mut progress = self.shared.lock();
        while !progress.pending.is_empty() {
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
        drop(progress);
        if let Some(log) = &self.shared.log {
            let execution_id = self.shared.execution_id.get().map(String::as_str);
            for event_type in left.values() {
                let mut fields = Map::new();
                fields.insert("event".into(), event_type.as_str().into());
                fields.insert(
                    "deadlineMs".into(),
                    (self.shared.settings.timeout.as_millis() as u64).into(),
                );
                log.try_write(&diagnostic(
                    "warn",
                    "event left undelivered at the deadline",
                    execution_id,
                    fields,
                ));
            }
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

impl Shared {
    fn lock(&self) -> std::sync::MutexGuard<'_, Progress> {
        self.progress.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn settle(&self, ids: &[u64]) {
        let mut progress = self.lock();
        for id in ids {
            progress.pending.remove(id);
        }
        drop(progress);
        self.settled.notify_all();
    }

    fn log_line<T: serde::Serialize + ?Sized>(&self, line: &T) {
        if let Some(log) = &self.log {
            log.write(line);
        }
    }

    fn log_outcome(&self, events: &[(u64, Event)], outcome: &Outcome) {
        let (level, message, key, value): (&str, &str, &str, Value) = match outcome {
            Outcome::Delivered(status) => {
                ("info", "event delivered", "httpStatus", (*status).into())
            }
            Outcome::Rejected(status) => (
                "warn",
                "event rejected by the endpoint",
                "httpStatus",
                (*status).into(),
            ),
            Outcome::Failed(why) => (
                "warn",
                "event delivery failed",
                "error",
                why.as_str().into(),
            ),
        };
        for (_, event) in events {
            let mut fields = Map::new();
            fields.insert("event".into(), event.event_type.as_str().into());
            fields.insert(key.into(), value.clone());
            self.log_line(&diagnostic(
                level,
                message,
                Some(&event.execution_id),
                fields,
            ));
        }
    }
}

/// The sender thread.
fn run(shared: Arc<Shared>, rx: mpsc::Receiver<(u64, RawEvent)>) {
    let mut notes = shared.settings.notes.clone();
    let process = detect_process(&shared.app, &mut notes);
    let _ = shared.execution_id.set(process.execution_id.clone());
    for note in &notes {
        shared.log_line(&diagnostic(
            note.level,
            &note.message,
            Some(&process.execution_id),
            Map::new(),
        ));
    }
    let mut transport: Option<Result<Arc<Transport>, &'static str>> = None;
    while let Ok(first) = rx.recv() {
        let mut batch = Vec::new();
        accept(&shared, &process, first, &mut batch);
        while let Ok(next) = rx.try_recv() {
            accept(&shared, &process, next, &mut batch);
        }
        if batch.is_empty() {
            continue;
        }
        let transport = transport.get_or_insert_with(|| {
            let url = endpoint_url(&shared.settings.endpoint)?;
            Transport::new(url, shared.settings.timeout)
        });
        // Events that arrived while the client was being built go in the same request.
        while let Ok(next) = rx.try_recv() {
            accept(&shared, &process, next, &mut batch);
        }
        match transport {
            Ok(transport) => send_in_background(&shared, transport, batch),
            Err(why) => {
                let outcome = Outcome::Failed((*why).to_owned());
                shared.log_outcome(&batch, &outcome);
                shared.settle(&batch.iter().map(|(id, _)| *id).collect::<Vec<_>>());
            }
        }
    }
}

fn detect_process(app: &AppConfig, notes: &mut Vec<crate::config::Note>) -> ProcessInfo {
    let project_id = std::env::current_dir()
        .map(|dir| crate::project::project_id_for_dir(&dir))
        .unwrap_or_default();
    ProcessInfo {
        execution_id: uuid::Uuid::new_v4().to_string(),
        project_id,
        attributes: crate::attributes::detect(app, &ProcessEnv, notes),
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
        batch.push((id, event));
    }
}

/// One request per batch, each on its own short-lived thread, so that a slow response to
/// an earlier batch never delays a later one (P-4: at most one round trip at exit).
fn send_in_background(shared: &Arc<Shared>, transport: &Arc<Transport>, batch: Vec<(u64, Event)>) {
    let ids: Vec<u64> = batch.iter().map(|(id, _)| *id).collect();
    let (thread_shared, transport) = (shared.clone(), transport.clone());
    let spawned = std::thread::Builder::new()
        .name("cli-telemetry-http".into())
        .spawn(move || {
            let events: Vec<Event> = batch.iter().map(|(_, e)| e.clone()).collect();
            let body = serde_json::to_vec(&crate::otlp::export_request(
                &thread_shared.app.name,
                &events,
            ))
            .unwrap_or_default();
            let outcome = transport.send(body);
            thread_shared.log_outcome(&batch, &outcome);
            thread_shared.settle(&batch.iter().map(|(id, _)| *id).collect::<Vec<_>>());
        });
    if spawned.is_err() {
        shared.log_line(&diagnostic(
            "warn",
            "event delivery failed: no thread for the request",
            shared.execution_id.get().map(String::as_str),
            Map::new(),
        ));
        shared.settle(&ids);
    }
}
