//! Instances lost in seconds, not minutes: a local agent whose process is gone, or an agent whose
//! command long-poll dropped and did not come back within two heartbeat intervals, is
//! `connection_lost` at once (`start_failed` while booting); its open commands fail naming the
//! cause, the stack reconfigures, and an event says why. Silence without a dropped connection is
//! left to the heartbeat timeout ([`super::heartbeat`]).

use std::time::{Duration, Instant};

use drover_core::lifecycle::{changes_membership, on_agent_gone};
use drover_core::{InstanceStatus, Provider};

use crate::state::AppState;
use crate::store::{InstanceRow, NewEvent};
use crate::time::now_ms;

/// How often agents are looked for.
const PERIOD: Duration = Duration::from_secs(1);
/// A local agent just spawned may not have written its pid file yet.
const SPAWN_GRACE: Duration = Duration::from_secs(5);
/// The least time without a long-poll before an agent counts as gone (an agent retrying a
/// refused poll backs off up to 10 s).
const MIN_POLL_GRACE: Duration = Duration::from_secs(10);
/// How long an agent that is upgrading (it took an `agent_upgrade` command that has not ended)
/// may be without a long-poll: it execs its new binary, which hashes itself, says hello and
/// polls again; a local agent's pid is watched all along.
const UPGRADE_POLL_GRACE: Duration = Duration::from_secs(60);

/// Looks for gone agents forever.
pub async fn watch_agents(state: AppState) {
    super::ticker::every(state, PERIOD, "check the agents", check_once).await;
}

async fn check_once(state: &AppState) -> Result<(), sqlx::Error> {
    let grace = (state.config.agent_heartbeat_interval * 2).max(MIN_POLL_GRACE);
    let now = Instant::now();
    let mut upgrading = std::collections::HashSet::new();
    for id in state.presence.idle(grace, now) {
        if state.store.upgrading(id).await? {
            upgrading.insert(id);
        }
    }
    let grace_of = |id| if upgrading.contains(&id) { UPGRADE_POLL_GRACE.max(grace) } else { grace };
    for (id, idle) in state.presence.gone_with(now, grace_of) {
        let Some(instance) = state.store.instance_by_id(id).await? else { continue };
        let cause = format!(
            "its agent's connection dropped and it did not poll again for {} s (two heartbeat intervals)",
            idle.as_secs()
        );
        agent_gone(state, &instance, &cause).await?;
    }
    let now = now_ms();
    for instance in state.store.instances_by_provider(Provider::Local.as_str()).await? {
        if on_agent_gone(instance.status()).is_none() || crate::provider::local_elsewhere(state, &instance) {
            continue;
        }
        // Online or in Setup, its agent said hello: only a booting one may still be spawning.
        let settled = instance.status() != InstanceStatus::Booting
            || now.saturating_sub(instance.status_changed_at) > SPAWN_GRACE.as_millis() as i64;
        if settled && state.local.running_pid(&instance).is_none() {
            let cause = match state.local.last_pid(&instance) {
                Some(pid) => format!("its local agent (pid {pid}) is no longer running"),
                None => "its local agent is not running".to_owned(),
            };
            agent_gone(state, &instance, &cause).await?;
        }
    }
    Ok(())
}

/// Marks an instance whose agent is gone: its new status, its open commands failed with the
/// cause, an event, and a Configure when it left `online`. False when its status had moved on.
pub(super) async fn agent_gone(state: &AppState, instance: &InstanceRow, cause: &str) -> Result<bool, sqlx::Error> {
    let was = instance.status();
    let Some(next) = on_agent_gone(was) else { return Ok(false) };
    if !state.store.set_status(instance.id, was, next).await? {
        return Ok(false);
    }
    tracing::warn!(instance = %instance.hostname, "{cause}: {next}");
    state.presence.forget(instance.id);
    let message = format!("{} is {next}: {cause}", instance.hostname);
    super::events::record(
        state,
        &NewEvent {
            stack_id: instance.stack_id,
            kind: "lost",
            instance: Some(&instance.hostname),
            layer: None,
            message: &message,
        },
    )
    .await?;
    super::abandon_commands(state, instance.id, &format!("the instance was lost: {cause}")).await?;
    if changes_membership(was, next) {
        super::membership_changed(state, instance).await?;
    }
    Ok(true)
}
