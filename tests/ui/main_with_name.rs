#[cli_telemetry::main(name = "werf")]
fn main() {}
