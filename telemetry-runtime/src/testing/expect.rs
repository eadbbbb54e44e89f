//! What a capture or a log file holds ([`Captured`]), what was not sent and why, the
//! assertions on them ([`Expect`]: exact or in order), and a redacted view for snapshots.

use serde_json::{Map, Value};

use crate::event::{Event, OptionUsage, COMMAND_EXITED, COMMAND_STARTED};

/// The events of a capture, or of a log file.
#[derive(Clone, Debug, Default)]
pub struct Captured {
    pub(super) events: Vec<Event>,
    pub(super) not_sent: Vec<NotSent>,
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

    /// What was recorded but not sent, and why: a capture whose environment says off, a
    /// run sampled out, a command dropped because the run is not a command run (a
    /// telemetry action parsed inside it). Help and version end the process in
    /// [`crate::parse`]; the way to see them is a black-box test ([`Collector`](super::Collector),
    /// which receives nothing).
    pub fn not_sent(&self) -> &[NotSent] {
        &self.not_sent
    }

    /// Asserts that the events are exactly `expected`, in order: an extra event, a missing
    /// one or one out of order fails. On a mismatch the panic message shows both sides.
    pub fn assert_events(&self, expected: &[Expect]) {
        let ok = self.events.len() == expected.len()
            && self.events.iter().zip(expected).all(|(e, x)| x.matches(e));
        self.report(
            ok,
            expected,
            "captured events differ from the expected ones",
        );
    }

    /// Asserts that `expected` occur in this order, other events allowed around and
    /// between them (the lenient mode; [`Captured::assert_events`] is the exact one).
    pub fn assert_includes(&self, expected: &[Expect]) {
        let mut wanted = expected.iter().peekable();
        for e in &self.events {
            if wanted.peek().is_some_and(|x| x.matches(e)) {
                wanted.next();
            }
        }
        self.report(
            wanted.peek().is_none(),
            expected,
            "captured events do not include the expected ones in order",
        );
    }

    fn report(&self, ok: bool, expected: &[Expect], what: &str) {
        if !ok {
            let mut msg = format!("{what}\n  expected:\n");
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
        Captured {
            events,
            not_sent: Vec::new(),
        }
    }
}

/// An event that was recorded but not sent ([`Captured::not_sent`]).
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct NotSent {
    /// Its `eventType`.
    pub event_type: String,
    /// Its command path.
    pub command: String,
    /// Why it was not sent.
    pub reason: NotSentReason,
}

/// Why an event was not sent.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum NotSentReason {
    /// Telemetry is off for this run; the setting that decided.
    Off {
        /// Which setting decided (as `telemetry status` names it).
        decided_by: crate::Decision,
    },
    /// The run was not among the sampled ones (SPEC S-20).
    SampledOut,
    /// The run is not a command run (help, version, a telemetry action): the command was
    /// dropped before its CommandStarted.
    NotARun,
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

    pub(super) fn matches(&self, e: &Event) -> bool {
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

impl Captured {
    /// The events with stable placeholders where runs differ — `ts`, `executionID`,
    /// `userID`, a non-empty `projectID`, `eventData.durationMs`, `attributes.os` and
    /// `.arch` — and without `attributes.ci`, `ciName`, `agent` and `container` (present only
    /// where the tests run in CI, under an agent or in a container), one JSON object
    /// per line: a snapshot that holds on every machine (`insta::assert_snapshot!`, or a
    /// plain string comparison).
    ///
    /// ```
    /// use cli_telemetry_runtime::testing::capture;
    /// assert_eq!(capture(|| {}).redacted(), "");
    /// ```
    pub fn redacted(&self) -> String {
        let mut out = String::new();
        for event in &self.events {
            let Ok(Value::Object(mut map)) = serde_json::to_value(event) else {
                continue;
            };
            for key in ["ts", "executionID", "userID"] {
                if map.contains_key(key) {
                    map.insert(key.into(), format!("<{key}>").into());
                }
            }
            if map.get("projectID").is_some_and(|p| p != "") {
                map.insert("projectID".into(), "<projectID>".into());
            }
            if let Some(Value::Object(data)) = map.get_mut("eventData") {
                if data.contains_key("durationMs") {
                    data.insert("durationMs".into(), "<durationMs>".into());
                }
            }
            if let Some(Value::Object(attrs)) = map.get_mut("attributes") {
                for key in ["os", "arch"] {
                    if attrs.contains_key(key) {
                        attrs.insert(key.into(), format!("<{key}>").into());
                    }
                }
                for key in ["ci", "ciName", "agent", "container"] {
                    attrs.remove(key);
                }
            }
            out.push_str(&Value::Object(map).to_string());
            out.push('\n');
        }
        out
    }
}
