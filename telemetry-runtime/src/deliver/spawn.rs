//! Starting the detached sender process (SPEC S-19, R-5): the same executable, named
//! `argv0` and without arguments, with only `vars` added to the environment, stdio on the
//! null device, and nothing else of the parent's.
//!
//! - Unix: a new session (`setsid`: its own process group, never a controlling terminal),
//!   every descriptor above stderr marked close-on-exec before `exec` (so a pipeline,
//!   `$(…)`, or a build tool waiting on a descriptor the command inherited returns when the
//!   command does; std's own pipe that reports a failed `exec` stays usable until then). A thread of the parent waits for the child, so it never lingers as a zombie if
//!   the parent lives on; once the parent exits, the child's new parent reaps it.
//! - Windows: `CreateProcessW` with `CREATE_NO_WINDOW | CREATE_NEW_PROCESS_GROUP` (not
//!   `DETACHED_PROCESS`, which makes console programs flash a window) and no handle
//!   inherited (`bInheritHandles` false, so no pipe of the parent's is held).
#![allow(unsafe_code)]

use std::path::Path;

/// Spawns the sender; its process id, or a fixed phrase saying why it could not be started.
#[cfg(unix)]
pub(crate) fn spawn_detached(
    argv0: &str,
    vars: &[(&str, &str)],
    cwd: &Path,
) -> Result<u32, &'static str> {
    use std::os::unix::process::CommandExt;
    use std::process::{Command, Stdio};

    let exe = std::env::current_exe().map_err(|_| "the executable's path is not known")?;
    let max_fd = highest_fd();
    let mut cmd = Command::new(exe);
    cmd.arg0(argv0)
        .envs(vars.iter().copied())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .current_dir(cwd);
    // SAFETY: the closure runs in the child between fork and exec, and calls only
    // async-signal-safe functions (setsid, close_range/fcntl); it allocates nothing.
    unsafe {
        cmd.pre_exec(move || {
            libc::setsid();
            cloexec_from(3, max_fd);
            Ok(())
        });
    }
    let mut child = cmd
        .spawn()
        .map_err(|_| "the sender process could not be spawned")?;
    let pid = child.id();
    // Reaps the child if this process lives on (a process that exits needs no reaping).
    let _ = std::thread::Builder::new()
        .name("cli-telemetry-reaper".into())
        .spawn(move || child.wait());
    Ok(pid)
}

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
        CreateProcessW, CREATE_NEW_PROCESS_GROUP, CREATE_NO_WINDOW, CREATE_UNICODE_ENVIRONMENT,
        PROCESS_INFORMATION, STARTUPINFOW,
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
            CREATE_NO_WINDOW | CREATE_NEW_PROCESS_GROUP | CREATE_UNICODE_ENVIRONMENT,
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
