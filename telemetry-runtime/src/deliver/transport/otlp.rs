//! Events as OpenTelemetry spans (SPEC S-8, S-17): one `ExportTraceServiceRequest` per
//! request, encoded as OTLP/HTTP JSON (the protobuf JSON mapping) or as protobuf
//! (`application/x-protobuf`, what werf's Go exporter sends).
//!
//! Both encodings render one model ([`Span`]), so they can't drift apart. The protobuf
//! encoder is hand-written (~80 lines for the six messages used): `prost` with its derive
//! would add 5 crates and a proc-macro build for one function; the encoder is checked
//! against the official generated types (`opentelemetry-proto`, a dev-dependency) by
//! property tests and fuzzed (`fuzz/fuzz_targets/otlp.rs`).

use serde_json::{json, Value};

use crate::config::Protocol;
use crate::event::Event;

/// How spans are named and numbered (SPEC S-17).
#[derive(Clone, Debug, Default)]
pub(crate) struct Wire {
    /// The span name of every event; `None`: the event type.
    pub span_name: Option<String>,
}

/// One attribute value.
#[derive(Clone, Debug, PartialEq)]
enum AttrValue {
    Str(String),
    Int(i64),
}

/// One span: an event.
#[derive(Clone, Debug)]
struct Span {
    trace_id: [u8; 16],
    span_id: [u8; 8],
    name: String,
    time_unix_nano: u64,
    attributes: Vec<(&'static str, AttrValue)>,
}

const SCOPE_NAME: &str = "cli-telemetry";
const SCOPE_VERSION: &str = env!("CARGO_PKG_VERSION");
/// `SPAN_KIND_INTERNAL`.
const SPAN_KIND: u64 = 1;

/// The request body carrying `events`, and its content type.
pub(crate) fn encode(
    protocol: Protocol,
    service_name: &str,
    wire: &Wire,
    events: &[&Event],
) -> (&'static str, Vec<u8>) {
    let spans: Vec<Span> = events.iter().map(|e| span(e, wire)).collect();
    match protocol {
        Protocol::HttpJson => (
            "application/json",
            serde_json::to_vec(&json_request(service_name, &spans)).unwrap_or_default(),
        ),
        Protocol::HttpProtobuf => (
            "application/x-protobuf",
            protobuf_request(service_name, &spans),
        ),
    }
}

fn span(event: &Event, wire: &Wire) -> Span {
    let attributes = serde_json::to_string(&event.attributes).unwrap_or_default();
    let event_data = serde_json::to_string(&event.event_data).unwrap_or_default();
    let mut attrs = vec![
        (
            "ts",
            AttrValue::Int(i64::try_from(event.ts).unwrap_or(i64::MAX)),
        ),
        ("executionID", AttrValue::Str(event.execution_id.clone())),
    ];
    if let Some(user) = &event.user_id {
        attrs.push(("userID", AttrValue::Str(user.clone())));
    }
    attrs.extend([
        ("projectID", AttrValue::Str(event.project_id.clone())),
        ("command", AttrValue::Str(event.command.clone())),
        ("eventType", AttrValue::Str(event.event_type.clone())),
        ("eventData", AttrValue::Str(event_data)),
        ("attributes", AttrValue::Str(attributes)),
        (
            "schemaVersion",
            AttrValue::Int(i64::from(event.schema_version)),
        ),
    ]);
    Span {
        trace_id: trace_id(&event.execution_id),
        span_id: span_id(),
        name: wire
            .span_name
            .clone()
            .unwrap_or_else(|| event.event_type.clone()),
        time_unix_nano: event.ts.saturating_mul(1_000_000),
        attributes: attrs,
    }
}

/// All spans of one run share a trace: its id is the execution id's 16 bytes.
fn trace_id(execution_id: &str) -> [u8; 16] {
    let hex: Vec<u8> = execution_id
        .chars()
        .filter_map(|c| c.to_digit(16))
        .map(|d| d as u8)
        .collect();
    if hex.len() == 32 && hex.iter().any(|d| *d != 0) {
        let mut id = [0u8; 16];
        for (i, pair) in hex.chunks(2).enumerate() {
            id[i] = pair[0] << 4 | pair[1];
        }
        id
    } else {
        crate::random::bytes()
    }
}

fn span_id() -> [u8; 8] {
    let id: [u8; 8] = crate::random::bytes();
    if id == [0; 8] {
        [1, 0, 0, 0, 0, 0, 0, 0]
    } else {
        id
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

// --- JSON (the protobuf JSON mapping) ---------------------------------------------------

fn json_request(service_name: &str, spans: &[Span]) -> Value {
    let spans: Vec<Value> = spans.iter().map(json_span).collect();
    json!({
        "resourceSpans": [{
            "resource": { "attributes": [json_attr("service.name", &AttrValue::Str(service_name.into()))] },
            "scopeSpans": [{
                "scope": { "name": SCOPE_NAME, "version": SCOPE_VERSION },
                "spans": spans,
            }],
        }],
    })
}

fn json_span(span: &Span) -> Value {
    let nanos = span.time_unix_nano.to_string();
    let attributes: Vec<Value> = span
        .attributes
        .iter()
        .map(|(k, v)| json_attr(k, v))
        .collect();
    json!({
        "traceId": hex(&span.trace_id),
        "spanId": hex(&span.span_id),
        "name": span.name,
        "kind": SPAN_KIND,
        "startTimeUnixNano": nanos,
        "endTimeUnixNano": nanos,
        "attributes": attributes,
        "status": {},
    })
}

/// Protobuf's JSON mapping writes 64-bit integers as decimal strings.
fn json_attr(key: &str, value: &AttrValue) -> Value {
    match value {
        AttrValue::Str(s) => json!({ "key": key, "value": { "stringValue": s } }),
        AttrValue::Int(i) => json!({ "key": key, "value": { "intValue": i.to_string() } }),
    }
}

// --- protobuf ---------------------------------------------------------------------------
// Field numbers from opentelemetry-proto: collector/trace/v1/trace_service.proto,
// trace/v1/trace.proto, common/v1/common.proto, resource/v1/resource.proto.

fn protobuf_request(service_name: &str, spans: &[Span]) -> Vec<u8> {
    let mut out = Vec::with_capacity(256 + spans.len() * 512);
    // ExportTraceServiceRequest.resource_spans = 1
    message(&mut out, 1, |rs| {
        // ResourceSpans.resource = 1 { Resource.attributes = 1 }
        message(rs, 1, |res| {
            key_value(res, 1, "service.name", &AttrValue::Str(service_name.into()));
        });
        // ResourceSpans.scope_spans = 2
        message(rs, 2, |ss| {
            // ScopeSpans.scope = 1 { name = 1, version = 2 }
            message(ss, 1, |scope| {
                string(scope, 1, SCOPE_NAME);
                string(scope, 2, SCOPE_VERSION);
            });
            for span in spans {
                // ScopeSpans.spans = 2
                message(ss, 2, |s| protobuf_span(s, span));
            }
        });
    });
    out
}

fn protobuf_span(out: &mut Vec<u8>, span: &Span) {
    bytes(out, 1, &span.trace_id); // trace_id
    bytes(out, 2, &span.span_id); // span_id
    string(out, 5, &span.name); // name
    varint_field(out, 6, SPAN_KIND); // kind
    fixed64(out, 7, span.time_unix_nano); // start_time_unix_nano
    fixed64(out, 8, span.time_unix_nano); // end_time_unix_nano
    for (k, v) in &span.attributes {
        key_value(out, 9, k, v); // attributes
    }
    message(out, 15, |_| {}); // status: unset
}

/// A `KeyValue { key = 1, value = 2: AnyValue { string_value = 1 | int_value = 3 } }`.
fn key_value(out: &mut Vec<u8>, field: u32, key: &str, value: &AttrValue) {
    message(out, field, |kv| {
        string(kv, 1, key);
        message(kv, 2, |any| match value {
            AttrValue::Str(s) => string(any, 1, s),
            // int64: two's complement as a 64-bit varint.
            AttrValue::Int(i) => varint_field(any, 3, *i as u64),
        });
    });
}

fn varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn tag(out: &mut Vec<u8>, field: u32, wire_type: u8) {
    varint(out, u64::from(field) << 3 | u64::from(wire_type));
}

fn varint_field(out: &mut Vec<u8>, field: u32, v: u64) {
    tag(out, field, 0);
    varint(out, v);
}

fn fixed64(out: &mut Vec<u8>, field: u32, v: u64) {
    tag(out, field, 1);
    out.extend_from_slice(&v.to_le_bytes());
}

fn bytes(out: &mut Vec<u8>, field: u32, b: &[u8]) {
    tag(out, field, 2);
    varint(out, b.len() as u64);
    out.extend_from_slice(b);
}

fn string(out: &mut Vec<u8>, field: u32, s: &str) {
    bytes(out, field, s.as_bytes());
}

fn message(out: &mut Vec<u8>, field: u32, body: impl FnOnce(&mut Vec<u8>)) {
    let mut inner = Vec::new();
    body(&mut inner);
    bytes(out, field, &inner);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{Attributes, ProcessInfo, RawEvent};

    fn event() -> Event {
        RawEvent::exited("werf converge".into(), 0, 5).complete(&ProcessInfo {
            execution_id: "2f75d020-684e-4224-9013-35e95e1b7721".into(),
            project_id: "p".into(),
            attributes: Attributes {
                os: "linux".into(),
                ..Default::default()
            },
            ..Default::default()
        })
    }

    #[test]
    fn span_attributes_are_typed() {
        let ev = event();
        let (ct, body) = encode(Protocol::HttpJson, "werf", &Wire::default(), &[&ev]);
        assert_eq!(ct, "application/json");
        let body: Value = serde_json::from_slice(&body).unwrap();
        let span = &body["resourceSpans"][0]["scopeSpans"][0]["spans"][0];
        assert_eq!(span["traceId"], "2f75d020684e4224901335e95e1b7721");
        assert_eq!(span["spanId"].as_str().unwrap().len(), 16);
        assert_eq!(span["name"], "CommandExited");
        let attrs = span["attributes"].as_array().unwrap();
        let get = |k: &str| attrs.iter().find(|a| a["key"] == k).unwrap()["value"].clone();
        assert_eq!(get("ts")["intValue"], ev.ts.to_string());
        assert_eq!(get("schemaVersion")["intValue"], "1");
        assert_eq!(get("command")["stringValue"], "werf converge");
        assert_eq!(
            get("eventData")["stringValue"],
            r#"{"exitCode":0,"durationMs":5}"#
        );
        assert!(attrs.iter().all(|a| a["key"] != "userID"));
        assert_eq!(
            body["resourceSpans"][0]["resource"]["attributes"][0]["value"]["stringValue"],
            "werf"
        );
    }

    #[test]
    fn varints_and_negative_ints() {
        let mut out = Vec::new();
        varint(&mut out, 300);
        assert_eq!(out, [0xac, 0x02]);
        let mut out = Vec::new();
        varint_field(&mut out, 3, -1i64 as u64);
        assert_eq!(out.len(), 1 + 10);
        let mut out = Vec::new();
        tag(&mut out, 15, 2);
        assert_eq!(out, [0x7a]);
    }

    #[test]
    fn trace_ids() {
        assert_eq!(
            hex(&trace_id("2f75d020-684e-4224-9013-35e95e1b7721")),
            "2f75d020684e4224901335e95e1b7721"
        );
        assert_ne!(trace_id("short"), [0; 16]);
        assert_ne!(trace_id("00000000-0000-0000-0000-000000000000"), [0; 16]);
    }
}
