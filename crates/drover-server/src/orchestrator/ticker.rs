//! The server's background checks: each runs `check` every `period` for as long as the server
//! runs; a failed round is logged and the next one runs on time.

use std::time::Duration;

use crate::state::AppState;

/// Runs `check(&state)` every `period`, forever; `what` names it in the log.
pub async fn every(
    state: AppState,
    period: Duration,
    what: &str,
    check: impl AsyncFn(&AppState) -> Result<(), sqlx::Error>,
) {
    let mut tick = tokio::time::interval(period);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        if let Err(e) = check(&state).await {
            tracing::warn!("failed to {what}: {e}");
        }
    }
}
