//! `#[cli_telemetry::main]` on every form `main` may have (SPEC S-6): sync and `async fn
//! main` under `#[tokio::main]` in either order; `()`, `ExitCode`, `Result<(), E>`,
//! `Result<ExitCode, E>`, `impl Termination`; early `return` and `?`. The generated `main`
//! returns the `ExitCode` std would derive from the original return value. (What
//! CommandExited carries is checked black-box in tests/real_shapes.rs.)
#![cfg(feature = "telemetry")]

use std::process::ExitCode;

mod unit {
    #[cli_telemetry::main]
    pub fn main() {}
}

mod exit_code {
    #[cli_telemetry::main]
    pub fn main() -> std::process::ExitCode {
        std::process::ExitCode::from(7)
    }
}

mod result_err {
    #[cli_telemetry::main]
    pub fn main() -> Result<(), String> {
        let n: u8 = "x".parse().map_err(|_| "not a number".to_owned())?;
        let _ = n;
        Ok(())
    }
}

mod result_exit_code {
    #[cli_telemetry::main]
    pub fn main() -> Result<std::process::ExitCode, std::io::Error> {
        if std::env::var_os("MAIN_ATTR_TEST_NEVER_SET").is_some() {
            return Ok(std::process::ExitCode::SUCCESS);
        }
        Ok(std::process::ExitCode::from(3))
    }
}

mod impl_termination {
    #[cli_telemetry::main]
    pub fn main() -> impl std::process::Termination {
        std::process::ExitCode::from(9)
    }
}

mod tokio_outer {
    #[tokio::main(flavor = "current_thread")]
    #[cli_telemetry::main]
    pub async fn main() -> Result<std::process::ExitCode, String> {
        tokio::task::yield_now().await;
        Ok(std::process::ExitCode::from(4))
    }
}

mod tokio_inner {
    #[cli_telemetry::main]
    #[tokio::main(flavor = "current_thread")]
    pub async fn main() -> Result<(), String> {
        tokio::task::yield_now().await;
        Err("failed".into())
    }
}

mod tokio_multi_thread {
    #[cli_telemetry::main]
    #[tokio::main]
    pub async fn main() -> std::process::ExitCode {
        let n = tokio::spawn(async { 5u8 }).await.unwrap_or(0);
        std::process::ExitCode::from(n)
    }
}

// `main` as the command: `#[instrument_command]` with `#[cli_telemetry::main]`, in either
// order, also under `#[tokio::main]` (black-box: tests/root_only.rs).
mod pair_main_first {
    use cli_telemetry::instrument_command;

    #[cli_telemetry::main]
    #[instrument_command]
    pub fn main() -> Result<std::process::ExitCode, String> {
        Ok(std::process::ExitCode::from(6))
    }
}

mod pair_command_first {
    #[cli_telemetry::instrument_command(name = "tool")]
    #[cli_telemetry::main]
    pub fn main() {}
}

mod pair_async {
    #[cli_telemetry::instrument_command]
    #[tokio::main(flavor = "current_thread")]
    #[cli_telemetry::main]
    pub async fn main() -> std::process::ExitCode {
        tokio::task::yield_now().await;
        std::process::ExitCode::from(8)
    }
}

#[test]
fn main_as_the_command_in_either_order() {
    assert_eq!(pair_main_first::main(), ExitCode::from(6));
    assert_eq!(pair_command_first::main(), ExitCode::SUCCESS);
    assert_eq!(pair_async::main(), ExitCode::from(8));
}

#[test]
fn every_return_type_gives_the_code_std_would() {
    assert_eq!(unit::main(), ExitCode::SUCCESS);
    assert_eq!(exit_code::main(), ExitCode::from(7));
    // `Err` prints `Error: "not a number"` on stderr, as std does, and exits 1.
    assert_eq!(result_err::main(), ExitCode::FAILURE);
    assert_eq!(result_exit_code::main(), ExitCode::from(3));
    assert_eq!(impl_termination::main(), ExitCode::from(9));
}

#[test]
fn async_main_under_tokio_in_either_order() {
    assert_eq!(tokio_outer::main(), ExitCode::from(4));
    assert_eq!(tokio_inner::main(), ExitCode::FAILURE);
    assert_eq!(tokio_multi_thread::main(), ExitCode::from(5));
}
