//! Exit codes of handler return values (SPEC S-6), and the category of a failure the
//! application names (SPEC S-22: `CommandExited.eventData.errorCategory`).

/// A return type whose exit code is known: `()` → 0, integers → their value,
/// [`std::process::ExitCode`] → its code.
///
/// `Result<T, E>` is handled by `#[instrument_command]` itself: `Ok` → 0, `Err` → the
/// error's [`ErrorExitCode`] if it implements it, else 1. Return types that implement
/// neither report 0 when the handler returns normally.
pub trait ExitStatus {
    /// The process exit code this value stands for.
    fn exit_code(&self) -> i32;
}

/// An error type that knows its own exit code, for handlers returning `Result<_, E>`.
///
/// ```
/// use cli_telemetry_runtime::ErrorExitCode;
///
/// struct NotFound;
/// impl ErrorExitCode for NotFound {
///     fn exit_code(&self) -> i32 { 4 }
/// }
/// assert_eq!(NotFound.exit_code(), 4);
/// ```
pub trait ErrorExitCode {
    /// The process exit code this error leads to.
    fn exit_code(&self) -> i32;
}

/// An error type that names the kind of failure it is, for handlers returning
/// `Result<_, E>`: `#[instrument_command]` puts the label in CommandExited's
/// `eventData.errorCategory` — a label the application chose, never text from the error.
/// A label is `[a-z0-9._-]`, 1 to 64 characters; anything else is dropped (with a note in
/// the log file, and on stderr in debug mode).
///
/// ```
/// use cli_telemetry_runtime::ErrorCategory;
///
/// enum DeployError { RegistryUnreachable, Denied(String) }
/// impl ErrorCategory for DeployError {
///     fn error_category(&self) -> Option<&str> {
///         Some(match self {
///             DeployError::RegistryUnreachable => "registry-unreachable",
///             DeployError::Denied(_) => "auth.denied", // never the message it carries
///         })
///     }
/// }
/// assert_eq!(DeployError::Denied("no".into()).error_category(), Some("auth.denied"));
/// ```
///
/// For errors that are not the application's own types (`anyhow`), call
/// [`crate::error_category`] inside the handler instead.
pub trait ErrorCategory {
    /// The label of this kind of failure, if it has one.
    fn error_category(&self) -> Option<&str>;
}

/// Whether `label` may be sent as an error category: `[a-z0-9._-]`, 1 to 64 characters.
/// A `const fn`, so that `#[instrument_command]` checks literal labels at compile time.
pub const fn valid_label(label: &str) -> bool {
    let bytes = label.as_bytes();
    if bytes.is_empty() || bytes.len() > 64 {
        return false;
    }
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if !(b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'_' || b == b'-') {
            return false;
        }
        i += 1;
    }
    true
}

impl ErrorExitCode for clap::Error {
    fn exit_code(&self) -> i32 {
        clap::Error::exit_code(self)
    }
}

impl ExitStatus for () {
    fn exit_code(&self) -> i32 {
        0
    }
}

macro_rules! int_status {
    ($($t:ty),*) => {$(
        impl ExitStatus for $t {
            #[allow(clippy::cast_possible_truncation, clippy::cast_possible_wrap, clippy::cast_lossless)]
            fn exit_code(&self) -> i32 {
                *self as i32
            }
        }
    )*};
}
int_status!(i8, i16, i32, i64, isize, u8, u16, u32, u64, usize);

impl ExitStatus for std::process::ExitCode {
    /// `ExitCode` has no stable accessor: the code is recovered by comparison with
    /// `ExitCode::from(n)` for n in 0..=255. On platforms where it holds another value,
    /// 1 is reported.
    fn exit_code(&self) -> i32 {
        (0..=255u8)
            .find(|n| std::process::ExitCode::from(*n) == *self)
            .map_or(1, i32::from)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::ExitCode;

    #[test]
    fn exit_codes() {
        assert_eq!(().exit_code(), 0);
        assert_eq!(7u8.exit_code(), 7);
        assert_eq!((-2i64).exit_code(), -2);
        assert_eq!(ExitCode::SUCCESS.exit_code(), 0);
        assert_eq!(ExitCode::FAILURE.exit_code(), 1);
        assert_eq!(ExitCode::from(42).exit_code(), 42);
        let err = clap::Error::new(clap::error::ErrorKind::InvalidValue);
        assert_eq!(ErrorExitCode::exit_code(&err), 2);
    }

    #[test]
    fn labels() {
        for good in [
            "registry-unreachable",
            "auth.denied",
            "io_error",
            "e1",
            &"a".repeat(64),
        ] {
            assert!(valid_label(good), "{good}");
        }
        for bad in [
            "",
            "Registry",
            "no space",
            "path/like",
            "é",
            &"a".repeat(65),
        ] {
            assert!(!valid_label(bad), "{bad}");
        }
    }
}
