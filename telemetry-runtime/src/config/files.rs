//! Private files of the person running the tool (SPEC S-10, S-12, S-13, S-15): directories
//! created with mode 0700, files with 0600, so that nobody else on the machine reads the
//! choice, the marker or queued events.

use std::fs;
use std::path::Path;

/// Creates `dir` and its parents (0700 on Unix).
pub(crate) fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
    }
    #[cfg(not(unix))]
    fs::create_dir_all(dir)
}

/// Writes a new file (never an existing one, never through a link) with mode 0600 on
/// Unix. A write that fails (a full disk) removes the file it began: no litter.
pub(crate) fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(bytes).inspect_err(|_| {
        drop(fs::remove_file(path));
    })
}
