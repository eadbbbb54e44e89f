//! Bounded property tests (SPEC R-4, S-5, S-7): a few thousand generated inputs per run,
//! a few seconds in all, so that `cargo test` checks what the fuzz targets in `fuzz/`
//! check at length. See FUZZING.md.
//!
//! - Origin URLs and git config text: no panic on any input; normalized hosts keep no user
//!   info or port, paths no leading `/`; the URL forms of one repository (scp-like,
//!   ssh://, https:// with credentials, port, query and fragment, git://) share one
//!   project id; ids are 64 lowercase hex characters or empty; the SPEC fixture rows.
//! - Environment: switch values are exactly the documented ones, case-insensitively;
//!   `DO_NOT_TRACK` set to a true value always means off; non-UTF-8 values are ignored
//!   as if unset (so never turn telemetry on); switch and detail values never reach the
//!   rendered attributes.
//!
//! Failing cases are printed, minimized, and not persisted to files.
#![cfg(feature = "telemetry")]

mod common;

use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::OsStringExt;

use cli_telemetry::__private::fuzz::{evaluate_env, normalize_origin, origin_from_config};
use cli_telemetry::{parse_switch, project_id_from_url};
use proptest::collection::{btree_map, vec};
use proptest::prelude::*;
use proptest::test_runner::Config;

const FIXTURES: &str = include_str!("../telemetry-runtime/fixtures/project-id.tsv");

/// `n` cases, or `PROPTEST_CASES` when set (for a longer run, see FUZZING.md).
fn cases(n: u32) -> Config {
    common::proptest_cases(n)
}

/// Every invariant of a normalized URL that holds for any input whatsoever.
fn check_url(url: &str) -> Result<(), TestCaseError> {
    let normalized = normalize_origin(url);
    let id = project_id_from_url(url);
    prop_assert_eq!(id.is_empty(), normalized.is_none(), "{:?}", url);
    prop_assert!(
        id.is_empty()
            || (id.len() == 64 && id.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))),
        "{:?} -> {:?}",
        url,
        id
    );
    if let Some((host, path)) = &normalized {
        prop_assert!(
            !path.is_empty() && !path.starts_with('/'),
            "{:?} -> path {:?}",
            url,
            path
        );
        prop_assert!(!host.contains('@'), "{:?} -> host {:?}", url, host);
        prop_assert!(
            !host.bytes().any(|b| b.is_ascii_uppercase()),
            "{:?} -> host {:?}",
            url,
            host
        );
        prop_assert!(
            !host.contains(':') || (host.starts_with('[') && host.ends_with(']')),
            "{:?} -> port left in host {:?}",
            url,
            host
        );
    }
    prop_assert_eq!(
        project_id_from_url(&format!(" \t{url}\n ")),
        id,
        "{:?}",
        url
    );
    Ok(())
}

/// Strings made of the characters that matter to URL parsing, with and without schemes.
fn urlish() -> impl Strategy<Value = String> {
    let prefix = prop_oneof![
        Just(""),
        Just("git@"),
        Just("ssh://"),
        Just("ssh://git@"),
        Just("https://"),
        Just("http://u:p@"),
        Just("git://"),
        Just("file://"),
        Just("/"),
    ];
    (prefix, "[a-zA-Z0-9@:/.%?#\\[\\]~ _\\\\ü-]{0,40}").prop_map(|(p, rest)| format!("{p}{rest}"))
}

/// Host names valid in every URL form: ASCII letter-led labels, mixed case.
fn host() -> impl Strategy<Value = String> {
    let label = prop_oneof![
        6 => "[a-zA-Z][a-zA-Z0-9]{0,8}(-[a-zA-Z0-9]{1,4})?",
        1 => "[a-z]{0,3}[äöüé][a-z]{1,3}", // internationalized: one host in every form
    ];
    vec(label, 1..4).prop_map(|labels| labels.join("."))
}

/// Repository paths: 1–4 segments, some with non-ASCII letters or an inner space; none
/// ends in `.git` (that suffix is what the URL forms add).
fn repo_path() -> impl Strategy<Value = String> {
    let segment = prop_oneof![
        4 => "[a-zA-Z0-9_][a-zA-Z0-9_-]{0,9}",
        1 => "[а-яё]{1,6}",
        1 => "[a-z]{1,4} [a-z]{1,4}",
    ];
    vec(segment, 1..5).prop_map(|s| s.join("/"))
}

fn userinfo() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9_.~-]{1,12}"
}

