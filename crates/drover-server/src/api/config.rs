//! Stack configuration: the effective configuration of an instance, versioned Custom JSON of the
//! stack and its layers (set, history, revert), layer hooks, and Configure runs.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use drover_core::InstanceStatus;
use drover_core::attributes::{Warning, no_effect, redact, unredact};
use drover_proto::api::{
    CheckCustomJson, ConfigChange, ConfigVersion, ConfigWarning, CustomJsonCheck, Deployment, EffectiveConfig,
    FrontendView, Layer, RevertConfig, SetCustomJson, UpdateLayer,
};
use serde::Deserialize;
use serde_json::Value;

use super::auth::{Can, DEPLOY, MANAGE, SHOW};
use super::extract::{Body, Path, Query};
use super::failure::{ApiResult, Failure};
use super::resources::{load_layer, load_stack};
use super::{parse, views};
use crate::orchestrator::{StackModel, configure_stack};
use crate::state::AppState;
use crate::store::{InstanceRow, STACK_SCOPE, StackRow, layer_scope};
use crate::time::rfc3339;

fn warnings(list: Vec<Warning>) -> Vec<ConfigWarning> {
    list.into_iter().map(|w| ConfigWarning { path: w.path, message: w.message }).collect()
}

/// Accepted keys without effect that the stack's and the layers' own documents set (the
/// instance's layers, or every layer for the stack level); the defaults and the apps' own
/// settings fill some of those paths in the merged document, so it cannot tell.
fn no_effect_warnings(model: &StackModel, instance: Option<&InstanceRow>) -> Vec<Warning> {
    let layers = match instance {
        Some(i) => model.layers_of(i),
        None => model.layers.iter().collect(),
    };
    let mut out = no_effect(&stored(&model.stack.custom_json));
    for layer in layers {
        for w in no_effect(&stored(&layer.custom_json)) {
            if !out.iter().any(|o| o.path == w.path) {
                out.push(w);
            }
        }
    }
    out
}

fn stored(raw: &str) -> Value {
    serde_json::from_str(raw).unwrap_or_else(|_| Value::Object(Default::default()))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigQuery {
    /// The instance whose configuration to show.
    instance: Option<String>,
}

#[utoipa::path(
    get,
    path = "/stacks/{stack}/config",
    operation_id = "effective_config",
    tag = "config",
    summary = "The configuration in force, for the stack or one instance",
    params(("stack" = String, Path, description = "The stack's name"), ("instance" = Option<String>, Query, description = "The instance whose configuration to show (default: the stack level)")),
    responses((status = 200, description = "The merged configuration, secrets redacted", body = drover_proto::api::EffectiveConfig))
)]
pub async fn effective(
    _: Can<SHOW>,
    State(state): State<AppState>,
    Path(stack): Path<String>,
    Query(q): Query<ConfigQuery>,
) -> ApiResult<Json<EffectiveConfig>> {
    let stack = load_stack(&state, &stack).await?;
    let model = StackModel::load(&state, &stack.name).await?.ok_or_else(|| Failure::internal("the stack vanished"))?;
    let none = Value::Object(Default::default());
    let (mut config, found) = match &q.instance {
        Some(host) => {
            let instance = model.instance(host).ok_or_else(|| {
                Failure::not_found(
                    "instance",
                    format!(
                        "instance {host:?} does not exist in stack {}; `drover instance list` shows them",
                        stack.name
                    ),
                )
            })?;
            let mut found = model.warnings(Some(instance));
            found.extend(no_effect_warnings(&model, Some(instance)));
            (model.stack_config(instance, &none), found)
        }
        None => {
            let mut found = model.warnings(None);
            found.extend(no_effect_warnings(&model, None));
            (model.effective(None, &none), found)
        }
    };
    redact(&mut config);
    Ok(Json(EffectiveConfig { instance: q.instance, config, warnings: warnings(found) }))
}

/// A new document for a scope, checked as a change is: its secrets that stand `<redacted>`
/// filled in from `current`, with its warnings.
fn checked(current: &str, custom_json: Value) -> ApiResult<(Value, Vec<Warning>)> {
    let (mut doc, mut found) = parse::custom_json("custom_json", Some(custom_json))?;
    unredact(&mut doc, &stored(current)).map_err(|path| {
        Failure::invalid(
            format!("custom_json.{path}"),
            "the value is <redacted> but no value is stored there to keep; give the real value",
        )
    })?;
    // After the secrets are back: a redacted certificate is checked with its new key.
    parse::frontend_tls("custom_json", &doc)?;
    found.extend(no_effect(&doc));
    Ok((doc, found))
}

