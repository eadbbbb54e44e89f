//! Starting the detached sender process (SPEC S-19, R-5): the same executable, named
//! `argv0` and without arguments, with only `vars` added to the environment, stdio on the
//! null device, and nothing else of the parent's.
//!
//! - Unix: `fork` and `exec`, the child in a new session (`setsid`: its own process group,
//!   never a controlling terminal), with every descriptor above stderr marked close-on-exec
//!   (so a pipeline, `$(…)`, or a build tool waiting on a descriptor the command inherited
//!   returns when the command does). A thread of the parent waits for the child, so it
//!   never lingers as a zombie if the parent lives on; once the parent exits, the child's
//!   new parent reaps it.
//! - Windows: `CreateProcessW` with `CREATE_NO_WINDOW | CREATE_NEW_PROCESS_GROUP` (not
//!   `DETACHED_PROCESS`, which makes console programs flash a window) and no handle
//!   inherited (`bInheritHandles` false, so no pipe of the parent's is held).
//!
//! Either way at a lower priority (nice 10, `BELOW_NORMAL_PRIORITY_CLASS`): background work
//! that yields the CPU to the command and to whatever runs after it.
#![allow(unsafe_code)]

use std::path::Path;

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
    vars: &[(&str, &str)],
    cwd: &Path,
) -> Result<u32, &'static str> {
    use std::ffi::{CString, OsString};
    use std::os::unix::ffi::{OsStrExt, OsStringExt};

    let exe = std::env::current_exe().map_err(|_| "the executable's path is not known")?;
    // Linux names a deleted executable "<path> (deleted)": nothing can be started from it.
    if !exe.is_file() {
        return Err("the executable is gone (replaced or deleted since it started)");
    }
    let cstr = |bytes: Vec<u8>| CString::new(bytes).map_err(|_| "a NUL byte in the environment");
    let path = cstr(exe.as_os_str().as_bytes().to_vec())?;
    let argv0 = cstr(argv0.as_bytes().to_vec())?;
    let dir = cstr(cwd.as_os_str().as_bytes().to_vec())?;
    let null = cstr(b"/dev/null".to_vec())?;
    // The environment: this process's, plus `vars` (replacing any of the same name).
    let mut env = Vec::new();
    for (k, v) in std::env::vars_os() {
        if vars.iter().any(|(name, _)| k.as_bytes() == name.as_bytes()) {
            continue;
        }
        let mut kv = k.into_vec();
        kv.push(b'=');
        kv.extend(v.into_vec());
        env.push(cstr(kv)?);
    }
    for (k, v) in vars {
        env.push(cstr(OsString::from(format!("{k}={v}")).into_vec())?);
    }
    let argv = [argv0.as_ptr(), std::ptr::null()];
    let mut envp: Vec<*const libc::c_char> = env.iter().map(|c| c.as_ptr()).collect();
    envp.push(std::ptr::null());
    let max_fd = highest_fd();
    // SAFETY: between fork and exec the child calls only async-signal-safe functions
    // (open, dup2, close, chdir, setsid, close_range/fcntl, execve, _exit) on memory
    // prepared before the fork; it allocates nothing and returns to no Rust code.
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
            }
            libc::setsid();
            // Background work: it yields the CPU to the command (and to whatever follows
            // it in a script) whenever they want it.
            libc::setpriority(libc::PRIO_PROCESS, 0, 10);
            libc::chdir(dir.as_ptr());
            cloexec_from(3, max_fd);
            // Default signal handling and no blocked signal, as a fresh process has.
            let mut none: libc::sigset_t = std::mem::zeroed();
            libc::sigemptyset(&mut none);
            libc::sigprocmask(libc::SIG_SETMASK, &none, std::ptr::null_mut());
            libc::signal(libc::SIGPIPE, libc::SIG_DFL);
            libc::execve(path.as_ptr(), argv.as_ptr(), envp.as_ptr());
            libc::_exit(127);
        }
    }
    Ok(pid as u32)
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

/// The highest descriptor number that may be open (computed before `fork`).
#[cfg(unix)]
fn highest_fd() -> i32 {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes into the struct it is given.
    let got = unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) };
    if got != 0 || limit.rlim_cur == libc::RLIM_INFINITY {
        return 65_535;
    }
    limit.rlim_cur.min(65_535) as i32
}

