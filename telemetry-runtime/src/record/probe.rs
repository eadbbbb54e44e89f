//! How generated code learns a handler's exit code and error category from its return
//! value, whatever its type (SPEC S-6, S-22): autoref specialization over the value wrapped
//! in a probe — the most specific impl that applies wins. `__private` re-exports these for
//! `#[instrument_command]`; nothing else uses them.

use super::exit::{ErrorCategory, ErrorExitCode, ExitStatus};

/// Wraps a handler's return value so that generated code can pick its exit code by
/// autoref specialization: `(&&&&&Probe(&ret)).__cli_telemetry_exit_code()`. The most
/// specific impl wins: `Result` whose `Ok` carries a status and whose error knows its code,
/// then `Ok` status only, error code only, any `Result`, [`ExitStatus`] types, anything.
pub struct Probe<'a, T: ?Sized>(pub &'a T);

impl<T: ?Sized> Clone for Probe<'_, T> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<T: ?Sized> Copy for Probe<'_, T> {}

/// `Result<T, E>` whose `Ok` value carries a status and whose error knows its code.
pub trait ViaStatusAndErrorCode {
    /// The exit code.
    fn __cli_telemetry_exit_code(self) -> i32;
}
impl<T: ExitStatus, E: ErrorExitCode> ViaStatusAndErrorCode for &&&&&Probe<'_, Result<T, E>> {
    fn __cli_telemetry_exit_code(self) -> i32 {
        match self.0 {
            Ok(v) => v.exit_code(),
            Err(e) => e.exit_code(),
        }
    }
}

/// `Result<T, E>` whose `Ok` value carries a status: `Err` → 1.
pub trait ViaOkStatus {
    /// The exit code.
    fn __cli_telemetry_exit_code(self) -> i32;
}
impl<T: ExitStatus, E> ViaOkStatus for &&&&Probe<'_, Result<T, E>> {
    fn __cli_telemetry_exit_code(self) -> i32 {
        match self.0 {
            Ok(v) => v.exit_code(),
            Err(_) => 1,
        }
    }
}

/// `Result<T, E>` with an error that knows its code.
pub trait ViaErrorCode {
    /// The exit code.
    fn __cli_telemetry_exit_code(self) -> i32;
}
impl<T, E: ErrorExitCode> ViaErrorCode for &&&Probe<'_, Result<T, E>> {
    fn __cli_telemetry_exit_code(self) -> i32 {
        match self.0 {
            Ok(_) => 0,
            Err(e) => e.exit_code(),
        }
    }
}

/// Any other `Result<T, E>`: `Err` → 1.
pub trait ViaResult {
    /// The exit code.
    fn __cli_telemetry_exit_code(self) -> i32;
}
impl<T, E> ViaResult for &&Probe<'_, Result<T, E>> {
    fn __cli_telemetry_exit_code(self) -> i32 {
        i32::from(self.0.is_err())
    }
}

/// Types implementing [`ExitStatus`].
pub trait ViaStatus {
    /// The exit code.
    fn __cli_telemetry_exit_code(self) -> i32;
}
impl<T: ExitStatus + ?Sized> ViaStatus for &Probe<'_, T> {
    fn __cli_telemetry_exit_code(self) -> i32 {
        self.0.exit_code()
    }
}

/// `Result<T, E>` whose error names its kind of failure ([`crate::ErrorCategory`]).
pub trait ViaErrorCategory<'a> {
    /// The error category, for an `Err` that names one.
    fn __cli_telemetry_error_category(self) -> Option<&'a str>;
}

/// Everything else: no error category.
pub trait ViaNoCategory<'a> {
    /// None.
    fn __cli_telemetry_error_category(self) -> Option<&'a str>;
}

/// Wraps a handler's return value for the error category, as [`Probe`] does for the exit
/// code: `(&&CategoryProbe(&ret)).__cli_telemetry_error_category()`.
pub struct CategoryProbe<'a, T: ?Sized>(pub &'a T);

impl<'a, T, E: ErrorCategory> ViaErrorCategory<'a> for &&CategoryProbe<'a, Result<T, E>> {
    fn __cli_telemetry_error_category(self) -> Option<&'a str> {
        match self.0 {
            Ok(_) => None,
            Err(e) => e.error_category(),
        }
    }
}

impl<'a, T: ?Sized> ViaNoCategory<'a> for &CategoryProbe<'a, T> {
    fn __cli_telemetry_error_category(self) -> Option<&'a str> {
        None
    }
}

/// Everything else: returned normally → 0.
pub trait ViaAny {
    /// The exit code.
    fn __cli_telemetry_exit_code(self) -> i32;
}
impl<T: ?Sized> ViaAny for Probe<'_, T> {
    fn __cli_telemetry_exit_code(self) -> i32 {
        0
    }
}
