//! What a response says beyond its status (SPEC S-13, S-21): an OTLP *partial success* in
//! the body of a 2xx (the collector took the request but dropped spans: a rejection, never
//! "delivered"), read in the request's protocol (JSON or protobuf) from a bounded body; and
//! `Retry-After` on 429 and 503 (seconds or an HTTP date), which holds the queue until then.
//! Both transports hand their status, header and body to [`outcome`]. Nothing here panics
//! or allocates beyond the bounds, whatever the endpoint sends.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::protowire::{Value, Wire};
use super::request::Outcome;

/// Bytes of a 2xx body kept for reading a partial success; a longer body is drained, not
/// read (a valid `ExportTraceServiceResponse` is a few hundred bytes).
pub(crate) const MAX_BODY: usize = 64 * 1024;
/// Characters of the collector's message kept for the log file.
pub(crate) const MAX_MESSAGE: usize = 200;
/// The longest hold a `Retry-After` can ask for; later ones are clamped to it.
pub(crate) const MAX_RETRY_AFTER: Duration = Duration::from_secs(24 * 3600);

/// The outcome of a response: `status`, its `Retry-After` value, the first bytes of its
/// body, the request's `content_type` (the protocol the body is read in), at `now`.
pub(crate) fn outcome(
    status: u16,
    retry_after: Option<&str>,
    body: &[u8],
    content_type: &str,
    now: SystemTime,
) -> Outcome {
    if (200..300).contains(&status) {
        return match partial_success(content_type, body) {
            Some((rejected, message)) if rejected > 0 => Outcome::PartlyRejected {
                status,
                rejected,
                message,
            },
            _ => Outcome::Delivered(status),
        };
    }
    if matches!(status, 429 | 503) {
        if let Some(until) = retry_after.and_then(|v| retry_at(v, now)) {
            return Outcome::Throttled { status, until };
        }
    }
    Outcome::Rejected(status)
}

/// `(rejectedSpans, errorMessage)` of an `ExportTraceServiceResponse` body in the protocol
/// of `content_type`; `None` when the body is not one or has no partial success.
pub(crate) fn partial_success(content_type: &str, body: &[u8]) -> Option<(u64, String)> {
    if body.is_empty() || body.len() > MAX_BODY {
        return None;
    }
    let (rejected, message) = if content_type.contains("protobuf") {
        from_protobuf(body)?
    } else {
        from_json(body)?
    };
    Some((u64::try_from(rejected).unwrap_or(0), clean(&message)))
}

/// The protobuf JSON mapping: `{"partialSuccess":{"rejectedSpans":"1","errorMessage":"…"}}`
/// (int64 as a string or a number).
fn from_json(body: &[u8]) -> Option<(i64, String)> {
    let value: serde_json::Value = serde_json::from_slice(body).ok()?;
    let partial = value.get("partialSuccess")?;
    let rejected = match partial.get("rejectedSpans") {
        Some(serde_json::Value::String(s)) => s.trim().parse().ok()?,
        Some(serde_json::Value::Number(n)) => n.as_i64()?,
        None | Some(serde_json::Value::Null) => 0,
        Some(_) => return None,
    };
    let message = partial
        .get("errorMessage")
        .and_then(|m| m.as_str())
        .unwrap_or_default()
        .to_owned();
    Some((rejected, message))
}

/// `ExportTraceServiceResponse { partial_success = 1 { rejected_spans = 1 (int64),
/// error_message = 2 (string) } }`, unknown fields skipped.
fn from_protobuf(body: &[u8]) -> Option<(i64, String)> {
    let mut outer = Wire(body);
    let mut found = None;
    while !outer.0.is_empty() {
        if let (1, Value::Bytes(inner)) = outer.field()? {
            found = Some(inner);
        }
    }
    let mut inner = Wire(found?);
    let (mut rejected, mut message) = (0i64, String::new());
    while !inner.0.is_empty() {
        match inner.field()? {
            (1, Value::Varint(n)) => rejected = n as i64,
            (2, Value::Bytes(text)) => message = String::from_utf8_lossy(text).into_owned(),
            _ => {}
        }
    }
    Some((rejected, message))
}

/// The collector's message for the log file: control characters removed, at most
/// [`MAX_MESSAGE`] characters.
fn clean(message: &str) -> String {
    message
        .chars()
        .filter(|c| !c.is_control())
        .take(MAX_MESSAGE)
        .collect::<String>()
        .trim()
        .to_owned()
}

/// When a `Retry-After` value (whole seconds, or an HTTP date) says to try again, as Unix
/// milliseconds, at most [`MAX_RETRY_AFTER`] after `now`; `None` for a value that can't be
/// read, or a time already past.
pub(crate) fn retry_at(value: &str, now: SystemTime) -> Option<u64> {
    let value = value.trim();
    let wait = if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        // More digits than a u64 holds: as long as can be (then clamped).
        Duration::from_secs(value.parse().unwrap_or(u64::MAX))
    } else {
        httpdate::parse_http_date(value)
            .ok()?
            .duration_since(now)
            .ok()?
    };
    if wait.is_zero() {
        return None;
    }
    let until = now + wait.min(MAX_RETRY_AFTER);
    Some(unix_millis(until))
}

