//! Environment rules (SPEC S-7, S-4, R-1, R-4): any set of variables, with any bytes as
//! names and values (non-UTF-8 included), under any application name, must never panic,
//! must decide on/off exactly as S-7 says, and must render attributes as valid JSON.
#![no_main]

use std::ffi::OsString;
use std::os::unix::ffi::OsStringExt;

use arbitrary::Arbitrary;
use cli_telemetry::__private::fuzz::evaluate_env;
use cli_telemetry::parse_switch;
use libfuzzer_sys::fuzz_target;

/// Variable names: mostly the ones the library reads, so the fuzzer reaches every rule.
#[derive(Arbitrary, Debug)]
enum Name {
    Telemetry,
    DoNotTrack,
    Debug,
    LogFile,
    TraceUrl,
    TimeoutMs,
    Extra(String),
    Ci,
    CiSystem(u8),
    /// `HOME`, `XDG_CACHE_HOME`, `XDG_CONFIG_HOME` (spool and first-run marker locations).
    Dir(u8),
    Raw(Vec<u8>),
}

#[derive(Arbitrary, Debug)]
enum Value {
    Switch(u8, bool, bool),
    Number(u64),
    Utf8(String),
    Bytes(Vec<u8>),
}

#[derive(Arbitrary, Debug)]
struct Input {
    app: String,
    default_on: bool,
    vars: Vec<(Name, Value)>,
}

const SWITCHES: [&str; 8] = ["1", "true", "yes", "on", "0", "false", "no", "off"];
const CI_VARS: [&str; 10] = [
    "GITLAB_CI",
    "GITHUB_ACTIONS",
    "JENKINS_URL",
    "TRAVIS",
    "CIRCLECI",
    "TEAMCITY_VERSION",
    "BUDDY",
    "GO_SERVER_URL",
    "TF_BUILD",
    "BUILDKITE",
];

const DIR_VARS: [&str; 3] = ["HOME", "XDG_CACHE_HOME", "XDG_CONFIG_HOME"];

/// `Telemetry::builder(app)`'s default prefix.
fn prefix(app: &str) -> String {
    app.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect()
}

fn name(n: &Name, prefix: &str) -> OsString {
    match n {
        Name::Telemetry => format!("{prefix}_TELEMETRY").into(),
        Name::DoNotTrack => "DO_NOT_TRACK".into(),
        Name::Debug => format!("{prefix}_TELEMETRY_DEBUG").into(),
        Name::LogFile => format!("{prefix}_TELEMETRY_LOG_FILE").into(),
        Name::TraceUrl => format!("{prefix}_TELEMETRY_TRACE_URL").into(),
        Name::TimeoutMs => format!("{prefix}_TELEMETRY_TIMEOUT_MS").into(),
        Name::Extra(s) => format!("{prefix}_TELEMETRY_EXTRA_ATTRIBUTE_{s}").into(),
        Name::Ci => "CI".into(),
        Name::CiSystem(i) => CI_VARS[usize::from(*i) % CI_VARS.len()].into(),
        Name::Dir(i) => DIR_VARS[usize::from(*i) % DIR_VARS.len()].into(),
        Name::Raw(b) => OsString::from_vec(b.clone()),
    }
}

fn value(v: &Value) -> OsString {
    match v {
        Value::Switch(i, upper, padded) => {
            let mut s = SWITCHES[usize::from(*i) % SWITCHES.len()].to_owned();
            if *upper {
                s = s.to_uppercase();
            }
            if *padded {
                s = format!(" {s}\t");
            }
            s.into()
        }
        Value::Number(n) => n.to_string().into(),
        Value::Utf8(s) => s.into(),
        Value::Bytes(b) => OsString::from_vec(b.clone()),
    }
}

/// The first value of `key`, as the library's lookup sees it.
fn first(vars: &[(OsString, OsString)], key: &str) -> Option<bool> {
    vars.iter()
        .find(|(k, _)| k == key)
        .and_then(|(_, v)| parse_switch(v))
}

fuzz_target!(|input: Input| {
    let prefix = prefix(&input.app);
    let vars: Vec<(OsString, OsString)> = input
        .vars
        .iter()
        .map(|(n, v)| (name(n, &prefix), value(v)))
        .collect();

    for (_, v) in &vars {
        if let Some(on) = parse_switch(v) {
            let s = v
                .to_str()
                .expect("a recognised switch is UTF-8")
                .trim()
                .to_ascii_lowercase();
            assert!(SWITCHES.contains(&s.as_str()), "{v:?} accepted as a switch");
            assert_eq!(on, SWITCHES[..4].contains(&s.as_str()), "{v:?}");
        }
    }

    let (enabled, attributes) = evaluate_env(&input.app, input.default_on, vars.clone());

    // SPEC S-7: an explicit off (DO_NOT_TRACK or <PREFIX>_TELEMETRY) wins over any on;
    // unrecognised values are ignored as if unset; <PREFIX>_TELEMETRY_DEBUG alone turns on
    // print-only mode; otherwise the app's default.
    let dnt = first(&vars, "DO_NOT_TRACK");
    let main = first(&vars, &format!("{prefix}_TELEMETRY"));
    let debug = first(&vars, &format!("{prefix}_TELEMETRY_DEBUG"));
    let expected = if dnt == Some(true) || main == Some(false) {
        false
    } else {
        main == Some(true) || debug == Some(true) || input.default_on
    };
    assert_eq!(
        enabled, expected,
        "dnt={dnt:?} main={main:?} debug={debug:?} default={}",
        input.default_on
    );

    let json: serde_json::Value = serde_json::from_str(&attributes).expect("attributes are JSON");
    assert!(
        json.get("os").is_some() && json.get("arch").is_some(),
        "{attributes}"
    );
});
