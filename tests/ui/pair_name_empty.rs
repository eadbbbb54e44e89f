#[cli_telemetry::instrument_command(name = " ")]
#[cli_telemetry::main]
fn main() {}
