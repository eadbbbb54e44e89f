//! Origin-URL normalization (SPEC S-5, R-4): any string, valid UTF-8 or not, must give
//! either no project (`""`) or a well-formed one, and never panic.
#![no_main]

use cli_telemetry::__private::fuzz::normalize_origin;
use cli_telemetry::project_id_from_url;
use libfuzzer_sys::fuzz_target;

fn check(url: &str) {
    let normalized = normalize_origin(url);
    let id = project_id_from_url(url);
    assert_eq!(
        id.is_empty(),
        normalized.is_none(),
        "id and normalization disagree for {url:?}"
    );
    if !id.is_empty() {
        assert_eq!(id.len(), 64, "{url:?}");
        assert!(
            id.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')),
            "{url:?} -> {id}"
        );
    }
    if let Some((host, path)) = &normalized {
        assert!(!path.is_empty(), "{url:?}: empty path");
        assert!(!path.starts_with('/'), "{url:?}: leading '/' in {path:?}");
        assert!(
            !host.contains('@'),
            "{url:?}: user info left in host {host:?}"
        );
        assert!(
            !host.bytes().any(|b| b.is_ascii_uppercase()),
            "{url:?}: host {host:?} not lower-cased"
        );
        // A ':' may only be part of a bracketed IPv6 address, never a port.
        if host.contains(':') {
            assert!(
                host.starts_with('[') && host.ends_with(']'),
                "{url:?}: port left in host {host:?}"
            );
        }
    }
    // Surrounding white space is not part of the URL.
    assert_eq!(
        project_id_from_url(&format!(" \t{url}\n ")),
        project_id_from_url(url.trim()),
        "{url:?}"
    );
}

fuzz_target!(|data: &[u8]| {
    match std::str::from_utf8(data) {
        Ok(url) => check(url),
        Err(_) => check(&String::from_utf8_lossy(data)),
    }
});
