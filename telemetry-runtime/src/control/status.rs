//! Telemetry status for the people running the tool (SPEC S-14): whether it is on, the one
//! setting that decided it, ignored values, where events go, and the next event exactly as
//! it would be sent. Computing it never sends, never writes the log file, never creates a
//! spool or marker.

use std::path::PathBuf;

use serde_json::{json, Value};

use crate::config::decide::on_off;
use crate::config::{
    AppConfig, Decision, Delivery, DeliveryReason, Env, Note, ProcessEnv, Protocol, Settings,
    Telemetry,
};
use crate::event::Event;

/// The answer to "is telemetry on, and why?" — see [`status`].
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Status {
    /// The application's name.
    pub app: String,
    /// Whether events are recorded.
    pub enabled: bool,
    /// The single setting that decided [`Status::enabled`].
    pub decided_by: Decision,
    /// Debug mode: events are printed to stderr and never sent.
    pub debug: bool,
    /// Environment values that were ignored, and why.
    pub ignored: Vec<Note>,
    /// Where events are sent (credentials removed), when on and not in debug mode.
    pub endpoint: Option<String>,
    /// The proxy requests go through (`host:port`, never credentials), when one applies.
    pub proxy: Option<String>,
    /// The encoding of request bodies.
    pub protocol: Protocol,
    /// Names of the request headers sent (never their values).
    pub headers: Vec<String>,
    /// The log file, when one is set.
    pub log_file: Option<PathBuf>,
    /// The spool of undelivered events, when it exists.
    pub spool: Option<PathBuf>,
    /// The exit deadline in milliseconds.
    pub deadline_ms: u64,
    /// How events leave the process (SPEC S-9).
    pub delivery: Delivery,
    /// What decided [`Status::delivery`].
    pub delivery_decided_by: DeliveryReason,
    /// The detached sender's life in milliseconds.
    pub sender_life_ms: u64,
    /// The next CommandStarted for the current directory, as it would be sent (no options;
    /// `ts` and `executionID` differ in every run). `None` when compiled out.
    pub next_event: Option<Event>,
    /// The share of runs kept (SPEC S-20): the application's rate, or the lower one the
    /// person set with `<PREFIX>_TELEMETRY_SAMPLE_RATE`.
    pub sample_rate: f64,
    /// The application's own rate.
    pub app_sample_rate: f64,
    /// Whether this process's run is kept: `None` when this process drew nothing (telemetry
    /// off here, or nothing installed). Status never draws a sample of its own.
    pub sampled: Option<bool>,
    /// The variable that switches telemetry off.
    pub switch_var: String,
    /// The command line that makes the lasting choice, without the action: `werf telemetry`
    /// (the ready-made subcommand), or `rootonly --telemetry` in a program that parses
    /// [`crate::TelemetryFlag`].
    pub lasting_switch: String,
    /// Whether the application sends an installation id (SPEC S-16).
    pub sends_installation_id: bool,
    /// The installation id, when one exists (it is created by the first instrumented
    /// command, never by status).
    pub installation_id: Option<String>,
    /// Where the lasting choice and the installation id are kept.
    pub choice_file: Option<PathBuf>,
    /// The AI agent events would name (`attributes.agent`, SPEC S-22), if one is told.
    pub agent: Option<String>,
    /// The container events would name (`attributes.container`), if the process runs in one.
    pub container: Option<String>,
}

/// Version of the JSON rendering ([`Status::to_json`]).
pub const STATUS_SCHEMA_VERSION: u32 = 1;

impl Telemetry {
    /// The status these settings would have in the current environment (without installing).
    pub fn status(&self) -> Status {
        compute(&self.app, &ProcessEnv)
    }
}

/// The status of the installed telemetry (see [`Telemetry::install`]); `None` when
/// nothing was installed.
pub fn status() -> Option<Status> {
    crate::api::installed_app().map(|app| compute(app, &ProcessEnv))
}

/// Prints the installed telemetry's status to stdout, for humans or as JSON: what an
/// application's `<app> telemetry status [--json]` subcommand calls.
///
/// ```
/// cli_telemetry_runtime::print_status(false); // nothing installed: says so
/// ```
pub fn print_status(json: bool) {
    match status() {
        Some(s) if json => println!("{}", s.to_json()),
        Some(s) => print!("{}", s.render()),
        None if json => println!(
            "{}",
            json!({ "schemaVersion": STATUS_SCHEMA_VERSION, "installed": false })
        ),
        None => println!("Telemetry is not set up in this program."),
    }
}

