//! The HTTP/1.1 exchange of the default transport: one `POST` per request over a plain or
//! TLS (rustls) connection, directly or through an http:// proxy (absolute-form for http
//! endpoints, `CONNECT` for https ones), keeping one connection alive between requests so
//! that CommandExited reuses the connection CommandStarted opened (SPEC P-6).
//!
//! Why not an HTTP crate: the ones that fit (ureq, reqwest, hyper) log every request through
//! the `log` facade or `tracing`, which an application that installs a logger would see
//! the exchange the library needs — one POST, a status code, a body to skip — is
//! small enough to own, and owning it drops ~15 crates (ARCHITECTURE.md, README). rustls
//! logs handshakes when some crate enables its `logging` feature: an https request is held
//! back when the application would keep those records (`super::quiet`).
//!
//! No retries: a request fails with one fixed phrase (never the URL or a server message).
//! The one exception is a kept-alive connection that the server closed while idle: the
//! request is then sent on a fresh connection, as every HTTP client does.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use rustls::pki_types::ServerName;
use rustls::{ClientConfig, ClientConnection, StreamOwned};

use super::endpoint::{basic_auth, with_url_credentials, HttpUrl, Scheme};
use super::request::{Outcome, Request, Transport};
use super::{quiet, response, tls};

/// Bytes of a response head or body read at most; beyond that the connection is dropped.
const MAX_RESPONSE: usize = 1 << 20;

pub(crate) struct HttpTransport {
    endpoint: HttpUrl,
    proxy: Option<HttpUrl>,
    /// Extra request headers: `User-Agent`, the app's, the user's, `Authorization` from the
    /// URL.
    headers: Vec<(String, String)>,
    timeout: Duration,
    tls: OnceLock<Result<Arc<ClientConfig>, &'static str>>,
    idle: Mutex<Option<Conn>>,
}

enum Stream {
    Plain(TcpStream),
    Tls(Box<StreamOwned<ClientConnection, TcpStream>>),
}

impl Stream {
    fn tcp(&self) -> &TcpStream {
        match self {
            Stream::Plain(s) => s,
            Stream::Tls(s) => &s.sock,
        }
    }
}

impl Read for Stream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Stream::Plain(s) => s.read(buf),
            Stream::Tls(s) => s.read(buf),
        }
    }
}

impl Write for Stream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Stream::Plain(s) => s.write(buf),
            Stream::Tls(s) => s.write(buf),
        }
    }
    fn flush(&mut self) -> io::Result<()> {
        match self {
            Stream::Plain(s) => s.flush(),
            Stream::Tls(s) => s.flush(),
        }
    }
}

type Conn = BufReader<Stream>;

/// Why an exchange failed.
enum Failure {
    /// A reused connection failed before any response: send again on a fresh one.
    Stale,
    Failed(String),
}

impl HttpTransport {
    pub(crate) fn new(
        endpoint: HttpUrl,
        proxy: Option<HttpUrl>,
        headers: Vec<(String, String)>,
        timeout: Duration,
    ) -> HttpTransport {
        HttpTransport {
            headers: with_url_credentials(&endpoint, headers),
            endpoint,
            proxy,
            // A zero timeout would mean "none" to the socket layer: keep it tiny instead.
            timeout: timeout.max(Duration::from_millis(1)),
            tls: OnceLock::new(),
            idle: Mutex::new(None),
        }
    }

    fn take_idle(&self) -> Option<Conn> {
        self.idle.lock().unwrap_or_else(|p| p.into_inner()).take()
    }

    fn put_idle(&self, conn: Conn) {
        *self.idle.lock().unwrap_or_else(|p| p.into_inner()) = Some(conn);
    }

