//! Fixture in git-cliff's shape: derive with many `env =` options, and a logger installed
//! at the most verbose level — a `log` logger that keeps every record and a `tracing`
//! subscriber at trace level that keeps every event and span. At exit it prints what they
//! got to stderr, so a black-box test comparing stderr with telemetry on and off sees any
//! record that cli-telemetry or its transport would add (SPEC R-1). The app logs one
//! record of each kind itself, which proves the recorders work. `CLIFF_LOG_LEVEL=info`
//! makes both keep info and above only (the level most tools run at), so that the app's own
//! two records are dropped. Tests: tests/real_shapes.rs (also built with the `reqwest`
//! transport, tests/fixtures/reqwest-app).
//!
//! Like git-cliff, its `main` has no `#[cli_telemetry::main]` and a bare invocation does
//! work (it writes a changelog): `FIXTURE_MAIN_RUNS=<file>` appends one line per run of
//! `main` (its arguments), so a test sees any run nobody asked for; `FIXTURE_DETACHED=1`
//! asks for `Delivery::Detached` in code; `FIXTURE_PRINT_STATUS=1` prints the status JSON
//! and exits (tests/sender_trust.rs).

use std::sync::Mutex;

use clap::Parser;
use cli_telemetry::{instrument_command, Telemetry};

#[derive(Parser)]
#[command(name = "cliff", version)]
struct Cli {
    /// Increase verbosity.
    #[arg(short, long, action = clap::ArgAction::Count)]
    verbose: u8,
    #[arg(long, env = "CLIFF_CONFIG")]
    config: Option<String>,
    #[arg(long, env = "CLIFF_WORKDIR")]
    workdir: Option<String>,
    #[arg(long, env = "CLIFF_REPOSITORY")]
    repository: Option<String>,
    #[arg(long, env = "CLIFF_TAG")]
    tag: Option<String>,
    #[arg(long, env = "CLIFF_OUTPUT")]
    output: Option<String>,
    #[arg(long, env = "CLIFF_GITHUB_TOKEN")]
    github_token: Option<String>,
    #[arg(long, env = "CLIFF_BUMP")]
    bump: bool,
    /// Seconds the changelog takes.
    #[arg(long, default_value_t = 0)]
    work_ms: u64,
}

static RECORDS: Mutex<Vec<String>> = Mutex::new(Vec::new());

fn keep(line: String) {
    RECORDS.lock().unwrap_or_else(|p| p.into_inner()).push(line);
}

/// Info only (`CLIFF_LOG_LEVEL=info`), else everything.
fn info_only() -> bool {
    std::env::var("CLIFF_LOG_LEVEL").is_ok_and(|v| v == "info")
}

/// Keeps every `log` record its level lets through.
struct Recorder;

impl log::Log for Recorder {
    fn enabled(&self, metadata: &log::Metadata<'_>) -> bool {
        !info_only() || metadata.level() <= log::Level::Info
    }
    fn log(&self, record: &log::Record<'_>) {
        if !self.enabled(record.metadata()) {
            return;
        }
        keep(format!(
            "log {} {}: {}",
            record.level(),
            record.target(),
            record.args()
        ));
    }
    fn flush(&self) {}
}

/// Keeps every `tracing` event and span its level lets through.
struct Subscriber;

impl tracing::Subscriber for Subscriber {
    fn enabled(&self, metadata: &tracing::Metadata<'_>) -> bool {
        !info_only() || *metadata.level() <= tracing::Level::INFO
    }
    fn max_level_hint(&self) -> Option<tracing::level_filters::LevelFilter> {
        Some(if info_only() {
            tracing::level_filters::LevelFilter::INFO
        } else {
            tracing::level_filters::LevelFilter::TRACE
        })
    }
    fn new_span(&self, attrs: &tracing::span::Attributes<'_>) -> tracing::span::Id {
        let m = attrs.metadata();
        keep(format!("tracing span {} {}", m.target(), m.name()));
        tracing::span::Id::from_u64(1)
    }
    fn record(&self, _: &tracing::span::Id, _: &tracing::span::Record<'_>) {}
    fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}
    fn event(&self, event: &tracing::Event<'_>) {
        let m = event.metadata();
        keep(format!("tracing event {} {}", m.level(), m.target()));
    }
    fn enter(&self, _: &tracing::span::Id) {}
    fn exit(&self, _: &tracing::span::Id) {}
}

#[instrument_command]
fn generate(cli: &Cli) -> Result<(), String> {
    log::debug!("generating the changelog");
    tracing::trace!("walking commits");
    std::thread::sleep(std::time::Duration::from_millis(cli.work_ms));
    println!(
        "## [unreleased] ({} options)",
        usize::from(cli.config.is_some()) + usize::from(cli.bump)
    );
    Ok(())
}

fn main() {
    if let Some(file) = std::env::var_os("FIXTURE_MAIN_RUNS") {
        use std::io::Write;
        let args: Vec<String> = std::env::args_os()
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        let mut runs = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(file)
            .expect("the runs file");
        writeln!(runs, "{args:?}").expect("a line");
    }
    log::set_logger(&Recorder).expect("logger");
    log::set_max_level(if info_only() {
        log::LevelFilter::Info
    } else {
        log::LevelFilter::Trace
    });
    tracing::subscriber::set_global_default(Subscriber).expect("subscriber");
    let mut telemetry = Telemetry::builder("cliff")
        .env_prefix("APP")
        .version(env!("CARGO_PKG_VERSION"))
        .endpoint("https://telemetry.invalid/v1/traces");
    if std::env::var_os("FIXTURE_DETACHED").is_some() {
        telemetry = telemetry.delivery(cli_telemetry::Delivery::Detached);
    }
    telemetry.install();
    if std::env::var_os("FIXTURE_PRINT_STATUS").is_some() {
        cli_telemetry::print_status(true);
        return;
    }
    // For tests/catalog.rs: every command and option as events name them.
    if std::env::var_os("FIXTURE_PRINT_CATALOG").is_some() {
        println!("{}", cli_telemetry::catalog_of::<Cli>().to_json());
        return;
    }
    let cli: Cli = cli_telemetry::parse();
    let result = generate(&cli);
    for line in RECORDS.lock().unwrap_or_else(|p| p.into_inner()).iter() {
        eprintln!("record: {line}");
    }
    if let Err(e) = result {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}
