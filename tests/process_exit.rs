//! A process that ends by `std::process::exit` after its handler returned (fd's shape:
//! `ExitCode::exit()` in `main`) still reports (SPEC S-6): the held CommandExited is
//! recorded, durably, with the process's code (glibc tells it), and delivered — inline
//! before the exit, detached after it — as without `#[cli_telemetry::main]`.
#![cfg(all(feature = "telemetry", target_os = "linux", target_env = "gnu"))]

mod common;

use std::time::Duration;

use common::otlp::events_in;
use common::{eventually, example, example_bin, read_log, Mode, Receiver};

#[test]
fn std_process_exit_after_the_handler_reports_the_process_s_code_in_both_modes() {
    let bin = example_bin("fd_like");
    for mode in ["inline", "detached"] {
        for code in [0, 3] {
            let what = format!("{mode}, exit({code})");
            let receiver = Receiver::start(Mode::Status(200));
            let dir = tempfile::tempdir().unwrap();
            let log = dir.path().join("t.log");
            let run = example(&bin, &["pattern"]);
            let _home = run.home_dir(); // kept while a sender runs
            let on = run
                .app_telemetry(&receiver.url(), &log)
                .env("APP_TELEMETRY_DELIVERY", mode)
                .env("FIXTURE_PROCESS_EXIT", code.to_string())
                .run();
            let off = example(&bin, &["pattern"])
                .env("FIXTURE_PROCESS_EXIT", code.to_string())
                .run();
            on.assert_same_as(&off, &what);
            assert_eq!(on.code(), Some(code), "{what}");
            let recorded = read_log(&log);
            let exited = recorded
                .events
                .exited()
                .unwrap_or_else(|| panic!("{what}: recorded"));
            assert_eq!(exited.exit_code(), Some(i64::from(code)), "{what}");
            if mode == "inline" {
                assert_eq!(
                    events_in(&receiver.bodies()).len(),
                    2,
                    "{what}: before the exit"
                );
            } else {
                assert!(
                    eventually(Duration::from_secs(20), || events_in(&receiver.bodies())
                        .len()
                        >= 2),
                    "{what}: delivered after the exit"
                );
            }
            let sent = events_in(&receiver.bodies());
            let sent = sent
                .iter()
                .find(|e| e.event_type == "CommandExited")
                .unwrap();
            assert_eq!(sent.exit_code(), Some(i64::from(code)), "{what}: as sent");
        }
    }
    // Debug mode prints it too.
    let debug = example(&bin, &["pattern"])
        .env("APP_TELEMETRY_DEBUG", "1")
        .env("FIXTURE_PROCESS_EXIT", "3")
        .run();
    let printed = cli_telemetry::testing::parse_log(&debug.stderr());
    assert_eq!(printed.events.exited().and_then(|e| e.exit_code()), Some(3));
}
