//! Black-box tests of a built binary (SPEC S-11a): [`Collector`], a real OTLP/HTTP
//! receiver on 127.0.0.1 that decodes what the binary sends (JSON or protobuf) into the same
//! [`Event`] a capture returns, gives the child an environment of its own, waits for
//! complete runs — those the detached sender delivers after the process exited too — and
//! answers as a failing endpoint would when a test asks it to.

use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::exchange::{Answer, Request};
use super::home::Home;
use super::log::{read_log, Log};
use super::run::{runs_in, Run};
use super::server::{serve, Shared};
use crate::event::Event;
use crate::record::guard::lock;

/// A real OTLP/HTTP receiver on `127.0.0.1:0` for black-box tests of a built binary, with
/// an environment for the child that keeps it away from the developer's own settings.
///
/// ```no_run
/// use std::process::Command;
/// use std::time::Duration;
/// use cli_telemetry_runtime::testing::Collector;
///
/// // In an integration test of your crate: env!("CARGO_BIN_EXE_mytool").
/// let binary = "target/debug/mytool";
/// let collector = Collector::start();
/// let status = Command::new(binary)
///     .args(["deploy", "--target", "prod"])
///     .envs(collector.env("MYTOOL"))
///     .status()
///     .unwrap();
/// let runs = collector.wait_for_runs(1, Duration::from_secs(15));
/// assert_eq!(runs[0].command(), "mytool deploy");
/// assert!(runs[0].option("target").is_some_and(|o| o.as_cli));
/// assert_eq!(runs[0].exit_code(), status.code().map(i64::from));
/// collector.assert_never_sent("prod");
/// ```
pub struct Collector {
    addr: SocketAddr,
    shared: Arc<Shared>,
    home: Home,
}

impl Collector {
    /// A collector that answers every request with 200.
    pub fn start() -> Collector {
        Collector::answering(Answer::Status(200))
    }

    /// A collector that answers every request with `answer`.
    pub fn answering(answer: Answer) -> Collector {
        Collector::answering_in_turn(vec![answer])
    }

    /// A collector that answers with `answers` in turn, the last one for every request
    /// after (an empty list: 200).
    ///
    /// # Panics
    ///
    /// When no port on 127.0.0.1 or no temporary directory can be had: the test cannot
    /// run.
    pub fn answering_in_turn(answers: Vec<Answer>) -> Collector {
        let listener = TcpListener::bind("127.0.0.1:0").expect("a port on 127.0.0.1");
        let addr = listener.local_addr().expect("the collector's address");
        let shared = Arc::new(Shared::new(answers));
        let serving = shared.clone();
        std::thread::Builder::new()
            .name("collector".into())
            .spawn(move || serve(listener, serving))
            .expect("the collector's thread");
        Collector {
            addr,
            shared,
            home: Home::new().expect("a temporary home for the collector's children"),
        }
    }

