//! The `reqwest` transport (cargo feature `reqwest`): for applications that already have
//! reqwest, so that telemetry adds no second HTTP and TLS stack.
//!
//! - **TLS is the application's choice.** The library depends on reqwest without default
//!   features; the application's own reqwest features decide the backend (rustls with its
//!   platform verifier, or native-tls). Both read the system's trust store and honour
//!   `SSL_CERT_FILE` / `SSL_CERT_DIR` on Linux. An application using `rustls-no-provider`
//!   must install its crypto provider before `Telemetry::install()`, as for its own clients;
//!   if it does not, reqwest panics building the client, and the library catches that
//!   silently and logs `TLS set-up failed: no crypto provider installed`.
//! - **Proxies, headers, protocol** are the library's, decided exactly as for the built-in
//!   transport: reqwest's own reading of the proxy variables is switched off and the proxy
//!   that [`super::proxy::proxy_for`] chose (if any) is set explicitly; redirects, retries
//!   and HTTP/2 are off (one POST, one status: SPEC S-8).
//! - **Threads and the deadline.** The async client runs on a current-thread tokio runtime
//!   that the library owns: built lazily on a sender thread (never the handler's), driven
//!   by the sender's request threads, and never dropped — dropping a runtime waits for
//!   name lookups still in flight, the trap SPEC S-9 names. reqwest's blocking client is
//!   not used for the same reason: dropping it joins its runtime thread.
//! - **Nothing in the application's log.** reqwest logs every new connection at debug
//!   level and hyper-util emits `tracing` events; see [`super::quiet`] for how a request is
//!   held back (and its events spooled) when the application would keep those records.

use std::mem::ManuallyDrop;
use std::sync::OnceLock;
use std::time::Duration;

use super::endpoint::{with_url_credentials, HttpUrl};
use super::quiet;
use super::request::{Outcome, Request, Transport};
use super::response;

/// Bytes of a response body read at most; beyond that the connection is dropped.
const MAX_RESPONSE: usize = 1 << 20;

/// `log` targets of the records a request may produce besides rustls's
/// ([`quiet::RUSTLS_TARGETS`]): reqwest's own, the platform verifier's, and hyper-util's
/// (when `tracing` forwards to `log`).
const LOG_TARGETS: &[&str] = &[
    "reqwest::connect",
    "reqwest::retry",
    "rustls_platform_verifier::verification::others",
    "hyper_util::client::legacy::connect::http",
    "hyper_util::client::legacy::pool",
];

pub(crate) struct ReqwestTransport {
    url: String,
    proxy: Option<HttpUrl>,
    headers: Vec<(String, String)>,
    timeout: Duration,
    client: OnceLock<Result<Client, &'static str>>,
}

struct Client {
    runtime: ManuallyDrop<tokio::runtime::Runtime>,
    client: reqwest::Client,
}

impl ReqwestTransport {
    pub(crate) fn new(
        endpoint: HttpUrl,
        proxy: Option<HttpUrl>,
        headers: Vec<(String, String)>,
        timeout: Duration,
    ) -> ReqwestTransport {
        ReqwestTransport {
            url: format!(
                "{}://{}{}",
                endpoint.scheme.as_str(),
                endpoint.authority(false),
                endpoint.target
            ),
            headers: with_url_credentials(&endpoint, headers),
            proxy,
            timeout: timeout.max(Duration::from_millis(1)),
            client: OnceLock::new(),
        }
    }

