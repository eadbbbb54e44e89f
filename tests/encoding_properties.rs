//! Bounded property tests of the delivery side (SPEC S-8, R-2, R-4): the hand-written
//! protobuf encoder against the official generated types (`opentelemetry-proto` + prost),
//! the JSON encoding against the official JSON mapping, and the endpoint, proxy and header
//! parsers on any input. Longer runs: `PROPTEST_CASES=100000` (FUZZING.md).
#![cfg(feature = "telemetry")]

mod common;

use std::collections::BTreeMap;
use std::ffi::OsString;

use cli_telemetry::__private::fuzz::{
    encode_otlp, headers_from_env, http_date, parse_endpoint, partial_success, proxy_for, retry_at,
};
use cli_telemetry::{Attributes, Event, Protocol};
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use proptest::collection::{btree_map, vec};
use proptest::prelude::*;
use proptest::test_runner::Config;

fn cases(n: u32) -> Config {
    common::proptest_cases(n)
}

fn text() -> impl Strategy<Value = String> {
    prop_oneof![any::<String>(), "[a-zA-Z0-9 _.:-]{0,24}"]
}

fn event() -> impl Strategy<Value = Event> {
    (
        (
            0u64..=i64::MAX as u64,
            text(),
            proptest::option::of(text()),
            text(),
            text(),
        ),
        (text(), text(), text(), proptest::option::of(text())),
        (text(), any::<i32>(), any::<u32>(), 0u32..10),
        btree_map("[a-z]{1,8}", text(), 0..3),
    )
        .prop_map(
            |(
                (ts, execution_id, user_id, project_id, command),
                (os, arch, version, group_channel),
                (event_type, exit_code, duration, schema_version),
                extra,
            )| {
                let mut data = serde_json::Map::new();
                data.insert("exitCode".into(), exit_code.into());
                data.insert("durationMs".into(), duration.into());
                Event {
                    ts,
                    execution_id,
                    user_id,
                    project_id,
                    command,
                    attributes: Attributes {
                        os,
                        arch,
                        version,
                        group_channel,
                        ci: None,
                        ci_name: None,
                        // An agent and a container on some events (SPEC S-22).
                        agent: (duration % 2 == 0).then(|| "claude-code".to_owned()),
                        container: (duration % 5 == 0).then(|| "docker".to_owned()),
                        extra: extra.into_iter().collect::<BTreeMap<_, _>>(),
                        // Sampled runs carry their rate (SPEC S-20), a number in (0, 1).
                        sample_rate: (duration % 3 == 0)
                            .then(|| (duration % 97 + 1) as f64 / 100.0),
                    },
                    event_type,
                    event_data: data,
                    schema_version,
                }
            },
        )
}

fn spans_of(
    request: &ExportTraceServiceRequest,
) -> Vec<&opentelemetry_proto::tonic::trace::v1::Span> {
    request
        .resource_spans
        .iter()
        .flat_map(|rs| &rs.scope_spans)
        .flat_map(|ss| &ss.spans)
        .collect()
}

