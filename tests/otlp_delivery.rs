//! Delivery as OTLP/HTTP JSON spans (SPEC S-8): what the loopback receiver gets decodes with
//! the official protobuf JSON mapping (the `opentelemetry-proto` crate) and equals the
//! log file's events.
#![cfg(feature = "telemetry")]

mod common;

use std::time::Duration;

use common::otlp::{event_of, string};
use common::{werf, Mode, Receiver};
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::any_value::Value as Any;

fn decode(body: &[u8]) -> ExportTraceServiceRequest {
    serde_json::from_slice(body).unwrap_or_else(|e| {
        panic!(
            "not an ExportTraceServiceRequest: {e}\n{}",
            String::from_utf8_lossy(body)
        )
    })
}

#[test]
fn received_spans_equal_the_logged_events() {
    let receiver = Receiver::start(Mode::Status(200));
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("t.log");
    let run = werf(&["-v", "converge", "--repo", "r", "--dev"])
        .env("TRDL_USE_WERF_GROUP_CHANNEL", "2 stable")
        .env("WERF_TELEMETRY_EXTRA_ATTRIBUTE_TEAM", "team=platform")
        .env("GITLAB_CI", "true")
        .telemetry(&receiver.url(), &log)
        .run();
    assert_eq!(run.code(), Some(0));
    let bodies = receiver.bodies();
    assert!(!bodies.is_empty(), "nothing received");
    assert!(receiver.paths().iter().all(|p| p == "/v1/traces"));

    let mut received = Vec::new();
    for body in &bodies {
        let request = decode(body);
        for rs in &request.resource_spans {
            let resource = rs.resource.as_ref().expect("resource");
            let service = resource
                .attributes
                .iter()
                .find(|kv| kv.key == "service.name")
                .expect("service.name");
            assert_eq!(
                service.value.as_ref().and_then(|v| v.value.as_ref()),
                Some(&Any::StringValue("werf".into()))
            );
            for ss in &rs.scope_spans {
                for span in &ss.spans {
                    assert_eq!(span.trace_id.len(), 16);
                    assert_eq!(span.span_id.len(), 8);
                    assert_eq!(span.name, string(span, "eventType"));
                    received.push(event_of(span));
                }
            }
        }
    }
    let logged = common::read_log(&log).events.events().to_vec();
    assert_eq!(logged.len(), 2);
    // Same events; two requests may arrive in either order.
    assert_eq!(received.len(), logged.len());
    for event in &logged {
        assert_eq!(
            received.iter().filter(|r| *r == event).count(),
            1,
            "{event:?}"
        );
    }
    let attrs = &logged[0].attributes;
    assert_eq!(attrs.group_channel.as_deref(), Some("2 stable"));
    assert_eq!(attrs.ci, Some(true));
    assert_eq!(attrs.ci_name.as_deref(), Some("gitlab"));
    assert_eq!(
        attrs.extra.get("team").map(String::as_str),
        Some("platform")
    );
    // All spans of the run share one trace.
    let traces: std::collections::HashSet<_> = bodies
        .iter()
        .flat_map(|b| decode(b).resource_spans)
        .flat_map(|rs| rs.scope_spans)
        .flat_map(|ss| ss.spans)
        .map(|s| s.trace_id)
        .collect();
    assert_eq!(traces.len(), 1);
}

#[test]
fn short_command_sends_both_events_in_one_request() {
    let receiver = Receiver::start(Mode::Status(200));
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("t.log");
    let run = werf(&["helm", "get-release", "--namespace", "n"])
        .telemetry(&receiver.url(), &log)
        .run();
    assert_eq!(run.code(), Some(0));
    let bodies = receiver.wait_for(1, Duration::from_secs(5));
    let spans: usize = bodies
        .iter()
        .map(|b| {
            decode(b)
                .resource_spans
                .iter()
                .flat_map(|rs| &rs.scope_spans)
                .map(|ss| ss.spans.len())
                .sum::<usize>()
        })
        .sum();
    assert_eq!(spans, 2);
    // The HTTP client is built while the (short) command runs, so both events usually
    // leave together; never more requests than events.
    assert!(bodies.len() <= 2);
}

#[test]
fn delivery_outcomes_are_logged_per_event() {
    for (status, message) in [
        (200, "event delivered"),
        (500, "event rejected by the endpoint"),
        (429, "event rejected by the endpoint"),
    ] {
        let receiver = Receiver::start(Mode::Status(status));
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("t.log");
        werf(&["kube-run", "--exit-code", "0"])
            .telemetry(&receiver.url(), &log)
            .run();
        let parsed = common::read_log(&log);
        let lines = parsed.diagnostics_containing(message);
        assert_eq!(lines.len(), 2, "status {status}: {:?}", parsed.diagnostics);
        for line in lines {
            assert_eq!(line["httpStatus"], status);
            assert!(line.get("eventType").is_none());
        }
    }
}
