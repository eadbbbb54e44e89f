//! The event envelope (SPEC S-4): what is sent, logged and captured.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// `eventType` of the event emitted before an instrumented handler's body runs.
pub const COMMAND_STARTED: &str = "CommandStarted";
/// `eventType` of the event emitted after an instrumented handler returns or panics.
pub const COMMAND_EXITED: &str = "CommandExited";
/// The `schemaVersion` of every envelope this crate produces.
pub const SCHEMA_VERSION: u32 = 1;

/// One entry of `CommandStarted.eventData.commandOptions` (SPEC S-3).
///
/// Only the option's *name* and where its value came from are recorded, never the value.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OptionUsage {
    /// The long flag without dashes, or the arg id when the option has no long flag.
    pub name: String,
    /// The value came from the command line.
    pub as_cli: bool,
    /// The value came from an environment variable.
    pub as_env: bool,
    /// How many times the option occurred on the command line (0 when only from env).
    pub count: u64,
}

/// Environment attributes of every event (`attributes` in the envelope).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Attributes {
    /// Operating system, in Go's names (`linux`, `darwin`, `windows`, …).
    pub os: String,
    /// CPU architecture, in Go's names (`amd64`, `arm64`, `386`, …).
    pub arch: String,
    /// The application's version.
    pub version: String,
    /// Release channel, from the environment variable the application names.
    #[serde(
        rename = "groupChannel",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub group_channel: Option<String>,
    /// `true` when running in a CI system (absent otherwise).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ci: Option<bool>,
    /// Which CI system, when it is known.
    #[serde(rename = "ciName", default, skip_serializing_if = "Option::is_none")]
    pub ci_name: Option<String>,
    /// The AI coding agent that runs the process (`claude-code`, `gemini-cli`, `codex`, …),
    /// when its documented variables or `AI_AGENT` tell it (SPEC S-22): a plain name
    /// (`[a-z0-9-]`, at most 32 characters), never a path or a sentence.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent: Option<String>,
    /// `docker`, `podman`, `kubernetes` or `other` when the process runs in a container
    /// (SPEC S-22); absent outside one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub container: Option<String>,
    /// User-provided `<PREFIX>_TELEMETRY_EXTRA_ATTRIBUTE_*=key=value` pairs.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub extra: BTreeMap<String, String>,
    /// The share of runs kept, when below 1 (SPEC S-20): each event stands for
    /// `1 / sampleRate` runs' events.
    #[serde(
        rename = "sampleRate",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub sample_rate: Option<f64>,
}

/// One telemetry event, exactly as it is sent, written to the log file and captured.
///
/// Serializes to the werf-compatible envelope (`ts`, `executionID`, `userID` when there is
/// one, `projectID`, `command`, `attributes`, `eventType`, `eventData`, `schemaVersion`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// Unix time in milliseconds when the event was created.
    pub ts: u64,
    /// UUID v4 shared by all events of one process run.
    #[serde(rename = "executionID")]
    pub execution_id: String,
    /// The installation id (SPEC S-16), when the application opted in and one exists.
    #[serde(rename = "userID", default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    /// SHA-256 of the normalized git origin (SPEC S-5), `""` when unknown.
    #[serde(rename = "projectID")]
    pub project_id: String,
    /// Command path, e.g. `werf helm get-release`.
    pub command: String,
    /// Environment attributes.
    pub attributes: Attributes,
    /// `CommandStarted`, `CommandExited` or an application-defined type.
    #[serde(rename = "eventType")]
    pub event_type: String,
    /// Event-specific data.
    #[serde(rename = "eventData")]
    pub event_data: Map<String, Value>,
    /// [`SCHEMA_VERSION`] unless the application set another (werf's wire is 2).
    #[serde(rename = "schemaVersion")]
    pub schema_version: u32,
}

impl Event {
    /// `eventData.exitCode` of a `CommandExited` event.
    pub fn exit_code(&self) -> Option<i64> {
        self.event_data.get("exitCode").and_then(Value::as_i64)
    }

    /// `eventData.durationMs` of a `CommandExited` event.
    pub fn duration_ms(&self) -> Option<u64> {
        self.event_data.get("durationMs").and_then(Value::as_u64)
    }

    /// `eventData.commandOptions` of a `CommandStarted` event (empty when absent).
    pub fn command_options(&self) -> Vec<OptionUsage> {
        self.event_data
            .get("commandOptions")
            .and_then(|v| serde_json::from_value(v.clone()).ok())
            .unwrap_or_default()
    }

    /// Names of the options in `commandOptions`, in order.
    pub fn option_names(&self) -> Vec<String> {
        self.command_options().into_iter().map(|o| o.name).collect()
    }
}

