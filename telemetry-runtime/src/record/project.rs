//! projectID (SPEC S-5): SHA-256 of `host + ":::" + path` of the `origin` remote of the git
//! repository containing the working directory. The raw URL never leaves this module.
//!
//! URLs are normalized as werf normalizes them (go-git's endpoint parsing over Go's
//! `net/url`; vectors from Go in `fixtures/project-id-go.tsv`), by a small parser of our
//! own rather than the `url` crate, whose IDNA tables pulled ~25 crates into every app and
//! gave Unicode hosts a different id than werf's. The repository is found and its
//! config read in-process (no `git` child process: spawning one costs more than the whole
//! P-3 budget); the config reader handles the subset git writes for `remote.origin.url`
//! (sections, subsections, quoting, escapes, comments, continuation lines). `include` files
//! are not followed.

use std::path::{Path, PathBuf};

/// The project id for the git repository containing `dir`, or `""` when there is none,
/// it has no `origin`, or its URL can't be parsed.
pub(crate) fn project_id_for_dir(dir: &Path) -> String {
    origin_url(dir)
        .as_deref()
        .map(project_id_from_url)
        .unwrap_or_default()
}

/// The project id for an origin URL, or `""` when it can't be parsed.
pub fn project_id_from_url(url: &str) -> String {
    match normalize(url) {
        Some((host, path)) => {
            crate::record::digest::sha256_hex(format!("{host}:::{path}").as_bytes())
        }
        None => String::new(),
    }
}

/// `(host, path)` of a git remote URL, as werf computes them (go-git's endpoint parsing
/// over Go's `net/url`): host without user, password or port — Unicode as typed (no
/// IDNA), `%XX` escapes of non-ASCII bytes decoded, an escaped ASCII byte invalid (Go
/// rejects it: no id), ASCII letters lower-cased so that every spelling of one host
/// agrees —; path percent-decoded, without query, fragment, leading `/`, trailing `/` and
/// `.git`. `None` when there is no id to compute.
pub(crate) fn normalize(raw: &str) -> Option<(String, String)> {
    let raw = raw.trim();
    if raw.is_empty() || raw.chars().any(char::is_control) {
        return None;
    }
    let (host, path) = if let Some((scheme, rest)) = raw.split_once("://") {
        let valid_scheme = scheme
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic())
            && scheme
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
        if !valid_scheme {
            return None;
        }
        let end = rest.find(['/', '?', '#', '\\']).unwrap_or(rest.len());
        let (authority, tail) = rest.split_at(end);
        let host = if scheme.eq_ignore_ascii_case("file") && authority.is_empty() {
            String::new()
        } else {
            let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
            host_of(host_port)?
        };
        (host, tail.replace('\\', "/"))
    } else if local_path(raw).is_some() {
        (String::new(), raw.to_owned())
    } else {
        // scp-like: [user@]host:path, the host possibly a bracketed IPv6 address.
        let (user_host, path) = match raw.find('[') {
            Some(open) if !raw[..open].contains(':') => {
                let close = raw[open..].find("]:")? + open;
                (&raw[..=close], &raw[close + 2..])
            }
            _ => raw.split_once(':')?,
        };
        if user_host.is_empty() || user_host.contains('/') {
            return None;
        }
        let host = user_host.rsplit_once('@').map_or(user_host, |(_, h)| h);
        (host_of(host)?, format!("/{}", path.trim_start_matches('/')))
    };
    if host.is_empty() && !(raw.contains("://") || raw.starts_with('/')) {
        return None;
    }
    let path = path.split(['?', '#']).next().unwrap_or("");
    let decoded = percent_decode(path, false)?;
    let mut path = decoded.trim_start_matches('/').trim_end_matches('/');
    path = path
        .strip_suffix(".git")
        .unwrap_or(path)
        .trim_end_matches('/');
    if path.is_empty() {
        return None;
    }
    Some((host, path.to_owned()))
}

