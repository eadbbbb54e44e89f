use cli_telemetry::instrument_command;

#[instrument_command(name = "werf converge", matches)]
fn converge() {}

fn main() {}
