//! The orchestrator: carries out the decisions of `drover-core` (lifecycle transitions, lifecycle
//! events, stops and starts, heartbeat silence) against the store and the providers.

pub mod app_deploy;
mod configure_events;
mod error;
pub mod events;
mod healing;
mod heartbeat;
pub mod instances;
pub mod load_scaling;
mod lost;
pub mod model;
mod power;
mod revision;
mod sweep;
pub mod targets;
mod ticker;
mod time_scaling;
pub mod zodb;

pub use healing::heal_lost_instances;
pub use heartbeat::watch_heartbeats;
pub use load_scaling::follow_load;
pub use lost::watch_agents;
pub use power::{start_instance, stop_instance};
pub use sweep::{settle_running, sweep};
pub use time_scaling::follow_schedules;
pub use zodb::follow_zodb_schedules;

use drover_core::deploy::follow_up::{FollowUp, after_command};
use drover_core::deploy::pin::pin_after;
use drover_core::deploy::restart_plan::RestartPolicy;
use drover_core::lifecycle::{Event, changes_membership, on_event};
use drover_core::{CommandStatus, DeploymentKind, DeploymentStatus, InstanceStatus};
use drover_proto::agent::{AppReport, LifecycleEvent, LifecycleReport};

pub use configure_events::{ConfigureEvents, release_configures};
pub use error::OrchestratorError;
pub use model::StackModel;

use crate::state::AppState;
use crate::store::{FinishedCommand, InstanceRow, NewDeployment, PlannedCommand};

/// Applies a lifecycle event to an instance; queues Setup when the transition asks for it.
/// Returns the new status, if it changed.
pub async fn apply_event(
    state: &AppState,
    instance: &InstanceRow,
    event: Event,
) -> Result<Option<InstanceStatus>, sqlx::Error> {
    let from = instance.status();
    let Ok(Some(t)) = on_event(from, event) else { return Ok(None) };
    if !state.store.set_status(instance.id, from, t.next).await? {
        return Ok(None); // someone else moved it first
    }
    tracing::info!(instance = %instance.hostname, %from, to = %t.next, ?event, "instance status");
    if changes_membership(from, t.next) {
        membership_changed(state, instance).await?;
    }
    if t.run_setup {
        queue_lifecycle(state, instance.id, LifecycleEvent::Setup, None).await?;
    }
    state.wakeups.changed();
    Ok(Some(t.next))
}

/// An instance entered or left `online`: every online instance of the stack gets a Configure,
/// held until the burst it may be part of settles.
pub async fn membership_changed(state: &AppState, instance: &InstanceRow) -> Result<(), sqlx::Error> {
    let comment = format!("Configure: {} changed its membership", instance.hostname);
    configure_stack(state, &instance.stack_name, Some(&comment), true).await.map(|_| ())
}

/// A command that cannot be serialised is a fault, never an empty command.
fn encode_error(e: serde_json::Error) -> sqlx::Error {
    sqlx::Error::Encode(Box::new(e))
}

/// Queues a lifecycle event (Setup, Shutdown, Configure) on one instance; returns the command id.
pub async fn queue_lifecycle(
    state: &AppState,
    instance_id: i64,
    event: LifecycleEvent,
    timeout_secs: Option<u64>,
) -> Result<i64, sqlx::Error> {
    let Some(instance) = state.store.instance_by_id(instance_id).await? else { return Ok(0) };
    let Some(model) = StackModel::load(state, &instance.stack_name).await? else { return Ok(0) };
    let spec = model.lifecycle_spec(&instance, event, timeout_secs);
    let spec_json = serde_json::to_string(&spec).map_err(encode_error)?;
    let deployment_id = targets::queue_commands(
        state,
        &NewDeployment {
            stack_id: instance.stack_id,
            kind: event.kind(),
            comment: None,
            command_json: "[]",
            app: None,
            targets: &[PlannedCommand { instance_id, spec_json, skip: None, batch: 0, held: false }],
            revision: None,
            commit: None,
            max_unavailable: 1,
        },
    )
    .await?;
    let commands = state.store.deployment_commands(deployment_id).await?;
    Ok(commands.first().map(|c| c.id).unwrap_or(0))
}