fn compute(app: &AppConfig, env: &dyn Env) -> Status {
    let settings = Settings::for_status(app, env);
    let sends = settings.enabled && !settings.debug;
    let endpoint = sends.then(|| redact(&settings.endpoint));
    Status {
        proxy: if sends {
            proxy(&settings.endpoint, env)
        } else {
            None
        },
        protocol: settings.protocol,
        headers: settings
            .headers
            .iter()
            .map(|(name, _)| name.clone())
            .collect(),
        app: app.name.clone(),
        enabled: settings.enabled,
        decided_by: settings.decision.clone(),
        debug: settings.debug,
        ignored: settings.notes.clone(),
        endpoint,
        log_file: settings.log_file.clone().filter(|_| settings.enabled),
        spool: settings.spool.clone().filter(|dir| dir.exists()),
        deadline_ms: settings.timeout.as_millis() as u64,
        delivery: settings.delivery,
        delivery_decided_by: settings.delivery_reason.clone(),
        sender_life_ms: settings.sender_life.as_millis() as u64,
        next_event: next_event(app, env, settings.sample_rate),
        sample_rate: settings.sample_rate,
        app_sample_rate: app.sample_rate,
        sampled: crate::config::sampling::drawn(),
        switch_var: app.var(""),
        lasting_switch: crate::record::marks::lasting_switch(&app.name),
        sends_installation_id: app.installation_id,
        installation_id: existing_installation_id(app, env),
        choice_file: choice_file(app, env),
        agent: crate::record::context::agent(env),
        container: crate::record::context::container(env, std::path::Path::new("/"))
            .map(str::to_owned),
    }
}

#[cfg(feature = "telemetry")]
fn choice_file(app: &AppConfig, env: &dyn Env) -> Option<PathBuf> {
    app.choice_file(env)
}

#[cfg(not(feature = "telemetry"))]
fn choice_file(_: &AppConfig, _: &dyn Env) -> Option<PathBuf> {
    None
}

/// The installation id in the choice file, if the app sends one and it exists.
#[cfg(feature = "telemetry")]
fn existing_installation_id(app: &AppConfig, env: &dyn Env) -> Option<String> {
    if !app.installation_id {
        return None;
    }
    crate::config::choice::current(&app.choice_file(env)?).installation_id
}

#[cfg(not(feature = "telemetry"))]
fn existing_installation_id(_: &AppConfig, _: &dyn Env) -> Option<String> {
    None
}

#[cfg(feature = "telemetry")]
fn next_event(app: &AppConfig, env: &dyn Env, sample_rate: f64) -> Option<Event> {
    use crate::record::attributes;
    let mut notes = Vec::new();
    let process = crate::event::ProcessInfo {
        execution_id: crate::random::uuid_v4().to_string(),
        project_id: std::env::current_dir()
            .map(|d| crate::record::project::project_id_for_dir(&d))
            .unwrap_or_default(),
        attributes: attributes::with_sample_rate(
            attributes::detect(app, env, &mut notes),
            sample_rate,
        ),
        user_id: existing_installation_id(app, env)
            .filter(|_| crate::config::detect_ci(env).0 != Some(true)),
        schema_version: app.schema_version,
    };
    Some(crate::event::RawEvent::started(app.name.as_str().into(), &[]).complete(&process))
}

#[cfg(not(feature = "telemetry"))]
fn next_event(_: &AppConfig, _: &dyn Env, _: f64) -> Option<Event> {
    None
}

/// The proxy that applies to the endpoint, as `host:port` (or why none can be used).
fn proxy(endpoint: &str, env: &dyn Env) -> Option<String> {
    #[cfg(feature = "telemetry")]
    {
        let url = crate::deliver::transport::endpoint::parse_endpoint(endpoint).ok()?;
        match crate::deliver::transport::proxy::proxy_for(&url, env) {
            Ok(proxy) => proxy.map(|p| p.host_port()),
            Err(why) => Some(format!("({why})")),
        }
    }
    #[cfg(not(feature = "telemetry"))]
    {
        let _ = (endpoint, env);
        None
    }
}

/// The endpoint without user name, password, query or fragment.
fn redact(endpoint: &str) -> String {
    #[cfg(feature = "telemetry")]
    {
        match crate::deliver::transport::endpoint::parse_endpoint(endpoint) {
            Ok(url) => url.redacted(),
            Err(why) => format!("({why})"),
        }
    }
    #[cfg(not(feature = "telemetry"))]
    {
        let _ = endpoint;
        String::new()
    }
}

