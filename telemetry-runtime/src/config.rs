//! Configuration: what the application sets in code ([`Telemetry`]) and what the person
//! running it sets in the environment (SPEC S-7, S-8, S-9, S-10).

use std::ffi::{OsStr, OsString};
use std::path::PathBuf;
use std::time::Duration;

/// Default flush deadline at process end: werf's export timeout.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_millis(1300);
/// Largest deadline accepted from `<PREFIX>_TELEMETRY_TIMEOUT_MS`; larger values are clamped.
pub const MAX_TIMEOUT: Duration = Duration::from_secs(60);

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

#[derive(Clone, Debug)]
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
}

/// The OTLP/HTTP encoding of request bodies (SPEC S-8), named as OpenTelemetry names it in
/// `OTEL_EXPORTER_OTLP_PROTOCOL`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
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

/// Where undelivered events wait for a later run.
#[derive(Clone, Debug)]
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

    /// Where undelivered events wait for a later run (SPEC S-13). Default:
    /// `<cache dir>/<app>/telemetry-spool`, the cache dir being `$XDG_CACHE_HOME` or the
    /// platform's. `None` disables the spool.
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
                crate::dirs::cache_dir(env)?
                    .join(self.dir_name())
                    .join("telemetry-spool"),
            ),
            SpoolSetting::Disabled => None,
            SpoolSetting::Dir(dir) => Some(dir.clone()),
        }
    }

    /// The first-run notice marker file.
    #[cfg(feature = "telemetry")]
    pub(crate) fn notice_marker(&self, env: &dyn Env) -> Option<PathBuf> {
        Some(
            crate::dirs::config_dir(env)?
                .join(self.dir_name())
                .join("telemetry-notice-shown"),
        )
    }
}

/// Which setting decided whether telemetry is on (SPEC S-7, S-14).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Decision {
    /// `<PREFIX>_TELEMETRY` was set to a recognised value.
    EnvVar {
        /// The variable's name.
        var: String,
        /// Whether its value meant on.
        on: bool,
    },
    /// `DO_NOT_TRACK` was set to a true value.
    DoNotTrack,
    /// The lasting choice of the person running the tool (`<app> telemetry enable` or
    /// `disable`), kept in this file.
    File {
        /// `<config dir>/<app>/telemetry.json`.
        path: PathBuf,
        /// Whether the choice is on.
        on: bool,
    },
    /// `<PREFIX>_TELEMETRY_DEBUG` turned telemetry on in debug mode (print, never send).
    Debug {
        /// The variable's name.
        var: String,
    },
    /// Nothing was set: the application's default applies.
    AppDefault {
        /// The default.
        on: bool,
    },
    /// The crate was built without its `telemetry` feature.
    CompiledOut,
}

/// A diagnostic about the environment: a value that was ignored, and why. Recorded in the
/// log file, which holds variable names, never their values; never printed outside debug
/// mode. Status, which people read in their own terminal, may show the value as typed.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Note {
    /// Severity (`"warn"`).
    pub level: &'static str,
    /// What was ignored and why (names only).
    pub message: String,
    /// The same with the value as the person typed it, for their own terminal (status).
    pub as_typed: Option<String>,
}

impl Note {
    pub(crate) fn warn(message: String) -> Self {
        Note {
            level: "warn",
            message,
            as_typed: None,
        }
    }

    /// What status shows: the value as typed when there is one.
    pub fn shown(&self) -> &str {
        self.as_typed.as_deref().unwrap_or(&self.message)
    }
}

/// Everything the environment decided, read once at [`Telemetry::install`].
#[derive(Clone, Debug)]
pub(crate) struct Settings {
    pub enabled: bool,
    pub decision: Decision,
    pub debug: bool,
    pub log_file: Option<PathBuf>,
    pub endpoint: String,
    pub timeout: Duration,
    pub notes: Vec<Note>,
    /// Where undelivered events are kept (on, not in debug mode, spool not disabled).
    pub spool: Option<PathBuf>,
    pub protocol: Protocol,
    /// Request headers: the app's, then the user's (which replace an app header of the
    /// same name). Values are secrets: never logged, printed or shown.
    pub headers: Vec<(String, String)>,
}

/// Read access to environment variables, so the rules can be tested without touching the
/// process environment.
pub(crate) trait Env {
    fn var_os(&self, key: &str) -> Option<OsString>;
    fn vars_os(&self) -> Vec<(OsString, OsString)>;
}

