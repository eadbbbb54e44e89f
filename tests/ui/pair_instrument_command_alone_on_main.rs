use cli_telemetry::instrument_command;

// Alone on `fn main` it would report nothing: telemetry is installed inside `main`.
#[instrument_command]
fn main() {
    cli_telemetry::Telemetry::builder("tool").install();
}
