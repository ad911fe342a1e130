//! An app's releases on each instance, with a rollback to any good one; the app's restart,
//! start and stop; and the stack's events with their reasons.

use std::collections::BTreeMap;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use drover_core::Shortname;
use drover_proto::api::{Deployment, ReleaseView};
use drover_proto::events::Event;
use serde_json::json;

use super::Console;
use super::internal::Refused;
use super::pages::{Peer, Signed, app_names, field, level_on, not_found, posted, refused, see_other};
use super::render::page;

/// `GET /stacks/{stack}/apps/{app}/releases`.
pub async fn releases(
    State(console): State<Console>,
    Signed { session, api }: Signed,
    Path((stack, app)): Path<(String, String)>,
) -> Response {
    if !app_names(&stack, &app) {
        return not_found(&console, &session, "such app");
    }
    let read = async {
        let releases: Vec<ReleaseView> = api.get(&format!("/stacks/{stack}/apps/{app}/releases")).await?;
        Ok::<_, Refused>((releases, level_on(&api, &stack).await?))
    };
    let (releases, level) = match read.await {
        Ok(read) => read,
        Err(refusal) => return refused(&console, Some(&session), refusal, &format!("/stacks/{stack}")),
    };
    let mut by_instance: BTreeMap<String, Vec<ReleaseView>> = BTreeMap::new();
    for release in releases {
        by_instance.entry(release.instance.clone()).or_default().push(release);
    }
    let context = json!({
        "title": format!("Releases of {app}"), "who": session.name, "csrf": session.csrf, "stack": stack,
        "app": app, "by_instance": by_instance, "can_deploy": matches!(level.as_str(), "deploy" | "manage"),
    });
    page(&console.templates, StatusCode::OK, "releases.html", context)
}

/// `POST /stacks/{stack}/apps/{app}/actions`: `action=rollback` (to `to` on `instance`), or
/// `restart` (one at a time), `start`, `stop` on every instance of the app.
pub async fn act(
    State(console): State<Console>,
    headers: HeaderMap,
    peer: Peer,
    Path((stack, app)): Path<(String, String)>,
    body: String,
) -> Response {
    let (Signed { session, api }, form) = match posted(&console, &headers, peer, &body) {
        Ok(posted) => posted,
        Err(answer) => return *answer,
    };
    if !app_names(&stack, &app) {
        return not_found(&console, &session, "such app");
    }
    let instances: Vec<&str> = field(&form, "instance").into_iter().collect();
    let request = match field(&form, "action") {
        Some("rollback") => json!({ "kind": "rollback", "app": app, "rollback_to": field(&form, "to"),
                                    "instances": instances, "comment": "rollback from the console" }),
        Some("restart") => json!({ "kind": "restart", "app": app, "batch_size": 1 }),
        Some(kind @ ("start" | "stop")) => json!({ "kind": kind, "app": app }),
        _ => return see_other(&format!("/stacks/{stack}/apps/{app}/releases")),
    };
    match api.post::<Deployment>(&format!("/stacks/{stack}/deployments"), &request).await {
        Ok(deployment) => see_other(&format!("/deployments/{}", deployment.id)),
        Err(refusal) => refused(&console, Some(&session), refusal, &format!("/stacks/{stack}/apps/{app}/releases")),
    }
}

/// `GET /stacks/{stack}/events`: the newest 200, oldest first.
pub async fn events(
    State(console): State<Console>,
    Signed { session, api }: Signed,
    Path(stack): Path<String>,
) -> Response {
    if Shortname::parse(&stack).is_err() {
        return not_found(&console, &session, "such stack");
    }
    let events: Vec<Event> = match api.get(&format!("/stacks/{stack}/events?limit=200")).await {
        Ok(events) => events,
        Err(refusal) => return refused(&console, Some(&session), refusal, &format!("/stacks/{stack}")),
    };
    let context = json!({ "title": format!("Events of {stack}"), "who": session.name, "csrf": session.csrf, "stack": stack, "events": events });
    page(&console.templates, StatusCode::OK, "events.html", context)
}
