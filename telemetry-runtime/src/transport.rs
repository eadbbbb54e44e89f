//! HTTP delivery of one OTLP/HTTP JSON request (SPEC S-8): ureq's blocking agent (no async
//! runtime, no extra thread), rustls on *ring* with the compiled-in webpki roots (no system
//! certificate files are read; nothing TLS is set up for an http:// endpoint), no retries,
//! no redirects. Built lazily on the sender thread, never on the handler's thread.

use std::sync::Arc;
use std::time::Duration;

use url::Url;

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
    agent: ureq::Agent,
    url: String,
}

impl Transport {
    pub(crate) fn new(url: Url, timeout: Duration) -> Result<Arc<Transport>, &'static str> {
        // A zero timeout would mean "none" to some layers: keep it tiny instead.
        let timeout = timeout.max(Duration::from_millis(1));
        // ureq: blocking, no runtime thread; rustls on ring with the compiled-in webpki roots,
        // built at the first https connection only (nothing TLS happens for http://).
        let agent = ureq::Agent::config_builder()
            .timeout_global(Some(timeout))
            .http_status_as_error(false)
            .max_redirects(0)
            .user_agent(concat!("cli-telemetry/", env!("CARGO_PKG_VERSION")))
            .build()
            .new_agent();
        Ok(Arc::new(Transport {
            agent,
            url: url.into(),
        }))
    }

    pub(crate) fn send(&self, body: Vec<u8>) -> Outcome {
        match self
            .agent
            .post(&self.url)
            .header("content-type", "application/json")
            .send(&body[..])
        {
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

/// A fixed phrase for a failed request (never the URL, which may carry credentials).
fn failure_kind(err: &ureq::Error) -> String {
    match err {
        ureq::Error::Timeout(_) => "timeout".into(),
        ureq::Error::HostNotFound => "name resolution failed".into(),
        ureq::Error::Tls(_) | ureq::Error::Rustls(_) => "TLS handshake failed".into(),
        ureq::Error::Io(io) => match io.kind() {
            std::io::ErrorKind::ConnectionRefused => "connection refused".into(),
            std::io::ErrorKind::ConnectionReset => "connection reset".into(),
            std::io::ErrorKind::TimedOut => "timeout".into(),
            other => format!("connection error ({other:?})"),
        },
        ureq::Error::ConnectionFailed => "connection failed".into(),
        _ => "request failed".into(),
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
