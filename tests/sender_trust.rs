//! What the detached sender trusts (SPEC R-5, R-6), black box on loopback: it never runs
//! the application's code (no detached mode without `#[cli_telemetry::main]`); it uses only
//! a queue directory of the user's own (0700, not a link) and only regular files in it,
//! size-capped, removing anything else with a line in the log file while the other events
//! still go; any path works (not UTF-8, relative); a full disk leaves no litter; the child
//! has a clean process state (signals, priority, descriptors); and a process forked from
//! the application records nothing and never waits.
#![cfg(all(feature = "telemetry", target_os = "linux"))]

mod common;

use common::sender::{detached, queue_dir, senders_end, LONG};

use std::os::unix::fs::{symlink, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use common::otlp::events_in;
use common::procs::{alive, private_dir};
use common::tls::{Leaf, TestCa};
use common::{eventually, example, example_bin, read_log, sender_pids, werf, Mode, Receiver};

const CONVERGE: &[&str] = &["converge", "--repo", "r"];

fn names_in(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .map(|d| {
            d.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default()
}

fn received(receiver: &Receiver) -> usize {
    events_in(&receiver.bodies()).len()
}

fn mkfifo(path: &Path) {
    let c = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()).unwrap();
    // SAFETY: mkfifo on a NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
}

fn now_ms() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis()
}

#[test]
fn without_the_main_attribute_detached_is_inline_and_main_runs_once() {
    // git-cliff's shape: no #[cli_telemetry::main], and a bare run writes a changelog.
    let bin = example_bin("cliff_like");
    for (var, value) in [
        ("APP_TELEMETRY_DELIVERY", "detached"),
        ("FIXTURE_DETACHED", "1"),
    ] {
        let receiver = Receiver::start(Mode::Status(200));
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("t.log");
        let runs = dir.path().join("runs");
        let on = example(&bin, &[])
            .app_telemetry(&receiver.url(), &log)
            .env_remove("APP_TELEMETRY_DELIVERY")
            .env(var, value)
            .env("FIXTURE_MAIN_RUNS", &runs)
            .run();
        let off = example(&bin, &[])
            .env("APP_TELEMETRY", "0")
            .env(var, value)
            .run();
        on.assert_same_as(&off, var);
        // Delivered before the exit: inline.
        assert_eq!(received(&receiver), 2, "{var}");
        let parsed = read_log(&log);
        let note = parsed.diagnostics_containing("needs #[cli_telemetry::main] on main");
        assert_eq!(note.len(), 1, "{var}: {:?}", parsed.diagnostics);
        assert!(parsed
            .diagnostics_containing("queued for the detached sender")
            .is_empty());
        // main ran once: the command. Nothing started later runs it in the background.
        std::thread::sleep(Duration::from_millis(500));
        let lines = std::fs::read_to_string(&runs).unwrap();
        assert_eq!(lines.lines().count(), 1, "{var}: {lines}");
        let status = example(&bin, &[])
            .env("APP_TELEMETRY", "1")
            .env(var, value)
            .env("FIXTURE_PRINT_STATUS", "1")
            .run();
        let json: serde_json::Value = serde_json::from_str(&status.stdout()).unwrap();
        assert_eq!(json["delivery"]["mode"], "inline", "{var}");
        assert_eq!(json["delivery"]["decidedBy"], "detachedNeedsMain", "{var}");
        let ignored = json["ignored"].to_string();
        assert!(
            ignored.contains("needs #[cli_telemetry::main]"),
            "{ignored}"
        );
    }
}

/// A queue directory made hostile by `plant`: the run must deliver inline (the queue is not
/// used at all), say why, and touch nothing in it.
fn untrusted_queue_goes_inline(what: &str, plant: impl FnOnce(&Path, &Path), why: &str) {
    let receiver = Receiver::start(Mode::Status(200));
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("t.log");
    let run = werf(CONVERGE);
    let home = run.home_dir();
    let elsewhere = home.path().join("elsewhere");
    private_dir(&elsewhere);
    private_dir(&queue_dir(&home).with_file_name(""));
    plant(&queue_dir(&home), &elsewhere);
    let before = names_in(&queue_dir(&home));
    let done = detached(run, &receiver.url(), &log).run();
    done.assert_same_as(&werf(CONVERGE).run(), what);
    assert_eq!(received(&receiver), 2, "{what}: delivered inline");
    let parsed = read_log(&log);
    let lines = parsed.diagnostics_containing(
        "the queue could not be written; this run's events are sent inline",
    );
    assert_eq!(lines.len(), 1, "{what}: {:?}", parsed.diagnostics);
    assert!(
        lines[0]["reason"].as_str().unwrap().contains(why),
        "{what}: {:?}",
        lines[0]
    );
    assert!(parsed
        .diagnostics_containing("queued for the detached sender")
        .is_empty());
    assert_eq!(
        names_in(&queue_dir(&home)),
        before,
        "{what}: nothing written"
    );
    assert!(
        names_in(&elsewhere).is_empty(),
        "{what}: nothing written elsewhere"
    );
}

#[test]
fn a_queue_directory_of_another_user_open_to_all_is_not_used() {
    untrusted_queue_goes_inline(
        "foreign owner, 0777",
        |queue, _| {
            private_dir(queue);
            std::fs::set_permissions(queue, std::fs::Permissions::from_mode(0o777)).unwrap();
            // Root can give it away; anyone else runs the mode check only.
            let c = std::ffi::CString::new(queue.as_os_str().as_encoded_bytes()).unwrap();
            // SAFETY: chown on a NUL-terminated path.
            unsafe { libc::chown(c.as_ptr(), 65534, 65534) };
        },
        "",
    );
    untrusted_queue_goes_inline(
        "mode 0755",
        |queue, _| {
            private_dir(queue);
            std::fs::set_permissions(queue, std::fs::Permissions::from_mode(0o755)).unwrap();
        },
        "open to other users",
    );
}

#[test]
fn a_queue_directory_that_is_a_link_is_not_used() {
    untrusted_queue_goes_inline(
        "symlinked queue",
        |queue, elsewhere| symlink(elsewhere, queue).unwrap(),
        "symbolic link",
    );
}

#[test]
fn planted_links_fifos_and_huge_files_are_removed_and_the_run_s_events_still_go() {
    let receiver = Receiver::start(Mode::Status(200));
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("t.log");
    let run = werf(CONVERGE);
    let home = run.home_dir();
    let queue = queue_dir(&home);
    private_dir(&queue);
    let pwned = home.path().join("pwned");
    symlink(&pwned, queue.join("spawn.lock")).unwrap();
    mkfifo(&queue.join("sender.lock"));
    let now = now_ms();
    mkfifo(&queue.join(format!("{now:016}-x-CommandStarted-fifo.json")));
    symlink(
        "/dev/zero",
        queue.join(format!("{now:016}-x-CommandStarted-zero.json")),
    )
    .unwrap();
    std::fs::write(
        queue.join(format!("{now:016}-x-CommandStarted-big.json")),
        vec![b' '; 300 * 1024],
    )
    .unwrap();
    let secret = home.path().join("secret.json");
    std::fs::write(&secret, b"{}").unwrap();
    symlink(
        &secret,
        queue.join(format!("{now:016}-x-CommandStarted-link.json")),
    )
    .unwrap();

    detached(run, &receiver.url(), &log)
        .run()
        .assert_same_as(&werf(CONVERGE).run(), "planted entries");
    assert!(
        eventually(LONG, || received(&receiver) >= 2),
        "the run's own events are delivered by the detached sender"
    );
    senders_end(&log);
    assert_eq!(received(&receiver), 2);
    assert!(
        !pwned.exists(),
        "a planted lock link creates nothing where it points"
    );
    assert!(secret.exists(), "a link's target is never touched");
    let left: Vec<String> = names_in(&queue)
        .into_iter()
        .filter(|n| n.contains("-x-") || n.ends_with(".json"))
        .collect();
    assert!(left.is_empty(), "removed: {left:?}");
    let parsed = read_log(&log);
    let found = parsed.diagnostics_containing(
        "an entry of the queue that it did not make was found and not used",
    );
    let kinds: Vec<&str> = found.iter().filter_map(|d| d["kind"].as_str()).collect();
    for kind in ["symbolic link", "not a regular file", "too large"] {
        assert!(kinds.contains(&kind), "{kind} in {kinds:?}");
    }
    assert!(found.len() >= 6, "each planted entry is said: {found:?}");
    assert_eq!(
        parsed.diagnostics_containing("event delivered").len(),
        2,
        "{:?}",
        parsed.diagnostics
    );
}

#[test]
fn a_cache_path_that_is_not_utf_8_works_and_leaves_no_token() {
    use std::os::unix::ffi::OsStrExt;
    let receiver = Receiver::start(Mode::Status(200));
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("t.log");
    let run = werf(CONVERGE);
    let home = run.home_dir();
    let cache = home
        .path()
        .join(std::ffi::OsStr::from_bytes(b"cache-\xff\xfe"));
    detached(run, &receiver.url(), &log)
        .env("XDG_CACHE_HOME", &cache)
        .run();
    assert!(
        eventually(LONG, || received(&receiver) >= 2),
        "delivered after the exit"
    );
    senders_end(&log);
    assert_eq!(received(&receiver), 2);
    let queue = cache.join("werf/telemetry-spool");
    let left: Vec<String> = names_in(&queue)
        .into_iter()
        .filter(|n| n.starts_with(".start-") || n.contains(".json"))
        .collect();
    assert!(left.is_empty(), "no token or event left: {left:?}");
}

#[test]
fn relative_paths_mean_what_they_meant_where_the_command_ran() {
    // The log file and the trust store, relative to the command's directory.
    let ca = TestCa::new();
    let receiver = Receiver::start_tls(Mode::Status(200), ca.server_config(Leaf::Good));
    let run = werf(CONVERGE);
    let home = run.home_dir();
    let work = home.path().join("work");
    std::fs::create_dir(&work).unwrap();
    std::fs::copy(ca.pem_file(), work.join("ca.pem")).unwrap();
    run.env("WERF_TELEMETRY", "1")
        .env("WERF_TELEMETRY_TRACE_URL", receiver.url())
        .env("WERF_TELEMETRY_LOG_FILE", "rel.log")
        .env("WERF_TELEMETRY_DELIVERY", "detached")
        .env("SSL_CERT_FILE", "ca.pem")
        .dir(&work)
        .run();
    let log = work.join("rel.log");
    assert!(
        eventually(LONG, || received(&receiver) >= 2),
        "the sender trusted ./ca.pem"
    );
    senders_end(&log);
    let parsed = read_log(&log);
    let fates = parsed.diagnostics_containing("event delivered");
    assert_eq!(fates.len(), 2, "{:?}", parsed.diagnostics);
    assert!(fates.iter().all(|d| d["by"] == "detached sender"));
    assert!(!home.path().join("cache/werf/rel.log").exists());

    // A relative queue directory the application sets in code.
    let receiver = Receiver::start(Mode::Status(200));
    let bin = example_bin("daemon_like");
    let run = example(&bin, &["ping"]);
    let home = run.home_dir();
    let log = home.path().join("t.log");
    run.app_telemetry(&receiver.url(), &log)
        .env("APP_TELEMETRY_DELIVERY", "detached")
        .env("FIXTURE_SPOOL_DIR", "sub/q")
        .run();
    assert!(eventually(LONG, || received(&receiver) >= 2));
    senders_end(&log);
    assert!(home.path().join("sub/q").is_dir());
    assert!(!home.path().join("sub/sub").exists());
    assert_eq!(
        read_log(&log)
            .diagnostics_containing("event delivered")
            .len(),
        2
    );
}

/// A small tmpfs, unmounted when dropped.
struct Tmpfs(PathBuf);

impl Tmpfs {
    fn mount(at: &Path) -> Option<Tmpfs> {
        std::fs::create_dir_all(at).ok()?;
        let ok = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", "size=64k,mode=0700", "tmpfs"])
            .arg(at)
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        ok.then(|| Tmpfs(at.to_owned()))
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount").arg(&self.0).status();
    }
}

#[test]
fn a_full_disk_leaves_no_temporary_files() {
    let run = werf(CONVERGE);
    let home = run.home_dir();
    let cache = home.path().join("small");
    let Some(_disk) = Tmpfs::mount(&cache) else {
        eprintln!("skipped: a tmpfs can't be mounted here (needs root)");
        return;
    };
    // Fill it: the queue's directories and empty files can still be made, no byte fits.
    let mut filler = std::fs::File::create(cache.join("filler")).unwrap();
    let _ = std::io::Write::write_all(&mut filler, &vec![0u8; 1 << 20]);
    drop(filler);
    let receiver = Receiver::start(Mode::Status(200));
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("t.log");
    for _ in 0..3 {
        detached(werf(CONVERGE).home(Some(&home)), &receiver.url(), &log)
            .env("XDG_CACHE_HOME", &cache)
            .run()
            .assert_same_as(&werf(CONVERGE).run(), "full disk");
    }
    assert_eq!(received(&receiver), 6, "delivered inline, every run");
    let queue = cache.join("werf/telemetry-spool");
    let litter: Vec<String> = names_in(&queue)
        .into_iter()
        .filter(|n| n.starts_with(".tmp-") || n.starts_with(".retry-after."))
        .collect();
    assert!(litter.is_empty(), "no temporary file left: {litter:?}");
}

/// Field `n` (1-based, as in proc(5)) of `/proc/<pid>/stat`.
fn stat_field(pid: u32, n: usize) -> String {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let after = stat.rsplit_once(')').unwrap().1;
    after.split_whitespace().nth(n - 3).unwrap().to_owned()
}

fn status_mask(pid: u32, key: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status.lines().find(|l| l.starts_with(key)).unwrap();
    u64::from_str_radix(line.split_whitespace().nth(1).unwrap(), 16).unwrap()
}

/// Runs the mini-werf detached to a black hole from a parent in the state `setup` makes (in
/// the child before `exec`), and returns the sender's pid (alive, waiting on the hole).
fn sender_of_a_parent(setup: fn(), log: &Path, hole: &Receiver) -> (u32, Arc<tempfile::TempDir>) {
    use std::os::unix::process::CommandExt;
    let (mut cmd, home) = detached(werf(CONVERGE), &hole.url(), log)
        .env("WERF_TELEMETRY_SENDER_LIFE_MS", "15000")
        .into_command();
    // SAFETY: the closure only makes system calls.
    unsafe {
        cmd.pre_exec(move || {
            setup();
            Ok(())
        });
    }
    let out = cmd.output().unwrap();
    assert!(out.status.success());
    assert!(eventually(LONG, || !sender_pids(log).is_empty()));
    let pid = sender_pids(log)[0];
    assert!(eventually(LONG, || !hole.requests().is_empty()));
    assert!(alive(pid));
    (pid, home)
}

fn kill(pid: u32) {
    // SAFETY: a signal to a process this test started.
    unsafe { libc::kill(pid as i32, libc::SIGKILL) };
}

#[test]
fn the_sender_starts_with_default_signals_a_lower_priority_and_none_of_the_parent_s_descriptors() {
    let hole = Receiver::start(Mode::BlackHole);
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("t.log");
    let (pid, _home) = sender_of_a_parent(
        || unsafe {
            // A parent that ignores the usual signals, blocks one, runs at nice 5, and has
            // a descriptor numbered above 65535 open without close-on-exec.
            for signal in [libc::SIGINT, libc::SIGHUP, libc::SIGTERM, libc::SIGQUIT] {
                libc::signal(signal, libc::SIG_IGN);
            }
            let mut set: libc::sigset_t = std::mem::zeroed();
            libc::sigemptyset(&mut set);
            libc::sigaddset(&mut set, libc::SIGUSR1);
            libc::sigprocmask(libc::SIG_BLOCK, &set, std::ptr::null_mut());
            libc::setpriority(libc::PRIO_PROCESS, 0, 5);
            let limit = libc::rlimit {
                rlim_cur: 100_000,
                rlim_max: 100_000,
            };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &limit) == 0 {
                let fd = libc::open(c"/dev/null".as_ptr(), libc::O_RDONLY);
                libc::dup2(fd, 70_000);
            }
        },
        &log,
        &hole,
    );
    let ignored = status_mask(pid, "SigIgn:");
    for signal in [libc::SIGINT, libc::SIGHUP, libc::SIGTERM, libc::SIGQUIT] {
        assert_eq!(
            ignored & (1 << (signal - 1)),
            0,
            "signal {signal} at its default"
        );
    }
    assert_eq!(status_mask(pid, "SigBlk:"), 0, "nothing blocked");
    assert_eq!(stat_field(pid, 19), "15", "nice: the parent's 5, plus 10");
    let fds = names_in(Path::new(&format!("/proc/{pid}/fd")));
    assert!(!fds.contains(&"70000".to_owned()), "{fds:?}");
    for fd in ["0", "1", "2"] {
        let target = std::fs::read_link(format!("/proc/{pid}/fd/{fd}")).unwrap();
        assert_eq!(target, Path::new("/dev/null"), "fd {fd}");
    }
    kill(pid);

    // A parent at the lowest priority: the sender is never above it.
    let log = dir.path().join("nice.log");
    let (pid, _home) = sender_of_a_parent(
        || unsafe {
            libc::setpriority(libc::PRIO_PROCESS, 0, 19);
        },
        &log,
        &hole,
    );
    assert_eq!(stat_field(pid, 19), "19");
    kill(pid);
}

