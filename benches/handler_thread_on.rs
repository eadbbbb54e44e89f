//! SPEC P-2: with telemetry on and the background sender present, the handler's thread
//! spends ≤ 50 µs before the body starts.
//!
//! Telemetry is installed the way an app does it: `BENCH_TELEMETRY=1`,
//! `BENCH_TELEMETRY_TRACE_URL=http://127.0.0.1:<port>/v1/traces` of a loopback receiver in
//! this process answering 200, then `Telemetry::builder("bench").install()`, then a parse
//! through the library (so CommandStarted carries a command path and four options).
//!
//! Each instrumented call also flushes at its end (it waits for delivery, one loopback
//! round trip), so the times are taken with `iter_custom`: the handler's body returns
//! `Instant::now()`, and
//! - `p2_warm/call_to_body` is call → first line of the body (P-2; sender thread running and
//!   idle: 2 ms pass, untimed, between calls),
//! - `p2_warm/call_to_body_back_to_back` the same without the pause (the previous call's
//!   request thread and HTTP runtime still busy: a worst case on a 2-core machine),
//! - `p2_warm/body_to_return` is last line of the body → back in the caller (CommandExited
//!   plus the flush that waits for delivery: informative, not a P-2 figure).
//!
//! A CLI process runs one command, so its only call is the *first* one, which also starts
//! the sender thread. After the criterion benches this binary re-runs itself as a child
//! process many times (`P2_COLD_CHILD=1`) and reports the median of those first calls
//! (`p2_cold`), with what `install()` and the parse cost on the main thread before them.
//! With `P2_COLD_OUT=<file>` the cold figures are also written there as JSON.
//! Run: `cargo bench --bench handler_thread_on` (or bench/micro.sh, which also tabulates).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::{Parser, Subcommand};
use cli_telemetry::{instrument_command, Telemetry};
use criterion::{Criterion, SamplingMode};

#[derive(Parser)]
#[command(name = "werf")]
struct Cli {
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    verbose: u8,
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    Converge {
        #[arg(long)]
        repo: String,
        #[arg(long)]
        env: Option<String>,
        #[arg(long)]
        set: Vec<String>,
    },
}

const ARGS: [&str; 10] = [
    "werf",
    "-vv",
    "converge",
    "--repo",
    "registry/app",
    "--env",
    "prod",
    "--set",
    "a=1",
    "--set",
];
const LAST_ARG: &str = "b=2";
/// Pause between two warm calls (not timed).
const IDLE_GAP: Duration = Duration::from_millis(2);

#[instrument_command]
#[inline(never)]
fn converge() -> Instant {
    Instant::now()
}

/// Starts a loopback OTLP receiver answering 200 to every request; returns its URL and
/// the request counter.
fn receiver() -> (String, Arc<AtomicU64>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
    let url = format!("http://{}/v1/traces", listener.local_addr().unwrap());
    let count = Arc::new(AtomicU64::new(0));
    let c = count.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let c = c.clone();
            std::thread::spawn(move || serve(stream, &c));
        }
    });
    (url, count)
}

fn serve(stream: TcpStream, count: &AtomicU64) {
    let _ = stream.set_nodelay(true);
    let Ok(mut writer) = stream.try_clone() else {
        return;
    };
    let mut reader = BufReader::new(stream);
    loop {
        let mut len = 0usize;
        let mut line = String::new();
        loop {
            line.clear();
            if !matches!(reader.read_line(&mut line), Ok(n) if n > 0) {
                return;
            }
            let l = line.trim_end();
            if l.is_empty() {
                break;
            }
            if let Some((k, v)) = l.split_once(':') {
                if k.eq_ignore_ascii_case("content-length") {
                    len = v.trim().parse().unwrap_or(0);
                }
            }
        }
        let mut body = vec![0; len];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        count.fetch_add(1, Ordering::Relaxed);
        let resp =
            b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n{}";
        if writer.write_all(resp).is_err() {
            return;
        }
    }
}

fn set_env(url: &str) {
    // Edition 2021: set_var is safe; called before any thread reads the environment.
    std::env::set_var("BENCH_TELEMETRY", "1");
    std::env::set_var("BENCH_TELEMETRY_TRACE_URL", url);
    for v in [
        "DO_NOT_TRACK",
        "BENCH_TELEMETRY_DEBUG",
        "BENCH_TELEMETRY_LOG_FILE",
        "BENCH_TELEMETRY_TIMEOUT_MS",
    ] {
        std::env::remove_var(v);
    }
}

