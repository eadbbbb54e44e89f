//! The people running the tool in control (SPEC S-14, S-15): the lasting choice
//! ([`set_enabled`], [`reset`]) and a ready-made `<app> telemetry status [--json] | enable
//! | disable | reset` subcommand ([`TelemetryArgs`]) the application adds in one line, and
//! for CLIs without subcommands the `--telemetry <action>` option ([`TelemetryFlag`]).

use std::ffi::OsString;
use std::io;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::builder::{PossibleValue, PossibleValuesParser};
use clap::{Arg, ArgAction, ArgMatches, Args, Command, FromArgMatches};

use crate::config::{AppConfig, Telemetry};
use crate::record::marks;

/// What a change of the lasting choice did.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Changed {
    /// The file the choice is kept in (`<config dir>/<app>/telemetry.json`).
    pub path: PathBuf,
    /// The spool of undelivered events was deleted (switching off).
    pub spool_deleted: bool,
}

impl Telemetry {
    /// Records the person's lasting choice: telemetry on or off for good, whatever the
    /// application's default (SPEC S-15). `DO_NOT_TRACK` and `<PREFIX>_TELEMETRY=0` still
    /// win over an `on` choice. Switching off also deletes the spool of undelivered events
    /// and the installation id.
    pub fn set_enabled(&self, on: bool) -> io::Result<Changed> {
        set_choice(&self.app, Some(on))
    }

    /// Forgets the lasting choice and the installation id: the application's default
    /// applies again.
    pub fn reset(&self) -> io::Result<Changed> {
        set_choice(&self.app, None)
    }
}

/// [`Telemetry::set_enabled`] for the installed telemetry; an error when nothing was
/// installed.
///
/// ```no_run
/// cli_telemetry_runtime::Telemetry::builder("mytool").install();
/// cli_telemetry_runtime::set_enabled(false).expect("recorded");
/// ```
pub fn set_enabled(on: bool) -> io::Result<Changed> {
    set_choice(installed()?, Some(on))
}

/// [`Telemetry::reset`] for the installed telemetry.
pub fn reset() -> io::Result<Changed> {
    set_choice(installed()?, None)
}

fn installed() -> io::Result<&'static AppConfig> {
    crate::api::installed_app()
        .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, "cli-telemetry is not installed"))
}

#[cfg(feature = "telemetry")]
fn set_choice(app: &AppConfig, on: Option<bool>) -> io::Result<Changed> {
    use crate::config::ProcessEnv;
    let path = app.choice_file(&ProcessEnv).ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::NotFound,
            "no configuration directory (neither XDG_CONFIG_HOME nor HOME is set)",
        )
    })?;
    let mut choice = crate::config::choice::current(&path);
    choice.enabled = on;
    if on != Some(true) {
        // Disable and reset delete the installation id (SPEC S-16).
        choice.installation_id = None;
    }
    crate::config::choice::write(&path, &choice)?;
    let mut spool_deleted = false;
    if on == Some(false) {
        if let Some(dir) = app.spool_dir(&ProcessEnv) {
            spool_deleted = dir.exists();
            crate::deliver::queue::Queue::new(dir).delete();
        }
    }
    Ok(Changed {
        path,
        spool_deleted,
    })
}

#[cfg(not(feature = "telemetry"))]
fn set_choice(_: &AppConfig, _: Option<bool>) -> io::Result<Changed> {
    Err(io::Error::new(
        io::ErrorKind::Unsupported,
        "this build has no telemetry (compiled out)",
    ))
}

/// `<app> telemetry …`: a ready-made subcommand. With clap's derive, one line in the
/// application's `Subcommand` enum adds it; it is not instrumented.
///
/// ```
/// use clap::{Parser, Subcommand};
///
/// #[derive(Parser)]
/// #[command(name = "mytool")]
/// struct Cli {
///     #[command(subcommand)]
///     command: Cmd,
/// }
///
/// #[derive(Subcommand)]
/// enum Cmd {
///     /// Telemetry of this installation: status, enable, disable, reset.
///     Telemetry(cli_telemetry_runtime::TelemetryArgs),
/// }
///
/// let cli = Cli::parse_from(["mytool", "telemetry", "status", "--json"]);
/// let Cmd::Telemetry(args) = cli.command;
/// assert_eq!(args.action, cli_telemetry_runtime::TelemetryAction::Status { json: true });
/// // In main: `Cmd::Telemetry(args) => return args.run(),`
/// ```
///
/// With the builder API: `.subcommand(cli_telemetry::telemetry_command())`, then
/// `TelemetryArgs::from_arg_matches(sub)?.run()`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TelemetryArgs {
    /// What to do.
    pub action: TelemetryAction,
}