pub(crate) fn unix_millis(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// Unix milliseconds as an HTTP date (`Sun, 06 Nov 1994 08:49:37 GMT`), for the log file.
pub(crate) fn http_date(ms: u64) -> String {
    httpdate::fmt_http_date(UNIX_EPOCH + Duration::from_millis(ms))
}

#[cfg(test)]
mod tests {
    use super::*;

    const JSON: &str = "application/json";
    const PROTOBUF: &str = "application/x-protobuf";

    fn protobuf(rejected: u64, message: &str) -> Vec<u8> {
        let mut inner = vec![0x08];
        let mut n = rejected;
        loop {
            let byte = (n & 0x7f) as u8;
            n >>= 7;
            if n == 0 {
                inner.push(byte);
                break;
            }
            inner.push(byte | 0x80);
        }
        inner.push(0x12);
        inner.push(message.len() as u8);
        inner.extend_from_slice(message.as_bytes());
        let mut outer = vec![0x0a, inner.len() as u8];
        outer.extend(inner);
        outer
    }

    #[test]
    fn partial_success_in_either_protocol() {
        let json =
            br#"{"partialSuccess":{"rejectedSpans":"2","errorMessage":"quota\u0007 exceeded\n"}}"#;
        assert_eq!(
            partial_success(JSON, json),
            Some((2, "quota exceeded".to_owned()))
        );
        let json = br#"{"partialSuccess":{"rejectedSpans":1}}"#;
        assert_eq!(partial_success(JSON, json), Some((1, String::new())));
        assert_eq!(
            partial_success(PROTOBUF, &protobuf(300, "over\tquota")),
            Some((300, "overquota".to_owned()))
        );
        // Success, empty, not a response, or the other protocol's body: no partial success.
        for (ct, body) in [
            (JSON, &b"{}"[..]),
            (JSON, b""),
            (JSON, b"{\"partialSuccess\":{}}"),
            (JSON, b"<html>"),
            (JSON, b"{\"partialSuccess\":{\"rejectedSpans\":\"x\"}}"),
            (PROTOBUF, b"\x0a\x05\x08"),
            (PROTOBUF, b"\xff\xff\xff"),
        ] {
            let got = partial_success(ct, body);
            assert!(
                got.as_ref().is_none_or(|(n, _)| *n == 0),
                "{body:?}: {got:?}"
            );
        }
        let long = "x".repeat(5000);
        let body =
            format!(r#"{{"partialSuccess":{{"rejectedSpans":"1","errorMessage":"{long}"}}}}"#);
        assert_eq!(
            partial_success(JSON, body.as_bytes()).unwrap().1.len(),
            MAX_MESSAGE
        );
    }

    #[test]
    fn outcomes() {
        let now = SystemTime::now();
        let body = br#"{"partialSuccess":{"rejectedSpans":"1","errorMessage":"no"}}"#;
        assert!(matches!(
            outcome(200, None, body, JSON, now),
            Outcome::PartlyRejected { rejected: 1, .. }
        ));
        assert_eq!(
            outcome(200, None, b"garbage", JSON, now),
            Outcome::Delivered(200)
        );
        assert_eq!(
            outcome(202, None, b"", PROTOBUF, now),
            Outcome::Delivered(202)
        );
        let Outcome::Throttled { status: 429, until } = outcome(429, Some("3"), b"", JSON, now)
        else {
            panic!("429 with Retry-After");
        };
        assert_eq!(until, unix_millis(now) + 3000);
        assert_eq!(
            outcome(429, Some("soon"), b"", JSON, now),
            Outcome::Rejected(429)
        );
        assert_eq!(
            outcome(500, Some("3"), b"", JSON, now),
            Outcome::Rejected(500)
        );
        assert_eq!(outcome(503, None, b"", JSON, now), Outcome::Rejected(503));
    }

    #[test]
    fn retry_after_seconds_dates_clamps_and_garbage() {
        let now = UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        let ms = unix_millis(now);
        assert_eq!(retry_at("120", now), Some(ms + 120_000));
        assert_eq!(retry_at(" 1 ", now), Some(ms + 1000));
        let in_a_minute = httpdate::fmt_http_date(now + Duration::from_secs(60));
        assert_eq!(retry_at(&in_a_minute, now), Some(ms + 60_000));
        // More than a day away, in either form: a day.
        let day = MAX_RETRY_AFTER.as_millis() as u64;
        assert_eq!(retry_at("999999999", now), Some(ms + day));
        assert_eq!(retry_at("99999999999999999999999", now), Some(ms + day));
        let next_year = httpdate::fmt_http_date(now + Duration::from_secs(365 * 86400));
        assert_eq!(retry_at(&next_year, now), Some(ms + day));
        // Past, zero, or unreadable: no hold.
        let past = httpdate::fmt_http_date(now - Duration::from_secs(60));
        for value in [&past[..], "0", "", "-5", "1.5", "tomorrow", "Sun, 99 Foo"] {
            assert_eq!(retry_at(value, now), None, "{value:?}");
        }
        assert_eq!(http_date(ms), "Fri, 15 Jan 2027 08:00:00 GMT");
    }
}
