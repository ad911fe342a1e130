//! Console passwords: a user sets their own (an admin anyone's), and signing in with one makes
//! a personal token that expires, which the console (or `drover login --user`) then uses like
//! any other. The server keeps only Argon2id hashes; five wrong passwords for a name, then one
//! try a minute.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::http::header::RETRY_AFTER;
use axum::response::{IntoResponse, Response};
use drover_core::password::check_new;
use drover_core::rate_limit::retry_after_secs;
use drover_proto::people::{CreatedToken, PasswordSignIn, SetPassword};
use drover_proto::{ApiError, ErrorCode};

use super::auth::{Caller, Who};
use super::extract::{Body, Path};
use super::failure::{ApiResult, Failure};
use super::people::load_user;
use super::user_tokens::issue;
use crate::state::AppState;
use crate::store::{NewUserToken, UserRow};
use crate::time::now_ms;

/// How long a token from a password lasts, at most and by default.
const SIGN_IN_SECS: u64 = 12 * 3600;

/// The user whose password the caller may set: their own with a full token, anyone's as admin.
async fn settable(state: &AppState, caller: &Caller, name: &str) -> ApiResult<UserRow> {
    match &caller.who {
        _ if caller.is_admin() => load_user(state, name).await,
        Who::User(me) if me.name == name && caller.scope == Default::default() => Ok(me.clone()),
        _ => Err(Failure::forbidden(
            "you may set only your own password, with a token not cut down to a stack or level (an admin may set \
             anyone's)",
        )),
    }
}

#[utoipa::path(
    put,
    path = "/users/{name}/password",
    operation_id = "set_password",
    tag = "people",
    summary = "Set a user's console password (your own, or as an admin anyone's)",
    params(("name" = String, Path, description = "The user's name")),
    request_body = drover_proto::people::SetPassword,
    responses((status = 204, description = "Set"), (status = 403, description = "Not your own, and you are not an admin", body = drover_proto::ErrorBody), (status = 422, description = "The password is too weak", body = drover_proto::ErrorBody))
)]
pub async fn set(
    caller: Caller,
    State(state): State<AppState>,
    Path(name): Path<String>,
    Body(req): Body<SetPassword>,
) -> ApiResult<StatusCode> {
    let user = settable(&state, &caller, &name).await?;
    check_new(&req.password, &user.name).map_err(|e| Failure::invalid("password", e.to_string()))?;
    let hash = crate::passwords::hash(req.password).await.map_err(Failure::internal)?;
    state.store.set_password_hash(user.id, Some(&hash)).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(
    delete,
    path = "/users/{name}/password",
    operation_id = "remove_password",
    tag = "people",
    summary = "Remove a user's console password (they sign in with tokens only)",
    params(("name" = String, Path, description = "The user's name")),
    responses((status = 204, description = "Removed"), (status = 403, description = "Not your own, and you are not an admin", body = drover_proto::ErrorBody))
)]
pub async fn remove(caller: Caller, State(state): State<AppState>, Path(name): Path<String>) -> ApiResult<StatusCode> {
    let user = settable(&state, &caller, &name).await?;
    state.store.set_password_hash(user.id, None).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(
    post,
    path = "/sessions",
    operation_id = "sign_in",
    tag = "people",
    summary = "Sign in with a user name and password: a personal token that expires",
    security(()),
    request_body = drover_proto::people::PasswordSignIn,
    responses((status = 201, description = "The token, shown this once", body = drover_proto::people::CreatedToken), (status = 401, description = "Wrong user name or password", body = drover_proto::ErrorBody), (status = 429, description = "Too many wrong passwords for this name lately", body = drover_proto::ErrorBody))
)]
pub async fn sign_in(State(state): State<AppState>, Body(req): Body<PasswordSignIn>) -> Response {
    match signed_in(&state, req).await {
        Ok(created) => (StatusCode::CREATED, Json(created)).into_response(),
        Err(refusal) => refusal,
    }
}

async fn signed_in(state: &AppState, req: PasswordSignIn) -> Result<CreatedToken, Response> {
    let secs = match req.expires_in_secs {
        None => SIGN_IN_SECS,
        Some(s) if (1..=SIGN_IN_SECS).contains(&s) => s,
        Some(_) => {
            let why = format!("a token from a password lives 1 to {SIGN_IN_SECS} seconds");
            return Err(Failure::invalid("expires_in_secs", why).into_response());
        }
    };
    let name = req.user.trim().to_owned();
    if let Some(wait) = state.wrong_passwords.wait(&name) {
        let secs = retry_after_secs(wait);
        let error = ApiError::new(
            ErrorCode::TooManyRequests,
            format!("too many wrong passwords for {name:?} lately; try again in {secs} s"),
        );
        let mut response = Failure(error).into_response();
        if let Ok(value) = secs.to_string().parse() {
            response.headers_mut().insert(RETRY_AFTER, value);
        }
        return Err(response);
    }
    let found = if name.len() <= 64 { state.store.user_with_password(&name).await.map_err(fail)? } else { None };
    let stored = found.as_ref().and_then(|(_, hash)| hash.clone());
    let right = crate::passwords::verify(req.password, stored).await;
    let user = match found {
        Some((user, _)) if right => user,
        _ => {
            state.wrong_passwords.wrong(&name);
            return Err(Failure::unauthorized(
                "wrong user name or password (or the user has no password: `drover user password NAME` sets one)",
            )
            .into_response());
        }
    };
    let new = NewUserToken {
        user_id: user.id,
        secret_hash: "",
        stack_id: None,
        level: None,
        comment: Some("signed in with a password"),
        expires_at: Some(now_ms() + (secs as i64) * 1000),
    };
    issue(state, new).await.map_err(IntoResponse::into_response)
}

fn fail(e: sqlx::Error) -> Response {
    Failure::from(e).into_response()
}
