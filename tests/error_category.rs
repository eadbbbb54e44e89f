//! `errorCategory` (SPEC S-22, issue 28): a label the application chose for the kind of
//! failure, in CommandExited's `eventData` — from an error type implementing
//! `ErrorCategory`, or `cli_telemetry::error_category()` inside the handler — never text
//! from the error; absent on success and when the application set none. In-process and
//! against the mini-werf.
#![cfg(feature = "telemetry")]

mod common;

use std::time::Duration;

use cli_telemetry::testing::{capture, Expect};
use cli_telemetry::{instrument_command, ErrorCategory};

#[derive(Debug)]
enum DeployError {
    Unreachable,
    Denied(String),
    Other,
}

impl std::fmt::Display for DeployError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DeployError::Denied(why) => write!(f, "denied: {why}"),
            other => write!(f, "{other:?}"),
        }
    }
}

impl ErrorCategory for DeployError {
    fn error_category(&self) -> Option<&str> {
        match self {
            DeployError::Unreachable => Some("registry-unreachable"),
            DeployError::Denied(_) => Some("auth.denied"),
            DeployError::Other => None,
        }
    }
}

#[instrument_command(name = "tool deploy")]
fn deploy(outcome: u8) -> Result<(), DeployError> {
    match outcome {
        0 => Ok(()),
        1 => Err(DeployError::Unreachable),
        2 => Err(DeployError::Denied("s3cret reason".into())),
        _ => Err(DeployError::Other),
    }
}

#[instrument_command(name = "tool sync")]
fn sync(label: &str, fail: bool) -> anyhow::Result<()> {
    cli_telemetry::error_category("network.timeout");
    if !label.is_empty() {
        cli_telemetry::error_category(label); // the last call wins
    }
    if fail {
        anyhow::bail!("s3cret: the server said no");
    }
    Ok(())
}

#[instrument_command(name = "tool async")]
async fn fetch() -> Result<(), DeployError> {
    Err(DeployError::Unreachable)
}

fn exited(events: &cli_telemetry::testing::Captured) -> serde_json::Map<String, serde_json::Value> {
    events.exited().unwrap().event_data.clone()
}

#[test]
fn from_the_error_type() {
    let events = capture(|| {
        let _ = deploy(1);
    });
    events.assert_events(&[
        Expect::started("tool deploy"),
        Expect::exited("tool deploy")
            .exit_code(1)
            .data("errorCategory", "registry-unreachable"),
    ]);
    let denied = capture(|| {
        let _ = deploy(2);
    });
    assert_eq!(exited(&denied)["errorCategory"], "auth.denied");
    assert_eq!(deploy(2).unwrap_err().to_string(), "denied: s3cret reason");
    assert!(!serde_json::to_string(denied.events())
        .unwrap()
        .contains("s3cret"));
    for outcome in [0, 3] {
        let none = capture(|| {
            let _ = deploy(outcome);
        });
        assert!(!exited(&none).contains_key("errorCategory"), "{outcome}");
    }
    let events = capture(|| {
        let _ = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(fetch());
    });
    assert_eq!(exited(&events)["errorCategory"], "registry-unreachable");
}

#[test]
fn from_a_call_inside_the_handler() {
    let events = capture(|| {
        let _ = sync("", true);
    });
    assert_eq!(exited(&events)["errorCategory"], "network.timeout");
    assert!(!serde_json::to_string(events.events())
        .unwrap()
        .contains("s3cret"));
    let events = capture(|| {
        let _ = sync("dns-failure", true);
    });
    assert_eq!(
        exited(&events)["errorCategory"],
        "dns-failure",
        "the last call wins"
    );
    // Not a label: dropped; the earlier one stays.
    let events = capture(|| {
        let _ = sync("Not A Label: s3cret", true);
    });
    assert_eq!(exited(&events)["errorCategory"], "network.timeout");
    // A success has none, whatever was set.
    let events = capture(|| {
        let _ = sync("", false);
    });
    assert!(!exited(&events).contains_key("errorCategory"));
}

#[cfg(target_os = "linux")]
#[test]
fn the_mini_werf_names_an_unreachable_registry() {
    use cli_telemetry::testing::Collector;
    let collector = Collector::start();
    let run = |repo: &str| {
        std::process::Command::new(common::werf_bin())
            .args(["converge", "--repo", repo])
            .env_clear()
            .envs(collector.env_inline("WERF"))
            .env("WERF_TELEMETRY_DEBUG", "0")
            .current_dir(collector.home())
            .output()
            .unwrap()
    };
    let failed = run("unreachable.example/app");
    assert_eq!(failed.status.code(), Some(69));
    assert_eq!(
        String::from_utf8_lossy(&failed.stderr),
        "Error: the container registry is unreachable\n"
    );
    assert_eq!(run("registry.example/app").status.code(), Some(0));
    let runs = collector.wait_for_runs(2, Duration::from_secs(20));
    assert_eq!(runs.len(), 2);
    runs[0].assert_events(&[
        Expect::started("werf converge"),
        Expect::exited("werf converge")
            .exit_code(69)
            .data("errorCategory", "registry-unreachable"),
    ]);
    let ok = runs[1].captured().exited().unwrap();
    assert!(
        !ok.event_data.contains_key("errorCategory"),
        "a success has none"
    );
    collector.assert_never_sent("container registry is unreachable");
}
