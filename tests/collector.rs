//! `cli_telemetry::testing::Collector` itself (issue 27), black box against the built
//! mini-werf: both protocols decoded into the same events, an environment of its own for
//! the child (the developer's home never touched, the temporary one gone with the
//! collector), the failure answers as the library sees them, headers readable,
//! `assert_never_sent` naming where it found a needle, `wait_for_runs` returning what it
//! has at its timeout.
#![cfg(feature = "telemetry")]

mod common;

use std::process::{Command, Output};
use std::time::Duration;

use cli_telemetry::testing::{Answer, Collector, Expect};

const WAIT: Duration = Duration::from_secs(20);

fn werf(collector: &Collector, args: &[&str], vars: Vec<(String, String)>) -> Output {
    let out = Command::new(common::werf_bin())
        .args(args)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .envs(vars)
        .current_dir(collector.home())
        .output()
        .unwrap();
    assert!(out.status.code().is_some(), "{out:?}");
    out
}

#[test]
fn json_and_protobuf_bodies_become_the_same_runs() {
    for protocol in ["http/json", "http/protobuf"] {
        let collector = Collector::start();
        let mut vars = collector.env("WERF");
        vars.push(("WERF_TELEMETRY_PROTOCOL".into(), protocol.into()));
        werf(&collector, &["-v", "converge", "--repo", "r"], vars);
        let runs = collector.wait_for_runs(1, WAIT);
        assert_eq!(runs.len(), 1, "{protocol}");
        runs[0].assert_events(&[
            Expect::started("werf converge").options(["repo", "verbose"]),
            Expect::exited("werf converge").exit_code(0),
        ]);
        let request = &collector.requests()[0];
        let content_type = request.header("Content-Type").unwrap();
        assert!(content_type.contains(protocol.trim_start_matches("http/")));
        assert!(request
            .header("user-agent")
            .is_some_and(|ua| ua.starts_with("werf/")));
    }
}

#[test]
fn the_child_gets_a_home_of_its_own_gone_with_the_collector() {
    let developer = tempfile::tempdir().unwrap();
    let collector = Collector::start();
    let home = collector.home().to_owned();
    let out = Command::new(common::werf_bin())
        .args(["converge", "--repo", "r"])
        .env("HOME", developer.path())
        .env("XDG_CACHE_HOME", developer.path().join("cache"))
        .env("XDG_CONFIG_HOME", developer.path().join("config"))
        .env("WERF_TELEMETRY_DELIVERY", "detached")
        .envs(collector.env("WERF"))
        .current_dir(&home)
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(collector.wait_for_runs(1, WAIT).len(), 1);
    assert!(
        home.join("cache/werf/telemetry-spool").is_dir(),
        "the queue is the collector's"
    );
    assert!(
        std::fs::read_dir(developer.path())
            .unwrap()
            .next()
            .is_none(),
        "the developer's home is untouched"
    );
    assert!(
        !collector.log().events.is_empty(),
        "the log file names every event"
    );
    drop(collector);
    assert!(!home.exists(), "the temporary home goes with the collector");
}

#[test]
fn failure_answers_are_what_the_library_sees() {
    let partial = || Answer::PartialSuccess {
        rejected: 2,
        message: "quota exceeded".into(),
    };
    for (answer, protocol, line) in [
        (partial(), "http/json", "event rejected by the collector"),
        (
            partial(),
            "http/protobuf",
            "event rejected by the collector",
        ),
        (
            Answer::Status(503),
            "http/json",
            "event rejected by the endpoint; spooled for a later run",
        ),
        (
            Answer::RetryAfter(3600),
            "http/json",
            "the endpoint asked not to be called before a time (Retry-After)",
        ),
    ] {
        let collector = Collector::answering(answer.clone());
        let mut vars = collector.env_inline("WERF");
        vars.push(("WERF_TELEMETRY_PROTOCOL".into(), protocol.into()));
        let out = werf(&collector, &["converge", "--repo", "r"], vars);
        assert!(out.status.success());
        let log = collector.log();
        let found = log.diagnostics_containing(line);
        assert!(
            !found.is_empty(),
            "{answer:?} {protocol}: {:?}",
            log.diagnostics
        );
        if let Answer::PartialSuccess { .. } = answer {
            assert_eq!(found[0]["collectorMessage"], "quota exceeded");
            assert_eq!(found[0]["rejectedSpans"], 2);
        }
        let statuses: Vec<Option<u16>> =
            collector.requests().iter().map(|r| r.answered()).collect();
        assert!(!statuses.is_empty() && statuses.iter().all(Option::is_some));
    }
}

#[test]
fn answers_in_turn_and_the_app_s_headers() {
    let collector = Collector::answering_in_turn(vec![Answer::Status(503), Answer::Status(200)]);
    let mut vars = collector.env_inline("WERF");
    vars.push(("WERF_TELEMETRY_HEADERS".into(), "x-api-key=k3y".into()));
    werf(&collector, &["converge", "--repo", "r"], vars.clone());
    // The second run sends its own events, then the first run's from the queue.
    werf(&collector, &["converge", "--repo", "r"], vars);
    let requests = collector.wait_for_requests(3, WAIT);
    let answered: Vec<Option<u16>> = requests.iter().map(|r| r.answered()).collect();
    assert_eq!(answered[0], Some(503));
    assert!(
        answered[1..].iter().all(|a| *a == Some(200)),
        "{answered:?}"
    );
    assert!(requests
        .iter()
        .all(|r| r.header("X-API-Key") == Some("k3y")));
    assert_eq!(collector.wait_for_runs(2, WAIT).len(), 2);
}

#[test]
fn assert_never_sent_names_where_it_found_the_needle() {
    let collector = Collector::start();
    werf(
        &collector,
        &["converge", "--repo", "s3cret-repo"],
        collector.env_inline("WERF"),
    );
    collector.wait_for_runs(1, WAIT);
    collector.assert_never_sent("s3cret");
    let found = std::panic::catch_unwind(|| collector.assert_never_sent("werf converge"));
    let message = found.unwrap_err();
    let message = message.downcast_ref::<String>().unwrap();
    assert!(
        message.contains("\"werf converge\" was sent") && message.contains("its body"),
        "{message}"
    );
}

#[test]
fn wait_for_runs_returns_what_it_has_at_its_timeout() {
    let collector = Collector::start();
    werf(
        &collector,
        &["converge", "--repo", "r"],
        collector.env_inline("WERF"),
    );
    let runs = collector.wait_for_runs(3, Duration::from_millis(500));
    assert_eq!(runs.len(), 1, "one complete run, no panic");
    // A black hole: requests arrive, no run is answered, but runs are complete once
    // received, whatever the answer.
    let hole = Collector::answering(Answer::BlackHole);
    let mut vars = hole.env_inline("WERF");
    vars.push(("WERF_TELEMETRY_TIMEOUT_MS".into(), "200".into()));
    werf(&hole, &["converge", "--repo", "r"], vars);
    let runs = hole.wait_for_runs(1, WAIT);
    assert_eq!(runs.len(), 1);
    assert_eq!(hole.requests()[0].answered(), None);
}