#[cfg(feature = "telemetry")]
/// An event as the handler's thread creates it: everything but the process-wide parts
/// (execution id, project id, attributes), which the sender fills in off that thread.
#[derive(Clone, Debug)]
pub(crate) struct RawEvent {
    pub ts: u64,
    pub command: std::sync::Arc<str>,
    pub event_type: String,
    pub event_data: Map<String, Value>,
}

#[cfg(feature = "telemetry")]
impl RawEvent {
    pub(crate) fn new(
        command: std::sync::Arc<str>,
        event_type: &str,
        data: Map<String, Value>,
    ) -> Self {
        RawEvent {
            ts: unix_millis(),
            command,
            event_type: event_type.to_owned(),
            event_data: data,
        }
    }

    pub(crate) fn started(command: std::sync::Arc<str>, options: &[OptionUsage]) -> Self {
        let mut data = Map::new();
        if !options.is_empty() {
            data.insert(
                "commandOptions".into(),
                serde_json::to_value(options).unwrap_or_default(),
            );
        }
        Self::new(command, COMMAND_STARTED, data)
    }

    pub(crate) fn exited(command: std::sync::Arc<str>, exit_code: i32, duration_ms: u64) -> Self {
        let mut data = Map::new();
        data.insert("exitCode".into(), exit_code.into());
        data.insert("durationMs".into(), duration_ms.into());
        Self::new(command, COMMAND_EXITED, data)
    }

    /// The full envelope, given the process-wide parts.
    pub(crate) fn complete(self, process: &ProcessInfo) -> Event {
        Event {
            ts: self.ts,
            execution_id: process.execution_id.clone(),
            user_id: process.user_id.clone(),
            project_id: process.project_id.clone(),
            command: self.command.to_string(),
            attributes: process.attributes.clone(),
            event_type: self.event_type,
            event_data: self.event_data,
            schema_version: process.schema_version,
        }
    }
}

#[cfg(feature = "telemetry")]
/// The parts of the envelope shared by every event of a run.
#[derive(Clone, Debug)]
pub(crate) struct ProcessInfo {
    pub execution_id: String,
    pub user_id: Option<String>,
    pub project_id: String,
    pub attributes: Attributes,
    pub schema_version: u32,
}

#[cfg(feature = "telemetry")]
impl Default for ProcessInfo {
    fn default() -> Self {
        ProcessInfo {
            execution_id: String::new(),
            user_id: None,
            project_id: String::new(),
            attributes: Attributes::default(),
            schema_version: SCHEMA_VERSION,
        }
    }
}

#[cfg(feature = "telemetry")]
pub(crate) fn unix_millis() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

#[cfg(all(test, feature = "telemetry"))]
mod tests {
    use super::*;

    #[test]
    fn envelope_field_names_and_order_match_werf() {
        let raw = RawEvent::exited("werf converge".into(), 3, 12);
        let ev = raw.complete(&ProcessInfo {
            execution_id: "e".into(),
            project_id: "p".into(),
            attributes: Attributes {
                os: "linux".into(),
                arch: "amd64".into(),
                version: "1.0".into(),
                ..Default::default()
            },
            ..Default::default()
        });
        let json = serde_json::to_string(&ev).unwrap();
        let keys: Vec<_> = [
            "\"ts\"",
            "\"executionID\"",
            "\"projectID\"",
            "\"command\"",
            "\"attributes\"",
            "\"eventType\"",
            "\"eventData\"",
            "\"schemaVersion\":1",
        ]
        .iter()
        .map(|k| {
            json.find(k)
                .unwrap_or_else(|| panic!("{k} missing in {json}"))
        })
        .collect();
        assert!(keys.windows(2).all(|w| w[0] < w[1]), "{json}");
        assert!(
            json.contains(r#""attributes":{"os":"linux","arch":"amd64","version":"1.0"}"#),
            "{json}"
        );
        assert!(
            json.contains(r#""eventData":{"exitCode":3,"durationMs":12}"#),
            "{json}"
        );
        let back: Event = serde_json::from_str(&json).unwrap();
        assert_eq!(back, ev);
        assert_eq!(back.exit_code(), Some(3));
        assert_eq!(back.duration_ms(), Some(12));
    }

    #[test]
    fn started_omits_empty_options() {
        let raw = RawEvent::started("werf".into(), &[]);
        assert!(raw.event_data.is_empty());
        let opt = OptionUsage {
            name: "repo".into(),
            as_cli: true,
            as_env: false,
            count: 1,
        };
        let raw = RawEvent::started("werf".into(), std::slice::from_ref(&opt));
        assert_eq!(
            serde_json::to_string(&raw.event_data).unwrap(),
            r#"{"commandOptions":[{"name":"repo","asCli":true,"asEnv":false,"count":1}]}"#
        );
    }
}
