//! The zero-wait exit (SPEC S-9, S-13, S-19, R-5), black box on loopback: every event goes to
//! the durable queue as it is recorded, the exit hands the queue to one detached sender (the
//! same executable, marked in its environment) and returns at once, and the sender delivers
//! after the command is done — with no descriptor of the command's, a bounded life, nothing
//! after an opt-out, and every fate in the log file. Processes are counted through `/proc`.
#![cfg(all(feature = "telemetry", target_os = "linux"))]

mod common;

use common::sender::{detached, queue_dir, queued, senders_end, LONG};

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use common::otlp::events_in;
use common::procs::alive;
use common::proxy::{Proxy, ProxyMode};
use common::tls::{Leaf, TestCa};
use common::{eventually, example, read_log, sender_pids, werf, werf_bin, Mode, Receiver};

const CONVERGE: &[&str] = &["converge", "--repo", "r"];

/// (executionID, eventType) of events, sorted.
fn keys(events: &[cli_telemetry::Event]) -> Vec<(String, String)> {
    let mut keys: Vec<_> = events
        .iter()
        .map(|e| (e.execution_id.clone(), e.event_type.clone()))
        .collect();
    keys.sort();
    keys
}

fn received(receiver: &Receiver) -> Vec<cli_telemetry::Event> {
    events_in(&receiver.bodies())
}

#[test]
fn events_arrive_after_the_exit_once_each_with_their_fates_in_the_log() {
    let receiver = Receiver::start(Mode::Status(200));
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("t.log");
    let run = werf(CONVERGE);
    let home = run.home_dir();
    let on = detached(run, &receiver.url(), &log).run();
    on.assert_same_as(&werf(CONVERGE).run(), "detached");
    let handed = read_log(&log);
    // Started early, with the run's first event, so that the exit had nothing to start.
    let line = handed.diagnostics_containing("events queued for the detached sender, started now");
    assert_eq!(line.len(), 1, "{:?}", handed.diagnostics);
    assert_eq!(line[0]["when"], "early");
    assert!(line[0]["events"].as_u64().is_some_and(|n| n >= 1));
    assert!(line[0]["senderPid"].as_u64().is_some());

    assert!(eventually(LONG, || received(&receiver).len() >= 2));
    senders_end(&log);
    let parsed = read_log(&log);
    assert_eq!(
        keys(&received(&receiver)),
        keys(parsed.events.events()),
        "each event once"
    );
    let fates = parsed.diagnostics_containing("event delivered");
    assert_eq!(fates.len(), 2);
    assert!(fates.iter().all(|d| d["by"] == "detached sender"));
    assert!(
        queued(&home).is_empty(),
        "the queue is empty: {:?}",
        queued(&home)
    );
}

#[test]
fn cli_telemetry_exit_from_another_thread_hands_off_the_same_way() {
    // fd's shape: a Ctrl-C thread ends the process with `cli_telemetry::exit(130)` while
    // the handler runs.
    let bin = common::example_bin("fd_like");
    let receiver = Receiver::start(Mode::Status(200));
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("t.log");
    let run = example(&bin, &["--interrupt", "x"]);
    let _home = run.home_dir(); // kept while the sender runs
    let on = run
        .app_telemetry(&receiver.url(), &log)
        .env("APP_TELEMETRY_DELIVERY", "detached")
        .run();
    assert_eq!(on.code(), Some(130));
    assert!(eventually(LONG, || received(&receiver).len() >= 2));
    let events = received(&receiver);
    let exited = events
        .iter()
        .find(|e| e.event_type == "CommandExited")
        .unwrap();
    assert_eq!(exited.exit_code(), Some(130));
}

