//! A complete run as a [`Collector`](super::Collector) received it: every event of one
//! `executionID`, with CommandStarted and CommandExited among them.

use super::exchange::Request;
use super::expect::{Captured, Expect};
use crate::event::{Event, OptionUsage, COMMAND_EXITED, COMMAND_STARTED};

/// The events of one process run, received complete (see
/// [`Collector::wait_for_runs`](super::Collector::wait_for_runs)).
#[derive(Clone, Debug)]
pub struct Run {
    execution_id: String,
    command: String,
    options: Vec<OptionUsage>,
    captured: Captured,
}

impl Run {
    fn new(execution_id: String, events: Vec<Event>) -> Run {
        let started = events.iter().find(|e| e.event_type == COMMAND_STARTED);
        let command = started
            .or_else(|| events.first())
            .map(|e| e.command.clone())
            .unwrap_or_default();
        let options = started.map(Event::command_options).unwrap_or_default();
        Run {
            execution_id,
            command,
            options,
            captured: Captured::from(events),
        }
    }

    /// Its `executionID`.
    pub fn execution_id(&self) -> &str {
        &self.execution_id
    }

    /// Its command path (`mytool deploy`).
    pub fn command(&self) -> &str {
        &self.command
    }

    /// CommandExited's `exitCode`.
    pub fn exit_code(&self) -> Option<i64> {
        self.exited().and_then(Event::exit_code)
    }

    /// CommandExited's `durationMs`.
    pub fn duration_ms(&self) -> Option<u64> {
        self.exited().and_then(Event::duration_ms)
    }

    /// The entry of CommandStarted's `commandOptions` named `name` (`as_cli`, `as_env`,
    /// `count`); `None` when the option was not set.
    pub fn option(&self, name: &str) -> Option<&OptionUsage> {
        self.options.iter().find(|o| o.name == name)
    }

    /// Every entry of CommandStarted's `commandOptions`.
    pub fn options(&self) -> &[OptionUsage] {
        &self.options
    }

    /// Its events, in the order received.
    pub fn events(&self) -> &[Event] {
        self.captured.events()
    }

    /// Its events as a [`Captured`]: the same assertions and the redacted view.
    pub fn captured(&self) -> &Captured {
        &self.captured
    }

    /// [`Captured::assert_events`] on this run's events: exactly these, in order.
    pub fn assert_events(&self, expected: &[Expect]) {
        self.captured.assert_events(expected);
    }

    /// [`Captured::assert_includes`] on this run's events: these in order, others allowed.
    pub fn assert_includes(&self, expected: &[Expect]) {
        self.captured.assert_includes(expected);
    }

    fn exited(&self) -> Option<&Event> {
        self.captured.exited()
    }
}

/// The complete runs in `requests`, in the order their first event arrived; an event
/// received twice (a sender's request cut at the end of its life, sent again) counts once.
pub(super) fn runs_in(requests: &[Request]) -> Vec<Run> {
    let mut order: Vec<String> = Vec::new();
    let mut by_run: std::collections::HashMap<String, Vec<Event>> = Default::default();
    for event in requests.iter().flat_map(|r| r.events()) {
        let events = by_run.entry(event.execution_id.clone()).or_default();
        if events.is_empty() {
            order.push(event.execution_id.clone());
        }
        if !events.contains(event) {
            events.push(event.clone());
        }
    }
    order
        .into_iter()
        .filter_map(|id| {
            let events = by_run.remove(&id)?;
            let complete = [COMMAND_STARTED, COMMAND_EXITED]
                .iter()
                .all(|t| events.iter().any(|e| e.event_type == *t));
            complete.then(|| Run::new(id, events))
        })
        .collect()
}
