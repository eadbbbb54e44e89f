use cli_telemetry::instrument_command;

#[instrument_command]
const EXIT_CODE: i32 = 3;

fn main() {}