/// The real process environment.
pub(crate) struct ProcessEnv;

impl Env for ProcessEnv {
    fn var_os(&self, key: &str) -> Option<OsString> {
        std::env::var_os(key)
    }
    fn vars_os(&self) -> Vec<(OsString, OsString)> {
        std::env::vars_os().collect()
    }
}

impl<const N: usize> Env for [(&str, &str); N] {
    fn var_os(&self, key: &str) -> Option<OsString> {
        self.iter()
            .find(|(k, _)| *k == key)
            .map(|(_, v)| OsString::from(v))
    }
    fn vars_os(&self) -> Vec<(OsString, OsString)> {
        self.iter()
            .map(|(k, v)| (OsString::from(k), OsString::from(v)))
            .collect()
    }
}

impl Env for Vec<(OsString, OsString)> {
    fn var_os(&self, key: &str) -> Option<OsString> {
        self.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone())
    }
    fn vars_os(&self) -> Vec<(OsString, OsString)> {
        self.clone()
    }
}

/// Parses a boolean switch: 1/true/yes/on and 0/false/no/off, case-insensitive, surrounding
/// white space ignored. Anything else (including non-UTF-8) is `None`.
pub fn parse_switch(value: &OsStr) -> Option<bool> {
    let s = value.to_str()?.trim();
    const ON: [&str; 4] = ["1", "true", "yes", "on"];
    const OFF: [&str; 4] = ["0", "false", "no", "off"];
    if ON.iter().any(|v| s.eq_ignore_ascii_case(v)) {
        Some(true)
    } else if OFF.iter().any(|v| s.eq_ignore_ascii_case(v)) {
        Some(false)
    } else {
        None
    }
}

/// Reads a switch variable; an unrecognised value is ignored with a note.
fn switch(env: &dyn Env, var: &str, notes: &mut Vec<Note>) -> Option<bool> {
    let value = env.var_os(var)?;
    let parsed = parse_switch(&value);
    if parsed.is_none() {
        let mut note = Note::warn(format!(
            "{var} has a value that is neither on (1/true/yes/on) nor off (0/false/no/off); ignored as if unset"
        ));
        note.as_typed = Some(format!(
            "{var}={:?} is neither on (1/true/yes/on) nor off (0/false/no/off); ignored",
            value.to_string_lossy()
        ));
        notes.push(note);
    }
    parsed
}

/// Only the variable that decides on/off is read; when off, nothing else is.
pub(crate) fn decide(
    app: &AppConfig,
    env: &dyn Env,
    notes: &mut Vec<Note>,
) -> (bool, Decision, bool) {
    let main_var = app.var("");
    let debug_var = app.var("_DEBUG");
    let explicit = switch(env, &main_var, notes);
    let dnt = switch(env, "DO_NOT_TRACK", notes);
    let debug = switch(env, &debug_var, notes).unwrap_or(false);
    if dnt == Some(true) {
        return (false, Decision::DoNotTrack, false);
    }
    if explicit == Some(false) {
        return (
            false,
            Decision::EnvVar {
                var: main_var,
                on: false,
            },
            false,
        );
    }
    // The lasting choice is read only when the environment has not switched telemetry off.
    let file = lasting_choice(app, env, notes);
    if let Some((path, false)) = file {
        return (false, Decision::File { path, on: false }, false);
    }
    if let Some(true) = explicit {
        return (
            true,
            Decision::EnvVar {
                var: main_var,
                on: true,
            },
            debug,
        );
    }
    if let Some((path, true)) = file {
        return (true, Decision::File { path, on: true }, debug);
    }
    if debug {
        return (true, Decision::Debug { var: debug_var }, true);
    }
    (
        app.enabled_by_default,
        Decision::AppDefault {
            on: app.enabled_by_default,
        },
        false,
    )
}

/// The choice in `<config dir>/<app>/telemetry.json`, if the person made one. A file that
/// can't be read or parsed counts as unset, with a note.
#[cfg(feature = "telemetry")]
fn lasting_choice(
    app: &AppConfig,
    env: &dyn Env,
    notes: &mut Vec<Note>,
) -> Option<(PathBuf, bool)> {
    let path = app.choice_file(env)?;
    match crate::choice::read(&path) {
        crate::choice::Read::Found(choice) => choice.enabled.map(|on| (path, on)),
        crate::choice::Read::Missing => None,
        crate::choice::Read::Corrupt => {
            notes.push(Note::warn(format!(
                "{} can't be read as a telemetry choice; ignored as if unset",
                path.display()
            )));
            None
        }
    }
}

