//! In-process captures (SPEC S-11a): the events a piece of code emits, kept in memory on
//! the calling thread — no network, no file, nothing shared with other tests — and, when
//! the capture's environment says off or the run is sampled out, what was *not* sent and
//! why. Threads the code starts report to the capture once they enter it
//! ([`CaptureHandle`]).

use std::ffi::OsString;

use super::expect::Captured;
#[cfg(feature = "telemetry")]
use super::expect::{NotSent, NotSentReason};
use crate::config::Telemetry;

/// A configured capture: the app settings its events carry, and optionally the
/// environment that decides whether this run would be sent.
///
/// ```
/// use cli_telemetry_runtime::{testing::Capture, Telemetry};
///
/// let (value, events) = Capture::new(Telemetry::builder("werf").version("1.0")).run(|| 42);
/// assert_eq!(value, 42);
/// assert!(events.is_empty());
/// ```
pub struct Capture {
    telemetry: Telemetry,
    env: Option<Vec<(OsString, OsString)>>,
    sampled_out: bool,
}

impl Capture {
    /// A capture whose events carry the app name and version of `telemetry`. Telemetry
    /// counts as on inside, whatever the process's environment says.
    pub fn new(telemetry: Telemetry) -> Self {
        Capture {
            telemetry,
            env: None,
            sampled_out: false,
        }
    }

    /// Decides on or off from `vars` alone, as a run with exactly this environment would
    /// (the process's own environment is never read). A run that is off still runs its
    /// handlers; their events are listed by [`Captured::not_sent`] with the setting that
    /// decided, and none by [`Captured::events`].
    ///
    /// ```
    /// use cli_telemetry_runtime::testing::{Capture, NotSentReason};
    /// use cli_telemetry_runtime::{Decision, Telemetry};
    /// # #[cfg(feature = "telemetry")] {
    /// # fn deploy() {
    /// #     use cli_telemetry_runtime::__private::CommandGuard;
    /// #     CommandGuard::start(Some("mytool deploy")).finish_with(|| 0)
    /// # }
    /// // `deploy` is an `#[instrument_command]` handler of the tool.
    /// let (_, captured) = Capture::new(Telemetry::builder("mytool"))
    ///     .env([("DO_NOT_TRACK", "1")])
    ///     .run(deploy);
    /// assert!(captured.is_empty());
    /// let not_sent = captured.not_sent();
    /// assert_eq!(not_sent.len(), 2); // CommandStarted and CommandExited
    /// assert_eq!(
    ///     not_sent[0].reason,
    ///     NotSentReason::Off { decided_by: Decision::DoNotTrack }
    /// );
    /// # }
    /// ```
    pub fn env<I, K, V>(mut self, vars: I) -> Self
    where
        I: IntoIterator<Item = (K, V)>,
        K: Into<OsString>,
        V: Into<OsString>,
    {
        self.env = Some(
            vars.into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        );
        self
    }

    /// As if this run were not among the sampled ones (SPEC S-20): its events are listed
    /// as not sent, [`NotSentReason::SampledOut`].
    pub fn sampled_out(mut self) -> Self {
        self.sampled_out = true;
        self
    }

    /// Runs `f`, returning its value and the events it emitted on this thread (and on
    /// threads that entered the capture with a [`CaptureHandle`]).
    pub fn run<R>(self, f: impl FnOnce() -> R) -> (R, Captured) {
        #[cfg(feature = "telemetry")]
        {
            use std::sync::{Arc, Mutex};
            let app = self.telemetry.app;
            let mut settings = match &self.env {
                Some(vars) => crate::config::Settings::from_env(&app, vars),
                None => crate::config::Settings::from_env(&app, &[]),
            };
            let mute = if self.env.is_some() && !settings.enabled {
                Some(NotSentReason::Off {
                    decided_by: settings.decision.clone(),
                })
            } else if self.sampled_out {
                Some(NotSentReason::SampledOut)
            } else {
                None
            };
            // The capture records whatever the decision; the sink keeps or mutes.
            settings.enabled = true;
            let mut notes = Vec::new();
            let vars = self.env.clone().unwrap_or_default();
            let process = crate::event::ProcessInfo {
                execution_id: crate::random::uuid_v4().to_string(),
                project_id: String::new(),
                attributes: if self.env.is_some() {
                    crate::record::attributes::detect(&app, &vars, &mut notes)
                } else {
                    crate::record::attributes::detect(&app, &crate::config::ProcessEnv, &mut notes)
                },
                schema_version: app.schema_version,
                ..Default::default()
            };
            let sink = Arc::new(CaptureSink {
                kept: Mutex::new(Captured::default()),
                process,
                mute,
            });
            let rt = crate::record::state::Runtime::new(app, settings, sink.clone(), false);
            let value = crate::record::state::with_capture(Arc::new(rt), f);
            let captured = std::mem::take(&mut *crate::record::guard::lock(&sink.kept));
            (value, captured)
        }
        #[cfg(not(feature = "telemetry"))]
        {
            let _ = (self.telemetry, self.env, self.sampled_out);
            (f(), Captured::default())
        }
    }
}

