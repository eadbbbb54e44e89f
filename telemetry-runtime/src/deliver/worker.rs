//! The sender thread (SPEC S-9, S-10, S-13): completes envelopes off the handler's thread
//! (execution id, installation id, project id, attributes), writes them to the log file or,
//! in debug mode, stderr; batches; builds the transport once; sends each batch on a
//! short-lived thread; re-sends spooled events after the run's first request.

use std::sync::mpsc;
use std::sync::Arc;

use serde_json::Map;

use super::logfile::diagnostic;
use super::otlp;
use super::shared::{outcome_fields, retryable, Shared};
use super::spool::{Claimed, DRAIN_BATCH};
use super::transport::{Outcome, Request, Transport};
use crate::config::{AppConfig, ProcessEnv};
use crate::event::{Event, ProcessInfo, RawEvent};

pub(super) fn spawn(shared: Arc<Shared>) -> Option<mpsc::Sender<(u64, RawEvent)>> {
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

impl Shared {
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
            super::transport_for(
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
        .map(|dir| crate::record::project::project_id_for_dir(&dir))
        .unwrap_or_default();
    let attributes = crate::record::attributes::detect(app, &ProcessEnv, notes);
    // None in CI: a fresh CI machine would count as a new installation on every run.
    let user_id = if app.installation_id && attributes.ci != Some(true) {
        app.choice_file(&ProcessEnv)
            .and_then(|path| crate::config::choice::installation_id(&path))
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
