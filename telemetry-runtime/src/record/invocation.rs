//! What clap parsed, reduced to what telemetry may know: the command path (SPEC S-2) and
//! the names of the options the user set (SPEC S-3). Values are never read.

use std::ffi::OsString;
use std::sync::Arc;

use clap::parser::ValueSource;
use clap::{ArgAction, ArgMatches, Command};

use super::marks;
use crate::event::OptionUsage;

/// The command path and option usage of one parsed command line.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Invocation {
    pub command: Arc<str>,
    pub options: Vec<OptionUsage>,
    /// The command line asks for a telemetry action (the library's `--telemetry` option or
    /// `telemetry` subcommand, [`super::marks`]): not a command run.
    pub control: bool,
}

impl Invocation {
    /// Reads `matches` against the *built* `cmd` (after parsing, or after `Command::build`),
    /// whose argument metadata (long names, actions, positionals) it needs. Never panics,
    /// also when `matches` come from another command.
    pub(crate) fn from_matches(cmd: &Command, matches: &ArgMatches) -> Invocation {
        let mut path = cmd.get_name().to_owned();
        let mut options = Vec::new();
        let mut control = false;
        let (mut cmd, mut matches) = (cmd, matches);
        loop {
            control |= collect_options(cmd, matches, &mut options);
            let Some((name, sub_matches)) = matches.subcommand() else {
                break;
            };
            let Some(sub) = cmd.find_subcommand(name) else {
                break;
            };
            control |= marks::is_telemetry_subcommand(sub);
            path.push(' ');
            path.push_str(sub.get_name());
            cmd = sub;
            matches = sub_matches;
        }
        Invocation {
            command: path.into(),
            options,
            control,
        }
    }

    /// The command path a usage error reached: the deepest subcommand clap gets to in
    /// `args` when it parses them again leniently (errors ignored), the root if none. `cmd` is the application's command, before parsing or as
    /// the failed parse left it.
    pub(crate) fn usage_path(cmd: Command, args: &[OsString]) -> Arc<str> {
        let root = cmd.get_name().to_owned();
        // clap's own checks of a command tree (debug builds) ran when the app's parse built
        // it; should one still object to the lenient settings, the path is the root's.
        let reached = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            lenient(cmd)
                .try_get_matches_from(args)
                .ok()
                .map(|m| Invocation::path_only(&root, &m).command)
        }));
        reached
            .ok()
            .flatten()
            .unwrap_or_else(|| root.as_str().into())
    }
}

/// `cmd` and its subcommands parsing whatever they can (SPEC S-11: the path of a usage
/// error). With errors ignored clap stops at the first one, so a help or version flag after
/// it is never read (and one before it would have been clap's answer, not an error): the
/// command may be fresh, or built by the parse that failed.
fn lenient(cmd: Command) -> Command {
    let names: Vec<String> = cmd
        .get_subcommands()
        .map(|s| s.get_name().to_owned())
        .collect();
    let mut cmd = cmd
        .ignore_errors(true)
        .disable_help_flag(true)
        .disable_version_flag(true)
        .disable_help_subcommand(true);
    for name in names {
        cmd = cmd.mut_subcommand(name, lenient);
    }
    cmd
}

impl Invocation {
    /// The command path of `matches` under the root command `root`, without options.
    pub(crate) fn path_only(root: &str, matches: &ArgMatches) -> Invocation {
        let mut path = root.to_owned();
        let mut m = matches;
        while let Some((name, sub)) = m.subcommand() {
            path.push(' ');
            path.push_str(name);
            m = sub;
        }
        Invocation {
            command: path.into(),
            ..Invocation::default()
        }
    }
}

