use cli_telemetry::instrument_command;

#[instrument_command(name = "werf converge", name = "werf build")]
fn converge() {}

fn main() {}
