use cli_telemetry::instrument_command;

#[instrument_command]
const fn version() -> i32 {
    0
}

fn main() {}
