//! Clap definitions of apps and what is done with them: `drover app`, `drover deploy`, `drover
//! rollback`, `drover release`, `drover exec`, `drover deployment`.
use std::path::PathBuf;

use clap::{Args, Subcommand};

use crate::cli::Format;

/// `drover app ...`.
#[derive(Debug, Subcommand)]
pub enum AppCommand {
    /// Create an app.
    #[command(
        after_help = "Examples:\n  drover app create --stack prod site --layer clients --layer zeo --git https://git.example.org/site.git \\\n      --revision main --deploy-key ~/.ssh/site_deploy --secret-env DB_PASSWORD"
    )]
    Create {
        /// The stack.
        #[arg(long, env = "DROVER_STACK", hide_env_values = true)]
        stack: String,
        /// The app's shortname (its directory is /srv/www/NAME).
        name: String,
        /// A layer it deploys to (repeatable, at least one).
        #[arg(long = "layer", required = true)]
        layers: Vec<String>,
        /// Its git repository.
        #[arg(long = "git")]
        repository: String,
        /// Branch, tag or commit SHA (default: the repository's default branch).
        #[arg(long)]
        revision: Option<String>,
        /// A file holding an SSH private key for the repository.
        #[arg(long)]
        deploy_key: Option<PathBuf>,
        /// An environment variable, NAME=VALUE (repeatable).
        #[arg(long = "env")]
        env: Vec<String>,
        /// A secret variable, NAME=VALUE, or NAME to take the value from this shell's environment
        /// (keeps it off the command line). Never shown afterwards.
        #[arg(long = "secret-env")]
        secret_env: Vec<String>,
    },
    /// Change an app; only what is given changes.
    Update {
        /// The stack.
        #[arg(long, env = "DROVER_STACK", hide_env_values = true)]
        stack: String,
        /// The app.
        name: String,
        /// Replace its layers (repeatable).
        #[arg(long = "layer")]
        layers: Vec<String>,
        /// A new git repository.
        #[arg(long = "git")]
        repository: Option<String>,
        /// A new revision ("" for the default branch).
        #[arg(long)]
        revision: Option<String>,
        /// A new deploy key file.
        #[arg(long, conflicts_with = "remove_deploy_key")]
        deploy_key: Option<PathBuf>,
        /// Remove the deploy key.
        #[arg(long)]
        remove_deploy_key: bool,
        /// Set a variable, NAME=VALUE (repeatable).
        #[arg(long = "env")]
        env: Vec<String>,
        /// Set a secret variable, NAME=VALUE or NAME (repeatable).
        #[arg(long = "secret-env")]
        secret_env: Vec<String>,
        /// Remove a variable (repeatable).
        #[arg(long = "unset-env")]
        unset_env: Vec<String>,
    },
    /// List a stack's apps.
    List {
        /// The stack.
        #[arg(long, env = "DROVER_STACK", hide_env_values = true)]
        stack: String,
        #[command(flatten)]
        format: Format,
    },
    /// Show an app (secret values are never shown).
    Show {
        /// The stack.
        #[arg(long, env = "DROVER_STACK", hide_env_values = true)]
        stack: String,
        /// The app.
        name: String,
        #[command(flatten)]
        format: Format,
    },
    /// Delete an app.
    Delete {
        /// The stack.
        #[arg(long, env = "DROVER_STACK", hide_env_values = true)]
        stack: String,
        /// The app.
        name: String,
    },
    /// A deploy webhook for CI: `enable` prints its URL and secret (a new secret each time),
    /// `disable` removes it.
    Webhook {
        /// enable or disable.
        #[arg(value_parser = ["enable", "disable"])]
        action: String,
        /// The stack.
        #[arg(long, env = "DROVER_STACK", hide_env_values = true)]
        stack: String,
        /// The app.
        name: String,
    },
}

