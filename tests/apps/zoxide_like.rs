//! Fixture in zoxide's shape: derive, handlers behind a trait (`impl Run for X`), anyhow
//! errors mapped to exit codes in `main` (`SilentExit { code }`: fzf cancelled → 130, a
//! closed pipe → 0). Black-box tests: tests/real_shapes.rs.

use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use cli_telemetry::{instrument_command, Telemetry};

#[derive(Parser)]
#[command(name = "zox", version)]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Search for a directory.
    Query(Query),
    /// Add a directory.
    Add(Add),
}

#[derive(Args)]
struct Query {
    /// Use interactive selection.
    #[arg(short, long)]
    interactive: bool,
    /// How the query ends: ok, cancel, pipe, error, panic, exit.
    #[arg(long, default_value = "ok")]
    outcome: String,
    keywords: Vec<String>,
}

#[derive(Args)]
struct Add {
    #[arg(long, env = "ZOX_SCORE")]
    score: Option<u32>,
    path: String,
}

/// zoxide's error that carries the process's exit code.
#[derive(Debug)]
struct SilentExit {
    code: u8,
}

impl std::fmt::Display for SilentExit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "exit {}", self.code)
    }
}

impl std::error::Error for SilentExit {}

trait Run {
    fn run(&self) -> anyhow::Result<()>;
}

impl Run for Cmd {
    fn run(&self) -> anyhow::Result<()> {
        match self {
            Cmd::Query(q) => q.run(),
            Cmd::Add(a) => a.run(),
        }
    }
}

impl Run for Query {
    #[instrument_command]
    fn run(&self) -> anyhow::Result<()> {
        match self.outcome.as_str() {
            "cancel" => Err(SilentExit { code: 130 }.into()),
            "pipe" => Err(SilentExit { code: 0 }.into()),
            "error" => anyhow::bail!("no match found"),
            "panic" => panic!("query panicked"),
            "exit" => cli_telemetry::exit(3),
            _ => {
                println!("/home/user/{}", self.keywords.join("/"));
                Ok(())
            }
        }
    }
}

impl Run for Add {
    #[instrument_command]
    fn run(&self) -> anyhow::Result<()> {
        println!("added ({} chars)", self.path.len());
        Ok(())
    }
}

#[cli_telemetry::main]
fn main() -> ExitCode {
    Telemetry::builder("zox")
        .env_prefix("APP")
        .version(env!("CARGO_PKG_VERSION"))
        .endpoint("https://telemetry.invalid/v1/traces")
        .install();
    // For tests/catalog.rs: every command and option as events name them.
    if std::env::var_os("FIXTURE_PRINT_CATALOG").is_some() {
        println!("{}", cli_telemetry::catalog_of::<Cli>().to_json());
        return ExitCode::SUCCESS;
    }
    let cli: Cli = cli_telemetry::parse();
    match cli.command.run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => match e.downcast::<SilentExit>() {
            Ok(SilentExit { code }) => ExitCode::from(code),
            Err(e) => {
                eprintln!("zoxide: {e}");
                ExitCode::FAILURE
            }
        },
    }
}