proptest! {
    #![proptest_config(cases(2000))]

    #[test]
    fn any_string_is_handled(s in any::<String>()) {
        check_url(&s)?;
        let _ = origin_from_config(&s);
        let _ = parse_switch(OsStr::new(&s));
    }

    #[test]
    fn url_like_strings_keep_the_invariants(s in urlish()) {
        check_url(&s)?;
    }

    #[test]
    fn any_bytes_are_handled(bytes in vec(any::<u8>(), 0..64)) {
        let text = String::from_utf8_lossy(&bytes);
        check_url(&text)?;
        let _ = origin_from_config(&text);
        let value = OsString::from_vec(bytes);
        if parse_switch(&value).is_some() {
            prop_assert!(value.to_str().is_some(), "non-UTF-8 {:?} accepted as a switch", value);
        }
    }
}

proptest! {
    #![proptest_config(cases(512))]

    /// SPEC S-5: all URL forms of one repository share one id, and it is the hash of the
    /// lower-cased host and the path without user, password, port, query, fragment,
    /// leading `/` and trailing `.git` or `/`.
    #[test]
    fn url_forms_of_one_repository_share_one_id(
        host in host(),
        path in repo_path(),
        user in userinfo(),
        password in userinfo(),
        port in 1u16..,
        query in "[a-zA-Z0-9=&_./-]{0,10}",
        fragment in "[a-zA-Z0-9_./-]{0,10}",
    ) {
        let forms = [
            format!("git@{host}:{path}.git"),
            format!("{host}:{path}"),
            format!("{user}@{host}:/{path}.git"),
            format!("ssh://git@{host}/{path}.git"),
            format!("ssh://{user}@{host}:{port}/{path}"),
            format!("git+ssh://git@{host}/{path}.git"),
            format!("https://{user}:{password}@{host}:{port}/{path}.git?{query}#{fragment}"),
            format!("https://{host}/{path}"),
            format!("http://{host}/{path}/"),
            format!("HTTPS://{user}@{host}//{path}.git/"),
            format!("git://{host}/{path}"),
            format!("git://{host}:{port}/{path}.git#{fragment}"),
        ];
        // The host as werf hashes it (Go's net/url: Unicode as typed, no IDNA; see
        // telemetry-runtime/fixtures/project-id-go.tsv), ASCII lower-cased.
        let canonical = normalize_origin(&format!("https://{host}/x")).expect("https form parses").0;
        prop_assert_eq!(&canonical, &host.to_ascii_lowercase());
        let expected = Some((canonical, path.clone()));
        let id = project_id_from_url(&forms[0]);
        prop_assert_eq!(id.len(), 64);
        for form in &forms {
            prop_assert_eq!(&normalize_origin(form), &expected, "{}", form);
            prop_assert_eq!(&project_id_from_url(form), &id, "{}", form);
            check_url(form)?;
        }
        // Credentials never shape the id: another user and password, same id.
        prop_assert_eq!(project_id_from_url(&format!("https://x{user}:y{password}@{host}/{path}")), id);
    }

    /// A different repository path on the same host gives a different id.
    #[test]
    fn different_paths_give_different_ids(host in host(), a in repo_path(), b in repo_path()) {
        prop_assume!(a != b);
        prop_assert_ne!(
            project_id_from_url(&format!("git@{host}:{a}.git")),
            project_id_from_url(&format!("git@{host}:{b}.git"))
        );
    }

    /// `remote.origin.url` is read back as written, plain or quoted, among other sections
    /// and remotes; the last value wins; other remotes never answer for origin.
    #[test]
    fn git_config_round_trip(
        url in "[a-zA-Z0-9@:/._~+-][a-zA-Z0-9@:/._~+ -]{0,30}[a-zA-Z0-9@:/._~+-]",
        quoted_part in "[a-zA-Z0-9#; \"\\\\]{0,10}",
        other in "[a-zA-Z0-9@:/._-]{1,20}",
    ) {
        let plain = format!(
            "[core]\n\tbare = false\n[remote \"upstream\"]\n\turl = {other}\n[remote \"origin\"]\n\turl = {url} # comment\n\tfetch = +refs/heads/*:refs/remotes/origin/*\n[branch \"main\"]\n\tremote = origin\n"
        );
        prop_assert_eq!(origin_from_config(&plain), Some(url.clone()));

        let value = format!("{url}{quoted_part}");
        let escaped = value.replace('\\', "\\\\").replace('"', "\\\"");
        let quoted = format!("[remote \"origin\"]\n\turl = \"{escaped}\" ; comment\n");
        prop_assert_eq!(origin_from_config(&quoted), Some(value.trim_end().to_owned()));

        let twice = format!("[remote \"origin\"]\n\turl = {other}\n[remote \"origin\"]\n\tURL = {url}\n");
        prop_assert_eq!(origin_from_config(&twice), Some(url.clone()));

        let no_origin = format!("[remote \"upstream\"]\n\turl = {url}\n[remote \"Origin\"]\n\turl = {other}\n");
        prop_assert_eq!(origin_from_config(&no_origin), None);
    }
}

