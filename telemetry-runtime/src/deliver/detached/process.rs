//! The detached sender process (SPEC S-19, R-5, R-6): the same executable, entered through
//! `#[cli_telemetry::main]` before the application's code runs. A process this library
//! started has the marker (a start token) in its environment and `cli-telemetry-sender` as
//! its whole command line; it never runs the application: it drains the queue if the
//! queue directory is one it trusts and confirms its token, and exits either way. A marker
//! in any other process (stale, copied, or set by hand) is ignored: the application runs
//! its command as usual.
//!
//! It waits for the run that started it to end (a run starts its sender as soon as its
//! first event is queued, so that its exit need not), for at most half of its life, and
//! while a detached run is alive it waits for that run's last events (up to three quarters
//! of its life). Its life is bounded (`Telemetry::sender_life`, 10 s by default) whatever
//! the endpoint does: requests run on a thread it stops waiting for at the end of its life,
//! and a watchdog ends the process a second later in any case. It batches the queue into as
//! few requests as the endpoint accepts (halving a batch the endpoint finds too large).
//! Every 250 ms — while it waits, and while a request is in flight — it looks for a reason
//! to stop: the person's choice (off: it deletes the queue), a `.stop` an opt-out left, its
//! queue deleted or replaced. It writes each event's fate to the log file the run named.
//! When its life ends with events it never tried (they came while it was busy), it starts
//! its successor before it exits, so no event waits for a later run.

use std::collections::VecDeque;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::Map;

use super::config::{SenderConfig, ARGV0, CONFIG, MARKER, QUEUE};
use super::drain::{Drain, Stop, Why, WATCH};
use crate::config::{ProcessEnv, Settings};
use crate::deliver::fates::{corrupt_line, fate_line, hold_for, retryable, By};
use crate::deliver::logfile::{diagnostic, LogFile};
use crate::deliver::mailbox::Mailbox;
use crate::deliver::queue::{Claimed, Queue, MAX_EVENTS};
use crate::deliver::transport::otlp::Wire;
use crate::deliver::transport::{http_date, Outcome, Transport};

/// Called first thing in `main` (by `#[cli_telemetry::main]`): never returns when this
/// process is a detached sender; returns at once otherwise (one environment read).
pub(crate) fn run_if_sender() {
    let Some(token) = std::env::var_os(MARKER) else {
        return;
    };
    let mut args = std::env::args_os();
    if args.next().as_deref() != Some(std::ffi::OsStr::new(ARGV0)) || args.next().is_some() {
        return; // a marker in a command someone runs: the application runs it
    }
    // Started by this library: whatever happens now, main's body never runs.
    let config = std::env::var(CONFIG)
        .ok()
        .and_then(|json| serde_json::from_str::<SenderConfig>(&json).ok());
    let queue = std::env::var_os(QUEUE).map(PathBuf::from);
    if let (Some(token), Some(config), Some(queue)) = (token.to_str(), config, queue) {
        serve(&config, queue, token);
    }
    std::process::exit(0);
}

fn serve(config: &SenderConfig, dir: PathBuf, token: &str) {
    let (app, parent) = (&config.app, config.parent);
    let born = Instant::now();
    let settings = Settings::from_env(app, &ProcessEnv);
    let life = settings.sender_life;
    // Whatever happens below (a stuck disk, a request that ignores its timeout), the
    // process ends a moment after its life.
    let _ = std::thread::Builder::new()
        .name("cli-telemetry-watchdog".into())
        .spawn(move || {
            std::thread::sleep(life + Duration::from_secs(1));
            std::process::exit(0);
        });
    let log = settings.log_file.clone().map(|p| Arc::new(LogFile::new(p)));
    if std::fs::symlink_metadata(&dir).is_err() {
        return; // deleted since (an opt-out): nothing to do, and nothing to make again
    }
    let queue = Queue::new(dir).with_log(log.clone());
    if let Err(why) = queue.ready() {
        // Not a directory it trusts: nothing in it is touched, its token included.
        if let Some(log) = &log {
            let mut fields = Map::new();
            fields.insert("reason".into(), why.into());
            log.write(&diagnostic(
                "warn",
                "the detached sender did not use the queue",
                None,
                fields,
            ));
        }
        return;
    }
    if !queue.start_exists(token) {
        return; // used already, or the queue is gone: nothing to do
    }
    // Take the lock first, then remove the start token: runs that look in between see one
    // or the other, and start no second sender.
    let lock = queue.sender_lock();
    queue.remove_start(token);
    let Some(lock) = lock else {
        return; // a sender is alive; it looks at the queue before it exits
    };
    // A request to stop left for a sender before this one is not this one's.
    queue.clear_stop();
    let Ok(owner) = queue.owner() else { return };
    let mut drain = Drain {
        app,
        identity: crate::deliver::queue::identity(queue.dir()),
        queue,
        lock: Some(lock),
        owner,
        off: false,
        log,
        wire: Wire {
            span_name: app.span_name.clone(),
        },
        end: born + life,
        tried: Vec::new(),
        transport: None,
        last_request: None,
    };
    let mut fields = Map::new();
    fields.insert("pid".into(), std::process::id().into());
    fields.insert("lifeMs".into(), (life.as_millis() as u64).into());
    drain.log_line(&diagnostic("info", "detached sender started", None, fields));
    // Started early, while the run's command still runs: its events go out in one request
    // when it has ended — or after half of this sender's life, keeping the rest for them.
    let waited = drain.wait_until(born + life / 2, |_| {
        !super::spawn::wait_for_exit(parent, Instant::now() + WATCH)
    });
    match waited {
        Err(why) => drain.stopped(why),
        Ok(()) => drain.serve_loop(settings.log_file.as_deref(), config.generation),
    }
    // Every claim is done or back to waiting: the owner's lock file goes too.
    let Drain {
        owner, queue, off, ..
    } = drain;
    owner.retire(&queue);
    if off {
        queue.delete();
    }
}

