//! A home of its own for the processes a [`Collector`](super::Collector) test starts: a
//! fresh 0700 directory under the system's temporary directory, with the config and cache
//! directories the library reads (XDG on Unix, `%APPDATA%` and `%LOCALAPPDATA%` on
//! Windows), removed when the collector is dropped. So a test never reads or writes the
//! developer's own lasting choice, first-run marker or queue.

use std::path::{Path, PathBuf};

pub(super) struct Home {
    root: PathBuf,
}

impl Home {
    pub(super) fn new() -> std::io::Result<Home> {
        let root = std::env::temp_dir().join(format!(
            "cli-telemetry-collector-{}",
            crate::random::hex(16)
        ));
        crate::config::create_private_dir(&root.join("config"))?;
        crate::config::create_private_dir(&root.join("cache"))?;
        Ok(Home { root })
    }

    pub(super) fn path(&self) -> &Path {
        &self.root
    }

    /// The variables that point a child process's home, config and cache here.
    pub(super) fn vars(&self) -> Vec<(String, String)> {
        let show = |p: PathBuf| p.to_string_lossy().into_owned();
        let mut vars = vec![
            ("HOME".to_owned(), show(self.root.clone())),
            ("XDG_CONFIG_HOME".to_owned(), show(self.root.join("config"))),
            ("XDG_CACHE_HOME".to_owned(), show(self.root.join("cache"))),
        ];
        if cfg!(windows) {
            vars.extend([
                ("USERPROFILE".to_owned(), show(self.root.clone())),
                ("APPDATA".to_owned(), show(self.root.join("config"))),
                ("LOCALAPPDATA".to_owned(), show(self.root.join("cache"))),
            ]);
        }
        vars
    }
}

impl Drop for Home {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.root);
    }
}
