//! A deployment's overall status, derived from its commands.

use crate::status::{CommandStatus, DeploymentStatus};

/// Running while any command is unfinished; failed if any failed; successful otherwise.
pub fn overall_status(commands: &[CommandStatus]) -> DeploymentStatus {
    if commands.iter().any(|c| !c.is_finished()) {
        DeploymentStatus::Running
    } else if commands.contains(&CommandStatus::Failed) {
        DeploymentStatus::Failed
    } else {
        DeploymentStatus::Successful
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use CommandStatus::*;

    #[test]
    fn status_from_commands() {
        let cases: &[(&[CommandStatus], DeploymentStatus)] = &[
            (&[], DeploymentStatus::Successful),
            (&[Successful, Skipped], DeploymentStatus::Successful),
            (&[Successful, Running], DeploymentStatus::Running),
            (&[Failed, Pending], DeploymentStatus::Running),
            (&[Failed, Successful], DeploymentStatus::Failed),
            (&[Superseded, Successful], DeploymentStatus::Successful),
            (&[Acknowledged], DeploymentStatus::Running),
        ];
        for (commands, want) in cases {
            assert_eq!(overall_status(commands), *want, "{commands:?}");
        }
    }
}