/// A unified diff of two documents, pretty-printed, secrets redacted.
fn redacted_diff(old: &Value, new: &Value, scope: &str) -> String {
    let pretty = |doc: &Value| {
        let mut doc = doc.clone();
        redact(&mut doc);
        format!("{}\n", serde_json::to_string_pretty(&doc).unwrap_or_default())
    };
    let (a, b) = (pretty(old), pretty(new));
    let diff = similar::TextDiff::from_lines(&a, &b);
    diff.unified_diff().context_radius(3).header(&format!("{scope} in force"), &format!("{scope} checked")).to_string()
}

#[utoipa::path(
    post,
    path = "/stacks/{stack}/custom_json/check",
    operation_id = "check_custom_json",
    tag = "config",
    summary = "Check a Custom JSON document for the stack or a layer without saving it; answers the diff",
    params(("stack" = String, Path, description = "The stack's name")),
    request_body = drover_proto::api::CheckCustomJson,
    responses((status = 200, description = "The document is valid", body = drover_proto::api::CustomJsonCheck), (status = 403, description = "The token's level on the stack is too low", body = drover_proto::ErrorBody), (status = 422, description = "The document is refused, at its JSON path", body = drover_proto::ErrorBody))
)]
pub async fn check_json(
    _: Can<MANAGE>,
    State(state): State<AppState>,
    Path(stack): Path<String>,
    Body(req): Body<CheckCustomJson>,
) -> ApiResult<Json<CustomJsonCheck>> {
    let stack = load_stack(&state, &stack).await?;
    let (scope, current) = match &req.layer {
        Some(name) => {
            let layer = load_layer(&state, &stack, name).await?;
            (layer_scope(&layer.shortname), layer.custom_json)
        }
        None => (STACK_SCOPE.to_owned(), stack.custom_json.clone()),
    };
    let (doc, found) = checked(&current, req.custom_json)?;
    let before = stored(&current);
    Ok(Json(CustomJsonCheck {
        diff: redacted_diff(&before, &doc, &scope),
        changed: doc != before,
        warnings: warnings(found),
        scope,
    }))
}

/// Validates and stores a new Custom JSON document for a scope; optionally runs Configure.
async fn set(
    state: &AppState,
    stack: &StackRow,
    layer: Option<(i64, &str)>,
    current: &str,
    req: SetCustomJson,
) -> ApiResult<ConfigChange> {
    let (doc, found) = checked(current, req.custom_json)?;
    if req.comment.as_ref().is_some_and(|c| c.len() > 4096) {
        return Err(Failure::invalid("comment", "keep the comment under 4096 bytes"));
    }
    let changed = doc != stored(current);
    let text = doc.to_string();
    let scope = layer.map_or_else(|| STACK_SCOPE.to_owned(), |(_, name)| layer_scope(name));
    let version = if changed {
        state.store.set_custom_json(stack.id, layer, &text, req.comment.as_deref()).await?
    } else {
        state.store.config_history(stack.id, &scope).await?.first().map_or(0, |v| v.version)
    };
    let configure_deployment = if req.configure {
        let comment = format!("Configure after {scope} Custom JSON version {version}");
        configure_stack(state, &stack.name, Some(&comment), false).await?
    } else {
        None
    };
    Ok(ConfigChange { scope, version, changed, warnings: warnings(found), configure_deployment })
}

#[utoipa::path(
    put,
    path = "/stacks/{stack}/custom_json",
    operation_id = "set_stack_json",
    tag = "config",
    summary = "Replace the stack's Custom JSON",
    params(("stack" = String, Path, description = "The stack's name")),
    request_body = drover_proto::api::SetCustomJson,
    responses((status = 200, description = "The version now in force", body = drover_proto::api::ConfigChange), (status = 403, description = "The token's level on the stack is too low", body = drover_proto::ErrorBody), (status = 409, description = "Configure could not start", body = drover_proto::ErrorBody))
)]
pub async fn set_stack_json(
    _: Can<MANAGE>,
    State(state): State<AppState>,
    Path(stack): Path<String>,
    Body(req): Body<SetCustomJson>,
) -> ApiResult<Json<ConfigChange>> {
    let stack = load_stack(&state, &stack).await?;
    let current = stack.custom_json.clone();
    Ok(Json(set(&state, &stack, None, &current, req).await?))
}