/// The host of `host[:port]`: a bracketed IPv6 address in its canonical form, or a name
/// (or IPv4 address) as Go's `net/url` leaves it, ASCII lower-cased.
fn host_of(host_port: &str) -> Option<String> {
    if let Some(inner) = host_port.strip_prefix('[') {
        let (addr, after) = inner.split_once(']')?;
        if !(after.is_empty() || valid_port(after.strip_prefix(':')?)) {
            return None;
        }
        let addr: std::net::Ipv6Addr = addr.parse().ok()?;
        return Some(format!("[{addr}]"));
    }
    let host = match host_port.rsplit_once(':') {
        Some((host, port)) if valid_port(port) => host,
        Some(_) => return None,
        None => host_port,
    };
    let host = percent_decode(host, true)?;
    let invalid = |c: char| {
        c.is_whitespace()
            || c.is_control()
            || matches!(
                c,
                '@' | ':' | '/' | '\\' | '?' | '#' | '[' | ']' | '%' | '^' | '|' | '`' | '{' | '}'
            )
    };
    if host.is_empty() || host.chars().any(invalid) {
        return None;
    }
    Some(host.to_ascii_lowercase())
}

fn valid_port(port: &str) -> bool {
    port.bytes().all(|b| b.is_ascii_digit()) && (port.is_empty() || port.parse::<u16>().is_ok())
}

/// Decodes `%XX`. In a host (`host = true`), as Go does: only escapes of non-ASCII bytes
/// are allowed, any other makes the URL invalid. In a path, invalid escapes stay as they
/// are. `None` for an invalid host escape or a result that is not UTF-8.
fn percent_decode(s: &str, host: bool) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = |b: u8| (b as char).to_digit(16);
            match (
                bytes.get(i + 1).copied().and_then(hex),
                bytes.get(i + 2).copied().and_then(hex),
            ) {
                (Some(h), Some(l)) => {
                    let byte = (h * 16 + l) as u8;
                    if host && byte < 0x80 {
                        return None;
                    }
                    out.push(byte);
                    i += 3;
                    continue;
                }
                _ if host => return None,
                _ => {}
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8(out).ok()
}

/// A local repository path (`/srv/git/x.git`, `./x`, `C:\x`); scp-like URLs need a `:`
/// before any `/`.
fn local_path(raw: &str) -> Option<&Path> {
    let colon = raw.find(':');
    let slash = raw.find('/');
    let is_local = match (colon, slash) {
        (None, _) => true,
        (Some(c), Some(s)) => s < c,
        (Some(_), None) => Path::new(raw).is_absolute(), // Windows drive letters
    };
    if is_local && Path::new(raw).is_absolute() {
        Some(Path::new(raw))
    } else {
        None
    }
}

/// The `remote.origin.url` of the repository containing `dir`.
pub(crate) fn origin_url(dir: &Path) -> Option<String> {
    let git_dir = find_git_dir(dir)?;
    let config_dir = common_dir(&git_dir);
    let text = std::fs::read(config_dir.join("config")).ok()?;
    remote_url(&String::from_utf8_lossy(&text), "origin")
}

/// The git directory of the repository containing `dir`: a `.git` directory, the target
/// of a `.git` file (worktrees, submodules), or `dir` itself when it is a bare repository.
fn find_git_dir(dir: &Path) -> Option<PathBuf> {
    for candidate in dir.ancestors() {
        let dot_git = candidate.join(".git");
        if dot_git.is_dir() {
            return Some(dot_git);
        }
        if dot_git.is_file() {
            let text = std::fs::read_to_string(&dot_git).ok()?;
            let target = text.lines().find_map(|l| l.strip_prefix("gitdir:"))?.trim();
            let target = Path::new(target);
            return Some(if target.is_absolute() {
                target.to_owned()
            } else {
                candidate.join(target)
            });
        }
        if is_bare_repo(candidate) {
            return Some(candidate.to_owned());
        }
    }
    None
}

