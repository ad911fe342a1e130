//! Release history: where a rollback goes, and what pruning removes.

use serde::{Deserialize, Serialize};

/// How a release ended up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Its build is running.
    Building,
    /// Built; it can be current.
    Built,
    /// Its build failed; kept for inspection until pruned.
    Failed,
    /// Rolled back from; a plain rollback skips it.
    Bad,
}

/// A release as history sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Release<'a> {
    /// Its directory name (names sort by creation time).
    pub name: &'a str,
    /// Its outcome.
    pub outcome: Outcome,
}

/// Why a rollback cannot be done.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RollbackError {
    /// The app was never deployed here.
    #[error("the app has no current release on this instance; deploy it first")]
    NoCurrent,
    /// No older good release.
    #[error("there is no older good release to roll back to; `drover release list` shows the history")]
    NothingOlder,
    /// The named release does not exist (any more).
    #[error("release {0} does not exist here (it may have been pruned); `drover release list` shows the kept ones")]
    Unknown(String),
    /// The named release did not build.
    #[error("release {0} did not build, so it cannot be current")]
    NotBuilt(String),
    /// The named release is already current.
    #[error("release {0} is already current")]
    AlreadyCurrent(String),
}

/// The release a rollback points `current` at: `to` when given, else the newest good release
/// older than `current` (skipping failed builds and releases rolled back from).
pub fn rollback_target<'a>(
    releases: &[Release<'a>],
    current: Option<&str>,
    to: Option<&str>,
) -> Result<&'a str, RollbackError> {
    let current = current.ok_or(RollbackError::NoCurrent)?;
    if let Some(name) = to {
        let r = releases.iter().find(|r| r.name == name).ok_or_else(|| RollbackError::Unknown(name.to_owned()))?;
        return match r.outcome {
            _ if r.name == current => Err(RollbackError::AlreadyCurrent(name.to_owned())),
            Outcome::Built | Outcome::Bad => Ok(r.name),
            Outcome::Failed | Outcome::Building => Err(RollbackError::NotBuilt(name.to_owned())),
        };
    }
    let mut older: Vec<&Release<'a>> =
        releases.iter().filter(|r| r.name < current && r.outcome == Outcome::Built).collect();
    older.sort_by(|a, b| b.name.cmp(a.name));
    older.first().map(|r| r.name).ok_or(RollbackError::NothingOlder)
}

/// The releases to delete so that at most `keep` remain, oldest first. Never `current`, nor a
/// `protected` one (a server that kept running across deploys still runs from it), nor a
/// release still building.
pub fn prune<'a>(releases: &[Release<'a>], current: Option<&str>, protected: &[&str], keep: usize) -> Vec<&'a str> {
    let mut names: Vec<&Release<'a>> = releases.iter().collect();
    names.sort_by(|a, b| a.name.cmp(b.name));
    let mut excess = names.len().saturating_sub(keep.max(1));
    let mut out = Vec::new();
    for r in names {
        if excess == 0 {
            break;
        }
        if Some(r.name) == current || protected.contains(&r.name) || r.outcome == Outcome::Building {
            continue;
        }
        out.push(r.name);
        excess -= 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use Outcome::*;

    fn r(name: &str, outcome: Outcome) -> Release<'_> {
        Release { name, outcome }
    }

    #[test]
    fn rollback_targets() {
        let h = [r("01", Built), r("02", Failed), r("03", Bad), r("04", Built), r("05", Built), r("06", Failed)];
        type Case<'a> = (Option<&'a str>, Option<&'a str>, Result<&'a str, RollbackError>);
        let cases: &[Case] = &[
            (Some("05"), None, Ok("04")),
            (Some("04"), None, Ok("01")),
            (Some("01"), None, Err(RollbackError::NothingOlder)),
            (None, None, Err(RollbackError::NoCurrent)),
            (Some("05"), Some("03"), Ok("03")),
            (Some("05"), Some("02"), Err(RollbackError::NotBuilt("02".into()))),
            (Some("05"), Some("05"), Err(RollbackError::AlreadyCurrent("05".into()))),
            (Some("05"), Some("09"), Err(RollbackError::Unknown("09".into()))),
            (Some("01"), Some("05"), Ok("05")),
        ];
        for (current, to, want) in cases {
            assert_eq!(rollback_target(&h, *current, *to), *want, "current {current:?} to {to:?}");
        }
    }

    #[test]
    fn pruning() {
        let h = [r("01", Built), r("02", Failed), r("03", Bad), r("04", Built), r("05", Built), r("06", Building)];
        assert_eq!(prune(&h, Some("05"), &[], 5), ["01"]);
        assert_eq!(prune(&h, Some("05"), &[], 3), ["01", "02", "03"]);
        assert_eq!(prune(&h, Some("01"), &["03"], 3), ["02", "04", "05"]);
        assert_eq!(prune(&h, Some("05"), &["01", "02"], 3), ["03", "04"]);
        assert_eq!(prune(&h, Some("05"), &[], 10), Vec::<&str>::new());
        // keep 0 is read as 1: current always stays.
        assert_eq!(prune(&h, Some("05"), &[], 0), ["01", "02", "03", "04"]);
    }
}
