//! `panic = "abort"` (SPEC S-6): no destructor runs on a panic, so `#[instrument_command]`
//! installs a panic hook in such builds. This file checks the hook itself (it is alone in
//! its process, since hooks are process-wide): it runs the previous hook first, records 101
//! once for the command of the panicking thread, and leaves other threads alone.
#![cfg(feature = "telemetry")]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use cli_telemetry::instrument_command;
use cli_telemetry::testing::{capture, Expect};

#[instrument_command(name = "app boom")]
fn boom() {
    panic!("boom");
}

#[test]
fn hook_records_101_once_after_the_previous_hook() {
    let previous_calls = Arc::new(AtomicUsize::new(0));
    let counter = previous_calls.clone();
    std::panic::set_hook(Box::new(move |_| {
        counter.fetch_add(1, Ordering::SeqCst);
    }));
    cli_telemetry::__private::install_abort_hook();
    cli_telemetry::__private::install_abort_hook(); // idempotent

    let events = capture(|| {
        let _ = std::panic::catch_unwind(boom);
    });
    // The hook recorded the exit; the unwinding guard found nothing left to record.
    events.assert_events(&[
        Expect::started("app boom"),
        Expect::exited("app boom").exit_code(101),
    ]);
    assert_eq!(
        previous_calls.load(Ordering::SeqCst),
        1,
        "the previous hook ran once"
    );

    // A panic outside any command: only the previous hook runs.
    let events = capture(|| {
        let _ = std::panic::catch_unwind(|| panic!("elsewhere"));
    });
    events.assert_events(&[]);
    assert_eq!(previous_calls.load(Ordering::SeqCst), 2);
}
