//! Clap definitions of people and permissions: `drover user`, `drover token`, `drover audit`.

use std::path::PathBuf;

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
    /// Set (or remove) a user's password for the web console: your own, or as an admin anyone's.
    #[command(
        after_help = "Examples:\n  drover user password dana --password-file -   # reads it from stdin\n  drover user password dana --remove"
    )]
    Password {
        /// The user.
        name: String,
        /// A file holding the password (its first line); `-` reads it from standard input.
        /// (Never on the command line, where other users could read it.)
        #[arg(long, value_name = "FILE", required_unless_present = "remove", conflicts_with = "remove")]
        password_file: Option<std::path::PathBuf>,
        /// Remove the password: the user signs in with tokens only.
        #[arg(long)]
        remove: bool,
    },
    /// Set a user's level on a stack: deny, show, deploy or manage.
    Grant {
        /// The stack.
        #[arg(long, env = "DROVER_STACK", hide_env_values = true)]
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

/// `drover token ...`.
#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Make a personal API token (yours; an admin's `--user` for someone else), or with `--join` a
    /// join token for agents. It is printed once; the server keeps only its hash.
    Create(TokenCreateArgs),
    /// List personal tokens (yours; an admin sees all), or with `--join` join tokens (never their
    /// secrets).
    List {
        /// List join tokens.
        #[arg(long)]
        join: bool,
        /// Only this stack's.
        #[arg(long)]
        stack: Option<String>,
        #[command(flatten)]
        format: Format,
    },
    /// Revoke a personal token, or with `--join` a join token (enrolled agents keep working).
    Revoke {
        /// Revoke a join token.
        #[arg(long)]
        join: bool,
        /// The token's id (from `drover token list`).
        id: i64,
    },
}

/// `drover token create`.
#[derive(Debug, Args)]
#[command(after_help = "Examples:\n  drover token create --stack prod --level deploy --expires 90d   # for CI\n  \
                        drover token create --join --stack prod --layer clients --expires 24h --uses 3")]
pub struct TokenCreateArgs {
    /// Make a join token (for `drover agent --join-file`) instead of a personal one.
    #[arg(long)]
    pub join: bool,
    /// The stack: a join token enrolls into it (required); a personal token reaches only it
    /// (default: every stack its user may reach).
    #[arg(long)]
    pub stack: Option<String>,
    /// Join tokens: a layer a new host may register into (repeatable; none: any layer).
    #[arg(long = "layer")]
    pub layers: Vec<String>,
    /// Join tokens: the instance it is made for, the only kind that claims a pre-created instance.
    #[arg(long)]
    pub instance: Option<String>,
    /// Join tokens: how many enrollments it allows (default: any number until it expires).
    #[arg(long)]
    pub uses: Option<u32>,
    /// Personal tokens: whose (admins only; default: yours).
    #[arg(long)]
    pub user: Option<String>,
    /// Personal tokens: the most it may do, show, deploy or manage (at most its user's level).
    #[arg(long)]
    pub level: Option<String>,
    /// How long it works, e.g. 30m, 24h, 7d, or `never` (default: 24h for join tokens, never
    /// for personal ones).
    #[arg(long)]
    pub expires: Option<String>,
    /// A note: what or whom it is for.
    #[arg(long)]
    pub comment: Option<String>,
    /// Write the token to this new file (mode 0600) instead of printing it.
    #[arg(long, value_name = "FILE", conflicts_with = "json")]
    pub output: Option<PathBuf>,
    /// Print JSON (with the token) instead of the token alone.
    #[arg(long)]
    pub json: bool,
}
