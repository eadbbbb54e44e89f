//! The offline spool (SPEC S-13): undelivered events wait in the user's cache directory
//! and a later run delivers them once, with their original envelopes.
#![cfg(feature = "telemetry")]

mod common;

use std::collections::HashMap;
use std::sync::Arc;

use cli_telemetry::Event;
use common::{werf, Mode, Receiver};

const ARGS: &[&str] = &["converge", "--repo", "r"];

fn spool_dir(home: &tempfile::TempDir) -> std::path::PathBuf {
    home.path().join("cache/werf/telemetry-spool")
}

/// Spooled events waiting (not temporary files, not claims).
fn spooled_files(home: &tempfile::TempDir) -> Vec<std::path::PathBuf> {
    std::fs::read_dir(spool_dir(home))
        .map(|d| {
            d.flatten()
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x == "json"))
                .collect()
        })
        .unwrap_or_default()
}

/// Every event in the bodies a receiver got.
fn received_events(receiver: &Receiver) -> Vec<Event> {
    let mut events = Vec::new();
    for body in receiver.bodies() {
        let json: serde_json::Value = serde_json::from_slice(&body).unwrap();
        for span in json["resourceSpans"][0]["scopeSpans"][0]["spans"]
            .as_array()
            .unwrap()
        {
            let attrs: HashMap<String, serde_json::Value> = span["attributes"]
                .as_array()
                .unwrap()
                .iter()
                .map(|a| (a["key"].as_str().unwrap().to_owned(), a["value"].clone()))
                .collect();
            let s = |k: &str| attrs[k]["stringValue"].as_str().unwrap().to_owned();
            events.push(Event {
                ts: attrs["ts"]["intValue"].as_str().unwrap().parse().unwrap(),
                execution_id: s("executionID"),
                user_id: attrs
                    .get("userID")
                    .map(|v| v["stringValue"].as_str().unwrap().to_owned()),
                project_id: s("projectID"),
                command: s("command"),
                attributes: serde_json::from_str(&s("attributes")).unwrap(),
                event_type: s("eventType"),
                event_data: serde_json::from_str(&s("eventData")).unwrap(),
                schema_version: attrs["schemaVersion"]["intValue"]
                    .as_str()
                    .unwrap()
                    .parse()
                    .unwrap(),
            });
        }
    }
    events
}

#[test]
fn offline_then_online_delivers_spooled_events_once() {
    let first = werf(ARGS);
    let home = first.home_dir();
    let logdir = tempfile::tempdir().unwrap();
    let log = logdir.path().join("t.log");
    let baseline = werf(ARGS).run();

    // Server down: events spooled, output unchanged.
    let down = first.telemetry(&common::refused_url(), &log).run();
    down.assert_same_as(&baseline, "server down");
    let offline_events = common::read_log(&log).events.events().to_vec();
    assert_eq!(offline_events.len(), 2);
    assert_eq!(spooled_files(&home).len(), 2);
    #[cfg(unix)]
    for f in spooled_files(&home) {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&f).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
    assert_eq!(
        common::read_log(&log)
            .diagnostics_containing("spooled for a later run")
            .len(),
        2
    );

    // Server up: this run's events, then the spooled ones, with their original envelopes.
    let receiver = Receiver::start(Mode::Status(200));
    let up = werf(ARGS)
        .home(Some(&home))
        .telemetry(&receiver.url(), &log)
        .run();
    up.assert_same_as(&baseline, "server up");
    let received = received_events(&receiver);
    assert_eq!(received.len(), 4, "{received:?}");
    for event in &offline_events {
        assert_eq!(
            received.iter().filter(|e| *e == event).count(),
            1,
            "spooled {} arrives once, unchanged",
            event.event_type
        );
    }
    let parsed = common::read_log(&log);
    let from_spool = parsed.diagnostics_containing("event sent from the spool");
    assert_eq!(from_spool.len(), 2);
    assert!(from_spool
        .iter()
        .all(|d| d["originalExecutionID"] == offline_events[0].execution_id.as_str()));
    assert!(spooled_files(&home).is_empty());

    // A third run sends only its own events.
    let receiver = Receiver::start(Mode::Status(200));
    werf(ARGS)
        .home(Some(&home))
        .telemetry(&receiver.url(), &log)
        .run();
    assert_eq!(received_events(&receiver).len(), 2);
}

