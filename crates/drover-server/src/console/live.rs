//! A deployment page's live logs: each running command's log streamed to the browser as
//! Server-Sent Events while the agent writes it, with the step it is on
//! ([`drover_core::deploy::log_steps`]); and, for scripts that cannot take a stream, the same log
//! in long-poll pages.
//!
//! A stream's events:
//! - `log`: `{ "data": "...", "next_offset": N }`, with the event id `N`, so a browser that
//!   reconnects (`Last-Event-ID`) carries on where it was;
//! - `progress`: `{ "case": …, "running": "bin/buildout …", "steps": N }` when that changes;
//! - `end`: `{ "status": "successful", "exit_code": 0 }`, the last one;
//! - `refused`: `{ "error": … }` when the API refused (the stream ends).

use std::convert::Infallible;
use std::time::Duration;

use axum::Json;
use axum::extract::{FromRequestParts, Path, Query};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use drover_core::deploy::log_steps::LogProgress;
use drover_proto::api::LogChunk;
use serde::Deserialize;
use serde_json::json;
use tokio::sync::mpsc;

use super::Console;
use super::internal::Api;
use super::pages::{Signed, signed_request};

/// How long one read of the log waits for more output.
const READ_WAIT_SECS: u64 = 20;
/// Events a slow browser may leave unread before the stream waits for it.
const BACKLOG: usize = 16;

/// The query of [`command_log`] and [`command_events`].
#[derive(Deserialize)]
pub struct LogQuery {
    #[serde(default)]
    offset: u64,
    #[serde(default)]
    wait: u64,
}

/// A signed-in script's request (the log follower): like [`Signed`], but one without a session
/// gets a 401 JSON answer, which a script can read, rather than a redirect to the sign-in page.
pub struct SignedScript(Signed);

impl FromRequestParts<Console> for SignedScript {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, console: &Console) -> Result<Self, Response> {
        signed_request(parts, console)
            .map(Self)
            .ok_or_else(|| (StatusCode::UNAUTHORIZED, Json(json!({ "error": "sign in again" }))).into_response())
    }
}

/// `GET /console/commands/{id}/log?offset=N&wait=S`: one page of the log, long-polled.
pub async fn command_log(
    SignedScript(Signed { api, .. }): SignedScript,
    Path(id): Path<i64>,
    Query(query): Query<LogQuery>,
) -> Response {
    let path = format!("/commands/{id}/log?offset={}&wait={}", query.offset, query.wait.min(READ_WAIT_SECS));
    match api.get::<LogChunk>(&path).await {
        Ok(chunk) => Json(chunk).into_response(),
        Err(refusal) => (refusal.status, Json(json!({ "error": refusal.error }))).into_response(),
    }
}

/// `GET /console/commands/{id}/events?offset=N`: the log from `N` (or from the browser's
/// `Last-Event-ID`) as Server-Sent Events, until the command has finished.
pub async fn command_events(
    SignedScript(Signed { api, .. }): SignedScript,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Query(query): Query<LogQuery>,
) -> Response {
    let resumed = headers.get("last-event-id").and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
    let (tx, rx) = mpsc::channel::<Event>(BACKLOG);
    tokio::spawn(stream_log(api, id, resumed.unwrap_or(query.offset), tx));
    let events = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|event| (Ok::<_, Infallible>(event), rx))
    });
    Sse::new(events).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))).into_response()
}

fn event(name: &str, data: &serde_json::Value) -> Event {
    Event::default().event(name).data(data.to_string())
}

/// Reads the log from `offset` and sends it on until the command has finished, or the browser
/// has gone (the channel closed).
async fn stream_log(api: Api, id: i64, mut offset: u64, tx: mpsc::Sender<Event>) {
    let mut progress = LogProgress::default();
    // The steps before `offset` were shown already, but the one running now may be among them.
    let mut read = 0;
    while read < offset {
        let Ok(chunk) = api.get::<LogChunk>(&format!("/commands/{id}/log?offset={read}")).await else { break };
        let upto = usize::try_from(offset.saturating_sub(chunk.offset)).unwrap_or(usize::MAX).min(chunk.data.len());
        progress.feed(chunk.data.get(..upto).unwrap_or(&chunk.data));
        if chunk.next_offset <= read || chunk.data.is_empty() {
            break;
        }
        read = chunk.next_offset;
    }
    let mut shown = None;
    loop {
        let path = format!("/commands/{id}/log?offset={offset}&wait={READ_WAIT_SECS}");
        let chunk = match api.get::<LogChunk>(&path).await {
            Ok(chunk) => chunk,
            Err(refusal) => {
                let _ = tx.send(event("refused", &json!({ "error": refusal.error }))).await;
                return;
            }
        };
        if !chunk.data.is_empty() {
            progress.feed(&chunk.data);
            let log = event("log", &json!({ "data": chunk.data, "next_offset": chunk.next_offset }))
                .id(chunk.next_offset.to_string());
            if tx.send(log).await.is_err() {
                return;
            }
        }
        offset = chunk.next_offset;
        let now = (progress.case.clone(), progress.running().map(|s| s.shown.clone()), progress.steps.len());
        if shown.as_ref() != Some(&now) {
            let (case, running, steps) = &now;
            let update = event("progress", &json!({ "case": case, "running": running, "steps": steps }));
            if tx.send(update).await.is_err() {
                return;
            }
            shown = Some(now);
        }
        if chunk.complete {
            let _ = tx.send(event("end", &json!({ "status": chunk.status, "exit_code": chunk.exit_code }))).await;
            return;
        }
    }
}
