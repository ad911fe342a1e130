//! Time-based instances: started and stopped at their schedule's hours (core
//! `scaling::timed` decides). Starting is Setup, the apps' pinned commits and joining the
//! backend; stopping drains the clients, then Shutdown. Each is an event with its reason.

use std::time::Duration;

use drover_core::Provider;
use drover_core::scaling::timed::{TimedDecision, decide};
use drover_core::scaling::{ScalingType, WeeklySchedule};

use super::events;
use crate::state::AppState;
use crate::store::{InstanceRow, NewEvent};
use crate::time::schedule_now_secs;

/// How often schedules are read (OpsWorks read them every minute or two).
const PERIOD: Duration = Duration::from_secs(5);

/// Follows the schedules forever.
pub async fn follow_schedules(state: AppState) {
    let mut tick = tokio::time::interval(PERIOD);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        if let Err(e) = check_once(&state).await {
            tracing::warn!("failed to follow the time-based schedules: {e}");
        }
    }
}

async fn check_once(state: &AppState) -> Result<(), sqlx::Error> {
    let now = schedule_now_secs(state.config.schedule_clock_file.as_deref());
    for instance in state.store.instances_with_scaling(ScalingType::Time.as_str()).await? {
        let schedule: WeeklySchedule =
            instance.schedule.as_deref().and_then(|raw| serde_json::from_str(raw).ok()).unwrap_or_default();
        match decide(&instance.hostname, &schedule, instance.status(), now) {
            TimedDecision::Start { reason } => act(state, &instance, "scheduled_start", &reason, true).await?,
            TimedDecision::Stop { reason } => act(state, &instance, "scheduled_stop", &reason, false).await?,
            TimedDecision::Hold => {}
        }
    }
    Ok(())
}

async fn act(
    state: &AppState,
    instance: &InstanceRow,
    kind: &str,
    reason: &str,
    start: bool,
) -> Result<(), sqlx::Error> {
    let registered = instance.provider == Provider::Registered.as_str();
    let message = if start && registered {
        format!("{reason}; it is a registered host, which drover cannot start: start its agent by hand")
    } else {
        reason.to_owned()
    };
    let event = NewEvent {
        stack_id: instance.stack_id,
        kind,
        instance: Some(&instance.hostname),
        layer: None,
        message: &message,
    };
    if start && registered {
        // Said once per stop: not again while it stays stopped.
        let said = state.store.event_times(instance.stack_id, &instance.hostname, kind, instance.status_changed_at);
        if said.await?.is_empty() {
            events::record(state, &event).await?;
        }
        return Ok(());
    }
    events::record(state, &event).await?;
    let done =
        if start { super::start_instance(state, instance).await } else { super::stop_instance(state, instance).await };
    if let Err(e) = done {
        tracing::warn!(instance = %instance.hostname, "the schedule's {kind} failed: {e}");
    }
    Ok(())
}
