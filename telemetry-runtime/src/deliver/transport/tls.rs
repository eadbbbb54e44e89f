//! TLS for https endpoints (SPEC S-8): rustls on *ring*, without rustls's `log` records.
//!
//! Trust: the system's trust store, read with `rustls-native-certs` — which reads
//! `SSL_CERT_FILE` / `SSL_CERT_DIR` *instead of* the system's store when either is set, as
//! OpenSSL and curl do: that is how people point tools at a private or inspecting CA.
//! Only when that yields no certificate at all (a `scratch` or distroless container without
//! a CA bundle) are the compiled-in Mozilla roots used — with the `webpki-roots` cargo
//! feature (off by default: ~250 KB for a case `SSL_CERT_FILE` also solves). Loaded once, on the first https request, on a sender
//! thread: never on the handler's thread, never for an http:// endpoint.

use std::sync::Arc;

use rustls::crypto::{KeyProvider, WebPkiSupportedAlgorithms};
use rustls::pki_types::PrivateKeyDer;
use rustls::sign::SigningKey;
use rustls::{CertificateError, ClientConfig, RootCertStore, SignatureScheme};
use webpki::ring as alg;

/// The client configuration, or a fixed phrase saying why there is none.
pub(crate) fn client_config() -> Result<Arc<ClientConfig>, &'static str> {
    let mut roots = RootCertStore::empty();
    let native = rustls_native_certs::load_native_certs();
    for cert in native.certs {
        let _ = roots.add(cert);
    }
    #[cfg(feature = "webpki-roots")]
    if roots.is_empty() {
        roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    }
    if roots.is_empty() {
        return Err("no trusted CA certificates found (set SSL_CERT_FILE)");
    }
    let provider = Arc::new(provider());
    #[cfg(feature = "tls12")]
    let versions = rustls::DEFAULT_VERSIONS;
    #[cfg(not(feature = "tls12"))]
    let versions = &[&rustls::version::TLS13];
    let config = ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(versions)
        .map_err(|_| "TLS set-up failed")?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}

/// *ring*'s provider with what a client that only verifies needs:
///
/// - the AES-GCM suites only: every TLS 1.3 server must offer `TLS_AES_128_GCM_SHA256`
///   (RFC 8446 §9.1), so ChaCha20-Poly1305 — whose assembly is the largest part of *ring*
///   a client links — adds no server the library can reach. TLS 1.3 only, unless the
///   `tls12` cargo feature adds 1.2 with ECDHE and AES-GCM (~75 KB: the 1.2 handshake);
/// - certificates and handshakes signed with ECDSA (P-256, P-384) or RSA (PKCS#1, PSS):
///   *ring*'s list without Ed25519, which the CA/Browser Forum's rules allow no public
///   certificate to use (~35 KB of verification code);
/// - no private keys: the library never authenticates itself with a certificate, so the
///   key provider loads none (*ring*'s would link RSA and ECDSA signing, ~37 KB).
///
/// Key exchange is *ring*'s default (X25519, P-256, P-384).
///
/// rustls 0.23.48 deprecates *ring*'s provider for its lack of post-quantum key exchange.
/// Telemetry events are not secrets a recorded session could reveal years later, and
/// *ring* keeps the build free of aws-lc-sys's C (SPEC P-5): the deprecation is allowed
/// here, so that an application building this crate from a path sees no warning of ours.
#[allow(deprecated)]
fn provider() -> rustls::crypto::CryptoProvider {
    use rustls::crypto::ring::cipher_suite as suite;
    rustls::crypto::CryptoProvider {
        cipher_suites: vec![
            suite::TLS13_AES_128_GCM_SHA256,
            suite::TLS13_AES_256_GCM_SHA384,
            #[cfg(feature = "tls12")]
            suite::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
            #[cfg(feature = "tls12")]
            suite::TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
            #[cfg(feature = "tls12")]
            suite::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
            #[cfg(feature = "tls12")]
            suite::TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
        ],
        signature_verification_algorithms: SIGNATURES,
        key_provider: &NoPrivateKeys,
        ..rustls::crypto::ring::default_provider()
    }
}

