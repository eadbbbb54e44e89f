//! Everything the environment decided, read once at install ([`Settings`]): on/off and
//! why, debug mode, the log file, endpoint, protocol, headers, deadline, and the notes of
//! ignored values (SPEC S-7 to S-10).

use std::ffi::OsString;
use std::path::PathBuf;
use std::time::Duration;

use super::builder::{AppConfig, Protocol, MAX_SENDER_LIFE, MAX_TIMEOUT};
use super::decide::{decide, Decision};
use super::delivery::{Delivery, DeliveryReason};
use super::env::{Env, Note};

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
    /// How events leave the process, and why (SPEC S-9).
    pub delivery: Delivery,
    pub delivery_reason: DeliveryReason,
    /// The detached sender's life.
    pub sender_life: Duration,
    /// The share of runs kept (SPEC S-20): the application's rate, or the person's lower one.
    pub sample_rate: f64,
    /// `User-Agent` of every request: `<app>/<version> cli-telemetry/<version>` (S-21).
    #[cfg_attr(not(feature = "telemetry"), allow(dead_code))] // no requests without it
    pub user_agent: String,
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
            delivery: Delivery::Inline,
            delivery_reason: DeliveryReason::App,
            sender_life: app.sender_life,
            sample_rate: app.sample_rate,
            user_agent: user_agent(app),
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
        // Made absolute now: the run and its detached sender (which works in another
        // directory) write to the same file, wherever the application moves meanwhile.
        self.log_file = env
            .var_os(&log_var)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
            .map(|p| std::path::absolute(&p).unwrap_or(p));
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
        self.headers = super::headers::read_headers(app, env, &mut self.notes);
        self.sample_rate = super::sampling::rate(
            app.sample_rate,
            &app.var("_SAMPLE_RATE"),
            env,
            &mut self.notes,
        );
        self.read_delivery(app, env);
        if let Some(timeout) = millis(env, &app.var("_TIMEOUT_MS"), MAX_TIMEOUT, &mut self.notes) {
            self.timeout = timeout;
        }
    }
}

impl Settings {
    /// The delivery mode (SPEC S-9) and the detached sender's life (S-19). Detached needs
    /// the queue: without one (disabled by the app, no cache directory, debug mode) the run
    /// is inline.
    fn read_delivery(&mut self, app: &AppConfig, env: &dyn Env) {
        let ci = super::ci::detect_ci(env).0 == Some(true);
        let (mode, reason) = super::delivery::resolve(
            &app.var("_DELIVERY"),
            app.delivery,
            ci,
            super::delivery::has_main_attribute(),
            env,
            &mut self.notes,
        );
        (self.delivery, self.delivery_reason) = match mode {
            Delivery::Detached if self.spool.is_none() => {
                (Delivery::Inline, DeliveryReason::NoQueue)
            }
            _ => (mode, reason),
        };
        let life_var = app.var("_SENDER_LIFE_MS");
        if let Some(life) = millis(env, &life_var, MAX_SENDER_LIFE, &mut self.notes) {
            self.sender_life = life;
        }
    }
}

/// `<app>/<version> cli-telemetry/<version>`, each part an HTTP token (other characters
/// become `_`), so that the collector's operator can tell which tool calls.
fn user_agent(app: &AppConfig) -> String {
    let token = |s: &str| -> String {
        let t: String = s
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c) {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        if t.is_empty() {
            "unknown".into()
        } else {
            t
        }
    };
    format!(
        "{}/{} cli-telemetry/{}",
        token(&app.name),
        token(&app.version),
        env!("CARGO_PKG_VERSION")
    )
}

/// A duration in whole milliseconds from `var`, clamped to `max` (with a note); `None`
/// when unset or not a number (with a note).
fn millis(env: &dyn Env, var: &str, max: Duration, notes: &mut Vec<Note>) -> Option<Duration> {
    let value = env.var_os(var)?;
    let Some(ms) = value
        .to_str()
        .map(str::trim)
        .and_then(|s| s.parse::<u64>().ok())
    else {
        notes.push(Note::warn(format!(
            "{var} is not a whole number of milliseconds; ignored"
        )));
        return None;
    };
    let wanted = Duration::from_millis(ms);
    if wanted > max {
        notes.push(Note::warn(format!(
            "{var} is above the maximum of {} ms; clamped",
            max.as_millis()
        )));
    }
    Some(wanted.min(max))
}

#[cfg(all(test, feature = "telemetry"))]
mod tests {
    use super::*;
    use crate::config::builder::{Telemetry, DEFAULT_TIMEOUT};

    fn app(default_on: bool) -> AppConfig {
        Telemetry::builder("werf")
            .enabled_by_default(default_on)
            .app
    }

    fn settings<const N: usize>(default_on: bool, env: [(&str, &str); N]) -> Settings {
        Settings::from_env(&app(default_on), &env)
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
}