#[test]
fn a_process_forked_after_install_records_nothing_and_never_waits() {
    let bin = example_bin("daemon_like");
    for mode in ["inline", "detached"] {
        let receiver = Receiver::start(Mode::Status(200));
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("t.log");
        let child_pid = dir.path().join("child.pid");
        let run = example(&bin, &["serve", "--child-ms", "300"]);
        let _home = run.home_dir();
        let done = run
            .app_telemetry(&receiver.url(), &log)
            .env("APP_TELEMETRY_DELIVERY", mode)
            // A deadline the child would wait out if it waited for a sender thread.
            .env("APP_TELEMETRY_TIMEOUT_MS", "30000")
            .env("FIXTURE_CHILD_PID", &child_pid)
            .run();
        assert_eq!(done.code(), Some(0), "{mode}");
        assert!(
            eventually(LONG, || child_pid.exists()),
            "{mode}: the child runs"
        );
        let pid: u32 = eventually(LONG, || {
            std::fs::read_to_string(&child_pid).is_ok_and(|s| !s.is_empty())
        })
        .then(|| {
            std::fs::read_to_string(&child_pid)
                .unwrap()
                .parse()
                .unwrap()
        })
        .unwrap();
        // Its 300 ms of work, then out: far sooner than the 30 s deadline.
        assert!(
            eventually(Duration::from_secs(10), || !alive(pid)),
            "{mode}: the forked child exited without waiting for the deadline"
        );
        assert!(eventually(LONG, || received(&receiver) >= 2), "{mode}");
        senders_end(&log);
        std::thread::sleep(Duration::from_millis(300));
        let events = read_log(&log);
        assert_eq!(
            events.events.events().len(),
            2,
            "{mode}: the parent's run only"
        );
        assert_eq!(received(&receiver), 2, "{mode}: nothing from the child");
    }
}

