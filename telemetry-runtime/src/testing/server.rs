//! The [`Collector`](super::Collector)'s receiver: HTTP/1.1 on 127.0.0.1, a thread per
//! connection, keep-alive, bodies by `Content-Length` or chunked (bounded), each request
//! recorded — with the events its OTLP body carries — *as it arrives*, then answered as the
//! collector was told ([`Answer`]). Nothing here panics on what a client sends.

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, SystemTime};

use super::exchange::{Answer, Request};
use crate::record::guard::lock;

/// The longest request head and body read; a longer one ends the connection.
const MAX_HEAD: usize = 64 * 1024;
const MAX_BODY: usize = 16 * 1024 * 1024;

/// What the receiver's threads and the collector share.
pub(super) struct Shared {
    pub(super) requests: Mutex<Vec<Request>>,
    pub(super) arrived: Condvar,
    /// The answers still to give; the last one repeats.
    answers: Mutex<VecDeque<Answer>>,
    pub(super) stop: AtomicBool,
}

impl Shared {
    pub(super) fn new(answers: Vec<Answer>) -> Shared {
        let mut answers: VecDeque<Answer> = answers.into();
        if answers.is_empty() {
            answers.push_back(Answer::Status(200));
        }
        Shared {
            requests: Mutex::new(Vec::new()),
            arrived: Condvar::new(),
            answers: Mutex::new(answers),
            stop: AtomicBool::new(false),
        }
    }

    fn next_answer(&self) -> Answer {
        let mut answers = lock(&self.answers);
        if answers.len() > 1 {
            answers.pop_front().unwrap_or(Answer::Status(200))
        } else {
            answers.front().cloned().unwrap_or(Answer::Status(200))
        }
    }

    fn record(&self, request: Request) {
        lock(&self.requests).push(request);
        self.arrived.notify_all();
    }

    /// Sleeps `time` unless the collector stops first; whether it is still running.
    fn sleep(&self, time: Duration) -> bool {
        let step = Duration::from_millis(20);
        let mut left = time;
        while !left.is_zero() {
            if self.stop.load(Ordering::Relaxed) {
                return false;
            }
            let now = left.min(step);
            std::thread::sleep(now);
            left -= now;
        }
        !self.stop.load(Ordering::Relaxed)
    }
}

/// Accepts connections until the collector stops.
pub(super) fn serve(listener: TcpListener, shared: Arc<Shared>) {
    for stream in listener.incoming() {
        if shared.stop.load(Ordering::Relaxed) {
            return;
        }
        let Ok(stream) = stream else { continue };
        let shared = shared.clone();
        let _ = std::thread::Builder::new()
            .name("collector-conn".into())
            .spawn(move || connection(stream, &shared));
    }
}

fn connection(stream: TcpStream, shared: &Shared) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(30)));
    let Ok(writer) = stream.try_clone() else {
        return;
    };
    let mut writer = writer;
    let mut reader = BufReader::new(stream);
    while let Some((path, headers)) = read_head(&mut reader) {
        let header = |name: &str| {
            headers
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.as_str())
        };
        let chunked = header("transfer-encoding").is_some_and(|v| v.contains("chunked"));
        let body = if chunked {
            read_chunked(&mut reader)
        } else {
            let length = header("content-length")
                .and_then(|v| v.parse::<usize>().ok())
                .unwrap_or(0);
            read_exact(&mut reader, length)
        };
        let Some(body) = body else { return };
        let content_type = header("content-type").unwrap_or("").to_owned();
        let events = crate::deliver::transport::otlp_read::events_in(&content_type, &body)
            .unwrap_or_default();
        let answer = shared.next_answer();
        let status = answer.status();
        shared.record(Request {
            path,
            headers: headers.clone(),
            body,
            at: SystemTime::now(),
            status,
            events,
        });
        let protobuf = content_type.contains("protobuf");
        let response = match answer {
            Answer::BlackHole => {
                // Reads, never answers: until the collector is dropped.
                while shared.sleep(Duration::from_secs(1)) {}
                return;
            }
            Answer::Delay(ms) => {
                if !shared.sleep(Duration::from_millis(ms)) {
                    return;
                }
                response(200, &[], empty_body(protobuf), protobuf)
            }
            Answer::Status(code) => response(code, &[], empty_body(protobuf), protobuf),
            Answer::RetryAfter(secs) => response(
                429,
                &[("Retry-After".to_owned(), secs.to_string())],
                empty_body(protobuf),
                protobuf,
            ),
            Answer::PartialSuccess { rejected, message } => response(
                200,
                &[],
                partial_success(rejected, &message, protobuf),
                protobuf,
            ),
            Answer::Raw {
                status,
                headers,
                body,
            } => response(status, &headers, body, protobuf),
        };
        if writer.write_all(&response).is_err() || writer.flush().is_err() {
            return;
        }
    }
}

