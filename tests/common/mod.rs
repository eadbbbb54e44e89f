//! Shared pieces of the black-box tests: the built mini-werf and fixture apps, a loopback
//! OTLP receiver (the library's public `testing::Collector`, with a TLS terminator and
//! scripted replies on top), log-file reading.
#![allow(dead_code)] // each test file uses a part

pub mod otlp;
pub mod procs;
pub mod proxy;
pub mod sender;
pub mod tls;

use std::io::BufRead;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::{Arc, Mutex, OnceLock};

use cli_telemetry::testing::{Answer, Collector};
use std::time::{Duration, Instant};

/// `target/<profile>` of this test binary (which is `target/<profile>/deps/<test>`).
fn profile_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("test exe");
    exe.parent()
        .and_then(Path::parent)
        .expect("target/<profile>")
        .to_owned()
}

/// `<dir>/<name>` with the platform's executable suffix, which must exist.
fn bin_in(dir: &Path, name: &str) -> PathBuf {
    let bin = dir.join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    assert!(bin.exists(), "{} missing", bin.display());
    bin
}

/// Path of a built example, building the examples (once per test binary) if needed.
pub fn example_bin(name: &str) -> PathBuf {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    let dir = BUILT.get_or_init(|| {
        let profile_dir = profile_dir();
        let status = Command::new(env!("CARGO"))
            .args(["build", "--quiet", "--examples"])
            .args(if profile_dir.ends_with("release") {
                &["--release"][..]
            } else {
                &[][..]
            })
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .status()
            .expect("cargo build --examples");
        assert!(status.success(), "building the examples failed");
        profile_dir.join("examples")
    });
    bin_in(dir, name)
}

/// Path of binary `name` of the standalone fixture crate `tests/fixtures/<fixture>` (its
/// own workspace and lock), built once per test binary into `target/<fixture>`.
pub fn fixture_bin(fixture: &str, name: &str) -> PathBuf {
    static BUILT: Mutex<Vec<(String, PathBuf)>> = Mutex::new(Vec::new());
    let mut built = BUILT.lock().unwrap_or_else(|p| p.into_inner());
    let dir = match built.iter().find(|(f, _)| f == fixture) {
        Some((_, dir)) => dir.clone(),
        None => {
            let target = profile_dir().parent().expect("target/").join(fixture);
            let manifest = Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("tests/fixtures")
                .join(fixture)
                .join("Cargo.toml");
            let status = Command::new(env!("CARGO"))
                .args(["build", "--quiet", "--bins", "--manifest-path"])
                .arg(&manifest)
                .env("CARGO_TARGET_DIR", &target)
                .status()
                .expect("cargo build (fixture)");
            assert!(status.success(), "building tests/fixtures/{fixture} failed");
            let dir = target.join("debug");
            built.push((fixture.to_owned(), dir.clone()));
            dir
        }
    };
    bin_in(&dir, name)
}

/// Path of a binary of `tests/fixtures/reqwest-app`: the same sources (the mini-werf, the
/// git-cliff-shaped fixture) built as an application with reqwest builds them, with
/// cli-telemetry's `reqwest` transport only.
pub fn reqwest_app_bin(name: &str) -> PathBuf {
    fixture_bin("reqwest-app", name)
}

