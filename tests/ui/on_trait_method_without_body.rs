use cli_telemetry::instrument_command;

trait Handler {
    #[instrument_command]
    fn run(&self) -> i32;
}

fn main() {}
