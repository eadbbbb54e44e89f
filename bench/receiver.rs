//! Loopback OTLP/HTTP receiver for the whole-process benchmark (bench/e2e.sh).
//! std only: built with `rustc -O bench/receiver.rs`, no crates, no cargo.
//!
//! ```text
//! receiver --mode healthy|delay|blackhole|synhole [--port N] [--delay-ms 200] [--log FILE]
//! ```
//! - healthy:   answers every request with `200 OK` and an empty JSON body at once;
//! - delay:     answers after `--delay-ms` (default 200 ms);
//! - blackhole: accepts the connection, reads the request, never answers (holds it open);
//! - synhole:   never completes a TCP handshake: a listen queue of size 0 kept full, so the
//!              kernel drops the client's SYNs (what a firewalled endpoint does).
//! Binds 127.0.0.1 only. Prints the bound port on stdout, then serves until killed.
//! With `--log FILE`, appends one line per request: `<unix ms> <mode> <bytes>`.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

#[derive(Clone, Copy, PartialEq)]
enum Mode {
    Healthy,
    Delay,
    Blackhole,
    Synhole,
}

fn main() {
    let mut mode = Mode::Healthy;
    let mut port = 0u16;
    let mut delay = Duration::from_millis(200);
    let mut log: Option<String> = None;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let v = args.next().unwrap_or_else(|| usage(&a));
        match a.as_str() {
            "--mode" => {
                mode = match v.as_str() {
                    "healthy" => Mode::Healthy,
                    "delay" => Mode::Delay,
                    "blackhole" => Mode::Blackhole,
                    "synhole" => Mode::Synhole,
                    _ => usage(&v),
                }
            }
            "--port" => port = v.parse().unwrap_or_else(|_| usage(&v)),
            "--delay-ms" => delay = Duration::from_millis(v.parse().unwrap_or_else(|_| usage(&v))),
            "--log" => log = Some(v),
            _ => usage(&a),
        }
    }
    if mode == Mode::Synhole {
        synhole(port);
    }
    let listener = TcpListener::bind(("127.0.0.1", port)).expect("bind 127.0.0.1");
    println!("{}", listener.local_addr().unwrap().port());
    std::io::stdout().flush().ok();
    let log = Arc::new(log.map(|p| {
        Mutex::new(
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(p)
                .expect("log file"),
        )
    }));
    let name = match mode {
        Mode::Healthy => "healthy",
        Mode::Delay => "delay",
        Mode::Blackhole => "blackhole",
        Mode::Synhole => unreachable!(),
    };
    for stream in listener.incoming() {
        let Ok(stream) = stream else { continue };
        let log = log.clone();
        std::thread::spawn(move || serve(stream, mode, name, delay, &log));
    }
}

fn usage(what: &str) -> ! {
    eprintln!("receiver: bad argument {what:?}\nusage: receiver --mode healthy|delay|blackhole|synhole [--port N] [--delay-ms MS] [--log FILE]");
    std::process::exit(2)
}

/// Serves one connection (HTTP/1.1, keep-alive) until the client closes it.
fn serve(
    stream: TcpStream,
    mode: Mode,
    name: &str,
    delay: Duration,
    log: &Option<Mutex<std::fs::File>>,
) {
    let _ = stream.set_nodelay(true);
    let mut writer = match stream.try_clone() {
        Ok(w) => w,
        Err(_) => return,
    };
    let mut reader = BufReader::new(stream);
    loop {
        // Request line and headers.
        let mut content_length = 0usize;
        let mut line = String::new();
        let mut first = true;
        loop {
            line.clear();
            match reader.read_line(&mut line) {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
            let l = line.trim_end();
            if l.is_empty() {
                if first {
                    continue; // stray CRLF between requests
                }
                break;
            }
            first = false;
            if let Some((k, v)) = l.split_once(':') {
                if k.trim().eq_ignore_ascii_case("content-length") {
                    content_length = v.trim().parse().unwrap_or(0);
                }
            }
        }
        let mut body = vec![0u8; content_length];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        if let Some(log) = log {
            let ms = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| d.as_millis())
                .unwrap_or(0);
            if let Ok(mut f) = log.lock() {
                let _ = writeln!(f, "{ms} {name} {content_length}");
            }
        }
        match mode {
            Mode::Blackhole => {
                // Hold the connection open, never answer; the client gives up at its deadline.
                let mut sink = [0u8; 4096];
                while matches!(reader.read(&mut sink), Ok(n) if n > 0) {}
                return;
            }
            Mode::Delay => std::thread::sleep(delay),
            _ => {}
        }
        let resp =
            b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n{}";
        if writer.write_all(resp).is_err() {
            return;
        }
    }
}

/// A listening socket whose accept queue is full: Linux then drops incoming SYNs, so a
/// client's connect hangs as it would against a firewalled host.
fn synhole(port: u16) -> ! {
    use std::os::fd::AsRawFd;
    let listener = TcpListener::bind(("127.0.0.1", port)).expect("bind 127.0.0.1");
    extern "C" {
        fn listen(fd: i32, backlog: i32) -> i32;
    }
    // SAFETY: a valid listening socket's fd; listen(2) only changes its backlog.
    unsafe { listen(listener.as_raw_fd(), 0) };
    let addr = listener.local_addr().unwrap();
    // Fill the queue (backlog 0 admits one connection), and check that it is full.
    let mut fillers = Vec::new();
    for _ in 0..4 {
        match TcpStream::connect_timeout(&addr, Duration::from_millis(200)) {
            Ok(s) => fillers.push(s),
            Err(_) => break,
        }
    }
    if fillers.is_empty() || fillers.len() >= 4 {
        eprintln!(
            "receiver: could not fill the accept queue ({} connections)",
            fillers.len()
        );
        std::process::exit(1);
    }
    println!("{}", addr.port());
    std::io::stdout().flush().ok();
    loop {
        std::thread::sleep(Duration::from_secs(3600));
    }
}
