//! The people running the tool in control (SPEC S-14 … S-17), black-box: the lasting
//! choice (`<app> telemetry enable|disable|reset`, `telemetry.json`), the installation id,
//! and werf's exact wire, each compared with what the same command does otherwise.
#![cfg(feature = "telemetry")]

mod common;

use std::path::Path;
use std::sync::Arc;

use common::{example, example_bin, read_log, werf, Mode, Receiver, Run};
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::any_value::Value as Any;
use opentelemetry_proto::tonic::trace::v1::Span;
use prost::Message;

const CONVERGE: &[&str] = &["converge", "--repo", "x"];

fn home() -> Arc<tempfile::TempDir> {
    werf(&[]).home_dir()
}

/// The mini-werf in `home`, sending to `url` and logging to `log`, with no on/off variable;
/// inline, so that the receiver has the events when the run exits.
fn werf_in(home: &Arc<tempfile::TempDir>, args: &[&str], url: &str, log: &Path) -> Run {
    werf(args)
        .home(Some(home))
        .env("WERF_TELEMETRY_TRACE_URL", url)
        .env("WERF_TELEMETRY_LOG_FILE", log)
        .env("WERF_TELEMETRY_DELIVERY", "inline")
}

fn choice_file(home: &Arc<tempfile::TempDir>, app: &str) -> std::path::PathBuf {
    home.path().join("config").join(app).join("telemetry.json")
}

#[test]
fn enable_disable_reset_and_what_wins() {
    let home = home();
    let receiver = Receiver::start(Mode::Status(200));
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("t.log");
    let url = receiver.url();

    // Default off: nothing.
    let before = werf_in(&home, CONVERGE, &url, &log).run();
    assert!(!log.exists());

    let enable = werf(&["telemetry", "enable"]).home(Some(&home)).run();
    assert_eq!(enable.code(), Some(0));
    assert_eq!(enable.stdout().lines().count(), 1, "{}", enable.stdout());
    assert!(enable.stdout().contains("werf telemetry disable"));
    let file = choice_file(&home, "werf");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let status = werf(&["telemetry", "status"]).home(Some(&home)).run();
    assert!(
        status.stdout().contains(&format!(
            "your lasting choice is on (in {})",
            file.display()
        )),
        "{}",
        status.stdout()
    );

    // Now on: the same command sends, with the same output as before.
    let after = werf_in(&home, CONVERGE, &url, &log).run();
    after.assert_same_as(&before, "enabled by the file");
    let events = read_log(&log);
    assert_eq!(events.events.events().len(), 2);
    assert_eq!(events.diagnostics_containing("event delivered").len(), 2);

    // Any explicit off still wins.
    for (var, value) in [("WERF_TELEMETRY", "0"), ("DO_NOT_TRACK", "1")] {
        let _ = std::fs::remove_file(&log);
        let run = werf_in(&home, CONVERGE, &url, &log).env(var, value).run();
        run.assert_same_as(&before, var);
        assert!(!log.exists(), "{var}={value} still wins over the file");
    }

    // Disabled for good: even WERF_TELEMETRY=1 sends nothing.
    let disable = werf(&["telemetry", "disable"]).home(Some(&home)).run();
    assert_eq!(disable.stdout().lines().count(), 1);
    assert!(disable.stdout().contains("werf telemetry enable"));
    let sent_before = receiver.requests().len();
    let run = werf_in(&home, CONVERGE, &url, &log)
        .env("WERF_TELEMETRY", "1")
        .run();
    run.assert_same_as(&before, "disabled by the file");
    assert!(!log.exists());
    assert_eq!(receiver.requests().len(), sent_before);
    let status = werf(&["telemetry", "status", "--json"])
        .home(Some(&home))
        .run();
    let json: serde_json::Value = serde_json::from_str(&status.stdout()).unwrap();
    assert_eq!(json["decidedBy"]["setting"], "file");
    assert_eq!(json["decidedBy"]["path"], file.display().to_string());
    assert_eq!(json["enabled"], false);

    // Reset: the default (off) applies; the file is gone.
    let reset = werf(&["telemetry", "reset"]).home(Some(&home)).run();
    assert_eq!(reset.stdout().lines().count(), 1);
    assert!(!file.exists());
    let status = werf(&["telemetry", "status", "--json"])
        .home(Some(&home))
        .run();
    let json: serde_json::Value = serde_json::from_str(&status.stdout()).unwrap();
    assert_eq!(json["decidedBy"]["setting"], "appDefault");
}

#[test]
fn disable_deletes_the_spool() {
    let home = home();
    let spool = home.path().join("cache/werf/telemetry-spool");
    // Undelivered events of an earlier run.
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("t.log");
    werf_in(&home, CONVERGE, &common::refused_url(), &log)
        .env("WERF_TELEMETRY", "1")
        .run();
    assert!(std::fs::read_dir(&spool).unwrap().count() > 0);
    let disable = werf(&["telemetry", "disable"]).home(Some(&home)).run();
    assert_eq!(disable.code(), Some(0));
    assert!(!spool.exists());
}

