//! `drover zodb ...`: pack and back up the ZODB now, list its backups, restore one.

use clap::{Args, Subcommand};

/// `drover zodb ...`.
#[derive(Debug, Subcommand)]
pub enum ZodbCommand {
    /// Pack the ZODB now (`bin/zeopack` on the ZEO server; `bin/zodbpack` with RelStorage).
    #[command(after_help = "Examples:\n  drover zodb pack --stack prod --wait")]
    Pack(ZodbRunArgs),
    /// Back the ZODB up now (`bin/backup` of collective.recipe.backup on the ZEO server).
    #[command(after_help = "Examples:\n  drover zodb backup --stack prod --wait")]
    Backup(ZodbRunArgs),
    /// List the backups on the ZEO server (name, size, time), oldest first.
    #[command(after_help = "Examples:\n  drover zodb backups --stack prod\n  drover zodb backups --stack prod --json")]
    Backups(ZodbListArgs),
    /// Restore a backup: stop the clients (drained behind the frontends) and the ZEO server,
    /// `bin/restore`, start them again; prints how long the site was down.
    #[command(after_help = "Examples:\n  drover zodb restore --stack prod 2026-12-01-21-00-03 --wait")]
    Restore(ZodbRestoreArgs),
}

/// `drover zodb pack|backup`.
#[derive(Debug, Args)]
pub struct ZodbRunArgs {
    /// The stack.
    #[arg(long, env = "DROVER_STACK", hide_env_values = true)]
    pub stack: String,
    /// Wait for it to finish, streaming its output; exit 1 if it failed.
    #[arg(long)]
    pub wait: bool,
    /// A note kept with the deployment.
    #[arg(long)]
    pub comment: Option<String>,
    /// Kill the script after this many seconds (default 6 hours).
    #[arg(long, value_name = "SECS")]
    pub kill_after: Option<u64>,
    /// Stop waiting after this many seconds (exit 1; the job goes on).
    #[arg(long, value_name = "SECS")]
    pub timeout: Option<u64>,
    /// Print the deployment as JSON.
    #[arg(long)]
    pub json: bool,
}

/// `drover zodb backups`.
#[derive(Debug, Args)]
pub struct ZodbListArgs {
    /// The stack.
    #[arg(long, env = "DROVER_STACK", hide_env_values = true)]
    pub stack: String,
    /// Stop waiting for the listing after this many seconds.
    #[arg(long, value_name = "SECS", default_value_t = 120)]
    pub timeout: u64,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// `drover zodb restore`.
#[derive(Debug, Args)]
pub struct ZodbRestoreArgs {
    #[command(flatten)]
    pub run: ZodbRunArgs,
    /// The backup, as `drover zodb backups` names it (YYYY-MM-DD-HH-MM-SS).
    pub backup: String,
}
