use cli_telemetry::instrument_command;

#[instrument_command(crate = 3)]
fn converge() {}

fn main() {}
