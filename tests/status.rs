//! `werf telemetry status` (SPEC S-14), seen from outside: both renderings, and the
//! command never sends, never writes the log file.
#![cfg(feature = "telemetry")]

mod common;

use common::{werf, Mode, Receiver};
use serde_json::Value;

fn status_json(run: common::Run) -> Value {
    let done = run.run();
    assert_eq!(done.code(), Some(0), "{}", done.stderr());
    assert_eq!(done.stderr(), "");
    serde_json::from_str(&done.stdout()).unwrap_or_else(|e| panic!("{e}: {}", done.stdout()))
}

/// Environment, expected `enabled`, expected deciding setting.
type Case = (Vec<(&'static str, &'static str)>, bool, &'static str);

#[test]
fn json_rendering_for_each_deciding_setting() {
    let cases: Vec<Case> = vec![
        (vec![], false, "appDefault"),
        (vec![("WERF_TELEMETRY", "1")], true, "env"),
        (vec![("WERF_TELEMETRY", "off")], false, "env"),
        (
            vec![("WERF_TELEMETRY", "1"), ("DO_NOT_TRACK", "1")],
            false,
            "doNotTrack",
        ),
        (vec![("WERF_TELEMETRY_DEBUG", "true")], true, "debug"),
    ];
    for (env, enabled, setting) in cases {
        let mut run = werf(&["telemetry", "status", "--json"]);
        for (k, v) in &env {
            run = run.env(k, v);
        }
        let json = status_json(run);
        assert_eq!(json["schemaVersion"], 1);
        assert_eq!(json["enabled"], enabled, "{env:?}");
        assert_eq!(json["decidedBy"]["setting"], setting, "{env:?}");
        assert_eq!(json["nextEvent"]["eventType"], "CommandStarted");
        assert_eq!(json["nextEvent"]["command"], "werf");
    }
}

#[test]
fn ignored_value_is_reported_as_typed_in_both_renderings() {
    let json = status_json(werf(&["telemetry", "status", "--json"]).env("WERF_TELEMETRY", "maybe"));
    assert_eq!(json["decidedBy"]["setting"], "appDefault");
    assert!(json["ignored"][0]["message"]
        .as_str()
        .unwrap()
        .contains("WERF_TELEMETRY"));
    let human = werf(&["telemetry", "status"])
        .env("WERF_TELEMETRY", "maybe")
        .run();
    assert!(
        human.stdout().contains("Telemetry of werf: off"),
        "{}",
        human.stdout()
    );
    // The person's own terminal shows the value as they typed it (SPEC S-14).
    assert!(
        human.stdout().contains(
            "ignored:     WERF_TELEMETRY=\"maybe\" is neither on (1/true/yes/on) nor off (0/false/no/off); ignored"
        ),
        "{}",
        human.stdout()
    );
    assert!(json["ignored"][0]["message"]
        .as_str()
        .unwrap()
        .contains("\"maybe\""));
}

#[test]
fn status_never_sends_and_never_writes() {
    let receiver = Receiver::start(Mode::Status(200));
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("t.log");
    let json =
        status_json(werf(&["telemetry", "status", "--json"]).telemetry(&receiver.url(), &log));
    assert_eq!(json["enabled"], true);
    assert_eq!(json["endpoint"], receiver.url());
    assert_eq!(json["logFile"], log.display().to_string());
    let human = werf(&["telemetry", "status"])
        .telemetry(&receiver.url(), &log)
        .run();
    assert!(human
        .stdout()
        .contains(&format!("events go:   {}", receiver.url())));
    std::thread::sleep(std::time::Duration::from_millis(100));
    assert!(receiver.bodies().is_empty());
    assert!(!log.exists());
}

#[test]
fn status_creates_no_spool_and_no_marker() {
    let run = werf(&["telemetry", "status", "--json"])
        .telemetry(&common::refused_url(), std::path::Path::new("t.log"));
    let home = run.home_dir();
    let json = status_json(run);
    assert_eq!(json["enabled"], true);
    assert_eq!(json["spool"], Value::Null, "no spool exists");
    // Nothing at all was written under the home: no spool, no marker, no log file.
    let written: Vec<_> = walk(home.path());
    assert!(written.is_empty(), "{written:?}");
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            found.extend(walk(&path));
        }
        found.push(path);
    }
    found
}

#[test]
fn status_with_ignored_values_and_a_log_file_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("t.log");
    let done = werf(&["telemetry", "status"])
        .telemetry(&common::refused_url(), &log)
        .env("WERF_TELEMETRY_EXTRA_ATTRIBUTE_BAD", "no-equals-sign")
        .env("DO_NOT_TRACK", "perhaps")
        .run();
    assert_eq!(done.code(), Some(0));
    assert!(
        done.stdout().contains("ignored:     DO_NOT_TRACK"),
        "{}",
        done.stdout()
    );
    std::thread::sleep(std::time::Duration::from_millis(100));
    assert!(
        !log.exists(),
        "the notes wait for an instrumented command's first event"
    );
}

#[test]
fn the_text_says_how_to_switch_on_and_names_a_deadline_only_where_one_applies() {
    let text = |env: &[(&str, &str)]| {
        let mut run = werf(&["telemetry", "status"]);
        for (k, v) in env {
            run = run.env(k, v);
        }
        run.run().stdout()
    };
    // Off by the app's default: how to switch on, for a run and for good.
    let off = text(&[]);
    assert!(
        off.contains(
            "switch on:   WERF_TELEMETRY=1 for one run; for good: `werf telemetry enable`"
        ),
        "{off}"
    );
    // Off on purpose: no invitation.
    assert!(!text(&[("DO_NOT_TRACK", "1")]).contains("switch on:"));
    assert!(!text(&[("WERF_TELEMETRY", "0")]).contains("switch on:"));
    // Detached: the exit waits for no network, so no deadline is shown; inline: it is.
    let detached = text(&[("WERF_TELEMETRY", "1")]);
    assert!(detached.contains("delivery:    detached"), "{detached}");
    assert!(!detached.contains("deadline:"), "{detached}");
    let inline = text(&[
        ("WERF_TELEMETRY", "1"),
        ("WERF_TELEMETRY_DELIVERY", "inline"),
    ]);
    assert!(inline.contains("deadline:    1300 ms at exit"), "{inline}");
}
