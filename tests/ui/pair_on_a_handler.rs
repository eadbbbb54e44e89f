use cli_telemetry::instrument_command;

#[instrument_command]
#[cli_telemetry::main]
fn run() {}

fn main() {
    run();
}
