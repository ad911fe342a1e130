//! Restart slots: before a serving client goes down, its agent takes one of the deployment's
//! slots (at most `plone_instances.max_unavailable` at once across every instance of the
//! deployment) and gives it back once the client answers its health check. The slots of a
//! command go when it finishes, so an agent that dies holding one blocks no one for long.

use std::time::Duration;

use axum::Json;
use axum::extract::State;
use drover_core::CommandStatus;
use drover_proto::agent::{RestartSlot, RestartSlotRequest};

use super::agent::own_command;
use super::extract::{Agent, Body, Id};
use super::failure::{ApiResult, Failure};
use crate::state::AppState;

/// The longest a slot request waits.
const MAX_WAIT: Duration = Duration::from_secs(25);

fn service_name(raw: &str) -> ApiResult<&str> {
    let ok = !raw.is_empty()
        && raw.len() <= 64
        && raw.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-');
    if ok {
        Ok(raw)
    } else {
        Err(Failure::invalid("service", format!("{raw:?} is not a service name ([a-z0-9_-], at most 64)")))
    }
}

/// `POST /agent/commands/{id}/restart-slot`: takes a slot, waiting up to `wait` seconds.
pub async fn take(
    agent: Agent,
    State(state): State<AppState>,
    Id(id): Id,
    Body(req): Body<RestartSlotRequest>,
) -> ApiResult<Json<RestartSlot>> {
    let service = service_name(&req.service)?;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(req.wait).min(MAX_WAIT);
    let mut changes = state.wakeups.subscribe();
    loop {
        changes.borrow_and_update();
        let command = own_command(&state, &agent, id).await?;
        if command.status.parse::<CommandStatus>().is_ok_and(CommandStatus::is_finished) {
            return Err(Failure::conflict(Some("command"), format!("command {id} has finished; it restarts nothing")));
        }
        let holders = match state.store.take_restart_slot(id, service).await? {
            Ok(()) => return Ok(Json(RestartSlot { granted: true, holders: Vec::new() })),
            Err(holders) => holders,
        };
        if tokio::time::Instant::now() >= deadline {
            return Ok(Json(RestartSlot { granted: false, holders }));
        }
        let _ = tokio::time::timeout_at(deadline, changes.changed()).await;
    }
}

/// `DELETE /agent/commands/{id}/restart-slot`: gives a slot back.
pub async fn give_back(
    agent: Agent,
    State(state): State<AppState>,
    Id(id): Id,
    Body(req): Body<RestartSlotRequest>,
) -> ApiResult<Json<RestartSlot>> {
    let service = service_name(&req.service)?;
    own_command(&state, &agent, id).await?;
    state.store.release_restart_slot(id, service).await?;
    state.wakeups.changed();
    Ok(Json(RestartSlot { granted: false, holders: Vec::new() }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn service_names() {
        for ok in ["client1", "zeoserver", "celery-beat", "a_b"] {
            assert!(service_name(ok).is_ok(), "{ok}");
        }
        for bad in ["", "Client1", "a/b", "x\ny", &"a".repeat(65)] {
            assert!(service_name(bad).is_err(), "{bad:?}");
        }
    }
}
