//! The test harness for CLI authors (issue 27, SPEC S-11a), in-process: captures stay per
//! test and safe in parallel tests; threads the captured code starts report once they
//! enter the capture (a `std::thread::scope`, a multi-threaded tokio runtime's workers);
//! what was not sent is listed with why; assertions exact or in order; a redacted view for
//! snapshots.
#![cfg(feature = "telemetry")]

use clap::Parser;
use cli_telemetry::testing::{capture, Capture, CaptureHandle, Expect, NotSentReason};
use cli_telemetry::{instrument_command, Decision, Telemetry, TelemetryFlag};

#[instrument_command(name = "tool work")]
fn work() {}

#[instrument_command(name = "tool fetch")]
async fn fetch() -> u32 {
    7
}

#[derive(Parser)]
#[command(name = "tool")]
struct Cli {
    #[command(flatten)]
    telemetry: TelemetryFlag,
}

/// A handler that parses inside (fd's shape).
#[instrument_command]
fn parse_inside(args: &[&str]) {
    let _cli: Cli = cli_telemetry::parse_from(args);
}

#[test]
fn threads_report_to_the_capture_once_they_enter_it() {
    let events = capture(|| {
        let handle = CaptureHandle::current().expect("inside a capture");
        std::thread::scope(|s| {
            s.spawn(|| handle.enter(work));
            // A thread that does not enter reports to no capture.
            s.spawn(work);
        });
    });
    events.assert_events(&[
        Expect::started("tool work"),
        Expect::exited("tool work").exit_code(0),
    ]);
    assert!(CaptureHandle::current().is_none(), "outside a capture");
}

/// Runs `fetch` in a task of a multi-threaded runtime: the handler is called on a worker.
fn on_a_worker(hook: bool) {
    let mut builder = tokio::runtime::Builder::new_multi_thread();
    builder.worker_threads(2);
    if hook {
        let handle = CaptureHandle::current().unwrap();
        builder
            .on_thread_start(move || handle.attach())
            .on_thread_stop(CaptureHandle::detach);
    }
    let runtime = builder.build().unwrap();
    let n = runtime.block_on(async { tokio::spawn(async { fetch().await }).await.unwrap() });
    assert_eq!(n, 7);
}

#[test]
fn a_multi_threaded_runtime_reports_through_its_thread_start_hook() {
    let events = capture(|| on_a_worker(true));
    events.assert_events(&[
        Expect::started("tool fetch"),
        Expect::exited("tool fetch").exit_code(7),
    ]);
    // Without the hook, the workers are not the capture's threads.
    assert!(capture(|| on_a_worker(false)).is_empty());
}

#[test]
fn parallel_captures_never_see_each_other() {
    let threads: Vec<_> = (0..8)
        .map(|i| {
            std::thread::spawn(move || {
                let events = capture(|| {
                    for _ in 0..i {
                        work();
                    }
                });
                events.events().len()
            })
        })
        .collect();
    let counts: Vec<usize> = threads.into_iter().map(|t| t.join().unwrap()).collect();
    assert_eq!(counts, (0..8).map(|i| i * 2).collect::<Vec<_>>());
}

#[test]
fn what_was_not_sent_is_listed_with_why() {
    let app = || Telemetry::builder("tool").env_prefix("TOOL");
    // Off by the person's variable: the handler runs, nothing is sent.
    let (_, off) = Capture::new(app()).env([("TOOL_TELEMETRY", "0")]).run(work);
    assert!(off.is_empty());
    assert_eq!(off.not_sent().len(), 2);
    assert_eq!(
        off.not_sent()[0].reason,
        NotSentReason::Off {
            decided_by: Decision::EnvVar {
                var: "TOOL_TELEMETRY".into(),
                on: false
            }
        }
    );
    assert_eq!(off.not_sent()[1].event_type, "CommandExited");
    // The same environment, on: sent.
    let (_, on) = Capture::new(app()).env([("TOOL_TELEMETRY", "1")]).run(work);
    assert_eq!(on.events().len(), 2);
    assert!(on.not_sent().is_empty());
    // Sampled out.
    let (_, sampled) = Capture::new(app()).sampled_out().run(work);
    assert!(sampled.is_empty());
    assert!(sampled
        .not_sent()
        .iter()
        .all(|n| n.reason == NotSentReason::SampledOut));
    // Not a run: the handler parsed a telemetry action.
    let (_, action) = Capture::new(app()).run(|| parse_inside(&["tool", "--telemetry", "status"]));
    assert!(action.is_empty());
    assert_eq!(action.not_sent().len(), 1);
    assert_eq!(action.not_sent()[0].reason, NotSentReason::NotARun);
    assert_eq!(action.not_sent()[0].command, "tool");
}

#[test]
fn assertions_exact_or_in_order() {
    let events = capture(|| {
        work();
        cli_telemetry::testing::capture(|| {}); // a nested capture of its own: nothing here
        work();
    });
    events.assert_includes(&[Expect::started("tool work"), Expect::exited("tool work")]);
    let exact = std::panic::catch_unwind(|| {
        events.assert_events(&[Expect::started("tool work"), Expect::exited("tool work")])
    });
    let message = exact.unwrap_err();
    let message = message.downcast_ref::<String>().unwrap();
    assert!(
        message.contains("captured events differ") && message.contains("actual:"),
        "an extra event fails the exact mode, showing both sides: {message}"
    );
    let out_of_order = std::panic::catch_unwind(|| {
        events.assert_includes(&[Expect::exited("tool work"), Expect::started("tool fetch")])
    });
    assert!(out_of_order.is_err());
}

#[test]
fn a_redacted_snapshot_holds_on_every_machine() {
    let (_, events) = Capture::new(Telemetry::builder("tool").version("1.2.3")).run(work);
    assert_eq!(
        events.redacted(),
        concat!(
            r#"{"ts":"<ts>","executionID":"<executionID>","projectID":"","command":"tool work","attributes":{"os":"<os>","arch":"<arch>","version":"1.2.3"},"eventType":"CommandStarted","eventData":{},"schemaVersion":1}"#,
            "\n",
            r#"{"ts":"<ts>","executionID":"<executionID>","projectID":"","command":"tool work","attributes":{"os":"<os>","arch":"<arch>","version":"1.2.3"},"eventType":"CommandExited","eventData":{"exitCode":0,"durationMs":"<durationMs>"},"schemaVersion":1}"#,
            "\n"
        )
    );
}
