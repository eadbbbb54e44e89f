//! The operating system's file locks, as the queue uses them: taken without waiting, and
//! *probed* — is someone holding it? — without taking them where the platform allows, so a
//! look at the queue never makes a starting sender believe another one is alive (SPEC R-5).
//!
//! - Linux: open-file-description locks (`F_OFD_SETLK`, Linux 3.15): owned by the open file
//!   like `flock`, released when the process ends however it ends, and testable with
//!   `F_OFD_GETLK`, which reports a conflicting lock without taking one.
//! - Elsewhere (and on a Linux kernel without them): std's `File::try_lock` (`flock`,
//!   `LockFileEx`). A probe takes the lock for the microseconds of a system call and releases
//!   it; a sender that finds its lock taken therefore looks again for [`PATIENCE`] before it
//!   concludes that another sender holds it.
#![allow(unsafe_code)]

use std::fs::File;
use std::time::Duration;

/// How long a starting sender keeps trying for a lock a probe may hold for a moment.
pub(crate) const PATIENCE: Duration = Duration::from_millis(100);

/// Whether a lock file is held by someone.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Held {
    Yes,
    No,
    /// The file system has no locks.
    Unknown,
}

/// The result of taking a lock without waiting.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Taken {
    /// This open file holds it now (until it is closed).
    Yes,
    /// Someone else holds it.
    Busy,
    /// The file system has no locks: taken as if it were.
    Unsupported,
}

/// Takes the exclusive lock of `file` without waiting.
pub(crate) fn try_lock(file: &File) -> Taken {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    if let Some(taken) = ofd::try_lock(file) {
        return taken;
    }
    match file.try_lock() {
        Ok(()) => Taken::Yes,
        Err(std::fs::TryLockError::WouldBlock) => Taken::Busy,
        Err(std::fs::TryLockError::Error(_)) => Taken::Unsupported,
    }
}

/// Whether someone holds the lock of `file` (an open file of this process that does not
/// hold it).
pub(crate) fn probe(file: &File) -> Held {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    if let Some(held) = ofd::probe(file) {
        return held;
    }
    match file.try_lock() {
        Ok(()) => {
            let _ = file.unlock();
            Held::No
        }
        Err(std::fs::TryLockError::WouldBlock) => Held::Yes,
        Err(std::fs::TryLockError::Error(_)) => Held::Unknown,
    }
}

#[cfg(any(target_os = "linux", target_os = "android"))]
mod ofd {
    use std::fs::File;
    use std::os::fd::AsRawFd;
    use std::sync::atomic::{AtomicBool, Ordering};

    use super::{Held, Taken};

    /// The kernel said it has no OFD locks (EINVAL): flock from then on, in every process
    /// of this kernel alike.
    static MISSING: AtomicBool = AtomicBool::new(false);

    fn whole_file(kind: libc::c_short) -> libc::flock {
        // SAFETY: a plain C struct; all-zero is valid (whole file from offset 0).
        let mut lock: libc::flock = unsafe { std::mem::zeroed() };
        lock.l_type = kind;
        lock.l_whence = libc::SEEK_SET as libc::c_short;
        lock
    }

    fn fcntl(file: &File, cmd: libc::c_int, lock: &mut libc::flock) -> Result<(), i32> {
        // SAFETY: fcntl with a lock command on an open descriptor and a struct it may write.
        let r = unsafe { libc::fcntl(file.as_raw_fd(), cmd, lock as *mut libc::flock) };
        if r == 0 {
            Ok(())
        } else {
            Err(std::io::Error::last_os_error().raw_os_error().unwrap_or(0))
        }
    }

    /// `None`: OFD locks are not available here.
    pub(super) fn try_lock(file: &File) -> Option<Taken> {
        if MISSING.load(Ordering::Relaxed) {
            return None;
        }
        let mut lock = whole_file(libc::F_WRLCK as libc::c_short);
        match fcntl(file, libc::F_OFD_SETLK, &mut lock) {
            Ok(()) => Some(Taken::Yes),
            Err(libc::EAGAIN | libc::EACCES) => Some(Taken::Busy),
            Err(libc::EINVAL) => {
                MISSING.store(true, Ordering::Relaxed);
                None
            }
            Err(_) => Some(Taken::Unsupported),
        }
    }

    pub(super) fn probe(file: &File) -> Option<Held> {
        if MISSING.load(Ordering::Relaxed) {
            return None;
        }
        let mut lock = whole_file(libc::F_WRLCK as libc::c_short);
        match fcntl(file, libc::F_OFD_GETLK, &mut lock) {
            Ok(()) if lock.l_type == libc::F_UNLCK as libc::c_short => Some(Held::No),
            Ok(()) => Some(Held::Yes),
            Err(libc::EINVAL) => {
                MISSING.store(true, Ordering::Relaxed);
                None
            }
            Err(_) => Some(Held::Unknown),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_probe_sees_a_holder_and_never_takes_the_lock() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("l.lock");
        let open = || {
            std::fs::OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(false)
                .open(&path)
                .unwrap()
        };
        let (holder, prober, other) = (open(), open(), open());
        assert_eq!(probe(&prober), Held::No);
        // The probe took nothing: another open file takes the lock at once.
        assert_eq!(try_lock(&holder), Taken::Yes);
        assert_eq!(probe(&prober), Held::Yes);
        assert_eq!(try_lock(&other), Taken::Busy);
        drop(holder);
        assert_eq!(probe(&prober), Held::No);
        assert_eq!(try_lock(&other), Taken::Yes);
    }
}
