//! Start-up sweep: finishes what a server that died left half done.
//!
//! A command's result is committed before its follow-up runs (the next batch of a rolling deploy,
//! the deployment's status and app lock, `SetupFinished`), and a stop runs in the background. A
//! server killed in between would leave a deployment running forever, its app locked, or an
//! instance stuck in `running_setup`, `stopping` or `shutting_down`. Every follow-up is idempotent,
//! so the sweep simply runs it again for everything that may need it, before the API answers.

use drover_core::deploy::follow_up::{FollowUp, after_deployment};
use drover_core::lifecycle::Event;
use drover_core::{CommandStatus, DeploymentKind, DeploymentStatus, InstanceStatus};
use drover_proto::agent::LifecycleEvent;

use super::{app_deploy, apply_event, power, queue_lifecycle};
use crate::state::AppState;
use crate::store::InstanceRow;

/// How often the leader re-runs running deployments' follow-ups and looks for stops left
/// behind: a server that died between recording a command's result and releasing the next batch,
/// or in the middle of a stop, leaves them for this.
const SETTLE_PERIOD: std::time::Duration = std::time::Duration::from_secs(15);

/// Stops this leader carries on now, so that no round starts a second one.
static RESUMING: std::sync::Mutex<Vec<i64>> = std::sync::Mutex::new(Vec::new());

/// Re-runs running deployments' follow-ups, and carries on stops left behind, every
/// [`SETTLE_PERIOD`], forever (the leader's, with other servers on the store).
pub async fn settle_running(state: AppState) {
    super::ticker::every(state, SETTLE_PERIOD, "settle running deployments", async |state: &AppState| {
        for deployment_id in state.store.running_deployments().await? {
            settle_deployment(state, deployment_id).await?;
        }
        resume_left_stops(state).await
    })
    .await;
}

/// Carries on, in the background, each stop that no server is carrying on (see [`stop_was_left`]).
async fn resume_left_stops(state: &AppState) -> Result<(), sqlx::Error> {
    for instance in state.store.instances_in(&[InstanceStatus::Stopping, InstanceStatus::ShuttingDown]).await? {
        if !stop_was_left(state, &instance) {
            continue;
        }
        {
            let mut resuming = RESUMING.lock().unwrap_or_else(|e| e.into_inner());
            if resuming.contains(&instance.id) {
                continue;
            }
            resuming.push(instance.id);
        }
        tracing::info!(instance = %instance.hostname, status = %instance.status, "carrying on a stop left behind");
        let state = state.clone();
        tokio::spawn(async move {
            if let Err(e) = power::resume_stop(&state, &instance).await {
                tracing::error!(instance = %instance.hostname, "failed to stop: {e}");
            }
            RESUMING.lock().unwrap_or_else(|e| e.into_inner()).retain(|id| *id != instance.id);
        });
    }
    Ok(())
}

/// Re-runs the follow-up of every running deployment and of every instance in `running_setup`,
/// and carries on interrupted stops (in the background: they wait for Shutdown).
pub async fn sweep(state: &AppState) -> Result<(), sqlx::Error> {
    for deployment_id in state.store.running_deployments().await? {
        settle_deployment(state, deployment_id).await?;
    }
    let freed = state.store.release_finished_locks().await?;
    if freed > 0 {
        tracing::info!(freed, "freed app locks of finished deployments");
    }
    for instance in state.store.instances_in(&[InstanceStatus::RunningSetup]).await? {
        settle_setup(state, &instance).await?;
    }
    for instance in state.store.instances_in(&[InstanceStatus::Stopping, InstanceStatus::ShuttingDown]).await? {
        if !stop_was_left(state, &instance) {
            continue;
        }
        tracing::info!(instance = %instance.hostname, status = %instance.status, "carrying on an interrupted stop");
        let state = state.clone();
        tokio::spawn(async move {
            if let Err(e) = power::resume_stop(&state, &instance).await {
                tracing::error!(instance = %instance.hostname, "failed to stop: {e}");
            }
        });
    }
    state.wakeups.changed();
    Ok(())
}

/// Whether an instance's stop is left for this server to carry on: always on a store of its own;
/// with other servers on the store, one of them may be stopping it now, so only a stop older than
/// the shutdown timeout (which that server would have ended) is taken over.
fn stop_was_left(state: &AppState, instance: &InstanceRow) -> bool {
    if !state.store.is_shared() {
        return true;
    }
    let waited = crate::time::now_ms().saturating_sub(instance.status_changed_at);
    waited > state.config.shutdown_timeout.as_millis() as i64 + 5_000
}

/// A deployment's follow-up after one of its commands finished: releases the next batch (or skips
/// the rest after a failure), recomputes its status, and frees its app lock once it is no longer
/// running, moving the app's pin first. Running it twice changes nothing the second time.
pub(super) async fn settle_deployment(state: &AppState, deployment_id: i64) -> Result<(), sqlx::Error> {
    let woken = state.store.advance_batches(deployment_id).await?;
    state.wakeups.wake_agents(&woken);
    let status = state.store.refresh_deployment(deployment_id).await?;
    if status == DeploymentStatus::Running {
        return Ok(());
    }
    let Some(kind) = state.store.deployment(deployment_id).await?.and_then(|d| d.kind.parse::<DeploymentKind>().ok())
    else {
        return Ok(());
    };
    if kind == DeploymentKind::ZodbRestore {
        super::zodb::restore_ended(state, deployment_id).await?;
    }
    for step in after_deployment(kind, status) {
        match step {
            FollowUp::MovePin => super::record_pin(state, deployment_id, status).await?,
            FollowUp::FreeLock => state.store.release_locks(deployment_id).await?,
            _ => {}
        }
    }
    Ok(())
}

/// Moves an instance on after its Setup ended; once online, deploys its layers' apps. Does
/// nothing unless the instance is still `running_setup`.
pub(super) async fn setup_finished(state: &AppState, instance_id: i64, success: bool) -> Result<(), sqlx::Error> {
    let Some(instance) = state.store.instance_by_id(instance_id).await? else { return Ok(()) };
    if apply_event(state, &instance, Event::SetupFinished { success }).await? != Some(InstanceStatus::Online) {
        return Ok(());
    }
    let Some(online) = state.store.instance_by_id(instance_id).await? else { return Ok(()) };
    let state = state.clone();
    tokio::spawn(async move {
        if let Err(e) = app_deploy::deploy_after_setup(&state, &online).await {
            tracing::warn!(instance = %online.hostname, "failed to queue deploys after Setup: {e}");
        }
    });
    Ok(())
}

/// An instance found in `running_setup`: if the Setup of this boot already finished, its event is
/// applied; if none was queued (the server died between the status change and the queueing),
/// Setup is queued now.
async fn settle_setup(state: &AppState, instance: &InstanceRow) -> Result<(), sqlx::Error> {
    let setup =
        state.store.latest_command_of_kind(instance.id, DeploymentKind::Setup, instance.status_changed_at).await?;
    let Some(setup) = setup else {
        tracing::info!(instance = %instance.hostname, "queueing the Setup that a restart lost");
        queue_lifecycle(state, instance.id, LifecycleEvent::Setup, None).await?;
        return Ok(());
    };
    let status = setup.status.parse::<CommandStatus>().ok();
    if status.is_some_and(CommandStatus::is_finished) {
        tracing::info!(instance = %instance.hostname, status = %setup.status, "applying the end of Setup that a restart lost");
        setup_finished(state, instance.id, status == Some(CommandStatus::Successful)).await?;
    }
    Ok(())
}
