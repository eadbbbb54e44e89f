//! mini-werf, OpenTelemetry SDK edition: the command tree of examples/werf.rs with each
//! instrumented command sending CommandStarted and CommandExited as two spans through the
//! OpenTelemetry Rust SDK, configured as werf configures its Go SDK.
//!
//! Same switches as the cli-telemetry mini-werf: `WERF_TELEMETRY=1` turns it on,
//! `WERF_TELEMETRY_TRACE_URL` is the endpoint, `DO_NOT_TRACK=1` turns it off.
//! `OTEL_BSP_SCHEDULE_DELAY_MS` overrides werf's 1 ms batch timeout (for experiments).

use std::process::ExitCode;
use std::time::{SystemTime, UNIX_EPOCH};

use clap::{Args, CommandFactory, FromArgMatches, Parser, Subcommand};

#[derive(Parser, Debug)]
#[command(name = "werf", version, about = "mini-werf: OpenTelemetry SDK peer")]
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
    /// Panics (for testing).
    #[command(hide = true)]
    DebugPanic,
}

#[derive(Args, Debug)]
struct ConvergeArgs {
    #[arg(long, env = "WERF_REPO")]
    repo: String,
    #[arg(long, env = "WERF_ENV")]
    env: Option<String>,
    #[arg(long, value_name = "KEY=VAL")]
    set: Vec<String>,
    #[arg(long, env = "WERF_DEV")]
    dev: bool,
    #[arg(long, default_value_t = 5)]
    parallel_tasks_limit: u32,
}

#[derive(Args, Debug)]
struct BuildArgs {
    #[arg(long, env = "WERF_REPO")]
    repo: Option<String>,
    images: Vec<String>,
}

#[derive(Subcommand, Debug)]
enum Helm {
    GetRelease {
        #[arg(long)]
        namespace: String,
    },
}

fn main() -> ExitCode {
    let matches = Cli::command().get_matches();
    let cli = Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
    let (path, options) = command_path_and_options(&matches);
    let telemetry = telemetry::Telemetry::start();
    let code: u8 = match &cli.command {
        Command::Converge(args) => telemetry.command(&path, &options, || {
            println!(
                "converge: deploying {} task(s) in parallel",
                args.parallel_tasks_limit
            );
            0
        }),
        Command::Build(args) => telemetry.command(&path, &options, || {
            println!("build: {} image(s) built", args.images.len().max(1));
            0
        }),
        Command::Helm {
            command: Helm::GetRelease { namespace },
        } => telemetry.command(&path, &options, || {
            // Same as examples/werf.rs: bench/network.sh times a 500 ms command.
            if let Some(ms) = std::env::var("BENCH_WORK_MS").ok().and_then(|v| v.parse().ok()) {
                std::thread::sleep(std::time::Duration::from_millis(ms));
            }
            println!(
                "helm get-release: release found in namespace of {} chars",
                namespace.len()
            );
            0
        }),
        Command::KubeRun { exit_code } => telemetry.command(&path, &options, || {
            println!("kube-run: command exited with {exit_code}");
            *exit_code
        }),
        Command::Version => {
            println!("werf v{}", env!("CARGO_PKG_VERSION"));
            0
        }
        Command::DebugPanic => panic!("debug-panic: this command always panics"),
    };
    telemetry.shutdown();
    ExitCode::from(code)
}

/// `werf helm get-release` and the names of the options set on the command line or by env
/// (what werf's pflag `Changed` gives), as JSON entries like cli-telemetry's.
fn command_path_and_options(matches: &clap::ArgMatches) -> (String, Vec<serde_json::Value>) {
    let mut path = String::from("werf");
    let mut names = std::collections::BTreeSet::new();
    let mut m = Some(matches);
    while let Some(cur) = m {
        for id in cur.ids() {
            if matches!(
                cur.value_source(id.as_str()),
                Some(
                    clap::parser::ValueSource::CommandLine | clap::parser::ValueSource::EnvVariable
                )
            ) {
                names.insert(id.as_str().to_owned());
            }
        }
        m = cur.subcommand().map(|(name, sub)| {
            path.push(' ');
            path.push_str(name);
            sub
        });
    }
    let options = names
        .into_iter()
        .map(|n| serde_json::json!({ "name": n, "asCli": false, "asEnv": false, "count": 0 }))
        .collect();
    (path, options)
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

fn env_on(name: &str) -> Option<bool> {
    match std::env::var(name).ok()?.to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Some(true),
        "0" | "false" | "no" | "off" => Some(false),
        _ => None,
    }
}

#[cfg(feature = "otel")]
mod telemetry {
    use std::time::Duration;

