//! What the queue trusts (SPEC R-6): only a directory of the effective user's, mode 0700,
//! that is not a symbolic link (or, on Windows, a reparse point), inside a parent that
//! nobody else can write; only regular files of its own, opened without following a
//! symbolic link and without blocking on a FIFO, and read up to a size cap.
//!
//! Anything else is a [`Bad`] entry: the caller removes or skips it and says so in the log
//! file; an untrusted directory is not used at all (the run delivers inline).

use std::fs::{self, File, OpenOptions};
use std::io::Read;
use std::path::Path;

/// The largest queue file read: an event is a few KiB; anything larger was not written by
/// this library.
pub(crate) const MAX_FILE: u64 = 256 * 1024;

/// Why an entry of the queue is not used.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Bad {
    /// A symbolic link (or reparse point).
    Link,
    /// A FIFO, socket, device or directory where a file was expected.
    NotRegular,
    /// Over [`MAX_FILE`].
    TooLarge,
    /// Owned by another user (Unix: Windows has no owner check here).
    #[cfg_attr(not(unix), allow(dead_code))]
    Foreign,
}

impl Bad {
    /// The name in log lines.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Bad::Link => "symbolic link",
            Bad::NotRegular => "not a regular file",
            Bad::TooLarge => "too large",
            Bad::Foreign => "owned by another user",
        }
    }
}

/// Either an I/O error, or an entry that is not what the queue makes.
#[derive(Debug)]
pub(crate) enum OpenError {
    Io(std::io::Error),
    Bad(Bad),
}

impl From<std::io::Error> for OpenError {
    fn from(e: std::io::Error) -> Self {
        if is_link_error(&e) {
            OpenError::Bad(Bad::Link)
        } else {
            OpenError::Io(e)
        }
    }
}

/// Whether `dir` may be used as the queue: `Err` is a fixed phrase saying why not.
pub(crate) fn trust_dir(dir: &Path) -> Result<(), &'static str> {
    let meta = fs::symlink_metadata(dir).map_err(|_| "the queue directory can't be read")?;
    if meta.file_type().is_symlink() || is_reparse_point(&meta) {
        return Err("the queue directory is a symbolic link");
    }
    if !meta.is_dir() {
        return Err("the queue directory is not a directory");
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        if meta.uid() != euid() {
            return Err("the queue directory is owned by another user");
        }
        if meta.mode() & 0o077 != 0 {
            return Err("the queue directory is open to other users (its mode is not 0700)");
        }
        // Its parent (followed: the person may keep their cache elsewhere) must not let
        // anyone else swap the queue for one of theirs.
        if let Some(parent) = dir.parent() {
            let parent = fs::metadata(parent).map_err(|_| "the queue's parent can't be read")?;
            if parent.uid() != euid() && parent.uid() != 0 {
                return Err("the queue's parent directory is owned by another user");
            }
            if parent.mode() & 0o002 != 0 && parent.mode() & 0o1000 == 0 {
                return Err("the queue's parent directory is writable by everyone");
            }
        }
    }
    Ok(())
}

#[cfg(unix)]
pub(crate) fn euid() -> u32 {
    // SAFETY: geteuid has no preconditions and cannot fail.
    #[allow(unsafe_code)]
    unsafe {
        libc::geteuid()
    }
}

/// `(device, inode)` of a path's own entry (not followed): what tells a directory or lock
/// file from one put in its place.
pub(crate) fn identity(path: &Path) -> Option<(u64, u64)> {
    identity_of(&fs::symlink_metadata(path).ok()?)
}

/// `(device, inode)` of an open file.
pub(crate) fn file_identity(file: &File) -> Option<(u64, u64)> {
    identity_of(&file.metadata().ok()?)
}

#[cfg(unix)]
fn identity_of(meta: &fs::Metadata) -> Option<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    Some((meta.dev(), meta.ino()))
}

