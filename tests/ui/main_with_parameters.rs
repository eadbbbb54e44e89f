#[cli_telemetry::main]
fn main(args: Vec<String>) {
    let _ = args;
}
