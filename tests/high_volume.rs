//! High-volume tools and honest fates (SPEC S-20, S-21, issue 22), black box on loopback:
//! sampling (whole runs, the rate on every kept event, a person can lower it but not raise
//! it, a dropped run costs what off costs), OTLP partial success logged as a rejection and
//! not retried (JSON and protobuf), `Retry-After` (seconds and HTTP date) holding the queue
//! for every later run and sender, and the `User-Agent` of both transports.
#![cfg(feature = "telemetry")]

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use cli_telemetry::__private::fuzz::http_date;
use cli_telemetry::Event;
use common::otlp::events_in;
use common::{eventually, example, example_bin, read_log, werf, Mode, Receiver, Reply, Run};

const CONVERGE: &[&str] = &["converge", "--repo", "r"];

/// The mini-werf in `home`, inline to `url`, logging to `log`.
fn werf_to(home: &Arc<tempfile::TempDir>, url: &str, log: &Path) -> Run {
    werf(CONVERGE).home(Some(home)).telemetry(url, log)
}

fn new_home() -> Arc<tempfile::TempDir> {
    Arc::new(tempfile::tempdir().unwrap())
}

/// Events of the log, by execution id.
fn runs(events: &[Event]) -> BTreeMap<String, Vec<&Event>> {
    let mut runs: BTreeMap<String, Vec<&Event>> = BTreeMap::new();
    for e in events {
        runs.entry(e.execution_id.clone()).or_default().push(e);
    }
    runs
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64
}

// --- sampling (S-20) ----------------------------------------------------------------------

#[test]
fn a_quarter_of_the_runs_are_kept_whole_each_event_carrying_the_rate() {
    let receiver = Receiver::start(Mode::Status(200));
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("t.log");
    let home = new_home();
    const RUNS: usize = 80;
    for i in 0..RUNS {
        let run = werf_to(&home, &receiver.url(), &log)
            .env("WERF_TELEMETRY_SAMPLE_RATE", "0.25")
            .run();
        if i == 0 {
            // Sampled or not, the command's output is its own.
            run.assert_same_as(&werf(CONVERGE).run(), "sampled");
        }
        assert_eq!(run.code(), Some(0));
    }
    let logged = read_log(&log);
    let kept = runs(logged.events.events());
    // Binomial(80, 1/4): mean 20, σ ≈ 3.9; [4, 40] is more than 4σ either side.
    assert!(
        (4..=40).contains(&kept.len()),
        "{} of {RUNS} runs kept",
        kept.len()
    );
    for (id, events) in &kept {
        let types: Vec<&str> = events.iter().map(|e| e.event_type.as_str()).collect();
        assert_eq!(
            types,
            ["CommandStarted", "CommandExited"],
            "run {id} is whole"
        );
        for e in events {
            assert_eq!(e.attributes.sample_rate, Some(0.25), "{e:?}");
        }
    }
    // What was sent is what was kept, each event once.
    assert!(eventually(Duration::from_secs(10), || {
        events_in(&receiver.bodies()).len() == 2 * kept.len()
    }));
    let sent = events_in(&receiver.bodies());
    assert_eq!(runs(&sent).len(), kept.len());
    assert!(sent.iter().all(|e| e.attributes.sample_rate == Some(0.25)));
}

#[test]
fn at_rate_zero_nothing_is_sent_logged_or_written() {
    let receiver = Receiver::start(Mode::Status(200));
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("t.log");
    let home = new_home();
    for _ in 0..10 {
        let run = werf_to(&home, &receiver.url(), &log)
            .env("WERF_TELEMETRY_SAMPLE_RATE", "0")
            .env("WERF_TELEMETRY_DELIVERY", "detached")
            .run();
        assert_eq!(run.code(), Some(0));
    }
    assert!(!log.exists(), "a dropped run writes no log file");
    assert!(receiver.requests().is_empty());
    // No queue, no cache directory at all: what "off" costs.
    assert!(!home.path().join("cache").exists());
    // Status says so, and why, without drawing a second sample.
    let status = werf(&["telemetry", "status", "--json"])
        .home(Some(&home))
        .env("WERF_TELEMETRY", "1")
        .env("WERF_TELEMETRY_SAMPLE_RATE", "0")
        .run();
    let json: serde_json::Value = serde_json::from_str(status.stdout().trim()).unwrap();
    assert_eq!(json["enabled"], true);
    assert_eq!(json["sampling"]["rate"], 0.0);
    assert_eq!(json["sampling"]["appRate"], 1.0);
    assert_eq!(json["sampling"]["thisRun"], "dropped");
    let text = werf(&["telemetry", "status"])
        .home(Some(&home))
        .env("WERF_TELEMETRY", "1")
        .env("WERF_TELEMETRY_SAMPLE_RATE", "0")
        .run();
    assert!(
        text.stdout().contains(
            "sampling:    no run kept (rate 0); the application's rate is 1; this run: dropped"
        ),
        "{}",
        text.stdout()
    );
}

