//! What the endpoint answers (SPEC S-21, R-4): any 2xx body in either protocol and any
//! `Retry-After` value never panic; a partial success found is bounded and free of control
//! characters; a hold is never more than a day away; a real `ExportTraceServiceResponse`
//! (encoded with the official generated types) is read back as what it says.
#![no_main]

use arbitrary::Arbitrary;
use cli_telemetry::__private::fuzz::{partial_success, retry_at};
use libfuzzer_sys::fuzz_target;
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTracePartialSuccess, ExportTraceServiceResponse,
};
use prost::Message;

#[derive(Arbitrary, Debug)]
struct Input {
    body: Vec<u8>,
    protobuf: bool,
    retry_after: String,
    now_ms: u32,
    rejected: i64,
    message: String,
}

fuzz_target!(|input: Input| {
    let content_type = if input.protobuf {
        "application/x-protobuf"
    } else {
        "application/json"
    };
    if let Some((_, message)) = partial_success(content_type, &input.body) {
        assert!(message.chars().count() <= 200);
        assert!(!message.chars().any(char::is_control));
    }
    let now = u64::from(input.now_ms) * 1000;
    if let Some(until) = retry_at(&input.retry_after, now) {
        assert!(until > now && until <= now + 24 * 3600 * 1000);
    }
    let response = ExportTraceServiceResponse {
        partial_success: Some(ExportTracePartialSuccess {
            rejected_spans: input.rejected,
            error_message: input.message.clone(),
        }),
    };
    let got = partial_success("application/x-protobuf", &response.encode_to_vec());
    let (rejected, message) = got.expect("a real response is read");
    assert_eq!(rejected, u64::try_from(input.rejected).unwrap_or(0));
    let cleaned: String = input.message.chars().filter(|c| !c.is_control()).take(200).collect();
    assert_eq!(message, cleaned.trim());
});
