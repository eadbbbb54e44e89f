//! The one small trait every transport implements. A transport never logs, never retries,
//! and says what became of a request as an [`Outcome`] (its status, `Retry-After` and body
//! read by `response`). Which transport is used is chosen in `choose`, not here: this file
//! names no implementation.

/// What became of one request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// 2xx.
    Delivered(u16),
    /// A 2xx whose body reports an OTLP partial success: the collector dropped `rejected`
    /// spans, saying `message` (control characters removed, bounded). A rejection.
    PartlyRejected {
        status: u16,
        rejected: u64,
        message: String,
    },
    /// Any other status.
    Rejected(u16),
    /// 429 or 503 with a usable `Retry-After`: nothing may be sent before `until` (Unix
    /// milliseconds).
    Throttled { status: u16, until: u64 },
    /// Not sent: the endpoint asked earlier not to be called before `until` (Unix ms).
    Held { until: u64 },
    /// No response: the reason, as a fixed phrase (never the URL or a server message).
    Failed(String),
}

/// One request: an encoded `ExportTraceServiceRequest`.
pub(crate) struct Request<'a> {
    pub content_type: &'static str,
    pub body: &'a [u8],
}

/// Sends requests to the endpoint. Blocking; called on short-lived sender threads only.
pub(crate) trait Transport: Send + Sync {
    /// Sends one request within the transport's timeout.
    fn send(&self, request: &Request<'_>) -> Outcome;
}
