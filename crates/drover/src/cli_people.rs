//! Clap definitions of people and permissions: `drover user`, `drover token`, `drover audit`.

use clap::{Args, Subcommand};

use crate::cli::Format;

/// `drover user ...` (server-wide admins only).
#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a user (then `drover user grant` and `drover token create --user NAME`).
    Create {
        /// A shortname: a-z, 0-9 and -, starting with a letter.
        name: String,
        /// A server-wide admin: every stack, the users and the whole audit trail.
        #[arg(long)]
        admin: bool,
    },
    /// List users with their levels.
    List(Format),
    /// Delete a user with their grants and tokens.
    Delete {
        /// The user.
        name: String,
    },
    /// Set a user's level on a stack: deny, show, deploy or manage.
    Grant {
        /// The stack.
        #[arg(long)]
        stack: String,
        /// deny, show (reads, secrets redacted), deploy (also deploy, rollback, restart, start,
        /// stop, exec, configure) or manage (also changes to the stack and all it holds).
        #[arg(long)]
        level: String,
        /// The user.
        name: String,
    },
}

/// `drover token ...`: personal API tokens.
#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Make a personal token (shown once). Without --user it is your own.
    Create(CreateTokenArgs),
    /// List tokens: your own (an admin: everyone's).
    List(Format),
    /// Revoke a token by its id.
    Revoke {
        /// The token's id (`drover token list`).
        id: i64,
    },
}

/// `drover token create`.
#[derive(Debug, Args)]
pub struct CreateTokenArgs {
    /// Whose token (admins only; your own by default).
    #[arg(long)]
    pub user: Option<String>,
    /// The one stack it reaches (every stack its user may reach by default).
    #[arg(long)]
    pub stack: Option<String>,
    /// The most it may do: show, deploy or manage (at most its user's own level).
    #[arg(long)]
    pub level: Option<String>,
    /// How long it lives, e.g. 24h, 30d (forever by default).
    #[arg(long)]
    pub expires: Option<String>,
    /// What it is for, shown by `token list`.
    #[arg(long)]
    pub comment: Option<String>,
    /// Print only the token (for scripts).
    #[arg(long)]
    pub quiet: bool,
}

/// `drover audit ...`.
#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Who changed what, when, from where, and how it ended; refusals included. Newest first.
    List(AuditListArgs),
}

/// `drover audit list`.
#[derive(Debug, Args)]
pub struct AuditListArgs {
    /// Only this stack.
    #[arg(long)]
    pub stack: Option<String>,
    /// Only this user (`admin` for the admin token).
    #[arg(long)]
    pub user: Option<String>,
    /// Only entries newer than this, e.g. 1h, 7d.
    #[arg(long)]
    pub since: Option<String>,
    /// At most this many entries.
    #[arg(long, default_value_t = 200)]
    pub limit: u32,
    #[command(flatten)]
    pub format: Format,
}
