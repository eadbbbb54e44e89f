//! Anonymous, transparent usage telemetry for [clap](https://docs.rs/clap)-based
//! command-line tools, in the style of werf's: one attribute on a command handler, one
//! line in `main`, and every run of that command reports `CommandStarted` and
//! `CommandExited` — command path, the *names* of the options the user set (never
//! values), exit code, duration — as OpenTelemetry spans, and to a local log file on
//! request.
//!
//! ```
//! use std::process::ExitCode;
//!
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
//!     /// Telemetry of this installation: status, enable, disable, reset.
//!     Telemetry(cli_telemetry::TelemetryArgs),
//! }
//!
//! #[instrument_command]
//! fn deploy(target: &str) -> Result<(), std::io::Error> {
//!     println!("deploying to {target}");
//!     Ok(())
//! }
//!
//! #[cli_telemetry::main] // CommandExited carries the code the process exits with
//! fn main() -> ExitCode {
//!     Telemetry::builder("mytool")                 // root command name = service.name
//!         .version(env!("CARGO_PKG_VERSION"))
//!         .endpoint("https://telemetry.example.com/v1/traces")
//!         .enabled_by_default(false)                // MYTOOL_TELEMETRY=1 turns it on
//!         .install();
//!     // Parses like `Cli::parse()` and records the command path and option names.
//!     let cli: Cli = cli_telemetry::parse_from(["mytool", "deploy", "--target", "prod"]);
//!     match cli.command {
//!         Cmd::Deploy { target } => match deploy(&target) {
//!             Ok(()) => ExitCode::SUCCESS,
//!             Err(_) => ExitCode::from(3), // reported as 3
//!         },
//!         Cmd::Telemetry(args) => args.run(), // `mytool telemetry status|enable|disable|reset`
//!     }
//! }
//! ```
//!
//! # A CLI without subcommands
//!
//! When the whole program is one command (git-cliff's, ripgrep's shape), put both
//! attributes on `fn main`, in either order: each run reports the root command, with its
//! options, duration and the process's exit code, although telemetry is installed inside
//! `main`. [`TelemetryFlag`] gives the person running it the lasting choice as
//! `--telemetry <status|enable|disable|reset>`; such runs are not reported.
//!
//! ```
//! use std::process::ExitCode;
//!
//! use clap::Parser;
//! use cli_telemetry::{instrument_command, Telemetry, TelemetryFlag};
//!
//! #[derive(Parser)]
//! #[command(name = "mytool")]
//! struct Cli {
//!     #[arg(long)]
//!     tag: Option<String>,
//!     #[command(flatten)]
//!     telemetry: TelemetryFlag,
//!     paths: Vec<String>,
//! }
//!
//! #[cli_telemetry::main]
//! #[instrument_command] // CommandStarted/CommandExited of `mytool`, with `--tag` if given
//! fn main() -> ExitCode {
//!     Telemetry::builder("mytool")
//!         .endpoint("https://telemetry.example.com/v1/traces")
//!         .install();
//!     let cli: Cli = cli_telemetry::parse_from(["mytool", "--tag", "v1", "a", "b"]);
//!     if let Some(code) = cli.telemetry.run() {
//!         return code; // `mytool --telemetry disable` and friends: not a run
//!     }
//!     assert_eq!(cli.paths.len(), 2);
//!     ExitCode::SUCCESS
//! }
//! ```
//!
//! `--help`, `--version` and clap's usage errors mean the same in every shape: help and
//! version are not runs; a usage error parsed by [`parse`] or [`get_matches`] (and their
//! `_from` forms) is a run of the deepest subcommand clap reached, without options, exit
//! code 2.
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
//! | `<PREFIX>_TELEMETRY_TIMEOUT_MS` | the exit deadline of the process (inline delivery; default 1300 ms) |
//! | `<PREFIX>_TELEMETRY_DELIVERY` | `detached` (sent after the exit by a background process) or `inline` |
//! | `<PREFIX>_TELEMETRY_SENDER_LIFE_MS` | the detached sender's longest life (default 10 s) |
//! | `<PREFIX>_TELEMETRY_PROTOCOL` | `http/json` (default) or `http/protobuf` |
//! | `<PREFIX>_TELEMETRY_SAMPLE_RATE` | keep this share of runs (0–1); lowers [`Telemetry::sample_rate`], never raises it |
//! | `<PREFIX>_TELEMETRY_HEADERS` | request headers, `name=value,…` (values never shown) |
//! | `SSL_CERT_FILE`, `SSL_CERT_DIR` | CA certificates to trust instead of the system's |
//! | `HTTPS_PROXY`, `HTTP_PROXY`, `ALL_PROXY`, `NO_PROXY` | proxies, as curl uses them |
//! | `<PREFIX>_TELEMETRY_EXTRA_ATTRIBUTE_*` | `key=value` pairs added to `attributes.extra` |
//!
//! `PREFIX` is the application's: by default its name upper-cased, every character other
//! than a letter or digit replaced by `_` (`git-cliff` → `GIT_CLIFF_TELEMETRY`), or what
//! [`Telemetry::env_prefix`] sets. The person's lasting choice (`<app> telemetry
//! enable|disable|reset`, [`TelemetryArgs`]; `<app> --telemetry …`, [`TelemetryFlag`]) is
//! kept in
//! `<config dir>/<app>/telemetry.json`; any explicit off wins, then any explicit on, then
//! the application's default.
//!
//! # Delivery
//!
//! With [`macro@main`] and outside CI, delivery is [`Delivery::Detached`]: every event goes
//! to a durable queue in the user's cache directory as soon as it is recorded, and one
//! background process of the same program (started while the command runs, never running
//! `main`'s body, with no descriptor of the command's and a bounded life) sends it after the
//! exit — which never waits for the network. In CI, without the attribute, or when asked
//! ([`Telemetry::delivery`], `<PREFIX>_TELEMETRY_DELIVERY=inline`), delivery is
//! [`Delivery::Inline`]: the process sends its events and waits for them at exit, within
//! one deadline per process. Either way an event leaves the queue only when its fate is
//! final, so a run killed by a signal loses nothing.
//!
//! # Exit codes
//!
//! With [`macro@main`] on `fn main` (sync, or `async` under `#[tokio::main]` in either
//! order), CommandExited waits until `main` returns and carries the code std derives from
//! its value; [`exit`] records its code from any thread; `std::process::exit` anywhere is
//! recorded with the process's code on Linux with glibc (its `on_exit` tells it), and with
//! the handler's code elsewhere on Unix. Without it (the fallback), and in
//! [`testing`] captures, the code comes from the handler's return value: `()` → 0;
//! `Result`: `Ok` → the status it carries ([`ExitStatus`]: integers, `ExitCode`, your
//! types) else 0, `Err` → 1 or the error's [`ErrorExitCode`]; integers and
//! [`std::process::ExitCode`] → their value; a panic → 101.
//!
//! # The handler forms
//!
//! Sync and `async fn` handlers, methods and generic functions.
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
//! An `async fn` handler reports when its future completes (or panics, 101); a future
//! dropped before completing reports [`__private::CANCELLED_EXIT_CODE`] (130). Its app
//! events follow it across threads.
//!
//! ```
//! use cli_telemetry::{instrument_command, testing::{Capture, Expect}, Telemetry};
//!
//! #[instrument_command(name = "werf build")]
//! async fn build(images: &[&str]) -> Result<(), String> {
//!     cli_telemetry::emit("BuildStarted", &serde_json::json!({ "imagesCount": images.len() }));
//!     Ok(())
//! }
//!
//! let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
//! let (_, events) = Capture::new(Telemetry::builder("werf")).run(|| rt.block_on(build(&["a", "b"])));
//! events.assert_events(&[
//!     Expect::started("werf build"),
//!     Expect::event("BuildStarted").data("imagesCount", 2),
//!     Expect::exited("werf build").exit_code(0),
//! ]);
//! ```
//!
//! Methods, generic handlers, `?` and early `return` behave as without the attribute; an
//! error type can tell its own exit code with [`ErrorExitCode`]; a handler called from
//! another one reports nothing of its own.
//!
//! ```
//! use cli_telemetry::{instrument_command, testing::{capture, Expect}, ErrorExitCode};
//!
//! #[derive(Debug)]
//! struct NotFound;
//! impl ErrorExitCode for NotFound {
//!     fn exit_code(&self) -> i32 { 4 }
//! }
//!
//! struct Kube;
//! impl Kube {
//!     #[instrument_command(name = "app get")]
//!     fn get<T: AsRef<str>>(&self, name: T) -> Result<String, NotFound> {
//!         if name.as_ref().is_empty() {
//!             return Err(NotFound);
//!         }
//!         let n: u32 = self.count()?;
//!         Ok(format!("{n} pod(s)")) // an `Ok` that carries no status: 0
//!     }
//!
//!     #[instrument_command(name = "app count")] // nested: silent
//!     fn count(&self) -> Result<u32, NotFound> { Ok(1) }
//! }
//!
//! let events = capture(|| { let _ = Kube.get(""); });
//! events.assert_events(&[Expect::started("app get"), Expect::exited("app get").exit_code(4)]);
//! let events = capture(|| { let _ = Kube.get("pods"); });
//! events.assert_events(&[Expect::started("app get"), Expect::exited("app get").exit_code(0)]);
//! ```
//!
//! With the builder API, hand the library the matches through [`get_matches`] (or
//! [`record`] after parsing yourself). Handlers may then take the `&ArgMatches` of any
//! level; the recorded command line is reported whole.
//!
//! ```
//! use clap::{Arg, ArgMatches, Command};
//! use cli_telemetry::{instrument_command, testing::{Capture, Expect}, Telemetry};
//!
//! #[instrument_command]
//! fn deploy(matches: &ArgMatches) {
//!     let _target = matches.get_one::<String>("target");
//! }
//!
//! let (_, events) = Capture::new(Telemetry::builder("tool")).run(|| {
//!     let cmd = Command::new("tool")
//!         .subcommand(Command::new("deploy").arg(Arg::new("target").long("target")));
//!     let m = cli_telemetry::get_matches_from(cmd, ["tool", "deploy", "--target", "prod"]);
//!     if let Some(("deploy", sub)) = m.subcommand() {
//!         deploy(sub);
//!     }
//! });
//! events.assert_events(&[
//!     Expect::started("tool deploy").options(["target"]),
//!     Expect::exited("tool deploy").exit_code(0),
//! ]);
//! ```
//!
//! Code that ends the process itself calls [`exit`], which records the code and delivers
//! pending events within the deadline first:
//!
//! ```no_run
//! #[cli_telemetry::instrument_command]
//! fn run() {
//!     cli_telemetry::exit(3); // CommandExited {exitCode: 3}, flushed, then exit(3)
//! }
//! ```
//!
//! Panics: with unwinding (the default) the panic is recorded (101) and flushed while it
//! unwinds, then continues unchanged. With `panic = "abort"` a panic hook records it after
//! the previous hook printed the message, then the process aborts as before (SIGABRT, 134
//! in a shell).
//!
//! # Testing
//!
//! [`testing`] captures the events a piece of code emits, in-process and per thread (with
//! what was not sent, and why), and tests the built binary as a black box:
//! [`testing::Collector`] is a real OTLP/HTTP receiver on 127.0.0.1 that gives the child an
//! environment of its own and waits for its complete runs, the detached sender's too.
//!
//! ```
//! use cli_telemetry::{instrument_command, testing::{capture, Expect}};
//!
//! #[instrument_command(name = "mytool deploy")]
//! fn deploy() {}
//!
//! let events = capture(deploy);
//! events.assert_events(&[
//!     Expect::started("mytool deploy"),
//!     Expect::exited("mytool deploy").exit_code(0),
//! ]);
//! ```
//!
//! # Cargo features
//!
//! - `builtin-http` (default): the built-in transport — an own HTTP/1.1 exchange over
//!   std's `TcpStream`, rustls on *ring* for https (*ring* also hashes project ids). About
//!   +1.8 MB to a small release binary (README, "Performance").
//! - `reqwest` (off): send through the application's own reqwest 0.13 instead, with the
//!   application's TLS back end: for tools that already have reqwest, it adds no second HTTP
//!   or TLS stack. Use `default-features = false, features = ["reqwest"]` so that the
//!   built-in transport is not compiled; when both are on, reqwest is used. Build the
//!   application's reqwest with a TLS feature for https endpoints (with
//!   `rustls-no-provider`, install the crypto provider before [`Telemetry::install`], or
//!   delivery fails with a line in the log file).
//! - `telemetry`: implied by either transport. With none of the three
//!   (`default-features = false`), `#[instrument_command]` and `#[cli_telemetry::main]`
//!   expand to the unchanged function and no network code is built — for distribution
//!   packagers who want telemetry gone at compile time.
//! - `tls12` (off): TLS 1.2 beside TLS 1.3 for the built-in transport (~75 KB), for an
//!   endpoint or inspecting proxy that speaks only 1.2; without it the built-in transport
//!   speaks TLS 1.3, as every current collector does.
//! - `webpki-roots` (off): compiled-in Mozilla roots for the built-in transport's https on
//!   systems without any CA certificate (a `scratch` container); elsewhere the system's
//!   store and `SSL_CERT_FILE` / `SSL_CERT_DIR` are used.
//!
//! Neither transport writes to the application's `log` logger or `tracing` subscriber.
//! The crates they run on do log (rustls, when some crate enables its `logging` feature;
//! reqwest and hyper-util always), at debug and trace level; so before each request the
//! library asks the logger and the subscriber whether they would keep such a record. If
//! they would — the person running the tool asked for debug output of everything, or of
//! those crates — the request is not made, its events are spooled for a later run, and
//! the log file says why.
#![warn(missing_docs)]
// docs.rs (`--cfg docsrs`, see Cargo.toml): each item badged with the features it needs.
#![cfg_attr(docsrs, feature(doc_cfg))]

pub use cli_telemetry_macros::instrument_command;
/// Put on `fn main`: CommandExited carries the code the process exits with (SPEC S-6).
/// See the crate documentation.
pub use cli_telemetry_macros::main;
pub use cli_telemetry_runtime::*;