#[test]
fn without_a_null_device_the_sender_still_holds_none_of_the_command_s_descriptors() {
    // /dev/null made unopenable for writing in a mount namespace of its own (root only).
    let hole = Receiver::start(Mode::BlackHole);
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("t.log");
    let not_null = dir.path().join("not-null");
    std::fs::write(&not_null, b"").unwrap();
    let script = r#"mount --bind "$NOT_NULL" /dev/null && mount -o remount,bind,ro /dev/null && exec "$WERF" converge --repo r"#;
    let probe = std::process::Command::new("unshare")
        .args(["-m", "--propagation", "private", "sh", "-c"])
        .arg(script.replace("exec \"$WERF\" converge --repo r", "true"))
        .env("NOT_NULL", &not_null)
        .stderr(std::process::Stdio::null())
        .status();
    if !probe.is_ok_and(|s| s.success()) {
        eprintln!("skipped: no mount namespace here (needs root and unshare)");
        return;
    }
    let run = example(
        Path::new("unshare"),
        &["-m", "--propagation", "private", "sh", "-c", script],
    );
    let _home = run.home_dir();
    let done = detached(run, &hole.url(), &log)
        .env("WERF", common::werf_bin())
        .env("NOT_NULL", &not_null)
        .env("WERF_TELEMETRY_SENDER_LIFE_MS", "15000")
        .run();
    // `output()` read the command's stdout and stderr to their end: the sender, alive and
    // waiting on the black hole, holds neither.
    assert_eq!(done.code(), Some(0), "{}", done.stderr());
    assert!(eventually(LONG, || !sender_pids(&log).is_empty()));
    let pid = sender_pids(&log)[0];
    assert!(
        eventually(LONG, || !hole.requests().is_empty()),
        "the sender runs"
    );
    assert!(alive(pid));
    for fd in ["0", "1", "2"] {
        let target = std::fs::read_link(format!("/proc/{pid}/fd/{fd}")).unwrap();
        assert!(
            target.to_string_lossy().starts_with("pipe:"),
            "fd {fd}: {}",
            target.display()
        );
    }
    kill(pid);
}
