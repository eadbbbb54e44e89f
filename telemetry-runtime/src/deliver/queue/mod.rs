//! The durable queue (SPEC S-13, S-19, R-6): every recorded event waits here until its fate
//! is final — delivered, rejected, or dropped by the bounds — so that a run killed by a
//! signal or an abort loses nothing, and what could not be delivered is sent by a later
//! sender. It knows files, locks and times; nothing of HTTP or of who sends.
//!
//! One file per event in a directory of the user's cache directory that the queue trusts
//! (`safe`: the effective user's, mode 0700, not a link), mode 0600:
//!
//! - `<ts>-<executionID>-<eventType>-<nonce>.json`: waiting; any sender may take it;
//! - `….json.claimed-<owner>`: taken by the process whose *owner lock*
//!   `.owner-<owner>.lock` is locked. Claiming is a rename (atomic: of concurrent claimants
//!   exactly one wins); a claim whose owner's lock is free belongs to a process that died
//!   and goes back to waiting at the next claim. An inline run writes its own events
//!   claimed, so that no other sender sends them while it does (`events`);
//! - `sender.lock`: held by the one detached sender alive; `spawn.lock`: held for a moment
//!   while a run decides whether to start one; `.start-<token>`: a sender being started
//!   (the token its environment carries; the child removes it); `.run-<executionID>.lock`:
//!   held by a detached run while it lives, so that a sender waits for its last events;
//!   `.stop`: an opt-out asks the live sender to end (`locks`);
//! - `retry-after`: the time the endpoint asked not to be called before (`hold`).
//!
//! Locks are the operating system's (`oslock`): a process that dies releases them, and they
//! are probed without being taken. Files are read without following links, only when
//! regular, up to a size cap; anything else is removed or skipped with a line in the log
//! file, and the other events still go. Nothing here ever affects the command.

mod dir;
mod events;
mod hold;
mod locks;
mod oslock;
mod safe;

pub(crate) use dir::{Owner, Queue, DRAIN_BATCH, MAX_EVENTS};
pub(crate) use events::Claimed;
pub(crate) use locks::SenderLock;
pub(crate) use safe::identity;
