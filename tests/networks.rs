//! Field-ready delivery (SPEC S-8, R-1, R-2): HTTPS with a private CA trusted the standard
//! way (`SSL_CERT_FILE`), certificate problems named as such, proxies (`HTTPS_PROXY`,
//! `HTTP_PROXY`, `NO_PROXY`, CONNECT, credentials), request headers, and protobuf bodies —
//! all on loopback: an HTTPS receiver with a certificate from a CA this test makes, and a
//! recording proxy this test runs. Every case compares stdout, stderr and exit code with
//! the same command with telemetry off, and runs against both transports: the default
//! build's and the `reqwest` one (the mini-werf built by tests/fixtures/reqwest-app).
#![cfg(feature = "telemetry")]

mod common;

use std::path::{Path, PathBuf};
use std::time::Duration;

use cli_telemetry::testing::Log;
use common::proxy::{Proxy, ProxyMode};
use common::tls::{key_of, Leaf, TestCa};
use common::{example, read_log, transports, Finished, Mode, Receiver, Run};

const ARGS: &[&str] = &["converge", "--repo", "x"];

/// Runs the mini-werf with telemetry on (sending to `url`, logging) and off, with the same
/// extra environment; asserts the same output; returns the run and the log.
fn on_and_off(bin: &Path, url: &str, env: &[(&str, &str)]) -> (Finished, Log, Vec<u8>) {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("t.log");
    let with_env = |mut run: Run| {
        for (k, v) in env {
            run = run.env(k, v);
        }
        run
    };
    let on = with_env(example(bin, ARGS))
        .telemetry(url, &log)
        .env("WERF_TELEMETRY_TIMEOUT_MS", "3000")
        .run();
    let off = with_env(example(bin, ARGS))
        .env("WERF_TELEMETRY", "0")
        .run();
    on.assert_same_as(&off, &format!("{} {url} {env:?}", bin.display()));
    assert_eq!(on.code(), Some(0));
    let bytes = std::fs::read(&log).unwrap_or_default();
    (on, read_log(&log), bytes)
}

fn outcomes(log: &Log) -> Vec<(String, String)> {
    log.diagnostics
        .iter()
        .filter(|d| d.contains_key("event"))
        .map(|d| {
            (
                d["message"].as_str().unwrap_or("").to_owned(),
                d.get("error")
                    .and_then(|e| e.as_str())
                    .unwrap_or("")
                    .to_owned(),
            )
        })
        .collect()
}

fn delivered(log: &Log) -> usize {
    log.diagnostics_containing("event delivered").len()
}

fn errors(log: &Log) -> Vec<String> {
    outcomes(log).into_iter().map(|(_, e)| e).collect()
}

/// The mini-werf of each transport.
fn werfs() -> [(&'static str, PathBuf); 2] {
    transports("werf")
}

fn ca_file(ca: &TestCa) -> String {
    ca.pem_file().display().to_string()
}

#[test]
fn https_with_a_private_ca_trusted_through_ssl_cert_file() {
    for (transport, bin) in werfs() {
        let bin = bin.as_path();
        let ca = TestCa::new();
        let receiver = Receiver::start_tls(Mode::Status(200), ca.server_config(Leaf::Good));
        let (_, log, _) = on_and_off(bin, &receiver.url(), &[("SSL_CERT_FILE", &ca_file(&ca))]);
        assert_eq!(delivered(&log), 2, "{transport}: {:?}", outcomes(&log));
        assert!(!receiver.requests().is_empty());
        // SSL_CERT_DIR works too (a directory of PEM files).
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("test-ca.pem"), ca.pem()).unwrap();
        let (_, log, _) = on_and_off(
            bin,
            &receiver.url(),
            &[("SSL_CERT_DIR", &dir.path().display().to_string())],
        );
        assert_eq!(delivered(&log), 2, "{transport}: {:?}", outcomes(&log));
    }
}

