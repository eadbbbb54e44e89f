//! The decision (SPEC S-7, S-15): on or off, and the one setting that decided
//! ([`Decision`]). Any explicit off wins (`DO_NOT_TRACK`, `<PREFIX>_TELEMETRY=0`, the lasting
//! choice off), then any explicit on, then debug mode, then the application's default.

use std::path::PathBuf;

use super::builder::AppConfig;
use super::env::{switch, Env, Note};

/// Which setting decided whether telemetry is on (SPEC S-7, S-14).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Decision {
    /// `<PREFIX>_TELEMETRY` was set to a recognised value.
    EnvVar {
        /// The variable's name.
        var: String,
        /// Whether its value meant on.
        on: bool,
    },
    /// `DO_NOT_TRACK` was set to a true value.
    DoNotTrack,
    /// The lasting choice of the person running the tool (`<app> telemetry enable` or
    /// `disable`), kept in this file.
    File {
        /// `<config dir>/<app>/telemetry.json`.
        path: PathBuf,
        /// Whether the choice is on.
        on: bool,
    },
    /// `<PREFIX>_TELEMETRY_DEBUG` turned telemetry on in debug mode (print, never send).
    Debug {
        /// The variable's name.
        var: String,
    },
    /// Nothing was set: the application's default applies.
    AppDefault {
        /// The default.
        on: bool,
    },
    /// The machine's policy file (SPEC S-23) switches telemetry off for every user.
    Policy {
        /// The policy file.
        path: PathBuf,
    },
    /// The crate was built without its `telemetry` feature.
    CompiledOut,
}

impl Decision {
    /// A short human description: `WERF_TELEMETRY=1`, `DO_NOT_TRACK`, ….
    pub fn describe(&self) -> String {
        match self {
            Decision::EnvVar { var, on: true } => format!("{var} is set to on"),
            Decision::EnvVar { var, on: false } => format!("{var} is set to off"),
            Decision::DoNotTrack => "DO_NOT_TRACK is set".into(),
            Decision::File { path, on } => format!(
                "your lasting choice is {} (in {})",
                on_off(*on),
                path.display()
            ),
            Decision::Debug { var } => format!("{var} is set (debug mode: print, never send)"),
            Decision::AppDefault { on } => format!(
                "nothing is set; the application's default is {}",
                on_off(*on)
            ),
            Decision::Policy { path } => format!(
                "the machine's policy ({}) keeps telemetry off for every user",
                path.display()
            ),
            Decision::CompiledOut => "this build has no telemetry (compiled out)".into(),
        }
    }
}

/// Only the variable that decides on/off is read; when off, nothing else is.
pub(crate) fn decide(
    app: &AppConfig,
    env: &dyn Env,
    notes: &mut Vec<Note>,
) -> (bool, Decision, bool) {
    // The machine's policy comes first: it can only switch off, and nothing overrides it.
    if let Some(path) = policy_file(app, env) {
        return (false, Decision::Policy { path }, false);
    }
    let main_var = app.var("");
    let debug_var = app.var("_DEBUG");
    let explicit = switch(env, &main_var, notes);
    let dnt = switch(env, "DO_NOT_TRACK", notes);
    let debug = switch(env, &debug_var, notes).unwrap_or(false);
    if dnt == Some(true) {
        return (false, Decision::DoNotTrack, false);
    }
    if explicit == Some(false) {
        return (
            false,
            Decision::EnvVar {
                var: main_var,
                on: false,
            },
            false,
        );
    }
    // The lasting choice is read only when the environment has not switched telemetry off.
    let file = lasting_choice(app, env, notes);
    if let Some((path, false)) = file {
        return (false, Decision::File { path, on: false }, false);
    }
    if let Some(true) = explicit {
        return (
            true,
            Decision::EnvVar {
                var: main_var,
                on: true,
            },
            debug,
        );
    }
    if let Some((path, true)) = file {
        return (true, Decision::File { path, on: true }, debug);
    }
    if debug {
        return (true, Decision::Debug { var: debug_var }, true);
    }
    (
        app.enabled_by_default,
        Decision::AppDefault {
            on: app.enabled_by_default,
        },
        false,
    )
}

/// The choice in `<config dir>/<app>/telemetry.json`, if the person made one. A file that
/// can't be read or parsed counts as unset, with a note.
#[cfg(feature = "telemetry")]
fn lasting_choice(
    app: &AppConfig,
    env: &dyn Env,
    notes: &mut Vec<Note>,
) -> Option<(PathBuf, bool)> {
    let path = app.choice_file(env)?;
    match super::choice::read(&path) {
        super::choice::Read::Found(choice) => choice.enabled.map(|on| (path, on)),
        super::choice::Read::Missing => None,
        super::choice::Read::Corrupt => {
            notes.push(Note::warn(format!(
                "{} can't be read as a telemetry choice; ignored as if unset",
                path.display()
            )));
            None
        }
    }
}

#[cfg(not(feature = "telemetry"))]
fn lasting_choice(_: &AppConfig, _: &dyn Env, _: &mut Vec<Note>) -> Option<(PathBuf, bool)> {
    None
}

/// The policy file, when it switches telemetry off.
#[cfg(feature = "telemetry")]
fn policy_file(app: &AppConfig, env: &dyn Env) -> Option<PathBuf> {
    let path = super::policy::path(app, env)?;
    super::policy::forbids(&path).then_some(path)
}

#[cfg(not(feature = "telemetry"))]
fn policy_file(_: &AppConfig, _: &dyn Env) -> Option<PathBuf> {
    None
}

/// `on` or `off`.
pub(crate) fn on_off(on: bool) -> &'static str {
    if on {
        "on"
    } else {
        "off"
    }
}