#[test]
fn the_exit_hands_off_the_same_way_after_a_code_a_panic_and_an_exit_call() {
    for (args, code) in [
        (&["kube-run", "--exit-code", "3"][..], 3),
        (&["debug-panic"][..], 101),
        (&["converge", "--repo", "r", "--fail-with", "7"][..], 7),
    ] {
        let receiver = Receiver::start(Mode::Status(200));
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("t.log");
        let run = werf(args);
        let _home = run.home_dir(); // kept while the sender runs
        let on = detached(run, &receiver.url(), &log).run();
        on.assert_same_as(&werf(args).run(), &format!("{args:?}"));
        assert!(
            eventually(LONG, || received(&receiver).len() >= 2),
            "{args:?}"
        );
        senders_end(&log);
        let events = received(&receiver);
        assert_eq!(events.len(), 2, "{args:?}");
        let exited = events
            .iter()
            .find(|e| e.event_type == "CommandExited")
            .unwrap();
        assert_eq!(exited.exit_code(), Some(code), "{args:?}");
    }
}

/// A shell around the mini-werf, with this test's environment.
fn shell(script: &str, home: &Arc<tempfile::TempDir>, url: &str, log: &Path) -> common::Finished {
    detached(
        example(Path::new("/bin/sh"), &["-c", script]).home(Some(home)),
        url,
        log,
    )
    .env("WERF", werf_bin())
    .env("WERF_TELEMETRY_SENDER_LIFE_MS", "15000")
    .run()
}

#[test]
fn command_substitution_pipes_and_an_inherited_descriptor_return_while_the_sender_waits() {
    let hole = Receiver::start(Mode::BlackHole);
    for script in [
        r#"out=$("$WERF" converge --repo r); printf '%s' "$out""#,
        r#""$WERF" converge --repo r | head -c 8"#,
        // fd 3 is a pipe to `cat`, stdout and stderr go elsewhere: only fd 3 could keep the
        // pipeline open.
        r#"{ "$WERF" converge --repo r 3>&1 >/dev/null 2>&1; } | cat"#,
    ] {
        // A home of its own: each script's run starts its own sender.
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("t.log");
        let home = werf(&[]).home_dir();
        let done = shell(script, &home, &hole.url(), &log);
        assert_eq!(done.code(), Some(0), "{script}: {}", done.stderr());
        assert!(
            eventually(LONG, || !sender_pids(&log).is_empty()),
            "{script}: a sender started"
        );
        let pid = sender_pids(&log)[0];
        assert!(
            alive(pid),
            "{script}: the shell returned while the sender still waits on the black hole"
        );
        assert!(
            common::procs::children(pid).is_empty(),
            "the sender has no children"
        );
        // Later runs find it alive and only append.
        shell(script, &home, &hole.url(), &log);
        assert_eq!(
            sender_pids(&log),
            vec![pid],
            "{script}: one sender for both runs"
        );
    }
}

#[test]
fn sigkill_during_a_long_handler_loses_nothing_in_either_mode() {
    for mode in ["detached", "inline"] {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("t.log");
        let receiver = Receiver::start(Mode::Status(200));
        // Inline, the killed run's request is in flight to a black hole when it dies.
        let hole = Receiver::start(Mode::BlackHole);
        let url = if mode == "inline" {
            hole.url()
        } else {
            receiver.url()
        };
        let run = werf(&["helm", "get-release", "--namespace", "n"]);
        let home = run.home_dir();
        let mut child = run
            .telemetry(&url, &log)
            .env("WERF_TELEMETRY_DELIVERY", mode)
            .env("BENCH_WORK_MS", "30000")
            .spawn();
        assert!(
            eventually(LONG, || !queued(&home).is_empty()),
            "{mode}: CommandStarted is in the queue"
        );
        if mode == "inline" {
            assert!(eventually(LONG, || !hole.requests().is_empty()));
        }
        child.kill().unwrap();
        child.wait().unwrap();
        let killed = keys(read_log(&log).events.events());
        assert_eq!(killed.len(), 1, "{mode}: only CommandStarted was recorded");
        if mode == "detached" {
            // The run's own sender, started with its first event, sees it end and sends.
            assert!(
                eventually(LONG, || keys(&received(&receiver)) == killed),
                "{mode}: the killed run's CommandStarted, delivered after its death"
            );
        }

        let next = dir.path().join("next.log");
        werf(CONVERGE)
            .home(Some(&home))
            .telemetry(&receiver.url(), &next)
            .env("WERF_TELEMETRY_DELIVERY", mode)
            .run();
        assert!(
            eventually(LONG, || received(&receiver).len() >= 3),
            "{mode}: {:?}",
            keys(&received(&receiver))
        );
        senders_end(&log);
        senders_end(&next);
        let got = keys(&received(&receiver));
        assert_eq!(got.len(), 3, "{mode}: {got:?}");
        assert_eq!(
            got.iter().filter(|k| **k == killed[0]).count(),
            1,
            "{mode}: the killed run's CommandStarted, once"
        );
        assert!(queued(&home).is_empty(), "{mode}: {:?}", queued(&home));
    }
}

