//! How a run ends (SPEC S-6, S-11): the process's exit code for every open command
//! ([`exit_all`], also from the C library's exit handler), and the runs clap ends before a
//! command could run — help and version (not runs), usage errors (runs of the deepest
//! subcommand reached, exit 2).

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Instant;

use super::invocation::Invocation;
use super::state::{
    begin_at, current, installed, lock, release_returned, take_current, unregister, CommandState,
    CURRENT, NOT_A_RUN, OPEN,
};

/// This run is not a command run (clap printed help or the version; the app parsed a
/// telemetry action): commands whose CommandStarted has not gone out are dropped without a
/// trace, and no command begins any more. (One that already sent CommandStarted, because
/// its handler emitted an event before parsing, is left to end as usual.)
pub(crate) fn not_a_run() {
    NOT_A_RUN.store(true, Ordering::Release);
    let drop_unstarted = |state: &CommandState| {
        let mut p = lock(&state.inner);
        if !p.started_sent {
            p.started_sent = true;
            p.exited_sent = true;
            state.rt.not_a_run(&p.command);
        }
        p.exited_sent
    };
    let _ = CURRENT.try_with(|c| {
        let Ok(mut c) = c.try_borrow_mut() else {
            return;
        };
        if c.as_ref().is_some_and(|a| drop_unstarted(&a.state)) {
            c.take();
        }
    });
    lock(&OPEN).retain(|s| !drop_unstarted(s));
}

/// The parse raised a usage error: the run is reported as the command at `path` (the
/// deepest subcommand clap reached) with no options — by the command running on this thread
/// if its CommandStarted is still waiting, else by one begun now. The caller ends it with
/// [`exit_all`].
pub(crate) fn usage_error(path: Arc<str>) {
    let Some(rt) = current() else {
        return;
    };
    *lock(&rt.invocation) = Some(Invocation {
        command: path,
        ..Invocation::default()
    });
    NOT_A_RUN.store(false, Ordering::Release);
    let now = (Instant::now(), crate::event::unix_millis());
    begin_at(None, None, now.0, now.1, true);
}

/// The process ends with `code` (main returned or panicked, `cli_telemetry::exit`, a clap
/// error exit): CommandExited with `code` for every open command of the process — running
/// on any thread, or held — then one flush within what is left of the deadline.
pub(crate) fn exit_all(code: i32) {
    let mut flush_rt = None;
    // This thread's command: a captured one is not in OPEN.
    if let Some(active) = take_current() {
        let mut p = lock(&active.state.inner);
        active.state.send_exited(&mut p, code);
        drop(p);
        unregister(&active.state);
        flush_rt = Some(active.state.rt.clone());
    }
    let open = std::mem::take(&mut *lock(&OPEN));
    for state in &open {
        let mut p = lock(&state.inner);
        state.send_exited(&mut p, code);
    }
    if let Some(rt) = open
        .first()
        .map(|s| s.rt.clone())
        .or(flush_rt)
        .or_else(installed)
    {
        rt.flush();
    }
}

/// The process ends by `exit` (the C library's handler, `record::at_exit`). With the status
/// known, the open commands get it, as with [`exit_all`]; without, commands whose handler
/// returned go out with their handlers' codes. Nothing happens when nothing is open (`main`
/// returned through `#[cli_telemetry::main]`, or `cli_telemetry::exit` ran first).
pub(crate) fn exit_at_process_end(status: Option<i32>) {
    // After `main` returned, this thread's locals may be gone: `try_with`, never `with`.
    let current = CURRENT
        .try_with(|c| c.try_borrow().is_ok_and(|c| c.is_some()))
        .unwrap_or(false);
    let open = current || !lock(&OPEN).is_empty();
    if !open {
        return;
    }
    match status {
        Some(code) => exit_all(code),
        None => {
            release_returned();
            if let Some(rt) = installed() {
                rt.flush();
            }
        }
    }
}
