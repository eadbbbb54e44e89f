//! What became of an event (SPEC S-10, S-13): the outcome of its request, whether the
//! outcome is final or worth a later try, and the log line that tells the person.

use serde_json::{Map, Value};

use super::logfile::diagnostic;
use super::transport::Outcome;
use crate::event::Event;

/// Failures worth another try by a later sender: no response, or 408, 429, 5xx. Every other
/// outcome is final: the event leaves the queue.
pub(crate) fn retryable(outcome: &Outcome) -> bool {
    match outcome {
        Outcome::Delivered(_) => false,
        Outcome::Rejected(status) => matches!(status, 408 | 429 | 500..=599),
        Outcome::Failed(_) => true,
    }
}

/// `httpStatus`, or `error` (a fixed phrase, never a server message or the URL).
pub(crate) fn outcome_fields(outcome: &Outcome, fields: &mut Map<String, Value>) {
    match outcome {
        Outcome::Delivered(status) | Outcome::Rejected(status) => {
            fields.insert("httpStatus".into(), (*status).into())
        }
        Outcome::Failed(why) => fields.insert("error".into(), why.as_str().into()),
    };
}

/// Who sent an event, for its fate line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum By {
    /// The run that recorded it (inline delivery).
    Run,
    /// A later inline run, from the queue (its own execution id is `run`).
    LaterRun,
    /// The detached sender process.
    Detached,
}

/// The fate line of `event`: `kept` says whether it stays queued for a later sender.
/// `run`: the execution id of the process writing the line, when it is not the event's.
pub(crate) fn fate_line(
    event: &Event,
    outcome: &Outcome,
    kept: bool,
    by: By,
    run: Option<&str>,
) -> Map<String, Value> {
    let delivered = matches!(outcome, Outcome::Delivered(_));
    let (level, message) = match (by, outcome, kept) {
        (By::Run, Outcome::Delivered(_), _) => ("info", "event delivered"),
        (By::Run, Outcome::Rejected(_), false) => ("warn", "event rejected by the endpoint"),
        (By::Run, Outcome::Rejected(_), true) => (
            "warn",
            "event rejected by the endpoint; spooled for a later run",
        ),
        (By::Run, Outcome::Failed(_), false) => ("warn", "event delivery failed"),
        (By::Run, Outcome::Failed(_), true) => {
            ("warn", "event delivery failed; spooled for a later run")
        }
        (By::LaterRun, _, _) if delivered => ("info", "event sent from the spool"),
        (By::LaterRun, _, true) => ("warn", "spooled event not delivered; kept in the spool"),
        (By::LaterRun, _, false) => ("warn", "spooled event rejected by the endpoint; dropped"),
        (By::Detached, _, _) if delivered => ("info", "event delivered"),
        (By::Detached, _, true) => (
            "warn",
            "event not delivered by the detached sender; kept in the queue for a later sender",
        ),
        (By::Detached, _, false) => (
            "warn",
            "event rejected by the endpoint; dropped from the queue",
        ),
    };
    let mut fields = Map::new();
    fields.insert("event".into(), event.event_type.as_str().into());
    outcome_fields(outcome, &mut fields);
    if !delivered {
        fields.insert("spooled".into(), kept.into());
    }
    let execution_id = match by {
        By::Run => Some(event.execution_id.as_str()),
        By::LaterRun => {
            fields.insert(
                "originalExecutionID".into(),
                event.execution_id.as_str().into(),
            );
            run
        }
        By::Detached => {
            fields.insert("by".into(), "detached sender".into());
            Some(event.execution_id.as_str())
        }
    };
    diagnostic(level, message, execution_id, fields)
}

/// The line for corrupt queue files a claim skipped and removed.
pub(crate) fn corrupt_line(files: usize, run: Option<&str>) -> Map<String, Value> {
    let mut fields = Map::new();
    fields.insert("files".into(), files.into());
    diagnostic(
        "warn",
        "corrupt spool files skipped and removed",
        run,
        fields,
    )
}
