//! The pinned-commit rule. An app remembers the commit it runs: the last successful deploy's, or
//! the one a rollback went back to. Deploys resolve the revision to a new commit; everything
//! else that builds the app (an instance's Setup, a Configure) builds the pinned commit, never
//! the branch head, so a branch that moved without a deploy changes nothing.

use crate::{DeploymentKind, DeploymentStatus};

/// Why the app is pinned to its commit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PinReason {
    /// A deploy built it.
    Deployed,
    /// A rollback went back to it.
    RolledBack,
}

impl PinReason {
    /// The name stored and shown.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Deployed => "deployed",
            Self::RolledBack => "rolled_back",
        }
    }

    /// Parses a stored name.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "deployed" => Some(Self::Deployed),
            "rolled_back" => Some(Self::RolledBack),
            _ => None,
        }
    }
}

/// Where the commit of a new app command comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CommitSource {
    /// Resolve this revision (none: the default branch) now, once for the whole deployment.
    Resolve(Option<String>),
    /// Build exactly this commit.
    Commit(String),
    /// The command builds nothing new (rollback, start, stop, restart, undeploy).
    None,
}

/// What a deployment builds. `user_revision` is what the deployment asked for (its Custom JSON's
/// `deploy.<app>.scm.revision`); `app_revision` the app's own; `pinned` the commit the app runs;
/// `follows_setup` marks the deploy an instance gets after its Setup.
pub fn commit_source(
    kind: DeploymentKind,
    user_revision: Option<&str>,
    app_revision: Option<&str>,
    pinned: Option<&str>,
    follows_setup: bool,
) -> CommitSource {
    if kind != DeploymentKind::Deploy {
        return CommitSource::None;
    }
    match (user_revision, pinned, follows_setup) {
        (Some(rev), _, _) => CommitSource::Resolve(Some(rev.to_owned())),
        (None, Some(sha), true) => CommitSource::Commit(sha.to_owned()),
        _ => CommitSource::Resolve(app_revision.map(str::to_owned)),
    }
}

/// A finished deployment's effect on the pin: a successful deploy pins what it built; a
/// successful rollback pins the commit the instances went back to (the most common one, should
/// they differ). `current_commits` are the rolled-back instances' current commits.
pub fn pin_after(
    kind: DeploymentKind,
    status: DeploymentStatus,
    built: Option<&str>,
    current_commits: &[&str],
) -> Option<(String, PinReason)> {
    if status != DeploymentStatus::Successful {
        return None;
    }
    match kind {
        DeploymentKind::Deploy => built.map(|sha| (sha.to_owned(), PinReason::Deployed)),
        DeploymentKind::Rollback => {
            let mut best: Option<(&str, usize)> = None;
            for sha in current_commits {
                let n = current_commits.iter().filter(|s| *s == sha).count();
                if best.is_none_or(|(_, m)| n > m) {
                    best = Some((sha, n));
                }
            }
            best.map(|(sha, _)| (sha.to_owned(), PinReason::RolledBack))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use DeploymentKind::*;

    type SourceCase =
        (DeploymentKind, Option<&'static str>, Option<&'static str>, Option<&'static str>, bool, CommitSource);
    type PinCase =
        (DeploymentKind, DeploymentStatus, Option<&'static str>, &'static [&'static str], Option<(String, PinReason)>);

    #[test]
    fn where_commits_come_from() {
        let r = |s: Option<&str>| CommitSource::Resolve(s.map(str::to_owned));
        let c = |s: &str| CommitSource::Commit(s.to_owned());
        let cases: &[SourceCase] = &[
            // A user's deploy moves to the branch head, pinned or not.
            (Deploy, None, Some("main"), Some("aaa"), false, r(Some("main"))),
            (Deploy, None, None, Some("aaa"), false, r(None)),
            // A deployment's own revision wins.
            (Deploy, Some("v2"), Some("main"), Some("aaa"), false, r(Some("v2"))),
            (Deploy, Some("v2"), Some("main"), Some("aaa"), true, r(Some("v2"))),
            // A new instance builds the pinned commit, never the head.
            (Deploy, None, Some("main"), Some("aaa"), true, c("aaa")),
            // Never deployed: the new instance resolves the app's revision.
            (Deploy, None, Some("main"), None, true, r(Some("main"))),
            (Rollback, None, Some("main"), Some("aaa"), false, CommitSource::None),
            (Restart, None, None, Some("aaa"), false, CommitSource::None),
            (Undeploy, None, None, None, false, CommitSource::None),
        ];
        for (kind, user, app, pinned, setup, want) in cases {
            assert_eq!(
                &commit_source(*kind, *user, *app, *pinned, *setup),
                want,
                "{kind:?} {user:?} {pinned:?} {setup}"
            );
        }
    }

    #[test]
    fn pins_after_deployments() {
        use DeploymentStatus::*;
        let p = |s: &str, r| Some((s.to_owned(), r));
        let cases: &[PinCase] = &[
            (Deploy, Successful, Some("bbb"), &[], p("bbb", PinReason::Deployed)),
            (Deploy, Failed, Some("bbb"), &[], None),
            (Deploy, Running, Some("bbb"), &[], None),
            (Rollback, Successful, None, &["aaa", "aaa"], p("aaa", PinReason::RolledBack)),
            (Rollback, Successful, None, &["aaa", "ccc", "ccc"], p("ccc", PinReason::RolledBack)),
            (Rollback, Successful, None, &[], None),
            (Rollback, Failed, None, &["aaa"], None),
            (Restart, Successful, None, &["aaa"], None),
        ];
        for (kind, status, built, current, want) in cases {
            assert_eq!(&pin_after(*kind, *status, *built, current), want, "{kind:?} {status:?}");
        }
    }

    #[test]
    fn reasons_round_trip() {
        for r in [PinReason::Deployed, PinReason::RolledBack] {
            assert_eq!(PinReason::parse(r.as_str()), Some(r));
        }
        assert_eq!(PinReason::parse("x"), None);
    }
}