/// A capture's sink: completes each event on the calling thread and keeps it in memory
/// (or, muted, as not sent).
#[cfg(feature = "telemetry")]
struct CaptureSink {
    kept: std::sync::Mutex<Captured>,
    process: crate::event::ProcessInfo,
    mute: Option<NotSentReason>,
}

#[cfg(feature = "telemetry")]
impl crate::record::state::Sink for CaptureSink {
    fn emit(&self, event: crate::event::RawEvent) {
        let event = event.complete(&self.process);
        let mut kept = crate::record::guard::lock(&self.kept);
        match &self.mute {
            Some(reason) => kept.not_sent.push(NotSent {
                event_type: event.event_type,
                command: event.command,
                reason: reason.clone(),
            }),
            None => kept.events.push(event),
        }
    }

    fn not_a_run(&self, command: &str) {
        crate::record::guard::lock(&self.kept)
            .not_sent
            .push(NotSent {
                event_type: crate::event::COMMAND_STARTED.into(),
                command: command.into(),
                reason: NotSentReason::NotARun,
            });
    }
}

/// Captures the events `f` emits on this thread, for an app named `app`.
///
/// ```
/// let events = cli_telemetry_runtime::testing::capture(|| {});
/// events.assert_events(&[]);
/// ```
pub fn capture(f: impl FnOnce()) -> Captured {
    Capture::new(Telemetry::builder("app")).run(f).1
}

/// The capture running on a thread, to take to threads the captured code starts: events
/// are bound to the thread a capture runs on, so a thread it spawns (`std::thread::scope`,
/// a multi-threaded runtime's workers) reports to the capture only once it enters it.
///
/// ```
/// use cli_telemetry_runtime::testing::{capture, CaptureHandle, Expect};
///
/// # #[cfg(feature = "telemetry")] {
/// let events = capture(|| {
///     let handle = CaptureHandle::current().expect("inside a capture");
///     std::thread::scope(|s| {
///         s.spawn(|| handle.enter(|| cli_telemetry_runtime::is_enabled()));
///     });
/// });
/// assert!(events.is_empty());
/// # }
/// ```
///
/// For a tokio multi-threaded runtime started inside the capture:
/// `Builder::new_multi_thread().on_thread_start(move || handle.attach())`.
#[derive(Clone)]
pub struct CaptureHandle {
    #[cfg(feature = "telemetry")]
    rt: std::sync::Arc<crate::record::state::Runtime>,
}

impl CaptureHandle {
    /// The capture running on this thread, if any.
    pub fn current() -> Option<CaptureHandle> {
        #[cfg(feature = "telemetry")]
        {
            crate::record::state::current_capture().map(|rt| CaptureHandle { rt })
        }
        #[cfg(not(feature = "telemetry"))]
        None
    }

    /// Runs `f` on this thread with its events going to the capture.
    pub fn enter<R>(&self, f: impl FnOnce() -> R) -> R {
        #[cfg(feature = "telemetry")]
        {
            crate::record::state::with_capture(self.rt.clone(), f)
        }
        #[cfg(not(feature = "telemetry"))]
        f()
    }

    /// From now on this thread's events go to the capture, until [`CaptureHandle::detach`]
    /// or the thread's end: for a runtime's thread-start hook.
    pub fn attach(&self) {
        #[cfg(feature = "telemetry")]
        crate::record::state::attach_capture(Some(self.rt.clone()));
    }

    /// This thread reports to no capture any more.
    pub fn detach() {
        #[cfg(feature = "telemetry")]
        crate::record::state::attach_capture(None);
    }
}
