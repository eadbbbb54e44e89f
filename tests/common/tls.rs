//! A test certificate authority (rcgen) and server configurations for the HTTPS receiver:
//! a certificate for `localhost` and 127.0.0.1, for another name, or expired, with a key
//! of any kind the built-in transport is expected to verify (or refuse).

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

/// A 2048-bit RSA key (PKCS#8), made once with `openssl genpkey` for these tests only:
/// *ring*, rcgen's backend here, signs with RSA keys but does not make them.
const RSA_KEY: &str = include_str!("test-rsa-2048.pem");

/// A key of the kind `alg` names (RSA: the fixed test key above).
pub fn key_of(alg: &'static rcgen::SignatureAlgorithm) -> KeyPair {
    if alg == &rcgen::PKCS_RSA_SHA256 {
        KeyPair::from_pem_and_sign_algo(RSA_KEY, alg).expect("RSA test key")
    } else {
        KeyPair::generate_for(alg).expect("test key")
    }
}

impl TestCa {
    /// A CA with an ECDSA P-256 key.
    pub fn new() -> TestCa {
        TestCa::with_key(KeyPair::generate().expect("CA key"))
    }

    /// A CA whose certificates are signed with `key`.
    pub fn with_key(key: KeyPair) -> TestCa {
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
        self.server_config_for(leaf, rustls::DEFAULT_VERSIONS, KeyPair::generate())
    }

    /// [`TestCa::server_config`] for a good certificate whose key is `key`.
    pub fn server_config_with_key(&self, key: KeyPair) -> Arc<rustls::ServerConfig> {
        self.server_config_for(Leaf::Good, rustls::DEFAULT_VERSIONS, Ok(key))
    }

    /// [`TestCa::server_config`] speaking TLS 1.2 only (an old endpoint or proxy).
    pub fn server_config_tls12_only(&self) -> Arc<rustls::ServerConfig> {
        self.server_config_for(Leaf::Good, &[&rustls::version::TLS12], KeyPair::generate())
    }

    fn server_config_for(
        &self,
        leaf: Leaf,
        versions: &[&'static rustls::SupportedProtocolVersion],
        key: Result<KeyPair, rcgen::Error>,
    ) -> Arc<rustls::ServerConfig> {
        let names = match leaf {
            Leaf::OtherName => vec!["other.example".to_owned()],
            _ => vec!["localhost".to_owned(), "127.0.0.1".to_owned()],
        };
        let key = key.expect("leaf key");
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
        .with_protocol_versions(versions)
        .expect("protocol versions")
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .expect("server config");
        Arc::new(config)
    }
}

/// An HTTPS front for a plain-HTTP receiver: TLS with a test certificate on 127.0.0.1, each
/// request forwarded to `upstream` and its response back (one request at a time per
/// connection, `Content-Length` bodies, as both transports send them).
pub struct Terminator {
    port: u16,
}

impl Terminator {
    pub fn start(config: Arc<rustls::ServerConfig>, upstream: std::net::SocketAddr) -> Terminator {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        let port = listener.local_addr().unwrap().port();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let config = config.clone();
                std::thread::spawn(move || {
                    let _ = stream.set_read_timeout(Some(std::time::Duration::from_secs(30)));
                    let Ok(conn) = rustls::ServerConnection::new(config) else {
                        return;
                    };
                    forward(rustls::StreamOwned::new(conn, stream), upstream);
                });
            }
        });
        Terminator { port }
    }

    pub fn port(&self) -> u16 {
        self.port
    }
}

/// Reads one HTTP message (head and `Content-Length` body) whole.
fn message(reader: &mut impl std::io::BufRead) -> Option<Vec<u8>> {
    let mut bytes = Vec::new();
    let mut length = 0usize;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).ok()? == 0 {
            return None;
        }
        bytes.extend_from_slice(line.as_bytes());
        if let Some((name, value)) = line.split_once(':') {
            if name.trim().eq_ignore_ascii_case("content-length") {
                length = value.trim().parse().ok()?;
            }
        }
        if line == "\r\n" || line == "\n" {
            break;
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    bytes.extend(body);
    Some(bytes)
}

fn forward<S: std::io::Read + std::io::Write>(client: S, upstream: std::net::SocketAddr) {
    use std::io::{BufReader, Write};
    let Ok(server) = std::net::TcpStream::connect(upstream) else {
        return;
    };
    let mut server_reader = BufReader::new(server.try_clone().expect("clone"));
    let mut server = server;
    let mut client = BufReader::new(client);
    while let Some(request) = message(&mut client) {
        if server.write_all(&request).is_err() {
            return;
        }
        let Some(response) = message(&mut server_reader) else {
            return;
        };
        let out = client.get_mut();
        if out.write_all(&response).is_err() || out.flush().is_err() {
            return;
        }
    }
}
