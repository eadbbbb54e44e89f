//! This run's side of the hand-off to a detached sender (SPEC S-19, R-5): as soon as the
//! run's first event is in the queue, the sender thread makes sure a sender is alive or
//! starting — spawning one if not — while the command still runs, and takes the run's lock
//! (so that a sender waits for the run's last events). A sender started so waits for the
//! run's process to end (or for most of its own life) before it drains, so that the run's
//! events go in one request. At the exit, after the run's last append, the run looks again:
//! a live sender (its lock held) or one starting will see what it appended; otherwise it
//! starts one now. When no sender can be started, the run's events are claimed back and go
//! inline.

use std::time::Instant;

use serde_json::Map;

use super::detached::{hand_off, HandOff};
use super::logfile::diagnostic;
use super::shared::Shared;
use crate::event::Event;

impl Shared {
    /// Makes sure a detached sender will take this run's queued events: one alive or being
    /// started, or one spawned now. `at_exit`: the check after the run's last append, which
    /// is quiet when a sender is there. When no sender can be started, the run goes inline:
    /// its queued events are claimed back and returned, to be sent inline (`Some`).
    pub(super) fn ensure_sender(&self, at_exit: bool) -> Option<Vec<(u64, Event)>> {
        let queue = self.queue.as_ref()?;
        if self.lock().queued.is_empty() {
            return None;
        }
        if at_exit {
            // Appended, then looked: a sender holding its lock now looks at the queue again
            // after it releases it; one starting drains after it takes it.
            if queue.sender_alive() || queue.sender_starting() {
                return None;
            }
        } else if let Some(id) = self.run_id() {
            // While this run lives, a sender that finds it waits for its last events.
            if let Some(lock) = queue.run_lock(id) {
                let _ = self.run_lock.set(lock);
            }
        }
        let started = Instant::now();
        let result = hand_off(
            queue,
            &self.app,
            self.settings.log_file.as_deref(),
            std::process::id(),
            0,
        );
        let mut fields = Map::new();
        fields.insert("events".into(), self.lock().queued.len().into());
        // What the hand-off cost (locks, a start token, the spawn), for people who measure.
        fields.insert(
            "handOffUs".into(),
            (started.elapsed().as_micros() as u64).into(),
        );
        let when = if at_exit { "at exit" } else { "early" };
        fields.insert("when".into(), when.into());
        match result {
            Ok(how) => {
                if let HandOff::Spawned(pid) = how {
                    self.lock().spawned.push(pid);
                }
                let message = match how {
                    HandOff::Spawned(pid) => {
                        fields.insert("senderPid".into(), pid.into());
                        "events queued for the detached sender, started now"
                    }
                    HandOff::Running => "events queued for the detached sender already running",
                    HandOff::Starting => "events queued for the detached sender being started",
                };
                self.log_line_nowait(&diagnostic("info", message, self.run_id(), fields));
                None
            }
            Err(why) => {
                fields.insert("error".into(), why.into());
                self.log_line_nowait(&diagnostic(
                    "warn",
                    "the detached sender could not be started; delivering inline",
                    self.run_id(),
                    fields,
                ));
                self.go_inline();
                Some(self.claim_back())
            }
        }
    }

    /// This run's queued events, claimed back from the queue (those a sender already took
    /// stay its) and pending again, to go inline.
    fn claim_back(&self) -> Vec<(u64, Event)> {
        let (Some(queue), Some(owner)) = (&self.queue, self.owner()) else {
            return Vec::new();
        };
        let mut progress = self.lock();
        let queued: Vec<_> = progress.queued.drain(..).collect();
        let mut batch = Vec::new();
        for (event, waiting) in queued {
            let Some(Ok(claim)) = queue.claim_file(&waiting, owner) else {
                continue;
            };
            let id =
                progress.add_pending(event.event_type.clone(), Some(event.clone()), Some(claim));
            batch.push((id, event));
        }
        batch
    }
}
