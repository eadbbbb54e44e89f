//! The first-run notice (SPEC S-12), with a fixture tool whose telemetry is on by default
//! (`examples/default_on.rs`), in temporary HOME / XDG_CONFIG_HOME directories.
#![cfg(feature = "telemetry")]

mod common;

use common::{example, example_bin, Mode, Receiver, Run};

const NOTICE: &str = "ontool collects anonymous usage data";

fn ontool(args: &[&str]) -> Run {
    example(&example_bin("default_on"), args)
}

fn marker(home: &tempfile::TempDir) -> std::path::PathBuf {
    home.path().join("config/ontool/telemetry-notice-shown")
}

#[test]
fn notice_once_on_stderr_then_a_marker() {
    let receiver = Receiver::start(Mode::Status(200));
    let first = ontool(&["hello"]);
    let home = first.home_dir();
    let run1 = first
        .env("ONTOOL_TELEMETRY_TRACE_URL", receiver.url())
        .run();
    assert_eq!(run1.code(), Some(0));
    assert_eq!(run1.stdout(), "hello, world\n", "stdout untouched");
    assert_eq!(
        run1.stderr().matches(NOTICE).count(),
        1,
        "{}",
        run1.stderr()
    );
    assert!(marker(&home).is_file());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(marker(&home))
                .unwrap()
                .permissions()
                .mode()
                & 0o777,
            0o600
        );
    }
    let run2 = ontool(&["hello"])
        .home(Some(&home))
        .env("ONTOOL_TELEMETRY_TRACE_URL", receiver.url())
        .run();
    assert_eq!(run2.stderr(), "", "shown once");
    assert_eq!(run2.stdout(), "hello, world\n");
    let received = receiver.wait_for(2, std::time::Duration::from_secs(5));
    assert!(
        received.len() >= 2,
        "both runs sent their events after the notice"
    );
}

#[test]
fn honours_xdg_config_home() {
    let run = ontool(&["hello"]);
    let home = run.home_dir();
    let xdg = tempfile::tempdir().unwrap();
    run.env("XDG_CONFIG_HOME", xdg.path())
        .env("ONTOOL_TELEMETRY_TRACE_URL", common::refused_url())
        .run();
    assert!(xdg.path().join("ontool/telemetry-notice-shown").is_file());
    assert!(!marker(&home).exists());
}

#[test]
fn nothing_is_sent_when_the_marker_cannot_be_written() {
    let receiver = Receiver::start(Mode::Status(200));
    let run = ontool(&["hello", "--name", "x"]);
    let home = run.home_dir();
    // The config directory is a file: the marker can't be created.
    std::fs::write(home.path().join("config"), b"a file").unwrap();
    let logdir = tempfile::tempdir().unwrap();
    let log = logdir.path().join("t.log");
    let done = run
        .env("ONTOOL_TELEMETRY_TRACE_URL", receiver.url())
        .env("ONTOOL_TELEMETRY_LOG_FILE", &log)
        .run();
    assert_eq!(done.code(), Some(0));
    assert_eq!(done.stdout(), "hello, x\n");
    assert_eq!(done.stderr().matches(NOTICE).count(), 1);
    std::thread::sleep(std::time::Duration::from_millis(200));
    assert!(
        receiver.bodies().is_empty(),
        "nothing may be sent without the marker"
    );
    assert!(!log.exists(), "nothing recorded either");
}

#[test]
fn ci_gets_the_notice_every_run_and_no_marker() {
    let run = ontool(&["hello"]);
    let home = run.home_dir();
    let url = common::refused_url();
    let r1 = run
        .env("CI", "true")
        .env("ONTOOL_TELEMETRY_TRACE_URL", &url)
        .run();
    let r2 = ontool(&["hello"])
        .home(Some(&home))
        .env("GITLAB_CI", "true")
        .env("ONTOOL_TELEMETRY_TRACE_URL", &url)
        .run();
    for r in [r1, r2] {
        assert_eq!(r.stderr().matches(NOTICE).count(), 1);
        assert_eq!(r.stdout(), "hello, world\n");
    }
    assert!(!marker(&home).exists());
}

#[test]
fn no_notice_when_the_user_decided() {
    let url = common::refused_url();
    for (var, value) in [
        ("ONTOOL_TELEMETRY", "1"),
        ("ONTOOL_TELEMETRY", "0"),
        ("DO_NOT_TRACK", "1"),
    ] {
        let run = ontool(&["hello"]);
        let home = run.home_dir();
        let done = run
            .env(var, value)
            .env("ONTOOL_TELEMETRY_TRACE_URL", &url)
            .run();
        assert_eq!(done.stderr(), "", "{var}={value}");
        assert!(!marker(&home).exists());
    }
    // The mini-werf configures a notice, but its default is off: never shown.
    let done = common::werf(&["converge", "--repo", "r"]).run();
    assert_eq!(done.stderr(), "");
}
