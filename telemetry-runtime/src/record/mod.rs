//! Record: what happened in this run, as events (SPEC S-1 to S-6, S-11).
//!
//! - `state`: the installed runtime, the command running on each thread, the commands of the
//!   process whose CommandExited is not sent yet (held for `main`'s code), and `exit_all`;
//!   events leave it through the `Sink` trait, which delivery (and [`crate::testing`]'s
//!   capture) implement — so this part never names either;
//! - `invocation`: parsed matches → command path and option names (never values), and the
//!   path a usage error reached;
//! - `marks`: how the library's own `--telemetry` option and `telemetry` subcommand are
//!   told from the application's (their runs are not command runs);
//! - `ends`: how a run ends: `exit_all` (the process's code for every open command), the
//!   C library's exit handler's end, help and version (not runs), usage errors;
//! - [`exit`]: exit codes of handler return types; `probe`: how generated code finds a
//!   return value's exit code and error category; `at_exit`: CommandExited when the
//!   process ends by `std::process::exit`;
//! - [`attributes`]: os/arch in Go's names, CI, group channel, extra attributes;
//!   `context`: the AI agent running the process and the container it runs in;
//! - `project` and `digest`: the project id, SHA-256 of the normalized git origin;
//! - `guard`: the library's mutexes, counted per thread, so that the abort build's panic
//!   hook never locks one its own thread holds.
//!
//! It offers `Runtime`, `Sink`, the command life cycle (`begin`, `ActiveCommand::end`,
//! `ends::exit_all`, `main_is_command`), `attributes::detect` and `project::project_id_for_dir`; it imports only
//! `config` and the event vocabulary.

pub(crate) mod attributes;
pub(crate) mod context;
pub(crate) mod exit;
#[cfg(feature = "telemetry")]
pub(crate) mod guard;
pub(crate) mod marks;
pub(crate) mod probe;

#[cfg(feature = "telemetry")]
pub(crate) mod at_exit;
#[cfg(feature = "telemetry")]
pub(crate) mod digest;
#[cfg(feature = "telemetry")]
pub(crate) mod ends;
#[cfg(feature = "telemetry")]
pub(crate) mod invocation;
#[cfg(feature = "telemetry")]
pub(crate) mod project;
#[cfg(feature = "telemetry")]
pub(crate) mod state;
