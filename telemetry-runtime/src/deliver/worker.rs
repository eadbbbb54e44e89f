//! The sender thread (SPEC S-9, S-10, S-13): completes envelopes off the handler's thread
//! (execution id, installation id, project id, attributes), writes each to the log file
//! (or, in debug mode, stderr) and to the durable queue as soon as it is recorded.
//!
//! Detached, that is all: the exit hands the queue to a detached sender. Inline, each event
//! is queued as claimed by this run, then batched and sent on a short-lived thread; its
//! outcome removes it from the queue (delivered, rejected) or puts it back to waiting for a
//! later sender (no response, 408, 429, 5xx). After the run's first request, events that
//! earlier runs left in the queue are sent too.

use std::sync::Arc;

use serde_json::Map;

use super::fates::{corrupt_line, fate_line, hold_for, retryable, By};
use super::logfile::diagnostic;
use super::mailbox::{Mailbox, Receiving};
use super::queue::DRAIN_BATCH;
use super::shared::Shared;
use super::transport::{send_events as send, transport_for, Outcome, Transport};
use crate::config::{AppConfig, ProcessEnv};
use crate::event::{Event, ProcessInfo, RawEvent};

/// What the handle tells the thread.
pub(super) enum Msg {
    /// A recorded event.
    Event(u64, RawEvent),
    /// Events this run had queued for a detached sender, now claimed back and pending: no
    /// sender could be started, so they go inline.
    Inline(Vec<(u64, Event)>),
}

/// Starts the sender thread; its mailbox.
pub(super) fn spawn(shared: Arc<Shared>) -> Option<Arc<Mailbox<Msg>>> {
    let mailbox = Arc::new(Mailbox::new());
    let own = mailbox.clone();
    std::thread::Builder::new()
        .name("cli-telemetry".into())
        .spawn(move || run(shared, own))
        .ok()
        .map(|_| mailbox)
}

/// How much longer than the deadline a request may take (it only matters to processes
/// that go on running after a command).
const REQUEST_GRACE: std::time::Duration = std::time::Duration::from_millis(500);

impl Shared {
    /// Sends one batch of this run's events and records each one's fate. While the
    /// endpoint's `Retry-After` holds the queue, nothing is sent: the events stay queued.
    fn deliver(&self, transport: &dyn Transport, batch: Vec<(u64, Event)>) {
        let events: Vec<&Event> = batch.iter().map(|(_, e)| e).collect();
        let outcome = match self.queue.as_ref().and_then(|q| q.held_until()) {
            Some(until) => Outcome::Held { until },
            None => send(transport, &self.settings, &self.app, &self.wire, &events),
        };
        self.note_throttle(&outcome);
        let ids: Vec<u64> = batch.iter().map(|(id, _)| *id).collect();
        let final_ = !retryable(&outcome);
        // The lines first: the exit may follow the moment the events are concluded.
        for (event, kept) in events.iter().zip(self.would_keep(&ids, final_)) {
            self.log_line(&fate_line(event, &outcome, kept, By::Run, None));
        }
        self.conclude(&ids, final_);
    }