impl Decision {
    fn to_json(&self) -> Value {
        match self {
            Decision::EnvVar { var, on } => json!({ "setting": "env", "var": var, "on": on }),
            Decision::DoNotTrack => {
                json!({ "setting": "doNotTrack", "var": "DO_NOT_TRACK", "on": false })
            }
            Decision::Debug { var } => json!({ "setting": "debug", "var": var, "on": true }),
            Decision::File { path, on } => {
                json!({ "setting": "file", "path": path.display().to_string(), "on": on })
            }
            Decision::AppDefault { on } => json!({ "setting": "appDefault", "on": on }),
            Decision::Policy { path } => {
                json!({ "setting": "policy", "path": path.display().to_string(), "on": false })
            }
            Decision::CompiledOut => json!({ "setting": "compiledOut", "on": false }),
        }
    }
}

fn kept_or_dropped(kept: bool) -> &'static str {
    if kept {
        "kept"
    } else {
        "dropped"
    }
}

impl Status {
    /// `1 run in 4 kept (rate 0.25; the application's 0.5); this run: dropped`.
    fn sampling_line(&self) -> String {
        let mut line = if self.sample_rate > 0.0 {
            format!(
                "about 1 run in {:.0} kept (rate {})",
                1.0 / self.sample_rate,
                self.sample_rate
            )
        } else {
            "no run kept (rate 0)".to_owned()
        };
        if self.app_sample_rate != self.sample_rate {
            line.push_str(&format!(
                "; the application's rate is {}",
                self.app_sample_rate
            ));
        }
        if let Some(kept) = self.sampled {
            line.push_str(&format!("; this run: {}", kept_or_dropped(kept)));
        }
        line
    }
}

impl Status {
    /// The JSON rendering. Schema (version [`STATUS_SCHEMA_VERSION`]), stable:
    ///
    /// ```text
    /// { "schemaVersion": 1, "installed": true, "app": "werf", "enabled": bool,
    ///   "decidedBy": { "setting": "env"|"doNotTrack"|"file"|"debug"|"appDefault"|"policy"|"compiledOut",
    ///                  "var"?: string, "path"?: string, "on": bool },
    ///   "debug": bool, "ignored": [ { "level": string, "message": string } ],
    ///   "endpoint": string|null, "proxy": "host:port"|null, "protocol": "http/json"|"http/protobuf",
    ///   "headers": [ header name ], "logFile": string|null, "spool": string|null, "deadlineMs": int,
    ///   "sampling": { "rate": number, "appRate": number, "thisRun": "kept"|"dropped"|null },
    ///   "delivery": { "mode": "detached"|"inline",
    ///                 "decidedBy": "env"|"app"|"ci"|"noMainAttribute"|"default"|"noQueue"|"detachedNeedsMain",
    ///                 "var"?: string, "senderLifeMs": int },
    ///   "switchOff": string, "lastingSwitch": string, "choiceFile": string|null,
    ///   "installationId": { "exists": bool, "id": string|null }|null   (null: not sent by the app),
    ///   "agent": string|null, "container": "docker"|"podman"|"kubernetes"|"other"|null,
    ///   "nextEvent": <event envelope>|null }
    /// ```
    pub fn to_json(&self) -> Value {
        json!({
            "schemaVersion": STATUS_SCHEMA_VERSION,
            "installed": true,
            "app": self.app,
            "enabled": self.enabled,
            "decidedBy": self.decided_by.to_json(),
            "debug": self.debug,
            "ignored": self.ignored.iter().map(|n| json!({ "level": n.level, "message": n.shown() })).collect::<Vec<_>>(),
            "endpoint": self.endpoint,
            "proxy": self.proxy,
            "protocol": self.protocol.as_str(),
            "headers": self.headers,
            "logFile": self.log_file.as_ref().map(|p| p.display().to_string()),
            "spool": self.spool.as_ref().map(|p| p.display().to_string()),
            "deadlineMs": self.deadline_ms,
            "sampling": {
                "rate": self.sample_rate,
                "appRate": self.app_sample_rate,
                "thisRun": self.sampled.map(kept_or_dropped),
            },
            "delivery": self.delivery_json(),
            "switchOff": format!("{}=0 or DO_NOT_TRACK=1", self.switch_var),
            "lastingSwitch": self.lasting_switch,
            "choiceFile": self.choice_file.as_ref().map(|p| p.display().to_string()),
            "agent": self.agent,
            "container": self.container,
            "installationId": if self.sends_installation_id {
                json!({ "exists": self.installation_id.is_some(), "id": self.installation_id })
            } else {
                Value::Null
            },
            "nextEvent": self.next_event,
        })
    }

