//! A process that ends by `std::process::exit` still records its CommandExited (SPEC S-6):
//! a handler registered with the C library runs when `exit` does (after `main` returns
//! too, when it has nothing left to do).
//!
//! - glibc (`on_exit`): the handler receives the status, so the commands of the process
//!   get the code it exits with — in a handler, in `main`, or in a helper after the handler
//!   returned (fd's `ExitCode::exit()`).
//! - other Unix (`atexit`): the status is not known; commands whose handler returned go out
//!   with the code their handler's value gave, and a command still running when `exit` is
//!   called is left without CommandExited (as an interrupted run is, SPEC S-11).
//! - Windows: `exit` ends the process without running such handlers; use
//!   `cli_telemetry::exit` there.
//!
//! A child forked without `exec` that calls `exit` records nothing: the handler checks
//! that it runs in the process that registered it.
#![allow(unsafe_code)]

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Once;

static PID: AtomicU32 = AtomicU32::new(0);

/// Registers the handler once per process.
pub(crate) fn register() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        PID.store(std::process::id(), Ordering::Relaxed);
        platform::register();
    });
}

fn at_exit(status: Option<i32>) {
    if std::process::id() != PID.load(Ordering::Relaxed) {
        return;
    }
    // Nothing may unwind into the C library.
    let _ = std::panic::catch_unwind(|| super::ends::exit_at_process_end(status));
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
mod platform {
    use std::ffi::{c_int, c_void};

    extern "C" {
        fn on_exit(function: extern "C" fn(c_int, *mut c_void), arg: *mut c_void) -> c_int;
    }

    extern "C" fn handler(status: c_int, _: *mut c_void) {
        super::at_exit(Some(status));
    }

    pub(super) fn register() {
        // SAFETY: registers a function that lives as long as the program, with no argument.
        unsafe {
            on_exit(handler, std::ptr::null_mut());
        }
    }
}

#[cfg(all(unix, not(all(target_os = "linux", target_env = "gnu"))))]
mod platform {
    extern "C" fn handler() {
        super::at_exit(None);
    }

    pub(super) fn register() {
        // SAFETY: registers a function that lives as long as the program.
        unsafe {
            libc::atexit(handler);
        }
    }
}

#[cfg(not(unix))]
mod platform {
    pub(super) fn register() {
        let _ = super::at_exit;
    }
}
