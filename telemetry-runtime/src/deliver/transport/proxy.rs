//! Which proxy, if any, carries a request (SPEC S-8), as curl and Go decide it:
//! `https_proxy`/`HTTPS_PROXY` for https endpoints, `http_proxy`/`HTTP_PROXY` for http ones,
//! `all_proxy`/`ALL_PROXY` for both (lower case first); `no_proxy`/`NO_PROXY` lists hosts
//! that go direct: `*`, exact names, domain suffixes (`example.com` and `.example.com` both
//! match `api.example.com`), IP addresses and CIDR blocks (`10.0.0.0/8`). An empty value
//! means no proxy. Only `http://` proxies are supported (CONNECT for https endpoints).

use std::net::IpAddr;

use super::endpoint::{parse_proxy, HttpUrl, Scheme};
use crate::config::Env;

/// The proxy for `endpoint`: `Ok(None)` to go direct, `Err` when the variable that applies
/// holds a proxy URL that can't be used (then the request fails with that phrase rather
/// than bypass a proxy the user asked for).
pub(crate) fn proxy_for(
    endpoint: &HttpUrl,
    env: &dyn Env,
) -> Result<Option<HttpUrl>, &'static str> {
    let vars: &[&str] = match endpoint.scheme {
        Scheme::Https => &["https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"],
        Scheme::Http => &["http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY"],
    };
    let Some(value) = vars.iter().find_map(|v| {
        env.var_os(v)
            .map(|s| s.to_string_lossy().trim().to_owned())
            .filter(|s| !s.is_empty())
    }) else {
        return Ok(None);
    };
    if bypassed(&endpoint.host, env) {
        return Ok(None);
    }
    parse_proxy(&value).map(Some)
}

/// Whether `NO_PROXY` (or `no_proxy`) lists `host`.
fn bypassed(host: &str, env: &dyn Env) -> bool {
    let Some(list) = ["no_proxy", "NO_PROXY"]
        .iter()
        .find_map(|v| env.var_os(v).filter(|s| !s.is_empty()))
    else {
        return false;
    };
    let list = list.to_string_lossy();
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    let host_ip: Option<IpAddr> = host.parse().ok();
    list.split([',', ' '])
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .any(|entry| matches(entry, &host, host_ip))
}

fn matches(entry: &str, host: &str, host_ip: Option<IpAddr>) -> bool {
    if entry == "*" {
        return true;
    }
    let entry = entry.to_ascii_lowercase();
    // `[::1]`, `[::1]:8080`, `host:8080`: the port is not compared (as in curl).
    let entry = match entry.strip_prefix('[') {
        Some(rest) => rest.split(']').next().unwrap_or("").to_owned(),
        None if entry.matches(':').count() == 1 => entry.split(':').next().unwrap_or("").to_owned(),
        None => entry,
    };
    if let Some((net, bits)) = entry.split_once('/') {
        return match (host_ip, net.parse::<IpAddr>(), bits.parse::<u8>()) {
            (Some(ip), Ok(net), Ok(bits)) => in_cidr(ip, net, bits),
            _ => false,
        };
    }
    if let (Some(ip), Ok(e)) = (host_ip, entry.parse::<IpAddr>()) {
        return ip == e;
    }
    let suffix = entry.trim_start_matches("*.").trim_start_matches('.');
    let suffix = suffix.trim_end_matches('.');
    !suffix.is_empty()
        && (host == suffix
            || (host.len() > suffix.len()
                && host.ends_with(suffix)
                && host.as_bytes()[host.len() - suffix.len() - 1] == b'.'))
}

fn in_cidr(ip: IpAddr, net: IpAddr, bits: u8) -> bool {
    match (ip, net) {
        (IpAddr::V4(ip), IpAddr::V4(net)) if bits <= 32 => {
            let mask = u32::MAX.checked_shl(32 - u32::from(bits)).unwrap_or(0);
            u32::from(ip) & mask == u32::from(net) & mask
        }
        (IpAddr::V6(ip), IpAddr::V6(net)) if bits <= 128 => {
            let mask = u128::MAX.checked_shl(128 - u32::from(bits)).unwrap_or(0);
            u128::from(ip) & mask == u128::from(net) & mask
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::super::endpoint::parse_endpoint;
    use super::*;

    fn proxy<const N: usize>(url: &str, env: [(&str, &str); N]) -> Option<String> {
        proxy_for(&parse_endpoint(url).unwrap(), &env)
            .unwrap()
            .map(|p| p.host_port())
    }

    #[test]
    fn scheme_decides_the_variable() {
        let env = [("HTTPS_PROXY", "http://s:1"), ("HTTP_PROXY", "http://p:2")];
        assert_eq!(proxy("https://h/x", env), Some("s:1".into()));
        assert_eq!(proxy("http://h/x", env), Some("p:2".into()));
        // HTTPS_PROXY is for https endpoints only (curl, Go).
        assert_eq!(proxy("http://h/x", [("HTTPS_PROXY", "http://s:1")]), None);
        assert_eq!(
            proxy("http://h/x", [("ALL_PROXY", "a:3")]),
            Some("a:3".into())
        );
        assert_eq!(
            proxy(
                "https://h/x",
                [("all_proxy", "a:3"), ("https_proxy", "l:4")]
            ),
            Some("l:4".into())
        );
        assert_eq!(
            proxy(
                "https://h/x",
                [("https_proxy", "l:4"), ("HTTPS_PROXY", "u:5")]
            ),
            Some("l:4".into())
        );
        assert_eq!(proxy("https://h/x", [("HTTPS_PROXY", "")]), None);
    }

    #[test]
    fn no_proxy_entries() {
        let with = |no: &str, url: &str| proxy(url, [("HTTPS_PROXY", "p:1"), ("NO_PROXY", no)]);
        assert_eq!(with("*", "https://any.where/"), None);
        assert_eq!(with("example.com", "https://example.com/"), None);
        assert_eq!(with("example.com", "https://api.example.com/"), None);
        assert_eq!(with(".example.com", "https://api.example.com/"), None);
        assert_eq!(with("*.example.com", "https://api.example.com/"), None);
        assert_eq!(
            with("example.com", "https://badexample.com/"),
            Some("p:1".into())
        );
        assert_eq!(with("localhost,127.0.0.1", "https://127.0.0.1:8443/"), None);
        assert_eq!(
            with("localhost, 127.0.0.1", "https://localhost:8443/"),
            None
        );
        assert_eq!(with("10.0.0.0/8", "https://10.1.2.3/"), None);
        assert_eq!(with("10.0.0.0/8", "https://11.1.2.3/"), Some("p:1".into()));
        assert_eq!(with("[::1]", "https://[::1]:8443/"), None);
        assert_eq!(with("host:8080", "https://host/"), None);
        assert_eq!(with("other", "https://host/"), Some("p:1".into()));
        assert_eq!(with("", "https://host/"), Some("p:1".into()));
    }

    #[test]
    fn unusable_proxy_is_an_error_not_a_bypass() {
        let e = parse_endpoint("https://h/").unwrap();
        assert_eq!(
            proxy_for(&e, &[("HTTPS_PROXY", "socks5://127.0.0.1:1")]),
            Err("proxy URL scheme is not supported (only http:// proxies)")
        );
    }
}