    fn delivery_json(&self) -> Value {
        let mut v = json!({
            "mode": self.delivery.as_str(),
            "decidedBy": self.delivery_decided_by.as_str(),
            "senderLifeMs": self.sender_life_ms,
        });
        if let DeliveryReason::EnvVar { var } = &self.delivery_decided_by {
            v["var"] = var.as_str().into();
        }
        v
    }

    /// The rendering for humans.
    pub fn render(&self) -> String {
        let mut out = format!("Telemetry of {}: {}\n", self.app, on_off(self.enabled));
        out.push_str(&format!("  decided by:  {}\n", self.decided_by.describe()));
        for note in &self.ignored {
            out.push_str(&format!("  ignored:     {}\n", note.shown()));
        }
        if self.enabled {
            let sent = match (&self.endpoint, self.debug) {
                (_, true) => "not sent: printed to stderr (debug mode)".to_owned(),
                (Some(e), false) => e.clone(),
                (None, false) => "nowhere".to_owned(),
            };
            out.push_str(&format!("  events go:   {sent}\n"));
            if !self.debug {
                if let Some(proxy) = &self.proxy {
                    out.push_str(&format!("  via proxy:   {proxy}\n"));
                }
                out.push_str(&format!("  protocol:    {}\n", self.protocol.as_str()));
                if !self.headers.is_empty() {
                    out.push_str(&format!(
                        "  headers:     {} (values not shown)\n",
                        self.headers.join(", ")
                    ));
                }
            }
            let log = self
                .log_file
                .as_ref()
                .map_or("none".to_owned(), |p| p.display().to_string());
            out.push_str(&format!("  log file:    {log}\n"));
            if let Some(spool) = &self.spool {
                out.push_str(&format!(
                    "  queue:       {} (events wait here until their fate is final)\n",
                    spool.display()
                ));
            }
            if !self.debug {
                let how = match self.delivery {
                    Delivery::Detached => format!(
                        "detached: events are queued and sent after the command exits by a background process of this program (at most {} ms), so the exit never waits for the network",
                        self.sender_life_ms
                    ),
                    _ => format!(
                        "inline: at exit, pending events get up to {} ms",
                        self.deadline_ms
                    ),
                };
                out.push_str(&format!("  delivery:    {how}\n"));
                out.push_str(&format!(
                    "               ({})\n",
                    self.delivery_decided_by.describe()
                ));
            }
            // The deadline is what an inline exit waits at most; a detached exit waits for
            // no network at all.
            if self.debug || self.delivery != Delivery::Detached {
                out.push_str(&format!("  deadline:    {} ms at exit\n", self.deadline_ms));
            }
            if let Some(agent) = &self.agent {
                out.push_str(&format!(
                    "  agent:       {agent} (told by its environment; sent as attributes.agent)\n"
                ));
            }
            if let Some(container) = &self.container {
                out.push_str(&format!(
                    "  container:   {container} (sent as attributes.container)\n"
                ));
            }
            if self.sample_rate < 1.0 || self.app_sample_rate < 1.0 {
                out.push_str(&format!("  sampling:    {}\n", self.sampling_line()));
            }
            out.push_str(&format!(
                "  switch off:  {}=0 or DO_NOT_TRACK=1; for good: `{} disable`\n",
                self.switch_var, self.lasting_switch
            ));
        } else if !matches!(self.decided_by, Decision::CompiledOut) {
            out.push_str("  nothing is recorded, sent or written\n");
            // How to switch it on, unless the person switched it off on purpose.
            match &self.decided_by {
                Decision::AppDefault { on: false } | Decision::File { on: false, .. } => {
                    out.push_str(&format!(
                        "  switch on:   {}=1 for one run; for good: `{} enable`\n",
                        self.switch_var, self.lasting_switch
                    ));
                }
                _ => {}
            }
        }
        if self.sends_installation_id {
            let id = if self.installation_id.is_some() {
                "exists (a random id, not shown here; `--json` shows it)"
            } else {
                "none"
            };
            out.push_str(&format!("  install id:  {id}\n"));
        }
        if let Some(event) = &self.next_event {
            let label = if self.enabled {
                "would be sent"
            } else {
                "would be sent if telemetry were on"
            };
            out.push_str(&format!(
                "Next CommandStarted event, exactly as it {label} (without options):\n"
            ));
            // The installation id itself is for `--json` only.
            let mut event = event.clone();
            if event.user_id.is_some() {
                event.user_id = Some("(the installation id: `--json` shows it)".into());
            }
            out.push_str(&serde_json::to_string_pretty(&event).unwrap_or_default());
            out.push('\n');
        }
        out
    }
}