/// Targeting and pacing of an app deployment.
#[derive(Debug, Args)]
pub struct AppDeployArgs {
    /// The stack.
    #[arg(long, env = "DROVER_STACK", hide_env_values = true)]
    pub stack: String,
    /// The app.
    pub app: String,
    /// Only these instances (repeatable; default: every online instance).
    #[arg(long = "instance")]
    pub instances: Vec<String>,
    /// Only instances of these layers (repeatable).
    #[arg(long = "layer")]
    pub layers: Vec<String>,
    /// A note kept with the deployment.
    #[arg(long)]
    pub comment: Option<String>,
    /// A file with Custom JSON for this deployment only, e.g. {"deploy": {"APP": {"scm": {"revision": "SHA"}}}}.
    #[arg(long)]
    pub custom_json: Option<PathBuf>,
    /// One instance at a time (the next starts after the previous succeeded).
    #[arg(long, conflicts_with = "batch")]
    pub rolling: bool,
    /// N instances at a time.
    #[arg(long)]
    pub batch: Option<u32>,
    /// Kill an instance's part after this many seconds (its own limit, whether or not you wait).
    #[arg(long, value_name = "SECS")]
    pub kill_after: Option<u64>,
    /// Wait for the deployment and stream its output; exit 1 if it failed.
    #[arg(long)]
    pub wait: bool,
    /// With --wait: stop waiting after this many seconds (exit 1; the deployment goes on).
    #[arg(long, value_name = "SECS", requires = "wait")]
    pub timeout: Option<u64>,
    /// Print the deployment as JSON.
    #[arg(long)]
    pub json: bool,
}

/// `drover deploy` and `drover rollback`: they take the app's lock, so they can wait for it.
#[derive(Debug, Args)]
#[command(after_help = "Examples:\n  drover deploy --stack prod site --rolling --wait\n  \
                        drover deploy --stack prod site --layer clients --batch 2 --comment 'fix 1234' --wait --timeout 1800\n  \
                        drover deploy --stack prod site --custom-json pin.json   # {\"deploy\": {\"site\": {\"scm\": {\"revision\": \"SHA\"}}}}")]
pub struct DeployArgs {
    #[command(flatten)]
    pub common: AppDeployArgs,
    /// Seconds to wait for the app's lock if another deploy holds it (default: refuse at once).
    #[arg(long, default_value_t = 0, value_name = "SECS")]
    pub lock_wait: u64,
}

/// `drover rollback`.
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  drover rollback --stack prod site --wait\n  drover rollback --stack prod site --to 20261201101500 --rolling --wait"
)]
pub struct RollbackArgs {
    /// The release to go back to (default: the newest good one before current).
    #[arg(long = "to")]
    pub to: Option<String>,
    #[command(flatten)]
    pub deploy: DeployArgs,
}

/// `drover release ...`.
#[derive(Debug, Subcommand)]
pub enum ReleaseCommand {
    /// List an app's releases on each instance.
    List {
        /// The stack.
        #[arg(long, env = "DROVER_STACK", hide_env_values = true)]
        stack: String,
        /// The app.
        app: String,
        #[command(flatten)]
        format: Format,
    },
}

/// `drover exec`.
#[derive(Debug, Args)]
#[command(after_help = "Examples:\n  drover exec --stack prod --layer clients -- df -h /\n  \
                        drover exec --stack prod --instance zeo1 --kill-after 600 -- bin/zeopack")]
pub struct ExecArgs {
    /// The stack.
    #[arg(long, env = "DROVER_STACK", hide_env_values = true)]
    pub stack: String,
    /// Only instances of this layer (repeatable).
    #[arg(long = "layer")]
    pub layers: Vec<String>,
    /// Only this instance (repeatable).
    #[arg(long = "instance")]
    pub instances: Vec<String>,
    /// A note kept with the deployment.
    #[arg(long)]
    pub comment: Option<String>,
    /// Kill the command after this many seconds.
    #[arg(long, value_name = "SECS")]
    pub kill_after: Option<u64>,
    /// Stop waiting for the output after this many seconds (exit 1; the command goes on).
    #[arg(long, value_name = "SECS")]
    pub timeout: Option<u64>,
    /// Print the deployment as JSON at the end instead of a table.
    #[arg(long)]
    pub json: bool,
    /// The program and its arguments (after `--`).
    #[arg(last = true, required = true)]
    pub command: Vec<String>,
}

/// `drover deployment ...`.
#[derive(Debug, Subcommand)]
pub enum DeploymentCommand {
    /// List a stack's deployments, newest first.
    List {
        /// The stack.
        #[arg(long, env = "DROVER_STACK", hide_env_values = true)]
        stack: String,
        #[command(flatten)]
        format: Format,
    },
    /// Show a deployment and its per-instance commands.
    Show {
        /// The deployment id.
        id: i64,
        /// Stream the commands' output until they finish.
        #[arg(long)]
        follow: bool,
        /// Include each command's log.
        #[arg(long)]
        logs: bool,
        #[command(flatten)]
        format: Format,
    },
}
