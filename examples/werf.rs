//! mini-werf: a small imitation of werf's command tree, instrumented with cli-telemetry.
//!
//! ```text
//! WERF_TELEMETRY=1 WERF_TELEMETRY_DEBUG=1 cargo run --example werf -- -vv converge --repo x --set a=1
//! ```
//!
//! Telemetry is off by default (as werf's doc says of werf); `WERF_TELEMETRY=1` turns it
//! on. The default endpoint never resolves; `WERF_TELEMETRY_TRACE_URL` points elsewhere.
//!
//! `main` carries `#[cli_telemetry::main]` and maps werf's errors to exit codes, as real
//! CLIs do: `werf converge --repo unreachable.example/app` exits 69 (the registry can't be
//! reached), `--fail-with N` (hidden) exits N; CommandExited reports the same code.

use std::process::ExitCode;
use std::time::Instant;

use clap::{Args, Parser, Subcommand};
use cli_telemetry::{instrument_command, Telemetry};

#[derive(Parser, Debug)]
#[command(
    name = "werf",
    version,
    about = "mini-werf: cli-telemetry's example application"
)]
struct Cli {
    /// Project directory.
    #[arg(long, global = true, env = "WERF_DIR")]
    dir: Option<String>,
    /// More output (repeatable).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    verbose: u8,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Build and deploy.
    Converge(ConvergeArgs),
    /// Build images.
    Build(BuildArgs),
    /// Helm commands.
    Helm {
        #[command(subcommand)]
        command: Helm,
    },
    /// Run a command in the cluster and return its exit code.
    KubeRun {
        #[arg(long)]
        exit_code: u8,
    },
    /// Print the version.
    Version,
    /// Telemetry of this installation: status, enable, disable, reset.
    Telemetry(cli_telemetry::TelemetryArgs),
    /// Panics (for testing).
    #[command(hide = true)]
    DebugPanic,
}

#[derive(Args, Debug)]
struct ConvergeArgs {
    /// Container registry repository.
    #[arg(long, env = "WERF_REPO")]
    repo: String,
    /// Environment name.
    #[arg(long, env = "WERF_ENV")]
    env: Option<String>,
    /// Helm values (repeatable).
    #[arg(long, value_name = "KEY=VAL")]
    set: Vec<String>,
    /// Development mode.
    #[arg(long, env = "WERF_DEV")]
    dev: bool,
    /// Parallel tasks limit.
    #[arg(long, default_value_t = 5)]
    parallel_tasks_limit: u32,
    /// Fail with this exit code (for testing).
    #[arg(long, hide = true)]
    fail_with: Option<u8>,
}

#[derive(Args, Debug)]
struct BuildArgs {
    /// Container registry repository.
    #[arg(long, env = "WERF_REPO")]
    repo: Option<String>,
    /// Images to build (all when none).
    images: Vec<String>,
}

#[derive(Subcommand, Debug)]
enum Helm {
    /// Show a release.
    GetRelease {
        #[arg(long)]
        namespace: String,
    },
}

/// werf's errors; `main` maps each to its exit code.
#[derive(Debug)]
enum WerfError {
    /// The container registry could not be reached.
    RegistryUnreachable,
    /// A failure with a given exit code (`--fail-with`).
    Failed(u8),
}

impl WerfError {
    fn exit_code(&self) -> u8 {
        match self {
            WerfError::RegistryUnreachable => 69, // EX_UNAVAILABLE
            WerfError::Failed(code) => *code,
        }
    }
}

/// The kind of failure, for CommandExited's `errorCategory` (SPEC S-22): a label werf
/// chose, never the error's text.
impl cli_telemetry::ErrorCategory for WerfError {
    fn error_category(&self) -> Option<&str> {
        match self {
            WerfError::RegistryUnreachable => Some("registry-unreachable"),
            WerfError::Failed(_) => None,
        }
    }
}

impl std::fmt::Display for WerfError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            WerfError::RegistryUnreachable => f.write_str("the container registry is unreachable"),
            WerfError::Failed(code) => write!(f, "converge failed (code {code})"),
        }
    }
}