#[test]
fn sigint_during_an_inline_exit_wait_loses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("t.log");
    let hole = Receiver::start(Mode::BlackHole);
    let run = werf(CONVERGE);
    let home = run.home_dir();
    let mut child = run
        .telemetry(&hole.url(), &log)
        .env("WERF_TELEMETRY_TIMEOUT_MS", "30000")
        .spawn();
    // Both events recorded and in the queue, the exit waiting on the black hole.
    assert!(eventually(LONG, || read_log(&log).events.events().len()
        == 2
        && queued(&home).len() == 2
        && !hole.requests().is_empty()));
    let status = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let exit = child.wait().unwrap();
    assert_eq!(exit.code(), None, "ended by SIGINT");
    let interrupted = keys(read_log(&log).events.events());

    let receiver = Receiver::start(Mode::Status(200));
    werf(CONVERGE)
        .home(Some(&home))
        .telemetry(&receiver.url(), &dir.path().join("next.log"))
        .run();
    let got = keys(&received(&receiver));
    assert_eq!(
        got.len(),
        4,
        "this run's two and the interrupted run's two: {got:?}"
    );
    for key in &interrupted {
        assert_eq!(got.iter().filter(|k| *k == key).count(), 1, "{key:?} once");
    }
    assert!(queued(&home).is_empty());
}

#[test]
fn an_opt_out_during_a_drain_stops_the_sender_and_empties_the_queue() {
    // Answers after 8 s: the sender is stopped with its request in flight.
    let slow = Receiver::start(Mode::Delay(Duration::from_secs(8)));
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("t.log");
    let first = werf(CONVERGE);
    let home = first.home_dir();
    detached(first, &slow.url(), &log).run();
    assert!(eventually(LONG, || !sender_pids(&log).is_empty()));
    let sender = sender_pids(&log)[0];
    assert!(
        eventually(LONG, || received(&slow).len() == 2),
        "the first run's request is in flight"
    );
    // A second run only appends: the sender is busy with the first run's request.
    detached(werf(CONVERGE).home(Some(&home)), &slow.url(), &log)
        .env("WERF_TELEMETRY_SENDER_LIFE_MS", "30000")
        .run();
    let disable = werf(&["telemetry", "disable"]).home(Some(&home)).run();
    assert_eq!(disable.code(), Some(0));
    assert!(eventually(LONG, || !alive(sender)), "the sender stopped");
    // Gone before the endpoint could have answered: it did not wait for the reply (the old
    // sender re-read the choice only between requests).
    let sent_at = slow.requests()[0].at;
    assert!(
        std::time::SystemTime::now() < sent_at + Duration::from_secs(8),
        "it stopped mid-request, before the endpoint answered"
    );
    let parsed = read_log(&log);
    let runs: Vec<&str> = parsed
        .events
        .events()
        .iter()
        .map(|e| e.execution_id.as_str())
        .collect();
    let sent = received(&slow);
    assert_eq!(
        sent.len(),
        2,
        "only the request in flight: {:?}",
        keys(&sent)
    );
    assert!(sent.iter().all(|e| e.execution_id == runs[0]));
    assert_eq!(
        parsed
            .diagnostics_containing(
                "telemetry is off now: the detached sender stopped and deleted the queue"
            )
            .len(),
        1
    );
    assert!(!queue_dir(&home).exists(), "the queue is gone");
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(received(&slow).len(), 2, "nothing after the opt-out");
}