/// Runs Configure on every online instance of a stack (reference.md section 2): each gets the
/// new stack configuration, and its apps are rebuilt and restarted only where `deploy.cfg`
/// changed. Older Configure commands still pending are superseded. A `held` Configure waits for
/// [`ConfigureEvents`] to release it (a burst settling); while one is held, another trigger only
/// counts on it, and its commands are made anew when it is released (so a burst of N arrivals
/// costs one set of commands, not N). Returns the deployment's id, or none when no instance is
/// online.
pub async fn configure_stack(
    state: &AppState,
    stack: &str,
    comment: Option<&str>,
    held: bool,
) -> Result<Option<i64>, sqlx::Error> {
    if held
        && let Some(row) = state.store.stack(stack).await?
        && let Some(id) = state.store.add_held_trigger(row.id).await?
    {
        configure_triggered(state, row.id);
        return Ok(Some(id));
    }
    let Some(model) = StackModel::load(state, stack).await? else { return Ok(None) };
    let targets = configure_targets(&model)?
        .into_iter()
        .map(|(instance_id, spec_json)| PlannedCommand { instance_id, spec_json, skip: None, batch: 0, held })
        .collect::<Vec<_>>();
    if targets.is_empty() {
        return Ok(None);
    }
    let (id, woken) = state
        .store
        .create_deployment(&NewDeployment {
            stack_id: model.stack.id,
            kind: DeploymentKind::Configure,
            comment,
            command_json: "[]",
            app: None,
            targets: &targets,
            revision: None,
            commit: None,
            max_unavailable: RestartPolicy::from_attributes(&model.effective(None, &serde_json::json!({})))
                .max_unavailable,
        })
        .await?;
    for older in state.store.supersede_configures(model.stack.id, id).await? {
        state.store.refresh_deployment(older).await?;
    }
    state.wakeups.wake_agents(&woken);
    if held {
        configure_triggered(state, model.stack.id);
    }
    Ok(Some(id))
}

/// A held Configure waits for the leader, which may be another server, to release it.
fn configure_triggered(state: &AppState, stack_id: i64) {
    state.configure_events.trigger(stack_id);
    state.cluster.outbox.send(crate::cluster::bus::Message::Configure { stack: stack_id });
}

/// Every online instance of the stack with its Configure command, as JSON.
fn configure_targets(model: &StackModel) -> Result<Vec<(i64, String)>, sqlx::Error> {
    model
        .instances
        .iter()
        .filter(|i| i.status() == InstanceStatus::Online)
        .map(|i| {
            let spec = model.lifecycle_spec(i, LifecycleEvent::Configure, None);
            Ok((i.id, serde_json::to_string(&spec).map_err(encode_error)?))
        })
        .collect()
}

/// Releases the stack's held Configure with commands made from the stack as it is now. `false`:
/// a trigger came while they were being made, so the release is to be tried again.
pub(crate) async fn release_held_configure(state: &AppState, stack_id: i64) -> Result<bool, sqlx::Error> {
    let Some(held) = state.store.held_configure(stack_id).await? else { return Ok(true) };
    let Some(stack) = state.store.stack_by_id(stack_id).await? else { return Ok(true) };
    let Some(model) = StackModel::load(state, &stack.name).await? else { return Ok(true) };
    let targets = configure_targets(&model)?;
    let Some(released) = state.store.release_held_configure(stack_id, held, &targets).await? else {
        return Ok(false);
    };
    for deployment in released.superseded.iter().chain([&held.id]) {
        state.store.refresh_deployment(*deployment).await?;
    }
    let woken = released.woken;
    if !woken.is_empty() {
        tracing::info!(stack = %stack.name, instances = woken.len(), "releasing Configure");
    }
    state.wakeups.wake_agents(&woken);
    Ok(true)
}

