//! Truthful in the shapes real CLIs have (SPEC S-6, S-9, S-11, R-1): the fixture apps of
//! `tests/apps/` (zoxide's, fd's, mdbook's, git-cliff's and pastel's shapes) and the
//! mini-werf, run as black boxes against a loopback receiver. Every case is compared with
//! the same app with telemetry off (same stdout, stderr, exit status), and the exitCode in
//! the log file must be the process's exit status.
#![cfg(feature = "telemetry")]

mod common;

use std::time::Duration;

use cli_telemetry::testing::Log;
use common::{example, example_bin, read_log, Finished, Mode, Receiver, Run};

/// [`common::on_and_off`], without the receiver.
fn on_and_off(bin: &str, args: &[&str], mode: Mode, extra: &[(&str, &str)]) -> (Finished, Log) {
    let (run, log, _) = common::on_and_off(bin, args, mode, extra);
    (run, log)
}

/// The process exits with `code`, and so says the last CommandExited; every command
/// that started has exited.
fn assert_truthful(bin: &str, args: &[&str], code: i32) -> Log {
    let (run, log) = on_and_off(bin, args, Mode::Status(200), &[]);
    let what = format!("{bin} {args:?}");
    assert_eq!(
        run.code(),
        Some(code),
        "{what}: process status; stderr: {}",
        run.stderr()
    );
    let events = log.events.events();
    let started = events
        .iter()
        .filter(|e| e.event_type == "CommandStarted")
        .count();
    let exited: Vec<_> = events
        .iter()
        .filter(|e| e.event_type == "CommandExited")
        .collect();
    assert!(started > 0, "{what}: no CommandStarted in {events:?}");
    assert_eq!(started, exited.len(), "{what}: {events:?}");
    assert_eq!(
        exited.last().unwrap().exit_code(),
        Some(i64::from(code)),
        "{what}: exitCode in the log is not the process's status"
    );
    assert!(log.invalid.is_empty(), "{what}: {:?}", log.invalid);
    log
}

#[test]
fn zoxide_shape_errors_mapped_in_main() {
    assert_truthful("zoxide_like", &["query", "docs"], 0);
    // anyhow errors that main maps to codes (fzf cancelled, closed pipe).
    assert_truthful("zoxide_like", &["query", "--outcome", "cancel"], 130);
    assert_truthful("zoxide_like", &["query", "--outcome", "pipe"], 0);
    assert_truthful("zoxide_like", &["query", "--outcome", "error"], 1);
    assert_truthful("zoxide_like", &["query", "--outcome", "panic"], 101);
    // cli_telemetry::exit in the handler.
    assert_truthful("zoxide_like", &["query", "--outcome", "exit"], 3);
    let log = assert_truthful("zoxide_like", &["add", "/tmp/x"], 0);
    assert_eq!(log.events.events()[0].command, "zox add");
}

#[test]
fn fd_shape_parses_inside_and_returns_its_status() {
    assert_truthful("fd_like", &["pattern"], 0);
    // `Ok(HasResults(false))`: the Ok value carries the status.
    assert_truthful("fd_like", &["nothing"], 1);
    // clap's help, version and usage error raised inside the running handler (SPEC S-11):
    // help and version are not runs, a usage error is a run of the root without options.
    assert_not_a_run("fd_like", &["--help"], 0);
    assert_not_a_run("fd_like", &["--version"], 0);
    assert_not_a_run("fd_like", &["-H", "--help"], 0);
    assert_usage_error("fd_like", &["--bogus"], "fdl");
    assert_usage_error("fd_like", &["-H", "--type"], "fdl");
    // The Ctrl-C thread ends the process while the handler still runs.
    let log = assert_truthful("fd_like", &["--interrupt", "x"], 130);
    let exited = log.events.exited().unwrap();
    assert!(exited.duration_ms().unwrap() < 5_000, "{exited:?}");
}

#[test]
fn fd_shape_options_parsed_inside_the_handler_are_reported() {
    let (run, log) = on_and_off(
        "fd_like",
        &[
            "-H",
            "-H",
            "-e",
            "rs",
            "--extension",
            "md",
            "secret-pattern",
        ],
        Mode::Status(200),
        &[("FDL_TYPE", "f")],
    );
    assert_eq!(run.code(), Some(0));
    let started = log.events.started().expect("CommandStarted");
    assert_eq!(started.command, "fdl");
    let options: Vec<_> = started
        .command_options()
        .into_iter()
        .map(|o| (o.name, o.as_cli, o.as_env, o.count))
        .collect();
    // `args_override_self`: `-H -H` is one occurrence to clap, and so to telemetry.
    assert_eq!(
        options,
        [
            ("extension".to_owned(), true, false, 2),
            ("hidden".to_owned(), true, false, 1),
            ("type".to_owned(), false, true, 0),
        ]
    );
}