#[cfg(not(feature = "telemetry"))]
fn lasting_choice(_: &AppConfig, _: &dyn Env, _: &mut Vec<Note>) -> Option<(PathBuf, bool)> {
    None
}

impl Settings {
    pub(crate) fn from_env(app: &AppConfig, env: &dyn Env) -> Settings {
        let mut notes = Vec::new();
        let (enabled, decision, debug) = if cfg!(feature = "telemetry") {
            decide(app, env, &mut notes)
        } else {
            (false, Decision::CompiledOut, false)
        };
        let mut settings = Settings {
            enabled,
            decision,
            debug,
            log_file: None,
            endpoint: app.endpoint.clone(),
            timeout: app.timeout,
            notes,
            spool: None,
            protocol: app.protocol,
            headers: Vec::new(),
        };
        if enabled {
            settings.read_details(app, env);
        }
        settings
    }

    /// Like [`Settings::from_env`], but reads where events would go even when off.
    pub(crate) fn for_status(app: &AppConfig, env: &dyn Env) -> Settings {
        let mut settings = Settings::from_env(app, env);
        if !settings.enabled && cfg!(feature = "telemetry") {
            settings.read_details(app, env);
        }
        settings
    }

    fn read_details(&mut self, app: &AppConfig, env: &dyn Env) {
        if !self.debug {
            self.spool = app.spool_dir(env);
        }
        let log_var = app.var("_LOG_FILE");
        self.log_file = env
            .var_os(&log_var)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from);
        let url_var = app.var("_TRACE_URL");
        match env.var_os(&url_var).map(OsString::into_string) {
            Some(Ok(url)) if !url.trim().is_empty() => self.endpoint = url.trim().to_owned(),
            Some(Ok(_)) => {}
            Some(Err(_)) => self
                .notes
                .push(Note::warn(format!("{url_var} is not valid UTF-8; ignored"))),
            None => {}
        }
        let protocol_var = app.var("_PROTOCOL");
        if let Some(value) = env.var_os(&protocol_var) {
            match value.to_str().and_then(Protocol::parse) {
                Some(p) => self.protocol = p,
                None => self.notes.push(Note::warn(format!(
                    "{protocol_var} is neither http/json nor http/protobuf; ignored"
                ))),
            }
        }
        self.read_headers(app, env);
        let timeout_var = app.var("_TIMEOUT_MS");
        if let Some(value) = env.var_os(&timeout_var) {
            match value
                .to_str()
                .map(str::trim)
                .and_then(|s| s.parse::<u64>().ok())
            {
                Some(ms) => {
                    let wanted = Duration::from_millis(ms);
                    if wanted > MAX_TIMEOUT {
                        self.notes.push(Note::warn(format!(
                            "{timeout_var} is above the maximum of {} ms; clamped",
                            MAX_TIMEOUT.as_millis()
                        )));
                    }
                    self.timeout = wanted.min(MAX_TIMEOUT);
                }
                None => self.notes.push(Note::warn(format!(
                    "{timeout_var} is not a whole number of milliseconds; ignored"
                ))),
            }
        }
    }
}

impl Settings {
    /// The app's headers, then `<PREFIX>_TELEMETRY_HEADERS` (OpenTelemetry's format:
    /// `name=value` pairs separated by commas, values percent-decoded). Notes name the
    /// variable and the entry's position or the header's name, never a value.
    fn read_headers(&mut self, app: &AppConfig, env: &dyn Env) {
        let mut headers: Vec<(String, String)> = Vec::new();
        let mut add = |name: &str, value: String, notes: &mut Vec<Note>, origin: &str| {
            let name = name.trim();
            if !is_token(name) {
                notes.push(Note::warn(format!(
                    "{origin}: a header name is not a valid HTTP header name; ignored"
                )));
            } else if value.contains(['\r', '\n', '\0']) {
                notes.push(Note::warn(format!(
                    "{origin}: the value of header {name} has a line break; ignored"
                )));
            } else {
                headers.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
                headers.push((name.to_owned(), value));
            }
        };
        for (name, value) in &app.headers {
            add(
                name,
                value.trim().to_owned(),
                &mut self.notes,
                "Telemetry::header",
            );
        }
        let var = app.var("_HEADERS");
        if let Some(raw) = env.var_os(&var) {
            match raw.to_str() {
                None => self
                    .notes
                    .push(Note::warn(format!("{var} is not valid UTF-8; ignored"))),
                Some(raw) => {
                    for (i, entry) in raw.split(',').enumerate() {
                        if entry.trim().is_empty() {
                            continue;
                        }
                        match entry.split_once('=') {
                            Some((name, value)) if !name.trim().is_empty() => {
                                add(name, percent_decode(value.trim()), &mut self.notes, &var)
                            }
                            _ => self.notes.push(Note::warn(format!(
                                "{var}: entry {} is not name=value; ignored",
                                i + 1
                            ))),
                        }
                    }
                }
            }
        }
        self.headers = headers;
    }
}

