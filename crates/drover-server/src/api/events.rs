//! `GET /stacks/{stack}/events`: what the server decided on its own for a stack, with the reason;
//! a long-poll with `after` and `wait` to follow them.

use std::time::Duration;

use axum::Json;
use axum::extract::State;
use drover_proto::events::Event;
use serde::Deserialize;

use super::auth::{Can, SHOW};
use super::extract::{Path, Query};
use super::failure::{ApiResult, Failure};
use super::resources::load_stack;
use crate::state::AppState;
use crate::time::rfc3339;

/// The longest a follow waits for a new event.
const MAX_WAIT: Duration = Duration::from_secs(60);
/// The most events one answer holds.
const MAX_LIMIT: i64 = 1000;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventsQuery {
    /// Only events after this id (the last one seen).
    after: Option<i64>,
    /// With `after`: seconds to wait for a new event when there is none yet.
    #[serde(default)]
    wait: u64,
    /// At most this many (100 unless set).
    limit: Option<i64>,
}

/// The stack's events, oldest first: the newest `limit`, or those after `after` (waiting up to
/// `wait` seconds for one).
#[utoipa::path(
    get,
    path = "/stacks/{stack}/events",
    operation_id = "list_events",
    tag = "stacks",
    summary = "What the server decided on its own for a stack (instances lost, healed, ...)",
    params(
        ("stack" = String, Path, description = "The stack's name"),
        ("after" = Option<i64>, Query, minimum = 0, description = "Only events after this id (the last one seen)"),
        ("wait" = Option<u64>, Query, description = "With `after`: seconds to wait for a new event (at most 60; default 0)"),
        ("limit" = Option<i64>, Query, minimum = 1, maximum = 1000, description = "At most this many (default 100)"),
    ),
    responses((status = 200, description = "The events, oldest first", body = Vec<drover_proto::events::Event>))
)]
pub async fn list(
    _: Can<SHOW>,
    State(state): State<AppState>,
    Path(stack): Path<String>,
    Query(q): Query<EventsQuery>,
) -> ApiResult<Json<Vec<Event>>> {
    let limit = q.limit.unwrap_or(100);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(Failure::invalid("limit", format!("limit must be between 1 and {MAX_LIMIT}")));
    }
    if q.after.is_some_and(|a| a < 0) {
        return Err(Failure::invalid("after", "after is an event id: 0 or more"));
    }
    let stack = load_stack(&state, &stack).await?;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(q.wait).min(MAX_WAIT);
    let mut changes = state.wakeups.subscribe();
    loop {
        changes.borrow_and_update();
        let rows = state.store.events(stack.id, q.after, limit).await?;
        if !rows.is_empty() || q.after.is_none() || tokio::time::Instant::now() >= deadline {
            let events = rows
                .into_iter()
                .map(|r| Event {
                    id: r.id,
                    at: rfc3339(r.at),
                    kind: r.kind,
                    instance: r.instance,
                    layer: r.layer,
                    message: r.message,
                })
                .collect();
            return Ok(Json(events));
        }
        let _ = tokio::time::timeout_at(deadline, changes.changed()).await;
    }
}
