//! A CLI without subcommands whose whole program is `main` (git-cliff's shape, issue 21):
//! `#[instrument_command]` with `#[cli_telemetry::main]` on `fn main`, in either order
//! (`tests/apps/root_only.rs`, `tests/apps/root_only_async.rs`), and the lasting choice
//! through `--telemetry <action>` (`TelemetryFlag`). Black box, against a loopback
//! receiver; every run is compared with the same run with telemetry off.
#![cfg(feature = "telemetry")]

mod common;

use std::sync::Arc;

use cli_telemetry::testing::Log;
use common::{eventually, example, example_bin, read_log, Finished, Mode, Receiver, Run};

fn root_only(args: &[&str]) -> Run {
    example(&example_bin("root_only"), args)
}

/// [`common::on_and_off`] with a healthy receiver.
fn on_and_off(bin: &str, args: &[&str], env: &[(&str, &str)]) -> (Finished, Log, Receiver) {
    common::on_and_off(bin, args, Mode::Status(200), env)
}

fn options(log: &Log) -> Vec<(String, bool, bool, u64)> {
    log.events
        .started()
        .expect("CommandStarted")
        .command_options()
        .into_iter()
        .map(|o| (o.name, o.as_cli, o.as_env, o.count))
        .collect()
}

#[test]
fn each_run_reports_the_root_command_with_options_and_the_process_exit_code() {
    let (run, log, receiver) = on_and_off(
        "root_only",
        &[
            "-vvv",
            "--include-path",
            "a",
            "--include-path",
            "b",
            "--bump",
            "repo-a",
            "repo-b",
        ],
        &[("ROOTONLY_CONFIG", "secret-config.toml")],
    );
    assert_eq!(run.code(), Some(0));
    assert_eq!(
        run.stdout(),
        "## [unreleased] (2 repositories, verbosity 3, bump true)\n"
    );
    let events = log.events.events();
    assert_eq!(events.len(), 2, "{events:?}");
    assert!(events.iter().all(|e| e.command == "rootonly"), "{events:?}");
    assert_eq!(
        options(&log),
        [
            ("bump".to_owned(), true, false, 1),
            ("config".to_owned(), false, true, 0),
            ("include-path".to_owned(), true, false, 2),
            ("verbose".to_owned(), true, false, 3),
        ]
    );
    assert_eq!(log.events.exited().unwrap().exit_code(), Some(0));
    assert_eq!(
        common::otlp::events_in(&receiver.bodies()).len(),
        2,
        "both events delivered"
    );
    // Values and positionals stay out of what is sent.
    for e in events {
        let json = serde_json::to_string(e).unwrap();
        assert!(
            !json.contains("secret-config") && !json.contains("repo-a"),
            "{json}"
        );
    }

    // The exit code is the process's: `main` returns ExitCode::from(5).
    let (run, log, _) = on_and_off("root_only", &["--fail", "5"], &[]);
    assert_eq!(run.code(), Some(5));
    assert_eq!(log.events.exited().unwrap().exit_code(), Some(5));
    assert_eq!(options(&log), [("fail".to_owned(), true, false, 1)]);

    // `std::process::exit` inside `main` (glibc's on_exit tells the code).
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        let (run, log, _) = on_and_off(
            "root_only",
            &["--tag", "v1"],
            &[("FIXTURE_PROCESS_EXIT", "4")],
        );
        assert_eq!(run.code(), Some(4));
        assert_eq!(log.events.events().len(), 2);
        assert_eq!(log.events.exited().unwrap().exit_code(), Some(4));
    }
}

#[test]
fn the_duration_is_main_s_body() {
    let (run, log, _) = on_and_off("root_only", &["--work-ms", "300"], &[]);
    assert_eq!(run.code(), Some(0));
    let ms = log.events.exited().unwrap().duration_ms().unwrap();
    assert!((300..5_000).contains(&ms), "durationMs {ms}");
}

#[test]
fn the_other_order_on_an_async_main() {
    let (run, log, _) = on_and_off(
        "root_only_async",
        &["--fail"],
        &[("ROOTASYNC_TARGET", "prod")],
    );
    assert_eq!(run.code(), Some(1));
    assert_eq!(run.stderr(), "Error: \"the release failed\"\n");
    let events = log.events.events();
    assert_eq!(events.len(), 2, "{events:?}");
    assert!(
        events.iter().all(|e| e.command == "rootasync"),
        "{events:?}"
    );
    assert_eq!(
        options(&log),
        [
            ("fail".to_owned(), true, false, 1),
            ("target".to_owned(), false, true, 0)
        ]
    );
    assert_eq!(log.events.exited().unwrap().exit_code(), Some(1));
}

#[test]
fn help_version_and_usage_errors() {
    for args in [&["--help"][..], &["--version"], &["-v", "--help"]] {
        let (run, log, receiver) = on_and_off("root_only", args, &[]);
        assert_eq!(run.code(), Some(0), "{args:?}");
        assert!(log.events.is_empty(), "{args:?}: {:?}", log.events.events());
        assert!(receiver.requests().is_empty());
    }
    let (run, log, _) = on_and_off("root_only", &["--tag", "v1", "--bogus"], &[]);
    assert_eq!(run.code(), Some(2));
    assert!(run.stderr().contains("unexpected argument '--bogus'"));
    let events = log.events.events();
    assert_eq!(events.len(), 2, "{events:?}");
    assert!(events.iter().all(|e| e.command == "rootonly"));
    assert!(log.events.started().unwrap().command_options().is_empty());
    assert_eq!(log.events.exited().unwrap().exit_code(), Some(2));
}

