//! HTTP delivery of one OTLP/HTTP JSON request (SPEC S-8): reqwest's blocking client,
//! rustls on *ring* with the compiled-in webpki roots (no system certificate files are
//! read), no retries, no redirects. Built lazily on the sender thread, never on the
//! handler's thread, and never dropped (dropping a blocking client waits for its runtime).

use std::sync::Arc;
use std::time::Duration;

use reqwest::Url;

/// What became of one request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// 2xx.
    Delivered(u16),
    /// Any other status.
    Rejected(u16),
    /// No response: the reason, as a fixed phrase (never the URL or a server message).
    Failed(String),
}

/// The endpoint to POST to: `http` or `https` only; a URL without a scheme gets `https://`.
pub(crate) fn endpoint_url(raw: &str) -> Result<Url, &'static str> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Err("no endpoint configured");
    }
    let with_scheme = if raw.contains("://") {
        raw.to_owned()
    } else {
        format!("https://{raw}")
    };
    let url = Url::parse(&with_scheme).map_err(|_| "endpoint URL is malformed")?;
    match url.scheme() {
        "http" | "https" if url.host_str().is_some_and(|h| !h.is_empty()) => Ok(url),
        "http" | "https" => Err("endpoint URL has no host"),
        _ => Err("endpoint URL scheme is not http or https"),
    }
}

pub(crate) struct Transport {
    client: reqwest::blocking::Client,
    url: Url,
}

impl Transport {
    pub(crate) fn new(url: Url, timeout: Duration) -> Result<Arc<Transport>, &'static str> {
        // A zero timeout would mean "none" to some layers: keep it tiny instead.
        let timeout = timeout.max(Duration::from_millis(1));
        let tls = tls_config(url.scheme() == "https").ok_or("TLS could not be configured")?;
        let client = reqwest::blocking::Client::builder()
            .tls_backend_preconfigured(tls)
            .timeout(timeout)
            .connect_timeout(timeout)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("cli-telemetry/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|_| "HTTP client could not be built")?;
        Ok(Arc::new(Transport { client, url }))
    }

    pub(crate) fn send(&self, body: Vec<u8>) -> Outcome {
        let result = self
            .client
            .post(self.url.clone())
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body)
            .send();
        match result {
            Ok(response) => {
                let status = response.status().as_u16();
                if response.status().is_success() {
                    Outcome::Delivered(status)
                } else {
                    Outcome::Rejected(status)
                }
            }
            Err(err) => Outcome::Failed(failure_kind(&err)),
        }
    }
}

/// rustls on *ring*. Roots only for https: for a plain-http endpoint nothing is loaded.
fn tls_config(https: bool) -> Option<rustls::ClientConfig> {
    let mut roots = rustls::RootCertStore::empty();
    if https {
        roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .ok()?;
    Some(builder.with_root_certificates(roots).with_no_client_auth())
}

/// A fixed phrase for a failed request. reqwest's own messages contain the URL, which
/// may carry credentials: they are never logged.
fn failure_kind(err: &reqwest::Error) -> String {
    if err.is_timeout() {
        return "timeout".into();
    }
    let mut source: Option<&(dyn std::error::Error + 'static)> = std::error::Error::source(err);
    let mut dns = false;
    let mut io_kind = None;
    let mut tls = false;
    while let Some(e) = source {
        if let Some(io) = e.downcast_ref::<std::io::Error>() {
            io_kind.get_or_insert(io.kind());
        }
        if e.downcast_ref::<rustls::Error>().is_some() {
            tls = true;
        }
        // hyper-util's connect errors say "dns error" / "tcp connect error": fixed texts.
        if e.to_string().starts_with("dns error") {
            dns = true;
        }
        source = e.source();
    }
    if dns {
        "name resolution failed".into()
    } else if tls {
        "TLS handshake failed".into()
    } else if let Some(kind) = io_kind {
        match kind {
            std::io::ErrorKind::ConnectionRefused => "connection refused".into(),
            std::io::ErrorKind::ConnectionReset => "connection reset".into(),
            std::io::ErrorKind::TimedOut => "timeout".into(),
            other => format!("connection error ({other:?})"),
        }
    } else if err.is_connect() {
        "connection failed".into()
    } else if err.is_body() || err.is_decode() {
        "response could not be read".into()
    } else {
        "request failed".into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoint_urls() {
        assert_eq!(
            endpoint_url("http://127.0.0.1:4318/v1/traces")
                .unwrap()
                .as_str(),
            "http://127.0.0.1:4318/v1/traces"
        );
        assert_eq!(
            endpoint_url("telemetry.example.com/v1/traces")
                .unwrap()
                .scheme(),
            "https"
        );
        assert_eq!(endpoint_url(""), Err("no endpoint configured"));
        assert_eq!(endpoint_url("http://"), Err("endpoint URL is malformed"));
        assert_eq!(
            endpoint_url("ftp://host/x"),
            Err("endpoint URL scheme is not http or https")
        );
        assert_eq!(
            endpoint_url("file:///etc/passwd"),
            Err("endpoint URL scheme is not http or https")
        );
        assert_eq!(
            endpoint_url("http://exa mple.com/"),
            Err("endpoint URL is malformed")
        );
    }

    #[test]
    fn refused_connection_is_reported_without_the_url() {
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        let url = endpoint_url(&format!("http://user:token@127.0.0.1:{port}/v1/traces")).unwrap();
        let t = Transport::new(url, Duration::from_secs(2)).unwrap();
        match t.send(b"{}".to_vec()) {
            Outcome::Failed(why) => {
                assert_eq!(why, "connection refused");
                assert!(!why.contains("token"));
            }
            other => panic!("{other:?}"),
        }
    }
}
