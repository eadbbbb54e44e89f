//! The log file and the on/off switches, seen from outside: the built mini-werf, a real
//! log file, a loopback receiver (SPEC S-7, S-10).
#![cfg(feature = "telemetry")]

mod common;

use cli_telemetry::testing::Expect;
use cli_telemetry::OptionUsage;
use common::{werf, Mode, Receiver};

fn usage(name: &str, as_cli: bool, as_env: bool, count: u64) -> OptionUsage {
    OptionUsage {
        name: name.into(),
        as_cli,
        as_env,
        count,
    }
}

const CONVERGE: &[&str] = &[
    "-vv", "converge", "--repo", "x", "--set", "a=1", "--set", "b=2",
];

#[test]
fn converge_writes_started_and_exited_with_true_option_usage() {
    let receiver = Receiver::start(Mode::Status(200));
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("telemetry.log");
    let run = werf(CONVERGE)
        .env("WERF_ENV", "prod")
        .telemetry(&receiver.url(), &log)
        .run();
    assert_eq!(run.code(), Some(0), "{}", run.stderr());
    assert_eq!(run.stderr(), "");

    let parsed = common::read_log(&log);
    assert!(parsed.invalid.is_empty(), "{:?}", parsed.invalid);
    parsed.events.assert_events(&[
        Expect::started("werf converge").option_usage(vec![
            usage("env", false, true, 0),
            usage("repo", true, false, 1),
            usage("set", true, false, 2),
            usage("verbose", true, false, 2),
        ]),
        Expect::exited("werf converge").exit_code(0),
    ]);
    let events = parsed.events.events();
    assert_eq!(events[0].execution_id, events[1].execution_id);
    assert_eq!(events[0].schema_version, 1);
    assert!(events[1].duration_ms().is_some());
    assert!(events[0].ts <= events[1].ts);
    assert_eq!(events[0].attributes.version, env!("CARGO_PKG_VERSION"));
    assert_eq!(
        events[0].attributes.os,
        cli_telemetry::go_os(std::env::consts::OS)
    );
    // Every line is an event or a diagnostic; the two events were delivered.
    assert_eq!(parsed.diagnostics_containing("event delivered").len(), 2);
    // Values never reach the file.
    let text = std::fs::read_to_string(&log).unwrap();
    for value in ["prod", "a=1", "b=2", "\"x\""] {
        assert!(!text.contains(value), "{value} leaked into the log");
    }
}

#[cfg(unix)]
#[test]
fn log_file_is_created_with_mode_0600_and_appended() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("t.log");
    let url = common::refused_url();
    werf(&["version"]).telemetry(&url, &log).run();
    assert!(
        !log.exists(),
        "`version` is not instrumented: no event, no file"
    );
    werf(&["helm", "get-release", "--namespace", "ns"])
        .telemetry(&url, &log)
        .run();
    werf(&["helm", "get-release", "--namespace", "ns"])
        .telemetry(&url, &log)
        .run();
    assert_eq!(
        std::fs::metadata(&log).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let parsed = common::read_log(&log);
    assert_eq!(parsed.events.events().len(), 4);
    assert_eq!(parsed.events.events()[0].command, "werf helm get-release");
}

#[test]
fn switched_off_creates_no_file_and_prints_the_same() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("t.log");
    let url = common::refused_url();
    let baseline = werf(CONVERGE).env("WERF_ENV", "prod").run();
    for (var, value) in [("WERF_TELEMETRY", "0"), ("DO_NOT_TRACK", "1")] {
        let run = werf(CONVERGE)
            .env("WERF_ENV", "prod")
            .telemetry(&url, &log)
            .env(var, value) // overrides WERF_TELEMETRY=1 from telemetry(), or adds DO_NOT_TRACK
            .run();
        run.assert_same_as(&baseline, var);
        assert!(!log.exists(), "{var}={value} created the log file");
    }
    // Not set at all: the mini-werf's default is off.
    let run = werf(CONVERGE)
        .env("WERF_ENV", "prod")
        .env("WERF_TELEMETRY_LOG_FILE", &log)
        .run();
    run.assert_same_as(&baseline, "unset");
    assert!(!log.exists());
}

#[test]
fn debug_mode_prints_events_to_stderr_and_sends_nothing() {
    let receiver = Receiver::start(Mode::Status(200));
    let run = werf(&["kube-run", "--exit-code", "3"])
        .env("WERF_TELEMETRY_DEBUG", "1")
        .env("WERF_TELEMETRY_TRACE_URL", receiver.url())
        .run();
    assert_eq!(run.code(), Some(3));
    assert_eq!(run.stdout(), "kube-run: command exited with 3\n");
    let printed = cli_telemetry::testing::parse_log(&run.stderr());
    assert!(printed.invalid.is_empty(), "stderr: {}", run.stderr());
    printed.events.assert_events(&[
        Expect::started("werf kube-run").options(["exit-code"]),
        Expect::exited("werf kube-run").exit_code(3),
    ]);
    std::thread::sleep(std::time::Duration::from_millis(100));
    assert!(receiver.bodies().is_empty(), "debug mode must not send");
}

#[test]
fn ignored_switch_value_is_noted_in_the_log_only() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("t.log");
    let run = werf(&["helm", "get-release", "--namespace", "ns"])
        .env("WERF_TELEMETRY_DEBUG", "1")
        .env("DO_NOT_TRACK", "maybe")
        .env("WERF_TELEMETRY_LOG_FILE", &log)
        .run();
    assert_eq!(run.code(), Some(0));
    let parsed = common::read_log(&log);
    assert_eq!(parsed.events.events().len(), 2);
    let notes = parsed.diagnostics_containing("DO_NOT_TRACK");
    assert_eq!(notes.len(), 1, "{:?}", parsed.diagnostics);
    assert!(!std::fs::read_to_string(&log).unwrap().contains("maybe"));
}
