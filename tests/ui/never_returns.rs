use cli_telemetry::instrument_command;

#[instrument_command]
fn serve() -> ! {
    loop {}
}

fn main() {}
