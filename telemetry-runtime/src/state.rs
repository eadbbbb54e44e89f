//! Process state: the installed runtime, the per-thread capture override used by
//! [`crate::testing`], and the command currently running on this thread.

use std::cell::{Cell, RefCell};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Instant;

use clap::{ArgMatches, Command};

use crate::config::{AppConfig, Decision, ProcessEnv, Settings};
use crate::event::{Event, ProcessInfo, RawEvent};
use crate::invocation::Invocation;
use crate::sender::Sender;

pub(crate) struct Runtime {
    pub app: AppConfig,
    pub settings: Settings,
    /// What the app parsed: set by `parse`/`record`, read at CommandStarted.
    invocation: Mutex<Option<Invocation>>,
    sink: Sink,
}

enum Sink {
    Background(Sender),
    Capture {
        events: Mutex<Vec<Event>>,
        process: ProcessInfo,
    },
}

static GLOBAL: OnceLock<Arc<Runtime>> = OnceLock::new();
/// True once an enabled runtime is installed: the one load on the disabled path.
static ENABLED: AtomicBool = AtomicBool::new(false);

thread_local! {
    static CAPTURE: RefCell<Option<Arc<Runtime>>> = const { RefCell::new(None) };
    static CAPTURING: Cell<bool> = const { Cell::new(false) };
    static CURRENT: RefCell<Option<ActiveCommand>> = const { RefCell::new(None) };
}

impl Runtime {
    pub(crate) fn background(app: AppConfig, settings: Settings) -> Runtime {
        let sender = Sender::new(app.clone(), settings.clone());
        Runtime::with_sink(app, settings, Sink::Background(sender))
    }

    pub(crate) fn capture(app: AppConfig, settings: Settings, process: ProcessInfo) -> Runtime {
        Runtime::with_sink(
            app,
            settings,
            Sink::Capture {
                events: Mutex::new(Vec::new()),
                process,
            },
        )
    }

    fn with_sink(app: AppConfig, settings: Settings, sink: Sink) -> Runtime {
        Runtime {
            app,
            settings,
            invocation: Mutex::new(None),
            sink,
        }
    }

    pub(crate) fn record(&self, cmd: &Command, matches: &ArgMatches) {
        *lock(&self.invocation) = Some(Invocation::from_matches(cmd, matches));
    }

    /// The invocation for a handler. What `parse`/`get_matches`/`record` recorded is the
    /// whole truth (root command, subcommand chain, options at every level) and wins, also
    /// when the handler names (sub)command matches. Without a recording, named matches
    /// give the command path only (clap's `ArgMatches` carry no argument metadata, so
    /// options can't be told from positionals); with neither, the path is the app name.
    /// `name` overrides the path.
    fn invocation_for(&self, name: Option<&str>, matches: Option<&ArgMatches>) -> Invocation {
        let recorded = lock(&self.invocation).clone();
        let mut inv = match (recorded, matches) {
            (Some(inv), _) => inv,
            (None, Some(m)) => Invocation::path_only(&self.app.name, m),
            (None, None) => Invocation::default(),
        };
        if let Some(name) = name {
            inv.command = name.into();
        } else if inv.command.is_empty() {
            inv.command = self.app.name.as_str().into();
        }
        inv
    }

    pub(crate) fn emit(&self, event: RawEvent) {
        match &self.sink {
            Sink::Background(sender) => sender.emit(event),
            Sink::Capture { events, process } => lock(events).push(event.complete(process)),
        }
    }

    pub(crate) fn flush(&self) {
        if let Sink::Background(sender) = &self.sink {
            sender.flush();
        }
    }

