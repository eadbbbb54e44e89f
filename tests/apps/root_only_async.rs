//! Fixture: the other order of the pair, on an `async fn main` under `#[tokio::main]`:
//! `#[instrument_command]` above `#[cli_telemetry::main]`, a `Result` return (std prints
//! `Error: …` and exits 1). Every run reports the root command `rootasync`. Tests:
//! tests/root_only.rs.

use clap::Parser;
use cli_telemetry::{instrument_command, Telemetry};

#[derive(Parser)]
#[command(name = "rootasync", version)]
struct Cli {
    /// Fail.
    #[arg(long)]
    fail: bool,
    /// Target.
    #[arg(long, env = "ROOTASYNC_TARGET")]
    target: Option<String>,
}

#[instrument_command]
#[cli_telemetry::main]
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), String> {
    Telemetry::builder("rootasync")
        .env_prefix("APP")
        .version(env!("CARGO_PKG_VERSION"))
        .endpoint("https://telemetry.invalid/v1/traces")
        .install();
    let cli: Cli = cli_telemetry::parse();
    tokio::task::yield_now().await;
    if cli.fail {
        return Err("the release failed".into());
    }
    println!("released");
    Ok(())
}
