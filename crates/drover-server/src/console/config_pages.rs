//! The Custom JSON editor of a stack and its layers: the document in force (secrets redacted),
//! a check as you type and a review of the diff before saving (both through the API's own
//! check), the history, and a revert to any version.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use drover_core::Shortname;
use drover_proto::api::{ConfigChange, ConfigVersion, CustomJsonCheck, EffectiveConfig, Layer};
use serde::Deserialize;
use serde_json::{Value, json};

use super::Console;
use super::internal::{Api, Refused};
use super::pages::{Peer, Signed, field, level_on, not_found, posted, refused, see_other, signed};
use super::render::page;
use super::session::{Session, same_secret};

/// The query of the editor page.
#[derive(Deserialize)]
pub struct EditorQuery {
    layer: Option<String>,
    saved: Option<i64>,
}

/// What the editor page shows besides the defaults.
#[derive(Default)]
struct Shown {
    document: Option<String>,
    error: Option<(Option<String>, String)>,
    review: Option<CustomJsonCheck>,
    comment: Option<String>,
    saved: Option<i64>,
    status: Option<StatusCode>,
}

fn history_path(stack: &str, layer: Option<&str>) -> String {
    match layer {
        Some(l) => format!("/stacks/{stack}/config/history?layer={l}"),
        None => format!("/stacks/{stack}/config/history"),
    }
}

fn editor_path(stack: &str, layer: Option<&str>) -> String {
    match layer {
        Some(l) => format!("/stacks/{stack}/custom-json?layer={l}"),
        None => format!("/stacks/{stack}/custom-json"),
    }
}

async fn editor(
    console: &Console,
    session: &Session,
    api: &Api,
    stack: &str,
    layer: Option<&str>,
    shown: Shown,
) -> Response {
    let read = async {
        let history: Vec<ConfigVersion> = api.get(&history_path(stack, layer)).await?;
        let layers: Vec<Layer> = api.get(&format!("/stacks/{stack}/layers")).await?;
        let level = level_on(api, stack).await?;
        Ok::<_, Refused>((history, layers, level))
    };
    let (history, layers, level) = match read.await {
        Ok(read) => read,
        Err(refusal) => return refused(console, Some(session), refusal, &format!("/stacks/{stack}")),
    };
    let in_force = history.first().map_or_else(|| json!({}), |v| v.custom_json.clone());
    let document = shown.document.unwrap_or_else(|| serde_json::to_string_pretty(&in_force).unwrap_or_default());
    let (error_field, error) = shown.error.map_or((None, None), |(f, m)| (f, Some(m)));
    let context = json!({
        "title": "Custom JSON", "who": session.name, "csrf": session.csrf, "stack": stack, "layer": layer,
        "scope_label": layer.map_or_else(|| format!("stack {stack}"), |l| format!("layer {l} of {stack}")),
        "layers": layers.iter().map(|l| &l.shortname).collect::<Vec<_>>(),
        "can_manage": level == "manage", "document": document, "history": history,
        "error": error, "error_field": error_field, "saved": shown.saved, "comment": shown.comment,
        "diff": shown.review.as_ref().map(|r| &r.diff), "changed": shown.review.as_ref().is_some_and(|r| r.changed),
        "warnings": shown.review.as_ref().map(|r| &r.warnings),
    });
    page(&console.templates, shown.status.unwrap_or(StatusCode::OK), "custom_json.html", context)
}

fn valid_names(stack: &str, layer: Option<&str>) -> bool {
    Shortname::parse(stack).is_ok() && layer.is_none_or(|l| Shortname::parse(l).is_ok())
}

/// `GET /stacks/{stack}/custom-json[?layer=L]`.
pub async fn show(
    State(console): State<Console>,
    Signed { session, api }: Signed,
    Path(stack): Path<String>,
    Query(query): Query<EditorQuery>,
) -> Response {
    let layer = query.layer.as_deref().filter(|l| !l.is_empty());
    if !valid_names(&stack, layer) {
        return not_found(&console, &session, "such stack or layer");
    }
    let shown = Shown { saved: query.saved, ..Shown::default() };
    editor(&console, &session, &api, &stack, layer, shown).await
}

/// The document a form posted, parsed, or the page that says where its syntax breaks.
fn parsed(text: &str) -> Result<Value, (Option<String>, String)> {
    serde_json::from_str(text).map_err(|e| {
        (Some("custom_json".to_owned()), format!("not valid JSON: {e} (line {}, column {}).", e.line(), e.column()))
    })
}

