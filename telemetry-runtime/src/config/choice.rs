//! The lasting choice of the person running the tool (SPEC S-15) and the installation id
//! (SPEC S-16): `<config dir>/<app>/telemetry.json`, `{"enabled": bool, "installationId":
//! "<uuid v4>"}`, both optional. Created with mode 0600 in a 0700 directory, written
//! atomically (a temporary file renamed over it), deleted when nothing is left in it. A
//! file that can't be read or parsed counts as unset; it never affects the command.

use std::io;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::builder::AppConfig;
use super::env::Env;

/// What the file holds.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct Choice {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    #[serde(
        rename = "installationId",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub installation_id: Option<String>,
    /// Keys written by a later version: kept as they are.
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

/// The file, read.
#[derive(Debug, PartialEq)]
pub(crate) enum Read {
    Missing,
    Found(Choice),
    /// Unreadable or not the expected JSON: counts as unset.
    Corrupt,
}

impl AppConfig {
    /// `<config dir>/<app>/telemetry.json`.
    pub(crate) fn choice_file(&self, env: &dyn Env) -> Option<PathBuf> {
        Some(
            super::dirs::config_dir(env)?
                .join(self.dir_name())
                .join("telemetry.json"),
        )
    }
}

pub(crate) fn read(path: &Path) -> Read {
    match std::fs::read(path) {
        Ok(bytes) => match serde_json::from_slice::<Choice>(&bytes) {
            Ok(mut choice) => {
                // An id that is not a UUID is not ours: it is replaced when one is needed.
                if choice
                    .installation_id
                    .as_deref()
                    .is_some_and(|id| uuid::Uuid::parse_str(id).is_err())
                {
                    choice.installation_id = None;
                }
                Read::Found(choice)
            }
            Err(_) => Read::Corrupt,
        },
        Err(e) if e.kind() == io::ErrorKind::NotFound => Read::Missing,
        Err(_) => Read::Corrupt,
    }
}

/// The choice in the file, `Default` when missing or corrupt.
pub(crate) fn current(path: &Path) -> Choice {
    match read(path) {
        Read::Found(choice) => choice,
        Read::Missing | Read::Corrupt => Choice::default(),
    }
}

/// Writes `choice` atomically (mode 0600); deletes the file when the choice is empty.
pub(crate) fn write(path: &Path, choice: &Choice) -> io::Result<()> {
    if choice == &Choice::default() {
        return match std::fs::remove_file(path) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        };
    }
    let dir = path
        .parent()
        .ok_or_else(|| io::Error::other("no parent directory"))?;
    super::files::create_private_dir(dir)?;
    let mut bytes = serde_json::to_vec_pretty(choice).map_err(io::Error::other)?;
    bytes.push(b'\n');
    let tmp = dir.join(format!(".telemetry.json.{}", crate::random::hex(12)));
    super::files::write_private(&tmp, &bytes)?;
    std::fs::rename(&tmp, path).inspect_err(|_| {
        let _ = std::fs::remove_file(&tmp);
    })
}

/// The installation id in the file, created (and written) when there is none. `None` when
/// it can't be recorded: an id that is not kept would count a new installation every run.
pub(crate) fn installation_id(path: &Path) -> Option<String> {
    let mut choice = match read(path) {
        Read::Found(choice) => choice,
        Read::Missing => Choice::default(),
        // Never overwrite a file we can't read: it may hold the person's choice.
        Read::Corrupt => return None,
    };
    if let Some(id) = &choice.installation_id {
        return Some(id.clone());
    }
    let id = crate::random::uuid_v4().to_string();
    choice.installation_id = Some(id.clone());
    write(path, &choice).ok()?;
    // Another process may have written its own id meanwhile: the file decides.
    current(path).installation_id
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_atomic_private_and_deleted_when_empty() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("app/telemetry.json");
        assert_eq!(read(&path), Read::Missing);
        let choice = Choice {
            enabled: Some(false),
            ..Default::default()
        };
        write(&path, &choice).unwrap();
        assert_eq!(read(&path), Read::Found(choice));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let names: Vec<_> = std::fs::read_dir(path.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["telemetry.json"], "no temporary file is left");
        write(&path, &Choice::default()).unwrap();
        assert!(!path.exists());
        write(&path, &Choice::default()).unwrap();
    }

    #[test]
    fn corrupt_files_count_as_unset_and_are_never_overwritten_for_an_id() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("telemetry.json");
        for junk in ["", "{", "[]", "{\"enabled\": \"yes\"}", "\u{0}\u{ff}"] {
            std::fs::write(&path, junk).unwrap();
            assert_eq!(read(&path), Read::Corrupt, "{junk:?}");
            assert_eq!(installation_id(&path), None);
            assert_eq!(std::fs::read_to_string(&path).unwrap(), junk);
        }
        std::fs::remove_file(&path).unwrap();
        std::fs::create_dir(&path).unwrap();
        assert_eq!(read(&path), Read::Corrupt);
    }

    #[test]
    fn installation_id_is_created_once_and_kept_with_the_choice() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("telemetry.json");
        write(
            &path,
            &Choice {
                enabled: Some(true),
                ..Default::default()
            },
        )
        .unwrap();
        let id = installation_id(&path).unwrap();
        assert_eq!(uuid::Uuid::parse_str(&id).unwrap().get_version_num(), 4);
        assert_eq!(installation_id(&path), Some(id.clone()));
        let choice = current(&path);
        assert_eq!(choice.enabled, Some(true));
        assert_eq!(choice.installation_id, Some(id));
        // Unknown keys of a later version survive.
        std::fs::write(&path, r#"{"enabled":true,"future":1}"#).unwrap();
        let _ = installation_id(&path).unwrap();
        assert_eq!(current(&path).other["future"], 1);
        // Not a UUID: replaced.
        std::fs::write(&path, r#"{"installationId":"host-name-derived"}"#).unwrap();
        let id = installation_id(&path).unwrap();
        assert_ne!(id, "host-name-derived");
    }
}
