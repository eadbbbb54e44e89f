//! Exit codes of every return type (SPEC S-6).
#![cfg(feature = "telemetry")]

use std::process::ExitCode;

use cli_telemetry::testing::{capture, Expect};
use cli_telemetry::{instrument_command, ErrorExitCode};

#[instrument_command(name = "t")]
fn unit() {}

#[instrument_command(name = "t")]
fn int(code: i32) -> i32 {
    code
}

#[instrument_command(name = "t")]
fn small(code: u8) -> u8 {
    code
}

#[instrument_command(name = "t")]
fn exit_code(code: u8) -> ExitCode {
    ExitCode::from(code)
}

#[instrument_command(name = "t")]
fn plain_result(ok: bool) -> Result<u32, String> {
    if ok {
        Ok(7)
    } else {
        Err("no".into())
    }
}

#[derive(Debug)]
struct Coded(i32);

impl ErrorExitCode for Coded {
    fn exit_code(&self) -> i32 {
        self.0
    }
}

#[instrument_command(name = "t")]
fn coded(code: i32) -> Result<(), Coded> {
    Err(Coded(code))
}

#[instrument_command(name = "t")]
fn clap_error() -> Result<(), clap::Error> {
    Err(clap::Error::new(clap::error::ErrorKind::InvalidValue))
}

#[instrument_command(name = "t")]
fn question_mark(input: &str) -> Result<i32, std::num::ParseIntError> {
    let n: i32 = input.parse()?;
    Ok(n)
}

#[instrument_command(name = "t")]
fn early_return(n: i32) -> i32 {
    if n > 0 {
        return 5;
    }
    6
}

#[instrument_command(name = "t")]
fn opaque() -> impl std::fmt::Display {
    "x"
}

#[instrument_command(name = "t")]
fn other_type() -> Vec<u8> {
    vec![1]
}

fn code_of(f: impl FnOnce()) -> i64 {
    let events = capture(f);
    events
        .exited()
        .expect("CommandExited")
        .exit_code()
        .expect("exitCode")
}

#[test]
fn unit_is_0() {
    assert_eq!(code_of(unit), 0);
}

#[test]
fn integers_are_their_value() {
    assert_eq!(code_of(|| assert_eq!(int(42), 42)), 42);
    assert_eq!(code_of(|| assert_eq!(small(3), 3)), 3);
}

#[test]
fn exit_code_is_recovered() {
    assert_eq!(
        code_of(|| {
            let _ = exit_code(77);
        }),
        77
    );
    assert_eq!(
        code_of(|| {
            let _ = exit_code(0);
        }),
        0
    );
}

/// fd's shape: a handler returns `Ok` with a status of its own.
#[derive(Debug, PartialEq)]
enum Found {
    HasResults(bool),
}

impl cli_telemetry::ExitStatus for Found {
    fn exit_code(&self) -> i32 {
        match self {
            Found::HasResults(true) => 0,
            Found::HasResults(false) => 1,
        }
    }
}

#[instrument_command(name = "t")]
fn search(hits: usize) -> anyhow::Result<Found> {
    Ok(Found::HasResults(hits > 0))
}

#[instrument_command(name = "t")]
fn ok_exit_code(code: u8) -> Result<ExitCode, Coded> {
    if code == 0 {
        return Err(Coded(4));
    }
    Ok(ExitCode::from(code))
}

#[test]
fn ok_values_that_carry_a_status_report_it() {
    assert_eq!(
        code_of(|| assert_eq!(search(0).unwrap(), Found::HasResults(false))),
        1
    );
    assert_eq!(
        code_of(|| assert_eq!(search(3).unwrap(), Found::HasResults(true))),
        0
    );
    assert_eq!(code_of(|| drop(ok_exit_code(3))), 3);
    assert_eq!(code_of(|| drop(ok_exit_code(0))), 4);
    // `Ok(())` carries success.
    assert_eq!(code_of(|| drop(coded_or_ok(false))), 0);
}

#[instrument_command(name = "t")]
fn coded_or_ok(fail: bool) -> Result<(), Coded> {
    if fail {
        Err(Coded(9))
    } else {
        Ok(())
    }
}

#[test]
fn results() {
    // An integer in `Ok` is the status (SPEC S-6).
    assert_eq!(code_of(|| assert_eq!(plain_result(true), Ok(7))), 7);
    assert_eq!(code_of(|| assert!(plain_result(false).is_err())), 1);
    assert_eq!(code_of(|| drop(coded(9))), 9);
    assert_eq!(code_of(|| drop(clap_error())), 2);
}

#[test]
fn question_mark_and_early_return_are_observed() {
    assert_eq!(code_of(|| assert_eq!(question_mark("12"), Ok(12))), 12);
    assert_eq!(code_of(|| assert!(question_mark("x").is_err())), 1);
    assert_eq!(code_of(|| assert_eq!(early_return(1), 5)), 5);
    assert_eq!(code_of(|| assert_eq!(early_return(0), 6)), 6);
}

#[test]
fn other_return_types_report_0() {
    assert_eq!(code_of(|| assert_eq!(opaque().to_string(), "x")), 0);
    assert_eq!(code_of(|| assert_eq!(other_type(), vec![1])), 0);
}

#[test]
fn duration_is_measured() {
    #[instrument_command(name = "t")]
    fn slow() {
        std::thread::sleep(std::time::Duration::from_millis(30));
    }
    let events = capture(slow);
    events.assert_events(&[Expect::started("t"), Expect::exited("t").exit_code(0)]);
    assert!(events.exited().unwrap().duration_ms().unwrap() >= 30);
}

#[instrument_command(name = "t")]
fn with_anyhow(fail: bool) -> anyhow::Result<u8> {
    if fail {
        anyhow::bail!("failed");
    }
    let n: u8 = "5".parse()?;
    Ok(n)
}

#[test]
fn anyhow_errors_exit_1_and_ok_integers_are_their_value() {
    assert_eq!(code_of(|| assert!(with_anyhow(true).is_err())), 1);
    assert_eq!(code_of(|| assert_eq!(with_anyhow(false).unwrap(), 5)), 5);
}
