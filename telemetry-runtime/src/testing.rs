//! Test harness (SPEC S-11): capture the events a piece of code emits, in-process, with
//! no network and no files; assert on them plainly; read a log file back into events for
//! black-box tests of a built binary.
//!
//! A capture is bound to the calling thread, so parallel tests never see each other's
//! events. Instrumented handlers called on that thread (and async handlers polled on it,
//! e.g. through a runtime's `block_on`) report to the capture.

use std::path::Path;

use serde_json::{Map, Value};

use crate::config::Telemetry;
use crate::event::{Event, OptionUsage, COMMAND_EXITED, COMMAND_STARTED};

/// A configured capture: the app settings its events carry.
///
/// ```
/// use cli_telemetry_runtime::{testing::Capture, Telemetry};
///
/// let (value, events) = Capture::new(Telemetry::builder("werf").version("1.0")).run(|| 42);
/// assert_eq!(value, 42);
/// assert!(events.is_empty());
/// ```
pub struct Capture {
    telemetry: Telemetry,
}

impl Capture {
    /// A capture whose events carry the app name and version of `telemetry`.
    pub fn new(telemetry: Telemetry) -> Self {
        Capture { telemetry }
    }

    /// Runs `f`, returning its value and the events it emitted on this thread.
    /// Telemetry counts as on inside, whatever the environment says.
    pub fn run<R>(self, f: impl FnOnce() -> R) -> (R, Captured) {
        #[cfg(feature = "telemetry")]
        {
            use std::sync::Arc;
            let app = self.telemetry.app;
            let mut settings = crate::config::Settings::from_env(&app, &[]);
            settings.enabled = true;
            let mut notes = Vec::new();
            let process = crate::event::ProcessInfo {
                execution_id: crate::random::uuid_v4().to_string(),
                project_id: String::new(),
                attributes: crate::record::attributes::detect(
                    &app,
                    &crate::config::ProcessEnv,
                    &mut notes,
                ),
                schema_version: app.schema_version,
                ..Default::default()
            };
            let sink = Arc::new(CaptureSink {
                events: std::sync::Mutex::new(Vec::new()),
                process,
            });
            let rt = crate::record::state::Runtime::new(app, settings, sink.clone(), false);
            let value = crate::record::state::with_capture(Arc::new(rt), f);
            let events =
                std::mem::take(&mut *sink.events.lock().unwrap_or_else(|p| p.into_inner()));
            (value, Captured { events })
        }
        #[cfg(not(feature = "telemetry"))]
        {
            let _ = self.telemetry;
            (f(), Captured { events: Vec::new() })
        }
    }
}

/// A capture's sink: completes each event on the calling thread and keeps it in memory.
#[cfg(feature = "telemetry")]
struct CaptureSink {
    events: std::sync::Mutex<Vec<Event>>,
    process: crate::event::ProcessInfo,
}

#[cfg(feature = "telemetry")]
impl crate::record::state::Sink for CaptureSink {
    fn emit(&self, event: crate::event::RawEvent) {
        let event = event.complete(&self.process);
        self.events
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(event);
    }
}

/// Captures the events `f` emits on this thread, for an app named `app`.
///
/// ```
/// let events = cli_telemetry_runtime::testing::capture(|| {});
/// events.assert_events(&[]);
/// ```
pub fn capture(f: impl FnOnce()) -> Captured {
    Capture::new(Telemetry::builder("app")).run(f).1
}

/// The events of a capture, or of a log file.
#[derive(Clone, Debug, Default)]
pub struct Captured {
    events: Vec<Event>,
}

impl Captured {
    /// All events, in the order they were emitted.
    pub fn events(&self) -> &[Event] {
        &self.events
    }

    /// Whether no event was emitted.
    pub fn is_empty(&self) -> bool {
        self.events.is_empty()
    }

    /// The first event of type `event_type`.
    pub fn first(&self, event_type: &str) -> Option<&Event> {
        self.events.iter().find(|e| e.event_type == event_type)
    }

    /// The first CommandStarted.
    pub fn started(&self) -> Option<&Event> {
        self.first(COMMAND_STARTED)
    }

    /// The first CommandExited.
    pub fn exited(&self) -> Option<&Event> {
        self.first(COMMAND_EXITED)
    }

    /// Asserts that the events are exactly `expected`, in order. On a mismatch the panic
    /// message shows both sides.
    pub fn assert_events(&self, expected: &[Expect]) {
        let ok = self.events.len() == expected.len()
            && self.events.iter().zip(expected).all(|(e, x)| x.matches(e));
        if !ok {
            let mut msg =
                String::from("captured events differ from the expected ones\n  expected:\n");
            for x in expected {
                msg.push_str(&format!("    {x}\n"));
            }
            msg.push_str("  actual:\n");
            for e in &self.events {
                msg.push_str(&format!("    {}\n", describe(e)));
            }
            panic!("{msg}");
        }
    }
}

impl From<Vec<Event>> for Captured {
    fn from(events: Vec<Event>) -> Self {
        Captured { events }
    }
}

fn describe(e: &Event) -> String {
    let mut s = format!("{} {:?}", e.event_type, e.command);
    if !e.event_data.is_empty() {
        s.push(' ');
        s.push_str(&Value::Object(e.event_data.clone()).to_string());
    }
    s
}

/// One expected event, for [`Captured::assert_events`]. Only what is stated is checked.
///
/// ```
/// use cli_telemetry_runtime::testing::Expect;
///
/// let started = Expect::started("werf converge").options(["repo", "verbose"]);
/// let exited = Expect::exited("werf converge").exit_code(0);
/// # let _ = (started, exited);
/// ```
#[derive(Clone, Debug)]
pub struct Expect {
    event_type: String,
    command: Option<String>,
    option_names: Option<Vec<String>>,
    options: Option<Vec<OptionUsage>>,
    exit_code: Option<i64>,
    data: Map<String, Value>,
}

