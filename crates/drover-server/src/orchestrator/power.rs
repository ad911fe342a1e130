//! Starting and stopping instances.
//!
//! Stop: the instance goes `stopping`; if its agent is online the Shutdown phase runs
//! (`shutting_down`) for up to the shutdown timeout; then a local instance's agent is stopped, any
//! command it will not finish is failed, and the instance is `stopped`.
//!
//! A server restart in the middle of a stop does not strand the instance: the start-up sweep
//! carries it on ([`resume_stop`]).

use std::time::Duration;

use drover_core::lifecycle::{Event, on_event};
use drover_core::{CommandStatus, DeploymentKind, InstanceStatus};
use drover_proto::agent::LifecycleEvent;

use super::OrchestratorError;
use super::{abandon_commands, apply_event, queue_lifecycle};
use crate::state::AppState;
use crate::store::{InstanceRow, NewEvent};

/// Starts a stopped instance through its provider (a local one's agent is spawned; an ec2 one's
/// machine is started, or launched; a registered one's agent begins Setup at its next heartbeat).
pub async fn start_instance(state: &AppState, instance: &InstanceRow) -> Result<(), OrchestratorError> {
    on_event(instance.status(), Event::StartRequested)
        .map_err(|e| OrchestratorError::conflict(Some("instance"), e.to_string()))?;
    if apply_event(state, instance, Event::StartRequested).await?.is_none() {
        return Ok(()); // already starting or running
    }
    let fresh = state.store.instance_by_id(instance.id).await?.unwrap_or_else(|| instance.clone());
    if let Err(e) = crate::provider::start_host(state, &fresh).await {
        tracing::error!(instance = %instance.hostname, "failed to start its host: {e}");
        super::events::record(
            state,
            &NewEvent {
                stack_id: instance.stack_id,
                kind: "start_failed",
                instance: Some(&instance.hostname),
                layer: None,
                message: &format!("{} failed to start: {e}", instance.hostname),
            },
        )
        .await?;
        apply_event(state, &fresh, Event::StartFailed).await?;
    }
    Ok(())
}

/// Stops an instance: Shutdown first (in the background), then the host.
pub async fn stop_instance(state: &AppState, instance: &InstanceRow) -> Result<(), OrchestratorError> {
    let was = instance.status();
    on_event(was, Event::StopRequested).map_err(|e| OrchestratorError::conflict(Some("instance"), e.to_string()))?;
    if apply_event(state, instance, Event::StopRequested).await?.is_none() {
        return Ok(()); // already stopped
    }
    let state = state.clone();
    let instance = instance.clone();
    tokio::spawn(async move {
        if let Err(e) = finish_stop(&state, &instance, was).await {
            tracing::error!(instance = %instance.hostname, "failed to stop: {e}");
        }
    });
    Ok(())
}

async fn finish_stop(state: &AppState, instance: &InstanceRow, was: InstanceStatus) -> Result<(), sqlx::Error> {
    if was == InstanceStatus::Online {
        let timeout = state.config.shutdown_timeout;
        let command_id =
            queue_lifecycle(state, instance.id, LifecycleEvent::Shutdown, Some(timeout.as_secs().max(1))).await?;
        if let Some(stopping) = state.store.instance_by_id(instance.id).await? {
            apply_event(state, &stopping, Event::ShutdownStarted).await?;
        }
        wait_finished(state, command_id, timeout).await?;
    }
    stop_host(state, instance).await
}

/// Carries on a stop that a server restart interrupted: waits for the Shutdown phase if it is
/// still open (up to the shutdown timeout), then stops the host. A stop interrupted before its
/// Shutdown was queued goes straight to stopping the host.
pub(super) async fn resume_stop(state: &AppState, instance: &InstanceRow) -> Result<(), sqlx::Error> {
    let shutdown = state.store.latest_command_of_kind(instance.id, DeploymentKind::Shutdown, 0).await?;
    let open = shutdown.filter(|c| c.status.parse::<CommandStatus>().is_ok_and(|s| !s.is_finished()));
    match open {
        Some(command) => wait_finished(state, command.id, state.config.shutdown_timeout).await?,
        None if instance.status() == InstanceStatus::Stopping => {
            tracing::warn!(instance = %instance.hostname, "no Shutdown is open after the restart; stopping the host");
        }
        None => {}
    }
    stop_host(state, instance).await
}

/// Stops the instance's host through its provider (a local agent, an EC2 machine), fails what
/// it will not finish, and marks the instance stopped.
async fn stop_host(state: &AppState, instance: &InstanceRow) -> Result<(), sqlx::Error> {
    if let Err(e) = crate::provider::stop_host(state, instance).await {
        tracing::error!(instance = %instance.hostname, "failed to stop its host: {e}");
        let message = format!("{}: failed to stop its host: {e}", instance.hostname);
        let event = NewEvent {
            stack_id: instance.stack_id,
            kind: "stop_failed",
            instance: Some(&instance.hostname),
            layer: None,
            message: &message,
        };
        super::events::record(state, &event).await?;
    }
    abandon_commands(state, instance.id, "the instance stopped before the command finished").await?;
    state.store.clear_services(instance.id).await?;
    if let Some(current) = state.store.instance_by_id(instance.id).await? {
        apply_event(state, &current, Event::Stopped).await?;
    }
    Ok(())
}

async fn wait_finished(state: &AppState, command_id: i64, timeout: Duration) -> Result<(), sqlx::Error> {
    let mut changes = state.wakeups.subscribe();
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        let status = state.store.command(command_id).await?.and_then(|c| c.status.parse::<CommandStatus>().ok());
        if status.is_none_or(CommandStatus::is_finished) {
            return Ok(());
        }
        if tokio::time::timeout_at(deadline, changes.changed()).await.is_err() {
            tracing::warn!(command_id, "Shutdown did not finish within {timeout:?}; stopping anyway");
            return Ok(());
        }
    }
}