/// `POST /stacks/{stack}/custom-json`: `step=review` checks and shows the diff, `step=save`
/// saves, `step=revert` brings back `version`.
pub async fn change(
    State(console): State<Console>,
    headers: HeaderMap,
    peer: Peer,
    Path(stack): Path<String>,
    body: String,
) -> Response {
    let (Signed { session, api }, form) = match posted(&console, &headers, peer, &body) {
        Ok(posted) => posted,
        Err(answer) => return *answer,
    };
    let layer = field(&form, "layer");
    if !valid_names(&stack, layer) {
        return not_found(&console, &session, "such stack or layer");
    }
    let text = form.iter().find(|(k, _)| k == "document").map(|(_, v)| v.clone()).unwrap_or_default();
    let comment = field(&form, "comment").map(str::to_owned);
    let refusal_shown = |refusal: Refused, text: String| Shown {
        document: Some(text),
        error: Some((refusal.error.field, refusal.error.message)),
        status: Some(refusal.status),
        comment: comment.clone(),
        ..Shown::default()
    };
    match field(&form, "step") {
        Some("review") => {
            let shown = match parsed(&text) {
                Err(error) => Shown {
                    document: Some(text),
                    error: Some(error),
                    status: Some(StatusCode::UNPROCESSABLE_ENTITY),
                    ..Shown::default()
                },
                Ok(doc) => {
                    let request = json!({ "custom_json": doc, "layer": layer });
                    match api.post::<CustomJsonCheck>(&format!("/stacks/{stack}/custom_json/check"), &request).await {
                        Ok(review) => Shown { document: Some(text), review: Some(review), ..Shown::default() },
                        Err(refusal) => refusal_shown(refusal, text),
                    }
                }
            };
            editor(&console, &session, &api, &stack, layer, shown).await
        }
        Some("save") => {
            let doc = match parsed(&text) {
                Ok(doc) => doc,
                Err(error) => {
                    let shown = Shown { document: Some(text), error: Some(error), ..Shown::default() };
                    return editor(&console, &session, &api, &stack, layer, shown).await;
                }
            };
            let path = match layer {
                Some(l) => format!("/stacks/{stack}/layers/{l}/custom_json"),
                None => format!("/stacks/{stack}/custom_json"),
            };
            let request = json!({ "custom_json": doc, "comment": comment });
            match api.put::<ConfigChange>(&path, &request).await {
                Ok(change) => {
                    see_other(&format!("{}{}saved={}", editor_path(&stack, layer), sep(layer), change.version))
                }
                Err(refusal) => {
                    let shown = refusal_shown(refusal, text);
                    editor(&console, &session, &api, &stack, layer, shown).await
                }
            }
        }
        Some("revert") => {
            let version = field(&form, "version").and_then(|v| v.parse::<i64>().ok()).unwrap_or(0);
            let request = json!({ "layer": layer, "version": version });
            match api.post::<ConfigChange>(&format!("/stacks/{stack}/config/revert"), &request).await {
                Ok(change) => {
                    see_other(&format!("{}{}saved={}", editor_path(&stack, layer), sep(layer), change.version))
                }
                Err(refusal) => refused(&console, Some(&session), refusal, &editor_path(&stack, layer)),
            }
        }
        _ => see_other(&editor_path(&stack, layer)),
    }
}

fn sep(layer: Option<&str>) -> &'static str {
    if layer.is_some() { "&" } else { "?" }
}

/// `POST /console/stacks/{stack}/custom-json/check`: the editor's check as you type. The
/// session's CSRF secret comes in the `X-Drover-Csrf` header.
pub async fn check(
    State(console): State<Console>,
    headers: HeaderMap,
    peer: Peer,
    Path(stack): Path<String>,
    Json(request): Json<Value>,
) -> Response {
    let Some(Signed { session, api }) = signed(&console, &headers, peer) else {
        return (StatusCode::UNAUTHORIZED, Json(json!({ "error": { "message": "sign in again" } }))).into_response();
    };
    let posted = headers.get("x-drover-csrf").and_then(|v| v.to_str().ok()).unwrap_or_default();
    if !same_secret(&session.csrf, posted) || Shortname::parse(&stack).is_err() {
        let error = json!({ "error": { "message": "reload the page: this check did not carry the session's secret" } });
        return (StatusCode::FORBIDDEN, Json(error)).into_response();
    }
    match api.post::<CustomJsonCheck>(&format!("/stacks/{stack}/custom_json/check"), &request).await {
        Ok(review) => Json(review).into_response(),
        Err(refusal) => (refusal.status, Json(json!({ "error": refusal.error }))).into_response(),
    }
}

/// `GET /stacks/{stack}/instances/{host}/config`: the configuration in force on one instance
/// (defaults, apps, the stack's and its layers' Custom JSON, merged), secrets redacted.
pub async fn instance_config(
    State(console): State<Console>,
    Signed { session, api }: Signed,
    Path((stack, host)): Path<(String, String)>,
) -> Response {
    if Shortname::parse(&stack).is_err() || Shortname::parse(&host).is_err() {
        return not_found(&console, &session, "such instance");
    }
    let effective: EffectiveConfig = match api.get(&format!("/stacks/{stack}/config?instance={host}")).await {
        Ok(effective) => effective,
        Err(refusal) => return refused(&console, Some(&session), refusal, &format!("/stacks/{stack}")),
    };
    let context = json!({
        "title": format!("Configuration of {host}"), "who": session.name, "csrf": session.csrf, "stack": stack,
        "host": host, "document": serde_json::to_string_pretty(&effective.config).unwrap_or_default(),
        "warnings": effective.warnings,
    });
    page(&console.templates, StatusCode::OK, "instance_config.html", context)
}
