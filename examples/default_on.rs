//! A tiny tool whose telemetry is on by default, with a first-run notice (SPEC S-12): the
//! fixture of the first-run tests. `ONTOOL_TELEMETRY_TRACE_URL` says where events go.

use clap::{Parser, Subcommand};
use cli_telemetry::{instrument_command, Telemetry};

#[derive(Parser)]
#[command(name = "ontool")]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Says hello.
    Hello {
        #[arg(long)]
        name: Option<String>,
    },
}

#[instrument_command]
fn hello(name: Option<&str>) {
    println!("hello, {}", name.unwrap_or("world"));
}

fn main() {
    Telemetry::builder("ontool")
        .version(env!("CARGO_PKG_VERSION"))
        .endpoint("https://telemetry.invalid/v1/traces")
        .enabled_by_default(true)
        .first_run_notice(
            "ontool collects anonymous usage data (command and option names, exit codes).\n\
             See `ontool telemetry status`; switch it off with ONTOOL_TELEMETRY=0 or DO_NOT_TRACK=1.",
        )
        .install();
    let cli: Cli = cli_telemetry::parse();
    match cli.command {
        Cmd::Hello { name } => hello(name.as_deref()),
    }
}