/// Windows: the creation time and size stand in (std has no stable file index); a file
/// put in the place of another has a creation time of its own.
#[cfg(not(unix))]
fn identity_of(meta: &fs::Metadata) -> Option<(u64, u64)> {
    let created = meta.created().ok()?;
    let nanos = created
        .duration_since(std::time::UNIX_EPOCH)
        .ok()?
        .as_nanos() as u64;
    Some((nanos, u64::from(meta.is_dir())))
}

fn is_reparse_point(meta: &fs::Metadata) -> bool {
    #[cfg(windows)]
    {
        use std::os::windows::fs::MetadataExt;
        const FILE_ATTRIBUTE_REPARSE_POINT: u32 = 0x400;
        meta.file_attributes() & FILE_ATTRIBUTE_REPARSE_POINT != 0
    }
    #[cfg(not(windows))]
    {
        let _ = meta;
        false
    }
}

fn is_link_error(e: &std::io::Error) -> bool {
    #[cfg(unix)]
    {
        // O_NOFOLLOW on a symbolic link: ELOOP (Linux, macOS), EMLINK (FreeBSD).
        matches!(e.raw_os_error(), Some(libc::ELOOP) | Some(libc::EMLINK))
    }
    #[cfg(not(unix))]
    {
        let _ = e;
        false
    }
}

/// Open options that never follow a final symbolic link and never block on a FIFO.
fn no_follow(options: &mut OpenOptions) -> &mut OpenOptions {
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK);
    }
    #[cfg(windows)]
    {
        use std::os::windows::fs::OpenOptionsExt;
        const FILE_FLAG_OPEN_REPARSE_POINT: u32 = 0x0020_0000;
        options.custom_flags(FILE_FLAG_OPEN_REPARSE_POINT);
    }
    options
}

/// An open file is one of the queue's own: a regular file of this user.
fn check_open(file: &File) -> Result<fs::Metadata, OpenError> {
    let meta = file.metadata()?;
    if is_reparse_point(&meta) {
        return Err(OpenError::Bad(Bad::Link));
    }
    if !meta.is_file() {
        return Err(OpenError::Bad(Bad::NotRegular));
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        if meta.uid() != euid() {
            return Err(OpenError::Bad(Bad::Foreign));
        }
    }
    Ok(meta)
}

