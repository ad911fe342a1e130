//! Join tokens: created for one stack (optionally some layers, one instance, a lifetime, a
//! number of uses), listed, revoked. The token is shown once, at creation; the store keeps the
//! SHA-256 of its secret.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use drover_core::Shortname;
use drover_proto::api::{CreateJoinToken, CreatedJoinToken, JoinToken};
use drover_proto::token::{Token, TokenKind};

use super::auth::{Admin, Can, MANAGE};
use super::extract::{Body, Id, Path};
use super::failure::{ApiResult, Failure};
use super::resources::load_stack;
use crate::secrets;
use crate::state::AppState;
use crate::store::{JoinTokenRow, NewJoinToken, StackRow};
use crate::time::{now_ms, rfc3339};

/// The longest note kept with a token.
const MAX_COMMENT: usize = 200;

/// A checked `CreateJoinToken`.
#[derive(Debug)]
pub struct NewToken {
    pub layers: Vec<String>,
    pub instance: Option<Shortname>,
    pub expires_in_ms: Option<i64>,
    pub uses: Option<u32>,
    pub comment: Option<String>,
}

/// Checks a request field by field (every field, not just the first: the first fault is
/// reported, naming its field).
pub fn parse(req: CreateJoinToken) -> Result<NewToken, Failure> {
    let mut layers = Vec::new();
    for (i, raw) in req.layers.iter().enumerate() {
        let field = format!("layers[{i}]");
        let name = Shortname::parse(raw).map_err(|e| Failure::invalid(&field, format!("{raw:?} {e}")))?;
        if layers.contains(&name.to_string()) {
            return Err(Failure::invalid(field, format!("layer {name} is named twice; name each layer once")));
        }
        layers.push(name.to_string());
    }
    let instance = match &req.instance {
        Some(raw) => Some(Shortname::parse(raw).map_err(|e| Failure::invalid("instance", format!("{raw:?} {e}")))?),
        None => None,
    };
    let expires_in_ms = match req.expires_in_secs {
        None => None,
        Some(0) => return Err(Failure::invalid("expires_in_secs", "must be at least 1 second (or absent: never)")),
        Some(secs) if secs > drover_core::duration::MAX.as_secs() => {
            return Err(Failure::invalid("expires_in_secs", format!("{secs} is more than 10 years; give less")));
        }
        Some(secs) => Some(secs as i64 * 1000),
    };
    if req.uses == Some(0) {
        return Err(Failure::invalid("uses", "must be at least 1 (or absent: any number of enrollments)"));
    }
    let comment = req.comment.map(|c| c.trim().to_owned()).filter(|c| !c.is_empty());
    if let Some(c) = &comment {
        if c.chars().count() > MAX_COMMENT {
            return Err(Failure::invalid("comment", format!("is longer than {MAX_COMMENT} characters; shorten it")));
        }
        if c.chars().any(char::is_control) {
            return Err(Failure::invalid("comment", "holds a control character (a newline, a tab, ...); use one line"));
        }
    }
    Ok(NewToken { layers, instance, expires_in_ms, uses: req.uses, comment })
}

/// A token as listed.
pub fn view(row: &JoinTokenRow, now: i64) -> JoinToken {
    let layers = row.layers();
    JoinToken {
        id: row.id,
        stack: row.stack_name.clone(),
        state: drover_core::join::state(&row.grant(&layers), now).as_str().to_owned(),
        layers,
        instance: row.instance.clone(),
        expires_at: row.expires_at.map(rfc3339),
        uses_left: row.uses_left,
        revoked_at: row.revoked_at.map(rfc3339),
        created_at: rfc3339(row.created_at),
        last_used_at: row.last_used_at.map(rfc3339),
        comment: row.comment.clone(),
    }
}

/// Checks that the layers exist in the stack.
async fn check_layers(state: &AppState, stack: &StackRow, layers: &[String]) -> ApiResult<()> {
    let existing = state.store.layers(stack.id).await?;
    for (i, name) in layers.iter().enumerate() {
        if !existing.iter().any(|l| &l.shortname == name) {
            return Err(Failure::not_found(
                format!("layers[{i}]"),
                format!(
                    "layer {name} does not exist in stack {}; `drover layer list --stack {}` shows its layers",
                    stack.name, stack.name
                ),
            ));
        }
    }
    Ok(())
}

/// Makes a join token for a stack, and shows it this once.
#[utoipa::path(
    post,
    path = "/stacks/{stack}/join-tokens",
    operation_id = "create_join_token",
    tag = "join-tokens",
    summary = "Make a join token for a stack",
    params(("stack" = String, Path, description = "The stack's name")),
    request_body = drover_proto::api::CreateJoinToken,
    responses((status = 201, description = "The token, shown this once", body = drover_proto::api::CreatedJoinToken), (status = 403, description = "The token's level on the stack is too low", body = drover_proto::ErrorBody))
)]
pub async fn create(
    _: Can<MANAGE>,
    State(state): State<AppState>,
    Path(stack): Path<String>,
    Body(req): Body<CreateJoinToken>,
) -> ApiResult<(StatusCode, Json<CreatedJoinToken>)> {
    let new = parse(req)?;
    let stack = load_stack(&state, &stack).await?;
    check_layers(&state, &stack, &new.layers).await?;
    let (token, row) = mint(&state, &stack, &new).await?;
    Ok((StatusCode::CREATED, Json(CreatedJoinToken { token: token.to_string(), info: view(&row, now_ms()) })))
}

