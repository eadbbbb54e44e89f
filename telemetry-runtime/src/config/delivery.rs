//! The delivery mode (SPEC S-9): how the process's exit relates to the network.
//!
//! - [`Delivery::Detached`]: every event is appended to the durable queue as it is recorded;
//!   at exit the process hands the queue to one detached sender process and returns at
//!   once. The default for interactive runs when `main` carries `#[cli_telemetry::main]`.
//! - [`Delivery::Inline`]: at exit, pending events are sent with the deadline. The default
//!   in CI (a job's end kills what is left, and its disk does not persist), without
//!   `#[cli_telemetry::main]`, and when there is no queue to hand over.
//!
//! The application chooses with `Telemetry::delivery`, the person running it with
//! `<PREFIX>_TELEMETRY_DELIVERY=detached|inline` (which wins; an invalid value is ignored
//! with a note).

use std::sync::atomic::{AtomicBool, Ordering};

use serde::{Deserialize, Serialize};

use super::env::{Env, Note};

/// How events leave the process (SPEC S-9).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum Delivery {
    /// Queue every event; at exit hand the queue to one detached sender process and return
    /// at once: the exit never waits for the network.
    Detached,
    /// Send from the process; at exit wait for pending events until the deadline.
    Inline,
}

impl Delivery {
    /// `detached` or `inline`.
    pub fn as_str(self) -> &'static str {
        match self {
            Delivery::Detached => "detached",
            Delivery::Inline => "inline",
        }
    }

    /// Parses `detached` or `inline` (case-insensitive, surrounding white space ignored).
    pub fn parse(name: &str) -> Option<Delivery> {
        let name = name.trim();
        if name.eq_ignore_ascii_case("detached") {
            Some(Delivery::Detached)
        } else if name.eq_ignore_ascii_case("inline") {
            Some(Delivery::Inline)
        } else {
            None
        }
    }
}

/// What decided the delivery mode (SPEC S-14).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum DeliveryReason {
    /// `<PREFIX>_TELEMETRY_DELIVERY` was set to a valid value.
    EnvVar {
        /// The variable's name.
        var: String,
    },
    /// The application chose it (`Telemetry::delivery`).
    App,
    /// A CI run: inline, since a job's end kills what is left and its disk does not persist.
    Ci,
    /// `main` does not carry `#[cli_telemetry::main]`, so the process's end is not known.
    NoMainAttribute,
    /// An interactive run with `#[cli_telemetry::main]`.
    Default,
    /// Detached was wanted, but there is no queue (no cache directory, or the application
    /// disabled it) to hand over.
    NoQueue,
    /// Detached was asked for (by `<PREFIX>_TELEMETRY_DELIVERY` or the application), but
    /// `main` does not carry `#[cli_telemetry::main]`: a detached sender, the same
    /// executable, would run the application's `main` (SPEC R-5).
    DetachedNeedsMain,
}

impl DeliveryReason {
    /// A short human description.
    pub fn describe(&self) -> String {
        match self {
            DeliveryReason::EnvVar { var } => format!("{var} is set"),
            DeliveryReason::App => "the application chose it".into(),
            DeliveryReason::Ci => "a CI run (inline is the default in CI)".into(),
            DeliveryReason::NoMainAttribute => {
                "main does not carry #[cli_telemetry::main] (inline is the default then)".into()
            }
            DeliveryReason::Default => {
                "the default for interactive runs with #[cli_telemetry::main]".into()
            }
            DeliveryReason::NoQueue => {
                "detached was wanted, but there is no queue directory to hand over".into()
            }
            DeliveryReason::DetachedNeedsMain => {
                "detached was asked for, but main does not carry #[cli_telemetry::main] (a detached sender would run the application's code)".into()
            }
        }
    }

    /// The name in status JSON.
    pub fn as_str(&self) -> &'static str {
        match self {
            DeliveryReason::EnvVar { .. } => "env",
            DeliveryReason::App => "app",
            DeliveryReason::Ci => "ci",
            DeliveryReason::NoMainAttribute => "noMainAttribute",
            DeliveryReason::Default => "default",
            DeliveryReason::NoQueue => "noQueue",
            DeliveryReason::DetachedNeedsMain => "detachedNeedsMain",
        }
    }
}

/// Set by `#[cli_telemetry::main]` before `main`'s body runs.
static MAIN_ATTRIBUTE: AtomicBool = AtomicBool::new(false);

/// `main` carries `#[cli_telemetry::main]`: the process's end is known.
#[cfg(feature = "telemetry")]
pub(crate) fn mark_main_attribute() {
    MAIN_ATTRIBUTE.store(true, Ordering::Release);
}