#[utoipa::path(
    put,
    path = "/stacks/{stack}/layers/{layer}/custom_json",
    operation_id = "set_layer_json",
    tag = "config",
    summary = "Replace a layer's Custom JSON",
    params(("stack" = String, Path, description = "The stack's name"), ("layer" = String, Path, description = "The layer's shortname")),
    request_body = drover_proto::api::SetCustomJson,
    responses((status = 200, description = "The version now in force", body = drover_proto::api::ConfigChange), (status = 403, description = "The token's level on the stack is too low", body = drover_proto::ErrorBody), (status = 409, description = "Configure could not start", body = drover_proto::ErrorBody))
)]
pub async fn set_layer_json(
    _: Can<MANAGE>,
    State(state): State<AppState>,
    Path((stack, layer)): Path<(String, String)>,
    Body(req): Body<SetCustomJson>,
) -> ApiResult<Json<ConfigChange>> {
    let stack = load_stack(&state, &stack).await?;
    let layer = load_layer(&state, &stack, &layer).await?;
    Ok(Json(set(&state, &stack, Some((layer.id, &layer.shortname)), &layer.custom_json, req).await?))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HistoryQuery {
    /// The layer whose history to show; none: the stack's.
    layer: Option<String>,
}

#[utoipa::path(
    get,
    path = "/stacks/{stack}/config/history",
    operation_id = "config_history",
    tag = "config",
    summary = "The versions of the stack's or a layer's Custom JSON",
    params(("stack" = String, Path, description = "The stack's name"), ("layer" = Option<String>, Query, description = "The layer whose history to show (default: the stack's)")),
    responses((status = 200, description = "The versions, secrets redacted", body = Vec<drover_proto::api::ConfigVersion>))
)]
pub async fn history(
    _: Can<SHOW>,
    State(state): State<AppState>,
    Path(stack): Path<String>,
    Query(q): Query<HistoryQuery>,
) -> ApiResult<Json<Vec<ConfigVersion>>> {
    let stack = load_stack(&state, &stack).await?;
    let scope = match &q.layer {
        Some(name) => layer_scope(&load_layer(&state, &stack, name).await?.shortname),
        None => STACK_SCOPE.to_owned(),
    };
    let rows = state.store.config_history(stack.id, &scope).await?;
    Ok(Json(
        rows.into_iter()
            .map(|r| ConfigVersion {
                scope: r.scope,
                version: r.version,
                custom_json: views::shown_json(&r.custom_json),
                comment: r.comment,
                created_at: rfc3339(r.created_at),
            })
            .collect(),
    ))
}

#[utoipa::path(
    post,
    path = "/stacks/{stack}/config/revert",
    operation_id = "revert_config",
    tag = "config",
    summary = "Bring back an earlier version of a Custom JSON document",
    params(("stack" = String, Path, description = "The stack's name")),
    request_body = drover_proto::api::RevertConfig,
    responses((status = 200, description = "The version now in force", body = drover_proto::api::ConfigChange), (status = 403, description = "The token's level on the stack is too low", body = drover_proto::ErrorBody), (status = 409, description = "Configure could not start", body = drover_proto::ErrorBody))
)]
pub async fn revert(
    _: Can<MANAGE>,
    State(state): State<AppState>,
    Path(stack): Path<String>,
    Body(req): Body<RevertConfig>,
) -> ApiResult<Json<ConfigChange>> {
    let stack = load_stack(&state, &stack).await?;
    let layer = match &req.layer {
        Some(name) => Some(load_layer(&state, &stack, name).await?),
        None => None,
    };
    let scope = layer.as_ref().map_or_else(|| STACK_SCOPE.to_owned(), |l| layer_scope(&l.shortname));
    let old = state.store.config_version(stack.id, &scope, req.version).await?.ok_or_else(|| {
        Failure::not_found(
            "version",
            format!(
                "{scope} has no Custom JSON version {}; `drover stack config history --stack {}` lists them",
                req.version, stack.name
            ),
        )
    })?;
    let comment = req.comment.clone().unwrap_or_else(|| format!("revert to version {}", req.version));
    let set_req =
        SetCustomJson { custom_json: stored(&old.custom_json), comment: Some(comment), configure: req.configure };
    let change = match &layer {
        Some(l) => set(&state, &stack, Some((l.id, &l.shortname)), &l.custom_json, set_req).await?,
        None => set(&state, &stack, None, &stack.custom_json, set_req).await?,
    };
    Ok(Json(change))
}