    /// A new connection to the endpoint (through the proxy, TLS set up for https).
    fn connect(&self, deadline: Instant) -> Result<Conn, String> {
        let via = self.proxy.as_ref();
        let (host, port) = match via {
            Some(p) => (p.host.as_str(), p.port),
            None => (self.endpoint.host.as_str(), self.endpoint.port),
        };
        let prefix = if via.is_some() { "proxy: " } else { "" };
        let tcp = connect_tcp(host, port, deadline).map_err(|e| format!("{prefix}{e}"))?;
        if self.endpoint.scheme == Scheme::Http {
            return Ok(BufReader::new(Stream::Plain(tcp)));
        }
        let tcp = match via {
            Some(proxy) => self.tunnel(tcp, proxy, deadline)?,
            None => tcp,
        };
        let config = self.tls.get_or_init(tls::client_config).clone()?;
        let name = ServerName::try_from(self.endpoint.host.clone())
            .map_err(|_| "endpoint host is not a valid TLS server name".to_owned())?;
        let conn =
            ClientConnection::new(config, name).map_err(|_| "TLS set-up failed".to_owned())?;
        let mut stream = StreamOwned::new(conn, tcp);
        set_timeouts(&stream.sock, deadline)?;
        while stream.conn.is_handshaking() {
            stream
                .conn
                .complete_io(&mut stream.sock)
                .map_err(|e| io_phrase(&e))?;
        }
        Ok(BufReader::new(Stream::Tls(Box::new(stream))))
    }

    /// `CONNECT host:port` through the proxy; the tunnel's TCP stream on success.
    fn tunnel(
        &self,
        tcp: TcpStream,
        proxy: &HttpUrl,
        deadline: Instant,
    ) -> Result<TcpStream, String> {
        set_timeouts(&tcp, deadline)?;
        let target = self.endpoint.authority(true);
        let mut head = format!("CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n");
        if let Some((user, pass)) = &proxy.credentials {
            head.push_str(&format!(
                "Proxy-Authorization: {}\r\n",
                basic_auth(user, pass)
            ));
        }
        head.push_str("\r\n");
        let mut reader = BufReader::new(Stream::Plain(tcp));
        reader
            .get_mut()
            .write_all(head.as_bytes())
            .map_err(|e| format!("proxy: {}", io_phrase(&e)))?;
        let response = read_head(&mut reader).map_err(|e| format!("proxy: {}", io_phrase(&e)))?;
        if !(200..300).contains(&response.status) {
            return Err(format!(
                "proxy refused the tunnel (HTTP {})",
                response.status
            ));
        }
        if !reader.buffer().is_empty() {
            return Err("proxy: unexpected data after CONNECT".into());
        }
        match reader.into_inner() {
            Stream::Plain(tcp) => Ok(tcp),
            Stream::Tls(_) => Err("proxy: unexpected stream".into()),
        }
    }

    /// Sends the request on `conn`; returns the response and whether `conn` may be reused.
    fn exchange(
        &self,
        conn: &mut Conn,
        request: &Request<'_>,
        deadline: Instant,
        reused: bool,
    ) -> Result<Reply, Failure> {
        let fail = |e: io::Error| {
            if reused {
                Failure::Stale
            } else {
                Failure::Failed(io_phrase(&e))
            }
        };
        set_timeouts(conn.get_ref().tcp(), deadline).map_err(Failure::Failed)?;
        let bytes = self.request_bytes(request);
        conn.get_mut().write_all(&bytes).map_err(fail)?;
        conn.get_mut().flush().map_err(fail)?;
        let head = read_head(conn).map_err(fail)?;
        // A 2xx body may report a partial success (SPEC S-21): its first bytes are kept.
        let wanted = if (200..300).contains(&head.status) {
            response::MAX_BODY
        } else {
            0
        };
        let (keep, body) =
            read_body(conn, &head, wanted).map_err(|e| Failure::Failed(io_phrase(&e)))?;
        Ok(Reply {
            status: head.status,
            keep,
            retry_after: head.retry_after,
            body,
        })
    }