fn is_bare_repo(dir: &Path) -> bool {
    dir.join("HEAD").is_file() && dir.join("objects").is_dir() && dir.join("config").is_file()
}

/// A worktree's git dir names the main repository's in `commondir`; config lives there.
fn common_dir(git_dir: &Path) -> PathBuf {
    match std::fs::read_to_string(git_dir.join("commondir")) {
        Ok(text) => {
            let common = Path::new(text.trim());
            if common.is_absolute() {
                common.to_owned()
            } else {
                git_dir.join(common)
            }
        }
        Err(_) => git_dir.to_owned(),
    }
}

/// `remote.<name>.url` from git config text. The last value wins, as in git.
pub(crate) fn remote_url(config: &str, remote: &str) -> Option<String> {
    let mut in_section = false;
    let mut found = None;
    let mut lines = config.lines();
    while let Some(line) = lines.next() {
        let mut line = line.trim().to_owned();
        if line.starts_with('[') {
            let Some(end) = line.find(']') else { continue };
            in_section = section_matches(&line[1..end], remote);
            line = line[end + 1..].trim().to_owned();
            if line.is_empty() {
                continue;
            }
        }
        if !in_section {
            continue;
        }
        // Continuation lines: a value ending in an unescaped backslash goes on.
        while line.ends_with('\\') && !line.ends_with("\\\\") {
            line.pop();
            match lines.next() {
                Some(next) => line.push_str(next),
                None => break,
            }
        }
        let Some((key, value)) = line.split_once('=') else {
            continue;
        };
        if key.trim().eq_ignore_ascii_case("url") {
            found = Some(config_value(value.trim()));
        }
    }
    found.filter(|u| !u.is_empty())
}

/// `[remote "origin"]`, or the old `[remote.origin]` form.
fn section_matches(header: &str, remote: &str) -> bool {
    let header = header.trim();
    if let Some((section, sub)) = header.split_once(char::is_whitespace) {
        let sub = sub.trim();
        section.eq_ignore_ascii_case("remote")
            && sub.len() >= 2
            && sub.starts_with('"')
            && sub.ends_with('"')
            && &sub[1..sub.len() - 1] == remote
    } else if let Some((section, sub)) = header.split_once('.') {
        section.eq_ignore_ascii_case("remote") && sub.eq_ignore_ascii_case(remote)
    } else {
        false
    }
}