#[test]
fn spec_fixture_rows() {
    let mut rows = 0;
    for line in FIXTURES
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
    {
        let (url, expected) = line.split_once('\t').expect("two columns");
        assert_eq!(project_id_from_url(url), expected.trim(), "{url}");
        check_url(url).unwrap();
        rows += 1;
    }
    assert!(rows >= 8, "fixture rows read: {rows}");
}

// ---- Environment (SPEC S-7) ----

const ON: [&str; 4] = ["1", "true", "yes", "on"];
const OFF: [&str; 4] = ["0", "false", "no", "off"];

/// A documented value in random ASCII case, with optional surrounding white space.
fn documented_switch() -> impl Strategy<Value = (String, bool)> {
    let value = prop_oneof![
        proptest::sample::select(&ON[..]).prop_map(|v| (v, true)),
        proptest::sample::select(&OFF[..]).prop_map(|v| (v, false)),
    ];
    (value, vec(any::<bool>(), 5), "[ \t]{0,2}", "[ \t]{0,2}").prop_map(
        |((v, on), upper, pre, post)| {
            let cased: String = v
                .chars()
                .zip(upper)
                .map(|(c, u)| if u { c.to_ascii_uppercase() } else { c })
                .collect();
            (format!("{pre}{cased}{post}"), on)
        },
    )
}

fn non_utf8() -> impl Strategy<Value = OsString> {
    vec(any::<u8>(), 0..12)
        // Bytes that never occur in UTF-8, so the value can't become valid by accident.
        .prop_flat_map(|bytes| {
            (
                Just(bytes.clone()),
                0..=bytes.len(),
                proptest::sample::select(&[0xc0u8, 0xc1, 0xf5, 0xfe, 0xff][..]),
            )
        })
        .prop_map(|(mut bytes, at, bad)| {
            bytes.insert(at, bad);
            OsString::from_vec(bytes)
        })
}

/// Any value: a documented switch, a number, any text, or any bytes.
fn env_value() -> impl Strategy<Value = OsString> {
    prop_oneof![
        documented_switch().prop_map(|(v, _)| OsString::from(v)),
        any::<u64>().prop_map(|n| OsString::from(n.to_string())),
        any::<String>().prop_map(OsString::from),
        vec(any::<u8>(), 0..16).prop_map(OsString::from_vec),
    ]
}

/// Names the library reads (for the app `werf`), plus some others.
fn env_name() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("WERF_TELEMETRY".to_owned()),
        Just("WERF_TELEMETRY_DEBUG".to_owned()),
        Just("WERF_TELEMETRY_LOG_FILE".to_owned()),
        Just("WERF_TELEMETRY_TRACE_URL".to_owned()),
        Just("WERF_TELEMETRY_TIMEOUT_MS".to_owned()),
        "WERF_TELEMETRY_EXTRA_ATTRIBUTE_[A-Z]{0,3}",
        Just("CI".to_owned()),
        Just("GITLAB_CI".to_owned()),
        Just("GITHUB_ACTIONS".to_owned()),
        "[A-Z_]{1,12}",
    ]
}

/// An environment: unique names in a random order.
fn environment() -> impl Strategy<Value = Vec<(OsString, OsString)>> {
    btree_map(env_name(), env_value(), 0..8).prop_flat_map(|map| {
        let vars: Vec<_> = map
            .into_iter()
            .map(|(k, v)| (OsString::from(k), v))
            .collect();
        Just(vars).prop_shuffle()
    })
}

fn with(
    mut vars: Vec<(OsString, OsString)>,
    name: &str,
    value: OsString,
    at: usize,
) -> Vec<(OsString, OsString)> {
    vars.retain(|(k, _)| k != name);
    vars.insert(at.min(vars.len()), (name.into(), value));
    vars
}

proptest! {
    #![proptest_config(cases(1000))]

    #[test]
    fn documented_switch_values_are_accepted_in_any_case((value, on) in documented_switch()) {
        prop_assert_eq!(parse_switch(OsStr::new(&value)), Some(on), "{:?}", value);
    }

    /// Exactly the documented values: anything whose trimmed, ASCII-lower-cased form is
    /// not one of them is ignored.
    #[test]
    fn only_documented_switch_values_are_accepted(
        s in prop_oneof![
            any::<String>(),
            "[ 01a-zA-Z\u{17f}\u{212a}]{0,6}",
            "[ \t\u{a0}]{0,2}(?i:1|0|true|false|yes|no|on|off|tru|of|yess|n|onn|t|y|enable)[ \t\n\u{a0}]{0,2}",
        ]
    ) {
        let t = s.trim().to_ascii_lowercase();
        let expected = if ON.contains(&t.as_str()) {
            Some(true)
        } else if OFF.contains(&t.as_str()) {
            Some(false)
        } else {
            None
        };
        prop_assert_eq!(parse_switch(OsStr::new(&s)), expected, "{:?}", s);
    }

    #[test]
    fn non_utf8_is_never_a_switch(value in non_utf8()) {
        prop_assert_eq!(parse_switch(&value), None);
    }
}

