//! The test harness itself (SPEC S-11) and the sync handler forms, in-process.
#![cfg(feature = "telemetry")]

use clap::{Parser, Subcommand};
use cli_telemetry::testing::{capture, Capture, Expect};
use cli_telemetry::{instrument_command, OptionUsage, Telemetry};

#[derive(Parser, Debug)]
#[command(name = "tool")]
struct Cli {
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    verbose: u8,
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand, Debug)]
enum Cmd {
    Deploy {
        #[arg(long)]
        target: String,
    },
    Status,
}

#[instrument_command]
fn deploy(target: &str) -> Result<(), std::io::Error> {
    if target == "fail" {
        return Err(std::io::Error::other("boom"));
    }
    Ok(())
}

#[instrument_command]
fn status() {}

fn run(args: &[&str]) {
    let cli: Cli = cli_telemetry::parse_from(args);
    match cli.command {
        Cmd::Deploy { target } => {
            let _ = deploy(&target);
        }
        Cmd::Status => status(),
    }
}

#[test]
fn captures_started_and_exited_in_order() {
    let events = capture(|| run(&["tool", "-vv", "deploy", "--target", "prod"]));
    events.assert_events(&[
        Expect::started("tool deploy").option_usage(vec![
            OptionUsage {
                name: "target".into(),
                as_cli: true,
                as_env: false,
                count: 1,
            },
            OptionUsage {
                name: "verbose".into(),
                as_cli: true,
                as_env: false,
                count: 2,
            },
        ]),
        Expect::exited("tool deploy").exit_code(0),
    ]);
    let started = events.started().unwrap();
    let exited = events.exited().unwrap();
    assert_eq!(started.execution_id, exited.execution_id);
    assert_eq!(uuid_version(&started.execution_id), Some('4'));
}

fn uuid_version(id: &str) -> Option<char> {
    (id.len() == 36).then(|| id.chars().nth(14)).flatten()
}

#[test]
fn err_result_exits_1() {
    let events = capture(|| run(&["tool", "deploy", "--target", "fail"]));
    events.assert_events(&[
        Expect::started("tool deploy"),
        Expect::exited("tool deploy").exit_code(1),
    ]);
}

#[test]
fn without_parse_the_path_is_the_app_name() {
    let (_, events) = Capture::new(Telemetry::builder("werf")).run(status);
    events.assert_events(&[
        Expect::started("werf").options(Vec::<String>::new()),
        Expect::exited("werf").exit_code(0),
    ]);
}

#[test]
fn nothing_outside_a_capture_and_nothing_uninstrumented() {
    run(&["tool", "status"]); // no capture, nothing installed: no event, no panic
    let events = capture(|| {
        let _cli: Cli = cli_telemetry::parse_from(["tool", "status"]);
    });
    events.assert_events(&[]);
}

#[test]
fn attributes_carry_the_app_version() {
    let (_, events) =
        Capture::new(Telemetry::builder("tool").version("9.9.9")).run(|| run(&["tool", "status"]));
    assert_eq!(events.started().unwrap().attributes.version, "9.9.9");
}

#[test]
fn parallel_tests_do_not_see_each_others_events() {
    let threads: Vec<_> = (0..16)
        .map(|i| {
            std::thread::spawn(move || {
                let target = format!("t{i}");
                let events = capture(|| {
                    for _ in 0..10 {
                        run(&["tool", "deploy", "--target", &target]);
                    }
                });
                assert_eq!(events.events().len(), 20);
                events
            })
        })
        .collect();
    for t in threads {
        let events = t.join().unwrap();
        let ids: std::collections::HashSet<_> = events
            .events()
            .iter()
            .map(|e| e.execution_id.clone())
            .collect();
        assert_eq!(ids.len(), 1);
    }
}

#[test]
fn env_sourced_option_is_reported_as_env() {
    /// A CLI of this test alone: clap reads `env` when the Arg is built (inside
    /// parse_from), and no other test reads this variable.
    #[derive(Parser)]
    #[command(name = "tool")]
    struct EnvCli {
        #[arg(long, env = "CAPTURE_TEST_TOKEN")]
        token: Option<String>,
    }
    std::env::set_var("CAPTURE_TEST_TOKEN", "s3cr3t");
    let events = capture(|| {
        let cli: EnvCli = cli_telemetry::parse_from(["tool"]);
        assert_eq!(cli.token.as_deref(), Some("s3cr3t"));
        status();
    });
    std::env::remove_var("CAPTURE_TEST_TOKEN");
    events.assert_events(&[
        Expect::started("tool").option_usage(vec![OptionUsage {
            name: "token".into(),
            as_cli: false,
            as_env: true,
            count: 0,
        }]),
        Expect::exited("tool"),
    ]);
    let json = serde_json::to_string(events.events()).unwrap();
    assert!(!json.contains("s3cr3t"));
}

#[test]
fn captured_values_never_include_option_values() {
    let events = capture(|| run(&["tool", "deploy", "--target", "very-secret-target"]));
    let json = serde_json::to_string(events.events()).unwrap();
    assert!(!json.contains("very-secret-target"));
}
