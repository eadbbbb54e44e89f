//! Fixture in git-cliff's shape: a CLI without subcommands whose whole program is `main`.
//! `main` carries both attributes, so every run reports the root command `rootonly` with
//! its options (from the command line and from the environment), its duration and the
//! process's exit code (`--fail N`); `--telemetry <action>` ([`cli_telemetry::TelemetryFlag`])
//! gives the person running it the lasting choice without a subcommand. Positionals are
//! paths. `FIXTURE_PROCESS_EXIT=<code>` ends the process through `std::process::exit`;
//! `FIXTURE_APP_SAMPLE_RATE=<r>` is the author's sample rate. Tests: tests/root_only.rs,
//! tests/high_volume.rs.

use std::process::ExitCode;

use clap::{CommandFactory, Parser};
use cli_telemetry::{instrument_command, Telemetry, TelemetryFlag};

/// rootonly: generates a changelog (a fixture of cli-telemetry).
#[derive(Parser)]
#[command(name = "rootonly", version)]
struct Cli {
    /// More output (repeatable).
    #[arg(short, long, action = clap::ArgAction::Count)]
    verbose: u8,
    /// Configuration file.
    #[arg(short, long, env = "ROOTONLY_CONFIG")]
    config: Option<String>,
    /// Tag of the release.
    #[arg(long, env = "ROOTONLY_TAG")]
    tag: Option<String>,
    /// Bump the version.
    #[arg(long)]
    bump: bool,
    /// Include these (repeatable).
    #[arg(long = "include-path")]
    include: Vec<String>,
    /// Fail with this exit code.
    #[arg(long, value_name = "N")]
    fail: Option<u8>,
    /// Milliseconds the work takes.
    #[arg(long, default_value_t = 0, hide = true)]
    work_ms: u64,
    #[command(flatten)]
    telemetry: TelemetryFlag,
    /// Repositories to read.
    repositories: Vec<String>,
}

#[cli_telemetry::main]
#[instrument_command]
fn main() -> ExitCode {
    Telemetry::builder("rootonly")
        .env_prefix("APP")
        .version(env!("CARGO_PKG_VERSION"))
        .endpoint("https://telemetry.invalid/v1/traces")
        // The author's sample rate (SPEC S-20); a knob of this fixture, for tests/high_volume.rs.
        .sample_rate(
            std::env::var("FIXTURE_APP_SAMPLE_RATE")
                .ok()
                .and_then(|r| r.parse().ok())
                .unwrap_or(1.0),
        )
        .install();
    let cli: Cli = cli_telemetry::parse();
    if let Some(code) = cli.telemetry.run_for(&Cli::command()) {
        return code;
    }
    std::thread::sleep(std::time::Duration::from_millis(cli.work_ms));
    println!(
        "## [unreleased] ({} repositories, verbosity {}, bump {})",
        cli.repositories.len(),
        cli.verbose,
        cli.bump
    );
    if let Some(code) = std::env::var("FIXTURE_PROCESS_EXIT")
        .ok()
        .and_then(|c| c.parse().ok())
    {
        std::process::exit(code);
    }
    match cli.fail {
        Some(code) => {
            eprintln!("error: failing with {code} as asked");
            ExitCode::from(code)
        }
        None => ExitCode::SUCCESS,
    }
}