/// The builds a delivery test runs against, named by transport: the default build (the
/// built-in transport) and the reqwest application's (the `reqwest` transport).
pub fn transports(name: &str) -> [(&'static str, PathBuf); 2] {
    [
        ("builtin-http", example_bin(name)),
        ("reqwest", reqwest_app_bin(name)),
    ]
}

pub fn werf_bin() -> PathBuf {
    example_bin("werf")
}

/// A run of an example with a clean environment: only what the test sets, and a home,
/// cache and config directory of its own (so no spool or marker is shared by accident).
pub struct Run {
    cmd: Command,
    home: Arc<tempfile::TempDir>,
}

pub fn werf(args: &[&str]) -> Run {
    example(&werf_bin(), args)
}

pub fn example(bin: &Path, args: &[&str]) -> Run {
    let mut cmd = Command::new(bin);
    cmd.args(args).env_clear().stdin(Stdio::null());
    for keep in ["PATH", "RUST_BACKTRACE"] {
        if let Some(v) = std::env::var_os(keep) {
            cmd.env(keep, v);
        }
    }
    let home = Arc::new(tempfile::tempdir().expect("temp home"));
    Run { cmd, home }.home(None)
}

impl Run {
    /// Shares `home` (HOME, XDG_CACHE_HOME = home/cache, XDG_CONFIG_HOME = home/config)
    /// with other runs; `None` keeps this run's own.
    pub fn home(mut self, home: Option<&Arc<tempfile::TempDir>>) -> Self {
        if let Some(home) = home {
            self.home = home.clone();
        }
        let path = self.home.path().to_owned();
        // Relative paths a test passes (a log file named "=") land in the home; call
        // `dir` after `home` to run elsewhere.
        self.cmd
            .current_dir(&path)
            .env("HOME", &path)
            .env("XDG_CACHE_HOME", path.join("cache"))
            .env("XDG_CONFIG_HOME", path.join("config"));
        self
    }

    pub fn home_dir(&self) -> Arc<tempfile::TempDir> {
        self.home.clone()
    }

    pub fn env(mut self, key: &str, value: impl AsRef<std::ffi::OsStr>) -> Self {
        self.cmd.env(key, value);
        self
    }

    pub fn env_remove(mut self, key: &str) -> Self {
        self.cmd.env_remove(key);
        self
    }

    pub fn dir(mut self, dir: impl AsRef<Path>) -> Self {
        self.cmd.current_dir(dir);
        self
    }

    /// Telemetry on, sending to `url`, logging to `log`, delivering inline (the suites that
    /// read the receiver as the process exits; `tests/detached.rs` sets `detached`).
    pub fn telemetry(self, url: &str, log: &Path) -> Self {
        self.env("WERF_TELEMETRY", "1")
            .env("WERF_TELEMETRY_TRACE_URL", url)
            .env("WERF_TELEMETRY_LOG_FILE", log)
            .env("WERF_TELEMETRY_DELIVERY", "inline")
    }

    /// Telemetry on for a fixture app of `tests/apps/` (env prefix `APP`), inline.
    pub fn app_telemetry(self, url: &str, log: &Path) -> Self {
        self.env("APP_TELEMETRY", "1")
            .env("APP_TELEMETRY_TRACE_URL", url)
            .env("APP_TELEMETRY_LOG_FILE", log)
            .env("APP_TELEMETRY_DELIVERY", "inline")
    }

    /// The command as it would run, for what `Run` does not offer (a `pre_exec`), with the
    /// home it uses (keep it alive while the command runs).
    pub fn into_command(self) -> (Command, Arc<tempfile::TempDir>) {
        (self.cmd, self.home)
    }

    /// Starts the run without waiting (stdout and stderr discarded); the caller keeps the
    /// home alive (`home_dir`) for as long as the child runs.
    pub fn spawn(mut self) -> std::process::Child {
        self.cmd
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn")
    }

    pub fn run(mut self) -> Finished {
        let start = Instant::now();
        let output = self.cmd.output().expect("run werf");
        Finished {
            output,
            elapsed: start.elapsed(),
        }
    }
}

pub struct Finished {
    pub output: Output,
    pub elapsed: Duration,
}

impl Finished {
    pub fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.output.stdout).into_owned()
    }
    pub fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.output.stderr).into_owned()
    }
    pub fn code(&self) -> Option<i32> {
        self.output.status.code()
    }
    /// Same stdout, stderr and exit status as `other` (panic messages name the thread
    /// with its OS id, which differs from run to run: that number is left out).
    pub fn assert_same_as(&self, other: &Finished, what: &str) {
        assert_eq!(self.stdout(), other.stdout(), "{what}: stdout differs");
        assert_eq!(
            without_thread_ids(&self.stderr()),
            without_thread_ids(&other.stderr()),
            "{what}: stderr differs"
        );
        assert_eq!(
            self.output.status.code(),
            other.output.status.code(),
            "{what}: exit code differs"
        );
    }
}

