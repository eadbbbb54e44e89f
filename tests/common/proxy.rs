//! A recording HTTP proxy on 127.0.0.1: `CONNECT` tunnels (https endpoints) and
//! absolute-form requests (http endpoints), forwarded to the target; or refusing, or a
//! black hole. It records each request's method, target and `Proxy-Authorization`.

use std::io::{BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::read_request_head;

#[derive(Clone, Copy, Debug)]
pub enum ProxyMode {
    Forward,
    /// Answer every request with this status.
    Refuse(u16),
    /// Accept, read, never answer.
    BlackHole,
}

#[derive(Clone, Debug)]
pub struct ProxyRequest {
    pub method: String,
    pub target: String,
    pub authorization: Option<String>,
}

pub struct Proxy {
    pub addr: SocketAddr,
    requests: Arc<Mutex<Vec<ProxyRequest>>>,
}

impl Proxy {
    pub fn start(mode: ProxyMode) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        let addr = listener.local_addr().unwrap();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let r = requests.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let r = r.clone();
                std::thread::spawn(move || handle(stream, mode, r));
            }
        });
        Proxy { addr, requests }
    }

    /// `http://user:password@127.0.0.1:port` (or without credentials).
    pub fn url(&self, credentials: Option<&str>) -> String {
        match credentials {
            Some(c) => format!("http://{c}@{}", self.addr),
            None => format!("http://{}", self.addr),
        }
    }

    pub fn requests(&self) -> Vec<ProxyRequest> {
        self.requests.lock().unwrap().clone()
    }
}

fn handle(client: TcpStream, mode: ProxyMode, requests: Arc<Mutex<Vec<ProxyRequest>>>) {
    let _ = client.set_read_timeout(Some(Duration::from_secs(20)));
    let mut reader = BufReader::new(client);
    let Some((line, headers)) = read_request_head(&mut reader) else {
        return;
    };
    let mut parts = line.split_whitespace();
    let method = parts.next().unwrap_or("").to_owned();
    let target = parts.next().unwrap_or("").to_owned();
    let authorization = headers
        .iter()
        .find(|(k, _)| k == "proxy-authorization")
        .map(|(_, v)| v.clone());
    requests.lock().unwrap().push(ProxyRequest {
        method: method.clone(),
        target: target.clone(),
        authorization,
    });
    match mode {
        ProxyMode::Refuse(status) => {
            let _ = reader.get_mut().write_all(
                format!(
                    "HTTP/1.1 {status} Refused\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                )
                .as_bytes(),
            );
            return;
        }
        ProxyMode::BlackHole => {
            std::thread::sleep(Duration::from_secs(30));
            return;
        }
        ProxyMode::Forward => {}
    }
    if method == "CONNECT" {
        let Ok(upstream) = TcpStream::connect(&target) else {
            let _ = reader
                .get_mut()
                .write_all(b"HTTP/1.1 502 Bad Gateway\r\n\r\n");
            return;
        };
        if reader
            .get_mut()
            .write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
            .is_err()
        {
            return;
        }
        pipe(reader, upstream, Vec::new());
    } else {
        // Absolute form: http://host:port/path. Forward the request as it came.
        let authority = target
            .strip_prefix("http://")
            .and_then(|rest| rest.split('/').next())
            .unwrap_or("")
            .to_owned();
        let Ok(upstream) = TcpStream::connect(&authority) else {
            return;
        };
        let mut head = format!("{line}\r\n");
        for (k, v) in &headers {
            head.push_str(&format!("{k}: {v}\r\n"));
        }
        head.push_str("\r\n");
        pipe(reader, upstream, head.into_bytes());
    }
}

/// Copies both ways until either side closes; `first` goes upstream first.
fn pipe(client: BufReader<TcpStream>, mut upstream: TcpStream, first: Vec<u8>) {
    let buffered = client.buffer().to_vec();
    let client = client.into_inner();
    if upstream.write_all(&first).is_err() || upstream.write_all(&buffered).is_err() {
        return;
    }
    let (Ok(mut client_r), Ok(mut upstream_w)) = (client.try_clone(), upstream.try_clone()) else {
        return;
    };
    let mut client_w = client;
    let up = std::thread::spawn(move || {
        let _ = copy(&mut client_r, &mut upstream_w);
        let _ = upstream_w.shutdown(std::net::Shutdown::Write);
    });
    let _ = copy(&mut upstream, &mut client_w);
    let _ = client_w.shutdown(std::net::Shutdown::Write);
    let _ = up.join();
}

fn copy(from: &mut impl Read, to: &mut impl Write) -> std::io::Result<()> {
    let mut buf = [0u8; 8192];
    loop {
        let n = from.read(&mut buf)?;
        if n == 0 {
            return Ok(());
        }
        to.write_all(&buf[..n])?;
    }
}