#[test]
fn mdbook_shape_exit_in_main_and_in_a_handler() {
    assert_truthful("mdbook_like", &["build", "-d", "out"], 0);
    // The handler returns Err (1 by its type); main calls cli_telemetry::exit(101).
    assert_truthful("mdbook_like", &["build", "--fail"], 101);
    assert_truthful("mdbook_like", &["clean", "--exit", "7"], 7);
    // Usage errors before any handler ran (builder API, `get_matches`): a run of the
    // deepest subcommand clap reached, without options, exit 2; output unchanged.
    assert_usage_error("mdbook_like", &["bogus"], "mdb");
    assert_usage_error(
        "mdbook_like",
        &["build", "-d", "out", "--bogus"],
        "mdb build",
    );
    assert_not_a_run("mdbook_like", &["build", "--help"], 0);
}

/// Help, version and usage errors mean the same whether the app parses before its handler
/// (the mini-werf, zoxide's shape) or inside it (fd's shape, above): SPEC S-11.
#[test]
fn help_version_and_usage_errors_when_parsing_before_the_handler() {
    assert_not_a_run("werf", &["--help"], 0);
    assert_not_a_run("werf", &["--version"], 0);
    assert_not_a_run("werf", &["converge", "--help"], 0);
    assert_not_a_run("werf", &["help", "converge"], 0);
    assert_usage_error("werf", &["converge", "--bogus"], "werf converge");
    assert_usage_error(
        "werf",
        &["--dir", "d", "converge", "--bogus"],
        "werf converge",
    );
    assert_usage_error("werf", &["helm", "get-release"], "werf helm get-release");
    assert_usage_error("werf", &["nosuch"], "werf");
    // No subcommand: clap prints help on stderr and exits 2; a usage error of the root.
    assert_usage_error("werf", &[], "werf");
    assert_usage_error("zoxide_like", &["query", "--bogus"], "zox query");
}

/// Nothing is recorded: clap printed help or the version (exit `code`), with the same
/// output as with telemetry off.
fn assert_not_a_run(bin: &str, args: &[&str], code: i32) {
    let (run, log) = on_and_off(bin, args, Mode::Status(200), &[]);
    assert_eq!(run.code(), Some(code), "{bin} {args:?}: {}", run.stderr());
    assert!(
        !run.stdout().is_empty() || !run.stderr().is_empty(),
        "{bin} {args:?}"
    );
    assert!(
        log.events.is_empty(),
        "{bin} {args:?} is not a run: {:?}",
        log.events.events()
    );
}

/// A usage error: CommandStarted and CommandExited 2 of `command`, without options.
fn assert_usage_error(bin: &str, args: &[&str], command: &str) {
    let log = assert_truthful(bin, args, 2);
    let events = log.events.events();
    assert_eq!(events.len(), 2, "{bin} {args:?}: {events:?}");
    for e in events {
        assert_eq!(e.command, command, "{bin} {args:?}");
    }
    let started = log.events.started().unwrap();
    assert!(
        started.command_options().is_empty(),
        "{bin} {args:?}: {started:?}"
    );
}

#[test]
fn werf_maps_converge_errors_in_main() {
    assert_truthful("werf", &["converge", "--repo", "r"], 0);
    assert_truthful(
        "werf",
        &["converge", "--repo", "unreachable.example/app"],
        69,
    );
    assert_truthful("werf", &["converge", "--repo", "r", "--fail-with", "5"], 5);
    assert_truthful("werf", &["kube-run", "--exit-code", "4"], 4);
    assert_truthful("werf", &["debug-panic"], 101);
}

#[test]
fn async_main_returning_result_prints_what_std_prints() {
    assert_truthful("async_main", &[], 0);
    let log = assert_truthful("async_main", &["--fail"], 1);
    assert_eq!(log.events.exited().unwrap().command, "amain");
    let (run, _) = on_and_off("async_main", &["--fail"], Mode::Status(200), &[]);
    assert_eq!(run.stderr(), "Error: AppError(\"the deployment failed\")\n");
}

#[test]
fn pastel_shape_dispatcher_and_per_item_work() {
    // The annotated dispatcher: one command for all items.
    let log = assert_truthful("pastel_like", &["c", "red", "blue"], 0);
    assert_eq!(log.events.events().len(), 2);
    assert_eq!(log.events.events()[0].command, "pst color");
    assert_truthful("pastel_like", &["color", "red", "nocolor"], 1);
    // The per-item function annotated: one command per item.
    let log = assert_truthful("pastel_like", &["paint", "a", "b", "c"], 0);
    assert_eq!(log.events.events().len(), 6);
}

#[test]
fn one_deadline_per_process_however_many_handlers_flush() {
    // Three handler calls, each flushing at its end, against an endpoint that accepts and
    // never answers: the process waits for telemetry once, not three times.
    let deadline_ms = 800;
    let (run, log) = on_and_off(
        "pastel_like",
        &["paint", "a", "b", "c"],
        Mode::BlackHole,
        &[("APP_TELEMETRY_TIMEOUT_MS", &deadline_ms.to_string())],
    );
    assert_eq!(run.code(), Some(0));
    let slack = Duration::from_millis(1000);
    assert!(
        run.elapsed < Duration::from_millis(deadline_ms) + slack,
        "took {:?}; three deadlines would be {} ms",
        run.elapsed,
        3 * deadline_ms
    );
    assert_eq!(
        log.diagnostics_containing("left undelivered at the deadline")
            .len(),
        6
    );
}

