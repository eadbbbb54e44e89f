//! The detached sender process (SPEC S-19, R-5): the same executable, entered through
//! `#[cli_telemetry::main]` before the application's code runs. A process this library
//! started has the marker (a start token) in its environment and `cli-telemetry-sender` as
//! its whole command line; it never runs the application: it drains the queue if the
//! queue directory confirms its token, and exits either way. A marker in any other process
//! (stale, copied, or set by hand) is ignored: the application runs its command as usual.
//!
//! It waits for the run that started it to end (a run starts its sender as soon as its
//! first event is queued, so that its exit need not), for at most half of its life. Its
//! life is bounded (`Telemetry::sender_life`, 10 s by default) whatever the endpoint does: requests run on a thread it stops waiting for at the end of its life, and a
//! watchdog ends the process a second later in any case. It batches the queue into as few
//! requests as the endpoint accepts (halving a batch the endpoint finds too large), reads
//! the person's choice again before each request (an opt-out deletes the queue and ends
//! it), and writes each event's fate to the log file the run named.

use std::collections::{HashSet, VecDeque};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::Map;

use super::fates::{corrupt_line, fate_line, retryable, By};
use super::handoff::{SenderConfig, ARGV0, CONFIG, MARKER};
use super::logfile::{diagnostic, LogFile};
use super::otlp::Wire;
use super::queue::{Claimed, Owner, Queue, MAX_EVENTS};
use super::transport::{Outcome, Transport};
use crate::config::{AppConfig, ProcessEnv, Settings};

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
    if let (Some(token), Some(config)) = (token.to_str(), config) {
        let queue = Queue::new(config.queue);
        if queue.start_exists(token) {
            serve(&config.app, &queue, token, config.parent);
        }
        // No start token: it was used already, or the queue is gone. Nothing to do.
    }
    std::process::exit(0);
}

/// Why a drain stopped.
enum Stop {
    /// Nothing left that this sender has not tried.
    Empty,
    /// Its life is over; what is left stays queued.
    LifeOver,
    /// Telemetry was switched off: the queue is deleted.
    Off,
    /// The endpoint asked not to be called before a time past this sender's life.
    Held,
}

struct Drain<'a> {
    app: &'a AppConfig,
    queue: &'a Queue,
    owner: Owner,
    log: Option<LogFile>,
    wire: Wire,
    end: Instant,
    /// Waiting files this sender tried and put back: not tried twice in one life.
    tried: HashSet<PathBuf>,
    transport: Option<Result<Arc<dyn Transport>, &'static str>>,
}

fn serve(app: &AppConfig, queue: &Queue, token: &str, parent: u32) {
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
    // Take the lock first, then remove the start token: runs that look in between see one
    // or the other, and start no second sender.
    let lock = queue.sender_lock();
    queue.remove_start(token);
    let Some(lock) = lock else {
        return; // a sender is alive; it looks at the queue before it exits
    };
    let Ok(owner) = queue.owner() else { return };
    let mut drain = Drain {
        app,
        queue,
        owner,
        log: settings.log_file.clone().map(LogFile::new),
        wire: Wire {
            span_name: app.span_name.clone(),
        },
        end: born + life,
        tried: HashSet::new(),
        transport: None,
    };
    let mut fields = Map::new();
    fields.insert("pid".into(), std::process::id().into());
    fields.insert("lifeMs".into(), (life.as_millis() as u64).into());
    drain.log_line(&diagnostic("info", "detached sender started", None, fields));
    // Started early, while the run's command still runs: its events go out in one request
    // when it has ended — or after half of this sender's life, keeping the rest for them.
    super::spawn::wait_for_exit(parent, born + life / 2);
    let mut lock = Some(lock);
    serve_loop(&mut drain, queue, &mut lock);
    // Every claim is done or back to waiting: the owner's lock file goes too.
    drain.owner.retire(queue);
}

fn serve_loop(drain: &mut Drain<'_>, queue: &Queue, lock: &mut Option<std::fs::File>) {
    loop {
        match drain.run() {
            Stop::Off => return,
            Stop::LifeOver => {
                drain.log_line(&diagnostic(
                    "warn",
                    "the detached sender's life is over; undelivered events stay in the queue for a later sender",
                    None,
                    Map::new(),
                ));
                return;
            }
            Stop::Held => return,
            Stop::Empty => {}
        }
        // Events of a run still alive wait here (this sender took its first ones; the rest
        // come at its exit): wait for it, keeping the lock, rather than leave it to start
        // another sender at its exit.
        if drain.wait_for_live_runs() {
            continue;
        }
        // Release, then look once more: an event appended while this sender held the lock
        // by a run that saw it held is seen here.
        drop(lock.take());
        if Instant::now() >= drain.end || !queue.has_waiting(&drain.tried) {
            return;
        }
        match queue.sender_lock() {
            Some(again) => *lock = Some(again),
            None => return, // another sender took over
        }
    }
}

