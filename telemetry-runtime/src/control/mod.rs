//! Control: what the people running the tool use to see and steer telemetry (SPEC S-14,
//! S-15).
//!
//! - [`status`]: whether telemetry is on, the one setting that decided, where events go, the
//!   next event as it would be sent — computed without sending or writing anything;
//! - [`command`]: the lasting choice (`set_enabled`, `reset`) and the ready-made
//!   `<app> telemetry status [--json] | enable | disable | reset` subcommand.
//!
//! It sits on top: it reads `config`, `record` (attributes, project id) and `deliver`
//! (endpoint and proxy, to show them; the queue, to delete it), and nothing imports it but
//! the crate's root.

pub(crate) mod command;
pub(crate) mod status;
