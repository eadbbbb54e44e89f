//! CI detection (SPEC S-4, S-12, S-16): CI runs get the first-run notice every time, carry
//! `ci`/`ciName`, never get an installation id, and deliver inline.
//!
//! A table rather than the `ci_info` crate: the table is the list werf uses plus the other
//! common systems, it reads through [`Env`] so it can be tested without touching the
//! process environment, and it adds no crate.

use super::env::{parse_switch, Env};

/// CI systems: (variable whose presence identifies it, `ciName`). First match wins.
const CI_SYSTEMS: &[(&str, &str)] = &[
    ("GITLAB_CI", "gitlab"),
    ("GITHUB_ACTIONS", "github-actions"),
    ("JENKINS_URL", "jenkins"),
    ("TRAVIS", "travis"),
    ("CIRCLECI", "circleci"),
    ("TEAMCITY_VERSION", "teamcity"),
    ("BUDDY", "buddy"),
    ("GO_SERVER_URL", "gocd"),
    ("TF_BUILD", "azure-pipelines"),
    ("BITBUCKET_BUILD_NUMBER", "bitbucket"),
    ("BUILDKITE", "buildkite"),
    ("DRONE", "drone"),
    ("APPVEYOR", "appveyor"),
    ("CODEBUILD_BUILD_ID", "codebuild"),
    ("SEMAPHORE", "semaphore"),
    ("CF_BUILD_ID", "codefresh"),
    ("HUDSON_URL", "hudson"),
    ("BITRISE_IO", "bitrise"),
    ("CI_XCODE_PROJECT", "xcode-cloud"),
    ("WOODPECKER", "woodpecker"),
];

/// `(ci, ciName)`: a known system's variable, or `CI` set to anything but a false value.
pub(crate) fn detect_ci(env: &dyn Env) -> (Option<bool>, Option<String>) {
    for (var, name) in CI_SYSTEMS {
        if env
            .var_os(var)
            .is_some_and(|v| !v.is_empty() && parse_switch(&v) != Some(false))
        {
            return (Some(true), Some((*name).to_owned()));
        }
    }
    match env.var_os("CI") {
        Some(v) if !v.is_empty() && parse_switch(&v) != Some(false) => (Some(true), None),
        _ => (None, None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ci_detection() {
        assert_eq!(detect_ci(&[]), (None, None));
        assert_eq!(detect_ci(&[("CI", "true")]), (Some(true), None));
        assert_eq!(detect_ci(&[("CI", "false")]), (None, None));
        assert_eq!(
            detect_ci(&[("CI", "true"), ("GITLAB_CI", "true")]),
            (Some(true), Some("gitlab".into()))
        );
        assert_eq!(
            detect_ci(&[("GITHUB_ACTIONS", "true")]),
            (Some(true), Some("github-actions".into()))
        );
        assert_eq!(
            detect_ci(&[("JENKINS_URL", "http://j/")]),
            (Some(true), Some("jenkins".into()))
        );
        assert_eq!(
            detect_ci(&[("TEAMCITY_VERSION", "2024.1")]),
            (Some(true), Some("teamcity".into()))
        );
        assert_eq!(
            detect_ci(&[("GO_SERVER_URL", "x")]),
            (Some(true), Some("gocd".into()))
        );
    }
}