pub(crate) fn has_main_attribute() -> bool {
    MAIN_ATTRIBUTE.load(Ordering::Acquire)
}

/// The mode for this run: the person's variable, then the application's choice, then the
/// defaults (inline in CI and without the main attribute, else detached). Detached is never
/// the mode without the main attribute, whoever asks: it is inline then, with a note.
pub(crate) fn resolve(
    var: &str,
    app: Option<Delivery>,
    ci: bool,
    main_attribute: bool,
    env: &dyn Env,
    notes: &mut Vec<Note>,
) -> (Delivery, DeliveryReason) {
    let (mode, reason) = asked(var, app, ci, main_attribute, env, notes);
    if mode == Delivery::Detached && !main_attribute {
        let who = match reason {
            DeliveryReason::EnvVar { .. } => format!("{var}=detached"),
            _ => "the application's Delivery::Detached".to_owned(),
        };
        notes.push(Note::warn(format!(
            "{who} needs #[cli_telemetry::main] on main (a detached sender would run the application's code); delivering inline"
        )));
        return (Delivery::Inline, DeliveryReason::DetachedNeedsMain);
    }
    (mode, reason)
}

fn asked(
    var: &str,
    app: Option<Delivery>,
    ci: bool,
    main_attribute: bool,
    env: &dyn Env,
    notes: &mut Vec<Note>,
) -> (Delivery, DeliveryReason) {
    if let Some(value) = env.var_os(var) {
        match value.to_str().and_then(Delivery::parse) {
            Some(mode) => {
                return (
                    mode,
                    DeliveryReason::EnvVar {
                        var: var.to_owned(),
                    },
                )
            }
            None => notes.push(Note::ignored(var, &value, "is neither detached nor inline")),
        }
    }
    if let Some(mode) = app {
        return (mode, DeliveryReason::App);
    }
    if ci {
        (Delivery::Inline, DeliveryReason::Ci)
    } else if !main_attribute {
        (Delivery::Inline, DeliveryReason::NoMainAttribute)
    } else {
        (Delivery::Detached, DeliveryReason::Default)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mode<const N: usize>(
        app: Option<Delivery>,
        ci: bool,
        main: bool,
        env: [(&str, &str); N],
    ) -> (Delivery, DeliveryReason, usize) {
        let mut notes = Vec::new();
        let (d, r) = resolve("W_TELEMETRY_DELIVERY", app, ci, main, &env, &mut notes);
        (d, r, notes.len())
    }

    #[test]
    fn the_person_then_the_app_then_the_defaults() {
        use Delivery::*;
        assert_eq!(
            mode(None, false, true, []),
            (Detached, DeliveryReason::Default, 0)
        );
        assert_eq!(mode(None, true, true, []), (Inline, DeliveryReason::Ci, 0));
        assert_eq!(
            mode(None, false, false, []),
            (Inline, DeliveryReason::NoMainAttribute, 0)
        );
        assert_eq!(
            mode(Some(Inline), false, true, []),
            (Inline, DeliveryReason::App, 0)
        );
        assert_eq!(
            mode(Some(Detached), true, true, []),
            (Detached, DeliveryReason::App, 0)
        );
        // Never detached without the main attribute, whoever asks: inline, with a note.
        assert_eq!(
            mode(Some(Detached), false, false, []),
            (Inline, DeliveryReason::DetachedNeedsMain, 1)
        );
        assert_eq!(
            mode(None, false, false, [("W_TELEMETRY_DELIVERY", "detached")]),
            (Inline, DeliveryReason::DetachedNeedsMain, 1)
        );
        let var = DeliveryReason::EnvVar {
            var: "W_TELEMETRY_DELIVERY".into(),
        };
        assert_eq!(
            mode(
                Some(Inline),
                true,
                true,
                [("W_TELEMETRY_DELIVERY", " Detached ")]
            ),
            (Detached, var.clone(), 0)
        );
        assert_eq!(
            mode(None, false, true, [("W_TELEMETRY_DELIVERY", "inline")]),
            (Inline, var, 0)
        );
    }

    #[test]
    fn an_invalid_value_is_ignored_with_a_note() {
        let mut notes = Vec::new();
        let env = [("W_TELEMETRY_DELIVERY", "later-s3cret")];
        let got = resolve("W_TELEMETRY_DELIVERY", None, false, true, &env, &mut notes);
        assert_eq!(got, (Delivery::Detached, DeliveryReason::Default));
        assert_eq!(notes.len(), 1);
        assert!(notes[0].message.contains("W_TELEMETRY_DELIVERY"));
        assert!(
            !notes[0].message.contains("s3cret"),
            "the log file never holds values"
        );
        assert!(
            notes[0].shown().contains("later-s3cret"),
            "status shows it as typed"
        );
    }
}
