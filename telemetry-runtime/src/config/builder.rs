//! What the application sets in code: [`Telemetry`], made with [`Telemetry::builder`] and
//! installed once at the start of `main` (SPEC S-7, S-8, S-9, S-12, S-13, S-16, S-17).

use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::delivery::Delivery;
use super::env::Env;

/// Default flush deadline at process end: werf's export timeout.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_millis(1300);
/// Largest deadline accepted from `<PREFIX>_TELEMETRY_TIMEOUT_MS`; larger values are clamped.
pub const MAX_TIMEOUT: Duration = Duration::from_secs(60);
/// Default life of the detached sender process (SPEC S-19): it exits by then, whatever the
/// endpoint does; events it could not deliver stay queued for a later sender.
pub const DEFAULT_SENDER_LIFE: Duration = Duration::from_secs(10);
/// Longest life accepted for the detached sender; longer values are clamped.
pub const MAX_SENDER_LIFE: Duration = Duration::from_secs(60);

/// The application's telemetry settings, made with [`Telemetry::builder`] and installed
/// once at the start of `main`.
///
/// ```
/// let telemetry = cli_telemetry_runtime::Telemetry::builder("werf")
///     .env_prefix("WERF")
///     .version("1.2.3")
///     .endpoint("https://telemetry.example.com/v1/traces")
///     .enabled_by_default(false)
///     .group_channel_env("TRDL_USE_WERF_GROUP_CHANNEL");
/// assert_eq!(telemetry.app_name(), "werf");
/// // telemetry.install();  // in main
/// ```
#[derive(Clone, Debug)]
pub struct Telemetry {
    pub(crate) app: AppConfig,
}

/// What the application set. It also travels, as JSON in the environment, to the detached
/// sender process, which never runs `main`'s body.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct AppConfig {
    pub name: String,
    pub env_prefix: String,
    pub version: String,
    pub endpoint: String,
    pub enabled_by_default: bool,
    pub group_channel_env: Option<String>,
    pub timeout: Duration,
    pub spool: SpoolSetting,
    pub notice: Option<String>,
    pub protocol: Protocol,
    /// Request headers set by the application (name, value).
    pub headers: Vec<(String, String)>,
    /// Send an installation id as `userID` (SPEC S-16).
    pub installation_id: bool,
    /// The span name of every event; `None`: the event type (SPEC S-17).
    pub span_name: Option<String>,
    /// `schemaVersion` of every event.
    pub schema_version: u32,
    /// The delivery mode the application chose; `None`: the defaults (SPEC S-9).
    pub delivery: Option<Delivery>,
    /// The detached sender's life (SPEC S-19).
    pub sender_life: Duration,
    /// The share of runs kept, in [0, 1] (SPEC S-20).
    #[serde(default = "keep_all")]
    pub sample_rate: f64,
    /// The machine's policy file, when the application puts it elsewhere than the
    /// platform's place (SPEC S-23).
    #[serde(default)]
    pub policy_file: Option<PathBuf>,
}

fn keep_all() -> f64 {
    1.0
}

/// The OTLP/HTTP encoding of request bodies (SPEC S-8), named as OpenTelemetry names it in
/// `OTEL_EXPORTER_OTLP_PROTOCOL`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum Protocol {
    /// `http/json`: the protobuf JSON mapping, `application/json` (the default).
    #[default]
    HttpJson,
    /// `http/protobuf`: binary protobuf, `application/x-protobuf` (what werf's Go exporter
    /// sends, and the only encoding some backends accept).
    HttpProtobuf,
}