    fn request_bytes(&self, request: &Request<'_>) -> Vec<u8> {
        let via_http_proxy = self.proxy.is_some() && self.endpoint.scheme == Scheme::Http;
        let target = if via_http_proxy {
            format!(
                "http://{}{}",
                self.endpoint.authority(false),
                self.endpoint.target
            )
        } else {
            self.endpoint.target.clone()
        };
        let mut head = format!(
            "POST {target} HTTP/1.1\r\nHost: {}\r\nContent-Type: {}\r\nContent-Length: {}\r\n",
            self.endpoint.authority(false),
            request.content_type,
            request.body.len()
        );
        if via_http_proxy {
            if let Some((user, pass)) = self.proxy.as_ref().and_then(|p| p.credentials.as_ref()) {
                head.push_str(&format!(
                    "Proxy-Authorization: {}\r\n",
                    basic_auth(user, pass)
                ));
            }
        }
        for (name, value) in &self.headers {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        head.push_str("\r\n");
        let mut bytes = head.into_bytes();
        bytes.extend_from_slice(request.body);
        bytes
    }
}

impl Transport for HttpTransport {
    fn send(&self, request: &Request<'_>) -> Outcome {
        if self.endpoint.scheme == Scheme::Https && quiet::log_would_keep(quiet::RUSTLS_TARGETS) {
            return Outcome::Failed(quiet::HELD_BACK.into());
        }
        let deadline = Instant::now() + self.timeout;
        if let Some(mut conn) = self.take_idle() {
            match self.exchange(&mut conn, request, deadline, true) {
                Ok(reply) => return self.finish(conn, reply, request),
                Err(Failure::Failed(why)) => return Outcome::Failed(why),
                Err(Failure::Stale) => {} // closed while idle: a fresh connection below
            }
        }
        let mut conn = match self.connect(deadline) {
            Ok(conn) => conn,
            Err(why) => return Outcome::Failed(why),
        };
        match self.exchange(&mut conn, request, deadline, false) {
            Ok(reply) => self.finish(conn, reply, request),
            Err(Failure::Failed(why)) => Outcome::Failed(why),
            Err(Failure::Stale) => Outcome::Failed("connection closed by the endpoint".into()),
        }
    }
}

impl HttpTransport {
    fn finish(&self, conn: Conn, reply: Reply, request: &Request<'_>) -> Outcome {
        if reply.keep {
            self.put_idle(conn);
        }
        response::outcome(
            reply.status,
            reply.retry_after.as_deref(),
            &reply.body,
            request.content_type,
            std::time::SystemTime::now(),
        )
    }
}

fn set_timeouts(tcp: &TcpStream, deadline: Instant) -> Result<(), String> {
    let left = deadline.saturating_duration_since(Instant::now());
    if left.is_zero() {
        return Err("timeout".into());
    }
    let _ = tcp.set_read_timeout(Some(left));
    let _ = tcp.set_write_timeout(Some(left));
    Ok(())
}

/// Resolves and connects, trying each address in turn until the deadline.
fn connect_tcp(host: &str, port: u16, deadline: Instant) -> Result<TcpStream, String> {
    let addrs: Vec<_> = (host, port)
        .to_socket_addrs()
        .map_err(|_| "name resolution failed".to_owned())?
        .collect();
    if addrs.is_empty() {
        return Err("name resolution failed".into());
    }
    let mut last = None;
    for addr in addrs {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err("timeout".into());
        }
        match TcpStream::connect_timeout(&addr, left) {
            Ok(tcp) => {
                let _ = tcp.set_nodelay(true);
                return Ok(tcp);
            }
            Err(e) => last = Some(e),
        }
    }
    Err(last.map_or_else(|| "connection failed".into(), |e| io_phrase(&e)))
}

