//! README "Testing your integration", run as written (issue 27): a CLI author's black-box
//! tests of the built binary with `cli_telemetry::testing::Collector`, from `assert_cmd` and
//! from plain `std::process::Command`. The only line that differs from the README is the
//! binary: here the mini-werf, built as an example; in your crate
//! `Command::cargo_bin("mytool")` or `env!("CARGO_BIN_EXE_mytool")`.
#![cfg(feature = "telemetry")]

mod common;

use std::time::Duration;

use assert_cmd::Command;
use cli_telemetry::testing::{Answer, Collector, Expect};

fn werf() -> std::path::PathBuf {
    common::werf_bin()
}

#[test]
fn converge_reports_its_command_options_and_exit_code() {
    let collector = Collector::start();
    Command::new(werf())
        .args(["converge", "--repo", "registry.example/s3cret", "--dev"])
        .env("WERF_ENV", "s3cret-env")
        .envs(collector.env("WERF"))
        .current_dir(collector.home())
        .assert()
        .success();
    // Delivered by the detached sender after the process exited: waited for, no sleep.
    let runs = collector.wait_for_runs(1, Duration::from_secs(20));
    assert_eq!(runs.len(), 1, "{:?}", collector.log());
    let run = &runs[0];
    assert_eq!(run.command(), "werf converge");
    assert_eq!(run.exit_code(), Some(0));
    assert!(run.option("repo").is_some_and(|o| o.as_cli && o.count == 1));
    assert!(run.option("env").is_some_and(|o| o.as_env && !o.as_cli));
    run.assert_events(&[
        Expect::started("werf converge").options(["dev", "env", "repo"]),
        Expect::exited("werf converge").exit_code(0),
    ]);
    collector.assert_never_sent("s3cret");
}

#[test]
fn a_failing_command_reports_the_code_the_process_exits_with() {
    let collector = Collector::start();
    let status = std::process::Command::new(werf())
        .args(["kube-run", "--exit-code", "3"])
        .envs(collector.env("WERF"))
        .current_dir(collector.home())
        .status()
        .unwrap();
    assert_eq!(status.code(), Some(3));
    let runs = collector.wait_for_runs(1, Duration::from_secs(20));
    assert_eq!(runs[0].exit_code(), Some(3));
    // A snapshot that holds on every machine: ids, times, os and arch are placeholders.
    assert_eq!(
        runs[0].captured().redacted(),
        concat!(
            r#"{"ts":"<ts>","executionID":"<executionID>","projectID":"","command":"werf kube-run","attributes":{"os":"<os>","arch":"<arch>","version":"0.1.0"},"eventType":"CommandStarted","eventData":{"commandOptions":[{"name":"exit-code","asCli":true,"asEnv":false,"count":1}]},"schemaVersion":1}"#,
            "\n",
            r#"{"ts":"<ts>","executionID":"<executionID>","projectID":"","command":"werf kube-run","attributes":{"os":"<os>","arch":"<arch>","version":"0.1.0"},"eventType":"CommandExited","eventData":{"exitCode":3,"durationMs":"<durationMs>"},"schemaVersion":1}"#,
            "\n",
        )
    );
}

#[test]
fn a_dead_endpoint_changes_nothing_for_the_person_running_the_tool() {
    let collector = Collector::answering(Answer::BlackHole);
    let output = std::process::Command::new(werf())
        .args(["converge", "--repo", "r"])
        .envs(collector.env_inline("WERF"))
        .env("WERF_TELEMETRY_TIMEOUT_MS", "300")
        .current_dir(collector.home())
        .output()
        .unwrap();
    assert!(output.status.success());
    assert_eq!(String::from_utf8_lossy(&output.stdout).lines().count(), 1);
    assert!(output.stderr.is_empty());
    // Inline: the request went out before the exit, and the log says what became of it.
    let requests = collector.wait_for_requests(1, Duration::from_secs(5));
    assert_eq!(requests[0].answered(), None, "a black hole never answers");
    assert!(requests[0]
        .header("user-agent")
        .is_some_and(|ua| ua.starts_with("werf/")));
    let log = collector.log();
    assert_eq!(
        log.diagnostics_containing("event left undelivered at the deadline")
            .len(),
        2
    );
}
