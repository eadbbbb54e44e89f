//! Who runs the command, and where (SPEC S-22): `attributes.agent`, the AI coding agent that
//! started the process, told from the variables the agents document for the commands they
//! run, or from the generic `AI_AGENT=<name>[/<version>]`; and `attributes.container`, the
//! kind of container the process runs in. Only the process's own environment (and, for
//! containers, the marker files container engines create) counts: no walk up the process
//! tree. A value that is not a plain name is dropped, never sent.

use std::path::Path;

use crate::config::Env;

/// The agents' own variables, in the order they are looked at: the variable, the value it
/// must have (`None`: any non-empty value), and the name sent.
const AGENTS: &[(&str, Option<&str>, &str)] = &[
    // Claude Code sets CLAUDECODE=1 in the shell it runs commands in (its settings docs,
    // "Environment variables"; anthropics/claude-code#531).
    ("CLAUDECODE", Some("1"), "claude-code"),
    // Gemini CLI sets GEMINI_CLI=1 for the commands it runs (gemini-cli
    // docs/tools/shell.md, "Environment variables"; shellExecutionService.ts).
    ("GEMINI_CLI", Some("1"), "gemini-cli"),
    // OpenAI Codex CLI sets CODEX_THREAD_ID, and CODEX_SANDBOX (`seatbelt`, …) when it
    // sandboxes the command (codex-rs: the shell environment and sandbox code). CODEX_HOME
    // is the person's configuration, not a sign of Codex running.
    ("CODEX_THREAD_ID", None, "codex"),
    ("CODEX_SANDBOX", None, "codex"),
    // Cursor's agent sets CURSOR_AGENT=1 for the commands it runs (Cursor forum, "Cursor
    // CLI is not setting CURSOR_AGENT=1 …", fixed in Cursor).
    ("CURSOR_AGENT", Some("1"), "cursor"),
    // GitHub Copilot CLI sets COPILOT_CLI=1 (github/copilot-cli changelog).
    ("COPILOT_CLI", Some("1"), "copilot-cli"),
    // opencode sets OPENCODE=1 (packages/opencode/src/index.ts).
    ("OPENCODE", Some("1"), "opencode"),
    // Augment's CLI sets AUGMENT_AGENT=1 (docs.augmentcode.com/cli/reference, "Shell
    // environment").
    ("AUGMENT_AGENT", Some("1"), "augment"),
    // Qwen Code sets QWEN_CODE=1 (QwenLM/qwen-code, shell tool).
    ("QWEN_CODE", Some("1"), "qwen-code"),
    // Cline sets CLINE_ACTIVE=true (cline/cline); CLINE_API_KEY in a profile is not Cline.
    ("CLINE_ACTIVE", Some("true"), "cline"),
    // Goose sets GOOSE_TERMINAL=1 (block/goose), and AGENT=goose.
    ("GOOSE_TERMINAL", Some("1"), "goose"),
    // Amp sets AGENT=amp (sourcegraph/amp). AGENT alone is too common a name to trust for
    // any other value.
    ("AGENT", Some("amp"), "amp"),
    // Aider sets no variable of its own for the commands it runs (its AIDER_* variables are
    // the person's configuration), so it can't be told and is not listed.
];

/// The longest agent name sent.
pub(crate) const MAX_AGENT: usize = 32;

/// The agent running this process, if one can be told: a valid `AI_AGENT` first (an agent
/// that sets it says who it is), then the agents' own variables.
pub(crate) fn agent(env: &dyn Env) -> Option<String> {
    if let Some(name) = env
        .var_os("AI_AGENT")
        .and_then(|v| v.into_string().ok())
        .and_then(|v| agent_name(&v))
    {
        return Some(name);
    }
    AGENTS.iter().find_map(|(var, value, name)| {
        let set = env.var_os(var)?.into_string().ok()?;
        let set = set.trim();
        let matches = match value {
            Some(wanted) => set.eq_ignore_ascii_case(wanted),
            None => !set.is_empty(),
        };
        matches.then(|| (*name).to_owned())
    })
}

/// `<name>[/<version>]` → the name, lower-cased, when it is made of `[a-z0-9-]` only and
/// at most [`MAX_AGENT`] characters; `None` for anything else (a path, spaces, a sentence).
pub(crate) fn agent_name(value: &str) -> Option<String> {
    let name = value.trim().split('/').next()?.to_ascii_lowercase();
    let plain = !name.is_empty()
        && name.len() <= MAX_AGENT
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    plain.then_some(name)
}

