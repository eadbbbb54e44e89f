//! Fixture: a tool speaking werf's wire exactly (SPEC S-17): spans named
//! `telemetry.werf.io`, `schemaVersion` 2, an installation id as `userID`, protobuf
//! bodies; with the ready-made `telemetry` subcommand. Tests: tests/people_in_control.rs.

use clap::{Parser, Subcommand};
use cli_telemetry::{instrument_command, Protocol, Telemetry};

#[derive(Parser)]
#[command(name = "wire")]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Build and deploy.
    Converge {
        #[arg(long)]
        repo: String,
    },
    /// Telemetry of this installation: status, enable, disable, reset.
    Telemetry(cli_telemetry::TelemetryArgs),
}

#[instrument_command]
fn converge(repo: &str) {
    println!("converged ({} chars)", repo.len());
}

#[cli_telemetry::main]
fn main() -> std::process::ExitCode {
    Telemetry::builder("wire")
        .env_prefix("APP")
        .version("2.9.0")
        .endpoint("https://telemetry.invalid/v1/traces")
        .span_name("telemetry.werf.io")
        .schema_version(2)
        .installation_id(true)
        .protocol(Protocol::HttpProtobuf)
        .install();
    let cli: Cli = cli_telemetry::parse();
    match cli.command {
        Cmd::Converge { repo } => converge(&repo),
        Cmd::Telemetry(args) => return args.run(),
    }
    std::process::ExitCode::SUCCESS
}