    pub(crate) fn take_captured(&self) -> Vec<Event> {
        match &self.sink {
            Sink::Capture { events, .. } => std::mem::take(&mut *lock(events)),
            Sink::Background(_) => Vec::new(),
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Installs the process-wide runtime (first call wins). Returns whether telemetry is on.
pub(crate) fn install(app: AppConfig) -> bool {
    if CAPTURING.with(Cell::get) {
        return true; // inside testing::capture the capture's runtime stays in charge
    }
    let rt = GLOBAL.get_or_init(|| {
        let mut settings = Settings::from_env(&app, &ProcessEnv);
        if !settings.enabled {
            // Switched off: undelivered events of earlier runs are deleted too.
            if let Some(dir) = app.spool_dir(&ProcessEnv) {
                crate::spool::Spool::new(dir).delete();
            }
        } else if settings.decision == (Decision::AppDefault { on: true }) {
            if let Some(text) = &app.notice {
                if crate::notice::show(&app, &ProcessEnv, text).is_err() {
                    // The notice could not be recorded as shown: send nothing at all.
                    settings.enabled = false;
                }
            }
        }
        Arc::new(Runtime::background(app, settings))
    });
    if rt.settings.enabled {
        if let Sink::Background(sender) = &rt.sink {
            sender.start();
        }
        ENABLED.store(true, Ordering::Release);
    }
    rt.settings.enabled
}

/// The runtime events go to on this thread, if telemetry is on.
pub(crate) fn current() -> Option<Arc<Runtime>> {
    if CAPTURING.with(Cell::get) {
        return CAPTURE.with(|c| c.borrow().clone());
    }
    if ENABLED.load(Ordering::Acquire) {
        GLOBAL.get().cloned()
    } else {
        None
    }
}

/// Runs `f` with events of this thread going to `rt` instead of the installed runtime.
pub(crate) fn with_capture<R>(rt: Arc<Runtime>, f: impl FnOnce() -> R) -> R {
    struct Restore(Option<Arc<Runtime>>, bool);
    impl Drop for Restore {
        fn drop(&mut self) {
            let prev = self.0.take();
            CAPTURE.with(|c| *c.borrow_mut() = prev);
            CAPTURING.with(|c| c.set(self.1));
        }
    }
    let prev = CAPTURE.with(|c| c.borrow_mut().replace(rt));
    let _restore = Restore(prev, CAPTURING.with(|c| c.replace(true)));
    f()
}

#[inline]
pub(crate) fn maybe_active() -> bool {
    ENABLED.load(Ordering::Relaxed) || CAPTURING.with(Cell::get)
}

/// The instrumented command running on this thread.
pub(crate) struct ActiveCommand {
    rt: Arc<Runtime>,
    command: Arc<str>,
    started: Instant,
}

impl ActiveCommand {
    /// Emits CommandExited and flushes within the deadline.
    pub(crate) fn end(self, exit_code: i32) {
        let duration = self.started.elapsed().as_millis() as u64;
        self.rt
            .emit(RawEvent::exited(self.command.clone(), exit_code, duration));
        self.rt.flush();
    }

    pub(crate) fn emit(&self, event_type: &str, data: serde_json::Map<String, serde_json::Value>) {
        self.rt
            .emit(RawEvent::new(self.command.clone(), event_type, data));
    }
}

/// Starts a command on this thread, unless one is already running (nested handlers emit
/// nothing of their own). Returns whether this call started it.
pub(crate) fn begin(name: Option<&str>, matches: Option<&ArgMatches>) -> bool {
    if CURRENT.with(|c| c.borrow().is_some()) {
        return false;
    }
    let Some(rt) = current() else { return false };
    let inv = rt.invocation_for(name, matches);
    rt.emit(RawEvent::started(inv.command.clone(), &inv.options));
    let active = ActiveCommand {
        rt,
        command: inv.command,
        started: Instant::now(),
    };
    CURRENT.with(|c| *c.borrow_mut() = Some(active));
    true
}

/// Takes the command running on this thread, if any.
pub(crate) fn take_current() -> Option<ActiveCommand> {
    CURRENT.with(|c| c.borrow_mut().take())
}

/// Installs `command` as this thread's running command, returning the previous one.
pub(crate) fn replace_current(command: Option<ActiveCommand>) -> Option<ActiveCommand> {
    CURRENT.with(|c| std::mem::replace(&mut *c.borrow_mut(), command))
}

/// Calls `f` with the command running on this thread, if any.
pub(crate) fn with_current<R>(f: impl FnOnce(&ActiveCommand) -> R) -> Option<R> {
    CURRENT.with(|c| c.borrow().as_ref().map(f))
}
