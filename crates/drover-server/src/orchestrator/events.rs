//! Recording events: what the server decided on its own, with its reason, for `drover events`.

use crate::state::AppState;
use crate::store::NewEvent;

/// Records an event and wakes those following the stack's events.
pub async fn record(state: &AppState, event: &NewEvent<'_>) -> Result<i64, sqlx::Error> {
    let id = state.store.record_event(event).await?;
    tracing::info!(kind = event.kind, instance = event.instance, "{}", event.message);
    state.wakeups.changed();
    Ok(id)
}
