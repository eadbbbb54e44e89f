//! HTTP(S) URLs of the endpoint and of proxies: a small parser for the one shape the
//! library needs (`scheme://[user[:password]@]host[:port][/path][?query][#fragment]`),
//! with a fixed phrase for every way a URL can be wrong. The phrases never contain the URL:
//! it may carry credentials.

use crate::config::percent_decode;

/// `http` or `https`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Scheme {
    Http,
    Https,
}

impl Scheme {
    pub(crate) fn default_port(self) -> u16 {
        match self {
            Scheme::Http => 80,
            Scheme::Https => 443,
        }
    }

    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Scheme::Http => "http",
            Scheme::Https => "https",
        }
    }
}

/// A parsed http(s) URL.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct HttpUrl {
    pub scheme: Scheme,
    /// Lower-cased; IPv6 addresses without brackets.
    pub host: String,
    pub port: u16,
    /// Path and query, starting with `/`; never the fragment.
    pub target: String,
    /// Percent-decoded user name and password.
    pub credentials: Option<(String, String)>,
}

impl std::fmt::Debug for HttpUrl {
    /// Never shows the credentials.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.redacted())
    }
}

impl HttpUrl {
    /// `host` or `[v6]`, for the `Host` header and CONNECT (with `:port` when not the
    /// scheme's default, or always with `always_port`).
    pub(crate) fn authority(&self, always_port: bool) -> String {
        let host = if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        if always_port || self.port != self.scheme.default_port() {
            format!("{host}:{}", self.port)
        } else {
            host
        }
    }

    /// The URL without credentials, query or fragment: what status may show.
    pub(crate) fn redacted(&self) -> String {
        let path = self.target.split('?').next().unwrap_or("/");
        format!("{}://{}{path}", self.scheme.as_str(), self.authority(false))
    }

    /// `host:port`, what status shows for a proxy.
    pub(crate) fn host_port(&self) -> String {
        self.authority(true)
    }
}

/// Parses an endpoint: `http` or `https` only; a URL without a scheme gets `https://`.
pub(crate) fn parse_endpoint(raw: &str) -> Result<HttpUrl, &'static str> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Err("no endpoint configured");
    }
    parse(raw, Scheme::Https, "endpoint")
}

/// Parses a proxy URL: `http://` (or no scheme, meaning `http://`); the port defaults to
/// 1080 as in curl.
pub(crate) fn parse_proxy(raw: &str) -> Result<HttpUrl, &'static str> {
    let mut url = parse(raw.trim(), Scheme::Http, "proxy")?;
    if url.scheme != Scheme::Http {
        return Err("proxy URL scheme is not supported (only http:// proxies)");
    }
    if !raw.contains("://") || !has_port(raw) {
        url.port = if has_port(raw) { url.port } else { 1080 };
    }
    Ok(url)
}

fn has_port(raw: &str) -> bool {
    let rest = raw.split_once("://").map_or(raw, |(_, r)| r);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    match host.rfind(']') {
        Some(close) => host[close..].contains(':'),
        None => host.contains(':'),
    }
}