/// Marks every descriptor from `first` on close-on-exec: `close_range(…,
/// CLOSE_RANGE_CLOEXEC)` where the kernel has it (Linux 5.11), else one by one up to `max`.
#[cfg(unix)]
fn cloexec_from(first: i32, max: i32) {
    #[cfg(target_os = "linux")]
    {
        const CLOSE_RANGE_CLOEXEC: libc::c_int = 1 << 2;
        // SAFETY: a plain system call on integers.
        let done = unsafe {
            libc::syscall(
                libc::SYS_close_range,
                first as u32,
                u32::MAX,
                CLOSE_RANGE_CLOEXEC,
            )
        };
        if done == 0 {
            return;
        }
    }
    for fd in first..=max {
        // SAFETY: fcntl on a descriptor number (most are not open: EBADF, ignored).
        unsafe {
            let flags = libc::fcntl(fd, libc::F_GETFD);
            if flags >= 0 && flags & libc::FD_CLOEXEC == 0 {
                libc::fcntl(fd, libc::F_SETFD, flags | libc::FD_CLOEXEC);
            }
        }
    }
}

/// Spawns the sender; its process id, or a fixed phrase saying why it could not be started.
#[cfg(windows)]
pub(crate) fn spawn_detached(
    argv0: &str,
    vars: &[(&str, &str)],
    cwd: &Path,
) -> Result<u32, &'static str> {
    use std::ffi::{OsStr, OsString};
    use std::os::windows::ffi::OsStrExt;
    use windows_sys::Win32::Foundation::CloseHandle;
    use windows_sys::Win32::System::Threading::{
        CreateProcessW, BELOW_NORMAL_PRIORITY_CLASS, CREATE_NEW_PROCESS_GROUP, CREATE_NO_WINDOW,
        CREATE_UNICODE_ENVIRONMENT, PROCESS_INFORMATION, STARTUPINFOW,
    };

    fn wide(s: &OsStr) -> Vec<u16> {
        s.encode_wide().chain(Some(0)).collect()
    }

    let exe = std::env::current_exe().map_err(|_| "the executable's path is not known")?;
    let application = wide(exe.as_os_str());
    // The command line is `argv0` alone (the executable is named by `application`).
    let mut command_line = wide(OsStr::new(argv0));
    // The environment: this process's, plus `vars`, sorted by name as Windows keeps it.
    let mut env: Vec<(OsString, OsString)> = std::env::vars_os()
        .filter(|(k, _)| !vars.iter().any(|(v, _)| k.eq_ignore_ascii_case(v)))
        .collect();
    env.extend(
        vars.iter()
            .map(|(k, v)| (OsString::from(k), OsString::from(v))),
    );
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
        let mut startup: STARTUPINFOW = std::mem::zeroed();
        startup.cb = std::mem::size_of::<STARTUPINFOW>() as u32;
        let mut info: PROCESS_INFORMATION = std::mem::zeroed();
        let ok = CreateProcessW(
            application.as_ptr(),
            command_line.as_mut_ptr(),
            std::ptr::null(),
            std::ptr::null(),
            0, // no handle of this process is inherited
            CREATE_NO_WINDOW
                | CREATE_NEW_PROCESS_GROUP
                | CREATE_UNICODE_ENVIRONMENT
                | BELOW_NORMAL_PRIORITY_CLASS,
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
pub(crate) fn spawn_detached(_: &str, _: &[(&str, &str)], _: &Path) -> Result<u32, &'static str> {
    Err("detached senders are not supported on this platform")
}

/// In the sender: waits until the run that started it (`parent`, its parent process then)
/// has ended, or until `until`.
#[cfg(unix)]
pub(crate) fn wait_for_exit(parent: u32, until: std::time::Instant) {
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
            return;
        }
    }
    while !gone() && Instant::now() < until {
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// In the sender: waits until the run that started it (`parent`) has ended, or `until`.
#[cfg(windows)]
pub(crate) fn wait_for_exit(parent: u32, until: std::time::Instant) {
    use windows_sys::Win32::Foundation::CloseHandle;
    use windows_sys::Win32::System::Threading::{
        OpenProcess, WaitForSingleObject, PROCESS_SYNCHRONIZE,
    };
    let left = until.saturating_duration_since(std::time::Instant::now());
    // SAFETY: OpenProcess returns a handle (or null) that is closed below; waiting on a
    // process handle has no other precondition.
    unsafe {
        let handle = OpenProcess(PROCESS_SYNCHRONIZE, 0, parent);
        if handle.is_null() {
            return; // gone already
        }
        WaitForSingleObject(handle, left.as_millis().min(u32::MAX as u128 - 1) as u32);
        CloseHandle(handle);
    }
}

#[cfg(not(any(unix, windows)))]
pub(crate) fn wait_for_exit(_: u32, _: std::time::Instant) {}