#[cfg(all(test, feature = "telemetry"))]
mod tests {
    use super::*;

    fn app(default_on: bool) -> AppConfig {
        Telemetry::builder("werf")
            .endpoint("https://u:p@telemetry.example/v1/traces?k=v")
            .enabled_by_default(default_on)
            .app
    }

    fn status_of<const N: usize>(default_on: bool, env: [(&str, &str); N]) -> Status {
        compute(&app(default_on), &env)
    }

    #[test]
    fn each_deciding_setting_in_both_renderings() {
        let cases: Vec<(Status, &str, &str)> = vec![
            (
                status_of(false, [("WERF_TELEMETRY", "1")]),
                "WERF_TELEMETRY is set to on",
                "env",
            ),
            (
                status_of(true, [("WERF_TELEMETRY", "no")]),
                "WERF_TELEMETRY is set to off",
                "env",
            ),
            (
                status_of(true, [("WERF_TELEMETRY", "1"), ("DO_NOT_TRACK", "true")]),
                "DO_NOT_TRACK is set",
                "doNotTrack",
            ),
            (
                status_of(false, [("WERF_TELEMETRY_DEBUG", "1")]),
                "WERF_TELEMETRY_DEBUG is set",
                "debug",
            ),
            (
                status_of(false, []),
                "the application's default is off",
                "appDefault",
            ),
            (
                status_of(true, []),
                "the application's default is on",
                "appDefault",
            ),
        ];
        for (status, human, setting) in cases {
            assert!(status.render().contains(human), "{}", status.render());
            let json = status.to_json();
            assert_eq!(json["decidedBy"]["setting"], setting);
            assert_eq!(json["enabled"], status.enabled);
            let text = json.to_string();
            let back: Value = serde_json::from_str(&text).unwrap();
            assert_eq!(back["schemaVersion"], 1);
        }
    }

    #[test]
    fn ignored_value_is_shown_as_typed_in_status_only() {
        let s = status_of(false, [("WERF_TELEMETRY", "maybe")]);
        assert!(!s.enabled);
        assert_eq!(s.decided_by, Decision::AppDefault { on: false });
        // The person's own terminal: the value as they typed it.
        assert!(s.render().contains(
            "ignored:     WERF_TELEMETRY=\"maybe\" is neither on (1/true/yes/on) nor off (0/false/no/off); ignored"
        ), "{}", s.render());
        assert_eq!(s.to_json()["ignored"].as_array().unwrap().len(), 1);
        // What the log file gets: the name only.
        assert!(!s.ignored[0].message.contains("maybe"));
    }

    #[test]
    fn endpoint_loses_credentials_and_next_event_is_an_envelope() {
        let s = status_of(
            false,
            [
                ("WERF_TELEMETRY", "1"),
                ("WERF_TELEMETRY_LOG_FILE", "/tmp/w.log"),
            ],
        );
        assert_eq!(
            s.endpoint.as_deref(),
            Some("https://telemetry.example/v1/traces")
        );
        assert_eq!(s.log_file, Some(PathBuf::from("/tmp/w.log")));
        let ev = s.next_event.as_ref().unwrap();
        assert_eq!(ev.event_type, "CommandStarted");
        assert_eq!(ev.command, "werf");
        assert!(ev.event_data.is_empty());
        let json = s.to_json();
        assert_eq!(json["nextEvent"]["schemaVersion"], 1);
        assert_eq!(json["deadlineMs"], 1300);
        assert!(!json.to_string().contains("u:p"));
    }

    #[test]
    fn off_shows_no_destinations() {
        let s = status_of(false, [("WERF_TELEMETRY_LOG_FILE", "/tmp/w.log")]);
        assert!(s.endpoint.is_none() && s.log_file.is_none());
        assert!(s.render().contains("nothing is recorded, sent or written"));
    }
}
