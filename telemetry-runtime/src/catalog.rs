//! The catalog (SPEC S-18): every command path and every option of a clap command tree,
//! named exactly as events name them — the denominator that makes "which options are never
//! used?" answerable. Load it next to the events (examples/backend/).

use clap::{ArgAction, Command, CommandFactory};
use serde::Serialize;

/// Every command path of an application and the options under each.
///
/// ```
/// use clap::{Arg, ArgAction, Command};
///
/// let cmd = Command::new("werf")
///     .arg(Arg::new("dir").long("dir").global(true).env("WERF_DIR"))
///     .subcommand(
///         Command::new("converge")
///             .arg(Arg::new("repo").long("repo"))
///             .arg(Arg::new("dev").long("dev").action(ArgAction::SetTrue)),
///     );
/// let catalog = cli_telemetry_runtime::catalog(&cmd);
/// let converge = catalog.command("werf converge").unwrap();
/// let names: Vec<_> = converge.options.iter().map(|o| o.name.as_str()).collect();
/// assert_eq!(names, ["dev", "dir", "repo"]);
/// assert!(converge.option("dir").unwrap().global);
/// assert!(!converge.option("dev").unwrap().takes_value);
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Catalog {
    /// The root command's name (the first word of every path).
    pub app: String,
    /// Every command path, the root's included, depth first.
    pub commands: Vec<CatalogCommand>,
}

/// One command path.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct CatalogCommand {
    /// `werf helm get-release`, as events' `command`.
    pub path: String,
    /// Hidden from help.
    pub hidden: bool,
    /// Whether it has subcommands (a group like `werf helm`).
    pub has_subcommands: bool,
    /// Its options (globals of parent commands included), sorted by name.
    pub options: Vec<CatalogOption>,
}

/// One option, as events name it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct CatalogOption {
    /// The name in `commandOptions`: the long flag, or the arg id without one.
    pub name: String,
    /// `--long`, without dashes.
    pub long: Option<String>,
    /// `-s`.
    pub short: Option<String>,
    /// The environment variable that can set it.
    pub env: Option<String>,
    /// Global (propagated to subcommands).
    pub global: bool,
    /// Hidden from help.
    pub hidden: bool,
    /// Takes a value (`--repo REPO`); false for flags (`--dev`, `-v`).
    pub takes_value: bool,
}

impl Catalog {
    /// The command with this path.
    pub fn command(&self, path: &str) -> Option<&CatalogCommand> {
        self.commands.iter().find(|c| c.path == path)
    }

    /// One JSON object: `{"app": …, "commands": [{"path", "hidden", "hasSubcommands",
    /// "options": [{"name", "long", "short", "env", "global", "hidden", "takesValue"}]}]}`.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or_default()
    }
}

impl CatalogCommand {
    /// The option with this name.
    pub fn option(&self, name: &str) -> Option<&CatalogOption> {
        self.options.iter().find(|o| o.name == name)
    }
}

/// The catalog of `cmd` (the root command; built if it is not yet).
pub fn catalog(cmd: &Command) -> Catalog {
    let mut cmd = cmd.clone();
    cmd.build();
    let mut commands = Vec::new();
    walk(&cmd, cmd.get_name().to_owned(), &mut commands);
    Catalog {
        app: cmd.get_name().to_owned(),
        commands,
    }
}

/// The catalog of a clap derive `Parser`: `catalog_of::<Cli>()`.
pub fn catalog_of<C: CommandFactory>() -> Catalog {
    catalog(&C::command())
}

fn walk(cmd: &Command, path: String, out: &mut Vec<CatalogCommand>) {
    let mut options: Vec<CatalogOption> = cmd
        .get_arguments()
        .filter(|arg| {
            !arg.is_positional()
                && !matches!(
                    arg.get_action(),
                    ArgAction::Help
                        | ArgAction::HelpShort
                        | ArgAction::HelpLong
                        | ArgAction::Version
                )
        })
        .map(|arg| CatalogOption {
            name: arg.get_long().unwrap_or(arg.get_id().as_str()).to_owned(),
            long: arg.get_long().map(str::to_owned),
            short: arg.get_short().map(String::from),
            env: arg.get_env().map(|e| e.to_string_lossy().into_owned()),
            global: arg.is_global_set(),
            hidden: arg.is_hide_set(),
            takes_value: arg.get_action().takes_values(),
        })
        .collect();
    options.sort_by(|a, b| a.name.cmp(&b.name));
    options.dedup_by(|a, b| a.name == b.name);
    let subs: Vec<&Command> = cmd
        .get_subcommands()
        .filter(|sub| !is_generated_help(cmd, sub))
        .collect();
    out.push(CatalogCommand {
        path: path.clone(),
        hidden: cmd.is_hide_set(),
        has_subcommands: !subs.is_empty(),
        options,
    });
    for sub in subs {
        walk(sub, format!("{path} {}", sub.get_name()), out);
    }
}

/// clap's own `help` subcommand (added when a command has subcommands).
fn is_generated_help(parent: &Command, sub: &Command) -> bool {
    sub.get_name() == "help"
        && !parent.is_disable_help_subcommand_set()
        && sub.get_about().is_some_and(|a| {
            a.to_string()
                .starts_with("Print this message or the help of")
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::{Parser, Subcommand};

    #[derive(Parser)]
    #[command(name = "werf")]
    #[allow(dead_code)]
    struct Cli {
        #[arg(long, global = true, env = "CATALOG_TEST_DIR")]
        dir: Option<String>,
        #[arg(short, long, global = true, action = ArgAction::Count)]
        verbose: u8,
        #[command(subcommand)]
        command: Cmd,
    }

    #[derive(Subcommand)]
    #[allow(dead_code)]
    enum Cmd {
        Converge {
            #[arg(long = "repo-url", id = "repo")]
            repo: String,
            #[arg(long, hide = true)]
            fail_with: Option<u8>,
            images: Vec<String>,
        },
        Helm {
            #[command(subcommand)]
            command: Helm,
        },
        #[command(hide = true)]
        DebugPanic,
    }

    #[derive(Subcommand)]
    #[allow(dead_code)]
    enum Helm {
        GetRelease {
            #[arg(long)]
            namespace: String,
        },
    }

    #[test]
    fn every_path_and_option_named_as_events_name_them() {
        let c = catalog_of::<Cli>();
        let paths: Vec<_> = c.commands.iter().map(|c| c.path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "werf",
                "werf converge",
                "werf helm",
                "werf helm get-release",
                "werf debug-panic"
            ]
        );
        let converge = c.command("werf converge").unwrap();
        let names: Vec<_> = converge.options.iter().map(|o| o.name.as_str()).collect();
        assert_eq!(names, ["dir", "fail-with", "repo-url", "verbose"]);
        let dir = converge.option("dir").unwrap();
        assert!(dir.global && dir.takes_value);
        assert_eq!(dir.env.as_deref(), Some("CATALOG_TEST_DIR"));
        let verbose = converge.option("verbose").unwrap();
        assert_eq!(verbose.short.as_deref(), Some("v"));
        assert!(!verbose.takes_value);
        assert!(converge.option("fail-with").unwrap().hidden);
        assert!(c.command("werf debug-panic").unwrap().hidden);
        assert!(c.command("werf helm").unwrap().has_subcommands);
        let json = c.to_json();
        assert_eq!(json["commands"][1]["options"][2]["long"], "repo-url");
        assert_eq!(json["commands"][1]["options"][3]["takesValue"], false);
    }
}
