//! Providers: who starts and stops an instance's host. `local` runs the agent on this machine;
//! `registered` hosts run their own agent (nothing to start or stop here).

mod local;

pub use local::LocalProvider;

use drover_core::{InstanceStatus, Provider};

use crate::state::AppState;

/// At start-up: re-adopts local agents that still run, and starts the missing ones of instances
/// that should be running.
pub async fn adopt_local_agents(state: &AppState) -> Result<(), sqlx::Error> {
    use InstanceStatus::*;
    for instance in state.store.instances_by_provider(Provider::Local.as_str()).await? {
        if matches!(instance.status(), Stopped | Stopping | ShuttingDown | StartFailed | Terminated | Terminating) {
            continue;
        }
        match state.local.running_pid(&instance) {
            Some(pid) => tracing::info!(instance = %instance.hostname, pid, "re-adopted local agent"),
            None => {
                if let Err(e) = state.local.spawn(&instance).await {
                    tracing::error!(instance = %instance.hostname, "failed to restart local agent: {e}");
                }
            }
        }
    }
    Ok(())
}
