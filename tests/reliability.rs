//! The fault matrix of SPEC R-1 beyond the endpoint (see faults.rs for those): log-file
//! faults, environment garbage, git oddities, HOME unset. Each run must print exactly what
//! the same run with telemetry off prints, and exit the same way.
#![cfg(feature = "telemetry")]

mod common;

use std::ffi::OsString;
use std::time::Duration;

use common::{git, werf, Finished, Mode, Receiver, Run};

const ARGS: &[&str] = &["-v", "converge", "--repo", "r", "--set", "a=b"];

fn baseline() -> Finished {
    werf(ARGS).run()
}

fn same_as_off(run: Run, what: &str) -> Finished {
    let done = run.run();
    done.assert_same_as(&baseline(), what);
    assert!(
        done.elapsed < Duration::from_secs(5),
        "{what}: took {:?}",
        done.elapsed
    );
    done
}

/// Telemetry on, inline: the faults of the network happen in the command's own process.
fn on(run: Run, url: &str) -> Run {
    run.env("WERF_TELEMETRY", "1")
        .env("WERF_TELEMETRY_TRACE_URL", url)
        .env("WERF_TELEMETRY_DELIVERY", "inline")
}

#[test]
fn log_file_faults() {
    let receiver = Receiver::start(Mode::Status(200));
    let dir = tempfile::tempdir().unwrap();
    let read_only = dir.path().join("ro.log");
    std::fs::write(&read_only, b"").unwrap();
    let mut perms = std::fs::metadata(&read_only).unwrap().permissions();
    perms.set_readonly(true);
    std::fs::set_permissions(&read_only, perms).unwrap();
    let mut cases: Vec<(&str, OsString)> = vec![
        ("a directory", dir.path().into()),
        (
            "missing parent",
            dir.path().join("no/such/dir/t.log").into(),
        ),
        ("read-only file", read_only.clone().into()),
        ("empty", OsString::new()),
    ];
    if cfg!(target_os = "linux") {
        cases.push(("/dev/full", "/dev/full".into()));
    }
    for (what, path) in cases {
        same_as_off(
            on(werf(ARGS), &receiver.url()).env("WERF_TELEMETRY_LOG_FILE", &path),
            what,
        );
    }
    assert!(!dir.path().join("no").exists());
    // Delivery still works whatever happened to the log file.
    assert!(receiver.wait_for(5, Duration::from_secs(5)).len() >= 5);
}

#[cfg(unix)]
#[test]
fn environment_garbage() {
    use std::os::unix::ffi::OsStringExt;
    let receiver = Receiver::start(Mode::Status(200));
    let url = receiver.url();
    let non_utf8 = OsString::from_vec(vec![0x66, 0xff, 0xfe, 0x00_u8.wrapping_add(0x41)]);
    let vars = [
        "WERF_TELEMETRY",
        "DO_NOT_TRACK",
        "WERF_TELEMETRY_DEBUG",
        "WERF_TELEMETRY_LOG_FILE",
        "WERF_TELEMETRY_TRACE_URL",
        "WERF_TELEMETRY_TIMEOUT_MS",
        "WERF_TELEMETRY_EXTRA_ATTRIBUTE_X",
        "TRDL_USE_WERF_GROUP_CHANNEL",
        "CI",
        "GITLAB_CI",
        "XDG_CACHE_HOME",
        "XDG_CONFIG_HOME",
        "HOME",
    ];
    for var in vars {
        for value in [
            non_utf8.clone(),
            OsString::new(),
            OsString::from("\u{7f}\u{1b}[31m"),
            OsString::from("="),
        ] {
            let run = on(werf(ARGS), &url).env(var, &value);
            let done = run.run();
            // Debug mode may be switched on by a garbage-free value only; these never are.
            done.assert_same_as(&baseline(), &format!("{var}={value:?}"));
        }
    }
    for timeout in ["0", "1000000000000", "-1", "1e3", "99999999999999999999999"] {
        same_as_off(
            on(werf(ARGS), &receiver.url()).env("WERF_TELEMETRY_TIMEOUT_MS", timeout),
            timeout,
        );
    }
}