/// An HTTP header name (RFC 9110 token).
fn is_token(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

/// Percent-decodes `%XX` (invalid sequences stay as they are, invalid UTF-8 is replaced).
pub(crate) fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = |b: u8| (b as char).to_digit(16);
            if let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(all(test, feature = "telemetry"))]
mod tests {
    use super::*;

    fn app(default_on: bool) -> AppConfig {
        Telemetry::builder("werf")
            .enabled_by_default(default_on)
            .app
    }

    fn settings<const N: usize>(default_on: bool, env: [(&str, &str); N]) -> Settings {
        Settings::from_env(&app(default_on), &env)
    }

    #[test]
    fn switch_values() {
        for on in ["1", "true", "TRUE", "Yes", "on", " on "] {
            assert_eq!(parse_switch(OsStr::new(on)), Some(true), "{on}");
        }
        for off in ["0", "false", "No", "OFF"] {
            assert_eq!(parse_switch(OsStr::new(off)), Some(false), "{off}");
        }
        for junk in ["", "maybe", "2", "enable", "truee"] {
            assert_eq!(parse_switch(OsStr::new(junk)), None, "{junk}");
        }
    }

    #[cfg(unix)]
    #[test]
    fn non_utf8_switch_is_ignored() {
        use std::os::unix::ffi::OsStringExt;
        assert_eq!(parse_switch(&OsString::from_vec(vec![0x31, 0xff])), None);
    }

    #[test]
    fn app_default_applies_when_nothing_is_set() {
        let s = settings(false, []);
        assert!(!s.enabled);
        assert_eq!(s.decision, Decision::AppDefault { on: false });
        let s = settings(true, []);
        assert!(s.enabled);
        assert_eq!(s.decision, Decision::AppDefault { on: true });
    }

    #[test]
    fn env_var_switches_on_and_off() {
        let s = settings(false, [("WERF_TELEMETRY", "1")]);
        assert!(s.enabled && !s.debug);
        assert_eq!(
            s.decision,
            Decision::EnvVar {
                var: "WERF_TELEMETRY".into(),
                on: true
            }
        );
        let s = settings(true, [("WERF_TELEMETRY", "off")]);
        assert!(!s.enabled);
        assert_eq!(
            s.decision,
            Decision::EnvVar {
                var: "WERF_TELEMETRY".into(),
                on: false
            }
        );
    }

    #[test]
    fn do_not_track_wins_over_on() {
        let s = settings(true, [("WERF_TELEMETRY", "1"), ("DO_NOT_TRACK", "1")]);
        assert!(!s.enabled);
        assert_eq!(s.decision, Decision::DoNotTrack);
        // DO_NOT_TRACK=0 is not a request to track, and not a request to stop either.
        let s = settings(false, [("WERF_TELEMETRY", "1"), ("DO_NOT_TRACK", "0")]);
        assert!(s.enabled);
    }

    #[test]
    fn explicit_off_wins_over_debug() {
        let s = settings(
            false,
            [("WERF_TELEMETRY", "0"), ("WERF_TELEMETRY_DEBUG", "1")],
        );
        assert!(!s.enabled);
    }

    #[test]
    fn debug_alone_turns_on_print_only_mode() {
        let s = settings(false, [("WERF_TELEMETRY_DEBUG", "yes")]);
        assert!(s.enabled && s.debug);
        assert_eq!(
            s.decision,
            Decision::Debug {
                var: "WERF_TELEMETRY_DEBUG".into()
            }
        );
    }

    #[test]
    fn unknown_value_is_ignored_with_a_note_and_no_value_leak() {
        let s = settings(true, [("WERF_TELEMETRY", "s3cr3t-maybe")]);
        assert!(s.enabled, "ignored as if unset: the default (on) applies");
        assert_eq!(s.decision, Decision::AppDefault { on: true });
        assert_eq!(s.notes.len(), 1);
        assert!(s.notes[0].message.contains("WERF_TELEMETRY"));
        assert!(!s.notes[0].message.contains("s3cr3t"));
    }

