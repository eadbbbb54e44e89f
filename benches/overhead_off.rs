//! SPEC P-1: with telemetry off, an `#[instrument_command]` handler costs ≤ 20 ns more than
//! the same plain function.
//!
//! Two situations, in this order (installation is process-wide and first wins):
//! - `not_installed`: the app never called `Telemetry::install` (a library user, a test);
//! - `installed_off`: `install()` ran with `BENCH_TELEMETRY=0` (what every user who
//!   switched telemetry off gets).
//!
//! Each group times the plain function and the instrumented one side by side, for a
//! handler returning `()` and one returning `Result` (werf's handlers).
//! Run: `cargo bench --bench overhead_off` (or bench/micro.sh, which also tabulates).

use std::hint::black_box;
use std::time::Duration;

use cli_telemetry::{instrument_command, Telemetry};
use criterion::{criterion_group, criterion_main, Criterion};

#[derive(Debug)]
pub struct WerfError;

#[inline(never)]
fn plain_unit(namespace: &str) {
    black_box(namespace.len());
}

#[instrument_command]
#[inline(never)]
fn instrumented_unit(namespace: &str) {
    black_box(namespace.len());
}

#[inline(never)]
fn plain_result(n: u64) -> Result<u64, WerfError> {
    if black_box(n) == u64::MAX {
        Err(WerfError)
    } else {
        Ok(n + 1)
    }
}

#[instrument_command]
#[inline(never)]
fn instrumented_result(n: u64) -> Result<u64, WerfError> {
    if black_box(n) == u64::MAX {
        Err(WerfError)
    } else {
        Ok(n + 1)
    }
}

fn pairs(c: &mut Criterion, group: &str) {
    let mut g = c.benchmark_group(group);
    g.bench_function("unit/plain", |b| {
        b.iter(|| plain_unit(black_box("production")))
    });
    g.bench_function("unit/instrumented", |b| {
        b.iter(|| instrumented_unit(black_box("production")))
    });
    g.bench_function("result/plain", |b| b.iter(|| plain_result(black_box(41))));
    g.bench_function("result/instrumented", |b| {
        b.iter(|| instrumented_result(black_box(41)))
    });
    g.finish();
}

fn not_installed(c: &mut Criterion) {
    pairs(c, "p1_not_installed");
}

fn installed_off(c: &mut Criterion) {
    // Edition 2021: set_var is safe; nothing else runs on other threads here yet.
    std::env::set_var("BENCH_TELEMETRY", "0");
    std::env::remove_var("DO_NOT_TRACK");
    let on = Telemetry::builder("bench")
        .endpoint("http://127.0.0.1:9/v1/traces")
        .install();
    assert!(!on, "BENCH_TELEMETRY=0 must switch telemetry off");
    pairs(c, "p1_installed_off");
}

fn config() -> Criterion {
    Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .sample_size(50)
}

criterion_group! {
    name = benches;
    config = config();
    targets = not_installed, installed_off
}
criterion_main!(benches);
