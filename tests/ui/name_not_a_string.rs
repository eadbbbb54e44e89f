use cli_telemetry::instrument_command;

#[instrument_command(name = 5)]
fn converge() {}

fn main() {}