#[test]
fn ci_and_the_inline_setting_deliver_before_the_exit() {
    for (var, value, decided) in [
        ("CI", "true", "ci"),
        ("WERF_TELEMETRY_DELIVERY", "inline", "env"),
    ] {
        let receiver = Receiver::start(Mode::Status(200));
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("t.log");
        let done = werf(CONVERGE)
            .telemetry(&receiver.url(), &log)
            .env_remove("WERF_TELEMETRY_DELIVERY")
            .env(var, value)
            .run();
        assert_eq!(done.code(), Some(0));
        // Read at once: the events were delivered before the process exited.
        assert_eq!(received(&receiver).len(), 2, "{var}");
        let parsed = read_log(&log);
        assert_eq!(parsed.diagnostics_containing("event delivered").len(), 2);
        assert!(parsed.diagnostics_containing("detached sender").is_empty());
        let status = werf(&["telemetry", "status", "--json"])
            .env("WERF_TELEMETRY", "1")
            .env(var, value)
            .run();
        let json: serde_json::Value = serde_json::from_str(&status.stdout()).unwrap();
        assert_eq!(json["delivery"]["mode"], "inline", "{var}");
        assert_eq!(json["delivery"]["decidedBy"], decided, "{var}");
    }
}

#[test]
fn status_names_the_mode_and_what_decided_it() {
    let status = |env: &[(&str, &str)]| {
        let mut run = werf(&["telemetry", "status", "--json"]).env("WERF_TELEMETRY", "1");
        for (k, v) in env {
            run = run.env(k, v);
        }
        serde_json::from_str::<serde_json::Value>(&run.run().stdout()).unwrap()
    };
    let json = status(&[]);
    assert_eq!(json["delivery"]["mode"], "detached");
    assert_eq!(json["delivery"]["decidedBy"], "default");
    assert_eq!(json["delivery"]["senderLifeMs"], 10_000);
    let json = status(&[("WERF_TELEMETRY_DELIVERY", "sometimes")]);
    assert_eq!(
        json["delivery"]["mode"], "detached",
        "an invalid value is ignored"
    );
    assert!(json["ignored"][0]["message"]
        .as_str()
        .unwrap()
        .contains("WERF_TELEMETRY_DELIVERY=\"sometimes\" is neither detached nor inline"));
    let json = status(&[("WERF_TELEMETRY_SENDER_LIFE_MS", "2500")]);
    assert_eq!(json["delivery"]["senderLifeMs"], 2500);
    let text = werf(&["telemetry", "status"])
        .env("WERF_TELEMETRY", "1")
        .run();
    assert!(
        text.stdout().contains("delivery:    detached"),
        "{}",
        text.stdout()
    );
    assert!(text
        .stdout()
        .contains("the default for interactive runs with #[cli_telemetry::main]"));
}