fn parse(raw: &str, default: Scheme, what: &'static str) -> Result<HttpUrl, &'static str> {
    let malformed = match what {
        "proxy" => "proxy URL is malformed",
        _ => "endpoint URL is malformed",
    };
    if raw.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err(malformed);
    }
    let (scheme, rest) = match raw.split_once("://") {
        Some((s, rest)) => {
            let scheme = if s.eq_ignore_ascii_case("http") {
                Scheme::Http
            } else if s.eq_ignore_ascii_case("https") {
                Scheme::Https
            } else if what == "proxy" {
                return Err("proxy URL scheme is not supported (only http:// proxies)");
            } else {
                return Err("endpoint URL scheme is not http or https");
            };
            (scheme, rest)
        }
        None if raw.contains(':') && !looks_like_host_port(raw) => {
            return Err(match what {
                "proxy" => "proxy URL scheme is not supported (only http:// proxies)",
                _ => "endpoint URL scheme is not http or https",
            })
        }
        None => (default, raw),
    };
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    let tail = tail.split('#').next().unwrap_or("");
    let target = if tail.is_empty() {
        "/".to_owned()
    } else if tail.starts_with('?') {
        format!("/{tail}")
    } else {
        tail.to_owned()
    };
    if !target.is_ascii() {
        return Err(malformed);
    }
    let (userinfo, hostport) = match authority.rsplit_once('@') {
        Some((u, h)) => (Some(u), h),
        None => (None, authority),
    };
    let (host, port) = split_host_port(hostport).ok_or(malformed)?;
    if host.is_empty() {
        return Err(malformed);
    }
    if !valid_host(&host) {
        return Err(if host.is_ascii() {
            malformed
        } else if what == "proxy" {
            "proxy host is not ASCII (use its punycode form)"
        } else {
            "endpoint host is not ASCII (use its punycode form)"
        });
    }
    let port = match port {
        Some(p) => p.parse::<u16>().ok().filter(|p| *p != 0).ok_or(malformed)?,
        None => scheme.default_port(),
    };
    let credentials = userinfo.map(|u| {
        let (user, pass) = u.split_once(':').unwrap_or((u, ""));
        (percent_decode(user), percent_decode(pass))
    });
    Ok(HttpUrl {
        scheme,
        host: host.to_ascii_lowercase(),
        port,
        target,
        credentials,
    })
}

