//! Delivery: everything between a complete event and its fate (SPEC S-9, S-10, S-13, S-19).
//!
//! Three sub-parts, each a folder with a paragraph of its own, and the run's own half here:
//!
//! - [`queue`]: the durable queue — event files, locks, the `Retry-After` hold — and what it
//!   trusts (its own directory and regular files only). It knows nothing of HTTP.
//! - [`detached`]: the detached sender — the hand-off, the platform's spawn, and the sender
//!   process that drains the queue after the run has exited. It uses the queue and the
//!   transports.
//! - [`transport`]: the `Transport` trait and its implementations (built-in HTTP/TLS or
//!   reqwest), proxies, endpoints, OTLP encoding, what a response says. It knows nothing of
//!   the queue or the sender.
//!
//! The run's half: [`sender`] (the `Sink` the installed runtime uses: emit, flush with one
//! deadline per process), `worker` (the sender thread: envelopes, the queue append, inline
//! batches), `shared` (what the two share), `to_sender` (this run's side of the hand-off),
//! `fates` (outcomes and their log lines), `mailbox` (a queue between threads) and [`logfile`] (the user's log file of events and
//! their fates).
//!
//! The rest of the runtime sees four doorways: `Sender` (emit, flush), `Queue::delete`
//! (switching off), `run_if_sender` (for `#[cli_telemetry::main]`) and, for status, the
//! transports' `endpoint` and `proxy`.

pub(crate) mod detached;
mod fates;
pub(crate) mod logfile;
mod mailbox;
pub(crate) mod queue;
pub(crate) mod sender;
mod shared;
mod to_sender;
pub(crate) mod transport;
mod worker;
