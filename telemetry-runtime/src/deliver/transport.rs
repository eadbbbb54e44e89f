//! The one small trait every transport implements, and the choice of transport from the
//! settings and the cargo features:
//!
//! - `reqwest` (when compiled in, it is used): [`super::via_reqwest::ReqwestTransport`],
//!   the application's reqwest and TLS back end;
//! - `builtin-http` (default): [`super::http::HttpTransport`], an own HTTP/1.1 exchange over
//!   std's `TcpStream`, rustls on ring for https.
//!
//! A transport never logs, never retries, and says what became of a request as an
//! [`Outcome`].

use std::sync::Arc;
use std::time::Duration;

use super::endpoint::parse_endpoint;
use super::proxy::proxy_for;
use crate::config::{Env, Settings};

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

/// One request: an encoded `ExportTraceServiceRequest`.
pub(crate) struct Request<'a> {
    pub content_type: &'static str,
    pub body: &'a [u8],
}

/// Sends requests to the endpoint. Blocking; called on short-lived sender threads only.
pub(crate) trait Transport: Send + Sync {
    /// Sends one request within the transport's timeout.
    fn send(&self, request: &Request<'_>) -> Outcome;
}

/// The transport for these settings: endpoint, proxy (from `env`), headers, timeout.
/// `Err` is the fixed phrase every event of the run then fails with.
pub(crate) fn build(
    settings: &Settings,
    env: &dyn Env,
    timeout: Duration,
) -> Result<Arc<dyn Transport>, &'static str> {
    let endpoint = parse_endpoint(&settings.endpoint)?;
    let proxy = proxy_for(&endpoint, env)?;
    let headers = settings.headers.clone();
    #[cfg(feature = "reqwest")]
    return Ok(Arc::new(super::via_reqwest::ReqwestTransport::new(
        endpoint, proxy, headers, timeout,
    )));
    #[cfg(not(feature = "reqwest"))]
    return Ok(Arc::new(super::http::HttpTransport::new(
        endpoint, proxy, headers, timeout,
    )));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Telemetry;

    #[test]
    fn refused_connection_is_reported_without_the_url() {
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        let app = Telemetry::builder("t")
            .endpoint(format!("http://user:token@127.0.0.1:{port}/v1/traces"))
            .app;
        let settings = Settings::from_env(&app, &[("T_TELEMETRY", "1")]);
        let t = build(&settings, &[], Duration::from_secs(2)).unwrap();
        match t.send(&Request {
            content_type: "application/json",
            body: b"{}",
        }) {
            Outcome::Failed(why) => {
                assert_eq!(why, "connection refused");
                assert!(!why.contains("token"));
            }
            other => panic!("{other:?}"),
        }
    }
}
