use cli_telemetry::instrument_command;

#[instrument_command]
enum Command {
    Converge,
    Build,
}

fn main() {}