/// The kind of container this process runs in: `kubernetes` (a pod: the service host the
/// kubelet sets), `podman` (`/run/.containerenv`, or `container=podman`), `docker`
/// (`/.dockerenv`, or `container=docker`), `other` (the `container` variable systemd-nspawn,
/// LXC and other engines set); `None` outside one. `root` is `/` (tests give another).
pub(crate) fn container(env: &dyn Env, root: &Path) -> Option<&'static str> {
    let var = |name: &str| {
        env.var_os(name)
            .and_then(|v| v.into_string().ok())
            .map(|v| v.trim().to_ascii_lowercase())
            .filter(|v| !v.is_empty())
    };
    if var("KUBERNETES_SERVICE_HOST").is_some() {
        return Some("kubernetes");
    }
    let engine = var("container");
    if engine.as_deref() == Some("podman") || root.join("run/.containerenv").exists() {
        return Some("podman");
    }
    if engine.as_deref() == Some("docker") || root.join(".dockerenv").exists() {
        return Some("docker");
    }
    engine.map(|_| "other")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn agents_from_their_own_variables_and_ai_agent() {
        assert_eq!(agent(&[]), None);
        assert_eq!(
            agent(&[("CLAUDECODE", "1")]).as_deref(),
            Some("claude-code")
        );
        assert_eq!(agent(&[("GEMINI_CLI", "1")]).as_deref(), Some("gemini-cli"));
        assert_eq!(
            agent(&[("CODEX_SANDBOX", "seatbelt")]).as_deref(),
            Some("codex")
        );
        assert_eq!(agent(&[("CLINE_ACTIVE", "TRUE")]).as_deref(), Some("cline"));
        assert_eq!(agent(&[("AGENT", "amp")]).as_deref(), Some("amp"));
        // Values that are not the agent's: nothing.
        assert_eq!(agent(&[("CLAUDECODE", "0")]), None);
        assert_eq!(agent(&[("AGENT", "1")]), None);
        assert_eq!(agent(&[("CODEX_SANDBOX", "")]), None);
        // AI_AGENT first, the name alone.
        assert_eq!(
            agent(&[("AI_AGENT", "Claude-Code/2.1.120"), ("CURSOR_AGENT", "1")]).as_deref(),
            Some("claude-code")
        );
        // An AI_AGENT that is not a name is dropped; the agents' variables still count.
        assert_eq!(
            agent(&[("AI_AGENT", "/home/alice/bin/agent"), ("CURSOR_AGENT", "1")]).as_deref(),
            Some("cursor")
        );
    }

    #[test]
    fn an_agent_name_is_a_plain_name_or_nothing() {
        assert_eq!(agent_name("goose").as_deref(), Some("goose"));
        assert_eq!(
            agent_name(" My-Agent2/1.0 beta").as_deref(),
            Some("my-agent2")
        );
        for bad in [
            "",
            "/usr/bin/agent",
            "alice's agent",
            "agent_1",
            "ünïcode",
            "a.b",
            &"x".repeat(MAX_AGENT + 1),
        ] {
            assert_eq!(agent_name(bad), None, "{bad:?}");
        }
        assert_eq!(
            agent_name(&"x".repeat(MAX_AGENT)).map(|n| n.len()),
            Some(MAX_AGENT)
        );
    }

    #[test]
    fn containers_by_marker_and_variable() {
        let root = tempfile::tempdir().unwrap();
        assert_eq!(container(&[], root.path()), None);
        assert_eq!(
            container(&[("KUBERNETES_SERVICE_HOST", "10.0.0.1")], root.path()),
            Some("kubernetes")
        );
        assert_eq!(
            container(&[("container", "podman")], root.path()),
            Some("podman")
        );
        assert_eq!(
            container(&[("container", "systemd-nspawn")], root.path()),
            Some("other")
        );
        std::fs::write(root.path().join(".dockerenv"), b"").unwrap();
        assert_eq!(container(&[], root.path()), Some("docker"));
        std::fs::create_dir(root.path().join("run")).unwrap();
        std::fs::write(root.path().join("run/.containerenv"), b"").unwrap();
        assert_eq!(container(&[], root.path()), Some("podman"));
        assert_eq!(
            container(&[("KUBERNETES_SERVICE_HOST", "k")], root.path()),
            Some("kubernetes"),
            "a pod wins over the engine under it"
        );
    }
}
