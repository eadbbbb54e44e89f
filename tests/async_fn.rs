//! `async fn` handlers (SPEC S-1): tokio current-thread and multi-thread runtimes,
//! panics, cancellation, app events across awaits.
#![cfg(feature = "telemetry")]

use cli_telemetry::testing::{capture, Expect};
use cli_telemetry::{instrument_command, Event};

#[instrument_command(name = "app build")]
async fn build(images: usize) -> Result<usize, String> {
    cli_telemetry::emit(
        "BuildStarted",
        &serde_json::json!({ "imagesCount": images }),
    );
    tokio::task::yield_now().await;
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    if images == 0 {
        return Err("nothing to build".into());
    }
    cli_telemetry::emit(
        "BuildFinished",
        &serde_json::json!({ "imagesCount": images, "success": true }),
    );
    Ok(images)
}

#[instrument_command(name = "app inner")]
async fn inner() -> u8 {
    tokio::task::yield_now().await;
    9
}

#[instrument_command(name = "app outer")]
async fn outer() -> u8 {
    inner().await + inner_sync()
}

#[instrument_command(name = "app inner-sync")]
fn inner_sync() -> u8 {
    1
}

#[instrument_command(name = "app forever")]
async fn forever() {
    std::future::pending::<()>().await;
}

#[instrument_command(name = "app panics")]
async fn panics() {
    tokio::task::yield_now().await;
    panic!("async handler panicked");
}

fn current_thread() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

fn multi_thread() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

fn expect_build(events: &[Event], exit: i64, finished: bool) {
    let mut expected = vec![
        Expect::started("app build"),
        Expect::event("BuildStarted")
            .command("app build")
            .data("imagesCount", 2),
    ];
    if finished {
        expected.push(
            Expect::event("BuildFinished")
                .command("app build")
                .data("success", true),
        );
    }
    expected.push(Expect::exited("app build").exit_code(exit));
    cli_telemetry::testing::Captured::from(events.to_vec()).assert_events(&expected);
}

#[test]
fn current_thread_runtime() {
    let rt = current_thread();
    let events = capture(|| assert_eq!(rt.block_on(build(2)), Ok(2)));
    // `Ok(2)`: an integer in `Ok` is the status the handler reports (SPEC S-6).
    expect_build(events.events(), 2, true);
}

#[test]
fn multi_thread_runtime() {
    let rt = multi_thread();
    let events = capture(|| assert_eq!(rt.block_on(build(2)), Ok(2)));
    expect_build(events.events(), 2, true);
}

#[test]
fn early_return_error_in_async() {
    let rt = current_thread();
    let events = capture(|| assert!(rt.block_on(build(0)).is_err()));
    events.assert_events(&[
        Expect::started("app build"),
        Expect::event("BuildStarted").data("imagesCount", 0),
        Expect::exited("app build").exit_code(1),
    ]);
}

#[test]
fn nested_handlers_emit_nothing_of_their_own() {
    let rt = multi_thread();
    let events = capture(|| assert_eq!(rt.block_on(outer()), 10));
    events.assert_events(&[
        Expect::started("app outer"),
        Expect::exited("app outer").exit_code(10),
    ]);
}

#[test]
fn the_command_leaves_the_thread_between_polls() {
    // After an async handler completes, the thread is free: a following handler reports.
    let rt = current_thread();
    let events = capture(|| {
        rt.block_on(async {
            let a = inner();
            let b = inner();
            // Interleaved on one thread: the first to start owns nothing of the second.
            let (x, y) = tokio::join!(a, b);
            assert_eq!(x + y, 18);
        });
        inner_sync();
    });
    let commands: Vec<_> = events
        .events()
        .iter()
        .map(|e| (e.event_type.as_str(), e.command.as_str()))
        .collect();
    // Nothing was parsed through the library, so each CommandStarted waits for its handler
    // to end (it could still record a parse: SPEC S-11) and goes out just before its exit.
    assert_eq!(
        commands,
        [
            ("CommandStarted", "app inner"),
            ("CommandExited", "app inner"),
            ("CommandStarted", "app inner"),
            ("CommandExited", "app inner"),
            ("CommandStarted", "app inner-sync"),
            ("CommandExited", "app inner-sync"),
        ]
    );
}

#[test]
fn dropped_before_completion_records_cancelled() {
    let rt = current_thread();
    let events = capture(|| {
        rt.block_on(async {
            let r = tokio::time::timeout(std::time::Duration::from_millis(10), forever()).await;
            assert!(r.is_err());
        })
    });
    events.assert_events(&[
        Expect::started("app forever"),
        Expect::exited("app forever")
            .exit_code(cli_telemetry::__private::CANCELLED_EXIT_CODE as i64),
    ]);
}

#[test]
fn panic_in_async_handler_records_101_and_continues() {
    let rt = current_thread();
    let events = capture(|| {
        let result =
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| rt.block_on(panics())));
        let payload = result.expect_err("the panic continues");
        assert_eq!(
            payload.downcast_ref::<&str>(),
            Some(&"async handler panicked")
        );
    });
    events.assert_events(&[
        Expect::started("app panics"),
        Expect::exited("app panics").exit_code(101),
    ]);
}

#[test]
fn panic_in_spawned_task_is_recorded_when_polled_by_a_capture_thread() {
    // tokio catches a spawned task's panic and drops the future later: the handler's
    // own poll noticed the panic, so the code is still 101.
    let rt = current_thread();
    let events = capture(|| {
        rt.block_on(async {
            let local = tokio::task::LocalSet::new();
            let r = local
                .run_until(async { tokio::task::spawn_local(panics()).await })
                .await;
            assert!(r.unwrap_err().is_panic());
        })
    });
    events.assert_events(&[
        Expect::started("app panics"),
        Expect::exited("app panics").exit_code(101),
    ]);
}
