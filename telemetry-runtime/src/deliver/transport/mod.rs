//! Transports: how a batch of events becomes one HTTP request and its outcome.
//!
//! [`Transport`] is the one small trait every transport implements: it never logs, never
//! retries, and says what became of a request as an [`Outcome`] (its status, `Retry-After`
//! and body read by [`response`]). [`transport_for`] chooses the implementation by cargo
//! feature: `http` (feature `builtin-http`, the default: an own HTTP/1.1 exchange over std's
//! `TcpStream`, with `tls` — rustls on *ring*, the system trust store or `SSL_CERT_FILE`) or
//! `via_reqwest` (feature `reqwest`: the application's reqwest and TLS back end). Both use
//! [`proxy`] (`HTTPS_PROXY`, `NO_PROXY`, …), [`endpoint`] (URL parsing with fixed error
//! phrases) and `quiet` (a request is held back when the application would log the
//! transport's own records, SPEC R-1). [`otlp`] encodes events as OTLP/HTTP JSON or
//! protobuf spans (SPEC S-8, S-17); [`send_events`] puts encoding and sending together.
//!
//! It offers the rest of `deliver` the trait, `Outcome`, `transport_for`, `send_events`,
//! and the response helpers (`http_date`); it knows nothing of the queue or the sender.

mod choose;
pub(crate) mod endpoint;
// With both transports compiled (docs.rs, or features unified across a dependency tree)
// reqwest is used and the built-in one is unused, not wrong.
#[cfg(feature = "builtin-http")]
#[cfg_attr(feature = "reqwest", allow(dead_code))]
pub(crate) mod http;
pub(crate) mod otlp;
pub(crate) mod otlp_read;
mod protowire;
pub(crate) mod proxy;
pub(crate) mod quiet;
mod request;
pub(crate) mod response;
#[cfg(feature = "builtin-http")]
#[cfg_attr(feature = "reqwest", allow(dead_code))]
pub(crate) mod tls;
#[cfg(feature = "reqwest")]
pub(crate) mod via_reqwest;

pub(crate) use choose::{send_events, transport_for};
pub(crate) use request::{Outcome, Transport};
pub(crate) use response::http_date;