/// Adds the options of one level to `out` (sorted by name, one entry per name). A global option appears at every level with the same
/// source; the deepest level wins and counts are not added, so each is reported once. The
/// library's own `--telemetry` option is never listed: true when it was given.
fn collect_options(cmd: &Command, matches: &ArgMatches, out: &mut Vec<OptionUsage>) -> bool {
    let mut control = false;
    // `value_source` panics (in debug builds) for ids the matches don't know: ask only for
    // ids that are present.
    let present: Vec<&str> = matches.ids().map(|id| id.as_str()).collect();
    for arg in cmd.get_arguments() {
        if arg.is_positional()
            || matches!(
                arg.get_action(),
                ArgAction::Help | ArgAction::HelpShort | ArgAction::HelpLong | ArgAction::Version
            )
        {
            continue;
        }
        let id = arg.get_id().as_str();
        if !present.contains(&id) {
            continue;
        }
        let (as_cli, as_env) = match matches.value_source(id) {
            Some(ValueSource::CommandLine) => (true, false),
            Some(ValueSource::EnvVariable) => (false, true),
            _ => continue,
        };
        if marks::is_telemetry_flag(arg) {
            control = true;
            continue;
        }
        let count = if as_cli {
            occurrences(arg.get_action(), matches, id)
        } else {
            0
        };
        let name = arg.get_long().unwrap_or(id);
        // Kept sorted by name as it grows (no sort, no map: less code in every binary).
        let usage = OptionUsage {
            name: name.to_owned(),
            as_cli,
            as_env,
            count,
        };
        match out.binary_search_by(|o| o.name.as_str().cmp(name)) {
            Ok(at) => out[at] = usage,
            Err(at) => out.insert(at, usage),
        }
    }
    control
}

