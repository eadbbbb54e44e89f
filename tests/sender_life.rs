//! One sender, and no event stranded (SPEC S-19, R-5), black box on loopback: every event of
//! every run is delivered within that run's life plus a sender's — back-to-back runs, many
//! short runs in a row, a run during a sender's last second — each once; runs alternating
//! on and off leave at most one sender; an opt-out in another run (`DO_NOT_TRACK`) or the
//! queue removed under it ends a sender within moments, mid-request too. Processes are
//! counted through `/proc`.
#![cfg(all(feature = "telemetry", target_os = "linux"))]

mod common;

use common::sender::{detached, queue_dir, queued, LONG};

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::otlp::events_in;
use common::procs::{alive, senders_under};
use common::{eventually, read_log, sender_pids, werf, Mode, Receiver};

const CONVERGE: &[&str] = &["converge", "--repo", "r"];
const HELM: &[&str] = &["helm", "get-release", "--namespace", "n"];

/// How many times each (executionID, eventType) arrived.
fn arrivals(receiver: &Receiver) -> BTreeMap<(String, String), usize> {
    let mut seen = BTreeMap::new();
    for e in events_in(&receiver.bodies()) {
        *seen.entry((e.execution_id, e.event_type)).or_insert(0) += 1;
    }
    seen
}

/// Every event the log recorded arrived, once; the queue is empty; no sender is left.
fn all_delivered_once(receiver: &Receiver, log: &Path, home: &tempfile::TempDir, what: &str) {
    let recorded = read_log(log).events.events().len();
    assert!(
        eventually(LONG, || arrivals(receiver).len() >= recorded),
        "{what}: {} of {recorded} arrived; queue {:?}",
        arrivals(receiver).len(),
        queued(home)
    );
    assert!(
        eventually(LONG, || senders_under(home.path()).is_empty()),
        "{what}: no sender left"
    );
    let seen = arrivals(receiver);
    assert_eq!(seen.len(), recorded, "{what}");
    assert!(
        seen.values().all(|n| *n == 1),
        "{what}: each once: {seen:?}"
    );
    assert!(queued(home).is_empty(), "{what}: {:?}", queued(home));
}

#[test]
fn back_to_back_runs_the_second_longer_than_the_first_s_drain() {
    // `werf converge; BENCH_WORK_MS=300 werf helm get-release …`: the second run starts
    // while the first's sender drains, and ends after that sender would have left.
    for trial in 0..4 {
        let receiver = Receiver::start(Mode::Status(200));
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("t.log");
        let home = werf(&[]).home_dir();
        detached(werf(CONVERGE).home(Some(&home)), &receiver.url(), &log).run();
        detached(werf(HELM).home(Some(&home)), &receiver.url(), &log)
            .env("BENCH_WORK_MS", "300")
            .run();
        all_delivered_once(&receiver, &log, &home, &format!("trial {trial}"));
        assert_eq!(read_log(&log).events.events().len(), 4);
    }
}

#[test]
fn many_short_runs_in_a_row() {
    let receiver = Receiver::start(Mode::Delay(Duration::from_millis(30)));
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("t.log");
    let home = werf(&[]).home_dir();
    for i in 0..12 {
        let args = if i % 3 == 0 { HELM } else { CONVERGE };
        detached(werf(args).home(Some(&home)), &receiver.url(), &log)
            .env("BENCH_WORK_MS", if i % 4 == 0 { "120" } else { "0" })
            .run();
    }
    all_delivered_once(&receiver, &log, &home, "12 runs in a row");
    assert_eq!(read_log(&log).events.events().len(), 24);
}

#[test]
fn a_run_during_a_sender_s_last_second_is_delivered_by_a_successor_or_its_own_exit() {
    // The sender lives 1.5 s and its first request takes 1.2 s: the second run's first
    // event arrives while the sender is busy and its last one after the sender's life.
    let receiver = Receiver::start(Mode::Delay(Duration::from_millis(1200)));
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("t.log");
    let home = werf(&[]).home_dir();
    let life = ("WERF_TELEMETRY_SENDER_LIFE_MS", "1500");
    detached(werf(CONVERGE).home(Some(&home)), &receiver.url(), &log)
        .env(life.0, life.1)
        .run();
    assert!(eventually(LONG, || !receiver.requests().is_empty()));
    detached(werf(HELM).home(Some(&home)), &receiver.url(), &log)
        .env(life.0, life.1)
        .env("BENCH_WORK_MS", "900")
        .run();
    all_delivered_once(&receiver, &log, &home, "a run in the sender's last second");
}

