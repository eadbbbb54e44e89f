//! The functions an application calls: install, parse through the library, record what it
//! parsed, emit its own events, exit with a code.

use std::ffi::OsString;
use std::sync::OnceLock;

use clap::{ArgMatches, Command, Parser};

use crate::config::{AppConfig, Telemetry};

/// The installed application settings (first [`Telemetry::install`] wins).
static APP: OnceLock<AppConfig> = OnceLock::new();

pub(crate) fn installed_app() -> Option<&'static AppConfig> {
    APP.get()
}

impl Telemetry {
    /// Reads the environment once and installs these settings for the whole process.
    /// Call it first thing in `main`; later calls keep the first installation. Returns
    /// whether telemetry is on.
    ///
    /// When telemetry is off this costs a few environment reads: no thread, no file, no
    /// socket, no git lookup.
    pub fn install(self) -> bool {
        let _ = APP.set(self.app.clone());
        #[cfg(feature = "telemetry")]
        {
            crate::record::state::install(|| runtime(self.app))
        }
        #[cfg(not(feature = "telemetry"))]
        {
            false
        }
    }
}

/// The process's runtime for `app`: the environment's decision, and the sender that delivers
/// its events. Off: undelivered events of earlier runs are deleted too. On, but this run
/// not among the sampled ones: as off, the queue kept. On only by the app's default: the
/// first-run notice is shown first, and if it can't be recorded as shown, nothing is sent
/// at all (SPEC S-12).
#[cfg(feature = "telemetry")]
fn runtime(app: AppConfig) -> crate::record::state::Runtime {
    use crate::config::{Decision, ProcessEnv, Settings};
    let mut settings = Settings::from_env(&app, &ProcessEnv);
    if !settings.enabled {
        if let Some(dir) = app.spool_dir(&ProcessEnv) {
            crate::deliver::queue::Queue::new(dir).delete();
        }
    } else if !crate::config::sampling::keep(settings.sample_rate) {
        // Sampled out (SPEC S-20): this run costs what "off" costs, and keeps the queue.
        settings.enabled = false;
    } else if settings.decision == (Decision::AppDefault { on: true }) {
        if let Some(text) = &app.notice {
            if crate::config::notice::show(&app, &ProcessEnv, text).is_err() {
                settings.enabled = false;
            }
        }
    }
    if settings.enabled {
        // `std::process::exit` anywhere still records CommandExited.
        crate::record::at_exit::register();
    }
    let sender = crate::deliver::sender::Sender::new(app.clone(), settings.clone());
    crate::record::state::Runtime::new(app, settings, std::sync::Arc::new(sender), true)
}

/// Whether events are being recorded on this thread (telemetry installed and on, or a
/// [`crate::testing`] capture running).
pub fn is_enabled() -> bool {
    #[cfg(feature = "telemetry")]
    {
        crate::record::state::current().is_some()
    }
    #[cfg(not(feature = "telemetry"))]
    {
        false
    }
}

/// Parses `std::env::args_os()` into `P` exactly like [`Parser::parse`] (same help,
/// errors and exit codes) and records the command path and option usage for
/// `#[instrument_command]` handlers.
pub fn parse<P: Parser>() -> P {
    parse_from(std::env::args_os())
}

/// [`parse`] with explicit arguments (the first is the binary name).
///
/// `--help` and `--version` are not runs: nothing is reported, also when the parse happens
/// inside an instrumented handler (its command is dropped). A usage error is reported as a
/// run of the deepest subcommand clap reached (the root if none), without options, exit
/// code 2, before the process exits. clap's output and exit code are unchanged.
pub fn parse_from<P, I, T>(args: I) -> P
where
    P: Parser,
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    // One path whether telemetry is on or off (recording is then a no-op): clap's
    // `P::parse_from` would be a second copy of the app's parser in its binary.
    let args: Vec<OsString> = args.into_iter().map(Into::into).collect();
    try_parse_recorded::<P>(&args).unwrap_or_else(|e| clap_exit(e, P::command(), &args))
}

/// clap's help, version or usage error ends the process (SPEC S-11). Help and version are
/// not runs: commands that have not reported CommandStarted are dropped. A usage error is a
/// run of the deepest subcommand clap reached in `args` under `cmd` (the app's command),
/// without options, CommandExited 2. Either way what is pending is delivered (or handed
/// off) first; clap's output and exit code are unchanged.
fn clap_exit(err: clap::Error, cmd: Command, args: &[OsString]) -> ! {
    #[cfg(feature = "telemetry")]
    if crate::record::state::maybe_active() {
        use crate::record::ends;
        let code = err.exit_code();
        if code == 0 {
            ends::not_a_run();
        } else {
            ends::usage_error(crate::record::invocation::Invocation::usage_path(cmd, args));
        }
        ends::exit_all(code);
    }
    #[cfg(not(feature = "telemetry"))]
    let _ = (cmd, args);
    err.exit()
}

