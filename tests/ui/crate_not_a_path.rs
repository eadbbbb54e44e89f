use cli_telemetry::instrument_command;

#[instrument_command(crate = "my telemetry")]
fn converge() {}

fn main() {}
