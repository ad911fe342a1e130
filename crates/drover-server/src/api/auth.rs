//! Who is calling, and what they may do: the admin token (bootstrap), or a user's personal token
//! with OpsWorks' per-stack levels (core `access`). Handlers name what they need in their
//! signature: [`Admin`] (server-wide), [`Caller`] (anyone with a valid token), or
//! `Can<SHOW | DEPLOY | MANAGE>` on the stack the request is about.

use axum::extract::{FromRequestParts, MatchedPath, RawPathParams};
use axum::http::request::Parts;
use drover_core::access::{Decision, Level, TokenScope, decide, level_on_stack};
use drover_proto::token::is_secret_shaped;

use super::extract::bearer;
use super::failure::Failure;
use crate::secrets::hash;
use crate::state::AppState;
use crate::store::UserRow;

/// The one who sends a request.
#[derive(Debug, Clone)]
pub enum Who {
    /// The server's admin token (`admin.token` in the data dir).
    AdminToken,
    /// A user, by a personal token.
    User(UserRow),
}

/// A caller with a valid token.
#[derive(Debug, Clone)]
pub struct Caller {
    pub who: Who,
    /// What the token is cut down to.
    pub scope: TokenScope,
    /// The personal token's id.
    pub token_id: Option<i64>,
}

impl Caller {
    /// The name the audit trail and `whoami` show.
    pub fn name(&self) -> &str {
        match &self.who {
            Who::AdminToken => "admin",
            Who::User(u) => &u.name,
        }
    }

    /// Whether the caller may manage the whole server (users, stacks, the audit trail): the admin
    /// token, or an admin user's token that is not cut down.
    pub fn is_admin(&self) -> bool {
        match &self.who {
            Who::AdminToken => true,
            Who::User(u) => u.admin && self.scope == TokenScope::default(),
        }
    }

    fn user(&self) -> Option<&UserRow> {
        match &self.who {
            Who::AdminToken => None,
            Who::User(u) => Some(u),
        }
    }

    /// The caller's level on a stack.
    pub async fn level_on(&self, state: &AppState, stack_id: i64) -> Result<Level, Failure> {
        let Some(user) = self.user() else { return Ok(level_on_stack(true, None, self.scope, stack_id)) };
        let granted = match state.store.granted_level(user.id, stack_id).await? {
            Some(level) => Some(level.parse::<Level>().map_err(Failure::internal)?),
            None => None,
        };
        Ok(level_on_stack(user.admin, granted, self.scope, stack_id))
    }

    /// Passes when the caller has at least `need` on the stack; a denied caller gets the same 404
    /// as for a stack that does not exist.
    pub async fn need(&self, state: &AppState, stack_id: i64, stack: &str, need: Level) -> Result<(), Failure> {
        match decide(self.level_on(state, stack_id).await?, need) {
            Decision::Allow => Ok(()),
            Decision::Hidden => Err(no_such_stack(stack)),
            Decision::Forbidden => Err(Failure::forbidden(format!(
                "{} may not do this on stack {stack}: it needs the {need} level; ask an admin for \
                 `drover user grant --stack {stack} --level {need} {}`",
                self.name(),
                self.name(),
            ))),
        }
    }
}

/// The 404 of a stack that does not exist, or that the caller may not see.
pub fn no_such_stack(name: &str) -> Failure {
    Failure::not_found("stack", format!("stack {name:?} does not exist; `drover stack list` shows the stacks"))
}

/// The kind and secret of a `drv1:<kind>:<ca-sha256>:<secret>:<url>` token. The URL and
/// fingerprint may change (a new listen address), so only the secret is checked.
pub fn kind_and_secret(token: &str) -> Option<(&str, &str)> {
    let mut parts = token.splitn(5, ':');
    let (Some("drv1"), Some(kind), Some(_fingerprint), Some(secret)) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return None;
    };
    is_secret_shaped(secret).then_some((kind, secret))
}

