#[cli_telemetry::main]
#[cli_telemetry::instrument_command(matches = MATCHES)]
fn main() {}
