use clap::ArgMatches;
use cli_telemetry::instrument_command;

#[instrument_command(matches = "args")]
fn converge(args: &ArgMatches) {
    let _ = args;
}

fn main() {}