/// *ring*'s signature algorithms (rustls's `SUPPORTED_SIG_ALGS`) without Ed25519.
static SIGNATURES: WebPkiSupportedAlgorithms = WebPkiSupportedAlgorithms {
    all: &[
        alg::ECDSA_P256_SHA256,
        alg::ECDSA_P256_SHA384,
        alg::ECDSA_P384_SHA256,
        alg::ECDSA_P384_SHA384,
        alg::RSA_PSS_2048_8192_SHA256_LEGACY_KEY,
        alg::RSA_PSS_2048_8192_SHA384_LEGACY_KEY,
        alg::RSA_PSS_2048_8192_SHA512_LEGACY_KEY,
        alg::RSA_PKCS1_2048_8192_SHA256,
        alg::RSA_PKCS1_2048_8192_SHA384,
        alg::RSA_PKCS1_2048_8192_SHA512,
        alg::RSA_PKCS1_2048_8192_SHA256_ABSENT_PARAMS,
        alg::RSA_PKCS1_2048_8192_SHA384_ABSENT_PARAMS,
        alg::RSA_PKCS1_2048_8192_SHA512_ABSENT_PARAMS,
    ],
    mapping: &[
        // TLS 1.2 does not tie the curve to the scheme; TLS 1.3 does.
        (
            SignatureScheme::ECDSA_NISTP384_SHA384,
            &[alg::ECDSA_P384_SHA384, alg::ECDSA_P256_SHA384],
        ),
        (
            SignatureScheme::ECDSA_NISTP256_SHA256,
            &[alg::ECDSA_P256_SHA256, alg::ECDSA_P384_SHA256],
        ),
        (
            SignatureScheme::RSA_PSS_SHA512,
            &[alg::RSA_PSS_2048_8192_SHA512_LEGACY_KEY],
        ),
        (
            SignatureScheme::RSA_PSS_SHA384,
            &[alg::RSA_PSS_2048_8192_SHA384_LEGACY_KEY],
        ),
        (
            SignatureScheme::RSA_PSS_SHA256,
            &[alg::RSA_PSS_2048_8192_SHA256_LEGACY_KEY],
        ),
        (
            SignatureScheme::RSA_PKCS1_SHA512,
            &[alg::RSA_PKCS1_2048_8192_SHA512],
        ),
        (
            SignatureScheme::RSA_PKCS1_SHA384,
            &[alg::RSA_PKCS1_2048_8192_SHA384],
        ),
        (
            SignatureScheme::RSA_PKCS1_SHA256,
            &[alg::RSA_PKCS1_2048_8192_SHA256],
        ),
    ],
};

/// A key provider that loads no key: the client sends no certificate of its own.
#[derive(Debug)]
struct NoPrivateKeys;

impl KeyProvider for NoPrivateKeys {
    fn load_private_key(
        &self,
        _key: PrivateKeyDer<'static>,
    ) -> Result<Arc<dyn SigningKey>, rustls::Error> {
        Err(rustls::Error::General(
            "cli-telemetry sends no client certificate".into(),
        ))
    }
}

/// A fixed phrase for a TLS failure carried by an I/O error, if it is one.
pub(crate) fn failure_phrase(err: &std::io::Error) -> Option<&'static str> {
    let tls = err.get_ref()?.downcast_ref::<rustls::Error>()?;
    Some(match tls {
        rustls::Error::InvalidCertificate(cert) => match cert {
            CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. } => {
                "TLS certificate name mismatch"
            }
            CertificateError::Expired | CertificateError::ExpiredContext { .. } => {
                "TLS certificate expired"
            }
            CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => {
                "TLS certificate not yet valid"
            }
            CertificateError::Revoked => "TLS certificate revoked",
            _ => "TLS certificate not trusted",
        },
        _ => "TLS handshake failed",
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tls_1_3_only_unless_the_tls12_feature_adds_1_2() {
        let suites = provider().cipher_suites;
        let tls12 = suites
            .iter()
            .filter(|s| s.version() == &rustls::version::TLS12)
            .count();
        assert_eq!(tls12, if cfg!(feature = "tls12") { 4 } else { 0 });
        assert!(suites
            .iter()
            .any(|s| s.version() == &rustls::version::TLS13));
    }

    #[test]
    fn verifies_ecdsa_and_rsa_but_not_ed25519() {
        let schemes = provider()
            .signature_verification_algorithms
            .supported_schemes();
        for scheme in [
            SignatureScheme::ECDSA_NISTP256_SHA256,
            SignatureScheme::ECDSA_NISTP384_SHA384,
            SignatureScheme::RSA_PSS_SHA256,
            SignatureScheme::RSA_PKCS1_SHA256,
        ] {
            assert!(schemes.contains(&scheme), "{scheme:?}");
        }
        assert!(!schemes.contains(&SignatureScheme::ED25519));
        // The same algorithms as *ring*'s own list, Ed25519 apart.
        let ring = rustls::crypto::ring::default_provider()
            .signature_verification_algorithms
            .supported_schemes();
        let mut expected: Vec<_> = ring
            .into_iter()
            .filter(|s| *s != SignatureScheme::ED25519)
            .collect();
        let mut ours = schemes;
        expected.sort_by_key(|s| u16::from(*s));
        ours.sort_by_key(|s| u16::from(*s));
        assert_eq!(ours, expected);
        assert_eq!(
            SIGNATURES.all.len(),
            rustls::crypto::ring::default_provider()
                .signature_verification_algorithms
                .all
                .len()
                - 1
        );
    }

    #[test]
    fn loads_no_private_key() {
        let key = PrivateKeyDer::Pkcs8(vec![0x30, 0x00].into());
        assert!(provider().key_provider.load_private_key(key).is_err());
    }
}