#[test]
fn certificate_problems_are_named() {
    for (transport, bin) in werfs() {
        let bin = bin.as_path();
        let ca = TestCa::new();
        let cases = [
            (Leaf::Good, false, "TLS certificate not trusted"),
            (Leaf::OtherName, true, "TLS certificate name mismatch"),
            (Leaf::Expired, true, "TLS certificate expired"),
        ];
        for (leaf, trusted, phrase) in cases {
            let receiver = Receiver::start_tls(Mode::Status(200), ca.server_config(leaf));
            let env: Vec<(&str, String)> = if trusted {
                vec![("SSL_CERT_FILE", ca_file(&ca))]
            } else {
                vec![] // the system's store, which has no test CA
            };
            let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
            let (_, log, _) = on_and_off(bin, &receiver.url(), &env);
            assert_eq!(
                errors(&log),
                [phrase, phrase],
                "{transport}: {:?}",
                outcomes(&log)
            );
            assert!(receiver.requests().is_empty());
        }
    }
}

#[test]
fn the_built_in_transport_speaks_tls_1_3_unless_the_tls12_feature_adds_1_2() {
    let ca = TestCa::new();
    let receiver = Receiver::start_tls(Mode::Status(200), ca.server_config_tls12_only());
    let trust = ca_file(&ca);
    let env = [("SSL_CERT_FILE", trust.as_str())];
    // The default build: TLS 1.3 only, so a 1.2-only endpoint is a named failure.
    let (_, log, _) = on_and_off(&common::werf_bin(), &receiver.url(), &env);
    assert_eq!(
        errors(&log),
        ["TLS handshake failed", "TLS handshake failed"],
        "{:?}",
        outcomes(&log)
    );
    assert!(receiver.requests().is_empty());
    // The reqwest transport uses the application's TLS configuration, 1.2 included.
    let (_, log, _) = on_and_off(&common::reqwest_app_bin("werf"), &receiver.url(), &env);
    assert_eq!(delivered(&log), 2, "{:?}", outcomes(&log));
}

/// The built-in transport verifies the signatures public certificates use — ECDSA P-256
/// and P-384 (a P-384 issuer signing with SHA-384, as Let's Encrypt's ECDSA intermediates
/// do), RSA (PKCS#1 in the chain, PSS in the TLS 1.3 handshake) — and no Ed25519, which no
/// public certificate may use: an endpoint with only such a key is a named failure.
#[test]
fn the_built_in_transport_verifies_ecdsa_and_rsa_certificates_and_names_ed25519() {
    use rcgen::{PKCS_ECDSA_P256_SHA256 as P256, PKCS_ECDSA_P384_SHA384 as P384};
    use rcgen::{PKCS_ED25519 as ED25519, PKCS_RSA_SHA256 as RSA};
    let werf = common::werf_bin();
    for (issuer, leaf, delivers) in [
        (&P384, &P256, true),
        (&P256, &P384, true),
        (&RSA, &RSA, true),
        (&RSA, &P256, true),
        (&P256, &ED25519, false),
    ] {
        let ca = TestCa::with_key(key_of(issuer));
        let receiver =
            Receiver::start_tls(Mode::Status(200), ca.server_config_with_key(key_of(leaf)));
        let trust = ca_file(&ca);
        let (_, log, _) = on_and_off(&werf, &receiver.url(), &[("SSL_CERT_FILE", &trust)]);
        let case = format!("{issuer:?} issuing {leaf:?}");
        if delivers {
            assert_eq!(delivered(&log), 2, "{case}: {:?}", outcomes(&log));
        } else {
            assert_eq!(
                errors(&log),
                ["TLS handshake failed", "TLS handshake failed"],
                "{case}: {:?}",
                outcomes(&log)
            );
            assert!(receiver.requests().is_empty(), "{case}");
        }
    }
}

