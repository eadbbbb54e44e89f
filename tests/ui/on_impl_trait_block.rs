use cli_telemetry::instrument_command;

trait Handler {
    fn run(&self) -> i32;
}

struct Converge;

#[instrument_command(name = "werf converge")]
impl Handler for Converge {
    fn run(&self) -> i32 {
        0
    }
}

fn main() {}
