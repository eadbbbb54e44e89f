//! Starting the detached sender process (SPEC S-19, R-5, R-6): the same executable, named
//! `argv0` and without arguments, with only `vars` added to the environment, stdio on the
//! null device, and nothing else of the parent's. Only a process whose `main` carries
//! `#[cli_telemetry::main]` starts one: there the attribute recognises the sender before the
//! application's code runs; anywhere else the child would run the application's `main`.
//!
//! - Unix: `fork` and `exec`. Between them the child, using only system calls: puts the null
//!   device on fds 0–2 (or, if it can't be opened, pipes that lead nowhere: never a pipe of
//!   the command's), starts a new session (`setsid`: its own process group, never a
//!   controlling terminal), lowers its priority by 10 from the parent's (`nice`: never
//!   higher than the parent's), moves to `cwd`, resets every signal to its default and
//!   unblocks them all (a parent that ignores SIGINT or SIGTERM would otherwise hand that
//!   on through `exec`), and closes every descriptor above stderr, whatever its number
//!   (`close_range`, else the list in `/proc/self/fd`, else every number up to the limit).
//!   A thread of the parent waits for the child, so it never lingers as a zombie if the
//!   parent lives on; once the parent exits, the child's new parent reaps it.
//! - Windows: `CreateProcessW` with `CREATE_NO_WINDOW | CREATE_NEW_PROCESS_GROUP` (not
//!   `DETACHED_PROCESS`, which makes console programs flash a window) and no handle
//!   inherited (`bInheritHandles` false, so no pipe of the parent's is held), at
//!   `BELOW_NORMAL_PRIORITY_CLASS` (`IDLE` when the parent runs at idle).
#![allow(unsafe_code)]

use std::ffi::OsString;
use std::path::{Path, PathBuf};

/// The phrase of a process without `#[cli_telemetry::main]`, where a sender would run the
/// application's own `main`.
pub(crate) const NO_MAIN_ATTRIBUTE: &str =
    "main does not carry #[cli_telemetry::main]: a sender would run the application's code";

/// The executable to start, as an absolute path (the child changes directory before
/// `exec`), checked to be there still.
fn executable() -> Result<PathBuf, &'static str> {
    if !crate::config::delivery::has_main_attribute() {
        return Err(NO_MAIN_ATTRIBUTE);
    }
    let exe = std::env::current_exe().map_err(|_| "the executable's path is not known")?;
    let exe = std::path::absolute(&exe).unwrap_or(exe);
    // Linux names a deleted executable "<path> (deleted)": nothing can be started from it.
    if !exe.is_file() {
        return Err("the executable is gone (replaced or deleted since it started)");
    }
    Ok(exe)
}

