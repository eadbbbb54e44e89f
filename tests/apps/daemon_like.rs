//! Fixture in the shape of a CLI that starts its own background server by forking after
//! telemetry is installed (sccache's `--start-server`, build daemons): `serve` forks; the
//! parent's handler returns at once and the process exits, while the child — a copy of the
//! process, telemetry's state included, but without its threads — works `--child-ms` and
//! then returns from the same handler and `main`. The child must record and send nothing
//! and must not wait for a sender thread that does not exist in it (SPEC R-6). It writes
//! its pid to `FIXTURE_CHILD_PID` first, so the test can watch it.
//!
//! `FIXTURE_SPOOL_DIR=<dir>` sets the queue's directory in code (relative paths allowed).
//! Tests: tests/sender_trust.rs.

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use cli_telemetry::{instrument_command, Telemetry};

#[derive(Parser)]
#[command(name = "daemonish", version)]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Start the background server.
    Serve {
        /// How long the forked server works before it exits.
        #[arg(long, default_value_t = 200)]
        child_ms: u64,
    },
    /// Ask the server something (no fork).
    Ping,
}

#[instrument_command]
fn serve(child_ms: u64) -> ExitCode {
    #[cfg(unix)]
    {
        // SAFETY: fork in a process whose other threads are the library's; the child only
        // sleeps, writes a file and returns, as daemons written in Rust do.
        let pid = unsafe { libc::fork() };
        if pid == 0 {
            // As daemons do: off the command's stdio, so the command's caller returns.
            // SAFETY: open and dup2 on the null device.
            unsafe {
                let null = libc::open(c"/dev/null".as_ptr(), libc::O_RDWR);
                for fd in 0..3 {
                    libc::dup2(null, fd);
                }
            }
            if let Some(file) = std::env::var_os("FIXTURE_CHILD_PID") {
                let _ = std::fs::write(file, std::process::id().to_string());
            }
            std::thread::sleep(std::time::Duration::from_millis(child_ms));
            return ExitCode::SUCCESS;
        }
    }
    let _ = child_ms;
    println!("server started");
    ExitCode::SUCCESS
}

#[instrument_command]
fn ping() {
    println!("pong");
}

#[cli_telemetry::main]
fn main() -> ExitCode {
    let mut telemetry = Telemetry::builder("daemonish")
        .env_prefix("APP")
        .version(env!("CARGO_PKG_VERSION"))
        .endpoint("https://telemetry.invalid/v1/traces");
    if let Some(dir) = std::env::var_os("FIXTURE_SPOOL_DIR") {
        telemetry = telemetry.spool_dir(Some(dir.into()));
    }
    telemetry.install();
    let cli: Cli = cli_telemetry::parse();
    match cli.command {
        Cmd::Serve { child_ms } => serve(child_ms),
        Cmd::Ping => {
            ping();
            ExitCode::SUCCESS
        }
    }
}