#[test]
fn a_garbage_rate_is_noted_and_ignored() {
    let receiver = Receiver::start(Mode::Status(200));
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("t.log");
    let run = werf_to(&new_home(), &receiver.url(), &log)
        .env("WERF_TELEMETRY_SAMPLE_RATE", "often")
        .run();
    assert_eq!(run.code(), Some(0));
    let logged = read_log(&log);
    let notes = logged.diagnostics_containing(
        "WERF_TELEMETRY_SAMPLE_RATE is not a rate between 0 and 1; ignored",
    );
    assert_eq!(notes.len(), 1, "{:?}", logged.diagnostics);
    assert!(!serde_json::to_string(&logged.diagnostics)
        .unwrap()
        .contains("often"));
    // The app's rate (1) applies: kept, and no rate in the attributes.
    assert_eq!(logged.events.events().len(), 2);
    assert!(logged
        .events
        .events()
        .iter()
        .all(|e| e.attributes.sample_rate.is_none()));
    // Status shows it as the person typed it.
    let status = werf(&["telemetry", "status"])
        .env("WERF_TELEMETRY", "1")
        .env("WERF_TELEMETRY_SAMPLE_RATE", "often")
        .run();
    assert!(
        status.stdout().contains(
            "WERF_TELEMETRY_SAMPLE_RATE=\"often\" is not a rate between 0 and 1; ignored"
        ),
        "{}",
        status.stdout()
    );
}

#[test]
fn a_person_can_lower_the_rate_but_not_raise_it() {
    let bin = example_bin("root_only");
    let receiver = Receiver::start(Mode::Status(200));
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("t.log");
    // The author keeps no run (rate 0): asking for every run keeps none either.
    for _ in 0..10 {
        let run = example(&bin, &["--bump"])
            .app_telemetry(&receiver.url(), &log)
            .env("FIXTURE_APP_SAMPLE_RATE", "0")
            .env("APP_TELEMETRY_SAMPLE_RATE", "1")
            .run();
        assert_eq!(run.code(), Some(0));
    }
    assert!(!log.exists());
    assert!(receiver.requests().is_empty());
    // The author keeps half: asking for all is clamped to half, with a note, and the
    // kept events carry 0.5.
    let status = example(&bin, &["--telemetry", "status", "--json"])
        .env("APP_TELEMETRY", "1")
        .env("FIXTURE_APP_SAMPLE_RATE", "0.5")
        .env("APP_TELEMETRY_SAMPLE_RATE", "1")
        .run();
    let json: serde_json::Value = serde_json::from_str(status.stdout().trim()).unwrap();
    assert_eq!(json["sampling"]["rate"], 0.5);
    assert_eq!(json["sampling"]["appRate"], 0.5);
    assert!(["kept", "dropped"].contains(&json["sampling"]["thisRun"].as_str().unwrap()));
    assert!(
        json["ignored"].to_string().contains("clamped"),
        "{}",
        json["ignored"]
    );
    assert_eq!(json["nextEvent"]["attributes"]["sampleRate"], 0.5);
    // Run until one is kept (each is, with probability 1/2; 40 tries).
    let kept = (0..40).any(|_| {
        example(&bin, &["--bump"])
            .app_telemetry(&receiver.url(), &log)
            .env("FIXTURE_APP_SAMPLE_RATE", "0.5")
            .env("APP_TELEMETRY_SAMPLE_RATE", "1")
            .run();
        log.exists()
    });
    assert!(kept);
    let logged = read_log(&log);
    assert!(logged
        .events
        .events()
        .iter()
        .all(|e| e.attributes.sample_rate == Some(0.5)));
    assert_eq!(
        logged
            .diagnostics_containing("above the application's sample rate")
            .len(),
        1
    );
    // Lowering works: the person's 0.2 under the author's 0.5.
    let status = example(&bin, &["--telemetry", "status", "--json"])
        .env("APP_TELEMETRY", "1")
        .env("FIXTURE_APP_SAMPLE_RATE", "0.5")
        .env("APP_TELEMETRY_SAMPLE_RATE", "0.2")
        .run();
    let json: serde_json::Value = serde_json::from_str(status.stdout().trim()).unwrap();
    assert_eq!(json["sampling"]["rate"], 0.2);
}

