//! The machine's policy (SPEC S-23): a file an administrator installs — `/etc/<app>/
//! telemetry.json` (Linux and other Unix), `/Library/Application Support/<app>/
//! telemetry.json` (macOS), `%ProgramData%\<app>\telemetry.json` (Windows), or where the
//! application puts it (`Telemetry::policy_file`) — holding `{"enabled": false}` switches
//! telemetry off for every user of the machine, above every other setting. It can only
//! switch off: `{"enabled": true}`, a file that can't be read or parsed, or none at all
//! leave the decision to the other settings.

use std::io::Read;
use std::path::{Path, PathBuf};

use super::builder::AppConfig;
use super::env::Env;

/// The largest policy file read.
const MAX_POLICY: u64 = 64 * 1024;

/// The machine's policy file for `app`: the application's, else the platform's place.
pub(crate) fn path(app: &AppConfig, env: &dyn Env) -> Option<PathBuf> {
    app.policy_file.clone().or_else(|| default_path(app, env))
}

/// The platform's policy file for `app`.
fn default_path(app: &AppConfig, env: &dyn Env) -> Option<PathBuf> {
    let dir = app.dir_name();
    if cfg!(windows) {
        let data = PathBuf::from(env.var_os("ProgramData")?);
        return data
            .is_absolute()
            .then(|| data.join(dir).join("telemetry.json"));
    }
    let base = if cfg!(target_os = "macos") {
        "/Library/Application Support"
    } else {
        "/etc"
    };
    Some(Path::new(base).join(dir).join("telemetry.json"))
}

/// Whether the policy at `path` switches telemetry off.
pub(crate) fn forbids(path: &Path) -> bool {
    let Ok(file) = std::fs::File::open(path) else {
        return false;
    };
    if !file.metadata().is_ok_and(|m| m.is_file()) {
        return false;
    }
    let mut text = Vec::new();
    if file.take(MAX_POLICY).read_to_end(&mut text).is_err() {
        return false;
    }
    serde_json::from_slice::<serde_json::Value>(&text)
        .ok()
        .and_then(|v| v.get("enabled")?.as_bool())
        == Some(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_enabled_false_forbids() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("telemetry.json");
        assert!(!forbids(&path), "no file");
        for (text, off) in [
            (r#"{"enabled": false}"#, true),
            (r#"{"enabled": false, "note": "managed by IT"}"#, true),
            (r#"{"enabled": true}"#, false),
            (r#"{"enabled": "false"}"#, false),
            ("{not json", false),
            ("", false),
        ] {
            std::fs::write(&path, text).unwrap();
            assert_eq!(forbids(&path), off, "{text}");
        }
        assert!(!forbids(dir.path()), "a directory is no policy");
    }

    #[cfg(all(unix, not(target_os = "macos")))]
    #[test]
    fn the_platform_s_place() {
        let app = crate::config::builder::Telemetry::builder("werf").app;
        assert_eq!(
            default_path(&app, &[]),
            Some(PathBuf::from("/etc/werf/telemetry.json"))
        );
    }
}