/// The caller a bearer token names, or why not.
pub async fn resolve(parts: &Parts, state: &AppState) -> Result<Caller, Failure> {
    let token = bearer(parts)?;
    let refused = || {
        Failure::unauthorized(
            "the token is not valid for this server (unknown, revoked or expired); use the admin token from \
             admin.token in its data dir, or a personal token from `drover token create`",
        )
    };
    match kind_and_secret(token).ok_or_else(refused)? {
        ("admin", secret) if hash(secret) == state.auth.admin_hash => {
            Ok(Caller { who: Who::AdminToken, scope: TokenScope::default(), token_id: None })
        }
        ("user", secret) => {
            let (token, user) = state.store.live_user_token(&hash(secret)).await?.ok_or_else(refused)?;
            let level = match token.level.as_deref() {
                Some(l) => Some(l.parse::<Level>().map_err(Failure::internal)?),
                None => None,
            };
            Ok(Caller {
                who: Who::User(user),
                scope: TokenScope { stack_id: token.stack_id, level },
                token_id: Some(token.id),
            })
        }
        _ => Err(refused()),
    }
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = Failure;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Failure> {
        // The audit layer resolved it already.
        if let Some(caller) = parts.extensions.get::<Caller>() {
            return Ok(caller.clone());
        }
        resolve(parts, state).await
    }
}

/// A server-wide admin: users, new stacks, the whole audit trail.
pub struct Admin;

impl FromRequestParts<AppState> for Admin {
    type Rejection = Failure;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Failure> {
        let caller = Caller::from_request_parts(parts, state).await?;
        if caller.is_admin() {
            Ok(Admin)
        } else {
            Err(Failure::forbidden(format!(
                "{} may not do this: it needs a server-wide admin (the admin token, or a user made with \
                 `drover user create --admin`)",
                caller.name()
            )))
        }
    }
}

/// `Can<N>`: the caller has at least level N on the stack the request is about.
pub const SHOW: u8 = 1;
/// See [`SHOW`].
pub const DEPLOY: u8 = 2;
/// See [`SHOW`].
pub const MANAGE: u8 = 3;

/// A caller with at least the level `NEED` ([`SHOW`], [`DEPLOY`], [`MANAGE`]) on the stack the
/// request is about: the `{stack}` in the path, or the stack of the deployment or command `{id}`.
pub struct Can<const NEED: u8>;

impl<const NEED: u8> FromRequestParts<AppState> for Can<NEED> {
    type Rejection = Failure;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Failure> {
        let caller = Caller::from_request_parts(parts, state).await?;
        if caller.is_admin() {
            // Manages every stack: nothing to look up.
            return Ok(Can);
        }
        let need = match NEED {
            SHOW => Level::Show,
            DEPLOY => Level::Deploy,
            _ => Level::Manage,
        };
        let Some(stack) = stack_of_request(parts, state).await? else {
            return Err(no_such_target(parts));
        };
        let stack_id = state.store.stack(&stack).await?.ok_or_else(|| no_such_stack(&stack))?.id;
        caller.need(state, stack_id, &stack, need).await?;
        Ok(Can)
    }
}

fn no_such_target(parts: &Parts) -> Failure {
    Failure::not_found("id", format!("{} does not exist", parts.uri.path()))
}

/// The stack a request is about: `{stack}` in its path, or the stack of `{id}` for
/// `/deployments/{id}` and `/commands/{id}…`.
async fn stack_of_request(parts: &mut Parts, state: &AppState) -> Result<Option<String>, Failure> {
    let params = RawPathParams::from_request_parts(parts, state).await.map_err(super::extract::path_refused)?;
    if let Some((_, stack)) = params.iter().find(|(k, _)| *k == "stack") {
        return Ok(Some(stack.to_owned()));
    }
    let Some(id) = params.iter().find(|(k, _)| *k == "id").and_then(|(_, v)| v.parse::<i64>().ok()) else {
        return Ok(None);
    };
    let route = parts.extensions.get::<MatchedPath>().map(|m| m.as_str().to_owned()).unwrap_or_default();
    let deployment = if route.contains("/commands/") {
        match state.store.command(id).await? {
            Some(c) => c.deployment_id,
            None => return Ok(None),
        }
    } else {
        id
    };
    Ok(state.store.deployment(deployment).await?.map(|d| d.stack_name))
}
