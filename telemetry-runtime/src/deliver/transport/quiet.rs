//! Would the application hear the transport? (SPEC R-1: nothing of the library's may
//! appear in the application's own `log` or `tracing` output, at any level.)
//!
//! The libraries a transport runs on log through the process-wide facades, and no crate
//! can stop a record from reaching the application's logger once it is made: rustls (when
//! some crate in the build enables its `logging` feature, as rustls's own defaults do)
//! logs every handshake at debug level; reqwest logs every new connection at debug level
//! (`reqwest::connect`: "starting new connection"), and hyper-util emits `tracing` events
//! for connects, lookups and pooling. What a library *can* do is ask first: the `log`
//! facade and `tracing` both answer "would a record of this level and target be kept?".
//!
//! Every record those libraries make on a request's path is at debug or trace level (their
//! warnings are for peers that break the protocol). So before a request, the transport asks
//! whether the application would keep a debug record from any of the crates the request
//! runs through. If it would — the person running the tool asked for debug output of those
//! crates, or of everything — the request is not made: the events are kept in the spool
//! (S-13) for a later run, and the log file says why. At the default levels of loggers
//! (error, warn or info) the question costs two atomic loads.

/// The phrase an event's fate carries when the request was held back.
pub(crate) const HELD_BACK: &str =
    "held back: the application logs the transport's crates at debug level (kept for a later run)";

/// `log` targets of rustls's records on a client's path (made only when some crate in the
/// build enables rustls's `logging` feature, as rustls's defaults do): both transports'
/// https requests run through them.
pub(crate) const RUSTLS_TARGETS: &[&str] = &[
    "rustls::client::hs",
    "rustls::client::tls13",
    "rustls::client::tls12",
    "rustls::conn",
    "rustls::common_state",
    "rustls::webpki::anchors",
];

/// Whether the application's `log` logger would keep a debug record with any of `targets`.
pub(crate) fn log_would_keep(targets: &[&str]) -> bool {
    let level = log::Level::Debug;
    if level > log::max_level() {
        return false;
    }
    let logger = log::logger();
    targets
        .iter()
        .any(|target| logger.enabled(&log::Metadata::builder().level(level).target(target).build()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn without_a_logger_nothing_is_kept() {
        // The unit tests install no logger: `log`'s max level is off.
        assert!(!log_would_keep(&["rustls::client::hs", "reqwest::connect"]));
    }
}
