//! Handler forms (SPEC S-1, S-2): methods, generics, sync panics, nesting, the builder
//! API (`matches = …` and an `&ArgMatches` parameter), `name = …`.
#![cfg(feature = "telemetry")]

use clap::{Arg, ArgAction, ArgMatches, Command};
use cli_telemetry::testing::{capture, Capture, Expect};
use cli_telemetry::{instrument_command, Telemetry};

struct App {
    calls: u32,
}

impl App {
    #[instrument_command(name = "app by-ref")]
    fn by_ref(&self) -> u32 {
        self.calls
    }

    #[instrument_command(name = "app by-mut")]
    fn by_mut(&mut self) -> Result<(), String> {
        self.calls += 1;
        Ok(())
    }

    #[instrument_command(name = "app by-value")]
    fn by_value(self) -> u32 {
        self.calls
    }

    #[instrument_command(name = "app async-mut")]
    async fn async_mut(&mut self) -> u32 {
        self.calls += 10;
        self.calls
    }
}

#[instrument_command(name = "app generic")]
fn generic<T, const N: usize>(items: [T; N]) -> usize
where
    T: std::fmt::Display + Clone,
{
    items.iter().map(ToString::to_string).count()
}

#[instrument_command(name = "app lifetime")]
fn lifetime<'a>(input: &'a str, _other: &str) -> &'a str {
    &input[1..]
}

#[test]
fn methods_and_generics() {
    let mut app = App { calls: 0 };
    let events = capture(|| {
        app.by_mut().unwrap();
        assert_eq!(app.by_ref(), 1);
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        assert_eq!(rt.block_on(app.async_mut()), 11);
        assert_eq!(generic([1, 2, 3]), 3);
        assert_eq!(lifetime("xyz", "q"), "yz");
        assert_eq!(App { calls: 4 }.by_value(), 4);
    });
    let exits: Vec<_> = events
        .events()
        .iter()
        .filter(|e| e.event_type == "CommandExited")
        .map(|e| (e.command.as_str(), e.exit_code().unwrap()))
        .collect();
    assert_eq!(
        exits,
        [
            ("app by-mut", 0),
            ("app by-ref", 1),
            ("app async-mut", 11),
            ("app generic", 3),
            ("app lifetime", 0),
            ("app by-value", 4)
        ]
    );
}

#[instrument_command(name = "app panics")]
fn panics(message: &str) {
    panic!("{message}");
}

#[test]
fn sync_panic_records_101_and_the_panic_continues_unchanged() {
    let events = capture(|| {
        let payload = std::panic::catch_unwind(|| panics("the original message"))
            .expect_err("panic continues");
        assert_eq!(
            payload.downcast_ref::<String>().map(String::as_str),
            Some("the original message")
        );
    });
    events.assert_events(&[
        Expect::started("app panics"),
        Expect::exited("app panics").exit_code(101),
    ]);
}

#[instrument_command(name = "app inner")]
fn inner() -> i32 {
    3
}

#[instrument_command(name = "app outer")]
fn outer() -> i32 {
    inner() + inner()
}

#[test]
fn nested_sync_handlers_emit_nothing_of_their_own() {
    let events = capture(|| assert_eq!(outer(), 6));
    events.assert_events(&[
        Expect::started("app outer"),
        Expect::exited("app outer").exit_code(6),
    ]);
    // And afterwards the inner one reports on its own again.
    let events = capture(|| assert_eq!(inner(), 3));
    events.assert_events(&[
        Expect::started("app inner"),
        Expect::exited("app inner").exit_code(3),
    ]);
}

#[test]
fn a_panic_inside_a_nested_handler_is_recorded_once_by_the_outer() {
    #[instrument_command(name = "app outer-panics")]
    fn outer_panics() {
        panics("inner");
    }
    let events = capture(|| {
        let _ = std::panic::catch_unwind(outer_panics);
        // A panicking command does not leave the thread marked as busy.
        inner();
    });
    events.assert_events(&[
        Expect::started("app outer-panics"),
        Expect::exited("app outer-panics").exit_code(101),
        Expect::started("app inner"),
        Expect::exited("app inner").exit_code(3),
    ]);
}

fn builder_cli() -> Command {
    Command::new("kubectl-ish")
        .arg(
            Arg::new("verbose")
                .short('v')
                .action(ArgAction::Count)
                .global(true),
        )
        .subcommand(
            Command::new("get")
                .arg(Arg::new("namespace").long("namespace").short('n'))
                .arg(Arg::new("resource"))
                .subcommand(
                    Command::new("pods")
                        .arg(Arg::new("watch").long("watch").action(ArgAction::SetTrue)),
                ),
        )
}