/// Records the releases an app command (or a Configure event, for each of its apps) reported
/// for its instance.
pub async fn record_app_report(
    state: &AppState,
    command_id: i64,
    instance_id: i64,
    data: &serde_json::Value,
) -> Result<(), sqlx::Error> {
    let Some(app_id) = state.store.command_app(command_id).await? else {
        return record_lifecycle_report(state, instance_id, data).await;
    };
    match serde_json::from_value::<AppReport>(data.clone()) {
        Ok(report) => {
            state.store.record_releases(instance_id, app_id, report.current.as_deref(), &report.releases).await
        }
        Err(e) => {
            tracing::warn!("an agent sent an unreadable app report: {e}");
            Ok(())
        }
    }
}

async fn record_lifecycle_report(
    state: &AppState,
    instance_id: i64,
    data: &serde_json::Value,
) -> Result<(), sqlx::Error> {
    let Ok(report) = serde_json::from_value::<LifecycleReport>(data.clone()) else {
        tracing::warn!("an agent sent an unreadable lifecycle report");
        return Ok(());
    };
    let Some(instance) = state.store.instance_by_id(instance_id).await? else { return Ok(()) };
    for app in report.apps {
        if let Some(row) = state.store.app(instance.stack_id, &app.app).await? {
            state.store.record_releases(instance_id, row.id, app.current.as_deref(), &app.releases).await?;
        }
    }
    Ok(())
}

/// Follows up on a command that has just finished: releases the next batch, settles the
/// deployment (and its lock), moves the instance's lifecycle on.
///
/// The result is already committed when this runs. Each step is idempotent and the start-up
/// [`sweep`] runs them again for every running deployment and every instance still in
/// `running_setup`, so a server that dies in between loses none of it.
pub async fn on_command_finished(state: &AppState, finished: &FinishedCommand) -> Result<(), sqlx::Error> {
    let kind = finished.kind.parse::<DeploymentKind>().unwrap_or(DeploymentKind::Execute);
    for step in after_command(kind, finished.success) {
        match step {
            FollowUp::FreeRestartSlots => {
                state.store.release_restart_slots(finished.deployment_id, finished.instance_id).await?
            }
            FollowUp::SettleDeployment => sweep::settle_deployment(state, finished.deployment_id).await?,
            FollowUp::PruneLogs => {
                state.store.prune_logs(finished.instance_id, state.config.command_logs_kept).await?;
            }
            FollowUp::SetupFinished { success } => sweep::setup_finished(state, finished.instance_id, success).await?,
            FollowUp::MovePin | FollowUp::FreeLock => {}
        }
    }
    state.wakeups.changed();
    Ok(())
}

/// Moves the app's pin after a finished deploy or rollback (`drover_core::deploy::pin`).
/// Idempotent: running it again for the same deployment changes nothing.
pub async fn record_pin(state: &AppState, deployment_id: i64, status: DeploymentStatus) -> Result<(), sqlx::Error> {
    let Some(row) = state.store.deployment(deployment_id).await? else { return Ok(()) };
    let (Some(app_id), Ok(kind)) = (row.app_id, row.kind.parse::<DeploymentKind>()) else { return Ok(()) };
    let current = if kind == DeploymentKind::Rollback {
        state.store.current_commits(deployment_id, app_id).await?
    } else {
        Vec::new()
    };
    let current: Vec<&str> = current.iter().map(String::as_str).collect();
    if let Some((sha, reason)) = pin_after(kind, status, row.commit_sha.as_deref(), &current)
        && state.store.set_pin(app_id, &sha, reason, deployment_id).await?
    {
        tracing::info!(deployment = deployment_id, app = ?row.app_name, %sha, reason = reason.as_str(), "app pinned");
    }
    Ok(())
}

/// Fails every command an instance will not finish (it stopped, was deleted or was lost), so
/// that no deployment (and no app lock) waits on it forever.
pub async fn abandon_commands(state: &AppState, instance_id: i64, reason: &str) -> Result<(), sqlx::Error> {
    let open = [CommandStatus::Pending, CommandStatus::Acknowledged, CommandStatus::Running];
    for command in state.store.commands_in(instance_id, &open).await? {
        if let Some(finished) = state.store.abandon_command(command.id, reason).await? {
            on_command_finished(state, &finished).await?;
        }
    }
    state.wakeups.changed();
    Ok(())
}