    fn build(&self) -> Result<Client, &'static str> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|_| "HTTP client set-up failed")?;
        let mut builder = reqwest::Client::builder()
            .no_proxy()
            .redirect(reqwest::redirect::Policy::none())
            .retry(reqwest::retry::never())
            .http1_only()
            .pool_max_idle_per_host(1)
            .connect_timeout(self.timeout)
            .timeout(self.timeout);
        if let Some(proxy) = &self.proxy {
            let url = format!("http://{}", proxy.authority(true));
            let mut p = reqwest::Proxy::all(url).map_err(|_| "proxy URL is not valid")?;
            if let Some((user, pass)) = &proxy.credentials {
                p = p.basic_auth(user, pass);
            }
            builder = builder.proxy(p);
        }
        // reqwest panics when its TLS back end cannot start (`rustls-no-provider` and no
        // crypto provider installed): caught, and kept off stderr.
        let client = without_panic_output(|| builder.build())
            .ok_or("TLS set-up failed: no crypto provider installed")?
            .map_err(|_| "TLS set-up failed")?;
        Ok(Client {
            runtime: ManuallyDrop::new(runtime),
            client,
        })
    }

    async fn exchange(
        client: &reqwest::Client,
        request: reqwest::Request,
        content_type: &str,
    ) -> Outcome {
        let mut response = match client.execute(request).await {
            Ok(response) => response,
            Err(err) => return Outcome::Failed(phrase(&err)),
        };
        let status = response.status().as_u16();
        let retry_after = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .map(|v| v.chars().take(64).collect::<String>());
        // Read the body so that the connection can carry the next request (P-6); a 2xx
        // body's first bytes may report a partial success (SPEC S-21).
        let wanted = if (200..300).contains(&status) {
            response::MAX_BODY
        } else {
            0
        };
        let mut body = Vec::new();
        let mut read = 0;
        while let Ok(Some(chunk)) = response.chunk().await {
            read += chunk.len();
            let room = wanted.saturating_sub(body.len()).min(chunk.len());
            body.extend_from_slice(&chunk[..room]);
            if read > MAX_RESPONSE {
                break;
            }
        }
        response::outcome(
            status,
            retry_after.as_deref(),
            &body,
            content_type,
            std::time::SystemTime::now(),
        )
    }
}

impl Transport for ReqwestTransport {
    fn send(&self, request: &Request<'_>) -> Outcome {
        if would_be_heard() {
            return Outcome::Failed(quiet::HELD_BACK.into());
        }
        let client = match self.client.get_or_init(|| self.build()) {
            Ok(client) => client,
            Err(why) => return Outcome::Failed((*why).into()),
        };
        let request_content_type = request.content_type;
        let mut builder = client
            .client
            .post(&self.url)
            .header("content-type", request.content_type)
            .body(request.body.to_vec());
        for (name, value) in &self.headers {
            builder = builder.header(name.as_str(), value.as_str());
        }
        let request = match builder.build() {
            Ok(request) => request,
            Err(_) => return Outcome::Failed("request could not be built".into()),
        };
        let exchange = Self::exchange(&client.client, request, request_content_type);
        // reqwest's own timeout covers connect, TLS, request and response; this one also
        // covers a name lookup that never returns.
        let bounded = async {
            tokio::time::timeout(self.timeout, exchange)
                .await
                .unwrap_or_else(|_| Outcome::Failed("timeout".into()))
        };
        client.runtime.block_on(bounded)
    }
}

thread_local! {
    /// Set while this thread runs code whose panic the library catches and reports itself.
    static SILENT: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Runs `f`, catching a panic and keeping its message off stderr. The first call wraps the
/// process's panic hook (once) so that it stays silent for this thread while `f` runs and
/// calls the previous hook for every other panic, as before. With `panic = "abort"` a
/// panic cannot be caught: the process aborts as it would in the application's own client.
fn without_panic_output<T>(f: impl FnOnce() -> T) -> Option<T> {
    static WRAPPED: std::sync::Once = std::sync::Once::new();
    WRAPPED.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !SILENT.with(std::cell::Cell::get) {
                previous(info);
            }
        }));
    });
    SILENT.with(|s| s.set(true));
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
    SILENT.with(|s| s.set(false));
    result.ok()
}

/// Whether the application would keep a record of this request (SPEC R-1, [`quiet`]).
fn would_be_heard() -> bool {
    quiet::log_would_keep(LOG_TARGETS)
        || quiet::log_would_keep(quiet::RUSTLS_TARGETS)
        || tracing::enabled!(
            target: "hyper_util::client::legacy::connect::http",
            tracing::Level::DEBUG
        )
        || tracing::enabled!(target: "hyper_util::client::legacy::pool", tracing::Level::DEBUG)
        || tracing::enabled!(
            target: "hyper_util::client::legacy::client",
            tracing::Level::DEBUG
        )
}