proptest! {
    #![proptest_config(cases(512))]

    /// SPEC S-7: DO_NOT_TRACK set to a true value means off, whatever else is set and
    /// whatever the app's default.
    #[test]
    fn do_not_track_always_means_off(
        vars in environment(),
        (dnt, _) in documented_switch().prop_filter("a true value", |(_, on)| *on),
        at in 0usize..8,
        default_on in any::<bool>(),
        main_on in any::<bool>(),
    ) {
        let mut vars = with(vars, "DO_NOT_TRACK", dnt.into(), at);
        if main_on {
            vars = with(vars, "WERF_TELEMETRY", "1".into(), 0);
            vars = with(vars, "WERF_TELEMETRY_DEBUG", "1".into(), 1);
        }
        let (enabled, _) = evaluate_env("werf", default_on, vars.clone());
        prop_assert!(!enabled, "{:?}", vars);
    }

    /// An explicit off in <PREFIX>_TELEMETRY wins over debug and the app's default.
    #[test]
    fn explicit_off_always_means_off(
        vars in environment(),
        (off, _) in documented_switch().prop_filter("a false value", |(_, on)| !*on),
        at in 0usize..8,
        default_on in any::<bool>(),
    ) {
        let vars = with(vars, "WERF_TELEMETRY", off.into(), at);
        let (enabled, _) = evaluate_env("werf", default_on, vars.clone());
        prop_assert!(!enabled, "{:?}", vars);
    }

    /// Non-UTF-8 values alone never turn telemetry on.
    #[test]
    fn non_utf8_values_alone_never_turn_telemetry_on(
        names in proptest::collection::btree_set(env_name(), 0..8),
        values in vec(non_utf8(), 8),
    ) {
        let mut vars: Vec<(OsString, OsString)> =
            names.into_iter().zip(values).map(|(k, v)| (OsString::from(k), v)).collect();
        vars.push(("DO_NOT_TRACK".into(), OsString::from_vec(vec![b'1', 0xff])));
        let (enabled, attributes) = evaluate_env("werf", false, vars.clone());
        prop_assert!(!enabled, "{:?}", vars);
        prop_assert!(serde_json::from_str::<serde_json::Value>(&attributes).is_ok());
    }

    /// Adding non-UTF-8 values under fresh names is the same as not setting them: the
    /// decision never changes.
    #[test]
    fn non_utf8_values_are_ignored_as_if_unset(
        vars in environment(),
        extra in btree_map(prop_oneof![env_name(), Just("DO_NOT_TRACK".to_owned())], non_utf8(), 1..4),
        default_on in any::<bool>(),
    ) {
        let (before, _) = evaluate_env("werf", default_on, vars.clone());
        let mut more = vars.clone();
        for (k, v) in extra {
            if !more.iter().any(|(name, _)| name == k.as_str()) {
                more.push((k.into(), v));
            }
        }
        let (after, _) = evaluate_env("werf", default_on, more.clone());
        prop_assert_eq!(before, after, "{:?}", more);
    }

    /// Values of the switch and detail variables never reach the attributes, which are
    /// always valid JSON; any application name is handled.
    #[test]
    fn setting_values_never_reach_the_attributes(
        vars in environment(),
        marker in "[a-z]{6}",
        default_on in any::<bool>(),
        app in any::<String>(),
    ) {
        let secret = format!("s3cr3t{marker}");
        let mut vars = vars;
        for name in [
            "WERF_TELEMETRY_LOG_FILE",
            "WERF_TELEMETRY_TRACE_URL",
            "WERF_TELEMETRY_TIMEOUT_MS",
            "DO_NOT_TRACK",
        ] {
            vars = with(vars, name, secret.clone().into(), 0);
        }
        vars = with(vars, "WERF_TELEMETRY", format!("on{secret}").into(), 0);
        vars = with(vars, "WERF_TELEMETRY_DEBUG", "1".into(), 0);
        let (enabled, attributes) = evaluate_env("werf", default_on, vars.clone());
        prop_assert!(enabled, "debug alone turns telemetry on");
        prop_assert!(!attributes.contains(&secret), "{}", attributes);
        let json: serde_json::Value = serde_json::from_str(&attributes).expect("JSON");
        prop_assert!(json.get("os").is_some() && json.get("arch").is_some());

        let (_, attributes) = evaluate_env(&app, default_on, vars);
        prop_assert!(serde_json::from_str::<serde_json::Value>(&attributes).is_ok());
    }
}