// --- partial success (S-21) -------------------------------------------------------------

fn partial_success_protobuf(rejected: i64, message: &str) -> Vec<u8> {
    use opentelemetry_proto::tonic::collector::trace::v1::{
        ExportTracePartialSuccess, ExportTraceServiceResponse,
    };
    use prost::Message;
    ExportTraceServiceResponse {
        partial_success: Some(ExportTracePartialSuccess {
            rejected_spans: rejected,
            error_message: message.into(),
        }),
    }
    .encode_to_vec()
}

#[test]
fn a_partial_success_is_a_rejection_with_the_collectors_message_never_retried() {
    let message = "quota exceeded\u{7}\r\n for tenant x";
    let json = serde_json::json!({
        "partialSuccess": { "rejectedSpans": "1", "errorMessage": message }
    })
    .to_string();
    for (protocol, reply) in [
        (
            "http/json",
            Reply::status(200).body("application/json", json.clone()),
        ),
        (
            "http/protobuf",
            Reply::status(200).body(
                "application/x-protobuf",
                partial_success_protobuf(1, message),
            ),
        ),
    ] {
        let receiver = Receiver::start_script(vec![reply]);
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("t.log");
        let home = new_home();
        let run = werf_to(&home, &receiver.url(), &log)
            .env("WERF_TELEMETRY_PROTOCOL", protocol)
            .run();
        assert_eq!(run.code(), Some(0));
        let logged = read_log(&log);
        assert!(
            logged.diagnostics_containing("event delivered").is_empty(),
            "{protocol}: {:?}",
            logged.diagnostics
        );
        let rejected = logged.diagnostics_containing("rejected by the collector (partial success");
        assert_eq!(rejected.len(), 2, "{protocol}: {:?}", logged.diagnostics);
        for line in rejected {
            assert_eq!(line["httpStatus"], 200);
            assert_eq!(line["rejectedSpans"], 1);
            assert_eq!(
                line["collectorMessage"], "quota exceeded for tenant x",
                "{protocol}"
            );
            assert_eq!(line["spooled"], false);
        }
        // Not retried: a later run against a healthy endpoint sends only its own events.
        let healthy = Receiver::start(Mode::Status(200));
        let later = werf_to(&home, &healthy.url(), &log).run();
        assert_eq!(later.code(), Some(0));
        assert!(read_log(&log)
            .diagnostics_containing("event sent from the spool")
            .is_empty());
        assert_eq!(events_in(&healthy.bodies()).len(), 2, "{protocol}");
    }
}

#[test]
fn a_body_that_is_no_response_still_counts_as_delivered() {
    let receiver =
        Receiver::start_script(vec![Reply::status(200).body("text/html", "<html>ok</html>")]);
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("t.log");
    werf_to(&new_home(), &receiver.url(), &log).run();
    assert_eq!(
        read_log(&log)
            .diagnostics_containing("event delivered")
            .len(),
        2
    );
}

// --- Retry-After (S-21) -----------------------------------------------------------------