/// The actions of [`TelemetryArgs`].
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum TelemetryAction {
    /// Whether telemetry is on, which setting decided, where events go, the next event.
    Status {
        /// Print one JSON object (schema: `Status::to_json`).
        json: bool,
    },
    /// Switch telemetry on for good.
    Enable,
    /// Switch telemetry off for good (deletes the spool and the installation id).
    Disable,
    /// Forget the choice (and the installation id): the application's default applies.
    Reset,
    /// (Hidden) print the catalog of the command tree as JSON: see [`TelemetryArgs::run_for`].
    Catalog,
}

/// The `telemetry` subcommand for the builder API.
pub fn telemetry_command() -> Command {
    TelemetryArgs::augment_args(
        Command::new("telemetry")
            .about("Telemetry of this installation: status, enable, disable, reset"),
    )
}

impl Args for TelemetryArgs {
    fn augment_args(cmd: Command) -> Command {
        cmd.subcommand_required(true)
            .subcommand(
                Command::new("status")
                    .about("Whether telemetry is on, why, where events go, and the next event")
                    .arg(
                        Arg::new("json")
                            .long("json")
                            .action(ArgAction::SetTrue)
                            .help("Print one JSON object"),
                    ),
            )
            .subcommand(Command::new("enable").about("Switch telemetry on for good"))
            .subcommand(Command::new("disable").about(
                "Switch telemetry off for good (deletes unsent events and the installation id)",
            ))
            .subcommand(
                Command::new("reset")
                    .about("Forget your choice and the installation id: the default applies"),
            )
            .subcommand(
                Command::new("catalog")
                    .hide(true)
                    .about(marks::CATALOG_ABOUT),
            )
    }

    fn augment_args_for_update(cmd: Command) -> Command {
        Self::augment_args(cmd)
    }
}

impl FromArgMatches for TelemetryArgs {
    fn from_arg_matches(matches: &ArgMatches) -> Result<Self, clap::Error> {
        let action = match matches.subcommand() {
            Some(("status", m)) => TelemetryAction::Status {
                json: m
                    .try_get_one::<bool>("json")
                    .ok()
                    .flatten()
                    .copied()
                    .unwrap_or(false),
            },
            Some(("enable", _)) => TelemetryAction::Enable,
            Some(("disable", _)) => TelemetryAction::Disable,
            Some(("reset", _)) => TelemetryAction::Reset,
            Some(("catalog", _)) => TelemetryAction::Catalog,
            _ => {
                return Err(clap::Error::raw(
                    clap::error::ErrorKind::MissingSubcommand,
                    "a telemetry action is required: status, enable, disable or reset\n",
                ))
            }
        };
        Ok(TelemetryArgs { action })
    }

    fn update_from_arg_matches(&mut self, matches: &ArgMatches) -> Result<(), clap::Error> {
        *self = Self::from_arg_matches(matches)?;
        Ok(())
    }
}

impl TelemetryArgs {
    /// Parses `telemetry …` arguments (the first is the subcommand's name).
    pub fn try_parse_from<I, T>(args: I) -> Result<Self, clap::Error>
    where
        I: IntoIterator<Item = T>,
        T: Into<OsString> + Clone,
    {
        Self::from_arg_matches(&telemetry_command().try_get_matches_from(args)?)
    }

    /// [`TelemetryArgs::run`], plus the hidden `catalog` action, which prints the catalog
    /// of `root` (the application's whole command tree) as one JSON object:
    /// `Cmd::Telemetry(args) => args.run_for(&Cli::command())`.
    pub fn run_for(&self, root: &Command) -> ExitCode {
        if self.action == TelemetryAction::Catalog {
            println!("{}", crate::catalog::catalog(root).to_json());
            return ExitCode::SUCCESS;
        }
        self.run()
    }

