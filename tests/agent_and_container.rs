//! Who runs the command and where (SPEC S-22, issue 28), black box: `attributes.agent`
//! from the agents' own variables or `AI_AGENT` (the name alone, plain, or dropped — never a
//! path or a user name), `attributes.container` from the container's markers, both in
//! `telemetry status`; absent when nothing tells them.
#![cfg(all(feature = "telemetry", target_os = "linux"))]

mod common;

use std::time::Duration;

use cli_telemetry::testing::{Collector, Run};

/// One inline run of `werf converge` with `extra` set; its complete run.
fn run_with(extra: &[(&str, &str)]) -> (Collector, Run) {
    let collector = Collector::start();
    let out = std::process::Command::new(common::werf_bin())
        .args(["converge", "--repo", "r"])
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .envs(collector.env_inline("WERF"))
        .envs(extra.iter().copied())
        .current_dir(collector.home())
        .output()
        .unwrap();
    assert!(out.status.success());
    let mut runs = collector.wait_for_runs(1, Duration::from_secs(20));
    assert_eq!(runs.len(), 1);
    let run = runs.remove(0);
    (collector, run)
}

fn agent_of(run: &Run) -> Option<String> {
    let agents: Vec<Option<String>> = run
        .events()
        .iter()
        .map(|e| e.attributes.agent.clone())
        .collect();
    assert!(agents.windows(2).all(|w| w[0] == w[1]), "every event alike");
    agents[0].clone()
}

#[test]
fn the_agent_is_named_by_its_variables_or_ai_agent_plainly() {
    for (vars, agent) in [
        (vec![], None),
        (vec![("CLAUDECODE", "1")], Some("claude-code")),
        (vec![("GEMINI_CLI", "1")], Some("gemini-cli")),
        (vec![("CODEX_SANDBOX", "seatbelt")], Some("codex")),
        (vec![("CURSOR_AGENT", "1")], Some("cursor")),
        (vec![("AI_AGENT", "Acme-Bot/3.2.1")], Some("acme-bot")),
        (
            vec![("AI_AGENT", "claude-code/2.1.120"), ("CURSOR_AGENT", "1")],
            Some("claude-code"),
        ),
    ] {
        let (_, run) = run_with(&vars);
        assert_eq!(agent_of(&run).as_deref(), agent, "{vars:?}");
    }
}

#[test]
fn an_ai_agent_that_is_not_a_name_is_never_sent() {
    for value in [
        "/home/alice-s3cret/bin/agent",
        "alice-s3cret's laptop agent",
        "s3cret_agent",
        "s3cret-agent-with-a-name-far-too-long-to-be-one",
    ] {
        let (collector, run) = run_with(&[("AI_AGENT", value)]);
        assert_eq!(agent_of(&run), None, "{value}");
        collector.assert_never_sent("s3cret");
        let log = std::fs::read_to_string(collector.log_file()).unwrap();
        assert!(!log.contains("s3cret"), "{value}: never in the log either");
    }
}

#[test]
fn the_container_is_named_by_its_markers() {
    let here = if std::path::Path::new("/run/.containerenv").exists() {
        Some("podman")
    } else if std::path::Path::new("/.dockerenv").exists() {
        Some("docker")
    } else {
        None
    };
    for (vars, container) in [
        (vec![], here),
        (
            vec![("KUBERNETES_SERVICE_HOST", "10.96.0.1")],
            Some("kubernetes"),
        ),
        (vec![("container", "podman")], Some("podman")),
    ] {
        let (_, run) = run_with(&vars);
        let got = run.events()[0].attributes.container.clone();
        assert_eq!(got.as_deref(), container, "{vars:?}");
    }
}

#[test]
fn status_shows_the_agent_and_the_container() {
    let out = common::werf(&["telemetry", "status", "--json"])
        .env("WERF_TELEMETRY", "1")
        .env("GEMINI_CLI", "1")
        .env("KUBERNETES_SERVICE_HOST", "10.96.0.1")
        .run();
    let json: serde_json::Value = serde_json::from_str(&out.stdout()).unwrap();
    assert_eq!(json["agent"], "gemini-cli");
    assert_eq!(json["container"], "kubernetes");
    assert_eq!(json["nextEvent"]["attributes"]["agent"], "gemini-cli");
    let text = common::werf(&["telemetry", "status"])
        .env("WERF_TELEMETRY", "1")
        .env("GEMINI_CLI", "1")
        .run()
        .stdout();
    assert!(text.contains("agent:       gemini-cli"), "{text}");
}
