//! Process state: the installed runtime, the per-thread capture override (a test
//! capture's runtime), the command currently running on this thread, and the commands of
//! the process whose CommandExited is not sent yet.
//!
//! The life of a command (SPEC S-1, S-6, S-11):
//! - **begin** (the handler is called): CommandStarted is sent at once when the app has
//!   recorded what it parsed (or the handler was given its matches); otherwise it waits
//!   until the app records a parse, emits an event of its own, or the handler ends, so
//!   that a handler that parses inside reports its options.
//! - **end** (the handler returned or panicked): without `#[cli_telemetry::main]`,
//!   CommandExited is sent with the handler's code and flushed. With it, the command is
//!   *held*: its duration is fixed, and CommandExited waits for the code the process exits
//!   with ([`exit_all`], called when `main` returns, panics, or `cli_telemetry::exit` runs).
//! - [`exit_all`] sends CommandExited for every open command of the process (running on
//!   any thread, or held) with the process's code, then flushes once.

use std::cell::{Cell, RefCell};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Instant;

use clap::{ArgMatches, Command};

use super::invocation::Invocation;
use crate::config::{AppConfig, Settings};
use crate::event::RawEvent;

/// Where a runtime's events go: delivery's sender (`crate::deliver`) for the installed
/// runtime, an in-memory capture for `crate::testing`. This part names neither.
pub(crate) trait Sink: Send + Sync {
    /// Telemetry is installed and on: start what should overlap with parsing.
    fn start(&self) {}
    /// Takes an event; never blocks on I/O.
    fn emit(&self, event: RawEvent);
    /// A command ended, or the process ends: deliver what is pending, within the deadline.
    fn flush(&self) {}
    /// The command `command` was dropped before its CommandStarted: the run is not a
    /// command run (help, version, a telemetry action). Only captures keep a note of it.
    fn not_a_run(&self, command: &str) {
        let _ = command;
    }
    /// A diagnostic for the log file (and stderr in debug mode): never a value.
    fn note(&self, message: &str) {
        let _ = message;
    }
}

pub(crate) struct Runtime {
    pub app: AppConfig,
    pub settings: Settings,
    /// What the app parsed: set by `parse`/`record`, read at CommandStarted.
    pub(super) invocation: Mutex<Option<Invocation>>,
    sink: Arc<dyn Sink>,
    /// The process's installed runtime: its commands are the process's (registered among
    /// the open ones, held for `main`'s code). False for a test capture.
    process_wide: bool,
}

static GLOBAL: OnceLock<Arc<Runtime>> = OnceLock::new();
/// True once an enabled runtime is installed: the one load on the disabled path.
static ENABLED: AtomicBool = AtomicBool::new(false);
/// Set by `#[cli_telemetry::main]`: CommandExited waits for the process's exit code.
static MAIN_HOLDS: AtomicBool = AtomicBool::new(false);
/// Commands of the installed runtime whose CommandExited is not sent yet.
pub(super) static OPEN: Mutex<Vec<Arc<CommandState>>> = Mutex::new(Vec::new());
/// Set when this run is not a command run (`--help`, `--version`, a telemetry action): no
/// command begins any more (SPEC S-11).
pub(super) static NOT_A_RUN: AtomicBool = AtomicBool::new(false);
/// `main` is the command (`#[instrument_command]` with `#[cli_telemetry::main]`): begun when
/// `main`'s body installs telemetry, with the time `main` was entered.
static ROOT: Mutex<Option<RootCommand>> = Mutex::new(None);

struct RootCommand {
    name: Option<&'static str>,
    started: Instant,
    started_ts: u64,
    thread: std::thread::ThreadId,
}

thread_local! {
    static CAPTURE: RefCell<Option<Arc<Runtime>>> = const { RefCell::new(None) };
    static CAPTURING: Cell<bool> = const { Cell::new(false) };
    pub(super) static CURRENT: RefCell<Option<ActiveCommand>> = const { RefCell::new(None) };
}

