//! The library's mutexes, counted per thread (SPEC R-1). In a `panic = "abort"` build the
//! panic hook runs on the panicking thread with every guard that thread holds still held
//! (nothing unwinds), so it must never lock one of them again: [`lock`] counts the guards a
//! thread holds, and the hook records nothing when [`holds_any`] says the panic came from
//! inside the library while it held one (the run then ends as an interrupted one, with what
//! its queue already has).

use std::cell::Cell;
use std::ops::{Deref, DerefMut};
use std::sync::{Condvar, Mutex, MutexGuard, TryLockError};
use std::time::Duration;

thread_local! {
    static HELD: Cell<u32> = const { Cell::new(0) };
}

fn count(delta: i32) {
    // `try_with`: at the process's end (an exit handler) this thread's locals may be gone.
    let _ = HELD.try_with(|held| held.set(held.get().saturating_add_signed(delta)));
}

/// A held guard of one of the library's mutexes, counted while it lives.
pub(crate) struct Locked<'a, T> {
    guard: Option<MutexGuard<'a, T>>,
}

impl<'a, T> Locked<'a, T> {
    fn new(guard: MutexGuard<'a, T>) -> Self {
        count(1);
        Locked { guard: Some(guard) }
    }

    /// Waits on `condvar` (the lock is released meanwhile), for at most `timeout`.
    pub(crate) fn wait_timeout(mut self, condvar: &Condvar, timeout: Duration) -> Self {
        let guard = self.guard.take().expect("a live guard");
        let guard = match condvar.wait_timeout(guard, timeout) {
            Ok((guard, _)) => guard,
            Err(poisoned) => poisoned.into_inner().0,
        };
        self.guard = Some(guard);
        self
    }
}

impl<T> Deref for Locked<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        self.guard.as_ref().expect("a live guard")
    }
}

impl<T> DerefMut for Locked<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        self.guard.as_mut().expect("a live guard")
    }
}

impl<T> Drop for Locked<'_, T> {
    fn drop(&mut self) {
        count(-1);
    }
}

/// Locks `mutex` (a poisoned one too: the data is the library's own and stays usable).
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> Locked<'_, T> {
    Locked::new(mutex.lock().unwrap_or_else(|p| p.into_inner()))
}

/// Locks `mutex` if nobody holds it.
pub(crate) fn try_lock<T>(mutex: &Mutex<T>) -> Option<Locked<'_, T>> {
    match mutex.try_lock() {
        Ok(guard) => Some(Locked::new(guard)),
        Err(TryLockError::Poisoned(p)) => Some(Locked::new(p.into_inner())),
        Err(TryLockError::WouldBlock) => None,
    }
}

/// Whether this thread holds one of the library's mutexes.
pub(crate) fn holds_any() -> bool {
    HELD.try_with(|held| held.get() > 0).unwrap_or(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guards_are_counted_while_they_live() {
        let m = Mutex::new(1);
        assert!(!holds_any());
        {
            let mut g = lock(&m);
            *g += 1;
            assert!(holds_any());
            assert!(try_lock(&m).is_none());
            let g = g.wait_timeout(&Condvar::new(), Duration::from_millis(1));
            assert_eq!(*g, 2);
        }
        assert!(!holds_any());
        assert!(try_lock(&m).is_some());
    }
}
