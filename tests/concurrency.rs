//! SPEC R-3: instrumented handlers on many threads of one process, and many processes
//! sharing one log file, lose no event and tear no line. This file is its own process: it
//! installs the real (global) runtime, sending to a loopback receiver.
#![cfg(feature = "telemetry")]

mod common;

use std::collections::HashMap;
use std::time::Duration;

use cli_telemetry::{instrument_command, Telemetry};
use common::{werf, Mode, Receiver};

#[instrument_command(name = "conc sync")]
fn sync_handler(i: u32) -> u32 {
    i % 7
}

#[instrument_command(name = "conc async")]
async fn async_handler(i: u32) -> u32 {
    tokio::task::yield_now().await;
    i % 5
}

fn spans_received(receiver: &Receiver) -> Vec<(String, String, String)> {
    let mut spans = Vec::new();
    for body in receiver.bodies() {
        let json: serde_json::Value = serde_json::from_slice(&body).expect("body is JSON");
        for span in json["resourceSpans"][0]["scopeSpans"][0]["spans"]
            .as_array()
            .unwrap()
        {
            let attr = |k: &str| {
                span["attributes"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .find(|a| a["key"] == k)
                    .unwrap()["value"]["stringValue"]
                    .as_str()
                    .unwrap()
                    .to_owned()
            };
            spans.push((attr("command"), attr("eventType"), attr("eventData")));
        }
    }
    spans
}

#[test]
fn threads_in_one_process_and_processes_sharing_a_log_file() {
    let receiver = Receiver::start(Mode::Status(200));
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("in-process.log");
    // This test is alone in its process: setting the environment before install is safe.
    std::env::set_var("CONC_TELEMETRY", "1");
    std::env::set_var("CONC_TELEMETRY_TRACE_URL", receiver.url());
    std::env::set_var("CONC_TELEMETRY_LOG_FILE", &log);
    std::env::set_var("CONC_TELEMETRY_TIMEOUT_MS", "10000");
    std::env::set_var("XDG_CACHE_HOME", dir.path().join("cache"));
    assert!(Telemetry::builder("conc").install());

    const THREADS: u32 = 32;
    const CALLS: u32 = 5;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .enable_all()
        .build()
        .unwrap();
    let handle = rt.handle().clone();
    let threads: Vec<_> = (0..THREADS)
        .map(|t| {
            let handle = handle.clone();
            std::thread::spawn(move || {
                for c in 0..CALLS {
                    if t % 2 == 0 {
                        assert_eq!(sync_handler(t * CALLS + c), (t * CALLS + c) % 7);
                    } else {
                        // Spawned: polled on the runtime's worker threads, moving between them.
                        let i = t * CALLS + c;
                        assert_eq!(
                            handle.block_on(handle.spawn(async_handler(i))).unwrap(),
                            i % 5
                        );
                    }
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let expected_events = (THREADS * CALLS * 2) as usize;
    let parsed = common::read_log(&log);
    assert!(
        parsed.invalid.is_empty(),
        "torn lines: {:?}",
        parsed.invalid
    );
    assert_eq!(parsed.events.events().len(), expected_events);
    let spans = spans_received(&receiver);
    assert_eq!(spans.len(), expected_events, "every span arrives");
    let mut exits: HashMap<String, usize> = HashMap::new();
    for (command, event_type, _) in &spans {
        if event_type == "CommandExited" {
            *exits.entry(command.clone()).or_default() += 1;
        }
    }
    assert_eq!(exits["conc sync"], (THREADS / 2 * CALLS) as usize);
    assert_eq!(exits["conc async"], (THREADS / 2 * CALLS) as usize);

    // 40 processes, one log file.
    const PROCESSES: usize = 40;
    let shared_log = dir.path().join("shared.log");
    let url = receiver.url();
    let before = spans.len();
    let runs: Vec<_> = (0..PROCESSES)
        .map(|i| {
            let (url, log) = (url.clone(), shared_log.clone());
            std::thread::spawn(move || {
                let args = if i % 2 == 0 {
                    vec!["converge", "--repo", "r"]
                } else {
                    vec!["build", "img"]
                };
                werf(&args)
                    .telemetry(&url, &log)
                    .env("WERF_TELEMETRY_TIMEOUT_MS", "10000")
                    .run()
            })
        })
        .collect();
    for run in runs {
        assert_eq!(run.join().unwrap().code(), Some(0));
    }
    let parsed = common::read_log(&shared_log);
    assert!(
        parsed.invalid.is_empty(),
        "torn lines: {:?}",
        parsed.invalid
    );
    let events = parsed.events.events();
    // converge: 2 events; build: 2 + BuildStarted + BuildFinished.
    assert_eq!(events.len(), PROCESSES / 2 * 2 + PROCESSES / 2 * 4);
    let mut per_run: HashMap<&str, usize> = HashMap::new();
    for e in events {
        *per_run.entry(e.execution_id.as_str()).or_default() += 1;
    }
    assert_eq!(per_run.len(), PROCESSES);
    assert_eq!(
        parsed.diagnostics_containing("event delivered").len(),
        events.len()
    );
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while spans_received(&receiver).len() < before + events.len()
        && std::time::Instant::now() < deadline
    {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(spans_received(&receiver).len(), before + events.len());
}
