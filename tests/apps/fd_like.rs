//! Fixture in fd's shape: derive with `flatten` and `args_override_self`, the options
//! parsed *inside* the annotated handler, the handler returning `Ok` with an exit status of
//! its own (`HasResults(false)` → 1), a Ctrl-C thread that ends the process with 130
//! while the handler runs, and — with `FIXTURE_PROCESS_EXIT=<code>` — `main` ending the
//! way fd's does, through a helper that calls `std::process::exit` after the handler
//! returned (fd's `ExitCode::exit()`). Black-box tests: tests/real_shapes.rs,
//! tests/process_exit.rs.

use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Parser};
use cli_telemetry::{instrument_command, ExitStatus, Telemetry};

#[derive(Parser)]
#[command(name = "fdl", version, args_override_self = true)]
struct Opts {
    /// Search hidden files.
    #[arg(short = 'H', long)]
    hidden: bool,
    #[command(flatten)]
    filter: Filter,
    /// Simulate Ctrl-C while searching.
    #[arg(long, hide = true)]
    interrupt: bool,
    pattern: Option<String>,
}

#[derive(Args)]
struct Filter {
    /// File extension (repeatable).
    #[arg(short = 'e', long)]
    extension: Vec<String>,
    /// File type.
    #[arg(short = 't', long = "type", env = "FDL_TYPE")]
    file_type: Option<String>,
}

/// fd's `ExitCode` enum.
enum FdExit {
    HasResults(bool),
}

impl ExitStatus for FdExit {
    fn exit_code(&self) -> i32 {
        match self {
            FdExit::HasResults(true) => 0,
            FdExit::HasResults(false) => 1,
        }
    }
}

#[instrument_command]
fn run() -> anyhow::Result<FdExit> {
    let opts: Opts = cli_telemetry::parse();
    if opts.interrupt {
        std::thread::spawn(|| {
            std::thread::sleep(Duration::from_millis(50));
            cli_telemetry::exit(130);
        });
        std::thread::sleep(Duration::from_secs(10));
    }
    let pattern = opts.pattern.unwrap_or_default();
    let found = pattern != "nothing";
    if found {
        println!(
            "found {} ({} filters, hidden {})",
            pattern.len(),
            opts.filter.extension.len() + usize::from(opts.filter.file_type.is_some()),
            opts.hidden
        );
    }
    Ok(FdExit::HasResults(found))
}

#[cli_telemetry::main]
fn main() -> ExitCode {
    Telemetry::builder("fdl")
        .env_prefix("APP")
        .version(env!("CARGO_PKG_VERSION"))
        .endpoint("https://telemetry.invalid/v1/traces")
        .install();
    if std::env::var_os("FIXTURE_PRINT_CATALOG").is_some() {
        println!("{}", cli_telemetry::catalog_of::<Opts>().to_json());
        return ExitCode::SUCCESS;
    }
    let result = run();
    if let Some(code) = std::env::var("FIXTURE_PROCESS_EXIT")
        .ok()
        .and_then(|c| c.parse().ok())
    {
        exit_like_fd(code);
    }
    match result {
        Ok(status) => ExitCode::from(status.exit_code() as u8),
        Err(e) => {
            eprintln!("[fd error]: {e}");
            ExitCode::FAILURE
        }
    }
}

/// fd's `ExitCode::exit()`: the process ends here, and `main` never returns.
fn exit_like_fd(code: i32) -> ! {
    std::process::exit(code)
}
