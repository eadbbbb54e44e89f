//! Decide: whether telemetry is on, which setting decided, and everything else the
//! application and the person running it configured (SPEC S-7 to S-10, S-12, S-15).
//!
//! - [`builder`]: what the application sets in code, [`Telemetry`] (its `AppConfig`);
//! - [`env`]: what the environment says, through the `Env` abstraction every rule reads
//!   (so the rules are tested without the process environment), switches and the `Note`s of
//!   ignored values; [`ci`]: CI detection;
//! - [`decide`]: the order of the rules, [`Decision`]; [`delivery`]: detached or inline,
//!   and why; [`settings`]: everything read once at
//!   install (`Settings::from_env`); [`headers`]: request headers and percent-decoding;
//!   [`sampling`]: the sample rate in force and this process's one draw;
//! - `policy`: the machine's policy file, which can only switch telemetry off;
//! - `choice`: the person's lasting choice and the installation id in
//!   `<config dir>/<app>/telemetry.json`; `notice`: the first-run notice; [`dirs`]: the
//!   cache and config directories; `files`: private (0700/0600) directories and files.
//!
//! It offers the others `Telemetry`/`AppConfig`, `Settings`, `Env`/`ProcessEnv`, `Note`,
//! CI detection and the private-file helpers; it imports nothing of theirs but the event
//! vocabulary (`crate::event`) and `crate::random`.

pub(crate) mod builder;
pub(crate) mod ci;
pub(crate) mod decide;
pub(crate) mod delivery;
pub(crate) mod dirs;
pub(crate) mod env;
pub(crate) mod headers;
#[cfg(feature = "telemetry")]
pub(crate) mod policy;
pub(crate) mod sampling;
pub(crate) mod settings;

#[cfg(feature = "telemetry")]
pub(crate) mod choice;
#[cfg(feature = "telemetry")]
pub(crate) mod files;
#[cfg(feature = "telemetry")]
pub(crate) mod notice;

pub use builder::{
    Protocol, Telemetry, DEFAULT_SENDER_LIFE, DEFAULT_TIMEOUT, MAX_SENDER_LIFE, MAX_TIMEOUT,
};
pub use decide::Decision;
pub use delivery::{Delivery, DeliveryReason};
pub use env::{parse_switch, Note};

pub(crate) use builder::AppConfig;
#[cfg(feature = "telemetry")]
pub(crate) use builder::SpoolSetting;
pub(crate) use ci::detect_ci;
pub(crate) use env::{Env, ProcessEnv};
#[cfg(feature = "telemetry")]
pub(crate) use files::{create_private_dir, write_private};
#[cfg(feature = "telemetry")]
pub(crate) use headers::percent_decode;
pub(crate) use settings::Settings;