/// [`parse_from`] returning clap's error instead of exiting. What the application then does
/// with the error decides what is reported: the code the process exits with, as for any
/// run. ([`parse_from`] gives help, version and usage errors their own meaning.)
pub fn try_parse_from<P, I, T>(args: I) -> Result<P, clap::Error>
where
    P: Parser,
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let args: Vec<OsString> = args.into_iter().map(Into::into).collect();
    try_parse_recorded::<P>(&args)
}

fn try_parse_recorded<P: Parser>(args: &[OsString]) -> Result<P, clap::Error> {
    let mut cmd = P::command();
    let mut matches = cmd.try_get_matches_from_mut(args)?;
    record(&cmd, &matches);
    P::from_arg_matches_mut(&mut matches).map_err(|e| e.format(&mut P::command()))
}

/// Builder API: [`Command::get_matches`] that also records the command path and option
/// usage for `#[instrument_command]` handlers.
pub fn get_matches(cmd: Command) -> ArgMatches {
    get_matches_from(cmd, std::env::args_os())
}

/// [`get_matches`] with explicit arguments (the first is the binary name).
///
/// Help, version and usage errors mean what they mean for [`parse_from`].
pub fn get_matches_from<I, T>(mut cmd: Command, args: I) -> ArgMatches
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let args: Vec<OsString> = args.into_iter().map(Into::into).collect();
    match cmd.try_get_matches_from_mut(&args) {
        Ok(matches) => {
            record(&cmd, &matches);
            matches
        }
        Err(e) => clap_exit(e, cmd, &args),
    }
}

/// Records what the application parsed itself. `cmd` must be the command `matches` came
/// from, after parsing (`get_matches_mut`) or [`Command::build`]. Cheap no-op when
/// telemetry is off.
///
/// It may be called inside an instrumented handler (a tool that parses in its `run`):
/// the running command's CommandStarted then carries these options. Matches that ask for a
/// telemetry action ([`crate::TelemetryFlag`], [`crate::TelemetryArgs`]) make the run one
/// that is not reported.
pub fn record(cmd: &Command, matches: &ArgMatches) {
    #[cfg(feature = "telemetry")]
    if let Some(rt) = crate::record::state::current() {
        if rt.record(cmd, matches) {
            crate::record::state::recorded(&rt);
        } else {
            // `--telemetry <action>` or `telemetry …`: not a command run (SPEC S-11).
            crate::record::ends::not_a_run();
        }
    }
    #[cfg(not(feature = "telemetry"))]
    let _ = (cmd, matches);
}

/// Emits an application-defined event inside the instrumented command running on this
/// thread; it shares the envelope (`command`, `executionID`, …) of that command. `data`
/// becomes `eventData` and must serialize to a JSON object. Outside an instrumented
/// command, or with telemetry off, nothing happens.
///
/// ```
/// cli_telemetry_runtime::emit("BuildStarted", &serde_json::json!({ "imagesCount": 2 }));
/// ```
pub fn emit<T: serde::Serialize + ?Sized>(event_type: &str, data: &T) {
    #[cfg(feature = "telemetry")]
    {
        if !crate::record::state::maybe_active() {
            return;
        }
        let Ok(serde_json::Value::Object(map)) = serde_json::to_value(data) else {
            return;
        };
        crate::record::state::with_current(|cmd| cmd.emit(event_type, map));
    }
    #[cfg(not(feature = "telemetry"))]
    let _ = (event_type, data);
}

/// Names the kind of failure of the instrumented command running on this thread (SPEC
/// S-22): CommandExited carries `label` as `eventData.errorCategory` if the command fails
/// (a non-zero exit code). For applications whose errors are not their own types
/// (`anyhow`); for those that are, implement [`crate::ErrorCategory`]. A label is
/// `[a-z0-9._-]`, 1 to 64 characters, chosen by the application — never text from the
/// error. `#[instrument_command]` checks a literal label in the handler's body at compile
/// time; any other that is not a label is dropped, with a note in the log file (and on
/// stderr in debug mode). The last call wins; outside an instrumented command, or with
/// telemetry off, nothing happens.
///
/// ```
/// cli_telemetry_runtime::error_category("registry-unreachable");
/// ```
pub fn error_category(label: &str) {
    #[cfg(feature = "telemetry")]
    {
        if !crate::record::state::maybe_active() {
            return;
        }
        crate::record::state::with_current(|cmd| cmd.set_category(label));
    }
    #[cfg(not(feature = "telemetry"))]
    let _ = label;
}

/// Records CommandExited with `code` for the instrumented commands of the process — the one
/// running on this or any other thread (a Ctrl-C handler's thread), and any that returned
/// and wait for `main`'s code under `#[cli_telemetry::main]` — delivers pending events
/// within what is left of the deadline, then exits the process with `code`: use it where
/// the program would call [`std::process::exit`], in a handler or in `main`.
pub fn exit(code: i32) -> ! {
    #[cfg(feature = "telemetry")]
    if crate::record::state::maybe_active() {
        crate::record::ends::exit_all(code);
    }
    std::process::exit(code)
}
