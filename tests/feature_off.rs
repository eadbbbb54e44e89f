//! With the `telemetry` feature off (SPEC S-7, last point): the attribute leaves the
//! function unchanged, nothing is recorded, and status says it is compiled out. Run by
//! `.ci/run` as `cargo test --no-default-features --test feature_off`.
#![cfg(not(feature = "telemetry"))]

use cli_telemetry::testing::capture;
use cli_telemetry::{instrument_command, Decision, Telemetry};

#[instrument_command(name = "app run")]
fn run(x: u8) -> Result<u8, String> {
    Ok(x)
}

#[instrument_command]
async fn run_async() -> u8 {
    1
}

#[test]
fn handlers_run_unchanged_and_emit_nothing() {
    let events = capture(|| {
        assert_eq!(run(3), Ok(3));
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        assert_eq!(rt.block_on(run_async()), 1);
    });
    assert!(events.is_empty());
}

#[test]
fn switched_on_by_env_still_does_nothing() {
    std::env::set_var("FEATUREOFF_TELEMETRY", "1");
    let telemetry = Telemetry::builder("featureoff");
    let status = telemetry.status();
    assert!(!status.enabled);
    assert_eq!(status.decided_by, Decision::CompiledOut);
    assert!(status.next_event.is_none());
    assert!(!telemetry.install());
    assert!(!cli_telemetry::is_enabled());
}