    /// Sends events that earlier runs left in the queue, after this run's own first request.
    fn drain(self: &Arc<Self>, transport: &Arc<dyn Transport>) {
        let (Some(queue), Some(owner)) = (&self.queue, self.owner()) else {
            self.drain_done();
            return;
        };
        if queue.held_until().is_some() {
            self.drain_done(); // the endpoint asked not to be called yet
            return;
        }
        let (claims, corrupt) = queue.claim(DRAIN_BATCH, owner, self.run_id(), &[]);
        if corrupt > 0 {
            self.log_line(&corrupt_line(corrupt, self.run_id()));
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
                claims.into_iter().for_each(|c| {
                    c.release();
                });
                return;
            }
            progress.draining = claims;
        }
        let (shared, transport) = (self.clone(), transport.clone());
        let job = move || {
            let refs: Vec<&Event> = events.iter().collect();
            let outcome = send(
                &*transport,
                &shared.settings,
                &shared.app,
                &shared.wire,
                &refs,
            );
            shared.note_throttle(&outcome);
            // The deadline may have put the claims back already; then they stay there.
            let claims = std::mem::take(&mut shared.lock().draining);
            let keep = retryable(&outcome);
            for claim in claims {
                shared.log_line(&fate_line(
                    &claim.event,
                    &outcome,
                    keep,
                    By::LaterRun,
                    shared.run_id(),
                ));
                if keep {
                    claim.release();
                } else {
                    claim.done();
                }
            }
            shared.drain_done();
        };
        if std::thread::Builder::new()
            .name("cli-telemetry-queue".into())
            .spawn(job)
            .is_err()
        {
            for claim in std::mem::take(&mut self.lock().draining) {
                claim.release();
            }
            self.drain_done();
        }
    }

    /// A `Retry-After` on 429/503: the queue holds until then, and the log file says till
    /// when (SPEC S-21).
    fn note_throttle(&self, outcome: &Outcome) {
        if let Some(line) = hold_for(self.queue.as_ref(), outcome, self.run_id()) {
            self.log_line(&line);
        }
    }

    fn drain_done(&self) {
        self.lock().drain_busy = false;
        self.settled.notify_all();
    }
}

/// The sender thread.
fn run(shared: Arc<Shared>, own: Arc<Mailbox<Msg>>) {
    let _receiving = Receiving(&*own);
    let rx = &*own;
    let mut notes = shared.settings.notes.clone();
    let process = detect_process(&shared.app, shared.settings.sample_rate, &mut notes);
    let _ = shared.execution_id.set(process.execution_id.clone());
    let mut transport: Option<Result<Arc<dyn Transport>, &'static str>> = None;
    let mut drained = false;
    let mut handoff_started = false;
    loop {
        let first = rx.recv();
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
        take(&shared, &process, first, &mut batch);
        while let Some(next) = rx.try_recv() {
            take(&shared, &process, next, &mut batch);
        }
        if shared.lock().handoff_busy && !std::mem::replace(&mut handoff_started, true) {
            hand_off_early(&shared, &own);
        }
        if batch.is_empty() {
            continue;
        }
        let transport = transport.get_or_insert_with(|| {
            // A little longer than the deadline: at exit the deadline decides (and queues),
            // so the two never race for the same events.
            transport_for(
                &shared.settings,
                &ProcessEnv,
                shared.settings.timeout + REQUEST_GRACE,
            )
        });
        // Events that arrived while the client was being built go in the same request.
        while let Some(next) = rx.try_recv() {
            take(&shared, &process, next, &mut batch);
        }
        match transport {
            Ok(transport) => {
                let drain_now = !drained && shared.queue.is_some();
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
                // A configuration that can never send (a malformed endpoint): final.
                let outcome = Outcome::Failed((*why).to_owned());
                let ids: Vec<u64> = batch.iter().map(|(id, _)| *id).collect();
                for (_, event) in &batch {
                    shared.log_line(&fate_line(event, &outcome, false, By::Run, None));
                }
                shared.conclude(&ids, true);
            }
        }
    }
}

fn take(shared: &Shared, process: &ProcessInfo, msg: Msg, batch: &mut Vec<(u64, Event)>) {
    match msg {
        Msg::Event(id, raw) => accept(shared, process, id, raw, batch),
        Msg::Inline(events) => batch.extend(events),
    }
}

