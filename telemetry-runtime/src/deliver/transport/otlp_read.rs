//! Reading an OTLP/HTTP trace request back into events (SPEC S-8, S-11a): the inverse of
//! `otlp`, for `testing::Collector`, which receives what a built binary sends. JSON (the
//! protobuf JSON mapping, 64-bit integers as strings or numbers) and binary protobuf; every
//! span whose attributes carry an envelope (`eventType` at least) becomes an [`Event`];
//! anything else in the body is skipped. Malformed input is `None`, never a panic.

use serde_json::{Map, Value};

use super::protowire::{Value as Field, Wire};
use crate::event::Event;

/// One attribute value as the envelope uses them.
enum Attr {
    Str(String),
    Int(i64),
}

/// The events in a request body of `content_type`; `None` when it is not an OTLP trace
/// request at all.
pub(crate) fn events_in(content_type: &str, body: &[u8]) -> Option<Vec<Event>> {
    let spans = if content_type.contains("protobuf") {
        protobuf_spans(body)?
    } else {
        json_spans(body)?
    };
    Some(spans.into_iter().filter_map(envelope).collect())
}

/// The span's attributes as an envelope: integers for `ts` and `schemaVersion`, JSON text
/// for `eventData` and `attributes`, strings for the rest.
fn envelope(attrs: Vec<(String, Attr)>) -> Option<Event> {
    let mut map = Map::new();
    for (key, value) in attrs {
        let value = match (key.as_str(), value) {
            ("eventData" | "attributes", Attr::Str(text)) => serde_json::from_str(&text).ok()?,
            (_, Attr::Str(s)) => Value::String(s),
            (_, Attr::Int(i)) => Value::from(i),
        };
        map.insert(key, value);
    }
    map.get("eventType")?;
    serde_json::from_value(Value::Object(map)).ok()
}

fn json_spans(body: &[u8]) -> Option<Vec<Vec<(String, Attr)>>> {
    let request: Value = serde_json::from_slice(body).ok()?;
    let mut spans = Vec::new();
    for resource in request.get("resourceSpans")?.as_array()? {
        let scopes = resource.get("scopeSpans").and_then(Value::as_array);
        for scope in scopes.into_iter().flatten() {
            let in_scope = scope.get("spans").and_then(Value::as_array);
            for span in in_scope.into_iter().flatten() {
                let attrs = span.get("attributes").and_then(Value::as_array);
                spans.push(attrs.into_iter().flatten().filter_map(json_attr).collect());
            }
        }
    }
    Some(spans)
}

fn json_attr(kv: &Value) -> Option<(String, Attr)> {
    let key = kv.get("key")?.as_str()?.to_owned();
    let value = kv.get("value")?;
    let attr = if let Some(s) = value.get("stringValue").and_then(Value::as_str) {
        Attr::Str(s.to_owned())
    } else {
        let int = value.get("intValue")?;
        Attr::Int(match int {
            Value::String(s) => s.parse().ok()?,
            other => other.as_i64()?,
        })
    };
    Some((key, attr))
}

/// `ExportTraceServiceRequest.resource_spans = 1 → ResourceSpans.scope_spans = 2 →
/// ScopeSpans.spans = 2 → Span.attributes = 9 → KeyValue { key = 1, value = 2: AnyValue
/// { string_value = 1, int_value = 3 } }`.
fn protobuf_spans(body: &[u8]) -> Option<Vec<Vec<(String, Attr)>>> {
    let mut spans = Vec::new();
    for resource in fields(body, 1)? {
        for scope in fields(resource, 2)? {
            for span in fields(scope, 2)? {
                let mut attrs = Vec::new();
                for kv in fields(span, 9)? {
                    if let Some(attr) = protobuf_attr(kv) {
                        attrs.push(attr);
                    }
                }
                spans.push(attrs);
            }
        }
    }
    Some(spans)
}

fn protobuf_attr(kv: &[u8]) -> Option<(String, Attr)> {
    let key = fields(kv, 1)?.into_iter().next()?;
    let key = String::from_utf8(key.to_vec()).ok()?;
    let any = fields(kv, 2)?.into_iter().next()?;
    let mut wire = Wire(any);
    while !wire.0.is_empty() {
        match wire.field()? {
            (1, Field::Bytes(s)) => {
                return Some((key, Attr::Str(String::from_utf8(s.to_vec()).ok()?)))
            }
            (3, Field::Varint(i)) => return Some((key, Attr::Int(i as i64))),
            _ => {}
        }
    }
    None
}

/// The length-delimited fields numbered `number` of a message.
fn fields(message: &[u8], number: u64) -> Option<Vec<&[u8]>> {
    let mut wire = Wire(message);
    let mut found = Vec::new();
    while !wire.0.is_empty() {
        if let (n, Field::Bytes(bytes)) = wire.field()? {
            if n == number {
                found.push(bytes);
            }
        }
    }
    Some(found)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Protocol;
    use crate::deliver::transport::otlp::{encode, Wire as SpanName};
    use crate::event::{ProcessInfo, RawEvent};

    #[test]
    fn what_is_encoded_reads_back_in_both_protocols() {
        let mut started = RawEvent::started("werf converge".into(), &[]);
        started.ts = 1_700_000_000_123;
        let info = ProcessInfo {
            execution_id: "0b6f3c2e-9a3b-4a8e-8d2f-1f2e3d4c5b6a".into(),
            user_id: Some("u".into()),
            ..Default::default()
        };
        let events = vec![
            started.complete(&info),
            RawEvent::exited("werf converge".into(), 3, 12).complete(&info),
        ];
        let refs: Vec<&Event> = events.iter().collect();
        for protocol in [Protocol::HttpJson, Protocol::HttpProtobuf] {
            let (content_type, body) =
                encode(protocol, "werf", &SpanName { span_name: None }, &refs);
            assert_eq!(events_in(content_type, &body), Some(events.clone()));
        }
        assert_eq!(events_in("application/json", b"{not json"), None);
        assert_eq!(events_in("application/x-protobuf", &[0xff, 0xff]), None);
        assert_eq!(events_in("application/json", b"{}"), None);
    }
}