    /// Does it for the installed telemetry: prints the status, or one line saying what
    /// changed and how to undo it. Failure to record the choice is one line on stderr
    /// and exit code 1. (`catalog` needs the command tree: [`TelemetryArgs::run_for`].)
    pub fn run(&self) -> ExitCode {
        if self.action == TelemetryAction::Catalog {
            eprintln!("the catalog needs the command tree: call TelemetryArgs::run_for");
            return ExitCode::FAILURE;
        }
        if let TelemetryAction::Status { json } = self.action {
            crate::control::status::print_status(json);
            return ExitCode::SUCCESS;
        }
        let Some(app) = crate::api::installed_app() else {
            eprintln!("Telemetry is not set up in this program.");
            return ExitCode::FAILURE;
        };
        let name = &app.name;
        let result = match self.action {
            TelemetryAction::Enable => set_choice(app, Some(true)),
            TelemetryAction::Disable => set_choice(app, Some(false)),
            _ => set_choice(app, None),
        };
        let changed = match result {
            Ok(changed) => changed,
            Err(e) => {
                eprintln!("{name} telemetry: your choice could not be recorded: {e}");
                return ExitCode::FAILURE;
            }
        };
        let path = changed.path.display();
        let status = crate::control::status::status();
        let switch = marks::lasting_switch(name);
        let line = match self.action {
            TelemetryAction::Enable => {
                let mut line = format!(
                    "Telemetry of {name} is on from now on (your choice is kept in {path}); undo with `{switch} disable`, or `{switch} reset` for the default."
                );
                if let Some(s) = status.filter(|s| !s.enabled) {
                    line.push_str(&format!(
                        " Here it stays off: {}.",
                        s.decided_by.describe()
                    ));
                }
                line
            }
            TelemetryAction::Disable => format!(
                "Telemetry of {name} is off from now on (your choice is kept in {path}; unsent events and the installation id were deleted); undo with `{switch} enable`, or `{switch} reset` for the default."
            ),
            _ => {
                let now = status.map_or("off", |s| if s.enabled { "on" } else { "off" });
                format!(
                    "Your telemetry choice for {name} was forgotten (and its installation id deleted); it is {now} here now, by default or by your environment; choose again with `{switch} enable` or `disable`."
                )
            }
        };
        println!("{line}");
        ExitCode::SUCCESS
    }
}

/// `<app> --telemetry <status|enable|disable|reset>` (and `--telemetry status --json`): the
/// lasting choice for CLIs that have no subcommands, or whose root takes positionals, so
/// that a `telemetry` subcommand cannot be added. Flatten it into the root; `run()` performs
/// the action, or returns `None` when the option was not given. A run that performs the
/// action is not reported as a command, and the option is never listed among the options
/// used.
///
/// ```
/// use clap::Parser;
///
/// #[derive(Parser)]
/// #[command(name = "mytool")]
/// struct Cli {
///     #[command(flatten)]
///     telemetry: cli_telemetry_runtime::TelemetryFlag,
///     /// What to search for.
///     pattern: Option<String>,
/// }
///
/// let cli = Cli::parse_from(["mytool", "--telemetry", "status", "--json"]);
/// assert_eq!(
///     cli.telemetry.action,
///     Some(cli_telemetry_runtime::TelemetryAction::Status { json: true })
/// );
/// // In main, after parsing: `if let Some(code) = cli.telemetry.run() { return code; }`
/// assert!(Cli::try_parse_from(["mytool", "--telemetry", "maybe"]).is_err()); // exit 2
/// ```
///
/// To hide the option from `--help`, add `#[command(mut_arg("telemetry", |a| a.hide(true)))]`
/// to the struct that flattens it. With the builder API: `.arg(cli_telemetry::telemetry_flag())`,
/// then `TelemetryFlag::from_arg_matches(&matches)?.run()`. Give it alone: the option takes
/// one or two values (`status --json`), so a word right after the action is read as its
/// second value.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TelemetryFlag {
    /// The action asked for, or `None` when the option was not given.
    pub action: Option<TelemetryAction>,
}

/// The id (and long name) of [`TelemetryFlag`]'s option.
pub const TELEMETRY_FLAG_ID: &str = "telemetry";

/// The `--telemetry <ACTION>` option of [`TelemetryFlag`], for the builder API.
pub fn telemetry_flag() -> Arg {
    marks::use_flag_form();
    let values = marks::FLAG_VALUES
        .iter()
        .enumerate()
        .map(|(i, v)| PossibleValue::new(*v).hide(i >= marks::FLAG_SHOWN));
    Arg::new(TELEMETRY_FLAG_ID)
        .long(TELEMETRY_FLAG_ID)
        .value_names(["ACTION", "--json"])
        .num_args(1..=2)
        .allow_hyphen_values(true)
        .action(ArgAction::Set)
        .value_parser(PossibleValuesParser::new(values))
        .hide_possible_values(true)
        .help("Telemetry of this installation: status [--json], enable, disable, reset")
}