#[test]
fn home_unset_and_unwritable_dirs() {
    let url = common::refused_url();
    same_as_off(
        on(werf(ARGS), &url)
            .env_remove("HOME")
            .env_remove("XDG_CACHE_HOME")
            .env_remove("XDG_CONFIG_HOME"),
        "no HOME",
    );
    same_as_off(
        on(werf(ARGS), &url).env("HOME", "relative/home"),
        "relative HOME",
    );
    same_as_off(
        on(werf(ARGS), &url).env("XDG_CACHE_HOME", "/proc/definitely-not-writable"),
        "unwritable cache",
    );
}

#[test]
fn git_oddities() {
    let receiver = Receiver::start(Mode::Status(200));
    let url = receiver.url();
    for origin in [
        "https://host/with space/repo.git",
        "git@хост.рф:группа/проект.git",
        "ssh://[::1]:22/x",
        "\\\\server\\share",
        "https://host",
    ] {
        let repo = tempfile::tempdir().unwrap();
        git(repo.path(), &["init", "-q"]);
        git(repo.path(), &["remote", "add", "origin", origin]);
        same_as_off(on(werf(ARGS).dir(repo.path()), &url), origin);
    }
    // A config that can't be read, a .git file pointing nowhere, a .git that is garbage.
    let repo = tempfile::tempdir().unwrap();
    git(repo.path(), &["init", "-q"]);
    std::fs::write(
        repo.path().join(".git/config"),
        [0xff, 0xfe, b'[', b'\n', 0x00],
    )
    .unwrap();
    same_as_off(on(werf(ARGS).dir(repo.path()), &url), "garbage config");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(
            repo.path().join(".git/config"),
            std::fs::Permissions::from_mode(0o000),
        )
        .unwrap();
        same_as_off(on(werf(ARGS).dir(repo.path()), &url), "unreadable config");
    }
    let dangling = tempfile::tempdir().unwrap();
    std::fs::write(dangling.path().join(".git"), "gitdir: /no/such/place\n").unwrap();
    same_as_off(
        on(werf(ARGS).dir(dangling.path()), &url),
        "dangling .git file",
    );
    let garbage = tempfile::tempdir().unwrap();
    std::fs::write(garbage.path().join(".git"), [0u8, 1, 2, 255]).unwrap();
    same_as_off(
        on(werf(ARGS).dir(garbage.path()), &url),
        "garbage .git file",
    );
    // No git on PATH: the library never runs git, so nothing changes.
    let repo = tempfile::tempdir().unwrap();
    git(repo.path(), &["init", "-q"]);
    git(
        repo.path(),
        &[
            "remote",
            "add",
            "origin",
            "https://github.com/user/repository",
        ],
    );
    let logdir = tempfile::tempdir().unwrap();
    let log = logdir.path().join("t.log");
    same_as_off(
        on(werf(ARGS).dir(repo.path()), &url)
            .env("PATH", "")
            .env("WERF_TELEMETRY_LOG_FILE", &log),
        "no git on PATH",
    );
    let events = common::read_log(&log);
    assert_eq!(
        events.events.events()[0].project_id,
        cli_telemetry::project_id_from_url("https://github.com/user/repository")
    );
}

#[test]
fn panics_keep_their_message_and_status() {
    let off = werf(&["debug-panic"]).run();
    let receiver = Receiver::start(Mode::Status(200));
    let logdir = tempfile::tempdir().unwrap();
    let log = logdir.path().join("t.log");
    let on_run = werf(&["debug-panic"])
        .telemetry(&receiver.url(), &log)
        .run();
    on_run.assert_same_as(&off, "debug-panic");
    assert_eq!(on_run.code(), Some(101));
    assert!(on_run
        .stderr()
        .contains("debug-panic: this command always panics"));
    let parsed = common::read_log(&log);
    assert_eq!(
        parsed.events.exited().and_then(|e| e.exit_code()),
        Some(101)
    );
    assert_eq!(
        parsed.diagnostics_containing("event delivered").len(),
        2,
        "the exit event was flushed before the panic went on"
    );
}
