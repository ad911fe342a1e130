//! Users and their per-stack levels (server-wide admins only), and `whoami`.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use drover_core::Shortname;
use drover_core::access::Level;
use drover_proto::people::{CreateUser, Grant, SetGrant, User, WhoAmI};

use super::auth::{Admin, Caller, Who};
use super::extract::{Body, Path};
use super::failure::{ApiResult, Failure};
use super::resources::load_stack;
use super::user_tokens::token_info;
use crate::state::AppState;
use crate::store::{StoreError, UserRow};
use crate::time::rfc3339;

/// The user named in the path, or 404.
pub async fn load_user(state: &AppState, name: &str) -> ApiResult<UserRow> {
    state.store.user(name).await?.ok_or_else(|| {
        Failure::not_found("user", format!("user {name:?} does not exist; `drover user list` shows the users"))
    })
}

async fn view(state: &AppState, row: &UserRow) -> ApiResult<User> {
    let grants = state.store.grants(row.id).await?;
    Ok(User {
        name: row.name.clone(),
        admin: row.admin,
        grants: grants.into_iter().map(|g| Grant { stack: g.stack, level: g.level }).collect(),
        created_at: rfc3339(row.created_at),
    })
}

#[utoipa::path(
    post,
    path = "/users",
    operation_id = "create_user",
    tag = "people",
    summary = "Create a user",
    request_body = drover_proto::people::CreateUser,
    responses((status = 201, description = "The new user", body = drover_proto::people::User), (status = 403, description = "Only an admin may do this", body = drover_proto::ErrorBody), (status = 409, description = "A user of that name exists", body = drover_proto::ErrorBody))
)]
pub async fn create(
    _: Admin,
    State(state): State<AppState>,
    Body(req): Body<CreateUser>,
) -> ApiResult<(StatusCode, Json<User>)> {
    let name = Shortname::parse(&req.name).map_err(|e| Failure::invalid("name", format!("{:?} {e}", req.name)))?;
    if name.as_str() == "admin" {
        return Err(Failure::invalid("name", "\"admin\" names the admin token in the audit trail; pick another name"));
    }
    let row = state.store.create_user(name.as_str(), req.admin).await.map_err(|e| match e {
        StoreError::Duplicate => Failure::conflict(Some("name"), format!("user {name} already exists")),
        e => e.into(),
    })?;
    Ok((StatusCode::CREATED, Json(view(&state, &row).await?)))
}

#[utoipa::path(
    get,
    path = "/users",
    operation_id = "list_users",
    tag = "people",
    summary = "List the users",
    responses((status = 200, description = "The users", body = Vec<drover_proto::people::User>), (status = 403, description = "Only an admin may do this", body = drover_proto::ErrorBody))
)]
pub async fn list(_: Admin, State(state): State<AppState>) -> ApiResult<Json<Vec<User>>> {
    let mut users = Vec::new();
    for row in state.store.users().await? {
        users.push(view(&state, &row).await?);
    }
    Ok(Json(users))
}

#[utoipa::path(
    delete,
    path = "/users/{name}",
    operation_id = "delete_user",
    tag = "people",
    summary = "Delete a user and their tokens",
    params(("name" = String, Path, description = "The user's name")),
    responses((status = 204, description = "Deleted"), (status = 403, description = "Only an admin may do this", body = drover_proto::ErrorBody))
)]
pub async fn delete(_: Admin, State(state): State<AppState>, Path(name): Path<String>) -> ApiResult<StatusCode> {
    let row = load_user(&state, &name).await?;
    state.store.delete_user(row.id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `PUT /users/{name}/grants/{stack}`: sets the user's level on the stack.
#[utoipa::path(
    put,
    path = "/users/{name}/grants/{stack}",
    operation_id = "grant",
    tag = "people",
    summary = "Set a user's level on a stack",
    params(("name" = String, Path, description = "The user's name"), ("stack" = String, Path, description = "The stack's name")),
    request_body = drover_proto::people::SetGrant,
    responses((status = 200, description = "The user", body = drover_proto::people::User), (status = 403, description = "Only an admin may do this", body = drover_proto::ErrorBody))
)]
pub async fn grant(
    _: Admin,
    State(state): State<AppState>,
    Path((name, stack)): Path<(String, String)>,
    Body(req): Body<SetGrant>,
) -> ApiResult<Json<User>> {
    let level: Level = req.level.parse().map_err(|e| Failure::invalid("level", format!("{e}")))?;
    let row = load_user(&state, &name).await?;
    let stack = load_stack(&state, &stack).await?;
    state.store.grant(row.id, stack.id, level.as_str()).await?;
    Ok(Json(view(&state, &row).await?))
}

/// Who the caller is, and what it may do on each stack it can see.
#[utoipa::path(
    get,
    path = "/whoami",
    operation_id = "whoami",
    tag = "people",
    summary = "Who the caller is and what it may do",
    responses((status = 200, description = "The caller", body = drover_proto::people::WhoAmI))
)]
pub async fn whoami(caller: Caller, State(state): State<AppState>) -> ApiResult<Json<WhoAmI>> {
    let mut stacks = Vec::new();
    for stack in state.store.stacks().await? {
        let level = caller.level_on(&state, stack.id).await?;
        if level > Level::Deny {
            stacks.push(Grant { stack: stack.name, level: level.to_string() });
        }
    }
    let token = match caller.token_id {
        Some(id) => state.store.user_token(id).await?.map(|t| token_info(&t)),
        None => None,
    };
    let admin = caller.is_admin();
    let name = match caller.who {
        Who::AdminToken => "admin".to_owned(),
        Who::User(u) => u.name,
    };
    Ok(Json(WhoAmI { name, admin, stacks, token }))
}