#[test]
fn runs_alternating_on_and_off_on_a_black_hole_leave_at_most_one_sender() {
    let hole = Receiver::start(Mode::BlackHole);
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("t.log");
    let home = werf(&[]).home_dir();
    let stop = Arc::new(AtomicBool::new(false));
    let most = Arc::new(Mutex::new(0usize));
    let watcher = {
        let (stop, most, home) = (stop.clone(), most.clone(), home.path().to_owned());
        std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                let n = senders_under(&home).len();
                let mut most = most.lock().unwrap();
                *most = (*most).max(n);
                drop(most);
                std::thread::sleep(Duration::from_millis(2));
            }
        })
    };
    for i in 0..8 {
        let on = i % 2 == 0;
        detached(werf(CONVERGE).home(Some(&home)), &hole.url(), &log)
            .env("WERF_TELEMETRY", if on { "1" } else { "0" })
            .env("WERF_TELEMETRY_SENDER_LIFE_MS", "20000")
            .run();
        std::thread::sleep(Duration::from_millis(150));
    }
    // The last run is off: it asked the sender of the run before it to stop.
    assert!(
        eventually(LONG, || senders_under(home.path()).is_empty()),
        "the opt-out ended the sender"
    );
    // One more on: one sender, and only one, however the runs before ended.
    detached(werf(CONVERGE).home(Some(&home)), &hole.url(), &log)
        .env("WERF_TELEMETRY_SENDER_LIFE_MS", "20000")
        .run();
    assert!(eventually(LONG, || senders_under(home.path()).len() == 1));
    std::thread::sleep(Duration::from_millis(300));
    stop.store(true, Ordering::Relaxed);
    watcher.join().unwrap();
    let most = *most.lock().unwrap();
    assert!(
        most <= 2,
        "at most two at a moment (one ending, one starting): {most}"
    );
    let left = senders_under(home.path());
    assert_eq!(left.len(), 1, "at most one sender left: {left:?}");
    for pid in left {
        // SAFETY: a signal to a sender this test's runs started.
        unsafe { libc::kill(pid as i32, libc::SIGKILL) };
    }
}

/// A sender with its request in flight to an endpoint that answers after 8 s; its pid.
fn sender_in_flight(receiver: &Receiver, log: &Path, home: &Arc<tempfile::TempDir>) -> u32 {
    detached(werf(CONVERGE).home(Some(home)), &receiver.url(), log)
        .env("WERF_TELEMETRY_SENDER_LIFE_MS", "30000")
        .run();
    assert!(eventually(LONG, || !sender_pids(log).is_empty()));
    assert!(
        eventually(LONG, || !receiver.requests().is_empty()),
        "its request is in flight"
    );
    sender_pids(log)[0]
}

#[test]
fn do_not_track_in_any_later_run_ends_a_sender_mid_request() {
    let slow = Receiver::start(Mode::Delay(Duration::from_secs(8)));
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("t.log");
    let home = werf(&[]).home_dir();
    let sender = sender_in_flight(&slow, &log, &home);
    // Another run, not even instrumented, with DO_NOT_TRACK: the queue goes, and the
    // sender is asked to stop.
    let version = werf(&["version"])
        .home(Some(&home))
        .env("WERF_TELEMETRY", "1")
        .env("DO_NOT_TRACK", "1")
        .run();
    assert_eq!(version.code(), Some(0));
    assert!(eventually(LONG, || !alive(sender)), "the sender stopped");
    let sent_at = slow.requests()[0].at;
    assert!(
        std::time::SystemTime::now() < sent_at + Duration::from_secs(8),
        "it stopped before the endpoint answered"
    );
    assert!(queued(&home).is_empty());
    let parsed = read_log(&log);
    let stopped = parsed.diagnostics_containing(
        "telemetry was switched off by another run, which deleted the queue: the detached sender stopped",
    );
    assert_eq!(stopped.len(), 1);
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(slow.requests().len(), 1, "nothing after the opt-out");
}

#[test]
fn removing_the_queue_under_a_sender_ends_it() {
    // `rm -r ~/.cache/werf/telemetry-spool` while a sender holds claims.
    let slow = Receiver::start(Mode::Delay(Duration::from_secs(8)));
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("t.log");
    let home = werf(&[]).home_dir();
    let sender = sender_in_flight(&slow, &log, &home);
    std::fs::remove_dir_all(queue_dir(&home)).unwrap();
    assert!(eventually(LONG, || !alive(sender)), "the sender stopped");
    assert_eq!(
        read_log(&log)
            .diagnostics_containing(
                "the queue was deleted or replaced while the detached sender ran"
            )
            .len(),
        1
    );
    assert!(!queue_dir(&home).exists(), "nothing made again");
    // The next run makes a new queue and a new sender.
    let receiver = Receiver::start(Mode::Status(200));
    let next = dir.path().join("next.log");
    detached(werf(CONVERGE).home(Some(&home)), &receiver.url(), &next).run();
    all_delivered_once(&receiver, &next, &home, "the run after");
}