/// A fixed phrase for an I/O error (TLS problems get their own).
fn io_phrase(err: &io::Error) -> String {
    if let Some(phrase) = tls::failure_phrase(err) {
        return phrase.into();
    }
    match err.kind() {
        io::ErrorKind::ConnectionRefused => "connection refused".into(),
        io::ErrorKind::ConnectionReset
        | io::ErrorKind::ConnectionAborted
        | io::ErrorKind::BrokenPipe => "connection reset".into(),
        io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock => "timeout".into(),
        io::ErrorKind::UnexpectedEof => "connection closed by the endpoint".into(),
        io::ErrorKind::InvalidData => "invalid HTTP response".into(),
        other => format!("connection error ({other:?})"),
    }
}

struct Head {
    status: u16,
    content_length: Option<usize>,
    chunked: bool,
    close: bool,
    retry_after: Option<String>,
}

/// A response: its status, whether the connection can carry another request, its
/// `Retry-After`, and the first bytes of its body.
struct Reply {
    status: u16,
    keep: bool,
    retry_after: Option<String>,
    body: Vec<u8>,
}

fn invalid(what: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, what.to_owned())
}

/// Reads a response head, skipping 1xx interim responses.
fn read_head(r: &mut impl BufRead) -> io::Result<Head> {
    loop {
        let mut budget = MAX_RESPONSE;
        let line = read_line(r, &mut budget)?;
        let mut parts = line.splitn(3, ' ');
        let version = parts.next().unwrap_or("");
        let status: u16 = parts
            .next()
            .and_then(|s| s.parse().ok())
            .filter(|s| (100..1000).contains(s))
            .ok_or_else(|| invalid("status line"))?;
        if !version.starts_with("HTTP/1.") {
            return Err(invalid("version"));
        }
        let mut head = Head {
            status,
            content_length: None,
            chunked: false,
            close: version == "HTTP/1.0",
            retry_after: None,
        };
        loop {
            let line = read_line(r, &mut budget)?;
            if line.is_empty() {
                break;
            }
            let Some((name, value)) = line.split_once(':') else {
                continue;
            };
            let (name, value) = (name.trim(), value.trim());
            if name.eq_ignore_ascii_case("content-length") {
                head.content_length = Some(value.parse().map_err(|_| invalid("length"))?);
            } else if name.eq_ignore_ascii_case("transfer-encoding") {
                head.chunked = value.to_ascii_lowercase().contains("chunked");
            } else if name.eq_ignore_ascii_case("retry-after") {
                head.retry_after = Some(value.chars().take(64).collect());
            } else if name.eq_ignore_ascii_case("connection") {
                let value = value.to_ascii_lowercase();
                if value.contains("close") {
                    head.close = true;
                } else if value.contains("keep-alive") {
                    head.close = false;
                }
            }
        }
        if (100..200).contains(&status) && status != 101 {
            continue;
        }
        return Ok(head);
    }
}

/// One CRLF- (or LF-) terminated line, without the terminator.
fn read_line(r: &mut impl BufRead, budget: &mut usize) -> io::Result<String> {
    let mut line = Vec::new();
    let n = r.take(*budget as u64).read_until(b'\n', &mut line)?;
    if n == 0 {
        return Err(io::ErrorKind::UnexpectedEof.into());
    }
    *budget = budget.saturating_sub(n);
    if line.last() != Some(&b'\n') {
        return Err(invalid("line too long"));
    }
    while matches!(line.last(), Some(b'\n' | b'\r')) {
        line.pop();
    }
    String::from_utf8(line).map_err(|_| invalid("not UTF-8"))
}