#[test]
fn server_errors_and_deadline_spool_but_client_errors_do_not() {
    for (mode, spooled) in [
        (Mode::Status(503), 2),
        (Mode::Status(429), 2),
        (Mode::Status(400), 0),
        (Mode::BlackHole, 2),
    ] {
        let receiver = Receiver::start(mode);
        let run = werf(ARGS).env("WERF_TELEMETRY_TIMEOUT_MS", "300");
        let home = run.home_dir();
        let logdir = tempfile::tempdir().unwrap();
        run.telemetry(&receiver.url(), &logdir.path().join("t.log"))
            .run();
        assert_eq!(spooled_files(&home).len(), spooled, "{mode:?}");
    }
}

#[test]
fn concurrent_runs_deliver_each_spooled_event_exactly_once() {
    let home = Arc::new(tempfile::tempdir().unwrap());
    let logdir = tempfile::tempdir().unwrap();
    let refused = common::refused_url();
    for _ in 0..5 {
        werf(ARGS)
            .home(Some(&home))
            .telemetry(&refused, &logdir.path().join("off.log"))
            .run();
    }
    assert_eq!(spooled_files(&home).len(), 10);
    let spooled_ids: Vec<(String, String)> = common::read_log(&logdir.path().join("off.log"))
        .events
        .events()
        .iter()
        .map(|e| (e.execution_id.clone(), e.event_type.clone()))
        .collect();

    let receiver = Receiver::start(Mode::Status(200));
    let url = receiver.url();
    let runs: Vec<_> = (0..20)
        .map(|i| {
            let (home, url) = (home.clone(), url.clone());
            let log = logdir.path().join(format!("run{i}.log"));
            std::thread::spawn(move || werf(ARGS).home(Some(&home)).telemetry(&url, &log).run())
        })
        .collect();
    for run in runs {
        assert_eq!(run.join().unwrap().code(), Some(0));
    }
    let received = received_events(&receiver);
    assert_eq!(
        received.len(),
        40 + 10,
        "20 runs × 2 own events + 10 spooled"
    );
    for key in &spooled_ids {
        let n = received
            .iter()
            .filter(|e| (&e.execution_id, &e.event_type) == (&key.0, &key.1))
            .count();
        assert_eq!(n, 1, "{key:?} delivered {n} times");
    }
    assert!(spooled_files(&home).is_empty());
}

#[test]
fn corrupt_spool_file_is_skipped() {
    let run = werf(ARGS);
    let home = run.home_dir();
    common::procs::private_dir(&spool_dir(&home));
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis();
    std::fs::write(
        spool_dir(&home).join(format!("{now:016}-x-CommandStarted-y.json")),
        b"\x00garbage{",
    )
    .unwrap();
    let receiver = Receiver::start(Mode::Status(200));
    let logdir = tempfile::tempdir().unwrap();
    let log = logdir.path().join("t.log");
    let done = run.telemetry(&receiver.url(), &log).run();
    assert_eq!(done.code(), Some(0));
    assert_eq!(done.stderr(), "");
    assert_eq!(received_events(&receiver).len(), 2);
    assert_eq!(
        common::read_log(&log)
            .diagnostics_containing("corrupt spool files skipped")
            .len(),
        1
    );
    assert!(spooled_files(&home).is_empty());
}

#[test]
fn unwritable_spool_does_not_affect_the_command() {
    let run = werf(ARGS);
    let home = run.home_dir();
    // The spool's parent is a file: nothing can be created there.
    std::fs::create_dir_all(home.path().join("cache")).unwrap();
    std::fs::write(home.path().join("cache/werf"), b"not a directory").unwrap();
    let logdir = tempfile::tempdir().unwrap();
    let done = run
        .telemetry(&common::refused_url(), &logdir.path().join("t.log"))
        .run();
    done.assert_same_as(&werf(ARGS).run(), "unwritable spool");
}

#[test]
fn switching_off_removes_the_spool() {
    let run = werf(ARGS);
    let home = run.home_dir();
    let logdir = tempfile::tempdir().unwrap();
    run.telemetry(&common::refused_url(), &logdir.path().join("t.log"))
        .run();
    assert_eq!(spooled_files(&home).len(), 2);
    let status = werf(&["telemetry", "status", "--json"])
        .home(Some(&home))
        .env("WERF_TELEMETRY", "1")
        .run();
    let json: serde_json::Value = serde_json::from_str(&status.stdout()).unwrap();
    assert_eq!(json["spool"], spool_dir(&home).display().to_string());
    werf(ARGS)
        .home(Some(&home))
        .env("WERF_TELEMETRY", "0")
        .run();
    assert!(!spool_dir(&home).exists());
}
