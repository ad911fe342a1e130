//! Personal API tokens: made for oneself (or, by an admin, for anyone), scoped to at most their
//! user's own levels (core `access::may_issue`), shown once, stored hashed, revocable.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use drover_core::access::{Level, may_issue};
use drover_proto::people::{CreateToken, CreatedToken, TokenInfo};
use drover_proto::token::{Token, TokenKind};

use super::auth::{Caller, Who};
use super::extract::{Body, Id};
use super::failure::{ApiResult, Failure};
use super::people::load_user;
use super::resources::load_stack;
use crate::secrets;
use crate::state::AppState;
use crate::store::{NewUserToken, UserRow, UserTokenRow};
use crate::time::{now_ms, rfc3339};

/// The longest a personal token may live: ten years.
const MAX_LIFETIME_SECS: u64 = 10 * 365 * 24 * 3600;

/// The most characters of a token's comment.
const MAX_COMMENT: usize = 200;

pub fn token_info(row: &UserTokenRow) -> TokenInfo {
    TokenInfo {
        id: row.id,
        user: row.user.clone(),
        stack: row.stack.clone(),
        level: row.level.clone(),
        comment: row.comment.clone(),
        created_at: rfc3339(row.created_at),
        expires_at: row.expires_at.map(rfc3339),
        revoked_at: row.revoked_at.map(rfc3339),
        last_used_at: row.last_used_at.map(rfc3339),
    }
}

/// Whose token it is: the caller's own, or (an admin asking) the user named.
async fn owner(state: &AppState, caller: &Caller, user: Option<&str>) -> ApiResult<UserRow> {
    match (user, &caller.who) {
        (Some(name), _) if caller.is_admin() => load_user(state, name).await,
        (Some(name), Who::User(me)) if me.name == name && caller.scope == Default::default() => Ok(me.clone()),
        (Some(_), _) => Err(Failure::forbidden(
            "only a server-wide admin makes tokens for other users; leave out `user` to make your own",
        )),
        (None, Who::User(me)) => Ok(me.clone()),
        (None, Who::AdminToken) => Err(Failure::invalid(
            "user",
            "the admin token belongs to no user; name the user the token is for (`drover token create --user NAME`)",
        )),
    }
}

#[utoipa::path(
    post,
    path = "/tokens",
    operation_id = "create_token",
    tag = "people",
    summary = "Make a personal token",
    request_body = drover_proto::people::CreateToken,
    responses((status = 201, description = "The token, shown this once", body = drover_proto::people::CreatedToken), (status = 403, description = "The caller may not make this token", body = drover_proto::ErrorBody), (status = 404, description = "No such user or stack", body = drover_proto::ErrorBody))
)]
pub async fn create(
    caller: Caller,
    State(state): State<AppState>,
    Body(req): Body<CreateToken>,
) -> ApiResult<(StatusCode, Json<CreatedToken>)> {
    let user = owner(&state, &caller, req.user.as_deref()).await?;
    if caller.scope != Default::default() && !caller.is_admin() {
        return Err(Failure::forbidden(
            "a token cut down to a stack or a level cannot make tokens; use a token without --stack and --level",
        ));
    }
    let level = match req.level.as_deref() {
        Some(l) => Some(l.parse::<Level>().map_err(|e| Failure::invalid("level", format!("{e}")))?),
        None => None,
    };
    let stack = match req.stack.as_deref() {
        Some(name) => Some(load_stack(&state, name).await?),
        None => None,
    };
    if let Some(stack) = &stack {
        let own = state.store.granted_level(user.id, stack.id).await?.and_then(|l| l.parse::<Level>().ok());
        may_issue(user.admin, own, level)
            .map_err(|e| Failure::forbidden(format!("{e}; ask an admin to raise {}'s level first", user.name)))?;
    } else if level == Some(Level::Deny) {
        return Err(Failure::invalid(
            "level",
            "a token with level deny could do nothing; ask for show, deploy or manage",
        ));
    }
    let expires_at = match req.expires_in_secs {
        Some(0) => return Err(Failure::invalid("expires_in_secs", "a token must live at least one second")),
        Some(s) if s > MAX_LIFETIME_SECS => {
            return Err(Failure::invalid("expires_in_secs", "a token may live at most ten years"));
        }
        Some(s) => Some(now_ms() + (s as i64) * 1000),
        None => None,
    };
    let comment = req.comment.as_deref().map(str::trim).filter(|c| !c.is_empty());
    if let Some(c) = comment
        && (c.chars().count() > MAX_COMMENT || c.chars().any(char::is_control))
    {
        return Err(Failure::invalid("comment", format!("a comment is one line of at most {MAX_COMMENT} characters")));
    }
    let new = NewUserToken {
        user_id: user.id,
        secret_hash: "",
        stack_id: stack.as_ref().map(|s| s.id),
        level: level.map(Level::as_str),
        comment,
        expires_at,
    };
    Ok((StatusCode::CREATED, Json(issue(&state, new).await?)))
}

/// Makes a personal token (`new` without its secret's hash): stores its hash, shows it once.
pub async fn issue(state: &AppState, new: NewUserToken<'_>) -> ApiResult<CreatedToken> {
    let secret = secrets::generate();
    let secret_hash = secrets::hash(&secret);
    let id = state.store.create_user_token(&NewUserToken { secret_hash: &secret_hash, ..new }).await?;
    let row = state.store.user_token(id).await?.ok_or_else(|| Failure::internal("a new token vanished"))?;
    let token = Token {
        kind: TokenKind::User,
        ca_fingerprint: state.auth.ca_fingerprint.clone(),
        secret,
        server_url: state.auth.server_url.clone(),
    };
    Ok(CreatedToken { info: token_info(&row), token: token.to_string() })
}

/// The caller's tokens; an admin sees everyone's.
#[utoipa::path(
    get,
    path = "/tokens",
    operation_id = "list_tokens",
    tag = "people",
    summary = "The caller's personal tokens (an admin: everyone's)",
    responses((status = 200, description = "The tokens (never their secrets)", body = Vec<drover_proto::people::TokenInfo>))
)]
pub async fn list(caller: Caller, State(state): State<AppState>) -> ApiResult<Json<Vec<TokenInfo>>> {
    let user = match &caller.who {
        _ if caller.is_admin() => None,
        Who::User(u) => Some(u.id),
        Who::AdminToken => None,
    };
    Ok(Json(state.store.user_tokens(user).await?.iter().map(token_info).collect()))
}

/// Revokes one of the caller's tokens (an admin: anyone's).
#[utoipa::path(
    delete,
    path = "/tokens/{id}",
    operation_id = "revoke_token",
    tag = "people",
    summary = "Revoke a personal token",
    params(("id" = i64, Path, description = "The token's id")),
    responses((status = 204, description = "Revoked"), (status = 409, description = "The token was revoked already", body = drover_proto::ErrorBody))
)]
pub async fn revoke(caller: Caller, State(state): State<AppState>, Id(id): Id) -> ApiResult<StatusCode> {
    let not_found = || Failure::not_found("id", format!("token {id} does not exist; `drover token list` shows them"));
    let row = state.store.user_token(id).await?.ok_or_else(not_found)?;
    let mine = matches!(&caller.who, Who::User(u) if u.id == row.user_id);
    if !mine && !caller.is_admin() {
        return Err(not_found());
    }
    if !state.store.revoke_user_token(id).await? {
        return Err(Failure::conflict(Some("id"), format!("token {id} was revoked already")));
    }
    Ok(StatusCode::NO_CONTENT)
}