/// Spawns the sender; its process id, or a fixed phrase saying why it could not be started.
///
/// A plain `fork` and `exec`, without waiting for the `exec` (std's `Command` waits for it):
/// the parent pays for the fork only, ~0.1–0.2 ms, instead of ~1 ms. The price is that a
/// failing `exec` is not seen here; the cases of it that can be foreseen — the executable
/// gone or replaced since the process started (an upgrade) — are checked first, and in the
/// others the events wait in the queue for a later run's sender.
#[cfg(unix)]
pub(crate) fn spawn_detached(
    argv0: &str,
    vars: &[(OsString, OsString)],
    cwd: &Path,
) -> Result<u32, &'static str> {
    use std::ffi::CString;
    use std::os::unix::ffi::{OsStrExt, OsStringExt};

    let exe = executable()?;
    let cstr = |bytes: Vec<u8>| CString::new(bytes).map_err(|_| "a NUL byte in the environment");
    let path = cstr(exe.as_os_str().as_bytes().to_vec())?;
    let argv0 = cstr(argv0.as_bytes().to_vec())?;
    let dir = cstr(cwd.as_os_str().as_bytes().to_vec())?;
    let null = cstr(b"/dev/null".to_vec())?;
    let proc_fds = cstr(b"/proc/self/fd".to_vec())?;
    // The environment: this process's, plus `vars` (replacing any of the same name).
    let mut env = Vec::new();
    for (k, v) in std::env::vars_os() {
        if vars.iter().any(|(name, _)| *name == k) {
            continue;
        }
        env.push(cstr(pair(k, v))?);
    }
    for (k, v) in vars {
        env.push(cstr(pair(k.clone(), v.clone()))?);
    }
    fn pair(k: OsString, v: OsString) -> Vec<u8> {
        let mut kv = k.into_vec();
        kv.push(b'=');
        kv.extend(v.into_vec());
        kv
    }
    let argv = [argv0.as_ptr(), std::ptr::null()];
    let mut envp: Vec<*const libc::c_char> = env.iter().map(|c| c.as_ptr()).collect();
    envp.push(std::ptr::null());
    let max_fd = highest_fd();
    // SAFETY: between fork and exec the child calls only system calls (open, dup2, close,
    // setsid, getpriority/setpriority, chdir, sigaction, sigprocmask, close_range,
    // getdents64, fcntl, execve, _exit) on memory prepared before the fork; it allocates
    // nothing and returns to no Rust code.
    let pid = unsafe { libc::fork() };
    if pid < 0 {
        return Err("the sender process could not be spawned");
    }
    if pid == 0 {
        unsafe {
            let fd = libc::open(null.as_ptr(), libc::O_RDWR);
            if fd >= 0 {
                libc::dup2(fd, 0);
                libc::dup2(fd, 1);
                libc::dup2(fd, 2);
                if fd > 2 {
                    libc::close(fd);
                }
            } else {
                // No null device (a chroot, a sandbox): never the command's descriptors, so
                // `$(tool)` returns when the tool does. Not closed either — std would abort
                // a process started without fds 0–2 — but pipes that lead nowhere: reading
                // gets end-of-file, writing an error.
                let mut input = [-1; 2];
                let mut output = [-1; 2];
                if libc::pipe(input.as_mut_ptr()) == 0 && libc::pipe(output.as_mut_ptr()) == 0 {
                    libc::dup2(input[0], 0);
                    libc::dup2(output[1], 1);
                    libc::dup2(output[1], 2);
                    for fd in [input[0], input[1], output[0], output[1]] {
                        if fd > 2 {
                            libc::close(fd);
                        }
                    }
                } else {
                    libc::close(0);
                    libc::close(1);
                    libc::close(2);
                }
            }
            libc::setsid();
            // Background work: 10 below the parent's priority (the kernel keeps it at 19 at
            // most), so it yields the CPU to the command and to what follows it.
            libc::nice(10);
            libc::chdir(dir.as_ptr());
            default_signals();
            close_from(3, max_fd, proc_fds.as_ptr());
            libc::execve(path.as_ptr(), argv.as_ptr(), envp.as_ptr());
            libc::_exit(127);
        }
    }
    Ok(pid as u32)
}

/// Every signal to its default action, none blocked, as a fresh process has (`exec` keeps
/// ignored signals ignored and the mask as it was).
#[cfg(unix)]
unsafe fn default_signals() {
    // SAFETY (for the caller): sigaction and sigprocmask are async-signal-safe.
    let mut action: libc::sigaction = std::mem::zeroed();
    action.sa_sigaction = libc::SIG_DFL;
    libc::sigemptyset(&mut action.sa_mask);
    for signal in 1..=64 {
        if signal != libc::SIGKILL && signal != libc::SIGSTOP {
            // Numbers the platform has no signal for fail with EINVAL: nothing to reset.
            libc::sigaction(signal, &action, std::ptr::null_mut());
        }
    }
    let mut none: libc::sigset_t = std::mem::zeroed();
    libc::sigemptyset(&mut none);
    libc::sigprocmask(libc::SIG_SETMASK, &none, std::ptr::null_mut());
}

/// Waits for the sender `pid` started by [`spawn_detached`] to end, so that it never lingers
/// as a zombie while this process lives on (once this process exits, the child's new
/// parent reaps it).
#[cfg(unix)]
pub(crate) fn reap(pid: u32) {
    let mut status = 0;
    // SAFETY: waits for this process's own child.
    unsafe { libc::waitpid(pid as libc::pid_t, &mut status, 0) };
}

/// Windows keeps no zombie: the handles were closed at the spawn.
#[cfg(not(unix))]
pub(crate) fn reap(_: u32) {}

/// The highest descriptor number that may be open, plus one (computed before `fork`): the
/// process's limit, whatever it is (bounded for an unlimited one).
#[cfg(unix)]
fn highest_fd() -> i32 {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes into the struct it is given.
    let got = unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) };
    const UNLIMITED: i32 = 1 << 20;
    if got != 0 || limit.rlim_cur == libc::RLIM_INFINITY {
        return UNLIMITED;
    }
    limit.rlim_cur.min(i32::MAX as libc::rlim_t) as i32
}

