//! Log files read back (SPEC S-10): events, diagnostic lines and lines that were not JSON,
//! for black-box tests of a built binary.

use std::path::Path;

use serde_json::{Map, Value};

use super::expect::Captured;

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