#[test]
fn a_corrupt_choice_file_changes_no_output() {
    let home = home();
    let receiver = Receiver::start(Mode::Status(200));
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("t.log");
    let clean = werf_in(&home, CONVERGE, &receiver.url(), &log).run();
    let file = choice_file(&home, "werf");
    std::fs::create_dir_all(file.parent().unwrap()).unwrap();
    for junk in ["{not json", "", "{\"enabled\":\"maybe\"}", "\u{0}\u{1}"] {
        std::fs::write(&file, junk).unwrap();
        let run = werf_in(&home, CONVERGE, &receiver.url(), &log).run();
        run.assert_same_as(&clean, junk);
        assert!(
            !log.exists(),
            "a corrupt file is unset: the default (off) applies"
        );
        // On by the environment: still on, with a note in the log file.
        let run = werf_in(&home, CONVERGE, &receiver.url(), &log)
            .env("WERF_TELEMETRY", "1")
            .run();
        run.assert_same_as(&clean, junk);
        let read = read_log(&log);
        assert_eq!(read.events.events().len(), 2);
        assert_eq!(
            read.diagnostics_containing("can't be read as a telemetry choice")
                .len(),
            1
        );
        std::fs::remove_file(&log).unwrap();
        assert_eq!(
            std::fs::read(&file).unwrap(),
            junk.as_bytes(),
            "never overwritten"
        );
    }
}

// --- the installation id and werf's wire -------------------------------------------------

/// The spans the receiver got, decoded from protobuf.
fn spans(receiver: &Receiver) -> Vec<Span> {
    receiver
        .requests()
        .iter()
        .flat_map(|r| {
            assert_eq!(r.header("content-type"), Some("application/x-protobuf"));
            let request = ExportTraceServiceRequest::decode(&r.body[..]).expect("protobuf");
            request
                .resource_spans
                .into_iter()
                .flat_map(|rs| rs.scope_spans)
                .flat_map(|ss| ss.spans)
                .collect::<Vec<_>>()
        })
        .collect()
}

fn wire(home: &Arc<tempfile::TempDir>, args: &[&str]) -> Run {
    example(&example_bin("werf_wire"), args).home(Some(home))
}

/// Runs `wire converge` with telemetry on; returns the userID of its spans (None when
/// absent), checking that both spans carry the same.
fn run_and_user_id(home: &Arc<tempfile::TempDir>, extra: &[(&str, &str)]) -> Option<String> {
    let receiver = Receiver::start(Mode::Status(200));
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("t.log");
    let mut run = wire(home, CONVERGE).app_telemetry(&receiver.url(), &log);
    for (k, v) in extra {
        run = run.env(k, v);
    }
    assert_eq!(run.run().code(), Some(0));
    let ids: Vec<Option<String>> = spans(&receiver)
        .iter()
        .map(|s| {
            s.attributes.iter().find(|kv| kv.key == "userID").map(|kv| {
                match kv.value.as_ref().and_then(|v| v.value.as_ref()) {
                    Some(Any::StringValue(s)) => s.clone(),
                    other => panic!("userID is not a string: {other:?}"),
                }
            })
        })
        .collect();
    assert_eq!(ids.len(), 2);
    assert_eq!(ids[0], ids[1]);
    // The log file shows it too, exactly as sent.
    let logged = read_log(&log);
    assert!(logged.events.events().iter().all(|e| e.user_id == ids[0]));
    ids[0].clone()
}

#[test]
fn installation_id_is_stable_renewed_by_reset_and_deleted_by_disable() {
    let home = home();
    let first = run_and_user_id(&home, &[]).expect("a userID");
    let uuid = uuid_v4(&first);
    assert_eq!(uuid, first);
    assert_eq!(
        run_and_user_id(&home, &[]),
        Some(first.clone()),
        "stable across runs"
    );
    let file = choice_file(&home, "wire");
    assert!(std::fs::read_to_string(&file).unwrap().contains(&first));

    // Status: text says it exists, JSON shows it.
    let text = wire(&home, &["telemetry", "status"])
        .env("APP_TELEMETRY", "1")
        .run();
    assert!(
        text.stdout().contains("install id:  exists"),
        "{}",
        text.stdout()
    );
    assert!(!text.stdout().contains(&first), "{}", text.stdout());
    let json = wire(&home, &["telemetry", "status", "--json"])
        .env("APP_TELEMETRY", "1")
        .run();
    let json: serde_json::Value = serde_json::from_str(&json.stdout()).unwrap();
    assert_eq!(json["installationId"]["id"], first.as_str());

    // Reset: a new one next time.
    assert_eq!(wire(&home, &["telemetry", "reset"]).run().code(), Some(0));
    let second = run_and_user_id(&home, &[]).expect("a userID");
    assert_ne!(second, first);

    // Disable deletes it (and nothing is sent); enable + a run makes a new one.
    assert_eq!(wire(&home, &["telemetry", "disable"]).run().code(), Some(0));
    assert!(!std::fs::read_to_string(&file).unwrap().contains(&second));
    assert_eq!(wire(&home, &["telemetry", "enable"]).run().code(), Some(0));
    let third = run_and_user_id(&home, &[]).expect("a userID");
    assert!(third != second && third != first);
}

