use cli_telemetry::instrument_command;

#[instrument_command]
fn deploy() {
    cli_telemetry::error_category("Registry Unreachable");
}

fn main() {
    deploy();
}
