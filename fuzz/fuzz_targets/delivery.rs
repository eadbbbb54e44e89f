//! The delivery side's parsers and encoder (SPEC S-8, R-2, R-4): endpoint and proxy URLs,
//! `NO_PROXY` lists and `<PREFIX>_TELEMETRY_HEADERS` from any bytes never panic; the
//! hand-written protobuf encoder's output always decodes with the official generated
//! types into the events it was given.
#![no_main]

use std::ffi::OsString;

use arbitrary::Arbitrary;
use cli_telemetry::__private::fuzz::{encode_otlp, headers_from_env, parse_endpoint, proxy_for};
use cli_telemetry::{Attributes, Event, Protocol};
use libfuzzer_sys::fuzz_target;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use prost::Message;

#[derive(Arbitrary, Debug)]
struct Input {
    endpoint: String,
    proxy: String,
    no_proxy: String,
    headers: String,
    service: String,
    span_name: Option<String>,
    events: Vec<(u32, String, Option<String>, String, String, i32, u32)>,
}

fuzz_target!(|input: Input| {
    if let Ok(url) = parse_endpoint(&input.endpoint) {
        // Shown without credentials: no `@` in the authority (a path may hold one).
        let rest = url.split_once("://").map_or("", |(_, r)| r);
        let authority = rest.split('/').next().unwrap_or("");
        assert!(!authority.contains('@'), "{url}");
        assert!(!url.contains('?'), "{url}");
    }
    let vars = vec![
        (OsString::from("HTTPS_PROXY"), OsString::from(&input.proxy)),
        (OsString::from("HTTP_PROXY"), OsString::from(&input.proxy)),
        (OsString::from("NO_PROXY"), OsString::from(&input.no_proxy)),
    ];
    let _ = proxy_for(&input.endpoint, vars);
    let (headers, _) = headers_from_env("app", OsString::from(&input.headers));
    for (k, v) in &headers {
        assert!(!k.is_empty() && !v.contains(['\r', '\n']));
    }
    let events: Vec<Event> = input
        .events
        .into_iter()
        .take(8)
        .map(|(ts, execution_id, user_id, command, event_type, code, ms)| {
            let mut data = serde_json::Map::new();
            data.insert("exitCode".into(), code.into());
            data.insert("durationMs".into(), ms.into());
            Event {
                ts: u64::from(ts),
                execution_id,
                user_id,
                project_id: String::new(),
                command,
                attributes: Attributes::default(),
                event_type,
                event_data: data,
                schema_version: 1,
            }
        })
        .collect();
    let (_, body) = encode_otlp(
        Protocol::HttpProtobuf,
        &input.service,
        input.span_name.as_deref(),
        &events,
    );
    let request = ExportTraceServiceRequest::decode(&body[..]).expect("the body decodes");
    let spans: Vec<_> = request
        .resource_spans
        .iter()
        .flat_map(|rs| &rs.scope_spans)
        .flat_map(|ss| &ss.spans)
        .collect();
    assert_eq!(spans.len(), events.len());
    for (span, event) in spans.iter().zip(&events) {
        let name = input.span_name.as_ref().unwrap_or(&event.event_type);
        assert_eq!(&span.name, name);
        let command = span.attributes.iter().find(|kv| kv.key == "command").unwrap();
        let value = command.value.as_ref().and_then(|v| v.value.as_ref());
        assert_eq!(
            value,
            Some(&opentelemetry_proto::tonic::common::v1::any_value::Value::StringValue(
                event.command.clone()
            ))
        );
    }
});
