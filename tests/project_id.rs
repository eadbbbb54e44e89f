//! projectID from the git repository around the working directory (SPEC S-5), in real
//! repositories made by the test.
#![cfg(feature = "telemetry")]

mod common;

use std::path::Path;

use common::{git, werf};

const FIXTURES: &str = include_str!("../telemetry-runtime/fixtures/project-id.tsv");

/// The projectID the mini-werf reports when run in `dir`.
fn project_id_in(dir: &Path) -> String {
    let logdir = tempfile::tempdir().unwrap();
    let log = logdir.path().join("t.log");
    let run = werf(&["helm", "get-release", "--namespace", "n"])
        .dir(dir)
        .env("WERF_TELEMETRY_DEBUG", "1")
        .env("WERF_TELEMETRY_LOG_FILE", &log)
        .run();
    assert_eq!(run.code(), Some(0));
    let parsed = common::read_log(&log);
    let ids: Vec<_> = parsed
        .events
        .events()
        .iter()
        .map(|e| e.project_id.clone())
        .collect();
    assert_eq!(ids.len(), 2);
    assert_eq!(ids[0], ids[1]);
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(!text.contains("SECRET"), "the raw origin URL leaked");
    ids[0].clone()
}

fn fixture_rows() -> Vec<(&'static str, &'static str)> {
    FIXTURES
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| l.split_once('\t').expect("two columns"))
        .collect()
}

fn repo_with_origin(url: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    git(dir.path(), &["init", "-q"]);
    git(dir.path(), &["remote", "add", "origin", url]);
    dir
}

#[test]
fn every_fixture_origin_from_a_subdirectory() {
    for (url, expected) in fixture_rows() {
        let repo = repo_with_origin(url);
        let sub = repo.path().join("deploy/charts");
        std::fs::create_dir_all(&sub).unwrap();
        assert_eq!(project_id_in(&sub), expected.trim(), "{url}");
    }
}

#[test]
fn worktree_uses_the_main_repository_origin() {
    let (url, expected) = fixture_rows()[0];
    let repo = repo_with_origin(url);
    git(
        repo.path(),
        &[
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@t",
            "commit",
            "-q",
            "--allow-empty",
            "-m",
            "init",
        ],
    );
    let wt_parent = tempfile::tempdir().unwrap();
    let wt = wt_parent.path().join("wt");
    git(
        repo.path(),
        &["worktree", "add", "-q", wt.to_str().unwrap()],
    );
    assert!(wt.join(".git").is_file());
    assert_eq!(project_id_in(&wt), expected.trim());
}

#[test]
fn bare_repository() {
    let (url, expected) = fixture_rows()[1];
    let dir = tempfile::tempdir().unwrap();
    git(dir.path(), &["init", "-q", "--bare"]);
    git(dir.path(), &["remote", "add", "origin", url]);
    assert_eq!(project_id_in(dir.path()), expected.trim());
}

#[test]
fn no_repository_no_origin_unparsable_origin() {
    let plain = tempfile::tempdir().unwrap();
    assert_eq!(project_id_in(plain.path()), "");
    let no_origin = tempfile::tempdir().unwrap();
    git(no_origin.path(), &["init", "-q"]);
    git(
        no_origin.path(),
        &[
            "remote",
            "add",
            "upstream",
            "https://github.com/user/repository",
        ],
    );
    assert_eq!(project_id_in(no_origin.path()), "");
    let odd = repo_with_origin("not a url with SECRET");
    assert_eq!(project_id_in(odd.path()), "");
}

#[test]
fn credentials_in_the_origin_never_leave_the_process() {
    let repo = repo_with_origin("https://oauth2:glpat-SECRET@gitlab.com/flant/werf-demo");
    // project_id_in asserts that SECRET appears nowhere in the log.
    assert_eq!(
        project_id_in(repo.path()),
        "aba51ad9c31d6a1a5f70020d36063be07be3183b6e698c06fb10ed2498da85dc"
    );
}
