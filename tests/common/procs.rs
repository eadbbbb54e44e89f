//! Processes, as the black-box tests of the detached sender see them (Linux `/proc`).
#![cfg(target_os = "linux")]

use std::path::Path;

/// The state letter of `pid` (`R`, `S`, `Z`, …), `None` when there is no such process.
pub fn state(pid: u32) -> Option<char> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // `pid (comm) S …`: the state follows the last `)`.
    stat.rsplit_once(')')?.1.trim_start().chars().next()
}

/// Alive: exists and is not a zombie.
pub fn alive(pid: u32) -> bool {
    state(pid).is_some_and(|s| s != 'Z')
}

/// Detached senders alive whose queue is under `home` (their environment carries the
/// sender marker and the home's cache directory).
pub fn senders_under(home: &Path) -> Vec<u32> {
    let cache = format!("XDG_CACHE_HOME={}", home.join("cache").display());
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    dir.flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            let Ok(environ) = std::fs::read(format!("/proc/{pid}/environ")) else {
                return false;
            };
            let vars: Vec<&[u8]> = environ.split(|b| *b == 0).collect();
            vars.iter().any(|v| v.starts_with(b"CLI_TELEMETRY_SENDER="))
                && vars.contains(&cache.as_bytes())
        })
        .filter(|pid| alive(*pid))
        .collect()
}

/// Child processes of `pid` (its threads' children).
pub fn children(pid: u32) -> Vec<u32> {
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return Vec::new();
    };
    tasks
        .flatten()
        .filter_map(|t| std::fs::read_to_string(t.path().join("children")).ok())
        .flat_map(|s| {
            s.split_whitespace()
                .filter_map(|p| p.parse().ok())
                .collect::<Vec<u32>>()
        })
        .collect()
}

/// Creates `dir` and its parents as the library does: mode 0700.
pub fn private_dir(dir: &Path) {
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .expect("a private directory");
}

/// Holds the lock of a queue lock file the way the library takes it (an open-file
/// description lock, `F_OFD_SETLK`), until the file is dropped: the test plays a live
/// sender.
pub fn hold_lock(path: &Path) -> std::fs::File {
    use std::os::fd::AsRawFd;
    let file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(path)
        .expect("a lock file");
    // SAFETY: an all-zero flock is the whole file; fcntl gets a live descriptor.
    let mut lock: libc::flock = unsafe { std::mem::zeroed() };
    lock.l_type = libc::F_WRLCK as libc::c_short;
    lock.l_whence = libc::SEEK_SET as libc::c_short;
    let r = unsafe { libc::fcntl(file.as_raw_fd(), libc::F_OFD_SETLK, &mut lock) };
    assert_eq!(r, 0, "the lock is free");
    file
}
