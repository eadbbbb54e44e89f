use clap::ArgMatches;
use cli_telemetry::instrument_command;

#[instrument_command(matches = first, matches = second)]
fn converge(first: &ArgMatches, second: &ArgMatches) {
    let _ = (first, second);
}

fn main() {}