#[test]
fn a_corrupt_queue_file_and_an_unwritable_cache_dir_leave_the_command_unchanged() {
    let baseline = werf(CONVERGE).run();
    // A corrupt file: skipped and removed by the sender, the run's events delivered.
    let receiver = Receiver::start(Mode::Status(200));
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("t.log");
    let run = werf(CONVERGE);
    let home = run.home_dir();
    common::procs::private_dir(&queue_dir(&home));
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis();
    std::fs::write(
        queue_dir(&home).join(format!("{now:016}-x-CommandStarted-y.json")),
        b"\x00garbage{",
    )
    .unwrap();
    detached(run, &receiver.url(), &log)
        .run()
        .assert_same_as(&baseline, "corrupt queue file");
    assert!(eventually(LONG, || received(&receiver).len() >= 2));
    senders_end(&log);
    assert_eq!(received(&receiver).len(), 2);
    assert_eq!(
        read_log(&log)
            .diagnostics_containing("corrupt spool files skipped")
            .len(),
        1
    );

    // No queue can be made: the events go inline, and say so.
    let receiver = Receiver::start(Mode::Status(200));
    let log = dir.path().join("unwritable.log");
    let run = werf(CONVERGE);
    let home = run.home_dir();
    std::fs::create_dir_all(home.path().join("cache")).unwrap();
    std::fs::write(home.path().join("cache/werf"), b"not a directory").unwrap();
    detached(run, &receiver.url(), &log)
        .run()
        .assert_same_as(&baseline, "unwritable cache dir");
    assert_eq!(
        received(&receiver).len(),
        2,
        "delivered inline, before the exit"
    );
    let parsed = read_log(&log);
    assert_eq!(
        parsed
            .diagnostics_containing(
                "the queue could not be written; this run's events are sent inline"
            )
            .len(),
        1
    );
    assert_eq!(parsed.diagnostics_containing("event delivered").len(), 2);
}

#[test]
fn when_no_sender_can_be_started_the_run_delivers_inline_and_says_so() {
    // The run's early hand-off finds a sender alive (this test holds the sender's lock), so
    // it starts none; by the exit that sender is gone and so is the executable (an upgrade
    // replaced it): no sender can start.
    let dir = tempfile::tempdir().unwrap();
    let bin = dir.path().join("werf-copy");
    std::fs::copy(werf_bin(), &bin).unwrap();
    let receiver = Receiver::start(Mode::Status(200));
    let log = dir.path().join("t.log");
    let run = example(&bin, &["helm", "get-release", "--namespace", "n"]);
    let home = run.home_dir();
    common::procs::private_dir(&queue_dir(&home));
    let lock = common::procs::hold_lock(&queue_dir(&home).join("sender.lock"));
    let mut child = detached(run, &receiver.url(), &log)
        .env("BENCH_WORK_MS", "1500")
        .spawn();
    assert!(eventually(LONG, || !read_log(&log)
        .diagnostics_containing("events queued for the detached sender already running")
        .is_empty()));
    std::fs::remove_file(&bin).unwrap();
    drop(lock);
    assert!(child.wait().unwrap().success());
    assert_eq!(received(&receiver).len(), 2, "delivered before the exit");
    let parsed = read_log(&log);
    let line = parsed
        .diagnostics_containing("the detached sender could not be started; delivering inline");
    assert_eq!(line.len(), 1, "{:?}", parsed.diagnostics);
    assert_eq!(
        line[0]["error"],
        "the executable is gone (replaced or deleted since it started)"
    );
    assert_eq!(line[0]["when"], "at exit");
    assert_eq!(parsed.diagnostics_containing("event delivered").len(), 2);
    assert!(queued(&home).is_empty());
}