impl Protocol {
    /// `http/json` or `http/protobuf`.
    pub fn as_str(self) -> &'static str {
        match self {
            Protocol::HttpJson => "http/json",
            Protocol::HttpProtobuf => "http/protobuf",
        }
    }

    /// Parses OpenTelemetry's name of a protocol (case-insensitive, surrounding white space
    /// ignored); `None` for anything else, `grpc` included (not supported).
    pub fn parse(name: &str) -> Option<Protocol> {
        let name = name.trim();
        if name.eq_ignore_ascii_case("http/json") {
            Some(Protocol::HttpJson)
        } else if name.eq_ignore_ascii_case("http/protobuf") {
            Some(Protocol::HttpProtobuf)
        } else {
            None
        }
    }
}

/// Where the queue of events is (SPEC S-13).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) enum SpoolSetting {
    /// `<cache dir>/<app>/telemetry-spool`.
    Default,
    /// No spool: undelivered events are dropped (and logged as such).
    Disabled,
    /// This directory.
    Dir(PathBuf),
}

impl Telemetry {
    /// Starts the settings of the application called `name` (the root command's name; it
    /// is also the OpenTelemetry `service.name`). The environment prefix defaults to `name`
    /// upper-cased with every non-alphanumeric character replaced by `_`.
    pub fn builder(name: impl Into<String>) -> Self {
        let name = name.into();
        let env_prefix = name
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() {
                    c.to_ascii_uppercase()
                } else {
                    '_'
                }
            })
            .collect();
        Telemetry {
            app: AppConfig {
                name,
                env_prefix,
                version: "unknown".into(),
                endpoint: String::new(),
                enabled_by_default: false,
                group_channel_env: None,
                timeout: DEFAULT_TIMEOUT,
                spool: SpoolSetting::Default,
                notice: None,
                protocol: Protocol::HttpJson,
                headers: Vec::new(),
                installation_id: false,
                span_name: None,
                schema_version: crate::event::SCHEMA_VERSION,
                delivery: None,
                sender_life: DEFAULT_SENDER_LIFE,
                sample_rate: 1.0,
                policy_file: None,
            },
        }
    }

    /// Prefix of the environment variables (`<PREFIX>_TELEMETRY`, `<PREFIX>_TELEMETRY_LOG_FILE`, …).
    pub fn env_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.app.env_prefix = prefix.into();
        self
    }

    /// The application's version, sent as `attributes.version`. Usually
    /// `env!("CARGO_PKG_VERSION")`.
    pub fn version(mut self, version: impl Into<String>) -> Self {
        self.app.version = version.into();
        self
    }

    /// The OTLP/HTTP traces endpoint (`https://…/v1/traces`). Users can override it with
    /// `<PREFIX>_TELEMETRY_TRACE_URL`. Without an endpoint events are only logged.
    pub fn endpoint(mut self, url: impl Into<String>) -> Self {
        self.app.endpoint = url.into();
        self
    }

    /// Whether telemetry is on when the user has set nothing (default: `false`).
    pub fn enabled_by_default(mut self, on: bool) -> Self {
        self.app.enabled_by_default = on;
        self
    }

    /// Name of the environment variable whose value becomes `attributes.groupChannel`
    /// (werf: `TRDL_USE_WERF_GROUP_CHANNEL`).
    pub fn group_channel_env(mut self, var: impl Into<String>) -> Self {
        self.app.group_channel_env = Some(var.into());
        self
    }

    /// Deadline for delivering pending events when a command ends (default 1300 ms).
    /// Users can override it with `<PREFIX>_TELEMETRY_TIMEOUT_MS`.
    pub fn timeout(mut self, deadline: Duration) -> Self {
        self.app.timeout = deadline.min(MAX_TIMEOUT);
        self
    }

    /// Where the durable queue of events is (SPEC S-13): every recorded event waits there
    /// until its fate is final, so that a run killed by a signal loses nothing, and events
    /// that could not be delivered are sent by a later sender. Default:
    /// `<cache dir>/<app>/telemetry-spool`, the cache dir being `$XDG_CACHE_HOME` or the
    /// platform's. `None` disables the queue: delivery is then inline, and undelivered
    /// events are dropped (and logged as such).
    pub fn spool_dir(mut self, dir: Option<PathBuf>) -> Self {
        self.app.spool = match dir {
            Some(dir) => SpoolSetting::Dir(dir),
            None => SpoolSetting::Disabled,
        };
        self
    }

    /// A notice shown once, on stderr, when telemetry is on only because of the app's
    /// default (SPEC S-12): the first run prints it and records that it did in
    /// `<config dir>/<app>/telemetry-notice-shown`; CI runs print it every time. Nothing is
    /// sent before it has been shown, and nothing at all if the marker cannot be written.
    pub fn first_run_notice(mut self, text: impl Into<String>) -> Self {
        self.app.notice = Some(text.into());
        self
    }

    /// The encoding of request bodies (default [`Protocol::HttpJson`]). Users can override
    /// it with `<PREFIX>_TELEMETRY_PROTOCOL=http/json|http/protobuf`.
    pub fn protocol(mut self, protocol: Protocol) -> Self {
        self.app.protocol = protocol;
        self
    }

    /// A header sent with every request, e.g. a backend's API key
    /// (`x-honeycomb-team`, `signoz-ingestion-key`, `authorization`). Header values are never
    /// written to the log file, printed or shown by status; names may be. Users can add or
    /// override headers with `<PREFIX>_TELEMETRY_HEADERS=name=value,name2=value2`. A name
    /// that is not an HTTP token, or a value with a line break, is ignored with a note.
    ///
    /// ```
    /// let t = cli_telemetry_runtime::Telemetry::builder("mytool").header("x-api-key", "K");
    /// # let _ = t;
    /// ```
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.app.headers.push((name.into(), value.into()));
        self
    }

    /// Send an anonymous installation id as `userID` (SPEC S-16; off by default): a random
    /// UUID v4 created on first use and kept in `<config dir>/<app>/telemetry.json`. It is
    /// never derived from hardware, network, user or host names; none is created or sent in
    /// CI (a fresh CI machine would count as a new installation on every run); `<app>
    /// telemetry disable` and `reset` delete it. It lets the author count installations.
    pub fn installation_id(mut self, on: bool) -> Self {
        self.app.installation_id = on;
        self
    }

    /// The name of every span (default: the event type). werf's collector keeps only spans
    /// named `telemetry.werf.io` (SPEC S-17).
    pub fn span_name(mut self, name: impl Into<String>) -> Self {
        self.app.span_name = Some(name.into());
        self
    }

    /// `schemaVersion` of every event (default [`crate::SCHEMA_VERSION`], 1). werf's wire is
    /// 2: with [`Telemetry::installation_id`], [`Telemetry::span_name`]`("telemetry.werf.io")`
    /// and [`Protocol::HttpProtobuf`], spans are exactly what werf's collector exporter reads.
    ///
    /// ```
    /// use cli_telemetry_runtime::{Protocol, Telemetry};
    ///
    /// let werf_wire = Telemetry::builder("werf")
    ///     .span_name("telemetry.werf.io")
    ///     .schema_version(2)
    ///     .installation_id(true)
    ///     .protocol(Protocol::HttpProtobuf);
    /// # let _ = werf_wire;
    /// ```
    pub fn schema_version(mut self, version: u32) -> Self {
        self.app.schema_version = version;
        self
    }

    /// How events leave the process (SPEC S-9). Without a call: [`Delivery::Detached`] for
    /// interactive runs when `main` carries `#[cli_telemetry::main]`, [`Delivery::Inline`]
    /// in CI and without the attribute. The person running the tool overrides it with
    /// `<PREFIX>_TELEMETRY_DELIVERY=detached|inline`.
    ///
    /// ```
    /// use cli_telemetry_runtime::{Delivery, Telemetry};
    ///
    /// // A tool whose runs are mostly in CI-like sandboxes that kill what is left.
    /// let t = Telemetry::builder("mytool").delivery(Delivery::Inline);
    /// # let _ = t;
    /// ```
    pub fn delivery(mut self, mode: Delivery) -> Self {
        self.app.delivery = Some(mode);
        self
    }

    /// Where the machine's policy file is (SPEC S-23), for an application that keeps its
    /// system-wide configuration elsewhere than the platform's place (`/etc/<app>/
    /// telemetry.json` on Linux and other Unix, `/Library/Application Support/<app>/
    /// telemetry.json` on macOS, `%ProgramData%\<app>\telemetry.json` on Windows). With
    /// `{"enabled": false}` in it, telemetry is off for every user, whatever else is set;
    /// the file can never switch telemetry on.
    pub fn policy_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.app.policy_file = Some(path.into());
        self
    }

    /// The longest the detached sender process lives (default 10 s, at most 60 s): it exits
    /// by then whatever the endpoint does, and what it could not deliver stays queued for
    /// a later sender. The person running the tool can set it with
    /// `<PREFIX>_TELEMETRY_SENDER_LIFE_MS`.
    pub fn sender_life(mut self, life: Duration) -> Self {
        self.app.sender_life = life.min(MAX_SENDER_LIFE);
        self
    }

    /// For tools run many times a day (a shell-prompt helper, a git hook): keep a share
    /// `rate` (0 ≤ rate ≤ 1, default 1) of the runs. Each process is kept whole or dropped
    /// whole, decided once before anything is recorded, from the operating system's
    /// randomness; a dropped run costs what "off" costs (no thread, file or socket). Every
    /// kept event carries `attributes.sampleRate` when the rate is below 1, so that the
    /// backend scales its counts by `1 / sampleRate`. The person running the tool can lower
    /// the rate with `<PREFIX>_TELEMETRY_SAMPLE_RATE`, never raise it. Values outside
    /// [0, 1] are clamped into it.
    ///
    /// ```
    /// let t = cli_telemetry_runtime::Telemetry::builder("zoxide").sample_rate(0.1);
    /// assert_eq!(t.status().sample_rate, 0.1);
    /// ```
    pub fn sample_rate(mut self, rate: f64) -> Self {
        self.app.sample_rate = super::sampling::clamp(rate);
        self
    }

    /// The application name given to [`Telemetry::builder`].
    pub fn app_name(&self) -> &str {
        &self.app.name
    }
}