impl Drain<'_> {
    fn serve_loop(&mut self, log_file: Option<&std::path::Path>, generation: u32) {
        loop {
            match self.run() {
                Stop::Interrupted(why) => return self.stopped(why),
                Stop::Held => return,
                Stop::LifeOver => {
                    self.log_line(&diagnostic(
                        "warn",
                        "the detached sender's life is over; undelivered events stay in the queue for a later sender",
                        None,
                        Map::new(),
                    ));
                    break;
                }
                Stop::Empty => {}
            }
            // A detached run is alive (its last events come at its exit): wait for it,
            // keeping the lock, rather than leave it to start another sender at its exit.
            let until = self.end - (self.end - Instant::now()) / 4;
            if let Err(why) = self.wait_until(until, |drain| drain.queue.live_run()) {
                return self.stopped(why);
            }
            // Release, then look once more: an event appended while this sender held the
            // lock by a run that saw it held is seen here.
            drop(self.lock.take());
            if !self.queue.has_waiting(&self.tried) {
                return;
            }
            if Instant::now() >= self.end {
                break;
            }
            match self.queue.sender_lock() {
                Some(again) => self.lock = Some(again),
                None => return, // another sender took over
            }
        }
        // The life is over with events this sender never got an answer for (they came
        // while it was busy, or its life ended with them in flight): its successor takes
        // them, now, rather than a run that may come in days. A successor starts none, so
        // a chain is two lives long at most, whatever the endpoint does.
        drop(self.lock.take());
        if generation == 0 && self.queue.has_waiting(&self.tried) {
            let handed = super::handoff::hand_off(
                &self.queue,
                self.app,
                log_file,
                std::process::id(),
                generation + 1,
            );
            let mut fields = Map::new();
            match handed {
                Ok(super::handoff::HandOff::Spawned(pid)) => {
                    fields.insert("senderPid".into(), pid.into())
                }
                Ok(_) => fields.insert("senderPid".into(), serde_json::Value::Null),
                Err(why) => fields.insert("error".into(), why.into()),
            };
            self.log_line(&diagnostic(
                "info",
                "events came while the detached sender was busy: a successor takes them",
                None,
                fields,
            ));
        }
    }

    /// The endpoint asked not to be called before `until` (Unix ms): waits for it when it
    /// comes within this sender's life (keeping the last quarter for the requests), then
    /// may try again what it tried; `Ok(false)` when it lies beyond (the events stay
    /// queued).
    fn wait_for_hold(&mut self, until: u64) -> Result<bool, Why> {
        let now_ms = crate::event::unix_millis();
        let wait = Duration::from_millis(until.saturating_sub(now_ms));
        let latest = self.end - (self.end - Instant::now()) / 4;
        let mut fields = Map::new();
        fields.insert("until".into(), http_date(until).into());
        if Instant::now() + wait > latest {
            self.log_line(&diagnostic(
                "info",
                "the endpoint asked not to be called before a time past the detached sender's life: events stay in the queue for a later sender",
                None,
                fields,
            ));
            return Ok(false);
        }
        self.log_line(&diagnostic(
            "info",
            "the detached sender waits until the time the endpoint asked for (Retry-After)",
            None,
            fields,
        ));
        self.wait_until(Instant::now() + wait, |_| true)?;
        self.tried.clear();
        Ok(true)
    }

    fn run(&mut self) -> Stop {
        loop {
            if let Some(why) = self.interrupted() {
                return Stop::Interrupted(why);
            }
            let now = Instant::now();
            if now >= self.end || self.last_request.is_some_and(|took| now + took > self.end) {
                return Stop::LifeOver;
            }
            if let Some(until) = self.queue.held_until() {
                match self.wait_for_hold(until) {
                    Ok(true) => continue,
                    Ok(false) => return Stop::Held,
                    Err(why) => return Stop::Interrupted(why),
                }
            }
            let (claims, corrupt) = self.queue.claim(MAX_EVENTS, &self.owner, None, &self.tried);
            if corrupt > 0 {
                self.log_line(&corrupt_line(corrupt, None));
            }
            if claims.is_empty() {
                return Stop::Empty;
            }
            let settings = Settings::from_env(self.app, &ProcessEnv);
            let end = self.end;
            let transport = self
                .transport
                .get_or_insert_with(|| {
                    crate::deliver::transport::transport_for(&settings, &ProcessEnv, end - now)
                })
                .clone();
            match transport {
                Ok(transport) => {
                    if let Some(stop) = self.send_all(&transport, &settings, claims) {
                        return stop;
                    }
                }
                Err(why) => {
                    // A configuration that can never send (a malformed endpoint): final.
                    let outcome = Outcome::Failed(why.to_owned());
                    for claim in claims {
                        self.log_line(&fate_line(
                            &claim.event,
                            &outcome,
                            false,
                            By::Detached,
                            None,
                        ));
                        claim.done();
                    }
                }
            }
        }
    }

    /// Sends the claims in as few requests as the endpoint takes; `Some` when the sender
    /// must stop.
    fn send_all(
        &mut self,
        transport: &Arc<dyn Transport>,
        settings: &Settings,
        claims: Vec<Claimed>,
    ) -> Option<Stop> {
        let mut batches = VecDeque::from([claims]);
        while let Some(mut batch) = batches.pop_front() {
            let began = Instant::now();
            let outcome = match self.timed_send(transport, settings, &batch) {
                Ok(outcome) => {
                    self.last_request = Some(began.elapsed());
                    outcome
                }
                Err(stop) => {
                    // Stopped with the request in flight: what is left goes back to
                    // waiting (an opt-out deleted it already) without an answer, so a
                    // successor may try it.
                    for claim in batches.into_iter().flatten().chain(batch) {
                        if claim.exists() {
                            claim.release();
                        }
                    }
                    return Some(stop);
                }
            };
            if let Some(line) = hold_for(Some(&self.queue), &outcome, None) {
                self.log_line(&line);
            }
            if outcome == Outcome::Rejected(413) && batch.len() > 1 {
                let second = batch.split_off(batch.len() / 2);
                batches.push_front(second);
                batches.push_front(batch);
                continue;
            }
            let keep = retryable(&outcome);
            for claim in batch {
                self.log_line(&fate_line(&claim.event, &outcome, keep, By::Detached, None));
                if keep {
                    let back = claim.release();
                    if !self.tried.contains(&back) {
                        self.tried.push(back);
                    }
                } else {
                    claim.done();
                }
            }
            if matches!(outcome, Outcome::Throttled { .. }) {
                // Held: the rest waits too (`run` waits for the time, or leaves).
                for claim in batches.into_iter().flatten() {
                    claim.release();
                }
                return None;
            }
        }
        None
    }

    /// One request, waited for until the end of the sender's life at most, looking for a
    /// reason to stop every [`WATCH`] while it is in flight.
    fn timed_send(
        &self,
        transport: &Arc<dyn Transport>,
        settings: &Settings,
        batch: &[Claimed],
    ) -> Result<Outcome, Stop> {
        let events: Vec<crate::event::Event> = batch.iter().map(|c| c.event.clone()).collect();
        let answer = Arc::new(Mailbox::new());
        let tx = answer.clone();
        let (transport, settings, app, wire) = (
            transport.clone(),
            settings.clone(),
            self.app.clone(),
            Wire {
                span_name: self.wire.span_name.clone(),
            },
        );
        std::thread::Builder::new()
            .name("cli-telemetry-http".into())
            .spawn(move || {
                let refs: Vec<&crate::event::Event> = events.iter().collect();
                let _ = tx.send(crate::deliver::transport::send_events(
                    &*transport,
                    &settings,
                    &app,
                    &wire,
                    &refs,
                ));
            })
            .map_err(|_| Stop::LifeOver)?;
        loop {
            let left = self
                .end
                .checked_duration_since(Instant::now())
                .ok_or(Stop::LifeOver)?;
            match answer.recv_timeout(left.min(WATCH)) {
                Some(outcome) => return Ok(outcome),
                None => {
                    let gone = batch.iter().any(|c| !c.exists());
                    match self.interrupted() {
                        Some(why) => return Err(Stop::Interrupted(why)),
                        // Its claims were deleted under it: an opt-out, or `rm`.
                        None if gone => return Err(Stop::Interrupted(Why::Gone)),
                        None => {}
                    }
                }
            }
        }
    }
}
