//! Placeholder; replaced below.
pub use cli_telemetry_macros::instrument_command;
pub use cli_telemetry_runtime::*;