fn occurrences(action: &ArgAction, matches: &ArgMatches, id: &str) -> u64 {
    if matches!(action, ArgAction::Count) {
        // `-vvv` is one raw occurrence; the count is the value.
        if let Ok(Some(n)) = matches.try_get_one::<u8>(id) {
            return u64::from(*n);
        }
    }
    match matches.try_get_raw_occurrences(id) {
        Ok(Some(occ)) => occ.count() as u64,
        _ => 1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::{Arg, CommandFactory, FromArgMatches, Parser, Subcommand};

    #[derive(Parser, Debug)]
    #[command(name = "werf")]
    struct Cli {
        #[arg(long, global = true, env = "INVOCATION_TEST_DIR")]
        dir: Option<String>,
        #[arg(short, long, global = true, action = ArgAction::Count)]
        verbose: u8,
        #[command(subcommand)]
        command: Cmd,
    }

    #[derive(Subcommand, Debug)]
    enum Cmd {
        Converge {
            #[arg(long, env = "INVOCATION_TEST_REPO")]
            repo: Option<String>,
            #[arg(long = "env", env = "INVOCATION_TEST_ENV")]
            environment: Option<String>,
            #[arg(long, action = ArgAction::Append)]
            set: Vec<String>,
            #[arg(long)]
            dev: bool,
            #[arg(long, default_value_t = 5)]
            parallel_tasks_limit: u32,
            #[arg(long = "repo-url", id = "repo_url")]
            repo_url: Option<String>,
        },
        Build {
            images: Vec<String>,
        },
        Helm {
            #[command(subcommand)]
            command: Helm,
        },
    }

    #[derive(Subcommand, Debug)]
    enum Helm {
        #[command(visible_alias = "gr")]
        GetRelease {
            #[arg(long)]
            namespace: String,
        },
    }

    fn parse(args: &[&str]) -> Invocation {
        let mut cmd = Cli::command();
        let matches = cmd.try_get_matches_from_mut(args).expect("parses");
        // The typed value parses from the same matches: telemetry reads without consuming.
        Cli::from_arg_matches(&matches).expect("typed parse");
        Invocation::from_matches(&cmd, &matches)
    }

    fn usage(name: &str, as_cli: bool, as_env: bool, count: u64) -> OptionUsage {
        OptionUsage {
            name: name.into(),
            as_cli,
            as_env,
            count,
        }
    }

    #[test]
    fn command_path_follows_the_invoked_subcommands() {
        assert_eq!(&*parse(&["werf", "converge"]).command, "werf converge");
        assert_eq!(
            &*parse(&["werf", "helm", "get-release", "--namespace", "n"]).command,
            "werf helm get-release"
        );
    }

    #[test]
    fn aliases_report_the_real_name_and_bin_name_is_ignored() {
        assert_eq!(
            &*parse(&["/usr/bin/werf-renamed", "helm", "gr", "--namespace", "n"]).command,
            "werf helm get-release"
        );
    }

    #[test]
    fn count_flag_given_three_times() {
        assert_eq!(
            parse(&["werf", "-vvv", "converge"]).options,
            vec![usage("verbose", true, false, 3)]
        );
        // A global given at two levels: clap keeps the deepest occurrence (the app sees 2),
        // and so does telemetry: it reports what the app got, once.
        assert_eq!(
            parse(&["werf", "-v", "converge", "--verbose", "-v"]).options,
            vec![usage("verbose", true, false, 2)]
        );
    }

    #[test]
    fn append_option_given_twice() {
        assert_eq!(
            parse(&["werf", "converge", "--set", "a=1", "--set", "b=2"]).options,
            vec![usage("set", true, false, 2)]
        );
    }

    #[test]
    fn defaults_are_absent_but_explicit_default_values_are_listed() {
        assert_eq!(parse(&["werf", "converge"]).options, vec![]);
        assert_eq!(
            parse(&["werf", "converge", "--parallel-tasks-limit", "5"]).options,
            vec![usage("parallel-tasks-limit", true, false, 1)]
        );
    }

    #[test]
    fn set_true_flag_absent_unless_given() {
        assert_eq!(parse(&["werf", "converge"]).options, vec![]);
        assert_eq!(
            parse(&["werf", "converge", "--dev"]).options,
            vec![usage("dev", true, false, 1)]
        );
    }

    #[test]
    fn global_option_before_the_subcommand_is_reported_once() {
        assert_eq!(
            parse(&["werf", "--dir", "/secret/path", "converge"]).options,
            vec![usage("dir", true, false, 1)]
        );
        assert_eq!(
            parse(&["werf", "-v", "helm", "get-release", "--namespace", "n"]).options,
            vec![
                usage("namespace", true, false, 1),
                usage("verbose", true, false, 1)
            ]
        );
    }

    #[test]
    fn positionals_are_never_listed() {
        assert_eq!(parse(&["werf", "build", "img-a", "img-b"]).options, vec![]);
    }

    #[test]
    fn long_name_is_reported_when_id_differs() {
        assert_eq!(
            parse(&["werf", "converge", "--repo-url", "u"]).options,
            vec![usage("repo-url", true, false, 1)]
        );
        assert_eq!(
            parse(&["werf", "converge", "--env", "prod"]).options,
            vec![usage("env", true, false, 1)]
        );
    }

    #[test]
    fn value_only_from_env_var() {
        // A command and variable of this test alone: no other test reads or writes it.
        // clap reads the variable when the Arg is built.
        std::env::set_var("INVOCATION_TEST_ONLY_ENV", "prod");
        let mut cmd = Command::new("werf").subcommand(
            Command::new("converge")
                .arg(Arg::new("repo").long("repo"))
                .arg(
                    Arg::new("environment")
                        .long("env")
                        .env("INVOCATION_TEST_ONLY_ENV"),
                ),
        );
        let m = cmd.try_get_matches_from_mut(["werf", "converge", "--repo", "x"]);
        std::env::remove_var("INVOCATION_TEST_ONLY_ENV");
        let inv = Invocation::from_matches(&cmd, &m.unwrap());
        assert_eq!(
            inv.options,
            vec![usage("env", false, true, 0), usage("repo", true, false, 1)]
        );
    }

    #[test]
    fn names_sorted_and_unique() {
        let inv = parse(&[
            "werf", "-v", "--dir", "d", "converge", "--set", "a", "--dev", "--repo", "r", "-v",
        ]);
        let names: Vec<_> = inv.options.iter().map(|o| o.name.as_str()).collect();
        assert_eq!(names, ["dev", "dir", "repo", "set", "verbose"]);
    }

    #[test]
    fn builder_api_and_no_short_or_long() {
        let mut cmd = Command::new("tool")
            .arg(Arg::new("level").short('l').action(ArgAction::Set))
            .arg(Arg::new("file"))
            .subcommand(
                Command::new("run").arg(Arg::new("fast").long("fast").action(ArgAction::SetTrue)),
            );
        let m = cmd
            .try_get_matches_from_mut(["tool", "-l", "3", "f.txt", "run", "--fast"])
            .unwrap();
        let inv = Invocation::from_matches(&cmd, &m);
        assert_eq!(&*inv.command, "tool run");
        assert_eq!(
            inv.options,
            vec![
                usage("fast", true, false, 1),
                usage("level", true, false, 1)
            ]
        );
    }

    fn usage_path(args: &[&str]) -> String {
        let args: Vec<OsString> = args.iter().map(OsString::from).collect();
        Invocation::usage_path(Cli::command(), &args).to_string()
    }

    #[test]
    fn a_usage_error_reaches_the_deepest_subcommand_clap_gets_to() {
        assert_eq!(
            usage_path(&["werf", "converge", "--bogus"]),
            "werf converge"
        );
        assert_eq!(
            usage_path(&["werf", "--dir", "d", "helm", "gr", "--namespace"]),
            "werf helm get-release"
        );
        assert_eq!(usage_path(&["werf", "helm"]), "werf helm");
        assert_eq!(usage_path(&["werf", "nosuch", "converge"]), "werf");
        assert_eq!(usage_path(&["werf"]), "werf");
        // A help flag after the error does not stop the walk.
        assert_eq!(
            usage_path(&["werf", "converge", "--bogus", "--help"]),
            "werf converge"
        );
        // Non-UTF-8 arguments and an empty command line never panic.
        #[cfg(unix)]
        {
            use std::os::unix::ffi::OsStringExt;
            let args = vec![OsString::from("werf"), OsString::from_vec(vec![0xff, 0xfe])];
            assert_eq!(&*Invocation::usage_path(Cli::command(), &args), "werf");
        }
        assert_eq!(&*Invocation::usage_path(Cli::command(), &[]), "werf");
        // The command as a failed parse left it (built): what `get_matches_from` hands over,
        // so that a run that parses cleanly clones nothing.
        for (args, path) in [
            (
                &["werf", "converge", "--bogus", "--help"][..],
                "werf converge",
            ),
            (
                &["werf", "helm", "gr", "-V", "--namespace"],
                "werf helm get-release",
            ),
            (&["werf", "--bogus", "converge", "--help"], "werf"),
        ] {
            let mut built = Cli::command();
            assert!(built.try_get_matches_from_mut(args).is_err());
            let args: Vec<OsString> = args.iter().map(OsString::from).collect();
            assert_eq!(&*Invocation::usage_path(built, &args), path, "{args:?}");
        }
    }

    #[test]
    fn the_librarys_own_telemetry_option_and_subcommand_are_control_not_options() {
        let flag = Arg::new("telemetry")
            .long("telemetry")
            .num_args(1..=2)
            .value_parser(marks::FLAG_VALUES);
        let mut cmd = Command::new("tool")
            .arg(Arg::new("fast").long("fast").action(ArgAction::SetTrue))
            .arg(flag);
        let m = cmd
            .try_get_matches_from_mut(["tool", "--fast", "--telemetry", "status"])
            .unwrap();
        let inv = Invocation::from_matches(&cmd, &m);
        assert!(inv.control);
        assert_eq!(inv.options, vec![usage("fast", true, false, 1)]);
        // An app's own `--telemetry` with other values is an ordinary option.
        let mut own = Command::new("tool").arg(Arg::new("telemetry").long("telemetry"));
        let m = own
            .try_get_matches_from_mut(["tool", "--telemetry", "x"])
            .unwrap();
        let inv = Invocation::from_matches(&own, &m);
        assert!(!inv.control);
        assert_eq!(inv.options, vec![usage("telemetry", true, false, 1)]);
        // Not given: not control.
        let m = cmd.try_get_matches_from_mut(["tool"]).unwrap();
        assert!(!Invocation::from_matches(&cmd, &m).control);
        // The ready-made subcommand, recognised by its hidden `catalog`.
        let telemetry = |about: &'static str| {
            Command::new("telemetry")
                .subcommand(Command::new("status"))
                .subcommand(Command::new("catalog").hide(true).about(about))
        };
        for (about, control) in [(marks::CATALOG_ABOUT, true), ("the app's own", false)] {
            let mut cmd = Command::new("tool").subcommand(telemetry(about));
            let m = cmd
                .try_get_matches_from_mut(["tool", "telemetry", "status"])
                .unwrap();
            assert_eq!(
                Invocation::from_matches(&cmd, &m).control,
                control,
                "{about}"
            );
        }
    }

    #[test]
    fn mismatched_command_and_matches_do_not_panic() {
        let mut other = Command::new("other").arg(Arg::new("x").long("x"));
        let m = other
            .try_get_matches_from_mut(["other", "--x", "1"])
            .unwrap();
        let inv = Invocation::from_matches(&Cli::command(), &m);
        assert_eq!(&*inv.command, "werf");
        assert!(inv.options.is_empty());
    }
}
