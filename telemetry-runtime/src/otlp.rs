//! Events as OpenTelemetry spans: the OTLP/HTTP JSON body of an `ExportTraceServiceRequest`
//! (SPEC S-8), attributes typed the way werf's collector pipeline expects.

use serde_json::{json, Value};

use crate::event::Event;

/// The request body carrying `events`, one span each.
pub(crate) fn export_request(service_name: &str, events: &[&Event]) -> Value {
    let spans: Vec<Value> = events.iter().map(|e| span(e)).collect();
    json!({
        "resourceSpans": [{
            "resource": { "attributes": [string_attr("service.name", service_name)] },
            "scopeSpans": [{
                "scope": { "name": "cli-telemetry", "version": env!("CARGO_PKG_VERSION") },
                "spans": spans,
            }],
        }],
    })
}

fn span(event: &Event) -> Value {
    let nanos = (u128::from(event.ts) * 1_000_000).to_string();
    let attributes = serde_json::to_string(&event.attributes).unwrap_or_default();
    let event_data = serde_json::to_string(&event.event_data).unwrap_or_default();
    json!({
        "traceId": trace_id(&event.execution_id),
        "spanId": span_id(),
        "name": event.event_type,
        "kind": 1,
        "startTimeUnixNano": nanos,
        "endTimeUnixNano": nanos,
        "attributes": [
            int_attr("ts", event.ts as i64),
            string_attr("executionID", &event.execution_id),
            string_attr("projectID", &event.project_id),
            string_attr("command", &event.command),
            string_attr("eventType", &event.event_type),
            string_attr("eventData", &event_data),
            string_attr("attributes", &attributes),
            int_attr("schemaVersion", i64::from(event.schema_version)),
        ],
        "status": {},
    })
}

/// All spans of one run share a trace: its id is the execution id's 16 bytes.
fn trace_id(execution_id: &str) -> String {
    let hex: String = execution_id
        .chars()
        .filter(char::is_ascii_hexdigit)
        .collect::<String>()
        .to_ascii_lowercase();
    if hex.len() == 32 && hex.chars().any(|c| c != '0') {
        hex
    } else {
        crate::random::hex(32)
    }
}

fn span_id() -> String {
    crate::random::hex(16)
}

fn string_attr(key: &str, value: &str) -> Value {
    json!({ "key": key, "value": { "stringValue": value } })
}

/// Protobuf's JSON mapping writes 64-bit integers as decimal strings.
fn int_attr(key: &str, value: i64) -> Value {
    json!({ "key": key, "value": { "intValue": value.to_string() } })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{Attributes, RawEvent};

    #[test]
    fn span_attributes_are_typed() {
        let ev =
            RawEvent::exited("werf converge".into(), 0, 5).complete(&crate::event::ProcessInfo {
                execution_id: "2f75d020-684e-4224-9013-35e95e1b7721".into(),
                project_id: "p".into(),
                attributes: Attributes {
                    os: "linux".into(),
                    ..Default::default()
                },
            });
        let body = export_request("werf", &[&ev]);
        let span = &body["resourceSpans"][0]["scopeSpans"][0]["spans"][0];
        assert_eq!(span["traceId"], "2f75d020684e4224901335e95e1b7721");
        assert_eq!(span["spanId"].as_str().unwrap().len(), 16);
        let attrs = span["attributes"].as_array().unwrap();
        let get = |k: &str| attrs.iter().find(|a| a["key"] == k).unwrap()["value"].clone();
        assert_eq!(get("ts")["intValue"], ev.ts.to_string());
        assert_eq!(get("schemaVersion")["intValue"], "1");
        assert_eq!(get("command")["stringValue"], "werf converge");
        assert_eq!(
            get("eventData")["stringValue"],
            r#"{"exitCode":0,"durationMs":5}"#
        );
        assert_eq!(
            body["resourceSpans"][0]["resource"]["attributes"][0]["value"]["stringValue"],
            "werf"
        );
    }
}
