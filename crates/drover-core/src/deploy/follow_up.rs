//! What runs after a command finishes, and after its deployment does. Every step is idempotent:
//! the server runs them once the result is committed, and again from its start-up sweep, so a
//! server that dies in between loses none of them.

use crate::{DeploymentKind, DeploymentStatus};

/// A step of the follow-up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FollowUp {
    /// Give back the restart slots the command held.
    FreeRestartSlots,
    /// Release the next batch of a rolling deployment (or skip the rest after a failure) and
    /// recompute the deployment's status.
    SettleDeployment,
    /// Keep only the newest command logs of the instance.
    PruneLogs,
    /// Apply the end of Setup to the instance (online, then deploy its apps; or setup_failed).
    SetupFinished {
        /// Whether Setup succeeded.
        success: bool,
    },
    /// Move the app's pin to what the deployment built or went back to.
    MovePin,
    /// Free the app's lock.
    FreeLock,
}

/// The steps after one command of a deployment of `kind` finished.
pub fn after_command(kind: DeploymentKind, success: bool) -> Vec<FollowUp> {
    let mut steps = vec![FollowUp::FreeRestartSlots, FollowUp::SettleDeployment, FollowUp::PruneLogs];
    if kind == DeploymentKind::Setup {
        steps.push(FollowUp::SetupFinished { success });
    }
    steps
}

/// The steps once a deployment's status is known after a command of it finished (nothing while
/// it still runs).
pub fn after_deployment(kind: DeploymentKind, status: DeploymentStatus) -> Vec<FollowUp> {
    if status == DeploymentStatus::Running {
        return Vec::new();
    }
    match kind {
        DeploymentKind::Deploy | DeploymentKind::Rollback => vec![FollowUp::MovePin, FollowUp::FreeLock],
        _ => vec![FollowUp::FreeLock],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use DeploymentKind::*;
    use FollowUp::*;

    #[test]
    fn after_a_command() {
        let cases: &[(DeploymentKind, bool, &[FollowUp])] = &[
            (Deploy, true, &[FreeRestartSlots, SettleDeployment, PruneLogs]),
            (Execute, false, &[FreeRestartSlots, SettleDeployment, PruneLogs]),
            (Setup, true, &[FreeRestartSlots, SettleDeployment, PruneLogs, SetupFinished { success: true }]),
            (Setup, false, &[FreeRestartSlots, SettleDeployment, PruneLogs, SetupFinished { success: false }]),
        ];
        for (kind, success, want) in cases {
            assert_eq!(after_command(*kind, *success), *want, "{kind:?} {success}");
        }
    }

    #[test]
    fn after_a_deployment() {
        use DeploymentStatus::*;
        let cases: &[(DeploymentKind, DeploymentStatus, &[FollowUp])] = &[
            (Deploy, Running, &[]),
            (Deploy, Successful, &[MovePin, FreeLock]),
            (Deploy, Failed, &[MovePin, FreeLock]),
            (Rollback, Successful, &[MovePin, FreeLock]),
            (Restart, Successful, &[FreeLock]),
            (Configure, Failed, &[FreeLock]),
        ];
        for (kind, status, want) in cases {
            assert_eq!(after_deployment(*kind, *status), *want, "{kind:?} {status:?}");
        }
    }
}