#[instrument_command]
fn converge(args: &ConvergeArgs) -> Result<(), WerfError> {
    if let Some(code) = args.fail_with {
        return Err(WerfError::Failed(code));
    }
    if args.repo.starts_with("unreachable") {
        return Err(WerfError::RegistryUnreachable);
    }
    println!(
        "converge: deploying {} task(s) in parallel",
        args.parallel_tasks_limit
    );
    Ok(())
}

#[instrument_command]
async fn build(args: &BuildArgs) -> Result<(), WerfError> {
    let started = Instant::now();
    let images = args.images.len().max(1);
    cli_telemetry::emit(
        "BuildStarted",
        &serde_json::json!({ "imagesCount": images }),
    );
    println!("build: {images} image(s) built");
    cli_telemetry::emit(
        "BuildFinished",
        &serde_json::json!({
            "durationMs": started.elapsed().as_millis() as u64,
            "success": true,
            "imagesCount": images,
        }),
    );
    Ok(())
}

#[instrument_command]
fn helm_get_release(namespace: &str) {
    bench_work();
    println!(
        "helm get-release: release found in namespace of {} chars",
        namespace.len()
    );
}

/// `BENCH_WORK_MS=500`: the command works that long (bench/network.sh times a command that
/// runs 500 ms; the OpenTelemetry peer in bench/peer reads the same variable).
fn bench_work() {
    if let Some(ms) = std::env::var("BENCH_WORK_MS")
        .ok()
        .and_then(|v| v.parse().ok())
    {
        std::thread::sleep(std::time::Duration::from_millis(ms));
    }
}

#[instrument_command]
fn kube_run(exit_code: u8) -> ExitCode {
    println!("kube-run: command exited with {exit_code}");
    ExitCode::from(exit_code)
}

#[instrument_command]
fn debug_panic() {
    panic!("debug-panic: this command always panics");
}

#[cli_telemetry::main]
fn main() -> ExitCode {
    let mut telemetry = Telemetry::builder("werf")
        .env_prefix("WERF")
        // WERF_DEMO_VERSION: examples/backend/verify.sh plays several releases.
        .version(std::env::var("WERF_DEMO_VERSION").unwrap_or_else(|_| env!("CARGO_PKG_VERSION").into()))
        .endpoint("https://telemetry.invalid/v1/traces")
        .enabled_by_default(false)
        .group_channel_env("TRDL_USE_WERF_GROUP_CHANNEL")
        // Shown only when telemetry is on by the app's default, which werf's is not.
        .first_run_notice("werf collects anonymous usage data: see `werf telemetry status`; WERF_TELEMETRY=0 switches it off.");
    // WERF_DEMO_POLICY_FILE: the tests' place for the machine's policy (SPEC S-23), which
    // is /etc/werf/telemetry.json otherwise. A policy can only switch telemetry off.
    if let Some(path) = std::env::var_os("WERF_DEMO_POLICY_FILE") {
        telemetry = telemetry.policy_file(path);
    }
    telemetry.install();
    let cli: Cli = cli_telemetry::parse();
    let result = match &cli.command {
        Command::Converge(args) => converge(args),
        Command::Build(args) => {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .build()
                .expect("tokio runtime");
            runtime.block_on(build(args))
        }
        Command::Helm {
            command: Helm::GetRelease { namespace },
        } => {
            helm_get_release(namespace);
            Ok(())
        }
        Command::KubeRun { exit_code } => return kube_run(*exit_code),
        Command::Version => {
            println!("werf v{}", env!("CARGO_PKG_VERSION"));
            Ok(())
        }
        // `werf telemetry catalog` (hidden) prints every command and option (SPEC S-18).
        Command::Telemetry(args) => return args.run_for(&<Cli as clap::CommandFactory>::command()),
        Command::DebugPanic => {
            debug_panic();
            Ok(())
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("Error: {err}");
            ExitCode::from(err.exit_code())
        }
    }
}