    #[test]
    fn off_reads_no_details() {
        let s = settings(
            false,
            [
                ("WERF_TELEMETRY_LOG_FILE", "/tmp/x"),
                ("WERF_TELEMETRY_TIMEOUT_MS", "junk"),
            ],
        );
        assert!(s.log_file.is_none());
        assert!(s.notes.is_empty());
    }

    #[test]
    fn details_log_file_url_timeout() {
        let s = settings(
            false,
            [
                ("WERF_TELEMETRY", "1"),
                ("WERF_TELEMETRY_LOG_FILE", "/tmp/t.log"),
                (
                    "WERF_TELEMETRY_TRACE_URL",
                    " http://127.0.0.1:4318/v1/traces ",
                ),
                ("WERF_TELEMETRY_TIMEOUT_MS", "250"),
            ],
        );
        assert_eq!(s.log_file, Some(PathBuf::from("/tmp/t.log")));
        assert_eq!(s.endpoint, "http://127.0.0.1:4318/v1/traces");
        assert_eq!(s.timeout, Duration::from_millis(250));
    }

    #[test]
    fn absurd_timeouts_are_defined() {
        let s = settings(
            false,
            [("WERF_TELEMETRY", "1"), ("WERF_TELEMETRY_TIMEOUT_MS", "0")],
        );
        assert_eq!(s.timeout, Duration::ZERO);
        let s = settings(
            false,
            [
                ("WERF_TELEMETRY", "1"),
                ("WERF_TELEMETRY_TIMEOUT_MS", "1000000000000"),
            ],
        );
        assert_eq!(s.timeout, MAX_TIMEOUT);
        assert_eq!(s.notes.len(), 1);
        let s = settings(
            false,
            [("WERF_TELEMETRY", "1"), ("WERF_TELEMETRY_TIMEOUT_MS", "-5")],
        );
        assert_eq!(s.timeout, DEFAULT_TIMEOUT);
        assert_eq!(s.notes.len(), 1);
    }

    #[test]
    fn protocol_from_app_and_env() {
        let app = Telemetry::builder("werf")
            .protocol(Protocol::HttpProtobuf)
            .app;
        let s = Settings::from_env(&app, &[("WERF_TELEMETRY", "1")]);
        assert_eq!(s.protocol, Protocol::HttpProtobuf);
        let s = settings(
            false,
            [
                ("WERF_TELEMETRY", "1"),
                ("WERF_TELEMETRY_PROTOCOL", " HTTP/Protobuf "),
            ],
        );
        assert_eq!(s.protocol, Protocol::HttpProtobuf);
        let s = settings(
            false,
            [("WERF_TELEMETRY", "1"), ("WERF_TELEMETRY_PROTOCOL", "grpc")],
        );
        assert_eq!(s.protocol, Protocol::HttpJson);
        assert_eq!(s.notes.len(), 1);
        assert!(!s.notes[0].message.contains("grpc"));
    }

    #[test]
    fn headers_from_app_and_env() {
        let app = Telemetry::builder("werf")
            .header("x-team", "app")
            .header("x-api-key", "APPKEY")
            .header("bad name", "v")
            .header("x-split", "a\r\nInjected: 1")
            .app;
        let env = [
            ("WERF_TELEMETRY", "1"),
            (
                "WERF_TELEMETRY_HEADERS",
                "x-api-key=K%2C1 , x-team=a%20b,,junk,=nameless,x-empty=",
            ),
        ];
        let s = Settings::from_env(&app, &env);
        assert_eq!(
            s.headers,
            vec![
                ("x-api-key".to_owned(), "K,1".to_owned()),
                ("x-team".to_owned(), "a b".to_owned()),
                ("x-empty".to_owned(), String::new()),
            ]
        );
        let notes: Vec<_> = s.notes.iter().map(|n| n.message.as_str()).collect();
        assert_eq!(notes.len(), 4, "{notes:?}");
        assert!(notes
            .iter()
            .all(|n| !n.contains("APPKEY") && !n.contains("Injected")));
        assert!(notes.iter().any(|n| n.contains("entry 4")));
        assert!(notes.iter().any(|n| n.contains("entry 5")));
    }

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
