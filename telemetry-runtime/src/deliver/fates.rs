//! What became of an event (SPEC S-10, S-13): the outcome of its request, whether the
//! outcome is final or worth a later try, and the log line that tells the person.

use serde_json::{Map, Value};

use super::logfile::diagnostic;
use super::queue::Queue;
use super::transport::{http_date, Outcome};
use crate::event::Event;

/// Failures worth another try by a later sender: no response, 408, 429, 5xx, or a hold the
/// endpoint asked for. Every other outcome is final: the event leaves the queue (a partial
/// success too: the collector has decided).
pub(crate) fn retryable(outcome: &Outcome) -> bool {
    match outcome {
        Outcome::Delivered(_) | Outcome::PartlyRejected { .. } => false,
        Outcome::Rejected(status) => matches!(status, 408 | 429 | 500..=599),
        Outcome::Throttled { .. } | Outcome::Held { .. } | Outcome::Failed(_) => true,
    }
}

/// `httpStatus`, or `error` (a fixed phrase, never a server message or the URL); for a
/// partial success the collector's own message (bounded, control characters removed) as
/// `collectorMessage`; for a `Retry-After`, the time it names.
pub(crate) fn outcome_fields(outcome: &Outcome, fields: &mut Map<String, Value>) {
    match outcome {
        Outcome::Delivered(status) | Outcome::Rejected(status) => {
            fields.insert("httpStatus".into(), (*status).into());
        }
        Outcome::PartlyRejected {
            status,
            rejected,
            message,
        } => {
            fields.insert("httpStatus".into(), (*status).into());
            fields.insert("rejectedSpans".into(), (*rejected).into());
            if !message.is_empty() {
                fields.insert("collectorMessage".into(), message.as_str().into());
            }
        }
        Outcome::Throttled { status, until } => {
            fields.insert("httpStatus".into(), (*status).into());
            fields.insert("retryAfter".into(), http_date(*until).into());
        }
        Outcome::Held { until } => {
            fields.insert("heldUntil".into(), http_date(*until).into());
        }
        Outcome::Failed(why) => {
            fields.insert("error".into(), why.as_str().into());
        }
    }
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
    let partial = matches!(outcome, Outcome::PartlyRejected { .. });
    let held = matches!(outcome, Outcome::Held { .. });
    let (level, message) = match (by, outcome, kept) {
        (By::Run, Outcome::Delivered(_), _) => ("info", "event delivered"),
        (By::Run, _, _) if partial => (
            "warn",
            "event rejected by the collector (partial success: it dropped spans)",
        ),
        (By::Run, _, _) if held => (
            "warn",
            "event not sent: the endpoint asked not to be called yet (Retry-After); spooled for a later run",
        ),
        (By::Run, Outcome::Failed(_), false) => ("warn", "event delivery failed"),
        (By::Run, Outcome::Failed(_), true) => {
            ("warn", "event delivery failed; spooled for a later run")
        }
        (By::Run, _, false) => ("warn", "event rejected by the endpoint"),
        (By::Run, _, true) => (
            "warn",
            "event rejected by the endpoint; spooled for a later run",
        ),
        (By::LaterRun, _, _) if delivered => ("info", "event sent from the spool"),
        (By::LaterRun, _, _) if partial => (
            "warn",
            "spooled event rejected by the collector (partial success: it dropped spans); dropped",
        ),
        (By::LaterRun, _, true) => ("warn", "spooled event not delivered; kept in the spool"),
        (By::LaterRun, _, false) => ("warn", "spooled event rejected by the endpoint; dropped"),
        (By::Detached, _, _) if delivered => ("info", "event delivered"),
        (By::Detached, _, _) if partial => (
            "warn",
            "event rejected by the collector (partial success: it dropped spans); dropped from the queue",
        ),
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

/// The line that names the time a `Retry-After` holds the queue until (SPEC S-21).
pub(crate) fn hold_line(until: u64, run: Option<&str>) -> Map<String, Value> {
    let mut fields = Map::new();
    fields.insert("until".into(), http_date(until).into());
    fields.insert("untilMs".into(), until.into());
    diagnostic(
        "warn",
        "the endpoint asked not to be called before a time (Retry-After): queued events wait until then",
        run,
        fields,
    )
}

/// After a request: a `Retry-After` (a throttled outcome) holds `queue`, if there is one;
/// the line that names the time, for the log file of the process `run`.
pub(crate) fn hold_for(
    queue: Option<&Queue>,
    outcome: &Outcome,
    run: Option<&str>,
) -> Option<Map<String, Value>> {
    let Outcome::Throttled { until, .. } = outcome else {
        return None;
    };
    if let Some(queue) = queue {
        queue.hold_until(*until);
    }
    Some(hold_line(*until, run))
}
