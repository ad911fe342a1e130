//! Auto-healing (reference.md section 7): an instance `connection_lost` past the heartbeat
//! timeout, when every layer it belongs to has auto-healing on, is stopped and started again
//! through its provider, with backoff and a cap per hour (core `scaling::healing` decides). Its
//! coming back online reconfigures the stack as any arrival does. Each attempt and each giving up
//! is an event with its reason.

use std::time::Duration;

use drover_core::scaling::healing::{HOUR_MS, HealDecision, HealInput, HealingPolicy, LayerHealing, decide};
use drover_core::{InstanceStatus, Provider};

use super::events;
use crate::state::AppState;
use crate::store::{InstanceRow, NewEvent};
use crate::time::now_ms;

/// How often lost instances are looked at.
const PERIOD: Duration = Duration::from_secs(2);
/// The event of an attempt.
const HEALING: &str = "healing";
/// The event of giving up.
const GAVE_UP: &str = "healing_gave_up";

/// Heals lost instances forever.
pub async fn heal_lost_instances(state: AppState) {
    super::ticker::every(state, PERIOD, "check lost instances for auto-healing", check_once).await;
}

async fn check_once(state: &AppState) -> Result<(), sqlx::Error> {
    for instance in state.store.instances_in(&[InstanceStatus::ConnectionLost]).await? {
        consider(state, &instance).await?;
    }
    Ok(())
}

async fn consider(state: &AppState, instance: &InstanceRow) -> Result<(), sqlx::Error> {
    let now = now_ms();
    let names = instance.layers();
    let layers: Vec<LayerHealing> = state
        .store
        .layers(instance.stack_id)
        .await?
        .into_iter()
        .filter(|l| names.contains(&l.shortname))
        .map(|l| LayerHealing { name: l.shortname, auto_healing: l.auto_healing })
        .collect();
    let attempts = state.store.event_times(instance.stack_id, &instance.hostname, HEALING, now - HOUR_MS).await?;
    let decision = decide(&HealInput {
        hostname: &instance.hostname,
        status: instance.status(),
        provider: instance.provider.parse().unwrap_or(Provider::Registered),
        lost_at_ms: instance.status_changed_at,
        heartbeat_timeout_ms: state.config.heartbeat_timeout.as_millis() as i64,
        layers: &layers,
        attempts_ms: &attempts,
        now_ms: now,
        policy: HealingPolicy::default(),
    });
    let event = |kind, message| NewEvent {
        stack_id: instance.stack_id,
        kind,
        instance: Some(&instance.hostname),
        layer: None,
        message,
    };
    match decision {
        HealDecision::Heal { reason } => {
            events::record(state, &event(HEALING, &reason)).await?;
            // Whatever is left of the old agent goes first, so the new one is the only one.
            if let Err(e) = crate::provider::stop_host(state, instance).await {
                tracing::warn!(instance = %instance.hostname, "failed to stop its host before healing: {e}");
            }
            if let Err(e) = super::start_instance(state, instance).await {
                let message = format!("{}: failed to start it again: {e}", instance.hostname);
                events::record(state, &event(GAVE_UP, &message)).await?;
            }
        }
        HealDecision::GiveUp { reason } => {
            // Once per loss: not again while it stays lost.
            let said =
                state.store.event_times(instance.stack_id, &instance.hostname, GAVE_UP, instance.status_changed_at);
            if said.await?.is_empty() {
                events::record(state, &event(GAVE_UP, &reason)).await?;
            }
        }
        HealDecision::Wait { .. } | HealDecision::NotEligible { .. } => {}
    }
    Ok(())
}
