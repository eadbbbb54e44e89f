#[cli_telemetry::main]
fn converge() -> Result<(), String> {
    Ok(())
}

fn main() {}