impl Args for TelemetryFlag {
    fn augment_args(cmd: Command) -> Command {
        cmd.arg(telemetry_flag())
    }

    fn augment_args_for_update(cmd: Command) -> Command {
        Self::augment_args(cmd)
    }
}

impl FromArgMatches for TelemetryFlag {
    fn from_arg_matches(matches: &ArgMatches) -> Result<Self, clap::Error> {
        let Ok(Some(values)) = matches.try_get_many::<String>(TELEMETRY_FLAG_ID) else {
            return Ok(TelemetryFlag::default());
        };
        let values: Vec<&str> = values.map(String::as_str).collect();
        let action = match values[..] {
            ["status"] => TelemetryAction::Status { json: false },
            ["status", "--json"] => TelemetryAction::Status { json: true },
            ["enable"] => TelemetryAction::Enable,
            ["disable"] => TelemetryAction::Disable,
            ["reset"] => TelemetryAction::Reset,
            ["catalog"] => TelemetryAction::Catalog,
            _ => {
                return Err(clap::Error::raw(
                    clap::error::ErrorKind::InvalidValue,
                    format!(
                        "invalid value '{}' for '--telemetry <ACTION>'\n  [possible values: status, status --json, enable, disable, reset]",
                        values.join(" ")
                    ),
                ))
            }
        };
        Ok(TelemetryFlag {
            action: Some(action),
        })
    }

    fn update_from_arg_matches(&mut self, matches: &ArgMatches) -> Result<(), clap::Error> {
        *self = Self::from_arg_matches(matches)?;
        Ok(())
    }
}

impl TelemetryFlag {
    /// Performs the action, as `<app> telemetry <action>` does ([`TelemetryArgs::run`]), and
    /// returns the exit code: `ExitCode::SUCCESS` when it was done (status printed, choice
    /// recorded), `ExitCode::FAILURE` (1) when the choice could not be recorded or
    /// telemetry was not installed, with one line on stderr; `None` when `--telemetry` was
    /// not given (the run goes on). For a `main` that returns `ExitCode`:
    /// `if let Some(code) = cli.telemetry.run() { return code; }`; for others, see
    /// [`TelemetryFlag::run_code`].
    pub fn run(&self) -> Option<ExitCode> {
        self.as_args().map(|args| args.run())
    }

    /// [`TelemetryFlag::run`] with the code as a number (0 done, 1 failed), for a `main`
    /// that returns `Result<(), E>` or an exit-code type of the application's:
    ///
    /// ```no_run
    /// # use clap::Parser;
    /// # #[derive(Parser)] struct Cli { #[command(flatten)] telemetry: cli_telemetry_runtime::TelemetryFlag }
    /// fn main() -> Result<(), Box<dyn std::error::Error>> {
    ///     let cli = Cli::parse();
    ///     if let Some(code) = cli.telemetry.run_code() {
    ///         std::process::exit(code); // an action, not a run: nothing is reported
    ///     }
    ///     Ok(())
    /// }
    /// ```
    pub fn run_code(&self) -> Option<i32> {
        self.run()
            .map(|code| if code == ExitCode::SUCCESS { 0 } else { 1 })
    }

    /// [`TelemetryFlag::run`], plus the hidden `--telemetry catalog`, which prints the
    /// catalog of `root` ([`TelemetryArgs::run_for`]).
    pub fn run_for(&self, root: &Command) -> Option<ExitCode> {
        self.as_args().map(|args| args.run_for(root))
    }

    fn as_args(&self) -> Option<TelemetryArgs> {
        self.action.clone().map(|action| TelemetryArgs { action })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    #[command(name = "t")]
    struct Cli {
        #[command(flatten)]
        telemetry: TelemetryFlag,
    }

    #[test]
    fn run_code_is_none_without_an_action_and_a_number_with_one() {
        let none = Cli::try_parse_from(["t"]).unwrap();
        assert_eq!(none.telemetry.run_code(), None);
        // Status is printed (here: "not set up"): done, 0.
        let status = Cli::try_parse_from(["t", "--telemetry", "status"]).unwrap();
        assert_eq!(status.telemetry.run_code(), Some(0));
        // Nothing installed in this test process: a choice can't be recorded, 1.
        let enable = Cli::try_parse_from(["t", "--telemetry", "enable"]).unwrap();
        assert_eq!(enable.telemetry.run_code(), Some(1));
    }
}