/// Unquotes a config value and drops a trailing comment.
fn config_value(raw: &str) -> String {
    let mut out = String::new();
    let mut quoted = false;
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        match c {
            '"' => quoted = !quoted,
            '\\' => match chars.next() {
                Some('n') => out.push('\n'),
                Some('t') => out.push('\t'),
                Some('b') => {
                    out.pop();
                }
                Some(other) => out.push(other),
                None => {}
            },
            '#' | ';' if !quoted => break,
            c => out.push(c),
        }
    }
    out.trim_end().to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIXTURES: &str = include_str!("../../fixtures/project-id.tsv");

    #[test]
    fn every_fixture_row_matches() {
        let mut rows = 0;
        for line in FIXTURES
            .lines()
            .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        {
            let (url, expected) = line.split_once('\t').expect("two columns");
            assert_eq!(project_id_from_url(url), expected.trim(), "{url}");
            rows += 1;
        }
        assert!(rows >= 8, "fixture rows read: {rows}");
    }

    #[test]
    fn spec_examples_share_one_id() {
        let a = project_id_from_url("git@github.com:user/repository.git");
        assert_eq!(a.len(), 64);
        assert_eq!(a, project_id_from_url("https://github.com/user/repository"));
        assert_eq!(
            a,
            project_id_from_url("http://git:pass@github.com:9418/user/repository.git?foo#bar")
        );
        assert_eq!(
            a,
            project_id_from_url("ssh://git@github.com/user/repository.git")
        );
        assert_eq!(
            a,
            project_id_from_url("git://github.com/user/repository.git")
        );
        assert_eq!(
            a,
            project_id_from_url("https://GitHub.com/user/repository/")
        );
    }

    #[test]
    fn unparsable_urls_give_empty_id() {
        for bad in [
            "",
            "   ",
            "not a url",
            "https://",
            "git@host:",
            ":path",
            "http://[::1",
            "https://host/\u{7}x",
            // Go rejects an escaped ASCII byte in a host: werf has no id for it.
            "https://ho%41st/x",
            "ssh://ho%41st/x",
            "https://ho%zzst/x",
        ] {
            assert_eq!(project_id_from_url(bad), "", "{bad:?}");
        }
    }

    const GO_VECTORS: &str = include_str!("../../fixtures/project-id-go.tsv");

    /// Ids werf computes (Go's `net/url`, go-git's endpoint): fixtures/project-id-go.tsv,
    /// made by fixtures/werf_project_id.go. Unicode hosts stay Unicode (no IDNA); `%XX` of
    /// non-ASCII bytes is decoded; an escaped ASCII byte in a host means no id.
    #[test]
    fn werfs_ids_for_unicode_and_escaped_hosts() {
        let mut rows = 0;
        for line in GO_VECTORS
            .lines()
            .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        {
            let mut cols = line.split('\t');
            let url = cols.next().unwrap();
            let expected = cols.next().unwrap_or("").trim();
            assert_eq!(project_id_from_url(url), expected, "{url}");
            rows += 1;
        }
        assert!(rows >= 8, "{rows}");
    }

    #[test]
    fn every_form_of_one_remote_agrees() {
        // Found by property tests: non-ASCII, percent-encoded and numeric hosts, `/.git`
        // paths and scp-like IPv6 hosts.
        let same = [
            ("git@bücher.example:a/b.git", "https://bücher.example/a/b"),
            (
                "git@b%C3%BCcher.example:a/b.git",
                "https://bücher.example/a/b",
            ),
            ("git@0x7f.1:x", "https://0x7f.1/x"),
            ("/srv/repo/.git", "/srv/repo"),
            ("https://host/a/b/.git/", "https://host/a/b"),
            ("git@[::1]:a/b", "ssh://git@[::1]/a/b"),
        ];
        for (a, b) in same {
            assert_ne!(project_id_from_url(a), "", "{a}");
            assert_eq!(project_id_from_url(a), project_id_from_url(b), "{a} vs {b}");
        }
    }

    #[test]
    fn odd_but_valid_urls() {
        assert_eq!(
            normalize("https://host/my%20repo.git"),
            Some(("host".into(), "my repo".into()))
        );
        assert_eq!(
            normalize("git@host:группа/проект.git"),
            Some(("host".into(), "группа/проект".into()))
        );
        assert_eq!(
            normalize("https://[::1]:8080/a/b"),
            Some(("[::1]".into(), "a/b".into()))
        );
    }

    #[test]
    fn config_parsing() {
        let cfg = "[core]\n\tbare = false\n[remote \"upstream\"]\n\turl = https://u/x\n[remote \"origin\"]\n\turl = \"git@h:o/r.git\" # comment\n\tfetch = +refs/heads/*:refs/remotes/origin/*\n";
        assert_eq!(remote_url(cfg, "origin").as_deref(), Some("git@h:o/r.git"));
        assert_eq!(remote_url(cfg, "upstream").as_deref(), Some("https://u/x"));
        assert_eq!(remote_url(cfg, "none"), None);
        assert_eq!(
            remote_url("[remote.origin]\nurl=a:b/c\n", "origin").as_deref(),
            Some("a:b/c")
        );
        assert_eq!(
            remote_url("[remote \"origin\"] url = x:y/z\n", "origin").as_deref(),
            Some("x:y/z")
        );
        assert_eq!(
            remote_url("[remote \"origin\"]\nurl = x:y/\\\nz\n", "origin").as_deref(),
            Some("x:y/z")
        );
        assert_eq!(
            remote_url("[remote \"Origin\"]\nurl = x:y/z\n", "origin"),
            None
        );
    }
}
