//! The audit trail: every change, every deployment and every refusal, with who, when, from which
//! address, what and the outcome. A layer around the API records them (the rate limit, outside
//! it, records the first refusal of each episode with [`record_throttled`]); `GET /audit` lists them.

use std::net::SocketAddr;

use axum::Json;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{Method, StatusCode};
use axum::middleware::Next;
use axum::response::Response;
use drover_proto::people::AuditEntry;
use drover_proto::{API_PREFIX, ErrorBody};
use serde::Deserialize;

use super::auth::{Caller, no_such_stack, resolve};
use super::extract::Query;
use super::failure::{ApiResult, Failure};
use crate::state::AppState;
use crate::store::{AuditFilter, AuditRow};
use crate::time::{now_ms, rfc3339};

/// The most of an error body read to find its message.
const MAX_ERROR_BODY: usize = 64 * 1024;

/// The most entries one listing answers with.
const MAX_LIST: i64 = 1000;

/// Records each request that changes something or is refused. Agents' reports after enrollment
/// are their own trail (commands and their logs) and are not recorded here.
pub async fn record(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let path = req.uri().path().to_owned();
    let agent_report = path.starts_with(&format!("{API_PREFIX}/agent/")) && !path.ends_with("/agent/enroll");
    if agent_report {
        return next.run(req).await;
    }
    let method = req.method().clone();
    let peer = req.extensions().get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip().to_string());
    let (mut parts, body) = req.into_parts();
    let caller = resolve(&parts, &state).await.ok();
    if let Some(caller) = &caller {
        parts.extensions.insert(caller.clone());
    }
    let response = next.run(Request::from_parts(parts, body)).await;

    let status = response.status();
    let change = method != Method::GET && method != Method::HEAD && method != Method::OPTIONS;
    let refused = matches!(status, StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN);
    if !change && !refused {
        return response;
    }
    let (response, outcome) = outcome_of(response).await;
    let actor = match &caller {
        Some(c) => c.name().to_owned(),
        None if path.ends_with("/agent/enroll") => "join".to_owned(),
        None if path.starts_with(&format!("{API_PREFIX}/hooks/")) => "webhook".to_owned(),
        None => "anonymous".to_owned(),
    };
    let entry = AuditRow {
        id: 0,
        at: now_ms(),
        actor,
        peer,
        stack: stack_in_path(&path),
        action: format!("{method} {}", path.strip_prefix(API_PREFIX).unwrap_or(&path)),
        status: i64::from(status.as_u16()),
        outcome,
    };
    if let Err(e) = state.store.record_audit(&entry).await {
        tracing::error!("failed to record an audit entry for {}: {e}", entry.action);
    }
    response
}

/// Records a request the rate limit refused before it reached the API: the first of each episode
/// per token or address (the limiter decides), so a flood of refusals cannot flood the trail.
pub async fn record_throttled(state: &AppState, parts: &axum::http::request::Parts, outcome: String) {
    let path = parts.uri.path();
    let actor = match resolve(parts, state).await {
        Ok(caller) => caller.name().to_owned(),
        Err(_) => "anonymous".to_owned(),
    };
    let entry = AuditRow {
        id: 0,
        at: now_ms(),
        actor,
        peer: parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip().to_string()),
        stack: stack_in_path(path),
        action: format!("{} {}", parts.method, path.strip_prefix(API_PREFIX).unwrap_or(path)),
        status: i64::from(StatusCode::TOO_MANY_REQUESTS.as_u16()),
        outcome,
    };
    if let Err(e) = state.store.record_audit(&entry).await {
        tracing::error!("failed to record an audit entry for {}: {e}", entry.action);
    }
}

/// `ok`, or the message of the error the response carries.
async fn outcome_of(response: Response) -> (Response, String) {
    if response.status().is_success() {
        return (response, "ok".to_owned());
    }
    let (parts, body) = response.into_parts();
    let reason = parts.status.canonical_reason().unwrap_or("failed").to_owned();
    let Ok(bytes) = axum::body::to_bytes(body, MAX_ERROR_BODY).await else {
        return (Response::from_parts(parts, axum::body::Body::empty()), reason);
    };
    let message = serde_json::from_slice::<ErrorBody>(&bytes).map(|b| b.error.message).unwrap_or(reason);
    (Response::from_parts(parts, axum::body::Body::from(bytes)), message)
}

/// The stack a path is about: `/api/v1/stacks/{stack}/…`.
fn stack_in_path(path: &str) -> Option<String> {
    let rest = path.strip_prefix(API_PREFIX)?.strip_prefix("/stacks/")?;
    let name = rest.split('/').next()?;
    (!name.is_empty()).then(|| name.to_owned())
}

/// `GET /audit?stack=&user=&since=&limit=`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditQuery {
    stack: Option<String>,
    user: Option<String>,
    /// Unix milliseconds.
    since: Option<i64>,
    limit: Option<i64>,
}

/// The trail, newest first. An admin sees everything; a user sees the stacks they manage, one at
/// a time (`stack` is then required).
#[utoipa::path(
    get,
    path = "/audit",
    operation_id = "list_audit",
    tag = "people",
    summary = "The audit trail, newest first",
    params(("stack" = Option<String>, Query, description = "Only this stack (required for a user who is not an admin)"), ("user" = Option<String>, Query, description = "Only this actor"), ("since" = Option<i64>, Query, description = "Only entries from this time on (Unix milliseconds)"), ("limit" = Option<i64>, Query, minimum = 1, maximum = 1000, description = "At most this many (1 to 1000; default 200)")),
    responses((status = 200, description = "The entries", body = Vec<drover_proto::people::AuditEntry>), (status = 403, description = "The caller manages no stack named, or named none", body = drover_proto::ErrorBody), (status = 404, description = "No such stack", body = drover_proto::ErrorBody))
)]
pub async fn list(
    caller: Caller,
    State(state): State<AppState>,
    Query(q): Query<AuditQuery>,
) -> ApiResult<Json<Vec<AuditEntry>>> {
    if !caller.is_admin() {
        let Some(name) = q.stack.as_deref() else {
            return Err(Failure::forbidden(
                "only a server-wide admin reads the whole audit trail; name a stack you manage with --stack",
            ));
        };
        let stack = state.store.stack(name).await?.ok_or_else(|| no_such_stack(name))?;
        caller.need(&state, stack.id, name, drover_core::access::Level::Manage).await?;
    }
    let limit = q.limit.unwrap_or(200);
    if !(1..=MAX_LIST).contains(&limit) {
        return Err(Failure::invalid("limit", format!("limit must be between 1 and {MAX_LIST}")));
    }
    let filter = AuditFilter { stack: q.stack.as_deref(), actor: q.user.as_deref(), since_ms: q.since, limit };
    let rows = state.store.audit(&filter).await?;
    Ok(Json(
        rows.into_iter()
            .map(|r| AuditEntry {
                id: r.id,
                at: rfc3339(r.at),
                actor: r.actor,
                peer: r.peer,
                stack: r.stack,
                action: r.action,
                status: u16::try_from(r.status).unwrap_or(0),
                outcome: r.outcome,
            })
            .collect(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stack_in_path_table() {
        let cases = [
            ("/api/v1/stacks/prod/deployments", Some("prod")),
            ("/api/v1/stacks/prod", Some("prod")),
            ("/api/v1/stacks", None),
            ("/api/v1/stacks/", None),
            ("/api/v1/deployments/3", None),
            ("/other/stacks/x", None),
        ];
        for (path, want) in cases {
            assert_eq!(stack_in_path(path).as_deref(), want, "{path}");
        }
    }
}