#[test]
fn the_sender_uses_the_run_s_trust_store_proxy_headers_and_protocol_on_either_transport() {
    use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
    use prost::Message;
    for (transport, bin) in common::transports("werf") {
        let ca = TestCa::new();
        let receiver = Receiver::start_tls(Mode::Status(200), ca.server_config(Leaf::Good));
        let proxy = Proxy::start(ProxyMode::Forward);
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("t.log");
        let run = example(&bin, CONVERGE);
        let _home = run.home_dir(); // kept while the sender runs
        let on = detached(run, &receiver.url(), &log)
            .env("SSL_CERT_FILE", ca.pem_file())
            .env("HTTPS_PROXY", proxy.url(None))
            .env("WERF_TELEMETRY_HEADERS", "x-api-key=s3cret-key")
            .env("WERF_TELEMETRY_PROTOCOL", "http/protobuf")
            .run();
        assert_eq!(on.code(), Some(0), "{transport}");
        let spans = || -> usize {
            receiver
                .bodies()
                .iter()
                .map(|b| {
                    ExportTraceServiceRequest::decode(&b[..])
                        .map(|r| {
                            r.resource_spans
                                .iter()
                                .flat_map(|s| &s.scope_spans)
                                .map(|s| s.spans.len())
                                .sum::<usize>()
                        })
                        .unwrap_or(0)
                })
                .sum()
        };
        assert!(
            eventually(LONG, || spans() >= 2),
            "{transport}: delivered after the exit"
        );
        senders_end(&log);
        assert_eq!(spans(), 2, "{transport}");
        for r in receiver.requests() {
            assert_eq!(r.header("x-api-key"), Some("s3cret-key"), "{transport}");
            assert_eq!(
                r.header("content-type"),
                Some("application/x-protobuf"),
                "{transport}"
            );
        }
        let through = proxy.requests();
        assert!(
            !through.is_empty() && through.iter().all(|r| r.method == "CONNECT"),
            "{transport}: through the proxy"
        );
        let parsed = read_log(&log);
        assert_eq!(
            parsed.diagnostics_containing("event delivered").len(),
            2,
            "{transport}"
        );
        let bytes = std::fs::read(&log).unwrap();
        assert!(
            !String::from_utf8_lossy(&bytes).contains("s3cret-key"),
            "header values never logged"
        );
    }
}

#[test]
fn a_stale_or_hand_set_marker_never_keeps_the_app_from_running_its_command() {
    // The marker of a real sender, copied from its environment while it runs.
    let hole = Receiver::start(Mode::BlackHole);
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("t.log");
    let run = werf(CONVERGE);
    let home = run.home_dir();
    detached(run, &hole.url(), &log).run();
    assert!(eventually(LONG, || !sender_pids(&log).is_empty()));
    let pid = sender_pids(&log)[0];
    let environ = std::fs::read(format!("/proc/{pid}/environ")).unwrap();
    let vars: HashMap<String, String> = environ
        .split(|b| *b == 0)
        .filter_map(|v| {
            let v = String::from_utf8_lossy(v);
            let (k, v) = v.split_once('=')?;
            Some((k.to_owned(), v.to_owned()))
        })
        .collect();
    let marker = vars["CLI_TELEMETRY_SENDER"].clone();
    let config = vars["CLI_TELEMETRY_SENDER_CONFIG"].clone();
    assert!(!config.contains("s3cret"), "settings only, no event");
    let baseline = werf(CONVERGE).run();
    for (marker, config) in [
        (marker.as_str(), config.as_str()),
        ("0123456789abcdef0123456789abcdef", config.as_str()),
        ("../../etc", config.as_str()),
        (marker.as_str(), "{not json"),
    ] {
        let replayed = werf(CONVERGE)
            .home(Some(&home))
            .env("CLI_TELEMETRY_SENDER", marker)
            .env("CLI_TELEMETRY_SENDER_CONFIG", config)
            .run();
        replayed.assert_same_as(&baseline, &format!("marker {marker}"));
    }
    // A process named as the library names its senders, whose token is used up: it never
    // runs the application (no output, nothing recorded), and exits at once.
    use std::os::unix::process::CommandExt;
    let out = std::process::Command::new(werf_bin())
        .arg0("cli-telemetry-sender")
        .env_clear()
        .env("HOME", home.path())
        .env("WERF_TELEMETRY", "1")
        .env("WERF_TELEMETRY_LOG_FILE", dir.path().join("replay.log"))
        .env("CLI_TELEMETRY_SENDER", &marker)
        .env("CLI_TELEMETRY_SENDER_CONFIG", &config)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(out.stdout.is_empty() && out.stderr.is_empty());
    assert!(!dir.path().join("replay.log").exists());
}
