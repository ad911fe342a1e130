//! Deploy webhooks: CI deploys without any API token. `POST /hooks/apps/{id}/deploy` with the
//! body signed by the app's key (GitHub's `X-Hub-Signature-256`), checked in constant time;
//! stale deliveries and replays are refused; the commit in the payload is deployed (core
//! `webhook` decides what the payload asks for).

use axum::Json;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use drover_core::webhook::{Ask, FRESH_SECS, ask, check_fresh, timestamp};
use drover_proto::api::CreateDeployment;
use drover_proto::hooks::{Ignored, Webhook};
use serde::Deserialize;
use serde_json::{Value, json};

use super::auth::{Can, MANAGE};
use super::extract::{Id, Path, Query, parse_json, read_limited};
use super::failure::{ApiResult, Failure};
use super::parse;
use super::resources::load_stack;
use crate::hmac::{hmac_sha256, same_bytes};
use crate::orchestrator::app_deploy;
use crate::secrets;
use crate::state::AppState;
use crate::time::now_ms;

/// The header GitHub (and drover's own senders) sign with.
const SIGNATURE_HEADER: &str = "x-hub-signature-256";

async fn load_app(
    state: &AppState,
    stack: &str,
    app: &str,
) -> ApiResult<(crate::store::StackRow, crate::store::AppRow)> {
    let stack = load_stack(state, stack).await?;
    let row = state.store.app(stack.id, app).await?.ok_or_else(|| {
        Failure::not_found(
            "app",
            format!("app {app:?} does not exist in stack {}; `drover app list` shows them", stack.name),
        )
    })?;
    Ok((stack, row))
}

/// `POST /stacks/{stack}/apps/{app}/webhook`: makes (or replaces) the app's key.
#[utoipa::path(
    post,
    path = "/stacks/{stack}/apps/{app}/webhook",
    operation_id = "enable_webhook",
    tag = "webhooks",
    summary = "Make (or replace) an app's deploy webhook key",
    params(("stack" = String, Path, description = "The stack's name"), ("app" = String, Path, description = "The app's name")),
    responses((status = 201, description = "The webhook; the only time its secret is shown", body = drover_proto::hooks::Webhook), (status = 403, description = "The token's level on the stack is too low", body = drover_proto::ErrorBody))
)]
pub async fn enable(
    _: Can<MANAGE>,
    State(state): State<AppState>,
    Path((stack, app)): Path<(String, String)>,
) -> ApiResult<(StatusCode, Json<Webhook>)> {
    let (_, row) = load_app(&state, &stack, &app).await?;
    let secret = secrets::generate();
    state.store.set_webhook(row.id, &secret).await?;
    let url = format!("{}{}/hooks/apps/{}/deploy", state.auth.server_url, drover_proto::API_PREFIX, row.id);
    Ok((StatusCode::CREATED, Json(Webhook { url, secret })))
}

/// `DELETE /stacks/{stack}/apps/{app}/webhook`.
#[utoipa::path(
    delete,
    path = "/stacks/{stack}/apps/{app}/webhook",
    operation_id = "disable_webhook",
    tag = "webhooks",
    summary = "Remove an app's deploy webhook",
    params(("stack" = String, Path, description = "The stack's name"), ("app" = String, Path, description = "The app's name")),
    responses((status = 204, description = "Removed"), (status = 403, description = "The token's level on the stack is too low", body = drover_proto::ErrorBody))
)]
pub async fn disable(
    _: Can<MANAGE>,
    State(state): State<AppState>,
    Path((stack, app)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let (_, row) = load_app(&state, &stack, &app).await?;
    if !state.store.delete_webhook(row.id).await? {
        return Err(Failure::not_found("app", format!("app {app} has no webhook")));
    }
    Ok(StatusCode::NO_CONTENT)
}

/// Options in the query string.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HookQuery {
    rolling: Option<Value>,
    comment: Option<String>,
}

fn rolling(raw: Option<&Value>) -> ApiResult<bool> {
    match raw {
        None => Ok(false),
        Some(v) if v == &json!(1) || v == "1" || v == "true" || v == "" => Ok(true),
        Some(v) if v == &json!(0) || v == "0" || v == "false" => Ok(false),
        Some(v) => Err(Failure::invalid("rolling", format!("{v} is not a yes or no; use rolling=1 or rolling=0"))),
    }
}

