//! Which of the deploy cases applies on one instance.

/// What the instance's `current` release was built from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Built<'a> {
    /// The commit it was built from.
    pub sha: &'a str,
    /// SHA-256 of the `deploy.cfg` it was built with.
    pub config_hash: &'a str,
}

/// The deploy case (reference.md section 3, steps 2–5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeployCase {
    /// No release yet, or a new commit: build a new release from it.
    NewRevision,
    /// Same commit, regenerated `deploy.cfg` differs: build a new release with the new config.
    ConfigChanged,
    /// Same commit and config, `always_build_on_deploy` set: build again.
    ForcedRebuild,
    /// Nothing changed: reported as unchanged.
    Unchanged,
}

impl DeployCase {
    /// Whether the case builds a new release (every build is a release, so config-only
    /// rebuilds can be rolled back too).
    pub fn builds(self) -> bool {
        self != Self::Unchanged
    }

    /// A short name for logs and the release list.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::NewRevision => "new_revision",
            Self::ConfigChanged => "config_changed",
            Self::ForcedRebuild => "forced_rebuild",
            Self::Unchanged => "unchanged",
        }
    }
}

/// Decides the case from what `current` was built from and what this deploy would build.
pub fn decide(current: Option<Built<'_>>, sha: &str, config_hash: &str, always_build: bool) -> DeployCase {
    match current {
        None => DeployCase::NewRevision,
        Some(c) if c.sha != sha => DeployCase::NewRevision,
        Some(c) if c.config_hash != config_hash => DeployCase::ConfigChanged,
        Some(_) if always_build => DeployCase::ForcedRebuild,
        Some(_) => DeployCase::Unchanged,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cases() {
        let cur = Some(Built { sha: "aaa", config_hash: "c1" });
        let cases = [
            (None, "aaa", "c1", false, DeployCase::NewRevision),
            (cur, "bbb", "c1", false, DeployCase::NewRevision),
            (cur, "bbb", "c2", true, DeployCase::NewRevision),
            (cur, "aaa", "c2", false, DeployCase::ConfigChanged),
            (cur, "aaa", "c2", true, DeployCase::ConfigChanged),
            (cur, "aaa", "c1", true, DeployCase::ForcedRebuild),
            (cur, "aaa", "c1", false, DeployCase::Unchanged),
        ];
        for (current, sha, config, always, want) in cases {
            assert_eq!(decide(current, sha, config, always), want, "{current:?} {sha} {config} {always}");
            assert_eq!(want.builds(), want != DeployCase::Unchanged);
        }
    }
}