#[test]
fn the_lasting_choice_through_the_telemetry_option() {
    let home = Arc::new(tempfile::tempdir().unwrap());
    let choice = home.path().join("config/rootonly/telemetry.json");
    let receiver = Receiver::start(Mode::Status(200));
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("t.log");
    let in_home = |args: &[&str]| root_only(args).home(Some(&home));
    let on = |args: &[&str]| in_home(args).app_telemetry(&receiver.url(), &log).run();

    // A run that only performs an action is not reported, and `--telemetry` is never an
    // option used.
    let status = on(&["--telemetry", "status"]);
    assert_eq!(status.code(), Some(0));
    assert!(
        status.stdout().starts_with("Telemetry of rootonly: on\n"),
        "{}",
        status.stdout()
    );
    assert!(status
        .stdout()
        .contains("for good: `rootonly --telemetry disable`"));
    let json = on(&["--telemetry", "status", "--json"]);
    let json: serde_json::Value = serde_json::from_str(json.stdout().trim()).unwrap();
    assert_eq!(json["enabled"], true);
    assert_eq!(json["lastingSwitch"], "rootonly --telemetry");
    assert!(read_log(&log).events.is_empty(), "status is not a run");

    let disable = in_home(&["--telemetry", "disable"]).run();
    assert_eq!(disable.code(), Some(0));
    assert_eq!(disable.stdout().lines().count(), 1);
    assert!(disable
        .stdout()
        .contains("undo with `rootonly --telemetry enable`"));
    let kept: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&choice).unwrap()).unwrap();
    assert_eq!(kept["enabled"], false, "{kept}");

    // Off for good: even with APP_TELEMETRY=1 nothing is recorded.
    let before = on(&["--bump"]);
    assert_eq!(before.code(), Some(0));
    assert!(!log.exists() || read_log(&log).events.is_empty());
    let status = in_home(&["--telemetry", "status"])
        .env("APP_TELEMETRY", "1")
        .run();
    assert!(
        status.stdout().starts_with("Telemetry of rootonly: off\n"),
        "{}",
        status.stdout()
    );
    assert!(
        status.stdout().contains("your lasting choice is off"),
        "{}",
        status.stdout()
    );

    // Reset forgets it: the environment decides again.
    let reset = in_home(&["--telemetry", "reset"]).run();
    assert_eq!(reset.code(), Some(0));
    assert!(
        !choice.exists(),
        "reset removes the choice (nothing else was kept)"
    );
    let after = on(&["--bump"]);
    after.assert_same_as(&before, "after reset");
    let events = read_log(&log).events;
    assert_eq!(events.events().len(), 2);
    assert_eq!(
        events.started().unwrap().command_options()[0].name,
        "bump",
        "the telemetry option is never listed"
    );
    assert!(eventually(std::time::Duration::from_secs(5), || receiver
        .requests()
        .len()
        == 1));
}

#[test]
fn an_unknown_action_is_a_usage_error() {
    for args in [
        &["--telemetry", "maybe"][..],
        &["--telemetry"],
        &["--telemetry", "reset", "--json"],
        &["--telemetry", "--json"],
    ] {
        let (run, log, _) = on_and_off("root_only", args, &[]);
        assert_eq!(run.code(), Some(2), "{args:?}");
        assert!(
            run.stderr().contains("status"),
            "{args:?}: {}",
            run.stderr()
        );
        assert!(run.stderr().contains("disable"), "{args:?}");
        // A usage error is a run of the root, without options.
        assert_eq!(log.events.events().len(), 2, "{args:?}");
        assert_eq!(log.events.exited().unwrap().exit_code(), Some(2));
        assert!(log.events.started().unwrap().command_options().is_empty());
    }
    // The option may be hidden by the app; clap's help lists it by default.
    let help = root_only(&["--help"]).run();
    assert!(
        help.stdout().contains("--telemetry <ACTION> [--json]"),
        "{}",
        help.stdout()
    );
}

#[cfg(target_os = "linux")]
#[test]
fn detached_delivery_of_a_root_only_run() {
    let receiver = Receiver::start(Mode::Status(200));
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("t.log");
    let run = root_only(&["--bump"]);
    // The queue lives in the run's home: keep it until the sender is done.
    let _home = run.home_dir();
    let run = run
        .env("APP_TELEMETRY", "1")
        .env("APP_TELEMETRY_TRACE_URL", receiver.url())
        .env("APP_TELEMETRY_LOG_FILE", &log)
        .env("APP_TELEMETRY_DELIVERY", "detached")
        .run();
    assert_eq!(run.code(), Some(0));
    let delivered = eventually(std::time::Duration::from_secs(10), || {
        read_log(&log)
            .diagnostics_containing("event delivered")
            .iter()
            .filter(|d| d["by"] == "detached sender")
            .count()
            == 2
    });
    assert!(delivered, "{:?}", read_log(&log).diagnostics);
    let pids = common::sender_pids(&log);
    assert_eq!(pids.len(), 1);
    assert!(eventually(std::time::Duration::from_secs(10), || {
        !common::procs::alive(pids[0])
    }));
}