/// Closes (or marks close-on-exec) every descriptor from `first` on: `close_range` where
/// the kernel has it (Linux 5.9), else each descriptor `/proc/self/fd` lists, else every
/// number below `max`. In the forked child: system calls only, a buffer on the stack.
#[cfg(unix)]
unsafe fn close_from(first: i32, max: i32, proc_fds: *const libc::c_char) {
    #[cfg(target_os = "linux")]
    {
        if libc::syscall(libc::SYS_close_range, first as u32, u32::MAX, 0) == 0 {
            return;
        }
        let dir = libc::open(
            proc_fds,
            libc::O_RDONLY | libc::O_DIRECTORY | libc::O_CLOEXEC,
        );
        if dir >= 0 {
            let mut buf = [0u8; 4096];
            loop {
                let n = libc::syscall(
                    libc::SYS_getdents64,
                    dir,
                    buf.as_mut_ptr(),
                    buf.len() as libc::c_uint,
                );
                if n <= 0 {
                    break;
                }
                let mut at = 0usize;
                while at + 19 < n as usize {
                    // struct linux_dirent64 { u64 ino; i64 off; u16 reclen; u8 type; name }
                    let reclen = u16::from_ne_bytes([buf[at + 16], buf[at + 17]]) as usize;
                    if reclen == 0 {
                        break;
                    }
                    let mut fd: i64 = 0;
                    let mut digits = 0;
                    for &b in &buf[at + 19..(at + reclen).min(n as usize)] {
                        if !b.is_ascii_digit() {
                            break;
                        }
                        fd = fd * 10 + i64::from(b - b'0');
                        digits += 1;
                    }
                    if digits > 0 && fd >= i64::from(first) && fd != i64::from(dir) {
                        cloexec(fd as i32);
                    }
                    at += reclen;
                }
            }
            libc::close(dir);
            return;
        }
    }
    let _ = proc_fds;
    for fd in first..max {
        cloexec(fd);
    }
}

#[cfg(unix)]
unsafe fn cloexec(fd: i32) {
    // Most numbers are not open: EBADF, ignored.
    let flags = libc::fcntl(fd, libc::F_GETFD);
    if flags >= 0 && flags & libc::FD_CLOEXEC == 0 {
        libc::fcntl(fd, libc::F_SETFD, flags | libc::FD_CLOEXEC);
    }
}

/// Spawns the sender; its process id, or a fixed phrase saying why it could not be started.
#[cfg(windows)]
pub(crate) fn spawn_detached(
    argv0: &str,
    vars: &[(OsString, OsString)],
    cwd: &Path,
) -> Result<u32, &'static str> {
    use std::ffi::OsStr;
    use std::os::windows::ffi::OsStrExt;
    use windows_sys::Win32::Foundation::CloseHandle;
    use windows_sys::Win32::System::Threading::{
        CreateProcessW, GetCurrentProcess, GetPriorityClass, BELOW_NORMAL_PRIORITY_CLASS,
        CREATE_NEW_PROCESS_GROUP, CREATE_NO_WINDOW, CREATE_UNICODE_ENVIRONMENT,
        IDLE_PRIORITY_CLASS, PROCESS_INFORMATION, STARTUPINFOW,
    };

    fn wide(s: &OsStr) -> Vec<u16> {
        s.encode_wide().chain(Some(0)).collect()
    }

    let exe = executable()?;
    let application = wide(exe.as_os_str());
    // The command line is `argv0` alone (the executable is named by `application`).
    let mut command_line = wide(OsStr::new(argv0));
    // The environment: this process's, plus `vars`, sorted by name as Windows keeps it.
    let mut env: Vec<(OsString, OsString)> = std::env::vars_os()
        .filter(|(k, _)| {
            !vars
                .iter()
                .any(|(v, _)| k.to_ascii_uppercase() == v.to_ascii_uppercase())
        })
        .collect();
    env.extend(vars.iter().cloned());
    env.sort_by_key(|(k, _)| k.to_ascii_uppercase());
    let mut block: Vec<u16> = Vec::new();
    for (k, v) in &env {
        block.extend(k.encode_wide());
        block.push(u16::from(b'='));
        block.extend(v.encode_wide());
        block.push(0);
    }
    block.push(0);
    let dir = wide(cwd.as_os_str());
    // SAFETY: zeroed STARTUPINFOW/PROCESS_INFORMATION are valid (plain C structs); every
    // pointer passed lives until CreateProcessW returns; the handles it returns are closed.
    unsafe {
        // Never above the parent's priority.
        let priority = if GetPriorityClass(GetCurrentProcess()) == IDLE_PRIORITY_CLASS {
            IDLE_PRIORITY_CLASS
        } else {
            BELOW_NORMAL_PRIORITY_CLASS
        };
        let mut startup: STARTUPINFOW = std::mem::zeroed();
        startup.cb = std::mem::size_of::<STARTUPINFOW>() as u32;
        let mut info: PROCESS_INFORMATION = std::mem::zeroed();
        let ok = CreateProcessW(
            application.as_ptr(),
            command_line.as_mut_ptr(),
            std::ptr::null(),
            std::ptr::null(),
            0, // no handle of this process is inherited
            CREATE_NO_WINDOW | CREATE_NEW_PROCESS_GROUP | CREATE_UNICODE_ENVIRONMENT | priority,
            block.as_ptr().cast(),
            dir.as_ptr(),
            &startup,
            &mut info,
        );
        if ok == 0 {
            return Err("the sender process could not be spawned");
        }
        CloseHandle(info.hThread);
        CloseHandle(info.hProcess);
        Ok(info.dwProcessId)
    }
}

