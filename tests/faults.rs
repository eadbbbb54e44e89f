//! Endpoint faults never change the command (SPEC R-1, S-9): same stdout, stderr and exit
//! code as with telemetry off, and the process ends within the deadline (plus generous
//! slack: precise timings are the benchmark's job). Each failure is recorded in the log.
#![cfg(feature = "telemetry")]

mod common;

use std::time::Duration;

use common::{werf, Finished, Mode, Receiver};

const ARGS: &[&str] = &["converge", "--repo", "r", "--set", "k=v"];
const DEADLINE_MS: u64 = 1300;
const SLACK: Duration = Duration::from_millis(1000);

fn baseline() -> Finished {
    werf(ARGS).run()
}

/// Runs with telemetry on against `url`; checks output and time; returns the log.
fn check(url: &str, what: &str) -> cli_telemetry::testing::Log {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("t.log");
    let run = werf(ARGS).telemetry(url, &log).run();
    run.assert_same_as(&baseline(), what);
    assert!(
        run.elapsed < Duration::from_millis(DEADLINE_MS) + SLACK,
        "{what}: took {:?}, deadline {DEADLINE_MS} ms",
        run.elapsed
    );
    let parsed = common::read_log(&log);
    assert_eq!(
        parsed.events.events().len(),
        2,
        "{what}: both events are logged whatever happens to delivery"
    );
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(
        !text.contains(url),
        "{what}: the endpoint URL must not be logged"
    );
    parsed
}

fn failure_reasons(log: &cli_telemetry::testing::Log) -> Vec<String> {
    log.diagnostics
        .iter()
        .filter_map(|d| {
            d.get("error")
                .or_else(|| d.get("httpStatus"))
                .map(|v| v.to_string())
        })
        .collect()
}

#[test]
fn connection_refused() {
    let log = check(&common::refused_url(), "refused");
    assert_eq!(
        failure_reasons(&log),
        ["\"connection refused\"", "\"connection refused\""]
    );
}

#[test]
fn black_hole() {
    let receiver = Receiver::start(Mode::BlackHole);
    let log = check(&receiver.url(), "black hole");
    let left = log.diagnostics_containing("left undelivered at the deadline");
    assert_eq!(left.len(), 2, "{:?}", log.diagnostics);
}

#[test]
fn slow_endpoint() {
    let receiver = Receiver::start(Mode::Delay(Duration::from_secs(5)));
    let log = check(&receiver.url(), "slow");
    assert_eq!(
        log.diagnostics_containing("left undelivered at the deadline")
            .len(),
        2
    );
}

#[test]
fn server_errors_and_throttling() {
    for status in [500, 503, 429, 404] {
        let receiver = Receiver::start(Mode::Status(status));
        let log = check(&receiver.url(), &format!("status {status}"));
        assert_eq!(
            failure_reasons(&log),
            [status.to_string(), status.to_string()]
        );
    }
}

#[test]
fn unresolvable_host() {
    // `.invalid` never resolves (RFC 2606); with no DNS at all the lookup may hang, which
    // the deadline covers.
    let log = check("http://telemetry.invalid/v1/traces", "unresolvable");
    assert!(!log.diagnostics.is_empty());
}

#[test]
fn malformed_and_non_http_urls() {
    for (url, reason) in [
        ("http://exa mple.com/v1/traces", "endpoint URL is malformed"),
        ("http://", "endpoint URL is malformed"),
        (
            "ftp://127.0.0.1/v1/traces",
            "endpoint URL scheme is not http or https",
        ),
        (
            "file:///etc/passwd",
            "endpoint URL scheme is not http or https",
        ),
    ] {
        let log = check(url, url);
        assert_eq!(
            failure_reasons(&log),
            [format!("{reason:?}"), format!("{reason:?}")],
            "{url}"
        );
    }
}

#[test]
fn a_shorter_deadline_is_honoured() {
    let receiver = Receiver::start(Mode::BlackHole);
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("t.log");
    let run = werf(ARGS)
        .telemetry(&receiver.url(), &log)
        .env("WERF_TELEMETRY_TIMEOUT_MS", "200")
        .run();
    run.assert_same_as(&baseline(), "deadline 200 ms");
    assert!(
        run.elapsed < Duration::from_millis(200) + SLACK,
        "took {:?}",
        run.elapsed
    );
    let parsed = common::read_log(&log);
    assert_eq!(
        parsed.diagnostics_containing("left undelivered")[0]["deadlineMs"],
        200
    );
}