/// `host:8080` (no scheme) rather than `mailto:x` or `socks5:…`.
fn looks_like_host_port(raw: &str) -> bool {
    let authority = raw.split(['/', '?', '#']).next().unwrap_or("");
    let hostport = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    matches!(split_host_port(hostport), Some((_, Some(p))) if !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
}

/// `(host, port)`; IPv6 in brackets. `None` when the shape is wrong.
fn split_host_port(s: &str) -> Option<(String, Option<&str>)> {
    if let Some(inner) = s.strip_prefix('[') {
        let close = inner.find(']')?;
        let host = &inner[..close];
        if host.parse::<std::net::Ipv6Addr>().is_err() {
            return None;
        }
        let after = &inner[close + 1..];
        let port = match after.strip_prefix(':') {
            Some(p) => Some(p),
            None if after.is_empty() => None,
            None => return None,
        };
        return Some((host.to_owned(), port));
    }
    match s.rsplit_once(':') {
        Some((h, p)) if !h.contains(':') => Some((h.to_owned(), Some(p))),
        Some(_) => None,
        None => Some((s.to_owned(), None)),
    }
}

fn valid_host(host: &str) -> bool {
    host.parse::<std::net::Ipv6Addr>().is_ok()
        || host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_'))
}

/// The request headers: `headers`, plus `Authorization: Basic …` from the URL's
/// credentials unless `headers` has an `Authorization` of its own.
pub(crate) fn with_url_credentials(
    endpoint: &HttpUrl,
    mut headers: Vec<(String, String)>,
) -> Vec<(String, String)> {
    let has_auth = headers
        .iter()
        .any(|(k, _)| k.eq_ignore_ascii_case("authorization"));
    if let (Some((user, pass)), false) = (&endpoint.credentials, has_auth) {
        headers.push(("Authorization".into(), basic_auth(user, pass)));
    }
    headers
}

/// `Basic base64(user:password)`.
pub(crate) fn basic_auth(user: &str, pass: &str) -> String {
    format!("Basic {}", base64(format!("{user}:{pass}").as_bytes()))
}

fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i)) as usize & 63] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_rfc4648() {
        for (plain, encoded) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
            ("user:secret", "dXNlcjpzZWNyZXQ="),
        ] {
            assert_eq!(base64(plain.as_bytes()), encoded, "{plain}");
        }
    }

    #[test]
    fn endpoints() {
        let u = parse_endpoint("http://127.0.0.1:4318/v1/traces").unwrap();
        assert_eq!(
            (u.scheme, u.host.as_str(), u.port, u.target.as_str()),
            (Scheme::Http, "127.0.0.1", 4318, "/v1/traces")
        );
        let u = parse_endpoint("telemetry.example.com/v1/traces").unwrap();
        assert_eq!((u.scheme, u.port), (Scheme::Https, 443));
        let u = parse_endpoint("HTTPS://User:p%40ss@Host.Example:8443/v1/traces?k=v#frag").unwrap();
        assert_eq!(u.host, "host.example");
        assert_eq!(u.target, "/v1/traces?k=v");
        assert_eq!(u.credentials, Some(("User".into(), "p@ss".into())));
        assert_eq!(u.redacted(), "https://host.example:8443/v1/traces");
        assert!(!format!("{u:?}").contains("p@ss"));
        let u = parse_endpoint("http://[::1]:9/x").unwrap();
        assert_eq!(
            (u.host.as_str(), u.authority(false)),
            ("::1", "[::1]:9".into())
        );
        assert_eq!(parse_endpoint("https://h").unwrap().target, "/");
        assert_eq!(parse_endpoint("https://h?x=1").unwrap().target, "/?x=1");
        assert_eq!(
            parse_endpoint("localhost:4318/v1/traces").unwrap().port,
            4318
        );
    }

    #[test]
    fn bad_endpoints_have_fixed_phrases() {
        assert_eq!(parse_endpoint(""), Err("no endpoint configured"));
        assert_eq!(parse_endpoint("http://"), Err("endpoint URL is malformed"));
        assert_eq!(
            parse_endpoint("ftp://host/x"),
            Err("endpoint URL scheme is not http or https")
        );
        assert_eq!(
            parse_endpoint("file:///etc/passwd"),
            Err("endpoint URL scheme is not http or https")
        );
        assert_eq!(
            parse_endpoint("mailto:someone"),
            Err("endpoint URL scheme is not http or https")
        );
        for bad in [
            "http://exa mple.com/",
            "http://host:99999/",
            "http://host:0/",
            "http://host:x/",
            "http://[::1/",
            "http://[zz]/",
            "http://a:b:c/",
            "http://h/\u{7}",
            "http://h/π",
        ] {
            assert_eq!(
                parse_endpoint(bad),
                Err("endpoint URL is malformed"),
                "{bad}"
            );
        }
        assert_eq!(
            parse_endpoint("https://bücher.example/v1/traces"),
            Err("endpoint host is not ASCII (use its punycode form)")
        );
    }

    #[test]
    fn proxies() {
        let p = parse_proxy("http://user:s%3Acret@127.0.0.1:3128").unwrap();
        assert_eq!((p.host.as_str(), p.port), ("127.0.0.1", 3128));
        assert_eq!(p.credentials, Some(("user".into(), "s:cret".into())));
        assert_eq!(p.host_port(), "127.0.0.1:3128");
        assert_eq!(parse_proxy("proxy.corp").unwrap().port, 1080);
        assert_eq!(parse_proxy("http://proxy.corp").unwrap().port, 1080);
        assert_eq!(parse_proxy("proxy.corp:8080").unwrap().port, 8080);
        assert_eq!(
            parse_proxy("socks5://127.0.0.1:1080"),
            Err("proxy URL scheme is not supported (only http:// proxies)")
        );
        assert_eq!(
            parse_proxy("https://proxy:443"),
            Err("proxy URL scheme is not supported (only http:// proxies)")
        );
    }

    #[test]
    fn percent_decoding() {
        assert_eq!(percent_decode("a%20b%2Cc"), "a b,c");
        assert_eq!(percent_decode("100%"), "100%");
        assert_eq!(percent_decode("%zz%4"), "%zz%4");
        assert_eq!(percent_decode("%ff"), "\u{fffd}");
    }
}
