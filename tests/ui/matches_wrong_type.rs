use clap::Parser;
use cli_telemetry::instrument_command;

#[derive(Parser)]
struct Cli {
    #[arg(long)]
    verbose: bool,
}

// The derive's struct, not the `ArgMatches` it was parsed from.
#[instrument_command(matches = cli)]
fn converge(cli: &Cli) -> bool {
    cli.verbose
}

fn main() {}
