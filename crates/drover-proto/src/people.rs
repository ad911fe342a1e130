//! Wire types of people and permissions: users, their per-stack levels, personal tokens, `whoami`
//! and the audit trail.

use serde::{Deserialize, Serialize};

/// `POST /users`.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateUser {
    /// A shortname: 1 to 32 of `a-z 0-9 _ -`, starting with a letter or a digit.
    #[schema(pattern = "^[a-z0-9][a-z0-9_-]{0,31}$")]
    pub name: String,
    /// Manages every stack and the users.
    #[serde(default)]
    pub admin: bool,
}

/// A user's level on one stack.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Grant {
    /// The stack.
    pub stack: String,
    /// `deny`, `show`, `deploy` or `manage`.
    pub level: String,
}

/// A user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct User {
    /// The user's name.
    pub name: String,
    /// Whether they manage every stack and the users.
    pub admin: bool,
    /// Their levels, by stack name.
    pub grants: Vec<Grant>,
    /// When the user was made.
    pub created_at: String,
}

/// `PUT /users/{name}/grants/{stack}`.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetGrant {
    /// `deny`, `show`, `deploy` or `manage`.
    #[schema(schema_with = crate::schema::level)]
    pub level: String,
}

/// `POST /tokens`: a personal token, for the caller or (an admin) for `user`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateToken {
    /// Whose token; the caller's own by default. Only an admin makes tokens for others.
    #[serde(default)]
    pub user: Option<String>,
    /// The one stack it reaches; every stack its user may reach by default.
    #[serde(default)]
    pub stack: Option<String>,
    /// The most it may do (`show`, `deploy`, `manage`), at most its user's own level.
    #[serde(default)]
    pub level: Option<String>,
    /// Seconds until it expires; never by default.
    #[serde(default)]
    pub expires_in_secs: Option<u64>,
    /// What it is for (shown by `token list`).
    #[serde(default)]
    pub comment: Option<String>,
}

/// `PUT /users/{name}/password`: a user's console password (kept only as a hash).
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetPassword {
    /// At least 12 characters, not one repeated, not containing the user's name.
    pub password: String,
}

/// `POST /sessions`: signing in with a user name and password makes a personal token that
/// expires.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordSignIn {
    /// The user.
    pub user: String,
    /// Their password.
    pub password: String,
    /// Seconds until the token expires (default and most: 12 hours).
    #[serde(default)]
    pub expires_in_secs: Option<u64>,
}

/// A personal token as listed (never its secret).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TokenInfo {
    /// Its id, for `drover token revoke`.
    pub id: i64,
    /// Its user.
    pub user: String,
    /// The one stack it reaches, if it is cut down to one.
    pub stack: Option<String>,
    /// The most it may do, if it is cut down.
    pub level: Option<String>,
    /// What it is for.
    pub comment: Option<String>,
    /// When it was made.
    pub created_at: String,
    /// When it expires.
    pub expires_at: Option<String>,
    /// When it was revoked.
    pub revoked_at: Option<String>,
    /// When it was last used (to the minute).
    pub last_used_at: Option<String>,
}

/// A personal token just made: the only time its text is shown.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CreatedToken {
    /// What it is.
    pub info: TokenInfo,
    /// The token to give to `drover login` or `DROVER_TOKEN`.
    pub token: String,
}

/// `GET /whoami`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct WhoAmI {
    /// `admin` for the admin token, else the user's name.
    pub name: String,
    /// Whether the caller manages the whole server.
    pub admin: bool,
    /// The caller's effective level on each stack it can see.
    pub stacks: Vec<Grant>,
    /// The personal token in use.
    pub token: Option<TokenInfo>,
}

/// One entry of the audit trail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AuditEntry {
    /// Its number.
    pub id: i64,
    /// When (RFC 3339).
    pub at: String,
    /// Who: `admin`, a user, `agent:<instance>`, `join`, or `anonymous`.
    pub actor: String,
    /// From which address.
    pub peer: Option<String>,
    /// The stack it was about, if any.
    pub stack: Option<String>,
    /// What: the method and path.
    pub action: String,
    /// The HTTP status it was answered with.
    pub status: u16,
    /// `ok`, or the error's message.
    pub outcome: String,
}
