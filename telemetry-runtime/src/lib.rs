//! Runtime of [cli-telemetry](https://docs.rs/cli-telemetry): configuration, events,
//! project id, log file, background sender and test harness.
//!
//! Applications depend on the `cli-telemetry` crate, which re-exports everything here
//! together with the `#[instrument_command]` attribute. The runtime has four parts, each a
//! folder whose `mod.rs` says what it does and offers: `config` (decide), `record`,
//! `deliver` and `control` (status and the lasting choice), beside the doorways `api`
//! (what applications call), `__private` (what generated code calls) and [`testing`].
//! See ARCHITECTURE.md for how an event flows through them.
//!
//! ```
//! use cli_telemetry_runtime::Telemetry;
//!
//! let on = Telemetry::builder("werf")
//!     .env_prefix("WERF")
//!     .version("1.2.3")
//!     .endpoint("https://telemetry.example.com/v1/traces")
//!     .install();
//! // Off unless WERF_TELEMETRY=1 (the app's default here is off).
//! # let _ = on;
//! ```
#![warn(missing_docs)]
// docs.rs (`--cfg docsrs`, see Cargo.toml): each item badged with the features it needs.
#![cfg_attr(docsrs, feature(doc_cfg))]

#[cfg(all(
    feature = "telemetry",
    not(any(feature = "builtin-http", feature = "reqwest"))
))]
compile_error!(
    "cli-telemetry: the `telemetry` feature needs a transport: enable `builtin-http` (the \
     default) or `reqwest`; or disable all three to build without telemetry"
);

mod api;
mod catalog;
mod config;
mod control;
#[cfg(feature = "telemetry")]
mod deliver;
mod event;
#[cfg(feature = "telemetry")]
mod random;
mod record;
pub mod testing;

#[doc(hidden)]
#[path = "private.rs"]
pub mod __private;

pub use api::{
    emit, error_category, exit, get_matches, get_matches_from, is_enabled, parse, parse_from,
    record, try_parse_from,
};
pub use catalog::{catalog, catalog_of, Catalog, CatalogCommand, CatalogOption};
pub use config::{
    parse_switch, Decision, Delivery, DeliveryReason, Note, Protocol, Telemetry,
    DEFAULT_SENDER_LIFE, DEFAULT_TIMEOUT, MAX_SENDER_LIFE, MAX_TIMEOUT,
};
pub use control::command::{
    reset, set_enabled, telemetry_command, telemetry_flag, Changed, TelemetryAction, TelemetryArgs,
    TelemetryFlag, TELEMETRY_FLAG_ID,
};
pub use control::status::{print_status, status, Status, STATUS_SCHEMA_VERSION};
pub use event::{Attributes, Event, OptionUsage, COMMAND_EXITED, COMMAND_STARTED, SCHEMA_VERSION};
pub use record::attributes::{go_arch, go_os};
pub use record::exit::{valid_label, ErrorCategory, ErrorExitCode, ExitStatus};
#[cfg(feature = "telemetry")]
#[cfg_attr(docsrs, doc(cfg(feature = "telemetry")))]
pub use record::project::project_id_from_url;
