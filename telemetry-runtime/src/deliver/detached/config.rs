//! What a run tells the sender it starts, in the sender's environment: the marker (a start
//! token), its settings, the queue's path, and the name it runs under.

use serde::{Deserialize, Serialize};

use crate::config::AppConfig;

/// The environment variable that makes the executable a detached sender: a start token.
pub(crate) const MARKER: &str = "CLI_TELEMETRY_SENDER";
/// The environment variable with the sender's settings ([`SenderConfig`] as JSON).
pub(crate) const CONFIG: &str = "CLI_TELEMETRY_SENDER_CONFIG";
/// The environment variable with the queue's path, as the bytes the run had (not JSON: a
/// path need not be UTF-8).
pub(crate) const QUEUE: &str = "CLI_TELEMETRY_SENDER_QUEUE";
/// The sender's `argv[0]` (and its whole command line): a name, not a payload, that tells a
/// process this library started (which must never run the application, whatever else is
/// wrong) from one that merely found the marker in its environment (which must run it).
/// `ps` shows it, so people can see what the process is.
pub(crate) const ARGV0: &str = "cli-telemetry-sender";

/// What a detached sender needs to know, since `main`'s body never runs in it.
#[derive(Serialize, Deserialize)]
pub(crate) struct SenderConfig {
    pub app: AppConfig,
    /// The run that started it: the sender drains once it has ended.
    pub parent: u32,
    /// 0 for a sender a run started; 1 for the successor a sender started as its life
    /// ended, which starts none: a chain is two lives long at most, whatever the endpoint.
    #[serde(default)]
    pub generation: u32,
}
