//! `panic = "abort"` seen from outside (SPEC S-6): the mini-werf built with the `abort`
//! profile (Cargo.toml) panics in `debug-panic`; the panic message is printed as without
//! telemetry, CommandExited 101 is recorded and delivered, then the process aborts.
#![cfg(all(feature = "telemetry", unix))]

mod common;

use std::os::unix::process::ExitStatusExt;
use std::process::Command;

use cli_telemetry::testing::Expect;
use common::{example, Mode, Receiver};

fn abort_build() -> std::path::PathBuf {
    let exe = std::env::current_exe().unwrap();
    let target = exe.ancestors().nth(3).expect("target dir").to_owned();
    let status = Command::new(env!("CARGO"))
        .args([
            "build",
            "--quiet",
            "--profile",
            "abort",
            "--example",
            "werf",
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("CARGO_TARGET_DIR", &target)
        .status()
        .expect("cargo build --profile abort");
    assert!(status.success());
    target.join("abort/examples/werf")
}

#[test]
fn abort_build_records_the_panic_before_aborting() {
    let bin = abort_build();
    let off = example(&bin, &["debug-panic"]).run();
    assert_eq!(
        off.output.status.signal(),
        Some(6),
        "an abort build dies by SIGABRT"
    );

    let receiver = Receiver::start(Mode::Status(200));
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("t.log");
    let on = example(&bin, &["debug-panic"])
        .telemetry(&receiver.url(), &log)
        .run();
    assert_eq!(on.output.status.signal(), Some(6));
    on.assert_same_as(&off, "abort build, telemetry on vs off");
    assert!(
        on.stderr()
            .contains("debug-panic: this command always panics"),
        "{}",
        on.stderr()
    );
    let parsed = common::read_log(&log);
    parsed.events.assert_events(&[
        Expect::started("werf debug-panic"),
        Expect::exited("werf debug-panic").exit_code(101),
    ]);
    assert_eq!(
        parsed.diagnostics_containing("event delivered").len(),
        2,
        "flushed before the abort"
    );
}

#[test]
fn abort_build_hands_the_queue_off_before_aborting() {
    let bin = abort_build();
    let receiver = Receiver::start(Mode::Status(200));
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("t.log");
    let run = example(&bin, &["debug-panic"]);
    let _home = run.home_dir(); // kept while the sender runs
    let on = run
        .telemetry(&receiver.url(), &log)
        .env("WERF_TELEMETRY_DELIVERY", "detached")
        .run();
    assert_eq!(on.output.status.signal(), Some(6));
    assert!(
        common::eventually(std::time::Duration::from_secs(20), || {
            common::read_log(&log)
                .diagnostics_containing("event delivered")
                .len()
                == 2
        }),
        "the detached sender delivered both: {:?}",
        common::read_log(&log).diagnostics
    );
    let exited = common::otlp::events_in(&receiver.bodies())
        .into_iter()
        .find(|e| e.event_type == "CommandExited")
        .expect("CommandExited delivered");
    assert_eq!(exited.exit_code(), Some(101));
}