/// The signature a delivery carries, as bytes.
fn signature(headers: &HeaderMap) -> ApiResult<Vec<u8>> {
    let unsigned = || {
        Failure::unauthorized(
            "the delivery is not signed: send `X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the body>` made with \
             the app's webhook secret",
        )
    };
    let raw = headers.get(SIGNATURE_HEADER).ok_or_else(unsigned)?.to_str().map_err(|_| unsigned())?;
    let hex_digits = raw.trim().strip_prefix("sha256=").ok_or_else(unsigned)?;
    hex::decode(hex_digits).ok().filter(|b| b.len() == 32).ok_or_else(unsigned)
}

/// `POST /hooks/apps/{id}/deploy`.
#[utoipa::path(
    post,
    path = "/hooks/apps/{id}/deploy",
    operation_id = "webhook_deploy",
    tag = "webhooks",
    summary = "Deploy an app on a signed push (GitHub, Gitea or any sender)",
    description = "No bearer token: the body is signed with the app's webhook secret \
        (`X-Hub-Signature-256: sha256=<hex of HMAC-SHA256>`), carries a timestamp within 5 \
        minutes, and is accepted once. The commit is `revision`, or GitHub's `after` on a push to \
        the app's branch.",
    security(()),
    params(
        ("id" = i64, Path, description = "The app's id (in the webhook's URL)"),
        ("X-Hub-Signature-256" = String, Header, description = "`sha256=` and the hex HMAC-SHA256 of the body"),
        ("rolling" = Option<String>, Query, description = "`1` or `true`: one instance at a time"),
        ("comment" = Option<String>, Query, description = "A note for the history"),
    ),
    request_body(content = serde_json::Value, description = "The sender's payload (JSON)"),
    responses(
        (status = 201, description = "The deploy started", body = drover_proto::api::Deployment),
        (status = 202, description = "A good delivery that deploys nothing (another branch)", body = drover_proto::hooks::Ignored),
        (status = 401, description = "No signature, or one that does not match the body", body = drover_proto::ErrorBody),
        (status = 404, description = "The app has no webhook", body = drover_proto::ErrorBody),
        (status = 409, description = "This delivery was received already, or another deploy holds the app's lock", body = drover_proto::ErrorBody),
    )
)]
pub async fn deploy(
    State(state): State<AppState>,
    Id(app_id): Id,
    Query(q): Query<HookQuery>,
    headers: HeaderMap,
    req: Request,
) -> ApiResult<Response> {
    let body = read_limited(req.into_body(), state.config.body_limit).await?;
    let (key, stack_name, app_name) = state.store.webhook(app_id).await?.ok_or_else(|| {
        Failure::not_found("id", format!("app {app_id} has no webhook; enable one with `drover app webhook enable`"))
    })?;
    let sent = signature(&headers)?;
    if !same_bytes(&sent, &hmac_sha256(key.as_bytes(), &body)) {
        return Err(Failure::unauthorized(
            "the signature does not match the body: sign it with the app's webhook secret (HMAC-SHA256, hex)",
        ));
    }
    let payload: Value = parse_json(&body)?;
    let at = timestamp(&payload).map_err(|e| Failure::invalid(e.field, e.message))?;
    check_fresh(at, now_ms() / 1000).map_err(|e| Failure::invalid(e.field, e.message))?;
    if !state.store.first_delivery(app_id, &hex::encode(&sent), 2 * FRESH_SECS * 1000).await? {
        return Err(Failure::conflict(
            Some("body"),
            "this delivery was received already (same signed body); a replay deploys nothing",
        ));
    }
    let rolling = rolling(q.rolling.as_ref())?;
    let (stack, app) = load_app(&state, &stack_name, &app_name).await?;
    let branch = app
        .revision
        .clone()
        .filter(|r| !(r.len() == 40 && r.bytes().all(|b| b.is_ascii_hexdigit())))
        .or_else(|| payload.pointer("/repository/default_branch").and_then(Value::as_str).map(str::to_owned));
    let sha = match ask(&payload, branch.as_deref()).map_err(|e| Failure::invalid(e.field, e.message))? {
        Ask::Ignore(why) => return Ok((StatusCode::ACCEPTED, Json(Ignored { ignored: why })).into_response()),
        Ask::Deploy { sha } => sha,
    };
    let comment = q.comment.unwrap_or_else(|| format!("webhook: {}", &sha[..12]));
    let create = CreateDeployment {
        kind: "deploy".into(),
        app: Some(app.name.clone()),
        custom_json: Some(json!({"deploy": {app.name.clone(): {"scm": {"revision": sha}}}})),
        batch_size: rolling.then_some(1),
        comment: Some(comment),
        ..CreateDeployment::default()
    };
    let id = app_deploy::create(&state, &stack, parse::app_deployment(create)?).await?;
    let deployment = super::deployments::load(&state, id).await?;
    Ok((StatusCode::CREATED, Json(deployment)).into_response())
}
