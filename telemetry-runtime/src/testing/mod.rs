//! Test harness (SPEC S-11a): check what your CLI reports, in-process or as the built binary.
//!
//! **In-process** — [`capture`] runs a closure and returns the events it emitted on the
//! calling thread (no network, no file, nothing shared between parallel tests), with plain
//! assertions ([`Expect`], exact or in order) and a redacted view for snapshots:
//!
//! ```
//! use cli_telemetry_runtime::testing::{capture, Expect};
//!
//! // In your tests, call your `#[instrument_command]` handlers inside the closure.
//! let captured = capture(|| {});
//! captured.assert_events(&[]);
//! assert!(captured.not_sent().is_empty());
//! assert_eq!(captured.redacted(), "");
//! # let _ = Expect::started("mytool deploy").options(["target"]);
//! ```
//!
//! [`Capture`] sets the app and an environment that decides on or off (what was not sent,
//! and why: [`Captured::not_sent`]); [`CaptureHandle`] takes a capture to threads the code
//! starts.
//!
//! **Against the built binary** — [`Collector`] is a real OTLP/HTTP receiver on
//! 127.0.0.1 (JSON and protobuf) that decodes into the same [`Event`](crate::Event), gives
//! the child an environment of its own (telemetry on, the endpoint, a fresh home, config
//! and cache), waits for complete runs — also those the detached sender delivers after the
//! process exited — and can answer as a failing endpoint would ([`Answer`]):
//!
//! ```
//! # #[cfg(feature = "telemetry")] {
//! use std::time::Duration;
//! use cli_telemetry_runtime::testing::{Answer, Collector};
//!
//! let collector = Collector::answering(Answer::Status(503));
//! let env = collector.env("MYTOOL");
//! assert!(env.contains(&("MYTOOL_TELEMETRY".to_owned(), "1".to_owned())));
//! // std::process::Command::new(binary).envs(env).status() — then:
//! let runs = collector.wait_for_runs(0, Duration::from_millis(10));
//! assert!(runs.is_empty());
//! collector.assert_never_sent("s3cret");
//! # }
//! ```
//!
//! **A log file** — [`read_log`] parses `<PREFIX>_TELEMETRY_LOG_FILE` back into events and
//! diagnostic lines (every event's fate).
//!
//! Files: `capture.rs` (captures, handles), `expect.rs` (`Captured`, `Expect`, not sent,
//! redacted), `log.rs`, and, with the `telemetry` feature, `collector.rs` (`Collector`),
//! `exchange.rs` (`Answer`, `Request`), `server.rs` (its HTTP receiver), `run.rs` (`Run`), `home.rs` (the
//! child's temporary home).

mod capture;
#[cfg(feature = "telemetry")]
mod collector;
#[cfg(feature = "telemetry")]
mod exchange;
mod expect;
#[cfg(feature = "telemetry")]
mod home;
mod log;
#[cfg(feature = "telemetry")]
mod run;
#[cfg(feature = "telemetry")]
mod server;

pub use capture::{capture, Capture, CaptureHandle};
#[cfg(feature = "telemetry")]
#[cfg_attr(docsrs, doc(cfg(feature = "telemetry")))]
pub use collector::Collector;
#[cfg(feature = "telemetry")]
#[cfg_attr(docsrs, doc(cfg(feature = "telemetry")))]
pub use exchange::{Answer, Request};
pub use expect::{Captured, Expect, NotSent, NotSentReason};
pub use log::{parse_log, read_log, Log};
#[cfg(feature = "telemetry")]
#[cfg_attr(docsrs, doc(cfg(feature = "telemetry")))]
pub use run::Run;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_parsing_sorts_lines() {
        let text = concat!(
            r#"{"ts":1,"executionID":"e","projectID":"","command":"werf","attributes":{"os":"linux","arch":"amd64","version":"1"},"eventType":"CommandStarted","eventData":{},"schemaVersion":1}"#,
            "\n",
            r#"{"ts":2,"level":"info","message":"event delivered","event":"CommandStarted","httpStatus":200}"#,
            "\n{\"torn\n"
        );
        let log = parse_log(text);
        log.events
            .assert_events(&[Expect::started("werf").options(Vec::<String>::new())]);
        assert_eq!(log.diagnostics.len(), 1);
        assert_eq!(log.diagnostics_containing("delivered").len(), 1);
        assert_eq!(log.invalid, vec!["{\"torn".to_owned()]);
    }

    #[test]
    #[should_panic(expected = "expected:\n    CommandExited \"werf\" exitCode=1\n  actual:\n")]
    fn mismatch_shows_both_sides() {
        Captured::default().assert_events(&[Expect::exited("werf").exit_code(1)]);
    }
}