#[test]
fn https_through_a_proxy_with_connect_and_credentials() {
    for (transport, bin) in werfs() {
        let bin = bin.as_path();
        let ca = TestCa::new();
        let receiver = Receiver::start_tls(Mode::Status(200), ca.server_config(Leaf::Good));
        let proxy = Proxy::start(ProxyMode::Forward);
        let proxy_url = proxy.url(Some("user:s3cret-proxy-pass"));
        let (_, log, bytes) = on_and_off(
            bin,
            &receiver.url(),
            &[
                ("SSL_CERT_FILE", &ca_file(&ca)),
                ("HTTPS_PROXY", &proxy_url),
            ],
        );
        assert_eq!(delivered(&log), 2, "{transport}: {:?}", outcomes(&log));
        let requests = proxy.requests();
        assert!(!requests.is_empty());
        let port = receiver.port();
        for r in &requests {
            assert_eq!(r.method, "CONNECT");
            assert_eq!(r.target, format!("localhost:{port}"));
            // base64("user:s3cret-proxy-pass")
            assert_eq!(
                r.authorization.as_deref(),
                Some("Basic dXNlcjpzM2NyZXQtcHJveHktcGFzcw==")
            );
        }
        assert_no_secret(&bytes, "s3cret-proxy-pass");

        // NO_PROXY bypasses it.
        let bypassed = Proxy::start(ProxyMode::Forward);
        let (_, log, _) = on_and_off(
            bin,
            &receiver.url(),
            &[
                ("SSL_CERT_FILE", &ca_file(&ca)),
                ("HTTPS_PROXY", &bypassed.url(Some("user:s3cret-proxy-pass"))),
                ("NO_PROXY", "localhost,127.0.0.1"),
            ],
        );
        assert_eq!(delivered(&log), 2, "{transport}: {:?}", outcomes(&log));
        assert!(bypassed.requests().is_empty());
    }
}

#[test]
fn http_through_http_proxy_in_absolute_form_and_not_https_proxy() {
    for (transport, bin) in werfs() {
        let bin = bin.as_path();
        let receiver = Receiver::start(Mode::Status(200));
        let proxy = Proxy::start(ProxyMode::Forward);
        let (_, log, _) = on_and_off(bin, &receiver.url(), &[("http_proxy", &proxy.url(None))]);
        assert_eq!(delivered(&log), 2, "{transport}: {:?}", outcomes(&log));
        let requests = proxy.requests();
        assert!(!requests.is_empty());
        assert!(requests
            .iter()
            .all(|r| r.method == "POST" && r.target == receiver.url()));
        // HTTPS_PROXY is for https endpoints only.
        let unused = Proxy::start(ProxyMode::Forward);
        let (_, log, _) = on_and_off(bin, &receiver.url(), &[("HTTPS_PROXY", &unused.url(None))]);
        assert_eq!(delivered(&log), 2);
        assert!(unused.requests().is_empty());
    }
}

#[test]
fn a_refusing_or_silent_proxy_fails_within_the_deadline() {
    for (transport, bin) in werfs() {
        let bin = bin.as_path();
        let ca = TestCa::new();
        let receiver = Receiver::start_tls(Mode::Status(200), ca.server_config(Leaf::Good));
        let refusing = Proxy::start(ProxyMode::Refuse(407));
        let (_, log, _) = on_and_off(
            bin,
            &receiver.url(),
            &[
                ("SSL_CERT_FILE", &ca_file(&ca)),
                ("HTTPS_PROXY", &refusing.url(None)),
            ],
        );
        assert_eq!(
            errors(&log),
            [
                "proxy refused the tunnel (HTTP 407)",
                "proxy refused the tunnel (HTTP 407)"
            ],
            "{transport}"
        );
        let silent = Proxy::start(ProxyMode::BlackHole);
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("t.log");
        let on = example(bin, ARGS)
            .telemetry(&receiver.url(), &log)
            .env("WERF_TELEMETRY_TIMEOUT_MS", "500")
            .env("SSL_CERT_FILE", ca.pem_file())
            .env("HTTPS_PROXY", silent.url(None))
            .run();
        let off = example(bin, ARGS).env("WERF_TELEMETRY", "0").run();
        on.assert_same_as(&off, "silent proxy");
        assert!(
            on.elapsed < Duration::from_millis(500 + 1000),
            "{:?}",
            on.elapsed
        );
        assert_eq!(
            read_log(&log)
                .diagnostics_containing("left undelivered at the deadline")
                .len(),
            2,
            "{transport}"
        );
    }
}

