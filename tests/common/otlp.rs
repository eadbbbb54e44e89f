//! Spans decoded with the official generated types, turned back into events.

use cli_telemetry::Event;
use opentelemetry_proto::tonic::common::v1::any_value::Value as Any;
use opentelemetry_proto::tonic::trace::v1::Span;

pub fn attr<'a>(span: &'a Span, key: &str) -> &'a Any {
    span.attributes
        .iter()
        .find(|kv| kv.key == key)
        .and_then(|kv| kv.value.as_ref())
        .and_then(|v| v.value.as_ref())
        .unwrap_or_else(|| panic!("span has no attribute {key}"))
}

pub fn string(span: &Span, key: &str) -> String {
    match attr(span, key) {
        Any::StringValue(s) => s.clone(),
        other => panic!("{key} is not a string: {other:?}"),
    }
}

pub fn int(span: &Span, key: &str) -> i64 {
    match attr(span, key) {
        Any::IntValue(i) => *i,
        other => panic!("{key} is not an int: {other:?}"),
    }
}

/// The event a span carries, rebuilt from its attributes.
pub fn event_of(span: &Span) -> Event {
    Event {
        ts: int(span, "ts") as u64,
        execution_id: string(span, "executionID"),
        user_id: span
            .attributes
            .iter()
            .any(|kv| kv.key == "userID")
            .then(|| string(span, "userID")),
        project_id: string(span, "projectID"),
        command: string(span, "command"),
        attributes: serde_json::from_str(&string(span, "attributes"))
            .expect("attributes is a JSON string"),
        event_type: string(span, "eventType"),
        event_data: serde_json::from_str(&string(span, "eventData"))
            .expect("eventData is a JSON string"),
        schema_version: int(span, "schemaVersion") as u32,
    }
}

/// Every event in OTLP/HTTP JSON request bodies, decoded with the official types.
pub fn events_in(bodies: &[Vec<u8>]) -> Vec<Event> {
    use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
    bodies
        .iter()
        .flat_map(|body| {
            let request: ExportTraceServiceRequest =
                serde_json::from_slice(body).expect("an OTLP JSON body");
            request
                .resource_spans
                .into_iter()
                .flat_map(|r| r.scope_spans)
                .flat_map(|s| s.spans)
                .map(|span| event_of(&span))
                .collect::<Vec<_>>()
        })
        .collect()
}