fn detect_process(
    app: &AppConfig,
    sample_rate: f64,
    notes: &mut Vec<crate::config::Note>,
) -> ProcessInfo {
    use crate::record::attributes;
    let project_id = std::env::current_dir()
        .map(|dir| crate::record::project::project_id_for_dir(&dir))
        .unwrap_or_default();
    let attributes =
        attributes::with_sample_rate(attributes::detect(app, &ProcessEnv, notes), sample_rate);
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

/// Completes the envelope, logs it, and prints it in debug mode (then it is settled: debug
/// mode never sends). Otherwise it goes to the queue: detached, as waiting (and the exit
/// need not wait for it any longer); inline, claimed by this run and into the next request.
/// When the queue can't take it, it is sent inline (and lost if that fails, with a note).
fn accept(
    shared: &Shared,
    process: &ProcessInfo,
    id: u64,
    raw: RawEvent,
    batch: &mut Vec<(u64, Event)>,
) {
    let event = raw.complete(process);
    shared.log_line(&event);
    if shared.settings.debug {
        if let Ok(line) = serde_json::to_string(&event) {
            use std::io::Write;
            let _ = writeln!(std::io::stderr().lock(), "{line}");
        }
        shared.conclude(&[id], true);
        return;
    }
    if shared.detached() {
        if let Some(queue) = &shared.queue {
            match queue.append(&event) {
                Ok(path) => {
                    let mut progress = shared.lock();
                    progress.pending.remove(&id);
                    progress.queued.push((event, path));
                    // The run's first queued event: the sender thread starts the hand-off.
                    if !std::mem::replace(&mut progress.handed_early, true) {
                        progress.handoff_busy = true;
                    }
                    drop(progress);
                    shared.settled.notify_all();
                    return;
                }
                Err(e) => shared.note_queue_failure(
                    "the queue could not be written; this run's events are sent inline",
                    &e,
                ),
            }
        }
    }
    let claim = match (&shared.queue, shared.owner()) {
        (Some(queue), Some(owner)) => queue.append_claimed(&event, owner),
        (Some(queue), None) => Err(queue.ready().err().map_or_else(
            || std::io::Error::other("no owner lock"),
            std::io::Error::other,
        )),
        (None, _) => Err(std::io::Error::other("no queue")),
    };
    let claim = match claim {
        Ok(claim) => Some(claim),
        Err(e) => {
            if shared.queue.is_some() {
                shared.note_queue_failure(
                    "the queue could not be written; undelivered events of this run will be lost",
                    &e,
                );
            }
            None
        }
    };
    if let Some(pending) = shared.lock().pending.get_mut(&id) {
        pending.event = Some(event.clone());
        pending.claim = claim;
    }
    batch.push((id, event));
}

/// The early hand-off (SPEC S-19): with the run's first event in the queue, a sender is
/// made sure of while the command runs — on a thread of its own, so that the sender thread
/// goes on queueing (the exit waits for the queue, never for a spawn). When no sender can
/// be started, the events it claims back go inline through this thread.
fn hand_off_early(shared: &Arc<Shared>, own: &Arc<Mailbox<Msg>>) {
    let (thread_shared, own) = (shared.clone(), own.clone());
    let job = move || {
        let inline = thread_shared.ensure_sender(false);
        thread_shared.lock().handoff_busy = false;
        thread_shared.settled.notify_all();
        // The queue's bounds, kept here: off the sender thread, which the exit waits for.
        if let Some(queue) = &thread_shared.queue {
            thread_shared.trim_once(queue);
        }
        // And the sender it started is reaped here if this process lives on.
        let spawned = std::mem::take(&mut thread_shared.lock().spawned);
        spawned.into_iter().for_each(super::detached::reap);
        if let Some(events) = inline.filter(|e| !e.is_empty()) {
            let ids: Vec<u64> = events.iter().map(|(id, _)| *id).collect();
            if own.send(Msg::Inline(events)).is_err() {
                thread_shared.conclude(&ids, false);
            }
        }
    };
    if std::thread::Builder::new()
        .name("cli-telemetry-handoff".into())
        .spawn(job)
        .is_err()
    {
        // No thread: the exit makes sure of a sender instead.
        shared.lock().handoff_busy = false;
        shared.settled.notify_all();
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
        shared.conclude(&ids, false);
    }
}
