//! How the library tells its own arguments from the application's (SPEC S-11, S-15): the
//! `--telemetry <ACTION>` option of `TelemetryFlag` and the ready-made `telemetry`
//! subcommand. Parsing either one makes a run that only performs a telemetry action: it is
//! not reported as a command, and the option is never listed among the options used.
//!
//! Both are recognised by what `control` builds them with, not by name (an application may
//! have an option or subcommand called `telemetry` of its own). A program that builds the
//! option spells the lasting choice `<app> --telemetry <action>` in what the library prints.

use std::sync::atomic::{AtomicBool, Ordering};

#[cfg(feature = "telemetry")]
use clap::{Arg, Command};

/// The `--telemetry` option's values: the actions, then the hidden ones.
pub(crate) const FLAG_VALUES: [&str; 6] =
    ["status", "enable", "disable", "reset", "catalog", "--json"];

/// How many of [`FLAG_VALUES`] are shown (the rest are hidden).
pub(crate) const FLAG_SHOWN: usize = 4;

/// The `about` of the `telemetry` subcommand's hidden `catalog`.
pub(crate) const CATALOG_ABOUT: &str =
    "Print every command and option as telemetry names them (JSON)";

/// The `--telemetry` option of `TelemetryFlag`: an option whose possible values are exactly
/// [`FLAG_VALUES`].
#[cfg(feature = "telemetry")]
pub(crate) fn is_telemetry_flag(arg: &Arg) -> bool {
    let values = arg.get_possible_values();
    values.len() == FLAG_VALUES.len()
        && values
            .iter()
            .zip(FLAG_VALUES)
            .all(|(v, name)| v.get_name() == name)
}

/// The `telemetry` subcommand of `TelemetryArgs`: it has the hidden `catalog` subcommand
/// with the library's own `about`.
#[cfg(feature = "telemetry")]
pub(crate) fn is_telemetry_subcommand(cmd: &Command) -> bool {
    cmd.find_subcommand("catalog").is_some_and(|c| {
        c.is_hide_set()
            && c.get_about()
                .is_some_and(|a| a.to_string() == CATALOG_ABOUT)
    })
}

/// Set when this program builds `TelemetryFlag`'s option: the lasting choice is spelled
/// `<app> --telemetry <action>` in what the library prints.
static FLAG_FORM: AtomicBool = AtomicBool::new(false);

/// This program offers the lasting choice as `--telemetry <action>`.
pub(crate) fn use_flag_form() {
    FLAG_FORM.store(true, Ordering::Relaxed);
}

/// `<app> telemetry`, or `<app> --telemetry` in a program with `TelemetryFlag`.
pub(crate) fn lasting_switch(app: &str) -> String {
    if FLAG_FORM.load(Ordering::Relaxed) {
        format!("{app} --telemetry")
    } else {
        format!("{app} telemetry")
    }
}
