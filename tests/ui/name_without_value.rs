use cli_telemetry::instrument_command;

#[instrument_command(name)]
fn converge() {}

fn main() {}