impl Runtime {
    /// A runtime whose events go to `sink`; `process_wide` for the installed one.
    pub(crate) fn new(
        app: AppConfig,
        settings: Settings,
        sink: Arc<dyn Sink>,
        process_wide: bool,
    ) -> Runtime {
        Runtime {
            app,
            settings,
            invocation: Mutex::new(None),
            sink,
            process_wide,
        }
    }

    /// Keeps what the app parsed for CommandStarted. A command line that asks for a
    /// telemetry action is not kept: false, and the caller makes the run [`not_a_run`].
    pub(crate) fn record(&self, cmd: &Command, matches: &ArgMatches) -> bool {
        let inv = Invocation::from_matches(cmd, matches);
        if inv.control {
            return false;
        }
        *lock(&self.invocation) = Some(inv);
        true
    }

    /// The invocation for a handler, and whether it is final (a recorded parse or the
    /// handler's own matches). What `parse`/`get_matches`/`record` recorded is the whole
    /// truth (root command, subcommand chain, options at every level) and wins, also when
    /// the handler names (sub)command matches. Without a recording, named matches give the
    /// command path only (clap's `ArgMatches` carry no argument metadata, so options can't
    /// be told from positionals); with neither, the path is the app name. `name` overrides
    /// the path.
    fn invocation_for(
        &self,
        name: Option<&str>,
        matches: Option<&ArgMatches>,
    ) -> (Invocation, bool) {
        let recorded = lock(&self.invocation).clone();
        let known = recorded.is_some() || matches.is_some();
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
        (inv, known)
    }

    pub(crate) fn emit(&self, event: RawEvent) {
        self.sink.emit(event);
    }

    pub(crate) fn flush(&self) {
        self.sink.flush();
    }

    pub(super) fn not_a_run(&self, command: &str) {
        self.sink.not_a_run(command);
    }

    fn note(&self, message: &str) {
        self.sink.note(message);
    }
}

pub(super) use super::guard::lock;

/// Installs the process-wide runtime `make` builds (the first call wins; inside a test
/// capture the capture's runtime stays in charge). Returns whether telemetry is on.
pub(crate) fn install(make: impl FnOnce() -> Runtime) -> bool {
    if CAPTURING.with(Cell::get) {
        return true;
    }
    let rt = GLOBAL.get_or_init(|| Arc::new(make()));
    if rt.settings.enabled {
        rt.sink.start();
        ENABLED.store(true, Ordering::Release);
        begin_root();
    }
    rt.settings.enabled
}

/// `main` is the command: it begins when telemetry is installed (see [`begin_root`]).
pub(crate) fn main_is_command(name: Option<&'static str>) {
    *lock(&ROOT) = Some(RootCommand {
        name,
        started: Instant::now(),
        started_ts: crate::event::unix_millis(),
        thread: std::thread::current().id(),
    });
}

/// Telemetry was installed on: the root command of a `main` that is the command begins on
/// `main`'s thread (installed from another thread, `main` reports nothing), dated from the
/// moment `main` was entered.
fn begin_root() {
    let Some(root) = lock(&ROOT).take() else {
        return;
    };
    if root.thread == std::thread::current().id() {
        begin_at(root.name, None, root.started, root.started_ts, false);
    }
}

/// The runtime events go to on this thread, if telemetry is on.
pub(crate) fn current() -> Option<Arc<Runtime>> {
    if CAPTURING.with(Cell::get) {
        return CAPTURE.with(|c| c.borrow().clone());
    }
    installed()
}

