//! What passes between a binary under test and the [`Collector`](super::Collector): the
//! requests it received ([`Request`]) and how it answers them ([`Answer`]).

use std::time::SystemTime;

use crate::event::Event;

/// How the [`Collector`](super::Collector) answers each request.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Answer {
    /// This HTTP status at once (`200`: delivered; `503`: a failure the queue keeps).
    Status(u16),
    /// 429 with `Retry-After: <seconds>`: the queue holds until then.
    RetryAfter(u64),
    /// 200 whose body reports an OTLP partial success: `rejected` spans dropped, with the
    /// collector's `message` (in the request's protocol).
    PartialSuccess {
        /// `rejectedSpans`.
        rejected: u64,
        /// `errorMessage`.
        message: String,
    },
    /// 200 after this many milliseconds (the request is recorded as it arrives).
    Delay(u64),
    /// Reads the request and never answers (until the collector is dropped).
    BlackHole,
    /// Exactly this response: a status, headers (a `Content-Type` among them replaces the
    /// request protocol's) and a body — for a `Retry-After` as an HTTP date, say.
    Raw {
        /// The status.
        status: u16,
        /// Response headers.
        headers: Vec<(String, String)>,
        /// The body.
        body: Vec<u8>,
    },
}

impl Answer {
    /// The status this answer gives, `None` for one that never answers.
    pub(super) fn status(&self) -> Option<u16> {
        match self {
            Answer::Status(s) | Answer::Raw { status: s, .. } => Some(*s),
            Answer::RetryAfter(_) => Some(429),
            Answer::PartialSuccess { .. } | Answer::Delay(_) => Some(200),
            Answer::BlackHole => None,
        }
    }
}

/// One request the [`Collector`](super::Collector) received.
#[derive(Clone, Debug)]
pub struct Request {
    pub(super) path: String,
    pub(super) headers: Vec<(String, String)>,
    pub(super) body: Vec<u8>,
    pub(super) at: SystemTime,
    pub(super) status: Option<u16>,
    pub(super) events: Vec<Event>,
}

impl Request {
    /// The request target (`/v1/traces`).
    pub fn path(&self) -> &str {
        &self.path
    }

    /// A header's value (names are case-insensitive), e.g. `User-Agent`.
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }

    /// Every header, names lower-cased, in the order received.
    pub fn headers(&self) -> &[(String, String)] {
        &self.headers
    }

    /// The body as received.
    pub fn body(&self) -> &[u8] {
        &self.body
    }

    /// The events the body carries.
    pub fn events(&self) -> &[Event] {
        &self.events
    }

    /// When it arrived.
    pub fn received_at(&self) -> SystemTime {
        self.at
    }

    /// The status it was answered with; `None` for a black hole.
    pub fn answered(&self) -> Option<u16> {
        self.status
    }
}