/// `thread 'main' (12345) panicked` → `thread 'main' (…) panicked`.
fn without_thread_ids(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(pos) = rest.find("' (") {
        let (head, tail) = rest.split_at(pos + 3);
        out.push_str(head);
        let digits = tail.chars().take_while(char::is_ascii_digit).count();
        if digits > 0 && tail[digits..].starts_with(')') {
            out.push('…');
            rest = &tail[digits..];
        } else {
            rest = tail;
        }
    }
    out.push_str(rest);
    out
}

/// Runs `args` of the fixture app `bin` (env prefix `APP`), or of the mini-werf (`"werf"`),
/// with telemetry on (inline, to a receiver answering as `mode`, logging to a file) and off,
/// each in a home of its own, with `env` set for both; asserts the same output, and returns
/// the run with telemetry on, its log file and the receiver.
pub fn on_and_off(
    bin: &str,
    args: &[&str],
    mode: Mode,
    env: &[(&str, &str)],
) -> (Finished, cli_telemetry::testing::Log, Receiver) {
    let receiver = Receiver::start(mode);
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("t.log");
    let build = |on: bool| -> Run {
        let mut run = if bin == "werf" {
            werf(args)
        } else {
            example(&example_bin(bin), args)
        };
        for (k, v) in env {
            run = run.env(k, v);
        }
        match (on, bin) {
            (true, "werf") => run.telemetry(&receiver.url(), &log),
            (true, _) => run.app_telemetry(&receiver.url(), &log),
            (false, "werf") => run.env("WERF_TELEMETRY", "0"),
            (false, _) => run.env("APP_TELEMETRY", "0"),
        }
    };
    let on = build(true).run();
    let off = build(false).run();
    on.assert_same_as(&off, &format!("{bin} {args:?}"));
    (on, read_log(&log), receiver)
}

/// How the loopback receiver answers.
#[derive(Clone, Copy, Debug)]
pub enum Mode {
    /// Answer with this status at once.
    Status(u16),
    /// Record the request at once, answer 200 after this delay.
    Delay(Duration),
    /// Accept connections, read, never answer.
    BlackHole,
}

impl Mode {
    fn answer(self) -> Answer {
        match self {
            Mode::Status(s) => Answer::Status(s),
            Mode::Delay(d) => Answer::Delay(d.as_millis() as u64),
            Mode::BlackHole => Answer::BlackHole,
        }
    }
}

/// One request the receiver got.
#[derive(Clone, Debug)]
pub struct Received {
    pub path: String,
    /// Header names lower-cased.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// When it arrived.
    pub at: std::time::SystemTime,
    /// The status it was answered with (0: not answered).
    pub answered: u16,
}

impl Received {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// One answer of a scripted receiver ([`Receiver::start_script`]).
#[derive(Clone, Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub content_type: String,
    pub body: Vec<u8>,
}

impl Reply {
    /// `status` with `{}` as a JSON body.
    pub fn status(status: u16) -> Reply {
        Reply {
            status,
            headers: Vec::new(),
            content_type: "application/json".into(),
            body: b"{}".to_vec(),
        }
    }

    pub fn header(mut self, name: &str, value: &str) -> Reply {
        self.headers.push((name.into(), value.into()));
        self
    }

    pub fn body(mut self, content_type: &str, body: impl Into<Vec<u8>>) -> Reply {
        self.content_type = content_type.into();
        self.body = body.into();
        self
    }

    fn answer(self) -> Answer {
        let mut headers = vec![("Content-Type".to_owned(), self.content_type)];
        headers.extend(self.headers);
        Answer::Raw {
            status: self.status,
            headers,
            body: self.body,
        }
    }
}

/// The loopback OTLP/HTTP receiver of these tests: the library's own
/// `cli_telemetry::testing::Collector` (dogfooded), in HTTPS behind a TLS terminator with a
/// certificate from a test CA ([`tls`]) where a test needs it.
pub struct Receiver {
    collector: Collector,
    tls: Option<tls::Terminator>,
}

