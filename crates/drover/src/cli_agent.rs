//! Arguments of `drover agent install` and `drover agent uninstall`.

use std::path::PathBuf;

use clap::{Args, Subcommand};

/// What `drover agent` does besides running the agent.
#[derive(Debug, Subcommand)]
pub enum AgentAction {
    /// Install the agent on this Debian host: its join token (0600), a systemd unit (enabled and
    /// started where systemd runs; printed with what to do where it does not) and a logrotate
    /// file for the services' logs.
    Install(InstallArgs),
    /// Remove what `drover agent install` wrote (the agent's data and the apps stay).
    Uninstall(UninstallArgs),
    /// Upgrade a stack's agents to the server's binary without restarting their services: each
    /// downloads it, checks its SHA-256 and that it starts, replaces itself and execs it.
    Upgrade(UpgradeArgs),
}

/// `drover agent upgrade`.
#[derive(Debug, Args)]
#[command(after_help = "Examples:\n  drover agent upgrade --stack prod --wait\n  drover agent upgrade --stack prod \
                        --rolling --wait\n\nExit codes: 0 every agent upgraded (or not waited for), 1 some upgrade \
                        failed, 2 usage, 3 server unreachable.")]
pub struct UpgradeArgs {
    /// The stack whose online agents upgrade.
    #[arg(long)]
    pub stack: String,
    /// Only these instances (repeatable; default: every online instance).
    #[arg(long = "instance")]
    pub instances: Vec<String>,
    /// One agent at a time: the next starts once the one before is back on the new binary.
    #[arg(long)]
    pub rolling: bool,
    /// Follow the upgrade until every agent has finished; the exit code says whether all succeeded.
    #[arg(long)]
    pub wait: bool,
    /// Fail an agent's upgrade after this many seconds (default 600).
    #[arg(long, value_name = "SECS")]
    pub kill_after: Option<u64>,
    /// With --wait: stop waiting after this many seconds (exit 1; the upgrade goes on).
    #[arg(long, value_name = "SECS", requires = "wait")]
    pub timeout: Option<u64>,
    /// A note for the history.
    #[arg(long)]
    pub comment: Option<String>,
    /// Print the deployment as JSON.
    #[arg(long)]
    pub json: bool,
}

/// `drover agent install`.
#[derive(Debug, Args)]
#[command(
    after_help = "Example:\n  drover agent install --join-file join.token --stack prod --layer clients --address 10.0.1.12"
)]
pub struct InstallArgs {
    /// The join token (`drover token create --join`), in a file only its owner can read; copied to
    /// /etc/drover/join.token (0600).
    #[arg(long, value_name = "FILE")]
    pub join_file: PathBuf,
    /// The stack to join.
    #[arg(long)]
    pub stack: String,
    /// Layers of a host that registers itself (repeatable).
    #[arg(long = "layer", conflicts_with = "instance")]
    pub layers: Vec<String>,
    /// The pre-created instance to claim (`drover instance create --provider registered`).
    #[arg(long)]
    pub instance: Option<String>,
    /// The address this host's services bind (its private address).
    #[arg(long)]
    pub address: String,
    /// Use this server URL instead of the one in the token.
    #[arg(long)]
    pub server: Option<String>,
    /// Where the agent writes (its --root).
    #[arg(long, default_value = "/")]
    pub agent_root: PathBuf,
    /// The drover binary the unit runs (default: this one).
    #[arg(long)]
    pub binary: Option<PathBuf>,
    /// Write the files under this directory instead of / (to stage a package or an image); then
    /// systemd is left alone.
    #[arg(long, default_value = "/")]
    pub dest_root: PathBuf,
}

/// `drover agent uninstall`.
#[derive(Debug, Args)]
pub struct UninstallArgs {
    /// The directory `drover agent install --dest-root` wrote under.
    #[arg(long, default_value = "/")]
    pub dest_root: PathBuf,
}
