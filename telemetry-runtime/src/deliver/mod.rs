//! Delivery: everything between a complete event and its fate.
//!
//! - [`sender`]: the background thread started at install; completes envelopes off the
//!   handler's thread, batches, sends each batch on a short-lived thread, and gives the
//!   process one deadline for all its flushes (SPEC S-9).
//! - [`transport`]: the small trait every transport implements; [`transport_for`] (here)
//!   chooses one by cargo feature: `http` is the default transport (cargo feature `builtin-http`: own HTTP/1.1 exchange,
//!   no `log` records of its own), with `tls` (rustls, system trust store / `SSL_CERT_FILE`);
//!   `via_reqwest` is the `reqwest` feature's; both use [`proxy`] (`HTTPS_PROXY`,
//!   `NO_PROXY`, …), [`endpoint`] (URL parsing with fixed error phrases) and `quiet` (a
//!   request is held back when the application would log the transport's records, R-1).
//! - [`otlp`]: events as spans, encoded as OTLP/HTTP JSON or protobuf (SPEC S-8, S-17).
//! - [`spool`]: undelivered events kept for a later run (SPEC S-13).
//! - [`logfile`]: the user's log file of events and their fates (SPEC S-10).
//!
//! The rest of the runtime sees three doorways: `Sender` (emit, flush), `Spool::delete`
//! (switching off) and the log file's `diagnostic` lines; status reads `endpoint` and
//! `proxy` to say where events would go.

pub(crate) mod detached;
pub(crate) mod endpoint;
mod fates;
mod handoff;
mod hold;
// With both transports compiled (docs.rs, or features unified across a dependency tree)
// reqwest is used and the built-in one is unused, not wrong.
#[cfg(feature = "builtin-http")]
#[cfg_attr(feature = "reqwest", allow(dead_code))]
pub(crate) mod http;
mod locks;
pub(crate) mod logfile;
pub(crate) mod otlp;
pub(crate) mod proxy;
pub(crate) mod queue;
pub(crate) mod quiet;
pub(crate) mod response;
pub(crate) mod sender;
mod shared;
mod spawn;
#[cfg(feature = "builtin-http")]
#[cfg_attr(feature = "reqwest", allow(dead_code))]
pub(crate) mod tls;
pub(crate) mod transport;
#[cfg(feature = "reqwest")]
pub(crate) mod via_reqwest;
mod worker;

use std::sync::Arc;
use std::time::Duration;

use crate::config::{Env, Settings};
use endpoint::parse_endpoint;
use proxy::proxy_for;
use transport::Transport;

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
    return Ok(Arc::new(via_reqwest::ReqwestTransport::new(
        endpoint, proxy, headers, timeout,
    )));
    #[cfg(not(feature = "reqwest"))]
    return Ok(Arc::new(http::HttpTransport::new(
        endpoint, proxy, headers, timeout,
    )));
}

#[cfg(test)]
mod tests {
    use super::transport::{Outcome, Request};
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