/// A fixed phrase for a failed request (never the URL, a host or a server's message): the
/// same phrases as the built-in transport's where the error says enough.
fn phrase(err: &reqwest::Error) -> String {
    if err.is_timeout() {
        return "timeout".into();
    }
    let mut chain = String::new();
    let mut io_kind = None;
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(e) = source {
        chain.push_str(&e.to_string());
        chain.push('\n');
        if let Some(io) = e.downcast_ref::<std::io::Error>() {
            io_kind.get_or_insert(io.kind());
        }
        source = e.source();
    }
    classify(&chain, io_kind)
}

/// The phrase for an error chain's text and the first I/O error kind in it.
fn classify(chain: &str, io_kind: Option<std::io::ErrorKind>) -> String {
    use std::io::ErrorKind;
    let has = |s: &str| chain.contains(s);
    let tls = if has("certificate not valid for name") || has("NotValidForName") {
        Some("TLS certificate name mismatch")
    } else if has("certificate expired") || has("Expired") {
        Some("TLS certificate expired")
    } else if has("certificate not valid yet") || has("NotValidYet") {
        Some("TLS certificate not yet valid")
    } else if has("invalid peer certificate") || has("certificate verify failed") {
        Some("TLS certificate not trusted")
    } else if has("handshake") || has("TLS") || has("tls") {
        Some("TLS handshake failed")
    } else {
        None
    };
    if let Some(tls) = tls {
        return tls.into();
    }
    if has("scheme is not http") {
        return "https needs a TLS feature of the application's reqwest".into();
    }
    if has("proxy authorization required") {
        return "proxy refused the tunnel (HTTP 407)".into();
    }
    if has("tunnel error: unsuccessful") {
        return "proxy refused the tunnel".into();
    }
    let prefix = if has("tunnel error") { "proxy: " } else { "" };
    let what = match io_kind {
        Some(ErrorKind::ConnectionRefused) => "connection refused",
        Some(ErrorKind::ConnectionReset | ErrorKind::ConnectionAborted | ErrorKind::BrokenPipe) => {
            "connection reset"
        }
        Some(ErrorKind::TimedOut) => "timeout",
        Some(ErrorKind::UnexpectedEof) => "connection closed by the endpoint",
        _ if has("dns error") || has("failed to lookup address") => "name resolution failed",
        _ if has("connection closed") || has("IncompleteMessage") => {
            "connection closed by the endpoint"
        }
        _ => "connection failed",
    };
    format!("{prefix}{what}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::ErrorKind;

    #[test]
    fn phrases() {
        let cases = [
            ("error sending request\nclient error (Connect)\ninvalid peer certificate: UnknownIssuer\n", None, "TLS certificate not trusted"),
            ("x\ninvalid peer certificate: certificate not valid for name \"localhost\"; certificate is only valid for other.test\n", None, "TLS certificate name mismatch"),
            ("x\ninvalid peer certificate: certificate expired: verification time 1 (UNIX), but certificate is not valid after 0 (1 seconds ago)\n", None, "TLS certificate expired"),
            ("x\nerror:0A000086:SSL routines::certificate verify failed\n", None, "TLS certificate not trusted"),
            ("x\ntunnel error: proxy authorization required\n", None, "proxy refused the tunnel (HTTP 407)"),
            ("x\ntunnel error: unsuccessful\n", None, "proxy refused the tunnel"),
            ("x\ntunnel error: failed to create underlying connection\nConnection refused (os error 111)\n", Some(ErrorKind::ConnectionRefused), "proxy: connection refused"),
            ("x\nConnection refused (os error 111)\n", Some(ErrorKind::ConnectionRefused), "connection refused"),
            ("x\ndns error\nfailed to lookup address information\n", None, "name resolution failed"),
            ("x\nconnection closed before message completed\n", None, "connection closed by the endpoint"),
            ("builder error\ninvalid URL, scheme is not http\n", None, "https needs a TLS feature of the application's reqwest"),
            ("x\n", None, "connection failed"),
        ];
        for (chain, kind, want) in cases {
            assert_eq!(classify(chain, kind), want, "{chain}");
        }
    }

    #[test]
    fn no_phrase_carries_the_host() {
        let chain =
            "x\ninvalid peer certificate: certificate not valid for name \"secret.example\"\n";
        assert!(!classify(chain, None).contains("secret"));
    }
}
