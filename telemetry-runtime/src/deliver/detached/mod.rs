//! The detached sender (SPEC S-19, R-5, R-6): the process that delivers a run's queued
//! events after the run has exited, so that the exit never waits for the network.
//!
//! - `handoff`: who takes the queue — a live sender, one being started, or one spawned now
//!   (under the queue's spawn lock, with a start token) — and what the child is given: the
//!   application's settings, the queue's path and every relative path it inherits made
//!   absolute, all in its environment (as bytes: any path works), never in argv;
//! - `spawn`: the platform's spawn (fork/exec with a clean process state, `CreateProcessW`
//!   without inherited handles), only from a `main` that carries `#[cli_telemetry::main]`;
//! - `process`: the sender process itself, entered through `#[cli_telemetry::main]`
//!   before the application's code: it takes the one sender lock, waits for the run that
//!   started it, drains the queue in batches within a bounded life, watches for an opt-out
//!   (the person's choice, the queue's `.stop`, its queue deleted or replaced) every 250 ms
//!   — mid-request too — and writes every fate to the run's log file.
//!
//! It uses the queue and the transports and offers the rest of `deliver` [`hand_off`],
//! [`reap`] and, to `#[cli_telemetry::main]`, [`run_if_sender`].

mod config;
mod drain;
mod handoff;
mod process;
mod spawn;

pub(crate) use handoff::{hand_off, HandOff};
pub(crate) use process::run_if_sender;
pub(crate) use spawn::reap;
