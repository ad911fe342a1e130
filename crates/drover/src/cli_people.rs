//! Clap definitions of people and permissions: `drover user`, `drover audit` (tokens: `cli.rs`).

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