#[cfg(not(any(unix, windows)))]
pub(crate) fn spawn_detached(
    _: &str,
    _: &[(OsString, OsString)],
    _: &Path,
) -> Result<u32, &'static str> {
    let _ = executable()?;
    Err("detached senders are not supported on this platform")
}

/// In the sender: waits until the run that started it (`parent`, its parent process then)
/// has ended, or until `until`; whether it has ended.
#[cfg(unix)]
pub(crate) fn wait_for_exit(parent: u32, until: std::time::Instant) -> bool {
    use std::time::{Duration, Instant};
    // SAFETY: getppid has no preconditions.
    let gone = || unsafe { libc::getppid() } as u32 != parent;
    #[cfg(target_os = "linux")]
    if !gone() {
        // A pidfd wakes the moment the parent ends (Linux 5.3). The pid can't be another
        // process's: the parent is still this process's parent, so it was not reaped.
        // SAFETY: a plain system call on integers.
        let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, parent as libc::pid_t, 0) } as i32;
        if fd >= 0 {
            let mut poll = libc::pollfd {
                fd,
                events: libc::POLLIN,
                revents: 0,
            };
            while !gone() {
                let left = until.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    break;
                }
                let ms = left.as_millis().clamp(1, 60_000) as i32;
                // SAFETY: polls one pollfd that lives on this stack frame.
                if unsafe { libc::poll(&mut poll, 1, ms) } > 0 {
                    break;
                }
            }
            // SAFETY: closes the descriptor pidfd_open returned.
            unsafe { libc::close(fd) };
            return gone() || poll.revents != 0;
        }
    }
    while !gone() && Instant::now() < until {
        std::thread::sleep(Duration::from_millis(10));
    }
    gone()
}

/// In the sender: waits until the run that started it (`parent`) has ended, or `until`;
/// whether it has ended.
#[cfg(windows)]
pub(crate) fn wait_for_exit(parent: u32, until: std::time::Instant) -> bool {
    use windows_sys::Win32::Foundation::{CloseHandle, WAIT_OBJECT_0};
    use windows_sys::Win32::System::Threading::{
        OpenProcess, WaitForSingleObject, PROCESS_SYNCHRONIZE,
    };
    let left = until.saturating_duration_since(std::time::Instant::now());
    // SAFETY: OpenProcess returns a handle (or null) that is closed below; waiting on a
    // process handle has no other precondition.
    unsafe {
        let handle = OpenProcess(PROCESS_SYNCHRONIZE, 0, parent);
        if handle.is_null() {
            return true; // gone already
        }
        let waited = WaitForSingleObject(handle, left.as_millis().min(u32::MAX as u128 - 1) as u32);
        CloseHandle(handle);
        waited == WAIT_OBJECT_0
    }
}

#[cfg(not(any(unix, windows)))]
pub(crate) fn wait_for_exit(_: u32, _: std::time::Instant) -> bool {
    true
}