/// Reads a queue file whole: a regular file of this user, at most [`MAX_FILE`] bytes.
pub(crate) fn read_file(path: &Path) -> Result<Vec<u8>, OpenError> {
    let file = no_follow(OpenOptions::new().read(true)).open(path)?;
    let meta = check_open(&file)?;
    if meta.len() > MAX_FILE {
        return Err(OpenError::Bad(Bad::TooLarge));
    }
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    file.take(MAX_FILE + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > MAX_FILE {
        return Err(OpenError::Bad(Bad::TooLarge));
    }
    Ok(bytes)
}

/// Opens (creating it, 0600) a lock file: a regular file of this user, never through a
/// symbolic link, never blocking on a FIFO.
pub(crate) fn open_lock(path: &Path, create: bool) -> Result<File, OpenError> {
    let mut options = OpenOptions::new();
    options.read(true).write(true);
    if create {
        options.create(true).truncate(false);
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let file = no_follow(&mut options).open(path)?;
    check_open(&file)?;
    Ok(file)
}

/// What is at `path`, not followed: `Ok(None)` for a regular file of this user (or nothing
/// at all), the kind of entry otherwise.
pub(crate) fn bad_entry(path: &Path) -> Option<Bad> {
    let meta = fs::symlink_metadata(path).ok()?;
    if meta.file_type().is_symlink() || is_reparse_point(&meta) {
        return Some(Bad::Link);
    }
    if !meta.is_file() {
        return Some(Bad::NotRegular);
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        if meta.uid() != euid() {
            return Some(Bad::Foreign);
        }
    }
    (meta.len() > MAX_FILE).then_some(Bad::TooLarge)
}

/// Removes a bad entry: a link or a file goes (`unlink` never follows a link); a directory
/// is left where it is (skipped). Whether it is gone.
pub(crate) fn remove_entry(path: &Path) -> bool {
    match fs::symlink_metadata(path) {
        Ok(meta) if meta.is_dir() => false,
        Ok(_) => fs::remove_file(path).is_ok(),
        Err(_) => true,
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::{symlink, PermissionsExt};

    fn private_dir(root: &Path, name: &str) -> std::path::PathBuf {
        let dir = root.join(name);
        fs::create_dir(&dir).unwrap();
        fs::set_permissions(&dir, fs::Permissions::from_mode(0o700)).unwrap();
        dir
    }

    #[test]
    fn only_a_private_directory_of_this_user_is_trusted() {
        let root = tempfile::tempdir().unwrap();
        fs::set_permissions(root.path(), fs::Permissions::from_mode(0o755)).unwrap();
        let good = private_dir(root.path(), "q");
        assert_eq!(trust_dir(&good), Ok(()));
        fs::set_permissions(&good, fs::Permissions::from_mode(0o777)).unwrap();
        assert!(trust_dir(&good)
            .unwrap_err()
            .contains("open to other users"));
        fs::set_permissions(&good, fs::Permissions::from_mode(0o700)).unwrap();
        let link = root.path().join("link");
        symlink(&good, &link).unwrap();
        assert!(trust_dir(&link).unwrap_err().contains("symbolic link"));
        let file = root.path().join("file");
        fs::write(&file, b"").unwrap();
        assert!(trust_dir(&file).unwrap_err().contains("not a directory"));
        assert!(trust_dir(&root.path().join("none")).is_err());
        fs::set_permissions(root.path(), fs::Permissions::from_mode(0o777)).unwrap();
        assert!(trust_dir(&good)
            .unwrap_err()
            .contains("writable by everyone"));
        fs::set_permissions(root.path(), fs::Permissions::from_mode(0o1777)).unwrap();
        assert_eq!(trust_dir(&good), Ok(()), "a sticky parent, like /tmp");
    }

    #[test]
    fn files_are_read_without_links_fifos_or_huge_sizes() {
        let root = tempfile::tempdir().unwrap();
        let file = root.path().join("e.json");
        fs::write(&file, b"{}").unwrap();
        assert_eq!(read_file(&file).unwrap(), b"{}");
        let link = root.path().join("l.json");
        symlink(&file, &link).unwrap();
        assert!(matches!(read_file(&link), Err(OpenError::Bad(Bad::Link))));
        assert_eq!(bad_entry(&link), Some(Bad::Link));
        let zero = root.path().join("z.json");
        symlink("/dev/zero", &zero).unwrap();
        assert!(matches!(read_file(&zero), Err(OpenError::Bad(Bad::Link))));
        let fifo = root.path().join("f.json");
        let c = std::ffi::CString::new(fifo.as_os_str().as_encoded_bytes()).unwrap();
        // SAFETY: mkfifo on a NUL-terminated path.
        #[allow(unsafe_code)]
        let made = unsafe { libc::mkfifo(c.as_ptr(), 0o600) };
        assert_eq!(made, 0);
        assert!(matches!(
            read_file(&fifo),
            Err(OpenError::Bad(Bad::NotRegular))
        ));
        assert!(matches!(
            open_lock(&fifo, true),
            Err(OpenError::Bad(Bad::NotRegular))
        ));
        let big = root.path().join("big.json");
        fs::write(&big, vec![b' '; MAX_FILE as usize + 1]).unwrap();
        assert!(matches!(
            read_file(&big),
            Err(OpenError::Bad(Bad::TooLarge))
        ));
        // A planted lock link creates nothing where it points.
        let target = root.path().join("elsewhere");
        let planted = root.path().join("spawn.lock");
        symlink(&target, &planted).unwrap();
        assert!(matches!(
            open_lock(&planted, true),
            Err(OpenError::Bad(Bad::Link))
        ));
        assert!(!target.exists());
        assert!(remove_entry(&planted) && !planted.exists());
        assert!(remove_entry(&fifo));
        assert!(!remove_entry(root.path()), "a directory is skipped");
    }
}
