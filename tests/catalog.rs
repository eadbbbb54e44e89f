//! The catalog (SPEC S-18) is the denominator of "never used": every option name an event
//! can carry appears in it, under the command path the event names. For the mini-werf
//! (`werf telemetry catalog`) and each fixture app, command lines that together use every
//! option of every instrumented command run with telemetry on; every CommandStarted's
//! command and options must be in the catalog, and every catalogued option of those
//! commands must have been seen.
#![cfg(feature = "telemetry")]

mod common;

use std::collections::{BTreeMap, BTreeSet};

use common::{example, example_bin, read_log, werf, Mode, Receiver, Run};

type Lines = &'static [(
    &'static [&'static str],
    &'static [(&'static str, &'static str)],
)];

/// command path → option names.
fn catalog_of(json: &str) -> BTreeMap<String, BTreeSet<String>> {
    let v: serde_json::Value = serde_json::from_str(json).expect("catalog JSON");
    v["commands"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            let names = c["options"]
                .as_array()
                .unwrap()
                .iter()
                .map(|o| o["name"].as_str().unwrap().to_owned())
                .collect();
            (c["path"].as_str().unwrap().to_owned(), names)
        })
        .collect()
}

fn check(app: &str, catalog_json: &str, lines: Lines, skip_unused: &[&str]) {
    let catalog = catalog_of(catalog_json);
    let receiver = Receiver::start(Mode::Status(200));
    let mut seen: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (args, env) in lines {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("t.log");
        let mut run: Run = if app == "werf" {
            werf(args).telemetry(&receiver.url(), &log)
        } else {
            example(&example_bin(app), args).app_telemetry(&receiver.url(), &log)
        };
        for (k, v) in *env {
            run = run.env(k, v);
        }
        run.run();
        let events = read_log(&log);
        let started = events
            .events
            .started()
            .unwrap_or_else(|| panic!("{app} {args:?}: no event"));
        let options = catalog
            .get(&started.command)
            .unwrap_or_else(|| panic!("{app}: {} is not in the catalog", started.command));
        for name in started.option_names() {
            assert!(
                options.contains(&name),
                "{app} {args:?}: option {name} of {} is not in the catalog {options:?}",
                started.command
            );
            seen.entry(started.command.clone())
                .or_default()
                .insert(name);
        }
    }
    // The command lines used every option of the commands they ran.
    for (path, used) in &seen {
        let unused: Vec<_> = catalog[path]
            .iter()
            .filter(|o| !used.contains(*o) && !skip_unused.contains(&o.as_str()))
            .collect();
        assert!(
            unused.is_empty(),
            "{app} {path}: lines never used {unused:?}"
        );
    }
}

fn fixture_catalog(app: &str) -> String {
    let run = example(&example_bin(app), &[])
        .env("FIXTURE_PRINT_CATALOG", "1")
        .run();
    assert_eq!(run.code(), Some(0), "{}", run.stderr());
    run.stdout()
}

#[test]
fn mini_werf() {
    let catalog = werf(&["telemetry", "catalog"]).run();
    assert_eq!(catalog.code(), Some(0));
    let lines: Lines = &[
        (
            &[
                "-v",
                "--dir",
                "d",
                "converge",
                "--repo",
                "r",
                "--env",
                "e",
                "--set",
                "a=1",
                "--dev",
                "--parallel-tasks-limit",
                "3",
                "--fail-with",
                "0",
            ],
            &[],
        ),
        (
            &["converge"],
            &[
                ("WERF_REPO", "r"),
                ("WERF_ENV", "e"),
                ("WERF_DEV", "true"),
                ("WERF_DIR", "d"),
            ],
        ),
        (&["-vv", "--dir", "d", "build", "--repo", "r", "img"], &[]),
        (
            &[
                "--dir",
                "d",
                "-v",
                "helm",
                "get-release",
                "--namespace",
                "n",
            ],
            &[],
        ),
        (&["-v", "--dir", "d", "kube-run", "--exit-code", "0"], &[]),
        (&["--dir", "d", "-v", "debug-panic"], &[]),
    ];
    check("werf", &catalog.stdout(), lines, &[]);
    let c = catalog_of(&catalog.stdout());
    assert!(c.contains_key("werf helm"));
    assert!(c.contains_key("werf telemetry status"));
}

#[test]
fn fixture_apps() {
    check(
        "zoxide_like",
        &fixture_catalog("zoxide_like"),
        &[
            (&["query", "-i", "--outcome", "ok", "k"], &[]),
            (&["add", "--score", "3", "/p"], &[]),
        ],
        &[],
    );
    check(
        "fd_like",
        &fixture_catalog("fd_like"),
        &[
            (&["-H", "-e", "rs", "--type", "f", "x"], &[]),
            (&["--interrupt", "x"], &[]),
        ],
        &[],
    );
    check(
        "mdbook_like",
        &fixture_catalog("mdbook_like"),
        &[
            (&["build", "-d", "out", "--open", "--fail"], &[]),
            (&["clean", "--exit", "0"], &[]),
        ],
        &[],
    );
    check(
        "cliff_like",
        &fixture_catalog("cliff_like"),
        &[(
            &[
                "-v",
                "--config",
                "c",
                "--workdir",
                "w",
                "--repository",
                "r",
                "--tag",
                "t",
                "--output",
                "o",
                "--github-token",
                "g",
                "--bump",
                "--work-ms",
                "0",
            ],
            &[],
        )],
        &[],
    );
    check(
        "pastel_like",
        &fixture_catalog("pastel_like"),
        &[
            (&["color", "-f", "hex", "red"], &[]),
            (&["paint", "red"], &[]),
        ],
        &[],
    );
}
