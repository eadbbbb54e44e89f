//! Fixture: `async fn main` under `#[tokio::main]` returning `Result<(), E>`, so std prints
//! `Error: {err:?}` — with `#[cli_telemetry::main]` exactly as without it — and exits 1.
//! Tests: tests/real_shapes.rs.

use clap::Parser;
use cli_telemetry::{instrument_command, Telemetry};

#[derive(Parser)]
#[command(name = "amain")]
struct Cli {
    #[arg(long)]
    fail: bool,
}

#[derive(Debug)]
#[allow(dead_code)] // read by Debug
struct AppError(String);

#[instrument_command]
async fn run(cli: &Cli) -> Result<(), AppError> {
    tokio::task::yield_now().await;
    if cli.fail {
        return Err(AppError("the deployment failed".into()));
    }
    println!("deployed");
    Ok(())
}

#[tokio::main(flavor = "current_thread")]
#[cli_telemetry::main]
async fn main() -> Result<(), AppError> {
    Telemetry::builder("amain")
        .env_prefix("APP")
        .version(env!("CARGO_PKG_VERSION"))
        .endpoint("https://telemetry.invalid/v1/traces")
        .install();
    let cli: Cli = cli_telemetry::parse();
    run(&cli).await
}
