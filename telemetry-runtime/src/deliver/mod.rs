//! Delivery: everything between a complete event and its fate.
//!
//! - [`sender`]: the background thread started at install; completes envelopes off the
//!   handler's thread, batches, sends each batch on a short-lived thread, and gives the
//!   process one deadline for all its flushes (SPEC S-9).
//! - [`transport`]: the small trait every transport implements and the choice of one;
//!   `http` is the default transport (cargo feature `builtin-http`: own HTTP/1.1 exchange,
//!   no `log` records of its own), with `tls` (rustls, system trust store / `SSL_CERT_FILE`);
//!   `via_reqwest` is the `reqwest` feature's; both use [`proxy`] (`HTTPS_PROXY`,
//!   `NO_PROXY`, …), [`endpoint`] (URL parsing with fixed error phrases) and `quiet` (a
//!   request is held back when the application would log the transport's records, R-1).
//! - [`otlp`]: events as spans, encoded as OTLP/HTTP JSON or protobuf (SPEC S-8, S-17).
//! - [`spool`]: undelivered events kept for a later run (SPEC S-13).
//! - [`logfile`]: the user's log file of events and their fates (SPEC S-10).
//!
//! The rest of the runtime sees three doorways: `Sender` (emit, flush), `Spool::delete`
//! (switching off) and the log file's `diagnostic` lines; status reads `endpoint` and
//! `proxy` to say where events would go.

pub(crate) mod endpoint;
#[cfg(feature = "builtin-http")]
pub(crate) mod http;
pub(crate) mod logfile;
pub(crate) mod otlp;
pub(crate) mod proxy;
pub(crate) mod quiet;
pub(crate) mod sender;
pub(crate) mod spool;
#[cfg(feature = "builtin-http")]
pub(crate) mod tls;
pub(crate) mod transport;
#[cfg(feature = "reqwest")]
pub(crate) mod via_reqwest;