    /// The traces endpoint, `http://127.0.0.1:<port>/v1/traces`.
    pub fn url(&self) -> String {
        format!("http://{}/v1/traces", self.addr)
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The environment for a child process of the application whose variables start with
    /// `prefix` (`MYTOOL` → `MYTOOL_TELEMETRY`): telemetry on, sending here, logging to
    /// [`Collector::log_file`], debug mode and `DO_NOT_TRACK` neutral, and HOME, the config
    /// and the cache directory (`%APPDATA%`, `%LOCALAPPDATA%` on Windows) in a fresh
    /// temporary directory that lives as long as the collector — so a test never reads or
    /// writes the developer's own lasting choice, first-run marker or queue. Delivery is
    /// what the binary would do (detached outside CI, with `#[cli_telemetry::main]`).
    pub fn env(&self, prefix: &str) -> Vec<(String, String)> {
        let var = |suffix: &str| format!("{prefix}_TELEMETRY{suffix}");
        let mut vars = self.home.vars();
        vars.extend([
            (var(""), "1".to_owned()),
            (var("_TRACE_URL"), self.url()),
            (
                var("_LOG_FILE"),
                self.log_file().to_string_lossy().into_owned(),
            ),
            (var("_DEBUG"), "0".to_owned()),
            ("DO_NOT_TRACK".to_owned(), "0".to_owned()),
        ]);
        vars
    }

    /// [`Collector::env`] with inline delivery: the events are sent before the process
    /// exits.
    pub fn env_inline(&self, prefix: &str) -> Vec<(String, String)> {
        let mut vars = self.env(prefix);
        vars.push((format!("{prefix}_TELEMETRY_DELIVERY"), "inline".to_owned()));
        vars
    }

    /// The home directory [`Collector::env`] gives the child.
    pub fn home(&self) -> &Path {
        self.home.path()
    }

    /// The log file [`Collector::env`] names (`<PREFIX>_TELEMETRY_LOG_FILE`): every event
    /// and its fate.
    pub fn log_file(&self) -> PathBuf {
        self.home.path().join("telemetry.log")
    }

    /// The log file read back (empty when nothing was written).
    pub fn log(&self) -> Log {
        read_log(self.log_file()).unwrap_or_default()
    }

    /// Every request received so far, in order.
    pub fn requests(&self) -> Vec<Request> {
        lock(&self.shared.requests).clone()
    }

    /// Every event received so far, in the order received.
    pub fn events(&self) -> Vec<Event> {
        lock(&self.shared.requests)
            .iter()
            .flat_map(|r| r.events.iter().cloned())
            .collect()
    }

    /// Waits (without sleeping in the test) until `n` requests have arrived or `timeout`
    /// passes; returns the requests received by then.
    pub fn wait_for_requests(&self, n: usize, timeout: Duration) -> Vec<Request> {
        self.wait_until(timeout, |requests| requests.len() >= n);
        self.requests()
    }

    /// Waits until `n` runs are complete — CommandStarted and CommandExited of one
    /// `executionID` received, whoever sent them (the process, or its detached sender after
    /// it exited) — or `timeout` passes. Returns the first `n` complete runs in the order
    /// they began to arrive, or the complete runs there are at the timeout; never panics.
    pub fn wait_for_runs(&self, n: usize, timeout: Duration) -> Vec<Run> {
        self.wait_until(timeout, |requests| runs_in(requests).len() >= n);
        let mut runs = runs_in(&lock(&self.shared.requests));
        runs.truncate(n);
        runs
    }

    fn wait_until(&self, timeout: Duration, mut done: impl FnMut(&[Request]) -> bool) {
        let end = Instant::now() + timeout;
        let mut requests = lock(&self.shared.requests);
        while !done(&requests) {
            let now = Instant::now();
            if now >= end {
                return;
            }
            requests = requests.wait_timeout(&self.shared.arrived, end - now);
        }
    }

    /// Fails if any request received so far — its body, a header's name or value, its
    /// path, or an event it carries — contains `needle` (SPEC R-2: no option value, path,
    /// user or host name ever leaves).
    ///
    /// # Panics
    ///
    /// With where the needle was found.
    pub fn assert_never_sent(&self, needle: &str) {
        let bytes = needle.as_bytes();
        let has = |hay: &[u8]| !bytes.is_empty() && hay.windows(bytes.len()).any(|w| w == bytes);
        for (i, request) in self.requests().iter().enumerate() {
            let mut places = Vec::new();
            if has(request.path.as_bytes()) {
                places.push("its path".to_owned());
            }
            if has(&request.body) {
                places.push("its body".to_owned());
            }
            for (name, value) in &request.headers {
                if has(name.as_bytes()) || has(value.as_bytes()) {
                    places.push(format!("header {name}"));
                }
            }
            for event in &request.events {
                if serde_json::to_string(event).is_ok_and(|json| has(json.as_bytes())) {
                    places.push(format!("a {} event", event.event_type));
                }
            }
            if !places.is_empty() {
                panic!(
                    "{needle:?} was sent: request #{i} to {} has it in {}",
                    request.path,
                    places.join(", ")
                );
            }
        }
    }
}

impl Drop for Collector {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::Relaxed);
        // Wakes the accept loop so that it sees the flag.
        let _ = std::net::TcpStream::connect_timeout(&self.addr, Duration::from_millis(200));
    }
}