#[test]
fn no_installation_id_in_ci_or_when_the_app_did_not_opt_in() {
    let home = home();
    assert_eq!(run_and_user_id(&home, &[("CI", "true")]), None);
    assert_eq!(run_and_user_id(&home, &[("GITHUB_ACTIONS", "true")]), None);
    assert!(!choice_file(&home, "wire").exists(), "none created in CI");

    // The mini-werf does not opt in.
    let receiver = Receiver::start(Mode::Status(200));
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("t.log");
    let run = werf(CONVERGE)
        .home(Some(&home))
        .telemetry(&receiver.url(), &log)
        .run();
    assert_eq!(run.code(), Some(0));
    let logged = read_log(&log);
    assert_eq!(logged.events.events().len(), 2);
    assert!(logged.events.events().iter().all(|e| e.user_id.is_none()));
    assert!(!choice_file(&home, "werf").exists());
    let status = werf(&["telemetry", "status", "--json"])
        .home(Some(&home))
        .run();
    let json: serde_json::Value = serde_json::from_str(&status.stdout()).unwrap();
    assert!(json["installationId"].is_null());
}

fn uuid_v4(s: &str) -> String {
    let hex: String = s.chars().filter(|c| *c != '-').collect();
    assert_eq!(s.len(), 36, "{s}");
    assert_eq!(hex.len(), 32, "{s}");
    assert_eq!(&s[14..15], "4", "version 4: {s}");
    assert!(matches!(&s[19..20], "8" | "9" | "a" | "b"), "variant: {s}");
    s.to_owned()
}

/// A row of werf's ClickHouse table `events_new`, as werf's collector exporter makes it
/// from a span (SPEC S-17): only spans named `telemetry.werf.io` with `schemaVersion` 2;
/// `ts` and `schemaVersion` read as integers, the rest as strings.
#[derive(Debug, PartialEq)]
struct WerfRow {
    ts: i64,
    execution_id: String,
    user_id: String,
    project_id: String,
    command: String,
    event_type: String,
    event_data: String,
    attributes: String,
    schema_version: i64,
}

fn werf_exporter(span: &Span) -> Option<WerfRow> {
    let get = |k: &str| {
        span.attributes
            .iter()
            .find(|kv| kv.key == k)
            .and_then(|kv| kv.value.as_ref())
            .and_then(|v| v.value.clone())
    };
    let int = |k: &str| match get(k) {
        Some(Any::IntValue(i)) => Some(i),
        _ => None,
    };
    let string = |k: &str| match get(k) {
        Some(Any::StringValue(s)) => Some(s),
        _ => None,
    };
    if span.name != "telemetry.werf.io" || int("schemaVersion") != Some(2) {
        return None;
    }
    Some(WerfRow {
        ts: int("ts")?,
        execution_id: string("executionID")?,
        user_id: string("userID")?,
        project_id: string("projectID")?,
        command: string("command")?,
        event_type: string("eventType")?,
        event_data: string("eventData")?,
        attributes: string("attributes")?,
        schema_version: int("schemaVersion")?,
    })
}

#[test]
fn werfs_exporter_reads_every_span_of_werfs_wire() {
    let home = home();
    let receiver = Receiver::start(Mode::Status(200));
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("t.log");
    let run = wire(&home, CONVERGE)
        .app_telemetry(&receiver.url(), &log)
        .env("TRDL_USE_WERF_GROUP_CHANNEL", "stable")
        .run();
    assert_eq!(run.code(), Some(0));
    let spans = spans(&receiver);
    assert_eq!(spans.len(), 2);
    let rows: Vec<WerfRow> = spans.iter().filter_map(werf_exporter).collect();
    assert_eq!(rows.len(), 2, "the exporter drops none of our spans");
    let logged = read_log(&log);
    for event in logged.events.events() {
        let row = rows
            .iter()
            .find(|r| r.event_type == event.event_type)
            .expect("a row per event");
        assert_eq!(row.ts, event.ts as i64);
        assert_eq!(row.execution_id, event.execution_id);
        assert_eq!(Some(&row.user_id), event.user_id.as_ref());
        assert_eq!(row.project_id, event.project_id);
        assert_eq!(row.command, "wire converge");
        assert_eq!(row.schema_version, 2);
        assert_eq!(event.schema_version, 2);
        let data: serde_json::Value = serde_json::from_str(&row.event_data).unwrap();
        assert_eq!(data, serde_json::Value::Object(event.event_data.clone()));
        let attrs: serde_json::Value = serde_json::from_str(&row.attributes).unwrap();
        assert_eq!(attrs["version"], "2.9.0");
    }
    // The default wire is not werf's: the exporter would drop it.
    let mut span = spans[0].clone();
    span.name = "CommandStarted".into();
    assert!(werf_exporter(&span).is_none());
}
