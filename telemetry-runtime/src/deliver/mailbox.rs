//! A one-way queue between threads — a mutex, a deque and a condition variable — for the
//! sender thread's messages and a detached sender's request outcome: what std's `mpsc`
//! channel gives, without its channel code in every application that links the library
//! (SPEC P-5), and counted among the library's locks (`record::guard`).

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Condvar, Mutex};
use std::time::{Duration, Instant};

use crate::record::guard::lock;

pub(crate) struct Mailbox<T> {
    items: Mutex<VecDeque<T>>,
    ready: Condvar,
    /// The receiving side is gone: nothing sent is received any more.
    closed: AtomicBool,
}

/// Closes its mailbox when dropped: the receiving thread holds one while it lives, so that
/// a thread that ends — or panics — makes every later `send` fail at once.
pub(crate) struct Receiving<'a, T>(pub(crate) &'a Mailbox<T>);

impl<T> Drop for Receiving<'_, T> {
    fn drop(&mut self) {
        self.0.closed.store(true, Ordering::Release);
    }
}

impl<T> Mailbox<T> {
    pub(crate) fn new() -> Mailbox<T> {
        Mailbox {
            items: Mutex::new(VecDeque::new()),
            ready: Condvar::new(),
            closed: AtomicBool::new(false),
        }
    }

    /// Queues `item`; `Err` gives it back when nobody receives any more.
    pub(crate) fn send(&self, item: T) -> Result<(), T> {
        if self.closed.load(Ordering::Acquire) {
            return Err(item);
        }
        lock(&self.items).push_back(item);
        self.ready.notify_one();
        Ok(())
    }

    /// The next item, waiting for one.
    pub(crate) fn recv(&self) -> T {
        let mut items = lock(&self.items);
        loop {
            if let Some(item) = items.pop_front() {
                return item;
            }
            items = items.wait_timeout(&self.ready, Duration::from_secs(3600));
        }
    }

    /// The next item, if one is there.
    pub(crate) fn try_recv(&self) -> Option<T> {
        lock(&self.items).pop_front()
    }

    /// The next item, waiting at most `timeout`.
    pub(crate) fn recv_timeout(&self, timeout: Duration) -> Option<T> {
        let end = Instant::now() + timeout;
        let mut items = lock(&self.items);
        loop {
            if let Some(item) = items.pop_front() {
                return Some(item);
            }
            let now = Instant::now();
            if now >= end {
                return None;
            }
            items = items.wait_timeout(&self.ready, end - now);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn in_order_across_threads_with_timeouts_and_a_closed_end() {
        let mailbox = Arc::new(Mailbox::new());
        assert_eq!(mailbox.try_recv(), None::<u32>);
        assert_eq!(mailbox.recv_timeout(Duration::from_millis(5)), None);
        let sending = mailbox.clone();
        let t = std::thread::spawn(move || {
            for i in 0..100 {
                sending.send(i).unwrap();
            }
        });
        let got: Vec<u32> = (0..100).map(|_| mailbox.recv()).collect();
        t.join().unwrap();
        assert_eq!(got, (0..100).collect::<Vec<_>>());
        drop(Receiving(&*mailbox));
        assert_eq!(mailbox.send(7), Err(7), "nobody receives");
    }
}