/// A 429 naming `retry_after`: this run's events are spooled and the log names the time;
/// a run right after sends nothing; a run after that time sends everything, once.
fn retry_after_holds_the_queue(retry_after: &str, until_ms: u64) {
    let receiver = Receiver::start_script(vec![
        Reply::status(429).header("Retry-After", retry_after),
        Reply::status(200),
    ]);
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("t.log");
    let home = new_home();
    werf_to(&home, &receiver.url(), &log).run();
    let first = receiver.requests().len();
    assert!(first >= 1);
    let logged = read_log(&log);
    let hold = logged.diagnostics_containing("asked not to be called before a time (Retry-After)");
    assert!(!hold.is_empty(), "{:?}", logged.diagnostics);
    let until = hold[0]["untilMs"].as_u64().unwrap();
    // Seconds count from the response (a moment after `until_ms` was computed); a date
    // names its time exactly.
    assert!(
        (until_ms..until_ms + 10_000).contains(&until),
        "{until} vs {until_ms}"
    );
    assert_eq!(hold[0]["until"], http_date(until));
    // Right after: held, nothing sent, every event kept. The first run's own
    // CommandExited may already have met the hold (when its CommandStarted went alone),
    // so only the second run's lines are counted.
    let first_run = hold[0]["executionID"].clone();
    werf_to(&home, &receiver.url(), &log).run();
    assert_eq!(receiver.requests().len(), first, "sent while held");
    let logged = read_log(&log);
    let held =
        logged.diagnostics_containing("the endpoint asked not to be called yet (Retry-After)");
    assert_eq!(
        held.iter()
            .filter(|d| d["executionID"] != first_run)
            .count(),
        2,
        "{:?}",
        logged.diagnostics
    );
    // After the time: everything goes, each event once, none before the time.
    while now_ms() <= until {
        std::thread::sleep(Duration::from_millis(50));
    }
    werf_to(&home, &receiver.url(), &log).run();
    let requests = receiver.requests();
    for r in &requests[first..] {
        let at = r.at.duration_since(UNIX_EPOCH).unwrap().as_millis() as u64;
        assert!(at >= until, "a request {} ms before the time", until - at);
    }
    // Every event answered 200 once: a request already in flight when the 429 came back
    // may have been accepted before the hold.
    let delivered: Vec<Event> = events_in(
        &requests
            .iter()
            .filter(|r| r.answered == 200)
            .map(|r| r.body.clone())
            .collect::<Vec<_>>(),
    );
    let mut keys: Vec<(String, String)> = delivered
        .iter()
        .map(|e| (e.execution_id.clone(), e.event_type.clone()))
        .collect();
    keys.sort();
    let unique = keys.len();
    keys.dedup();
    assert_eq!(unique, keys.len(), "sent twice: {keys:?}");
    assert_eq!(
        runs(&delivered).len(),
        3,
        "the three runs' events: {keys:?}"
    );
    assert_eq!(delivered.len(), 6);
}

#[test]
fn retry_after_in_seconds_holds_queued_events_until_then() {
    // Long enough that the run right after starts within it on a loaded machine.
    retry_after_holds_the_queue("4", now_ms() + 4_000);
}

#[test]
fn retry_after_as_an_http_date_holds_queued_events_until_then() {
    // The binary first (a test binary's first run builds the examples), then the time.
    common::werf_bin();
    // Whole seconds: an HTTP date has no finer grain.
    let until = (now_ms() / 1000 + 5) * 1000;
    retry_after_holds_the_queue(&http_date(until), until);
}

#[test]
fn retry_after_garbage_or_far_away() {
    // Garbage: an ordinary 503 (spooled, no hold).
    let receiver = Receiver::start_script(vec![
        Reply::status(503).header("Retry-After", "whenever"),
        Reply::status(200),
    ]);
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("t.log");
    let home = new_home();
    werf_to(&home, &receiver.url(), &log).run();
    let logged = read_log(&log);
    assert!(
        logged.diagnostics_containing("Retry-After").is_empty(),
        "{:?}",
        logged.diagnostics
    );
    assert!(!logged
        .diagnostics_containing("spooled for a later run")
        .is_empty());
    // A week away: clamped to a day.
    let receiver = Receiver::start_script(vec![Reply::status(429).header("Retry-After", "604800")]);
    let log = dir.path().join("week.log");
    werf_to(&new_home(), &receiver.url(), &log).run();
    let logged = read_log(&log);
    let hold = logged.diagnostics_containing("(Retry-After)");
    let until = hold[0]["untilMs"].as_u64().unwrap();
    let day = 24 * 3600 * 1000;
    assert!(
        until <= now_ms() + day && until + 60_000 > now_ms() + day,
        "{until}"
    );
}

