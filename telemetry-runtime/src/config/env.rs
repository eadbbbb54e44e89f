//! What the environment says: read access to environment variables ([`Env`], so that the
//! rules can be tested without touching the process environment), boolean switches, and
//! the [`Note`]s that record an ignored value.

use std::ffi::{OsStr, OsString};

/// A diagnostic about the environment: a value that was ignored, and why. Recorded in the
/// log file, which holds variable names, never their values; never printed outside debug
/// mode. Status, which people read in their own terminal, may show the value as typed.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Note {
    /// Severity (`"warn"`).
    pub level: &'static str,
    /// What was ignored and why (names only).
    pub message: String,
    /// The same with the value as the person typed it, for their own terminal (status).
    pub as_typed: Option<String>,
}

impl Note {
    pub(crate) fn warn(message: String) -> Self {
        Note {
            level: "warn",
            message,
            as_typed: None,
        }
    }

    /// `{var} {what}; ignored` for the log file (which never gets the value, whatever it
    /// is), and the same with the value as the person typed it for status (their terminal).
    pub(crate) fn ignored(var: &str, value: &OsStr, what: &str) -> Self {
        let mut note = Note::warn(format!("{var} {what}; ignored"));
        note.as_typed = Some(format!(
            "{var}={:?} {what}; ignored",
            value.to_string_lossy()
        ));
        note
    }

    /// What status shows: the value as typed when there is one.
    pub fn shown(&self) -> &str {
        self.as_typed.as_deref().unwrap_or(&self.message)
    }
}

/// Read access to environment variables, so the rules can be tested without touching the
/// process environment.
pub(crate) trait Env {
    fn var_os(&self, key: &str) -> Option<OsString>;
    fn vars_os(&self) -> Vec<(OsString, OsString)>;
}

/// The real process environment.
pub(crate) struct ProcessEnv;

impl Env for ProcessEnv {
    fn var_os(&self, key: &str) -> Option<OsString> {
        std::env::var_os(key)
    }
    fn vars_os(&self) -> Vec<(OsString, OsString)> {
        std::env::vars_os().collect()
    }
}

impl<const N: usize> Env for [(&str, &str); N] {
    fn var_os(&self, key: &str) -> Option<OsString> {
        self.iter()
            .find(|(k, _)| *k == key)
            .map(|(_, v)| OsString::from(v))
    }
    fn vars_os(&self) -> Vec<(OsString, OsString)> {
        self.iter()
            .map(|(k, v)| (OsString::from(k), OsString::from(v)))
            .collect()
    }
}

impl Env for Vec<(OsString, OsString)> {
    fn var_os(&self, key: &str) -> Option<OsString> {
        self.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone())
    }
    fn vars_os(&self) -> Vec<(OsString, OsString)> {
        self.clone()
    }
}

/// Parses a boolean switch: 1/true/yes/on and 0/false/no/off, case-insensitive, surrounding
/// white space ignored. Anything else (including non-UTF-8) is `None`.
pub fn parse_switch(value: &OsStr) -> Option<bool> {
    let s = value.to_str()?.trim();
    const ON: [&str; 4] = ["1", "true", "yes", "on"];
    const OFF: [&str; 4] = ["0", "false", "no", "off"];
    if ON.iter().any(|v| s.eq_ignore_ascii_case(v)) {
        Some(true)
    } else if OFF.iter().any(|v| s.eq_ignore_ascii_case(v)) {
        Some(false)
    } else {
        None
    }
}

/// Reads a switch variable; an unrecognised value is ignored with a note.
pub(crate) fn switch(env: &dyn Env, var: &str, notes: &mut Vec<Note>) -> Option<bool> {
    let value = env.var_os(var)?;
    let parsed = parse_switch(&value);
    if parsed.is_none() {
        let mut note = Note::warn(format!(
            "{var} has a value that is neither on (1/true/yes/on) nor off (0/false/no/off); ignored as if unset"
        ));
        note.as_typed = Some(format!(
            "{var}={:?} is neither on (1/true/yes/on) nor off (0/false/no/off); ignored",
            value.to_string_lossy()
        ));
        notes.push(note);
    }
    parsed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn switch_values() {
        for on in ["1", "true", "TRUE", "Yes", "on", " on "] {
            assert_eq!(parse_switch(OsStr::new(on)), Some(true), "{on}");
        }
        for off in ["0", "false", "No", "OFF"] {
            assert_eq!(parse_switch(OsStr::new(off)), Some(false), "{off}");
        }
        for junk in ["", "maybe", "2", "enable", "truee"] {
            assert_eq!(parse_switch(OsStr::new(junk)), None, "{junk}");
        }
    }

    #[cfg(unix)]
    #[test]
    fn non_utf8_switch_is_ignored() {
        use std::os::unix::ffi::OsStringExt;
        assert_eq!(parse_switch(&OsString::from_vec(vec![0x31, 0xff])), None);
    }
}