    use opentelemetry::trace::{Span, Tracer, TracerProvider as _};
    use opentelemetry::KeyValue;
    use opentelemetry_otlp::{
        Protocol, RetryPolicy, SpanExporter, WithExportConfig, WithHttpConfig,
    };
    use opentelemetry_sdk::trace::{
        BatchConfigBuilder, BatchSpanProcessor, IdGenerator, RandomIdGenerator, SdkTracer,
        SdkTracerProvider,
    };
    use opentelemetry_sdk::Resource;

    /// werf's exporter timeout.
    const EXPORT_TIMEOUT: Duration = Duration::from_millis(1300);

    pub struct Telemetry(Option<On>);

    struct On {
        provider: SdkTracerProvider,
        tracer: SdkTracer,
        execution_id: String,
        attributes: String,
    }

    impl Telemetry {
        /// What werf's telemetry.Init does: exporter, batch processor, provider (on the
        /// main thread, before the command runs).
        pub fn start() -> Telemetry {
            if super::env_on("DO_NOT_TRACK") == Some(true)
                || super::env_on("WERF_TELEMETRY") != Some(true)
            {
                return Telemetry(None);
            }
            let url = std::env::var("WERF_TELEMETRY_TRACE_URL")
                .unwrap_or_else(|_| "https://telemetry.invalid/v1/traces".to_owned());
            let exporter = match SpanExporter::builder()
                .with_http()
                .with_endpoint(url)
                .with_protocol(Protocol::HttpBinary)
                .with_timeout(EXPORT_TIMEOUT)
                .with_retry_policy(RetryPolicy::disabled())
                .build()
            {
                Ok(e) => e,
                Err(_) => return Telemetry(None),
            };
            let delay = std::env::var("OTEL_BSP_SCHEDULE_DELAY_MS")
                .ok()
                .and_then(|v| v.parse().ok())
                .unwrap_or(1);
            let processor = BatchSpanProcessor::builder(exporter)
                .with_batch_config(
                    BatchConfigBuilder::default()
                        .with_scheduled_delay(Duration::from_millis(delay))
                        .build(),
                )
                .build();
            let provider = SdkTracerProvider::builder()
                .with_span_processor(processor)
                .with_resource(Resource::builder_empty().with_service_name("werf").build())
                .build();
            let tracer = provider.tracer("werf");
            // executionID: a random UUID-v4-like id from the SDK's own id generator.
            let id = RandomIdGenerator::default().new_trace_id().to_string();
            let execution_id = format!(
                "{}-{}-4{}-a{}-{}",
                &id[0..8],
                &id[8..12],
                &id[13..16],
                &id[17..20],
                &id[20..32]
            );
            let attributes = serde_json::json!({
                "version": env!("CARGO_PKG_VERSION"),
                "os": std::env::consts::OS,
                "arch": if std::env::consts::ARCH == "x86_64" { "amd64" } else { std::env::consts::ARCH },
            })
            .to_string();
            Telemetry(Some(On {
                provider,
                tracer,
                execution_id,
                attributes,
            }))
        }

        /// CommandStarted, the body, CommandExited.
        pub fn command(
            &self,
            path: &str,
            options: &[serde_json::Value],
            body: impl FnOnce() -> u8,
        ) -> u8 {
            let Some(on) = &self.0 else { return body() };
            let data = if options.is_empty() {
                serde_json::json!({})
            } else {
                serde_json::json!({ "commandOptions": options })
            };
            on.event(path, "CommandStarted", data);
            let started = std::time::Instant::now();
            let code = body();
            let data = serde_json::json!({ "exitCode": code, "durationMs": started.elapsed().as_millis() as u64 });
            on.event(path, "CommandExited", data);
            code
        }

        /// werf's telemetry.Shutdown: ForceFlush, then Shutdown.
        pub fn shutdown(self) {
            if let Some(on) = self.0 {
                let _ = on.provider.force_flush();
                let _ = on.provider.shutdown();
            }
        }
    }

    impl On {
        fn event(&self, command: &str, event_type: &'static str, data: serde_json::Value) {
            let mut span = self.tracer.start("telemetry");
            span.set_attributes([
                KeyValue::new("ts", super::now_ms()),
                KeyValue::new("executionID", self.execution_id.clone()),
                KeyValue::new("projectID", ""),
                KeyValue::new("command", command.to_owned()),
                KeyValue::new("eventType", event_type),
                KeyValue::new("eventData", data.to_string()),
                KeyValue::new("attributes", self.attributes.clone()),
                KeyValue::new("schemaVersion", 1i64),
            ]);
            span.end();
        }
    }
}

#[cfg(not(feature = "otel"))]
mod telemetry {
    pub struct Telemetry;

    impl Telemetry {
        pub fn start() -> Telemetry {
            let _ = (super::env_on("WERF_TELEMETRY"), super::now_ms());
            Telemetry
        }
        pub fn command(&self, _: &str, _: &[serde_json::Value], body: impl FnOnce() -> u8) -> u8 {
            body()
        }
        pub fn shutdown(self) {}
    }
}
