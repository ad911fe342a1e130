//! Apps: create, list, show, update, delete. Secret values go in and never come out.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use drover_core::{DeploymentKind, Shortname};
use drover_proto::api::{App, AppDeleted, AppPin, CreateApp, REDACTED, ReleaseView, UpdateApp};

use super::auth::{Can, MANAGE, SHOW};
use super::extract::{Body, Path};
use super::failure::{ApiResult, Failure};
use super::parse::NewAppDeployment;
use super::parse_app::{self, AppSettings};
use super::resources::load_stack;
use crate::orchestrator::{OrchestratorError, app_deploy};
use crate::state::AppState;
use crate::store::{AppFields, AppRow, SecretChanges, StackRow, StoreError};
use crate::time::rfc3339;

fn view(stack: &str, row: &AppRow) -> App {
    let secret_environment = row.secret_names();
    let mut environment = row.environment();
    for name in &secret_environment {
        environment.insert(name.clone(), REDACTED.to_owned());
    }
    App {
        stack: stack.to_owned(),
        name: row.name.clone(),
        app_type: row.app_type.clone(),
        layers: row.layers(),
        repository: row.repository.clone(),
        revision: row.revision.clone(),
        deploy_key: row.has_deploy_key != 0,
        environment,
        secret_environment,
        pinned: match (&row.pinned_sha, &row.pinned_reason, row.pinned_by, row.pinned_at) {
            (Some(commit), Some(reason), Some(deployment), Some(at)) => {
                Some(AppPin { commit: commit.clone(), reason: reason.clone(), deployment, at: rfc3339(at) })
            }
            _ => None,
        },
        created_at: rfc3339(row.created_at),
        updated_at: rfc3339(row.updated_at),
    }
}

async fn load_app(state: &AppState, stack: &StackRow, name: &str) -> ApiResult<AppRow> {
    state.store.app(stack.id, name).await?.ok_or_else(|| {
        Failure::not_found(
            "app",
            format!(
                "app {name:?} does not exist in stack {}; `drover app list --stack {}` shows its apps",
                stack.name, stack.name
            ),
        )
    })
}

/// The ids of the named layers, or 404 naming the first unknown one.
async fn layer_ids(state: &AppState, stack: &StackRow, names: &[Shortname]) -> ApiResult<Vec<i64>> {
    let layers = state.store.layers(stack.id).await?;
    names
        .iter()
        .enumerate()
        .map(|(i, name)| {
            layers.iter().find(|l| l.shortname == name.as_str()).map(|l| l.id).ok_or_else(|| {
                Failure::not_found(
                    format!("layers[{i}]"),
                    format!("layer {name} does not exist in stack {}", stack.name),
                )
            })
        })
        .collect()
}

#[utoipa::path(
    get,
    path = "/stacks/{stack}/apps",
    operation_id = "list_apps",
    tag = "apps",
    summary = "List a stack's apps",
    params(("stack" = String, Path, description = "The stack's name")),
    responses((status = 200, description = "The apps, secrets redacted", body = Vec<drover_proto::api::App>))
)]
pub async fn list(_: Can<SHOW>, State(state): State<AppState>, Path(stack): Path<String>) -> ApiResult<Json<Vec<App>>> {
    let stack = load_stack(&state, &stack).await?;
    Ok(Json(state.store.apps(stack.id).await?.iter().map(|a| view(&stack.name, a)).collect()))
}

#[utoipa::path(
    get,
    path = "/stacks/{stack}/apps/{app}",
    operation_id = "show_app",
    tag = "apps",
    summary = "Show an app",
    params(("stack" = String, Path, description = "The stack's name"), ("app" = String, Path, description = "The app's name")),
    responses((status = 200, description = "The app, secrets redacted", body = drover_proto::api::App))
)]
pub async fn show(
    _: Can<SHOW>,
    State(state): State<AppState>,
    Path((stack, app)): Path<(String, String)>,
) -> ApiResult<Json<App>> {
    let stack = load_stack(&state, &stack).await?;
    Ok(Json(view(&stack.name, &load_app(&state, &stack, &app).await?)))
}

#[utoipa::path(
    post,
    path = "/stacks/{stack}/apps",
    operation_id = "create_app",
    tag = "apps",
    summary = "Create an app",
    params(("stack" = String, Path, description = "The stack's name")),
    request_body = drover_proto::api::CreateApp,
    responses((status = 201, description = "The new app", body = drover_proto::api::App), (status = 403, description = "The token's level on the stack is too low", body = drover_proto::ErrorBody), (status = 409, description = "An app of that name exists", body = drover_proto::ErrorBody))
)]
pub async fn create(
    _: Can<MANAGE>,
    State(state): State<AppState>,
    Path(stack): Path<String>,
    Body(req): Body<CreateApp>,
) -> ApiResult<(StatusCode, Json<App>)> {
    let (name, settings) = parse_app::create(&req)?;
    let stack = load_stack(&state, &stack).await?;
    let ids = layer_ids(&state, &stack, &settings.layers).await?;
    let fields = AppFields {
        app_type: &settings.app_type,
        repository: &settings.repository,
        revision: settings.revision.as_deref(),
        environment: &settings.environment,
        layer_ids: &ids,
    };
    let secrets = SecretChanges {
        deploy_key: req.deploy_key.as_deref().filter(|k| !k.is_empty()).map(Some),
        set_env: &req.secret_environment,
        unset_env: &[],
    };
    state.store.create_app(stack.id, name.as_str(), &fields, &secrets).await.map_err(|e| match e {
        StoreError::Duplicate => Failure::conflict(
            Some("name"),
            format!("app {name} already exists in stack {}; update it instead", stack.name),
        ),
        e => e.into(),
    })?;
    let row = load_app(&state, &stack, name.as_str()).await?;
    Ok((StatusCode::CREATED, Json(view(&stack.name, &row))))
}

