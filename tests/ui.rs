//! Misuse of `#[instrument_command]` is a compile error pointing at the offending tokens
//! (SPEC S-1): each `tests/ui/<case>.rs` beside the `.stderr` the compiler must print.
//! Regenerate with `TRYBUILD=overwrite cargo test --test ui`, then read every diff.
//!
//! Argument and item errors do not depend on the `telemetry` feature, but a `matches`
//! expression is only type-checked with it (without it the function is left unchanged).
#![cfg(feature = "telemetry")]

#[test]
fn misuse_is_a_compile_error() {
    trybuild::TestCases::new().compile_fail("tests/ui/*.rs");
}
