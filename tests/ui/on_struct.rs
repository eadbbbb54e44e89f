use cli_telemetry::instrument_command;

#[instrument_command]
struct Cli {
    verbose: bool,
}

fn main() {}