#[instrument_command]
fn get_pods(matches: &ArgMatches) -> bool {
    matches.subcommand().is_some()
}

#[instrument_command(matches = cli_matches)]
fn explicit_matches(cli_matches: ArgMatches, extra: u8) -> u8 {
    let _ = cli_matches;
    extra
}

#[test]
fn builder_api_through_get_matches_and_a_matches_parameter() {
    let (_, events) = Capture::new(Telemetry::builder("kubectl-ish")).run(|| {
        let m = cli_telemetry::get_matches_from(
            builder_cli(),
            [
                "kubectl-ish",
                "-vv",
                "get",
                "-n",
                "kube-system",
                "secret-resource",
                "pods",
                "--watch",
            ],
        );
        assert!(get_pods(&m));
        assert_eq!(explicit_matches(m, 4), 4);
    });
    let expected_options = ["namespace", "verbose", "watch"];
    events.assert_events(&[
        Expect::started("kubectl-ish get pods").options(expected_options),
        Expect::exited("kubectl-ish get pods").exit_code(0),
        Expect::started("kubectl-ish get pods").options(expected_options),
        Expect::exited("kubectl-ish get pods").exit_code(4),
    ]);
    assert!(!serde_json::to_string(events.events())
        .unwrap()
        .contains("secret-resource"));
}

#[test]
fn builder_api_with_record() {
    let (_, events) = Capture::new(Telemetry::builder("kubectl-ish")).run(|| {
        let mut cmd = builder_cli();
        let m = cmd
            .try_get_matches_from_mut(["kubectl-ish", "get", "--namespace", "x"])
            .unwrap();
        cli_telemetry::record(&cmd, &m);
        #[instrument_command]
        fn handler() {}
        handler();
    });
    events.assert_events(&[
        Expect::started("kubectl-ish get").options(["namespace"]),
        Expect::exited("kubectl-ish get"),
    ]);
}

#[test]
fn name_overrides_the_parsed_path() {
    let (_, events) = Capture::new(Telemetry::builder("kubectl-ish")).run(|| {
        let m = cli_telemetry::get_matches_from(builder_cli(), ["kubectl-ish", "get", "-n", "x"]);
        #[instrument_command(name = "kubectl-ish get-namespace")]
        fn handler(matches: &ArgMatches) {
            let _ = matches;
        }
        handler(&m);
    });
    events.assert_events(&[
        Expect::started("kubectl-ish get-namespace").options(["namespace"]),
        Expect::exited("kubectl-ish get-namespace"),
    ]);
}

#[test]
fn app_events_outside_a_command_are_dropped() {
    let events = capture(|| cli_telemetry::emit("Orphan", &serde_json::json!({"x": 1})));
    events.assert_events(&[]);
    #[instrument_command(name = "app with-events")]
    fn with_events() {
        cli_telemetry::emit("Custom", &serde_json::json!({"n": 1}));
        cli_telemetry::emit("NotAnObject", &5); // not a JSON object: dropped
    }
    let events = capture(with_events);
    events.assert_events(&[
        Expect::started("app with-events"),
        Expect::event("Custom")
            .command("app with-events")
            .data("n", 1),
        Expect::exited("app with-events"),
    ]);
}

#[test]
fn subcommand_matches_given_to_a_handler_report_the_whole_invocation() {
    #[instrument_command]
    fn get(matches: &ArgMatches) -> Option<String> {
        matches.get_one::<String>("namespace").cloned()
    }
    let (_, events) = Capture::new(Telemetry::builder("kubectl-ish")).run(|| {
        let m = cli_telemetry::get_matches_from(
            builder_cli(),
            ["kubectl-ish", "-v", "get", "-n", "ns"],
        );
        match m.subcommand() {
            Some(("get", sub)) => assert_eq!(get(sub).as_deref(), Some("ns")),
            _ => unreachable!(),
        }
    });
    events.assert_events(&[
        Expect::started("kubectl-ish get").options(["namespace", "verbose"]),
        Expect::exited("kubectl-ish get"),
    ]);
}

#[test]
fn matches_without_a_recording_give_the_path_only() {
    let (_, events) = Capture::new(Telemetry::builder("kubectl-ish")).run(|| {
        let m = builder_cli()
            .try_get_matches_from(["kubectl-ish", "get", "-n", "ns", "pods"])
            .unwrap();
        assert!(get_pods(&m));
    });
    events.assert_events(&[
        Expect::started("kubectl-ish get pods").options(Vec::<String>::new()),
        Expect::exited("kubectl-ish get pods"),
    ]);
}