/// Stores a new join token; returns it with its row.
pub async fn mint(state: &AppState, stack: &StackRow, new: &NewToken) -> ApiResult<(Token, JoinTokenRow)> {
    let secret = secrets::generate();
    let row = state
        .store
        .create_join_token(&NewJoinToken {
            secret_hash: &secrets::hash(&secret),
            stack_id: stack.id,
            layers: &new.layers,
            instance: new.instance.as_ref().map(Shortname::as_str),
            comment: new.comment.as_deref(),
            expires_at: new.expires_in_ms.map(|ms| now_ms() + ms),
            uses: new.uses,
        })
        .await?;
    let token = Token {
        kind: TokenKind::Join,
        ca_fingerprint: state.auth.ca_fingerprint.clone(),
        secret,
        server_url: state.auth.server_url.clone(),
    };
    Ok((token, row))
}

/// A stack's join tokens, newest first.
#[utoipa::path(
    get,
    path = "/stacks/{stack}/join-tokens",
    operation_id = "list_stack_join_tokens",
    tag = "join-tokens",
    summary = "A stack's join tokens",
    params(("stack" = String, Path, description = "The stack's name")),
    responses((status = 200, description = "The tokens, newest first (never their secrets)", body = Vec<drover_proto::api::JoinToken>), (status = 403, description = "The token's level on the stack is too low", body = drover_proto::ErrorBody))
)]
pub async fn list(
    _: Can<MANAGE>,
    State(state): State<AppState>,
    Path(stack): Path<String>,
) -> ApiResult<Json<Vec<JoinToken>>> {
    let stack = load_stack(&state, &stack).await?;
    let now = now_ms();
    Ok(Json(state.store.join_tokens(Some(stack.id)).await?.iter().map(|r| view(r, now)).collect()))
}

/// Every join token, newest first.
#[utoipa::path(
    get,
    path = "/join-tokens",
    operation_id = "list_join_tokens",
    tag = "join-tokens",
    summary = "Every join token",
    responses((status = 200, description = "The tokens, newest first (never their secrets)", body = Vec<drover_proto::api::JoinToken>), (status = 403, description = "Only an admin may do this", body = drover_proto::ErrorBody))
)]
pub async fn list_all(_: Admin, State(state): State<AppState>) -> ApiResult<Json<Vec<JoinToken>>> {
    let now = now_ms();
    Ok(Json(state.store.join_tokens(None).await?.iter().map(|r| view(r, now)).collect()))
}

/// Revokes a join token: no agent enrolls with it from now on (agents that enrolled keep their
/// own credentials). Revoking it again changes nothing.
#[utoipa::path(
    delete,
    path = "/join-tokens/{id}",
    operation_id = "revoke_join_token",
    tag = "join-tokens",
    summary = "Revoke a join token",
    params(("id" = i64, Path, description = "The join token's id")),
    responses((status = 200, description = "The revoked token", body = drover_proto::api::JoinToken), (status = 403, description = "Only an admin may do this", body = drover_proto::ErrorBody))
)]
pub async fn revoke(_: Admin, State(state): State<AppState>, Id(id): Id) -> ApiResult<Json<JoinToken>> {
    let missing = || {
        Failure::not_found("id", format!("join token {id} does not exist; `drover token list` shows the join tokens"))
    };
    state.store.join_token(id).await?.ok_or_else(missing)?;
    state.store.revoke_join_token(id).await?;
    let row = state.store.join_token(id).await?.ok_or_else(missing)?;
    Ok(Json(view(&row, now_ms())))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field_of(r: Result<NewToken, Failure>) -> String {
        r.unwrap_err().0.field.unwrap_or_default()
    }

    #[test]
    fn fields_are_checked_and_named() {
        let ok = CreateJoinToken {
            layers: vec!["web".into()],
            instance: Some("edge1".into()),
            expires_in_secs: Some(60),
            uses: Some(1),
            comment: Some(" for edge1 ".into()),
        };
        let parsed = parse(ok.clone()).unwrap();
        assert_eq!(parsed.expires_in_ms, Some(60_000));
        assert_eq!(parsed.comment.as_deref(), Some("for edge1"));
        let cases = [
            (CreateJoinToken { layers: vec!["web".into(), "Bad Name".into()], ..ok.clone() }, "layers[1]"),
            (CreateJoinToken { layers: vec!["web".into(), "web".into()], ..ok.clone() }, "layers[1]"),
            (CreateJoinToken { instance: Some("no/slash".into()), ..ok.clone() }, "instance"),
            (CreateJoinToken { expires_in_secs: Some(0), ..ok.clone() }, "expires_in_secs"),
            (CreateJoinToken { expires_in_secs: Some(u64::MAX), ..ok.clone() }, "expires_in_secs"),
            (CreateJoinToken { uses: Some(0), ..ok.clone() }, "uses"),
            (CreateJoinToken { comment: Some("two\nlines".into()), ..ok.clone() }, "comment"),
            (CreateJoinToken { comment: Some("x".repeat(201)), ..ok.clone() }, "comment"),
        ];
        for (req, want) in cases {
            assert_eq!(field_of(parse(req)), want);
        }
    }
}
