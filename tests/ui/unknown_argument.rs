use cli_telemetry::instrument_command;

#[instrument_command(command = "werf converge")]
fn converge() {}

fn main() {}
