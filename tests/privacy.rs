//! SPEC R-2: option values, positionals, env values, paths, user and host names and the
//! raw origin URL never reach the endpoint or the log file. Every command runs with secret
//! marker values everywhere; every byte received and logged is searched for them.
#![cfg(feature = "telemetry")]

mod common;

use std::process::Command;

use common::{git, werf, Mode, Receiver};

const SECRETS: &[&str] = &[
    "SECRET-repo-value",
    "SECRET-env-value",
    "SECRET-set-key",
    "SECRET-set-value",
    "SECRET-dir-value",
    "SECRET-image-positional",
    "SECRET-namespace-value",
    "SECRET-env-var-repo",
    "SECRET-env-var-env",
    "SECRET-env-var-dir",
    "SECRET-origin-token",
    "SECRET-origin-org",
    "SECRET-origin-repo",
    "secretdir-cwd-marker",
    "SECRET-ai-agent-user",
    "SECRET-registry-text",
];

fn machine_names() -> Vec<String> {
    let mut names = Vec::new();
    for var in ["USER", "LOGNAME"] {
        if let Ok(v) = std::env::var(var) {
            names.push(v);
        }
    }
    for cmd in ["whoami", "hostname"] {
        if let Ok(out) = Command::new(cmd).output() {
            names.push(String::from_utf8_lossy(&out.stdout).trim().to_owned());
        }
    }
    if let Ok(h) = std::fs::read_to_string("/etc/hostname") {
        names.push(h.trim().to_owned());
    }
    // Short names ("root") could match by accident in hex ids: only distinctive ones.
    names.retain(|n| n.len() >= 5);
    names.sort();
    names.dedup();
    names
}

#[test]
fn no_secret_reaches_the_endpoint_or_the_log() {
    let receiver = Receiver::start(Mode::Status(200));
    let parent = tempfile::tempdir().unwrap();
    let repo = parent.path().join("secretdir-cwd-marker");
    std::fs::create_dir(&repo).unwrap();
    git(&repo, &["init", "-q"]);
    git(&repo, &["remote", "add", "origin", "https://oauth2:SECRET-origin-token@gitlab.com/SECRET-origin-org/SECRET-origin-repo.git"]);
    let logdir = tempfile::tempdir().unwrap();
    let log = logdir.path().join("t.log");

    let runs: Vec<Vec<&str>> = vec![
        vec![
            "-v",
            "--dir",
            "SECRET-dir-value",
            "converge",
            "--repo",
            "SECRET-repo-value",
            "--env",
            "SECRET-env-value",
            "--set",
            "SECRET-set-key=SECRET-set-value",
            "--dev",
        ],
        vec![
            "build",
            "--repo",
            "SECRET-repo-value",
            "SECRET-image-positional",
        ],
        vec!["build", "SECRET-image-positional"],
        vec![
            "helm",
            "get-release",
            "--namespace",
            "SECRET-namespace-value",
        ],
        vec!["converge"],
        vec!["kube-run", "--exit-code", "3"],
        vec!["debug-panic"],
        // An error with a category: the label goes, never the error's text (SPEC S-22).
        vec!["converge", "--repo", "unreachable.SECRET-registry-text"],
    ];
    for args in &runs {
        let done = werf(args)
            .dir(&repo)
            .telemetry(&receiver.url(), &log)
            .env("WERF_REPO", "SECRET-env-var-repo")
            .env("WERF_ENV", "SECRET-env-var-env")
            .env("WERF_DIR", "SECRET-env-var-dir")
            .env("WERF_DEV", "true")
            // An AI_AGENT that is a path with a user name in it: dropped (SPEC S-22).
            .env("AI_AGENT", "/home/SECRET-ai-agent-user/bin/agent")
            .run();
        assert!(done.code().is_some(), "{args:?}");
    }
    let bodies = receiver.wait_for(runs.len(), std::time::Duration::from_secs(5));
    assert!(bodies.len() >= runs.len(), "every run delivered");
    let logged = std::fs::read(&log).unwrap();
    let parsed = common::read_log(&log);
    assert_eq!(
        parsed.events.events().len(),
        2 * runs.len() + 4,
        "two per run, plus two app events per build"
    );
    // The options were reported (by name), so the scan below is meaningful.
    let names: Vec<String> = parsed
        .events
        .events()
        .iter()
        .flat_map(|e| e.option_names())
        .collect();
    for name in ["repo", "env", "set", "dir", "dev", "namespace", "verbose"] {
        assert!(names.iter().any(|n| n == name), "{name} not reported");
    }
    assert_ne!(parsed.events.events()[0].project_id, "");
    assert!(
        parsed.events.events().iter().any(|e| e
            .event_data
            .get("errorCategory")
            .is_some_and(|c| c == "registry-unreachable")),
        "the category was reported, so the scan for the error's text is meaningful"
    );

    let mut forbidden: Vec<String> = SECRETS.iter().map(|s| s.to_string()).collect();
    forbidden.push(repo.display().to_string());
    forbidden.push(parent.path().display().to_string());
    forbidden.extend(machine_names());
    for (what, bytes) in
        std::iter::once(("log file", &logged)).chain(bodies.iter().map(|b| ("request body", b)))
    {
        let text = String::from_utf8_lossy(bytes);
        for secret in &forbidden {
            assert!(
                !text.contains(secret.as_str()),
                "{secret:?} found in a {what}"
            );
        }
        // Also case-insensitively, and JSON-escaped forms of the markers.
        let lower = text.to_lowercase();
        for secret in SECRETS {
            assert!(
                !lower.contains(&secret.to_lowercase()),
                "{secret:?} (any case) found in a {what}"
            );
        }
    }
}