#[utoipa::path(
    patch,
    path = "/stacks/{stack}/layers/{layer}",
    operation_id = "update_layer",
    tag = "layers",
    summary = "Change a layer's hooks or auto-healing",
    params(("stack" = String, Path, description = "The stack's name"), ("layer" = String, Path, description = "The layer's shortname")),
    request_body = drover_proto::api::UpdateLayer,
    responses((status = 200, description = "The changed layer", body = drover_proto::api::Layer), (status = 403, description = "The token's level on the stack is too low", body = drover_proto::ErrorBody))
)]
pub async fn update_layer(
    _: Can<MANAGE>,
    State(state): State<AppState>,
    Path((stack, layer)): Path<(String, String)>,
    Body(req): Body<UpdateLayer>,
) -> ApiResult<Json<Layer>> {
    let stack = load_stack(&state, &stack).await?;
    let layer = load_layer(&state, &stack, &layer).await?;
    let hooks = match &req.hooks {
        Some(h) => parse::hooks(h)?,
        None => layer.hooks.clone(),
    };
    let auto_healing = req.auto_healing.unwrap_or(layer.auto_healing);
    state.store.update_layer(layer.id, &hooks, auto_healing).await?;
    let layer = load_layer(&state, &stack, &layer.shortname).await?;
    Ok(Json(views::layer(&stack.name, &layer)))
}

#[utoipa::path(
    post,
    path = "/stacks/{stack}/configure",
    operation_id = "configure_stack",
    tag = "config",
    summary = "Run Configure on every online instance",
    params(("stack" = String, Path, description = "The stack's name")),
    responses((status = 201, description = "The Configure deployment", body = drover_proto::api::Deployment), (status = 403, description = "The token's level on the stack is too low", body = drover_proto::ErrorBody), (status = 409, description = "The stack has no online instance", body = drover_proto::ErrorBody))
)]
pub async fn configure(
    _: Can<DEPLOY>,
    State(state): State<AppState>,
    Path(stack): Path<String>,
) -> ApiResult<(StatusCode, Json<Deployment>)> {
    let stack = load_stack(&state, &stack).await?;
    let id = configure_stack(&state, &stack.name, Some("Configure requested"), false).await?.ok_or_else(|| {
        Failure::conflict(Some("stack"), format!("stack {} has no online instance to configure", stack.name))
    })?;
    let row = state.store.deployment(id).await?.ok_or_else(|| Failure::internal("the deployment vanished"))?;
    let commands = state.store.deployment_commands(id).await?;
    Ok((StatusCode::CREATED, Json(views::deployment(&row, &commands))))
}

#[utoipa::path(
    get,
    path = "/stacks/{stack}/frontends",
    operation_id = "list_frontends",
    tag = "config",
    summary = "Where the stack's site and HAProxy stats page answer",
    params(("stack" = String, Path, description = "The stack's name")),
    responses((status = 200, description = "The frontends", body = Vec<drover_proto::api::FrontendView>))
)]
pub async fn frontends(
    _: Can<SHOW>,
    State(state): State<AppState>,
    Path(stack): Path<String>,
) -> ApiResult<Json<Vec<FrontendView>>> {
    let stack = load_stack(&state, &stack).await?;
    let model = StackModel::load(&state, &stack.name).await?.ok_or_else(|| Failure::internal("the stack vanished"))?;
    let views = model
        .instances
        .iter()
        .filter(|i| i.status() == InstanceStatus::Online)
        .filter_map(|i| Some((i, model.frontend_plan(i)?)))
        .map(|(i, p)| {
            let host = if p.http_port == 80 { p.address.clone() } else { format!("{}:{}", p.address, p.http_port) };
            // With HTTPS the site and the stats page are on https (port 80 may only redirect).
            let base = match &p.nginx.ssl {
                Some(ssl) if ssl.https_port == drover_core::frontend::tls::HTTPS_PORT => {
                    format!("https://{}", p.address)
                }
                Some(ssl) => format!("https://{}:{}", p.address, ssl.https_port),
                None => format!("http://{host}"),
            };
            let certificate = crate::frontend_tls::certificate_of(
                &p.hostname,
                &model.effective(Some(i), &Value::Object(Default::default())),
                crate::time::now_ms() / 1000,
            );
            FrontendView {
                hostname: p.hostname.clone(),
                url: format!("{base}/"),
                certificate,
                stats_url: p.haproxy.enable_stats.then(|| format!("{base}{}", p.haproxy.stats_url)),
                stats_user: p.haproxy.stats_user.clone(),
                stats_password: p.haproxy.stats_password.clone(),
                servers: p.servers.iter().map(|s| format!("{} {}", s.name, s.address)).collect(),
            }
        })
        .collect();
    Ok(Json(views))
}