fn empty_body(protobuf: bool) -> Vec<u8> {
    if protobuf {
        Vec::new()
    } else {
        b"{}".to_vec()
    }
}

/// `ExportTraceServiceResponse { partial_success { rejected_spans, error_message } }` in
/// the request's protocol.
fn partial_success(rejected: u64, message: &str, protobuf: bool) -> Vec<u8> {
    if !protobuf {
        let json = serde_json::json!({
            "partialSuccess": { "rejectedSpans": rejected.to_string(), "errorMessage": message }
        });
        return json.to_string().into_bytes();
    }
    fn varint(out: &mut Vec<u8>, mut v: u64) {
        while v >= 0x80 {
            out.push((v as u8) | 0x80);
            v >>= 7;
        }
        out.push(v as u8);
    }
    let mut inner = Vec::new();
    inner.push(0x08); // rejected_spans = 1, varint
    varint(&mut inner, rejected);
    inner.push(0x12); // error_message = 2, length-delimited
    varint(&mut inner, message.len() as u64);
    inner.extend_from_slice(message.as_bytes());
    let mut out = vec![0x0a]; // partial_success = 1, length-delimited
    varint(&mut out, inner.len() as u64);
    out.extend(inner);
    out
}

fn response(status: u16, headers: &[(String, String)], body: Vec<u8>, protobuf: bool) -> Vec<u8> {
    let mut head = format!("HTTP/1.1 {status} Collector\r\n");
    if !headers
        .iter()
        .any(|(n, _)| n.eq_ignore_ascii_case("content-type"))
    {
        let content_type = if protobuf {
            "application/x-protobuf"
        } else {
            "application/json"
        };
        head.push_str(&format!("Content-Type: {content_type}\r\n"));
    }
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str(&format!("Content-Length: {}\r\n\r\n", body.len()));
    let mut bytes = head.into_bytes();
    bytes.extend(body);
    bytes
}

/// A request head: (path, headers with lower-cased names); `None` at the end of the
/// connection or on a head that is not HTTP.
fn read_head(reader: &mut impl BufRead) -> Option<(String, Vec<(String, String)>)> {
    let mut budget = MAX_HEAD;
    let request_line = read_line(reader, &mut budget)?;
    let path = request_line.split_whitespace().nth(1)?.to_owned();
    let mut headers = Vec::new();
    loop {
        let line = read_line(reader, &mut budget)?;
        if line.is_empty() {
            return Some((path, headers));
        }
        if let Some((name, value)) = line.split_once(':') {
            headers.push((name.trim().to_ascii_lowercase(), value.trim().to_owned()));
        }
    }
}

fn read_line(reader: &mut impl BufRead, budget: &mut usize) -> Option<String> {
    let mut line = Vec::new();
    let n = Read::take(&mut *reader, *budget as u64)
        .read_until(b'\n', &mut line)
        .ok()?;
    if n == 0 || line.last() != Some(&b'\n') {
        return None;
    }
    *budget -= n;
    Some(String::from_utf8_lossy(&line).trim_end().to_owned())
}

fn read_exact(reader: &mut impl Read, length: usize) -> Option<Vec<u8>> {
    if length > MAX_BODY {
        return None;
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    Some(body)
}

fn read_chunked(reader: &mut impl BufRead) -> Option<Vec<u8>> {
    let mut body = Vec::new();
    loop {
        let mut budget = MAX_HEAD;
        let size_line = read_line(reader, &mut budget)?;
        let size = usize::from_str_radix(size_line.split(';').next()?.trim(), 16).ok()?;
        if size == 0 {
            // Trailers, then the blank line.
            while !read_line(reader, &mut budget)?.is_empty() {}
            return Some(body);
        }
        if body.len() + size > MAX_BODY {
            return None;
        }
        body.extend(read_exact(reader, size)?);
        read_line(reader, &mut budget)?;
    }
}
