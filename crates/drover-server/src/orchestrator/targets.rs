//! Which instances a deployment targets (core `targeting::select_targets` over the stack's
//! instances), and queuing its commands.

use drover_core::targeting::{Candidate, Target, select_targets};

use super::OrchestratorError;
use crate::state::AppState;
use crate::store::{InstanceRow, NewDeployment, StackRow};

/// The stack's instances and the targets the filters select among them.
pub async fn targets(
    state: &AppState,
    stack: &StackRow,
    layer_filter: &[String],
    instance_filter: &[String],
) -> Result<(Vec<InstanceRow>, Vec<Target>), OrchestratorError> {
    let layers: Vec<String> = state.store.layers(stack.id).await?.into_iter().map(|l| l.shortname).collect();
    let instances = state.store.instances(stack.id).await?;
    let layer_lists: Vec<Vec<String>> = instances.iter().map(InstanceRow::layers).collect();
    let candidates: Vec<Candidate> = instances
        .iter()
        .zip(&layer_lists)
        .map(|(i, layers)| Candidate { hostname: &i.hostname, layers, status: i.status() })
        .collect();
    let targets = select_targets(&candidates, &layers, layer_filter, instance_filter)
        .map_err(|e| OrchestratorError::invalid(e.field(), e.to_string()))?;
    Ok((instances, targets))
}

/// Creates a deployment with its commands and wakes the agents of the commands released at
/// once: the one way exec, app actions, lifecycle events and Configure queue work.
pub async fn queue_commands(state: &AppState, new: &NewDeployment<'_>) -> Result<i64, sqlx::Error> {
    let (id, woken) = state.store.create_deployment(new).await?;
    state.wakeups.wake_agents(&woken);
    Ok(id)
}
