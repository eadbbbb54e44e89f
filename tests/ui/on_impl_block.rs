use cli_telemetry::instrument_command;

struct App;

#[instrument_command]
impl App {
    fn deploy(&self) {}
}

fn main() {}
