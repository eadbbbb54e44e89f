//! 40 runs started at once in detached mode (SPEC R-5): every event is delivered once, at
//! most two senders are alive at any moment, none outlives its life, and none leaves a
//! zombie. Alone in its test binary: the test process makes itself a child subreaper, so
//! that the orphaned senders become its children (as they become init's on a real
//! machine, whose init reaps them), and it reaps only them.
#![cfg(all(feature = "telemetry", target_os = "linux"))]

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::otlp::events_in;
use common::procs::{children, senders_under, state};
use common::{eventually, read_log, werf, Mode, Receiver};

#[test]
fn forty_runs_at_once_deliver_every_event_once_with_at_most_two_senders() {
    // SAFETY: prctl with integer arguments.
    assert_eq!(
        unsafe { libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) },
        0
    );
    const RUNS: usize = 40;
    const LIFE_MS: u64 = 4000;
    // Requests that take a while, so that senders and runs overlap.
    let receiver = Receiver::start(Mode::Delay(Duration::from_millis(40)));
    let home = werf(&[]).home_dir();
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("shared.log");

    // Watch the senders of this home: how many are alive at once, and their children.
    let stop = Arc::new(AtomicBool::new(false));
    let seen: Arc<Mutex<BTreeMap<u32, Instant>>> = Arc::default();
    let most = Arc::new(Mutex::new(0usize));
    let with_children = Arc::new(Mutex::new(BTreeSet::new()));
    let watcher = {
        let (stop, seen, most, with_children) = (
            stop.clone(),
            seen.clone(),
            most.clone(),
            with_children.clone(),
        );
        let home = home.path().to_owned();
        std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                let alive = senders_under(&home);
                let mut most = most.lock().unwrap();
                *most = (*most).max(alive.len());
                for pid in alive {
                    seen.lock().unwrap().entry(pid).or_insert_with(Instant::now);
                    if !children(pid).is_empty() {
                        with_children.lock().unwrap().insert(pid);
                    }
                }
                std::thread::sleep(Duration::from_millis(1));
            }
        })
    };

    let url = receiver.url();
    let runs: Vec<_> = (0..RUNS)
        .map(|_| {
            let (home, url, log) = (home.clone(), url.clone(), log.clone());
            std::thread::spawn(move || {
                werf(&["converge", "--repo", "r"])
                    .home(Some(&home))
                    .telemetry(&url, &log)
                    .env("WERF_TELEMETRY_DELIVERY", "detached")
                    .env("WERF_TELEMETRY_SENDER_LIFE_MS", LIFE_MS.to_string())
                    .run()
            })
        })
        .collect();
    for run in runs {
        assert_eq!(run.join().unwrap().code(), Some(0));
    }
    let recorded = read_log(&log).events.events().len();
    assert_eq!(recorded, RUNS * 2);
    assert!(
        eventually(Duration::from_secs(30), || {
            events_in(&receiver.bodies()).len() >= recorded
        }),
        "{} of {recorded} delivered",
        events_in(&receiver.bodies()).len()
    );

    // Every sender ends within its life (and a little scheduling), and is reaped.
    let limit = Duration::from_millis(LIFE_MS) + Duration::from_secs(3);
    assert!(
        eventually(limit + Duration::from_secs(2), || senders_under(
            home.path()
        )
        .is_empty()),
        "no sender is left: {:?}",
        senders_under(home.path())
    );
    stop.store(true, Ordering::Relaxed);
    watcher.join().unwrap();
    let seen = seen.lock().unwrap().clone();
    assert!(!seen.is_empty(), "senders were seen");
    for pid in seen.keys() {
        // A zombie now is a child of this process (the subreaper): reap it, as init would.
        if state(*pid) == Some('Z') {
            let mut status = 0;
            // SAFETY: waitpid on a process id with a pointer to a local.
            let reaped = unsafe { libc::waitpid(*pid as i32, &mut status, libc::WNOHANG) };
            assert_eq!(reaped, *pid as i32, "{pid} is a child of this subreaper");
            assert!(libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0);
        }
        assert_eq!(state(*pid), None, "{pid} is gone");
    }
    assert!(
        with_children.lock().unwrap().is_empty(),
        "no sender had a child"
    );
    let most = *most.lock().unwrap();
    assert!(most <= 2, "at most two senders alive at once: {most}");

    // Every event once, none lost, none twice.
    let events = events_in(&receiver.bodies());
    let mut keys: Vec<(String, String)> = events
        .iter()
        .map(|e| (e.execution_id.clone(), e.event_type.clone()))
        .collect();
    keys.sort();
    let unique: BTreeSet<_> = keys.iter().cloned().collect();
    assert_eq!(keys.len(), recorded, "none twice");
    assert_eq!(unique.len(), recorded, "none lost");
    let fates = read_log(&log)
        .diagnostics_containing("event delivered")
        .len();
    assert_eq!(fates, recorded, "every fate in the log file");
}
