//! Environment attributes (SPEC S-4, S-22): os/arch in Go's names, CI (detected by
//! `config::ci`), the agent and the container (`context`), group channel, user-provided
//! extra attributes.

use std::collections::BTreeMap;

use crate::config::{detect_ci, AppConfig, Env, Note};
use crate::event::Attributes;

/// `std::env::consts::OS` in Go's `GOOS` names.
pub fn go_os(os: &str) -> &str {
    match os {
        "macos" => "darwin",
        other => other, // linux, windows, freebsd, netbsd, openbsd, dragonfly, solaris, illumos, android, ios
    }
}

/// `std::env::consts::ARCH` in Go's `GOARCH` names.
pub fn go_arch(arch: &str, little_endian: bool) -> &str {
    match arch {
        "x86_64" => "amd64",
        "x86" => "386",
        "aarch64" => "arm64",
        "powerpc64" if little_endian => "ppc64le",
        "powerpc64" => "ppc64",
        "mips64" if little_endian => "mips64le",
        "mips" if little_endian => "mipsle",
        "loongarch64" => "loong64",
        "wasm32" => "wasm",
        other => other, // arm, riscv64, s390x, mips, mips64 …
    }
}

/// `<PREFIX>_TELEMETRY_EXTRA_ATTRIBUTE_<ANY>=key=value`; invalid ones are skipped with a note.
pub(crate) fn extra_attributes(
    app: &AppConfig,
    env: &dyn Env,
    notes: &mut Vec<Note>,
) -> BTreeMap<String, String> {
    let prefix = app.var("_EXTRA_ATTRIBUTE_");
    let mut extra = BTreeMap::new();
    let mut vars: Vec<_> = env.vars_os();
    vars.sort();
    for (name, value) in vars {
        let Some(name) = name.to_str() else { continue };
        if !name.starts_with(&prefix) {
            continue;
        }
        let pair = value.to_str().and_then(|v| v.split_once('='));
        match pair {
            Some((k, v)) if !k.trim().is_empty() => {
                extra.insert(k.trim().to_owned(), v.to_owned());
            }
            _ => notes.push(Note::warn(format!(
                "{name} is not of the form key=value; skipped"
            ))),
        }
    }
    extra
}

/// All attributes of this process.
pub(crate) fn detect(app: &AppConfig, env: &dyn Env, notes: &mut Vec<Note>) -> Attributes {
    let (ci, ci_name) = detect_ci(env);
    Attributes {
        os: go_os(std::env::consts::OS).to_owned(),
        arch: go_arch(std::env::consts::ARCH, cfg!(target_endian = "little")).to_owned(),
        version: app.version.clone(),
        group_channel: app
            .group_channel_env
            .as_deref()
            .and_then(|var| env.var_os(var))
            .and_then(|v| v.into_string().ok())
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty()),
        ci,
        ci_name,
        agent: super::context::agent(env),
        container: super::context::container(env, std::path::Path::new("/")).map(str::to_owned),
        extra: extra_attributes(app, env, notes),
        // The rate in force is the settings' (`with_sample_rate`).
        sample_rate: None,
    }
}

/// `attributes` with the sample rate in force: carried only when below 1 (SPEC S-20).
#[cfg(feature = "telemetry")]
pub(crate) fn with_sample_rate(mut attributes: Attributes, rate: f64) -> Attributes {
    attributes.sample_rate = (rate < 1.0).then_some(rate);
    attributes
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Telemetry;

    #[test]
    fn go_names() {
        assert_eq!(go_os("macos"), "darwin");
        assert_eq!(go_os("linux"), "linux");
        assert_eq!(go_os("windows"), "windows");
        assert_eq!(go_arch("x86_64", true), "amd64");
        assert_eq!(go_arch("aarch64", true), "arm64");
        assert_eq!(go_arch("x86", true), "386");
        assert_eq!(go_arch("arm", true), "arm");
        assert_eq!(go_arch("riscv64", true), "riscv64");
        assert_eq!(go_arch("powerpc64", true), "ppc64le");
        assert_eq!(go_arch("powerpc64", false), "ppc64");
    }

    #[test]
    fn extra_attributes_valid_and_invalid() {
        let app = Telemetry::builder("werf").app;
        let mut notes = vec![];
        let env = [
            ("WERF_TELEMETRY_EXTRA_ATTRIBUTE_A", "team=platform"),
            ("WERF_TELEMETRY_EXTRA_ATTRIBUTE_B", "novalue"),
            ("WERF_TELEMETRY_EXTRA_ATTRIBUTE_C", "=x"),
            ("WERF_TELEMETRY_EXTRA_ATTRIBUTE_D", "k=v=w"),
            ("OTHER_TELEMETRY_EXTRA_ATTRIBUTE_E", "x=y"),
        ];
        let extra = extra_attributes(&app, &env, &mut notes);
        assert_eq!(
            extra.into_iter().collect::<Vec<_>>(),
            [
                ("k".into(), "v=w".into()),
                ("team".into(), "platform".into())
            ]
        );
        assert_eq!(notes.len(), 2);
        assert!(notes[0]
            .message
            .contains("WERF_TELEMETRY_EXTRA_ATTRIBUTE_B"));
        assert!(!notes[0].message.contains("novalue"));
    }

    #[test]
    fn group_channel_and_version() {
        let app = Telemetry::builder("werf")
            .version("2.1")
            .group_channel_env("TRDL_USE_WERF_GROUP_CHANNEL")
            .app;
        let attrs = detect(
            &app,
            &[("TRDL_USE_WERF_GROUP_CHANNEL", "2 stable")],
            &mut vec![],
        );
        assert_eq!(attrs.group_channel.as_deref(), Some("2 stable"));
        assert_eq!(attrs.version, "2.1");
        assert!(!attrs.os.is_empty() && !attrs.arch.is_empty());
        let attrs = detect(&app, &[("TRDL_USE_WERF_GROUP_CHANNEL", "")], &mut vec![]);
        assert_eq!(attrs.group_channel, None);
    }
}