impl Receiver {
    pub fn start(mode: Mode) -> Receiver {
        Receiver {
            collector: Collector::answering(mode.answer()),
            tls: None,
        }
    }

    /// HTTPS with this server configuration.
    pub fn start_tls(mode: Mode, config: Arc<rustls::ServerConfig>) -> Receiver {
        let collector = Collector::answering(mode.answer());
        let tls = tls::Terminator::start(config, collector.addr());
        Receiver {
            collector,
            tls: Some(tls),
        }
    }

    /// A plain-HTTP receiver answering with `replies` in turn, the last one for every
    /// request after.
    pub fn start_script(replies: Vec<Reply>) -> Receiver {
        assert!(!replies.is_empty());
        Receiver {
            collector: Collector::answering_in_turn(
                replies.into_iter().map(Reply::answer).collect(),
            ),
            tls: None,
        }
    }

    pub fn url(&self) -> String {
        match &self.tls {
            Some(tls) => format!("https://localhost:{}/v1/traces", tls.port()),
            None => self.collector.url(),
        }
    }

    /// The port clients connect to (the TLS front's, for HTTPS).
    pub fn port(&self) -> u16 {
        match &self.tls {
            Some(tls) => tls.port(),
            None => self.collector.addr().port(),
        }
    }

    pub fn collector(&self) -> &Collector {
        &self.collector
    }

    pub fn requests(&self) -> Vec<Received> {
        self.collector
            .requests()
            .into_iter()
            .map(|r| Received {
                path: r.path().to_owned(),
                headers: r.headers().to_vec(),
                body: r.body().to_vec(),
                at: r.received_at(),
                answered: r.answered().unwrap_or(0),
            })
            .collect()
    }

    pub fn bodies(&self) -> Vec<Vec<u8>> {
        self.requests().into_iter().map(|r| r.body).collect()
    }

    pub fn paths(&self) -> Vec<String> {
        self.requests().into_iter().map(|r| r.path).collect()
    }

    /// Waits (bounded) until `n` bodies have arrived.
    pub fn wait_for(&self, n: usize, limit: Duration) -> Vec<Vec<u8>> {
        self.collector.wait_for_requests(n, limit);
        self.bodies()
    }
}

/// Reads a request head: (request line, headers with lower-cased names).
pub fn read_request_head(reader: &mut impl BufRead) -> Option<(String, Vec<(String, String)>)> {
    let mut request_line = String::new();
    if reader.read_line(&mut request_line).unwrap_or(0) == 0 {
        return None;
    }
    let mut headers = Vec::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return None;
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some((k, v)) = line.split_once(':') {
            headers.push((k.trim().to_ascii_lowercase(), v.trim().to_owned()));
        }
    }
    Some((request_line.trim_end().to_owned(), headers))
}

/// A port on 127.0.0.1 where nothing listens.
pub fn refused_url() -> String {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    format!("http://127.0.0.1:{port}/v1/traces")
}

/// Runs git in `dir`, ignoring the machine's and the user's git configuration.
pub fn git(dir: &Path, args: &[&str]) {
    let out = Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .output()
        .expect("git runs");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Waits (bounded) until `done` holds; returns whether it did.
pub fn eventually(limit: Duration, mut done: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    loop {
        if done() {
            return true;
        }
        if start.elapsed() > limit {
            return false;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Process ids of the detached senders a log file names ("detached sender started").
pub fn sender_pids(log: &Path) -> Vec<u32> {
    read_log(log)
        .diagnostics_containing("detached sender started")
        .iter()
        .filter_map(|d| d.get("pid")?.as_u64())
        .map(|p| p as u32)
        .collect()
}

pub fn read_log(path: &Path) -> cli_telemetry::testing::Log {
    cli_telemetry::testing::read_log(path).unwrap_or_default()
}

/// Property-test settings: `n` cases, or `PROPTEST_CASES` when set (for a longer run, see
/// FUZZING.md); failing cases are printed, not persisted.
pub fn proptest_cases(n: u32) -> proptest::test_runner::Config {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(n);
    proptest::test_runner::Config {
        cases,
        failure_persistence: None,
        ..proptest::test_runner::Config::default()
    }
}
