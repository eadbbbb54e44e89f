//! A test certificate authority (rcgen) and server configurations for the HTTPS receiver:
//! a certificate for `localhost` and 127.0.0.1, for another name, or expired.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rcgen::{
    date_time_ymd, BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

pub struct TestCa {
    issuer: Issuer<'static, KeyPair>,
    pem: String,
    _dir: tempfile::TempDir,
    pem_path: PathBuf,
}

/// What the server's certificate is like.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Leaf {
    /// Valid for `localhost` and 127.0.0.1.
    Good,
    /// Valid, but for `other.example` only.
    OtherName,
    /// For `localhost`, expired in 2020.
    Expired,
}

impl TestCa {
    pub fn new() -> TestCa {
        let key = KeyPair::generate().expect("CA key");
        let mut params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params
            .distinguished_name
            .push(DnType::CommonName, "cli-telemetry test CA");
        params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let cert = params.self_signed(&key).expect("CA certificate");
        let pem = cert.pem();
        let dir = tempfile::tempdir().expect("temp dir");
        let pem_path = dir.path().join("ca.pem");
        std::fs::write(&pem_path, &pem).expect("write ca.pem");
        TestCa {
            issuer: Issuer::new(params, key),
            pem,
            _dir: dir,
            pem_path,
        }
    }

    /// The CA certificate as a PEM file (for `SSL_CERT_FILE`).
    pub fn pem_file(&self) -> &Path {
        &self.pem_path
    }

    pub fn pem(&self) -> &str {
        &self.pem
    }

    /// A server configuration presenting a certificate of the kind `leaf`, issued by this CA.
    pub fn server_config(&self, leaf: Leaf) -> Arc<rustls::ServerConfig> {
        let names = match leaf {
            Leaf::OtherName => vec!["other.example".to_owned()],
            _ => vec!["localhost".to_owned(), "127.0.0.1".to_owned()],
        };
        let key = KeyPair::generate().expect("leaf key");
        let mut params = CertificateParams::new(names).expect("leaf params");
        params
            .distinguished_name
            .push(DnType::CommonName, "cli-telemetry test receiver");
        if leaf == Leaf::Expired {
            params.not_before = date_time_ymd(2019, 1, 1);
            params.not_after = date_time_ymd(2020, 1, 1);
        }
        let cert = params
            .signed_by(&key, &self.issuer)
            .expect("leaf certificate");
        let chain = vec![CertificateDer::from(cert.der().to_vec())];
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
        let config = rustls::ServerConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .expect("protocol versions")
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .expect("server config");
        Arc::new(config)
    }
}