impl Expect {
    /// An event of `event_type` (any command).
    pub fn event(event_type: &str) -> Self {
        Expect {
            event_type: event_type.into(),
            command: None,
            option_names: None,
            options: None,
            exit_code: None,
            data: Map::new(),
        }
    }

    /// CommandStarted of `command`.
    pub fn started(command: &str) -> Self {
        Self::event(COMMAND_STARTED).command(command)
    }

    /// CommandExited of `command`.
    pub fn exited(command: &str) -> Self {
        Self::event(COMMAND_EXITED).command(command)
    }

    /// The command path.
    pub fn command(mut self, command: &str) -> Self {
        self.command = Some(command.into());
        self
    }

    /// Exactly these option names in `commandOptions`, in order.
    pub fn options<I: IntoIterator<Item = S>, S: Into<String>>(mut self, names: I) -> Self {
        self.option_names = Some(names.into_iter().map(Into::into).collect());
        self
    }

    /// Exactly these `commandOptions` entries.
    pub fn option_usage(mut self, options: Vec<OptionUsage>) -> Self {
        self.options = Some(options);
        self
    }

    /// `eventData.exitCode`.
    pub fn exit_code(mut self, code: i64) -> Self {
        self.exit_code = Some(code);
        self
    }

    /// `eventData[key] == value`.
    pub fn data(mut self, key: &str, value: impl Into<Value>) -> Self {
        self.data.insert(key.into(), value.into());
        self
    }

    fn matches(&self, e: &Event) -> bool {
        e.event_type == self.event_type
            && self.command.as_ref().is_none_or(|c| *c == e.command)
            && self
                .option_names
                .as_ref()
                .is_none_or(|n| *n == e.option_names())
            && self
                .options
                .as_ref()
                .is_none_or(|o| *o == e.command_options())
            && self.exit_code.is_none_or(|c| Some(c) == e.exit_code())
            && self
                .data
                .iter()
                .all(|(k, v)| e.event_data.get(k) == Some(v))
    }
}

impl std::fmt::Display for Expect {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.event_type)?;
        if let Some(c) = &self.command {
            write!(f, " {c:?}")?;
        }
        if let Some(n) = &self.option_names {
            write!(f, " options={n:?}")?;
        }
        if let Some(o) = &self.options {
            write!(
                f,
                " options={}",
                serde_json::to_string(o).unwrap_or_default()
            )?;
        }
        if let Some(c) = self.exit_code {
            write!(f, " exitCode={c}")?;
        }
        if !self.data.is_empty() {
            write!(f, " data⊇{}", Value::Object(self.data.clone()))?;
        }
        Ok(())
    }
}

/// A log file read back: its events, its diagnostic lines, and lines that were not JSON.
#[derive(Clone, Debug, Default)]
pub struct Log {
    /// Event lines (those with an `eventType`).
    pub events: Captured,
    /// Diagnostic lines (`level`, `message`, …).
    pub diagnostics: Vec<Map<String, Value>>,
    /// Lines that failed to parse (a torn line would land here).
    pub invalid: Vec<String>,
}

impl Log {
    /// Diagnostics whose `message` contains `text`.
    pub fn diagnostics_containing(&self, text: &str) -> Vec<&Map<String, Value>> {
        self.diagnostics
            .iter()
            .filter(|d| {
                d.get("message")
                    .and_then(Value::as_str)
                    .is_some_and(|m| m.contains(text))
            })
            .collect()
    }
}

/// Reads a `<PREFIX>_TELEMETRY_LOG_FILE` back, for black-box tests of a built binary.
pub fn read_log(path: impl AsRef<Path>) -> std::io::Result<Log> {
    let text = std::fs::read_to_string(path)?;
    Ok(parse_log(&text))
}

/// Parses log file text; see [`read_log`].
pub fn parse_log(text: &str) -> Log {
    let mut log = Log::default();
    for line in text.lines().filter(|l| !l.is_empty()) {
        match serde_json::from_str::<Map<String, Value>>(line) {
            Ok(map) if map.contains_key("eventType") => {
                match serde_json::from_value(Value::Object(map)) {
                    Ok(event) => log.events.events.push(event),
                    Err(_) => log.invalid.push(line.to_owned()),
                }
            }
            Ok(map) if map.contains_key("level") => log.diagnostics.push(map),
            _ => log.invalid.push(line.to_owned()),
        }
    }
    log
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_parsing_sorts_lines() {
        let text = concat!(
            r#"{"ts":1,"executionID":"e","projectID":"","command":"werf","attributes":{"os":"linux","arch":"amd64","version":"1"},"eventType":"CommandStarted","eventData":{},"schemaVersion":1}"#,
            "\n",
            r#"{"ts":2,"level":"info","message":"event delivered","event":"CommandStarted","httpStatus":200}"#,
            "\n{\"torn\n"
        );
        let log = parse_log(text);
        log.events
            .assert_events(&[Expect::started("werf").options(Vec::<String>::new())]);
        assert_eq!(log.diagnostics.len(), 1);
        assert_eq!(log.diagnostics_containing("delivered").len(), 1);
        assert_eq!(log.invalid, vec!["{\"torn".to_owned()]);
    }

    #[test]
    #[should_panic(expected = "expected:\n    CommandExited \"werf\" exitCode=1\n  actual:\n")]
    fn mismatch_shows_both_sides() {
        Captured::default().assert_events(&[Expect::exited("werf").exit_code(1)]);
    }
}
