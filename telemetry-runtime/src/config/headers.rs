//! Request headers (SPEC S-8): the application's (`Telemetry::header`), then the person's
//! (`<PREFIX>_TELEMETRY_HEADERS`, OpenTelemetry's `name=value,…` with values
//! percent-decoded). Values are secrets: notes name the variable and the entry's position
//! or the header's name, never a value.

use super::builder::AppConfig;
use super::env::{Env, Note};

/// The app's headers, then `<PREFIX>_TELEMETRY_HEADERS` (OpenTelemetry's format:
/// `name=value` pairs separated by commas, values percent-decoded); a user header replaces
/// an app header of the same name. Notes name the variable and the entry's position or the
/// header's name, never a value.
pub(crate) fn read_headers(
    app: &AppConfig,
    env: &dyn Env,
    notes: &mut Vec<Note>,
) -> Vec<(String, String)> {
    let mut headers: Vec<(String, String)> = Vec::new();
    let mut add = |name: &str, value: String, notes: &mut Vec<Note>, origin: &str| {
        let name = name.trim();
        if !is_token(name) {
            notes.push(Note::warn(format!(
                "{origin}: a header name is not a valid HTTP header name; ignored"
            )));
        } else if value.contains(['\r', '\n', '\0']) {
            notes.push(Note::warn(format!(
                "{origin}: the value of header {name} has a line break; ignored"
            )));
        } else {
            headers.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
            headers.push((name.to_owned(), value));
        }
    };
    for (name, value) in &app.headers {
        add(name, value.trim().to_owned(), notes, "Telemetry::header");
    }
    let var = app.var("_HEADERS");
    if let Some(raw) = env.var_os(&var) {
        match raw.to_str() {
            None => notes.push(Note::warn(format!("{var} is not valid UTF-8; ignored"))),
            Some(raw) => {
                for (i, entry) in raw.split(',').enumerate() {
                    if entry.trim().is_empty() {
                        continue;
                    }
                    match entry.split_once('=') {
                        Some((name, value)) if !name.trim().is_empty() => {
                            add(name, percent_decode(value.trim()), notes, &var)
                        }
                        _ => notes.push(Note::warn(format!(
                            "{var}: entry {} is not name=value; ignored",
                            i + 1
                        ))),
                    }
                }
            }
        }
    }
    headers
}

/// An HTTP header name (RFC 9110 token).
fn is_token(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

/// Percent-decodes `%XX` (invalid sequences stay as they are, invalid UTF-8 is replaced).
pub(crate) fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = |b: u8| (b as char).to_digit(16);
            if let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}