/// What the app's own logger and tracing subscriber received (cliff_like prints it).
fn records(run: &Finished) -> Vec<String> {
    run.stderr()
        .lines()
        .filter_map(|l| l.strip_prefix("record: "))
        .map(str::to_owned)
        .collect()
}

#[test]
fn nothing_reaches_the_apps_logger_or_subscriber() {
    let refused = common::refused_url();
    for (name, mode) in [
        ("healthy", Mode::Status(200)),
        ("black hole", Mode::BlackHole),
        ("server error", Mode::Status(503)),
    ] {
        let (run, log) = on_and_off(
            "cliff_like",
            &["-vv", "--bump", "--work-ms", "50"],
            mode,
            &[
                ("APP_TELEMETRY_TIMEOUT_MS", "400"),
                ("CLIFF_CONFIG", "cliff.toml"),
            ],
        );
        assert_eq!(run.code(), Some(0), "{name}");
        // Exactly the app's own two records, at the most verbose level.
        assert_eq!(
            records(&run),
            [
                "log DEBUG cliff_like: generating the changelog",
                "tracing event TRACE cliff_like"
            ],
            "{name}"
        );
        assert_eq!(log.events.events().len(), 2, "{name}");
    }
    // Connection refused.
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("t.log");
    let bin = example_bin("cliff_like");
    let on = example(&bin, &["-vv"]).app_telemetry(&refused, &log).run();
    let off = example(&bin, &["-vv"]).env("APP_TELEMETRY", "0").run();
    on.assert_same_as(&off, "refused");
    assert_eq!(records(&on).len(), 2);
    let failed = read_log(&log)
        .diagnostics_containing("delivery failed")
        .iter()
        .filter(|d| d["error"] == "connection refused")
        .count();
    assert_eq!(failed, 2);
}

/// The phrase of an event held back because the app would log the transport (R-1).
const HELD_BACK: &str =
    "held back: the application logs the transport's crates at debug level (kept for a later run)";

/// Over https (where rustls runs: this build's rustls has its `logging` feature, as many
/// apps' has) and over either transport, the app's logger and subscriber get nothing of
/// ours. At the most verbose level the request is held back (its events spooled), and a
/// later run at info level sends them; at info level the request is made.
#[test]
fn at_any_level_over_either_transport_the_app_hears_nothing() {
    use common::tls::{Leaf, TestCa};
    let ca = TestCa::new();
    for (transport, bin) in common::transports("cliff_like") {
        let receiver = Receiver::start_tls(Mode::Status(200), ca.server_config(Leaf::Good));
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("t.log");
        // The runs with telemetry on share a home (and so the spool); the ones with it off
        // have their own (switching off deletes the spool).
        let home = std::sync::Arc::new(tempfile::tempdir().unwrap());
        let run = |level: &str| {
            let with = |r: Run| {
                r.env("SSL_CERT_FILE", ca.pem_file())
                    .env("CLIFF_LOG_LEVEL", level)
                    .env("APP_TELEMETRY_TIMEOUT_MS", "3000")
            };
            let on = with(example(&bin, &["--bump"]).home(Some(&home)))
                .app_telemetry(&receiver.url(), &log)
                .run();
            let off = with(example(&bin, &["--bump"]))
                .env("APP_TELEMETRY", "0")
                .run();
            on.assert_same_as(&off, &format!("{transport} {level}"));
            on
        };
        // Trace: held back and spooled; only the app's own two records.
        let verbose = run("trace");
        assert_eq!(
            records(&verbose),
            [
                "log DEBUG cliff_like: generating the changelog",
                "tracing event TRACE cliff_like"
            ],
            "{transport}"
        );
        let logged = read_log(&log);
        let held: Vec<_> = logged
            .diagnostics
            .iter()
            .filter(|d| d.get("error").and_then(|e| e.as_str()) == Some(HELD_BACK))
            .collect();
        assert_eq!(held.len(), 2, "{transport}: {:?}", logged.diagnostics);
        assert!(held.iter().all(|d| d["spooled"] == true), "{held:?}");
        assert!(receiver.requests().is_empty(), "{transport}");
        // Info, same home: this run's events and the two spooled ones are sent; the
        // logger keeps nothing (the app's own records are below info).
        let quiet = run("info");
        assert_eq!(records(&quiet), Vec::<String>::new(), "{transport}");
        let logged = read_log(&log);
        assert_eq!(
            logged.diagnostics_containing("event delivered").len(),
            2,
            "{transport}: {:?}",
            logged.diagnostics
        );
        assert_eq!(
            logged
                .diagnostics_containing("event sent from the spool")
                .len(),
            2,
            "{transport}"
        );
    }
}