proptest! {
    #![proptest_config(cases(300))]

    /// Both encodings decode, with the official types, into exactly the events encoded.
    #[test]
    fn protobuf_and_json_bodies_carry_the_events(
        events in vec(event(), 0..4),
        service in text(),
        span_name in proptest::option::of(text()),
    ) {
        use prost::Message;
        let (ct, body) = encode_otlp(Protocol::HttpProtobuf, &service, span_name.as_deref(), &events);
        prop_assert_eq!(ct, "application/x-protobuf");
        let request = ExportTraceServiceRequest::decode(&body[..]).expect("decodes");
        let service_attr = &request.resource_spans[0].resource.as_ref().unwrap().attributes[0];
        prop_assert_eq!(&service_attr.key, "service.name");
        let spans = spans_of(&request);
        prop_assert_eq!(spans.len(), events.len());
        for (span, event) in spans.iter().zip(&events) {
            prop_assert_eq!(&common::otlp::event_of(span), event);
            prop_assert_eq!(&span.name, span_name.as_ref().unwrap_or(&event.event_type));
            prop_assert_eq!(span.start_time_unix_nano, event.ts.saturating_mul(1_000_000));
        }

        let (ct, body) = encode_otlp(Protocol::HttpJson, &service, span_name.as_deref(), &events);
        prop_assert_eq!(ct, "application/json");
        let from_json: ExportTraceServiceRequest = serde_json::from_slice(&body).expect("JSON mapping");
        let json_spans = spans_of(&from_json);
        prop_assert_eq!(json_spans.len(), events.len());
        for (span, event) in json_spans.iter().zip(&events) {
            prop_assert_eq!(&common::otlp::event_of(span), event);
        }
    }

    /// Any string: a URL without credentials, or one of the fixed phrases; never a panic.
    #[test]
    fn endpoints_parse_or_fail_with_a_fixed_phrase(raw in prop_oneof![
        any::<String>(),
        "(https?|ftp|HTTP)://([a-z]{1,5}(:[a-z0-9]{0,8})?@)?[a-z0-9.:\\[\\]-]{0,20}(/[a-z?#=&%]{0,10})?",
    ]) {
        match parse_endpoint(&raw) {
            Ok(url) => {
                prop_assert!(url.starts_with("http://") || url.starts_with("https://"), "{}", url);
                // No credentials: no `@` in the authority (a path may hold one).
                let authority = url.split_once("://").map_or("", |(_, r)| r).split('/').next().unwrap_or("");
                prop_assert!(!authority.contains('@'), "{}", url);
                prop_assert!(!url.contains('?'), "{}", url);
            }
            // The phrase never echoes the input (a blank or one-letter input is in any phrase).
            Err(phrase) => prop_assert!(!phrase.contains(&raw) || raw.trim().chars().count() < 2),
        }
    }

    /// Proxy variables: any value gives a host:port, no proxy, or a fixed phrase.
    #[test]
    fn proxy_variables_never_panic(
        proxy in any::<String>(),
        no_proxy in prop_oneof![any::<String>(), "[a-z0-9.,*/ -]{0,30}"],
        https in any::<bool>(),
    ) {
        let endpoint = if https { "https://api.example.com/v1/traces" } else { "http://api.example.com/v1/traces" };
        let vars = vec![
            (OsString::from("HTTPS_PROXY"), OsString::from(&proxy)),
            (OsString::from("HTTP_PROXY"), OsString::from(&proxy)),
            (OsString::from("NO_PROXY"), OsString::from(&no_proxy)),
        ];
        if let Ok(Some(host_port)) = proxy_for(endpoint, vars) {
            prop_assert!(!host_port.contains('@'), "{}", host_port);
        }
    }

    /// Header values never reach a note; no header carries a line break.
    #[test]
    fn header_values_stay_secret(value in prop_oneof![
        any::<String>(),
        "([a-z-]{0,8}=[A-Za-z0-9%\\r\\n]{0,12},?){0,4}",
    ]) {
        let marker = "S3CR3T-MARK";
        let raw = format!("{value},x-key={marker},{value}");
        let (headers, notes) = headers_from_env("app", OsString::from(raw));
        prop_assert!(headers.iter().any(|(k, v)| k == "x-key" && v == marker) || value.contains("x-key"));
        for note in &notes {
            prop_assert!(!note.contains(marker), "{}", note);
        }
        for (k, v) in &headers {
            prop_assert!(!k.is_empty() && !k.contains([' ', ':', '\r', '\n']), "{:?}", k);
            prop_assert!(!v.contains(['\r', '\n']), "{:?}", v);
        }
    }
}

/// What the collector would write: its message cleaned as the log file keeps it.
fn cleaned(message: &str) -> String {
    message
        .chars()
        .filter(|c| !c.is_control())
        .take(200)
        .collect::<String>()
        .trim()
        .to_owned()
}

proptest! {
    #![proptest_config(cases(512))]

    /// Any 2xx body, in either protocol, is read without a panic; what it yields is
    /// bounded and free of control characters (SPEC S-21, R-4).
    #[test]
    fn any_response_body_is_handled(body in vec(any::<u8>(), 0..256), protobuf in any::<bool>()) {
        let content_type = if protobuf { "application/x-protobuf" } else { "application/json" };
        if let Some((_, message)) = partial_success(content_type, &body) {
            prop_assert!(message.chars().count() <= 200);
            prop_assert!(!message.chars().any(char::is_control), "{:?}", message);
        }
    }

    /// A real `ExportTraceServiceResponse`, encoded with the official generated types or
    /// written in the JSON mapping (int64 as a string or a number), is read as what it says.
    #[test]
    fn real_partial_successes_are_read(rejected in any::<i64>(), message in any::<String>()) {
        use opentelemetry_proto::tonic::collector::trace::v1::{
            ExportTracePartialSuccess, ExportTraceServiceResponse,
        };
        use prost::Message;
        let expected = (u64::try_from(rejected).unwrap_or(0), cleaned(&message));
        let response = ExportTraceServiceResponse {
            partial_success: Some(ExportTracePartialSuccess {
                rejected_spans: rejected,
                error_message: message.clone(),
            }),
        };
        let bytes = response.encode_to_vec();
        prop_assert_eq!(partial_success("application/x-protobuf", &bytes), Some(expected.clone()));
        let quoted = serde_json::json!({
            "partialSuccess": { "rejectedSpans": rejected.to_string(), "errorMessage": message }
        });
        let number = serde_json::json!({
            "partialSuccess": { "rejectedSpans": rejected, "errorMessage": message }
        });
        for json in [quoted, number] {
            let body = serde_json::to_vec(&json).unwrap();
            prop_assert_eq!(partial_success("application/json", &body), Some(expected.clone()));
        }
    }

    /// `Retry-After`: any value is handled; a hold is always ahead and at most a day away;
    /// whole seconds and HTTP dates name the time they say.
    #[test]
    fn retry_after_values(value in any::<String>(), seconds in 1u64..200_000, now in 0u64..4_000_000_000) {
        let now_ms = now * 1000;
        if let Some(until) = retry_at(&value, now_ms) {
            prop_assert!(until > now_ms && until <= now_ms + 86_400_000);
        }
        let expected = now_ms + seconds.min(86_400) * 1000;
        prop_assert_eq!(retry_at(&seconds.to_string(), now_ms), Some(expected));
        prop_assert_eq!(retry_at(&http_date(now_ms + seconds * 1000), now_ms), Some(expected));
    }
}
