//! Marks silent instances `connection_lost` (and hosts that never came up `start_failed`) once
//! the heartbeat timeout passes; agents known to be gone sooner are [`super::lost`]'s.

use std::time::Duration;

use drover_core::InstanceStatus;
use drover_core::lifecycle::on_silence;

use crate::state::AppState;
use crate::time::now_ms;

/// Checks for silent instances forever, a few times per timeout.
pub async fn watch_heartbeats(state: AppState) {
    let timeout = state.config.heartbeat_timeout;
    let period = (timeout / 4).clamp(Duration::from_millis(200), Duration::from_secs(5));
    let mut tick = tokio::time::interval(period);
    loop {
        tick.tick().await;
        if let Err(e) = check_once(&state, timeout).await {
            tracing::warn!("failed to check heartbeats: {e}");
        }
    }
}

async fn check_once(state: &AppState, timeout: Duration) -> Result<(), sqlx::Error> {
    let watched = [InstanceStatus::Online, InstanceStatus::RunningSetup, InstanceStatus::Booting];
    let now = now_ms();
    for instance in state.store.instances_in(&watched).await? {
        let last = instance.last_heartbeat.unwrap_or(0).max(instance.status_changed_at);
        let silent = Duration::from_millis(now.saturating_sub(last).max(0) as u64);
        if on_silence(instance.status(), silent, timeout).is_some() {
            let cause = format!("no heartbeat for {} s (the heartbeat timeout)", silent.as_secs());
            super::lost::agent_gone(state, &instance, &cause).await?;
        }
    }
    Ok(())
}