impl AppConfig {
    pub(crate) fn var(&self, suffix: &str) -> String {
        format!("{}_TELEMETRY{}", self.env_prefix, suffix)
    }

    /// A file-name-safe form of the app name, for directories.
    pub(crate) fn dir_name(&self) -> String {
        let name: String = self
            .name
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        if name.is_empty() || name.starts_with('.') {
            format!("app{name}")
        } else {
            name
        }
    }

    /// The spool directory, if any.
    pub(crate) fn spool_dir(&self, env: &dyn Env) -> Option<PathBuf> {
        match &self.spool {
            SpoolSetting::Default => Some(
                super::dirs::cache_dir(env)?
                    .join(self.dir_name())
                    .join("telemetry-spool"),
            ),
            SpoolSetting::Disabled => None,
            // Relative to where the run starts, whoever reads it later (the detached
            // sender works in another directory).
            SpoolSetting::Dir(dir) => Some(std::path::absolute(dir).unwrap_or(dir.clone())),
        }
    }

    /// The first-run notice marker file.
    #[cfg(feature = "telemetry")]
    pub(crate) fn notice_marker(&self, env: &dyn Env) -> Option<PathBuf> {
        Some(
            super::dirs::config_dir(env)?
                .join(self.dir_name())
                .join("telemetry-notice-shown"),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_prefix_is_derived_from_the_name() {
        assert_eq!(
            Telemetry::builder("my-tool").app.var(""),
            "MY_TOOL_TELEMETRY"
        );
        assert_eq!(
            Telemetry::builder("werf").env_prefix("W").app.var("_DEBUG"),
            "W_TELEMETRY_DEBUG"
        );
    }
}