/// The installed runtime, if telemetry is on (whatever this thread captures).
pub(super) fn installed() -> Option<Arc<Runtime>> {
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

/// The capture running on this thread, if any.
pub(crate) fn current_capture() -> Option<Arc<Runtime>> {
    if CAPTURING.with(Cell::get) {
        CAPTURE.with(|c| c.borrow().clone())
    } else {
        None
    }
}

/// Makes `rt` this thread's capture for as long as the thread lives or until it is set
/// again (`None`: no capture), for threads a capture's code starts.
pub(crate) fn attach_capture(rt: Option<Arc<Runtime>>) {
    CAPTURING.with(|c| c.set(rt.is_some()));
    CAPTURE.with(|c| *c.borrow_mut() = rt);
}

#[inline]
pub(crate) fn maybe_active() -> bool {
    ENABLED.load(Ordering::Relaxed) || CAPTURING.with(Cell::get)
}

/// `#[cli_telemetry::main]` is in charge: hold CommandExited for the process's exit code.
pub(crate) fn hold_exits() {
    MAIN_HOLDS.store(true, Ordering::Release);
}

/// One instrumented command of the process.
pub(super) struct CommandState {
    pub(super) rt: Arc<Runtime>,
    /// `name = "…"` of the attribute.
    name: Option<Arc<str>>,
    started: Instant,
    started_ts: u64,
    pub(super) inner: Mutex<Progress>,
}

pub(super) struct Progress {
    pub(super) command: Arc<str>,
    pub(super) started_sent: bool,
    /// The handler returned: its exit code and duration (held under `#[main]`).
    returned: Option<(i32, u64)>,
    /// CommandExited was sent.
    pub(super) exited_sent: bool,
    /// The kind of failure the application named (SPEC S-22), a valid label.
    category: Option<String>,
}

impl CommandState {
    /// Sends CommandStarted if it is still waiting, with what is known now.
    fn send_started(&self, p: &mut Progress) {
        if p.started_sent {
            return;
        }
        p.started_sent = true;
        let (inv, _) = self.rt.invocation_for(self.name.as_deref(), None);
        p.command = inv.command.clone();
        let mut event = RawEvent::started(inv.command, &inv.options);
        event.ts = self.started_ts;
        self.rt.emit(event);
    }

    /// Sends CommandExited with `code` unless it was sent; true if this call sent it.
    pub(super) fn send_exited(&self, p: &mut Progress, code: i32) -> bool {
        if p.exited_sent {
            return false;
        }
        self.send_started(p);
        p.exited_sent = true;
        let duration = match p.returned {
            Some((_, ms)) => ms,
            None => self.started.elapsed().as_millis() as u64,
        };
        let mut event = RawEvent::exited(p.command.clone(), code, duration);
        // A category says what kind of failure it was: none on success.
        if let (Some(category), true) = (p.category.take(), code != 0) {
            event
                .event_data
                .insert("errorCategory".into(), category.into());
        }
        self.rt.emit(event);
        true
    }

    /// Keeps `label` as the command's error category if it is one; a note otherwise.
    fn set_category(&self, p: &mut Progress, label: &str) {
        if crate::record::exit::valid_label(label) {
            p.category = Some(label.to_owned());
        } else {
            self.rt.note(
                "an error category that is not a label ([a-z0-9._-], 1 to 64 characters) was dropped",
            );
        }
    }
}

/// The instrumented command running on this thread.
pub(crate) struct ActiveCommand {
    pub(super) state: Arc<CommandState>,
}

impl ActiveCommand {
    /// The handler returned (or panicked) with `exit_code` (and the error category its
    /// value named): CommandExited now and a flush, or, under `#[cli_telemetry::main]`,
    /// held for the process's exit code.
    pub(crate) fn end(self, exit_code: i32, category: Option<&str>) {
        let state = &self.state;
        let mut p = lock(&state.inner);
        if p.exited_sent {
            return;
        }
        if let Some(label) = category {
            state.set_category(&mut p, label);
        }
        state.send_started(&mut p);
        let duration = state.started.elapsed().as_millis() as u64;
        p.returned = Some((exit_code, duration));
        if state.rt.process_wide && MAIN_HOLDS.load(Ordering::Acquire) {
            return; // held: exit_all sends it with the process's code
        }
        let sent = state.send_exited(&mut p, exit_code);
        drop(p);
        unregister(state);
        if sent {
            state.rt.flush();
        }
    }

    /// `cli_telemetry::error_category(label)` inside the command.
    pub(crate) fn set_category(&self, label: &str) {
        let mut p = lock(&self.state.inner);
        self.state.set_category(&mut p, label);
    }

    pub(crate) fn emit(&self, event_type: &str, data: serde_json::Map<String, serde_json::Value>) {
        let mut p = lock(&self.state.inner);
        self.state.send_started(&mut p);
        self.state
            .rt
            .emit(RawEvent::new(p.command.clone(), event_type, data));
    }
}

pub(super) fn unregister(state: &Arc<CommandState>) {
    lock(&OPEN).retain(|s| !Arc::ptr_eq(s, state));
}

/// Starts a command on this thread, unless one is already running (nested handlers emit
/// nothing of their own). Returns whether this call started it.
pub(crate) fn begin(name: Option<&str>, matches: Option<&ArgMatches>) -> bool {
    begin_at(
        name,
        matches,
        Instant::now(),
        crate::event::unix_millis(),
        false,
    )
}

/// [`begin`] dated `started`; `force` begins it also when this run was found not to be a
/// command run (a usage error after a telemetry action was parsed).
pub(super) fn begin_at(
    name: Option<&str>,
    matches: Option<&ArgMatches>,
    started: Instant,
    started_ts: u64,
    force: bool,
) -> bool {
    if CURRENT.with(|c| c.borrow().is_some()) {
        return false;
    }
    if !force && NOT_A_RUN.load(Ordering::Acquire) {
        return false;
    }
    let Some(rt) = current() else { return false };
    if rt.process_wide {
        release_returned();
    }
    let (inv, known) = rt.invocation_for(name, matches);
    let state = Arc::new(CommandState {
        rt,
        name: name.map(Arc::from),
        started,
        started_ts,
        inner: Mutex::new(Progress {
            command: inv.command.clone(),
            started_sent: known,
            returned: None,
            exited_sent: false,
            category: None,
        }),
    });
    if known {
        let mut event = RawEvent::started(inv.command, &inv.options);
        event.ts = started_ts;
        state.rt.emit(event);
    }
    if state.rt.process_wide {
        lock(&OPEN).push(state.clone());
    }
    CURRENT.with(|c| *c.borrow_mut() = Some(ActiveCommand { state }));
    true
}

/// A new command begins while earlier ones are held: their exit was not the process's,
/// so they go out now with the code their handlers returned.
pub(super) fn release_returned() {
    let done: Vec<Arc<CommandState>> = {
        let open = lock(&OPEN);
        open.iter()
            .filter(|s| lock(&s.inner).returned.is_some())
            .cloned()
            .collect()
    };
    for state in &done {
        let mut p = lock(&state.inner);
        if let Some((code, _)) = p.returned {
            state.send_exited(&mut p, code);
        }
        drop(p);
        unregister(state);
    }
}

/// The app recorded a parse: a command on this thread waiting for it sends CommandStarted.
pub(crate) fn recorded(rt: &Arc<Runtime>) {
    CURRENT.with(|c| {
        if let Some(active) = c.borrow().as_ref() {
            if Arc::ptr_eq(&active.state.rt, rt) {
                active.state.send_started(&mut lock(&active.state.inner));
            }
        }
    });
}

/// Takes the command running on this thread, if any.
pub(crate) fn take_current() -> Option<ActiveCommand> {
    // `try_with`: at the process's end (an exit handler) this thread's locals may be gone.
    CURRENT
        .try_with(|c| c.try_borrow_mut().ok().and_then(|mut c| c.take()))
        .ok()
        .flatten()
}

/// Installs `command` as this thread's running command, returning the previous one.
pub(crate) fn replace_current(command: Option<ActiveCommand>) -> Option<ActiveCommand> {
    CURRENT.with(|c| std::mem::replace(&mut *c.borrow_mut(), command))
}

/// Calls `f` with the command running on this thread, if any.
pub(crate) fn with_current<R>(f: impl FnOnce(&ActiveCommand) -> R) -> Option<R> {
    CURRENT.with(|c| c.borrow().as_ref().map(f))
}
