//! The first-run notice (SPEC S-12): shown on stderr when telemetry is on only because of
//! the application's default; once per user (a marker file in the config directory), or
//! on every run in CI, whose disks do not persist.

use std::io::Write;

use super::builder::AppConfig;
use super::env::Env;

/// Shows the notice if it is due. `Err` when it could not be recorded as shown: then
/// nothing may be sent.
pub(crate) fn show(app: &AppConfig, env: &dyn Env, text: &str) -> Result<(), ()> {
    if super::ci::detect_ci(env).0 == Some(true) {
        print(text);
        return Ok(());
    }
    let marker = app.notice_marker(env).ok_or(())?;
    if marker.exists() {
        return Ok(());
    }
    print(text);
    let dir = marker.parent().ok_or(())?;
    super::files::create_private_dir(dir).map_err(|_| ())?;
    let body = format!(
        "The {} telemetry notice was shown; delete this file to see it again.\n",
        app.name
    );
    match super::files::write_private(&marker, body.as_bytes()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(_) => Err(()),
    }
}

fn print(text: &str) {
    let mut err = std::io::stderr().lock();
    let _ = writeln!(err, "{}", text.trim_end());
}
