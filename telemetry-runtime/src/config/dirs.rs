//! The user's cache and config directories (for the spool and the first-run marker),
//! honouring `XDG_CACHE_HOME` / `XDG_CONFIG_HOME` on Unix-like systems.

use std::path::PathBuf;

use super::env::Env;

fn absolute(env: &dyn Env, var: &str) -> Option<PathBuf> {
    env.var_os(var)
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
}

fn home(env: &dyn Env) -> Option<PathBuf> {
    absolute(env, "HOME")
}

/// `$XDG_CACHE_HOME`, else the platform's cache directory.
pub(crate) fn cache_dir(env: &dyn Env) -> Option<PathBuf> {
    if cfg!(windows) {
        return absolute(env, "LOCALAPPDATA");
    }
    absolute(env, "XDG_CACHE_HOME").or_else(|| {
        let home = home(env)?;
        Some(if cfg!(target_os = "macos") {
            home.join("Library/Caches")
        } else {
            home.join(".cache")
        })
    })
}

/// `$XDG_CONFIG_HOME`, else the platform's config directory.
#[cfg(feature = "telemetry")]
pub(crate) fn config_dir(env: &dyn Env) -> Option<PathBuf> {
    if cfg!(windows) {
        return absolute(env, "APPDATA");
    }
    absolute(env, "XDG_CONFIG_HOME").or_else(|| {
        let home = home(env)?;
        Some(if cfg!(target_os = "macos") {
            home.join("Library/Application Support")
        } else {
            home.join(".config")
        })
    })
}

#[cfg(all(test, unix, not(target_os = "macos"), feature = "telemetry"))]
mod tests {
    use super::*;

    #[test]
    fn xdg_first_then_home_and_relative_paths_are_ignored() {
        assert_eq!(
            cache_dir(&[("XDG_CACHE_HOME", "/c"), ("HOME", "/h")]),
            Some("/c".into())
        );
        assert_eq!(
            cache_dir(&[("XDG_CACHE_HOME", "rel"), ("HOME", "/h")]),
            Some("/h/.cache".into())
        );
        assert_eq!(config_dir(&[("HOME", "/h")]), Some("/h/.config".into()));
        assert_eq!(config_dir(&[("XDG_CONFIG_HOME", "/x")]), Some("/x".into()));
        assert_eq!(cache_dir(&[]), None);
    }
}