#[test]
fn headers_arrive_and_their_values_are_never_shown() {
    for (transport, bin) in werfs() {
        let bin = bin.as_path();
        let receiver = Receiver::start(Mode::Status(200));
        let secret = "K-9f2a7c-api-key";
        let headers = format!("x-api-key={secret},x-team=a%20b");
        let (_, log, bytes) = on_and_off(
            bin,
            &receiver.url(),
            &[("WERF_TELEMETRY_HEADERS", &headers)],
        );
        assert_eq!(delivered(&log), 2, "{transport}");
        for r in receiver.requests() {
            assert_eq!(r.header("x-api-key"), Some(secret));
            assert_eq!(r.header("x-team"), Some("a b"));
        }
        assert_no_secret(&bytes, secret);
        for json in [false, true] {
            let mut args = vec!["telemetry", "status"];
            if json {
                args.push("--json");
            }
            let status = example(bin, &args)
                .env("WERF_TELEMETRY", "1")
                .env("WERF_TELEMETRY_HEADERS", &headers)
                .env(
                    "HTTPS_PROXY",
                    "http://user:s3cret-proxy-pass@127.0.0.1:3128",
                )
                .run();
            let out = status.stdout();
            assert!(out.contains("x-api-key"), "{out}");
            assert!(out.contains("127.0.0.1:3128"), "{out}");
            assert_no_secret(out.as_bytes(), secret);
            assert_no_secret(out.as_bytes(), "s3cret-proxy-pass");
        }
        // Debug output shows events only.
        let debug = example(bin, ARGS)
            .env("WERF_TELEMETRY", "1")
            .env("WERF_TELEMETRY_DEBUG", "1")
            .env("WERF_TELEMETRY_HEADERS", &headers)
            .run();
        assert!(debug.stderr().contains("CommandStarted"));
        assert_no_secret(debug.stderr().as_bytes(), secret);
    }
}

#[test]
fn protobuf_bodies_decode_into_the_logged_events() {
    for (transport, bin) in werfs() {
        let bin = bin.as_path();
        use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
        use prost::Message;

        let receiver = Receiver::start(Mode::Status(200));
        let (_, log, _) = on_and_off(
            bin,
            &receiver.url(),
            &[
                ("WERF_TELEMETRY_PROTOCOL", "http/protobuf"),
                ("GITLAB_CI", "true"),
                ("TRDL_USE_WERF_GROUP_CHANNEL", "stable"),
            ],
        );
        assert_eq!(delivered(&log), 2, "{transport}");
        let mut received = Vec::new();
        for r in receiver.requests() {
            assert_eq!(r.header("content-type"), Some("application/x-protobuf"));
            let request = ExportTraceServiceRequest::decode(&r.body[..]).expect("protobuf body");
            for rs in &request.resource_spans {
                let resource = rs.resource.as_ref().unwrap();
                assert_eq!(resource.attributes[0].key, "service.name");
                for ss in &rs.scope_spans {
                    assert_eq!(ss.scope.as_ref().unwrap().name, "cli-telemetry");
                    for span in &ss.spans {
                        assert_eq!(span.trace_id.len(), 16);
                        assert_eq!(span.span_id.len(), 8);
                        assert_eq!(span.name, common::otlp::string(span, "eventType"));
                        received.push(common::otlp::event_of(span));
                    }
                }
            }
        }
        received.sort_by_key(|e| (e.ts, e.event_type.clone()));
        let mut logged = log.events.events().to_vec();
        logged.sort_by_key(|e| (e.ts, e.event_type.clone()));
        assert_eq!(received, logged);
        assert_eq!(received.len(), 2);
    }
}

fn assert_no_secret(bytes: &[u8], secret: &str) {
    let text = String::from_utf8_lossy(bytes);
    assert!(!text.contains(secret), "{secret} found in: {text}");
}

/// An app whose reqwest has `rustls-no-provider` and which never installs a crypto
/// provider: reqwest panics building a client. The transport catches it, keeps its message
/// off stderr, and logs a named failure; the command is unchanged.
#[test]
fn reqwest_without_a_crypto_provider_fails_quietly() {
    let bin = common::fixture_bin("reqwest-no-provider", "werf");
    let ca = TestCa::new();
    let receiver = Receiver::start_tls(Mode::Status(200), ca.server_config(Leaf::Good));
    let (on, log, _) = on_and_off(&bin, &receiver.url(), &[("SSL_CERT_FILE", &ca_file(&ca))]);
    assert!(!on.stderr().contains("panicked"), "{}", on.stderr());
    assert_eq!(
        errors(&log),
        [
            "TLS set-up failed: no crypto provider installed",
            "TLS set-up failed: no crypto provider installed"
        ],
        "{:?}",
        outcomes(&log)
    );
    assert!(receiver.requests().is_empty());
}