impl Drain<'_> {
    fn log_line<T: serde::Serialize + ?Sized>(&self, line: &T) {
        if let Some(log) = &self.log {
            log.write(line);
        }
    }

    /// Waits (polling, within this sender's life less its last quarter, kept for the
    /// request) while a run whose events wait in the queue is alive; true if it waited.
    fn wait_for_live_runs(&self) -> bool {
        let until = self.end - (self.end - Instant::now()) / 4;
        let mut waited = false;
        while Instant::now() < until && self.queue.live_run_waiting(&self.tried) {
            waited = true;
            std::thread::sleep(Duration::from_millis(20));
        }
        waited
    }

    /// The endpoint asked not to be called before `until` (Unix ms): waits for it when it
    /// comes within this sender's life (keeping the last quarter for the requests), then
    /// may try again what it tried; false when it lies beyond (the events stay queued).
    /// The person's choice is read again while it waits.
    fn wait_for_hold(&mut self, until: u64) -> bool {
        let now_ms = super::response::unix_millis(std::time::SystemTime::now());
        let wait = Duration::from_millis(until.saturating_sub(now_ms));
        let latest = self.end - (self.end - Instant::now()) / 4;
        let mut fields = Map::new();
        fields.insert("until".into(), super::response::http_date(until).into());
        if Instant::now() + wait > latest {
            self.log_line(&diagnostic(
                "info",
                "the endpoint asked not to be called before a time past the detached sender's life: events stay in the queue for a later sender",
                None,
                fields,
            ));
            return false;
        }
        self.log_line(&diagnostic(
            "info",
            "the detached sender waits until the time the endpoint asked for (Retry-After)",
            None,
            fields,
        ));
        let resume = Instant::now() + wait;
        while Instant::now() < resume {
            std::thread::sleep((resume - Instant::now()).min(Duration::from_millis(250)));
            if self.still_on().is_none() {
                return false;
            }
        }
        self.tried.clear();
        true
    }

    /// The person's choice, read again: off ends the sender and deletes the queue.
    fn still_on(&self) -> Option<Settings> {
        let settings = Settings::from_env(self.app, &ProcessEnv);
        if settings.enabled && !settings.debug {
            return Some(settings);
        }
        self.queue.delete();
        let mut log = self.log.as_ref();
        let own;
        if log.is_none() {
            own = settings.log_file.clone().map(LogFile::new);
            log = own.as_ref();
        }
        if let Some(log) = log {
            log.write(&diagnostic(
                "info",
                "telemetry is off now: the detached sender stopped and deleted the queue",
                None,
                Map::new(),
            ));
        }
        None
    }

    fn run(&mut self) -> Stop {
        loop {
            let Some(settings) = self.still_on() else {
                return Stop::Off;
            };
            let now = Instant::now();
            if now >= self.end {
                return Stop::LifeOver;
            }
            if let Some(until) = self.queue.held_until() {
                if !self.wait_for_hold(until) {
                    return Stop::Held;
                }
                continue;
            }
            let (claims, corrupt) = self.queue.claim(MAX_EVENTS, &self.owner, None, &self.tried);
            if corrupt > 0 {
                self.log_line(&corrupt_line(corrupt, None));
            }
            if claims.is_empty() {
                return Stop::Empty;
            }
            let end = self.end;
            let transport = self
                .transport
                .get_or_insert_with(|| super::transport_for(&settings, &ProcessEnv, end - now))
                .clone();
            match transport {
                Ok(transport) => {
                    if let Some(stop) = self.send_all(&transport, claims) {
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
    fn send_all(&mut self, transport: &Arc<dyn Transport>, claims: Vec<Claimed>) -> Option<Stop> {
        let mut batches = VecDeque::from([claims]);
        while let Some(mut batch) = batches.pop_front() {
            let Some(settings) = self.still_on() else {
                return Some(Stop::Off);
            };
            let outcome = match self.timed_send(transport, &settings, &batch) {
                Some(outcome) => outcome,
                None => {
                    // The life ended with the request in flight: back to waiting.
                    for claim in batches.into_iter().flatten().chain(batch) {
                        claim.release();
                    }
                    return Some(Stop::LifeOver);
                }
            };
            if let Some(line) = super::hold::hold_for(Some(self.queue), &outcome, None) {
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
                    self.tried.insert(claim.release());
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

    /// One request, waited for until the end of the sender's life at most.
    fn timed_send(
        &self,
        transport: &Arc<dyn Transport>,
        settings: &Settings,
        batch: &[Claimed],
    ) -> Option<Outcome> {
        let left = self.end.checked_duration_since(Instant::now())?;
        let events: Vec<crate::event::Event> = batch.iter().map(|c| c.event.clone()).collect();
        let (tx, rx) = std::sync::mpsc::channel();
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
                let _ = tx.send(super::worker::send(
                    &*transport,
                    &settings,
                    &app,
                    &wire,
                    &refs,
                ));
            })
            .ok()?;
        rx.recv_timeout(left).ok()
    }
}
