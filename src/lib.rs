//! Anonymous, transparent usage telemetry for [clap](https://docs.rs/clap)-based
//! command-line tools, in the style of werf's: one attribute on a command handler, one
//! line in `main`, and every run of that command reports `CommandStarted` and
//! `CommandExited` — command path, the *names* of the options the user set (never
//! values), exit code, duration — as OpenTelemetry spans, and to a local log file on
//! request.
//!
//! ```
//! use clap::{Parser, Subcommand};
//! use cli_telemetry::{instrument_command, Telemetry};
//!
//! #[derive(Parser)]
//! #[command(name = "mytool")]
//! struct Cli {
//!     #[command(subcommand)]
//!     command: Cmd,
//! }
//!
//! #[derive(Subcommand)]
//! enum Cmd {
//!     Deploy {
//!         #[arg(long)]
//!         target: String,
//!     },
//! }
//!
//! #[instrument_command]
//! fn deploy(target: &str) -> Result<(), std::io::Error> {
//!     println!("deploying to {target}");
//!     Ok(())
//! }
//!
//! fn main() {
//!     Telemetry::builder("mytool")                 // root command name = service.name
//!         .version(env!("CARGO_PKG_VERSION"))
//!         .endpoint("https://telemetry.example.com/v1/traces")
//!         .enabled_by_default(false)                // MYTOOL_TELEMETRY=1 turns it on
//!         .install();
//!     // Parses like `Cli::parse()` and records the command path and option names.
//!     let cli: Cli = cli_telemetry::parse_from(["mytool", "deploy", "--target", "prod"]);
//!     match cli.command {
//!         Cmd::Deploy { target } => deploy(&target).unwrap(),
//!     }
//! }
//! ```
//!
//! # What users of the tool control
//!
//! | variable | effect |
//! |---|---|
//! | `<PREFIX>_TELEMETRY` | `1/true/yes/on` or `0/false/no/off`; anything else is ignored |
//! | `DO_NOT_TRACK` | a true value switches telemetry off, whatever else is set |
//! | `<PREFIX>_TELEMETRY_DEBUG` | print events to stderr, one JSON per line, and send nothing |
//! | `<PREFIX>_TELEMETRY_LOG_FILE` | append every event and its delivery outcome to this file |
//! | `<PREFIX>_TELEMETRY_TRACE_URL` | the OTLP/HTTP traces endpoint |
//! | `<PREFIX>_TELEMETRY_TIMEOUT_MS` | the exit deadline (default 1300 ms) |
//! | `<PREFIX>_TELEMETRY_EXTRA_ATTRIBUTE_*` | `key=value` pairs added to `attributes.extra` |
//!
//! `PREFIX` is the application's (by default its name upper-cased).
//!
//! # The handler forms
//!
//! Sync and `async fn` handlers, methods and generic functions; the exit code comes from
//! the return value: `()` → 0, `Result` → 0 or 1 (or the error's [`ErrorExitCode`]),
//! integers and [`std::process::ExitCode`] → their value, a panic → 101.
//!
//! ```
//! use cli_telemetry::{instrument_command, testing::{Capture, Expect}, Telemetry};
//!
//! #[instrument_command(name = "mytool kube-run")]
//! fn kube_run(code: u8) -> std::process::ExitCode {
//!     std::process::ExitCode::from(code)
//! }
//!
//! let (_, events) = Capture::new(Telemetry::builder("mytool")).run(|| kube_run(3));
//! events.assert_events(&[
//!     Expect::started("mytool kube-run"),
//!     Expect::exited("mytool kube-run").exit_code(3),
//! ]);
//! ```
//!
//! With the builder API, hand the library your `ArgMatches` through [`get_matches`] (or
//! [`record`]); a handler taking `&ArgMatches` reads its options from that parameter.
//!
//! # Testing
//!
//! [`testing`] captures the events a piece of code emits, in-process and per thread, and
//! reads log files back for black-box tests of a built binary.
//!
//! # Cargo features
//!
//! - `telemetry` (default): without it `#[instrument_command]` expands to the unchanged
//!   function and no network code (reqwest, rustls, sha2, uuid) is built — for
//!   distribution packagers who want telemetry gone at compile time.
#![warn(missing_docs)]

pub use cli_telemetry_macros::instrument_command;
pub use cli_telemetry_runtime::*;
