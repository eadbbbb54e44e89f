//! Which transport a run uses ([`transport_for`]: by cargo feature, with the endpoint,
//! proxy, headers and timeout of its settings), and [`send_events`]: encoding a batch and
//! sending it as one request.

use std::sync::Arc;
use std::time::Duration;

use super::endpoint::parse_endpoint;
use super::otlp;
use super::proxy::proxy_for;
use super::request::{Outcome, Request, Transport};
use crate::config::{AppConfig, Env, Settings};
use crate::event::Event;

/// The transport for these settings: endpoint, proxy (from `env`), headers (with the
/// `User-Agent`), timeout; the
/// `reqwest` transport when that feature is compiled in (the application's reqwest and TLS
/// back end), else the built-in one (an own HTTP/1.1 exchange over std's `TcpStream`,
/// rustls on *ring* for https).
/// `Err` is the fixed phrase every event of the run then fails with.
pub(crate) fn transport_for(
    settings: &Settings,
    env: &dyn Env,
    timeout: Duration,
) -> Result<Arc<dyn Transport>, &'static str> {
    let endpoint = parse_endpoint(&settings.endpoint)?;
    let proxy = proxy_for(&endpoint, env)?;
    let mut headers = settings.headers.clone();
    // Who calls (SPEC S-21), unless the person or the app set a User-Agent of their own.
    if !headers
        .iter()
        .any(|(name, _)| name.eq_ignore_ascii_case("user-agent"))
    {
        headers.insert(0, ("User-Agent".to_owned(), settings.user_agent.clone()));
    }
    #[cfg(feature = "reqwest")]
    return Ok(Arc::new(super::via_reqwest::ReqwestTransport::new(
        endpoint, proxy, headers, timeout,
    )));
    #[cfg(not(feature = "reqwest"))]
    return Ok(Arc::new(super::http::HttpTransport::new(
        endpoint, proxy, headers, timeout,
    )));
}

/// Encodes events as one request body, in the protocol of `settings`, and sends it.
pub(crate) fn send_events(
    transport: &dyn Transport,
    settings: &Settings,
    app: &AppConfig,
    wire: &otlp::Wire,
    events: &[&Event],
) -> Outcome {
    let (content_type, body) = otlp::encode(settings.protocol, &app.name, wire, events);
    transport.send(&Request {
        content_type,
        body: &body,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Telemetry;
    use crate::deliver::transport::request::{Outcome, Request};

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
        let t = transport_for(&settings, &[], Duration::from_secs(2)).unwrap();
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