fn install_and_parse() -> (Duration, Duration) {
    let t0 = Instant::now();
    let on = Telemetry::builder("bench")
        .endpoint("http://127.0.0.1:9/v1/traces")
        .install();
    let t1 = Instant::now();
    assert!(on, "BENCH_TELEMETRY=1 must switch telemetry on");
    let cli: Cli = cli_telemetry::parse_from(ARGS.iter().copied().chain([LAST_ARG]));
    let t2 = Instant::now();
    std::hint::black_box((cli.verbose, &cli.command));
    (t1 - t0, t2 - t1)
}

fn warm(c: &mut Criterion) {
    let (url, count) = receiver();
    set_env(&url);
    install_and_parse();
    let mut g = c.benchmark_group("p2_warm");
    g.sampling_mode(SamplingMode::Flat)
        .sample_size(20)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(4));
    // The sender idle when the command starts (as after `install()`): a pause, not timed,
    // lets the previous call's request thread and the HTTP runtime settle.
    g.bench_function("call_to_body", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                std::thread::sleep(IDLE_GAP);
                let called = Instant::now();
                let body = converge();
                total += body - called;
            }
            total
        })
    });
    // Back to back: the previous call's background work still runs (on 2 cores it competes
    // with the handler's thread). A worst case, not what a CLI run sees.
    g.bench_function("call_to_body_back_to_back", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let called = Instant::now();
                let body = converge();
                total += body - called;
            }
            total
        })
    });
    g.bench_function("body_to_return", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let body = converge();
                total += body.elapsed();
            }
            total
        })
    });
    g.finish();
    let delivered = count.load(Ordering::Relaxed);
    assert!(
        delivered > 0,
        "the receiver got no request: the sender was not working"
    );
    println!("p2_warm: the loopback receiver got {delivered} requests");
}

/// One process, one command: what every CLI run pays. Prints
/// `<install ns> <parse ns> <call→body ns> <body→return ns>`.
fn cold_child() {
    let (install, parse) = install_and_parse();
    let called = Instant::now();
    let body = converge();
    let returned = Instant::now();
    println!(
        "{} {} {} {}",
        install.as_nanos(),
        parse.as_nanos(),
        (body - called).as_nanos(),
        (returned - body).as_nanos()
    );
}

fn cold(runs: usize) {
    let (url, count) = receiver();
    let exe = std::env::current_exe().expect("current exe");
    let mut rows: Vec<[u64; 4]> = Vec::with_capacity(runs);
    for _ in 0..runs {
        let out = std::process::Command::new(&exe)
            .env("P2_COLD_CHILD", "1")
            .env("BENCH_TELEMETRY", "1")
            .env("BENCH_TELEMETRY_TRACE_URL", &url)
            .env_remove("DO_NOT_TRACK")
            .output()
            .expect("run child");
        let text = String::from_utf8_lossy(&out.stdout);
        let v: Vec<u64> = text
            .split_whitespace()
            .filter_map(|s| s.parse().ok())
            .collect();
        if out.status.success() && v.len() == 4 {
            rows.push([v[0], v[1], v[2], v[3]]);
        }
    }
    assert!(!rows.is_empty(), "no cold run succeeded");
    let med = |i: usize| {
        let mut col: Vec<u64> = rows.iter().map(|r| r[i]).collect();
        col.sort_unstable();
        (col[col.len() / 2], col[col.len() * 9 / 10])
    };
    let names = [
        "install",
        "parse_and_record",
        "call_to_body",
        "body_to_return",
    ];
    let mut json = String::from("{");
    println!(
        "p2_cold ({} processes, first and only call of each; receiver got {} requests):",
        rows.len(),
        count.load(Ordering::Relaxed)
    );
    for (i, name) in names.iter().enumerate() {
        let (m, p90) = med(i);
        println!(
            "  {name:<18} median {:>9.1} µs   p90 {:>9.1} µs",
            m as f64 / 1e3,
            p90 as f64 / 1e3
        );
        json.push_str(&format!(
            "{}\"{name}\":{{\"median_ns\":{m},\"p90_ns\":{p90}}}",
            if i > 0 { "," } else { "" }
        ));
    }
    json.push_str(&format!(",\"runs\":{}}}", rows.len()));
    if let Some(path) = std::env::var_os("P2_COLD_OUT") {
        let _ = std::fs::write(path, json + "\n");
    }
}

fn main() {
    if std::env::var_os("P2_COLD_CHILD").is_some() {
        cold_child();
        return;
    }
    // `cargo bench` passes `--bench`; `cargo test --benches` runs it once as a smoke test.
    let mut c = Criterion::default().configure_from_args();
    let test_mode = std::env::args().any(|a| a == "--test" || a == "--list");
    warm(&mut c);
    if !test_mode {
        let runs = std::env::var("P2_COLD_RUNS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(300);
        cold(runs);
    }
    c.final_summary();
}