/// A detached run whose sender's first request gets `503 Retry-After: retry_after`, the
/// sender living `life_ms`: the receiver, the log file (in `dir`) and the run's home.
#[cfg(target_os = "linux")]
fn detached_run_told_to_wait(
    retry_after: &str,
    life_ms: &str,
    dir: &tempfile::TempDir,
) -> (Receiver, std::path::PathBuf, Arc<tempfile::TempDir>) {
    let receiver = Receiver::start_script(vec![
        Reply::status(503).header("Retry-After", retry_after),
        Reply::status(200),
    ]);
    let log = dir.path().join("t.log");
    let home = new_home();
    let run = werf_to(&home, &receiver.url(), &log)
        .env("WERF_TELEMETRY_DELIVERY", "detached")
        .env("WERF_TELEMETRY_SENDER_LIFE_MS", life_ms)
        .run();
    assert_eq!(run.code(), Some(0));
    (receiver, log, home)
}

#[cfg(target_os = "linux")]
#[test]
fn the_detached_sender_waits_for_the_time_within_its_life() {
    let dir = tempfile::tempdir().unwrap();
    let (receiver, log, _home) = detached_run_told_to_wait("1", "10000", &dir);
    let delivered = eventually(Duration::from_secs(15), || {
        read_log(&log)
            .diagnostics_containing("event delivered")
            .len()
            == 2
    });
    let logged = read_log(&log);
    assert!(delivered, "{:?}", logged.diagnostics);
    assert_eq!(
        logged
            .diagnostics_containing("waits until the time the endpoint asked for")
            .len(),
        1
    );
    let until = logged.diagnostics_containing("(Retry-After): queued events wait")[0]["untilMs"]
        .as_u64()
        .unwrap();
    let requests = receiver.requests();
    assert_eq!(requests.len(), 2);
    let second = requests[1]
        .at
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64;
    assert!(second >= until, "sent {} ms early", until - second);
    assert!(eventually(Duration::from_secs(10), || {
        common::sender_pids(&log)
            .iter()
            .all(|p| !common::procs::alive(*p))
    }));
}

// --- User-Agent (S-21) ------------------------------------------------------------------

#[test]
fn requests_name_the_tool_and_the_library_on_both_transports() {
    for (transport, bin) in common::transports("werf") {
        let receiver = Receiver::start(Mode::Status(200));
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("t.log");
        let run = example(&bin, CONVERGE)
            .telemetry(&receiver.url(), &log)
            .env("WERF_DEMO_VERSION", "1.2.3")
            .run();
        assert_eq!(run.code(), Some(0), "{transport}");
        let requests = receiver.requests();
        assert!(!requests.is_empty(), "{transport}");
        for r in requests {
            assert_eq!(
                r.header("user-agent"),
                Some(concat!(
                    "werf/1.2.3 cli-telemetry/",
                    env!("CARGO_PKG_VERSION")
                )),
                "{transport}"
            );
        }
    }
}

/// SPEC R-5 while a `Retry-After` holds: a sender waiting for the time stops at an opt-out,
/// deletes the queue, sends nothing more and is gone; no sender is left.
#[cfg(target_os = "linux")]
#[test]
fn an_opt_out_ends_a_sender_waiting_for_the_time() {
    let dir = tempfile::tempdir().unwrap();
    // A life long enough to wait for the time: only the opt-out can end it early.
    let (receiver, log, home) = detached_run_told_to_wait("15", "40000", &dir);
    assert!(
        eventually(Duration::from_secs(10), || {
            !read_log(&log)
                .diagnostics_containing("waits until the time the endpoint asked for")
                .is_empty()
        }),
        "{:?}",
        read_log(&log).diagnostics
    );
    let pids = common::sender_pids(&log);
    assert_eq!(pids.len(), 1);
    assert!(common::procs::alive(pids[0]), "the sender waits");
    let disable = werf(&["telemetry", "disable"]).home(Some(&home)).run();
    assert_eq!(disable.code(), Some(0));
    assert!(
        eventually(Duration::from_secs(5), || !common::procs::alive(pids[0])),
        "the sender ended at the opt-out, ten seconds before the time"
    );
    assert!(!read_log(&log)
        .diagnostics_containing("the detached sender stopped and deleted the queue")
        .is_empty());
    assert!(!home.path().join("cache/werf/telemetry-spool").exists());
    assert!(common::procs::senders_under(home.path()).is_empty());
    // Nothing is left that could send: only the one request that got the 503.
    assert_eq!(receiver.requests().len(), 1);
    assert!(read_log(&log)
        .diagnostics_containing("event delivered")
        .is_empty());
}
