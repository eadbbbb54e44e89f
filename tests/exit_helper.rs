//! `cli_telemetry::exit(code)` (SPEC S-6): records CommandExited with the code, delivers
//! within the deadline, then exits the process with it. The test re-runs its own binary
//! as the child process that exits.
#![cfg(feature = "telemetry")]

mod common;

use std::process::Command;

use cli_telemetry::testing::Expect;
use cli_telemetry::{instrument_command, Telemetry};
use common::{Mode, Receiver};

#[instrument_command(name = "exiter run")]
fn run() -> Result<(), String> {
    println!("about to exit");
    cli_telemetry::exit(3);
}

/// The child: does nothing unless started by the parent below.
#[test]
fn child() {
    if std::env::var_os("EXIT_HELPER_CHILD").is_none() {
        return;
    }
    assert!(Telemetry::builder("exiter").install());
    let _ = run();
    unreachable!("exit() returned");
}

#[test]
fn exit_records_the_code_delivers_and_exits() {
    let receiver = Receiver::start(Mode::Status(200));
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("t.log");
    let out = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "child", "--nocapture", "--test-threads=1"])
        .env("EXIT_HELPER_CHILD", "1")
        .env("EXITER_TELEMETRY", "1")
        .env("EXITER_TELEMETRY_TRACE_URL", receiver.url())
        .env("EXITER_TELEMETRY_LOG_FILE", &log)
        .env("XDG_CACHE_HOME", dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&out.stdout).contains("about to exit"));
    let parsed = common::read_log(&log);
    parsed.events.assert_events(&[
        Expect::started("exiter run"),
        Expect::exited("exiter run").exit_code(3),
    ]);
    assert_eq!(
        parsed.diagnostics_containing("event delivered").len(),
        2,
        "delivered before the exit"
    );
}