#[utoipa::path(
    patch,
    path = "/stacks/{stack}/apps/{app}",
    operation_id = "update_app",
    tag = "apps",
    summary = "Change an app (only the fields given)",
    params(("stack" = String, Path, description = "The stack's name"), ("app" = String, Path, description = "The app's name")),
    request_body = drover_proto::api::UpdateApp,
    responses((status = 200, description = "The changed app", body = drover_proto::api::App), (status = 403, description = "The token's level on the stack is too low", body = drover_proto::ErrorBody))
)]
pub async fn update(
    _: Can<MANAGE>,
    State(state): State<AppState>,
    Path((stack, app)): Path<(String, String)>,
    Body(req): Body<UpdateApp>,
) -> ApiResult<Json<App>> {
    let stack = load_stack(&state, &stack).await?;
    let row = load_app(&state, &stack, &app).await?;
    let current_layers = row.layers().iter().filter_map(|l| Shortname::parse(l).ok()).collect::<Vec<_>>();
    let current = AppSettings {
        app_type: row.app_type.clone(),
        layers: current_layers,
        repository: row.repository.clone(),
        revision: row.revision.clone(),
        environment: row.environment(),
    };
    let secret_names = row.secret_names();
    let merged = parse_app::update(current, &secret_names, &req)?;
    let ids = layer_ids(&state, &stack, &merged.layers).await?;
    // Unsetting a variable removes it wherever it lives; setting a plain one drops a secret of
    // the same name.
    let mut unset: Vec<String> = req.unset_environment.clone();
    unset.extend(req.environment.keys().filter(|k| secret_names.contains(k)).cloned());
    let fields = AppFields {
        app_type: &merged.app_type,
        repository: &merged.repository,
        revision: merged.revision.as_deref(),
        environment: &merged.environment,
        layer_ids: &ids,
    };
    let secrets = SecretChanges {
        deploy_key: req.deploy_key.as_deref().map(|k| Some(k).filter(|k| !k.is_empty())),
        set_env: &req.secret_environment,
        unset_env: &unset,
    };
    state.store.update_app(row.id, &fields, &secrets).await?;
    Ok(Json(view(&stack.name, &load_app(&state, &stack, &app).await?)))
}

/// Deletes an app; first queues an Undeploy on the online instances of its layers (stop its
/// services, remove its tree). Answers `{"undeploy_deployment": ID}` (null when nothing ran).
#[utoipa::path(
    delete,
    path = "/stacks/{stack}/apps/{app}",
    operation_id = "delete_app",
    tag = "apps",
    summary = "Delete an app, undeploying it first",
    params(("stack" = String, Path, description = "The stack's name"), ("app" = String, Path, description = "The app's name")),
    responses((status = 200, description = "Deleted", body = drover_proto::api::AppDeleted), (status = 403, description = "The token's level on the stack is too low", body = drover_proto::ErrorBody), (status = 409, description = "Another deployment holds the app's lock", body = drover_proto::ErrorBody))
)]
pub async fn delete(
    _: Can<MANAGE>,
    State(state): State<AppState>,
    Path((stack, app)): Path<(String, String)>,
) -> ApiResult<Json<AppDeleted>> {
    let stack = load_stack(&state, &stack).await?;
    let row = load_app(&state, &stack, &app).await?;
    let undeploy = NewAppDeployment {
        kind: DeploymentKind::Undeploy,
        app: Shortname::parse(&row.name).map_err(Failure::internal)?,
        layers: row.layers(),
        instances: Vec::new(),
        comment: Some(format!("undeploy: app {} deleted", row.name)),
        custom_json: serde_json::json!({}),
        batch_size: None,
        rollback_to: None,
        lock_wait_secs: 0,
        timeout_secs: None,
        takes_lock: false,
        follows_setup: false,
        expect_commit: None,
    };
    let deployment = match app_deploy::create(&state, &stack, undeploy).await {
        Ok(id) => Some(id),
        // No online instance of its layers: nothing to undeploy.
        Err(OrchestratorError::Invalid { .. }) => None,
        Err(e) => return Err(e.into()),
    };
    state.store.delete_app(row.id).await?;
    Ok(Json(AppDeleted { undeploy_deployment: deployment }))
}

#[utoipa::path(
    get,
    path = "/stacks/{stack}/apps/{app}/releases",
    operation_id = "list_releases",
    tag = "apps",
    summary = "An app's releases on each instance",
    params(("stack" = String, Path, description = "The stack's name"), ("app" = String, Path, description = "The app's name")),
    responses((status = 200, description = "The releases, deploy.cfg redacted", body = Vec<drover_proto::api::ReleaseView>))
)]
pub async fn releases(
    _: Can<SHOW>,
    State(state): State<AppState>,
    Path((stack, app)): Path<(String, String)>,
) -> ApiResult<Json<Vec<ReleaseView>>> {
    let stack = load_stack(&state, &stack).await?;
    let app = load_app(&state, &stack, &app).await?;
    let rows = state.store.releases(app.id).await?;
    Ok(Json(
        rows.into_iter()
            .map(|r| ReleaseView {
                instance: r.hostname,
                name: r.name,
                sha: r.sha,
                outcome: r.outcome,
                case: r.build_case,
                current: r.is_current,
                config_hash: r.config_hash,
                // What the API shows carries no password: the instance has the real file.
                deploy_cfg: drover_core::attributes::redact_cfg_text(&r.deploy_cfg),
                created_at: rfc3339(r.created_at),
                finished_at: r.finished_at.map(rfc3339),
            })
            .collect(),
    ))
}