/// Reads the body, keeping its first `wanted` bytes; whether the connection can carry
/// another request, and the bytes kept.
fn read_body(r: &mut impl BufRead, head: &Head, wanted: usize) -> io::Result<(bool, Vec<u8>)> {
    let mut kept = Vec::new();
    if head.status == 204 || head.status == 304 {
        return Ok((!head.close, kept));
    }
    if head.chunked {
        let mut budget = MAX_RESPONSE;
        loop {
            let line = read_line(r, &mut budget)?;
            let size = usize::from_str_radix(line.split(';').next().unwrap_or("").trim(), 16)
                .map_err(|_| invalid("chunk size"))?;
            if size == 0 {
                // Trailers, then the empty line.
                while !read_line(r, &mut budget)?.is_empty() {}
                return Ok((!head.close, kept));
            }
            if size > budget {
                return Ok((false, kept));
            }
            budget -= size;
            take_into(r, size, wanted, &mut kept)?;
            read_line(r, &mut budget)?;
        }
    }
    match head.content_length {
        Some(n) if n <= MAX_RESPONSE => {
            take_into(r, n, wanted, &mut kept)?;
            Ok((!head.close, kept))
        }
        Some(_) => Ok((false, kept)),
        // Delimited by the end of the connection: it can't be reused; its first bytes are
        // read (a partial success) within the usual bound.
        None => {
            r.take(wanted as u64).read_to_end(&mut kept)?;
            Ok((false, kept))
        }
    }
}

/// Reads exactly `n` bytes, appending to `kept` while it holds fewer than `wanted`.
fn take_into(r: &mut impl Read, n: usize, wanted: usize, kept: &mut Vec<u8>) -> io::Result<()> {
    let room = wanted.saturating_sub(kept.len()).min(n);
    let mut head = r.take(room as u64);
    let got = head.read_to_end(kept)?;
    let rest = io::copy(&mut r.take((n - room) as u64), &mut io::sink())? as usize;
    if got + rest == n {
        Ok(())
    } else {
        Err(io::ErrorKind::UnexpectedEof.into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head(text: &str) -> io::Result<(Head, bool)> {
        body(text, 0).map(|(h, keep, _)| (h, keep))
    }

    fn body(text: &str, wanted: usize) -> io::Result<(Head, bool, Vec<u8>)> {
        let mut r = io::Cursor::new(text.as_bytes().to_vec());
        let h = read_head(&mut r)?;
        let (keep, body) = read_body(&mut r, &h, wanted)?;
        Ok((h, keep, body))
    }

    #[test]
    fn bodies_and_retry_after() {
        let (_, keep, b) = body("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", 3).unwrap();
        assert_eq!((keep, &b[..]), (true, &b"hel"[..]));
        let (_, keep, b) = body(
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab\r\n3\r\ncde\r\n0\r\n\r\n",
            4,
        )
        .unwrap();
        assert_eq!((keep, &b[..]), (true, &b"abcd"[..]));
        let (_, keep, b) = body("HTTP/1.0 200 OK\r\n\r\nuntil the end", 100).unwrap();
        assert_eq!((keep, &b[..]), (false, &b"until the end"[..]));
        let (h, _, _) = body(
            "HTTP/1.1 429 X\r\nRetry-After:  120 \r\nContent-Length: 0\r\n\r\n",
            0,
        )
        .unwrap();
        assert_eq!((h.status, h.retry_after.as_deref()), (429, Some("120")));
    }

    #[test]
    fn responses() {
        let (h, keep) = head("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}").unwrap();
        assert_eq!((h.status, keep), (200, true));
        let (h, keep) = head("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 503 X\r\ncontent-length: 0\r\nConnection: close\r\n\r\n").unwrap();
        assert_eq!((h.status, keep), (503, false));
        let (h, keep) =
            head("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n")
                .unwrap();
        assert_eq!((h.status, keep), (200, true));
        let (h, keep) = head("HTTP/1.0 200 OK\r\n\r\nbody").unwrap();
        assert_eq!((h.status, keep), (200, false));
        let (_, keep) = head("HTTP/1.1 204 No Content\r\n\r\n").unwrap();
        assert!(keep);
        for bad in [
            "",
            "garbage\r\n\r\n",
            "HTTP/1.1 abc\r\n\r\n",
            "HTTP/2 200\r\n\r\n",
            "HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n",
            "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort",
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
        ] {
            assert!(head(bad).is_err(), "{bad:?}");
        }
    }
}
