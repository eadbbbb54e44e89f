//! The machine's policy (SPEC S-23, issue 28), black box: `{"enabled": false}` in the policy
//! file switches telemetry off for every user, above every other setting (the person's
//! variable, the lasting choice, debug mode); it never switches on; status names the file;
//! `telemetry enable` says the policy keeps it off; a sender at work stops when it appears.
#![cfg(all(feature = "telemetry", target_os = "linux"))]

mod common;

use std::time::Duration;

use cli_telemetry::testing::{Answer, Collector};
use common::werf_bin;

const WAIT: Duration = Duration::from_secs(20);

fn werf(collector: &Collector, args: &[&str], extra: &[(&str, &str)]) -> std::process::Output {
    std::process::Command::new(werf_bin())
        .args(args)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .envs(collector.env("WERF"))
        .envs(extra.iter().copied())
        .current_dir(collector.home())
        .output()
        .unwrap()
}

#[test]
fn enabled_false_is_off_for_everyone_whatever_else_is_set() {
    let collector = Collector::start();
    let policy = collector.home().join("policy.json");
    std::fs::write(&policy, r#"{"enabled": false, "note": "managed by IT"}"#).unwrap();
    let policy = policy.to_str().unwrap().to_owned();
    // The person's lasting choice is on, and the environment says on, debug on too.
    let on = werf(&collector, &["telemetry", "enable"], &[]);
    assert!(on.status.success());
    for extra in [
        vec![("WERF_DEMO_POLICY_FILE", policy.as_str())],
        vec![
            ("WERF_DEMO_POLICY_FILE", policy.as_str()),
            ("WERF_TELEMETRY_DEBUG", "1"),
        ],
    ] {
        let out = werf(&collector, &["converge", "--repo", "r"], &extra);
        assert!(out.status.success());
        assert!(
            out.stderr.is_empty(),
            "nothing printed, debug mode included"
        );
    }
    assert!(collector
        .wait_for_requests(1, Duration::from_millis(1500))
        .is_empty());
    assert!(
        collector.log().events.is_empty(),
        "nothing recorded, nothing written"
    );
    let status = werf(
        &collector,
        &["telemetry", "status", "--json"],
        &[("WERF_DEMO_POLICY_FILE", &policy)],
    );
    let json: serde_json::Value = serde_json::from_slice(&status.stdout).unwrap();
    assert_eq!(json["enabled"], false);
    assert_eq!(json["decidedBy"]["setting"], "policy");
    assert_eq!(json["decidedBy"]["path"], policy.as_str());
    let enable = werf(
        &collector,
        &["telemetry", "enable"],
        &[("WERF_DEMO_POLICY_FILE", &policy)],
    );
    let said = String::from_utf8_lossy(&enable.stdout);
    assert!(
        said.contains("Here it stays off: the machine's policy") && said.contains(&policy),
        "{said}"
    );
}

#[test]
fn it_never_switches_on_and_a_broken_one_changes_nothing() {
    for text in [r#"{"enabled": true}"#, "{not json", ""] {
        let collector = Collector::start();
        let policy = collector.home().join("policy.json");
        std::fs::write(&policy, text).unwrap();
        // Without WERF_TELEMETRY=1 the mini-werf is off by its default: still off.
        let mut vars = collector.env("WERF");
        vars.retain(|(k, _)| k != "WERF_TELEMETRY");
        let out = std::process::Command::new(werf_bin())
            .args(["telemetry", "status", "--json"])
            .env_clear()
            .envs(vars)
            .env("WERF_DEMO_POLICY_FILE", &policy)
            .output()
            .unwrap();
        let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(json["enabled"], false, "{text}");
        assert_eq!(json["decidedBy"]["setting"], "appDefault", "{text}");
        // And with the person's on, the policy's garbage or `true` does not get in the way.
        let out = std::process::Command::new(werf_bin())
            .args(["converge", "--repo", "r"])
            .env_clear()
            .envs(collector.env_inline("WERF"))
            .env("WERF_DEMO_POLICY_FILE", &policy)
            .current_dir(collector.home())
            .output()
            .unwrap();
        assert!(out.status.success());
        assert_eq!(collector.wait_for_runs(1, WAIT).len(), 1, "{text}");
    }
}

#[test]
fn a_policy_installed_while_a_sender_works_stops_it() {
    let collector = Collector::answering(Answer::Delay(8000));
    let policy = collector.home().join("policy.json");
    let policy_var = policy.to_str().unwrap().to_owned();
    let out = werf(
        &collector,
        &["converge", "--repo", "r"],
        &[
            ("WERF_DEMO_POLICY_FILE", &policy_var),
            ("WERF_TELEMETRY_DELIVERY", "detached"),
            ("WERF_TELEMETRY_SENDER_LIFE_MS", "30000"),
        ],
    );
    assert!(out.status.success());
    let requests = collector.wait_for_requests(1, WAIT);
    assert_eq!(requests.len(), 1, "the sender's request is in flight");
    std::fs::write(&policy, r#"{"enabled": false}"#).unwrap();
    let log = || collector.log();
    assert!(
        common::eventually(WAIT, || !log()
            .diagnostics_containing("telemetry is off now: the detached sender stopped")
            .is_empty()),
        "{:?}",
        log().diagnostics
    );
    assert!(
        std::time::SystemTime::now() < requests[0].received_at() + Duration::from_secs(8),
        "it stopped before the endpoint answered"
    );
    let queue = collector.home().join("cache/werf/telemetry-spool");
    let left: Vec<_> = std::fs::read_dir(&queue)
        .map(|d| {
            d.flatten()
                .filter(|e| e.file_name().to_string_lossy().contains(".json"))
                .collect()
        })
        .unwrap_or_default();
    assert!(left.is_empty(), "the queue was deleted: {left:?}");
}
