//! The command line, as clap types.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

pub use crate::cli_app::*;
pub use crate::cli_instance::*;
pub use crate::cli_stack::*;

/// Drover: stacks, layers, instances and deployments for buildout-based Plone sites — a
/// self-hosted successor to OpsWorks Stacks.
#[derive(Debug, Parser)]
#[command(after_help = "Quick start:\n  drover server --data-dir /var/lib/drover &\n  \
                        drover login --token-file /var/lib/drover/admin.token\n  \
                        drover apply -f examples/demo-stack.toml --wait\n  \
                        drover deploy --stack demo site --rolling --wait\n  \
                        drover status --stack demo\n\nEvery command that works on a stack takes --stack (or DROVER_STACK); --json prints JSON.")]
#[command(name = "drover", version, propagate_version = true)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

impl Cli {
    /// The long-running roles log at info level.
    pub fn is_daemon(&self) -> bool {
        matches!(self.command, Command::Server(_) | Command::Agent(_))
    }

    /// The agent runs on one thread.
    pub fn is_agent(&self) -> bool {
        matches!(self.command, Command::Agent(_))
    }
}

/// Top-level commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the control plane: API, store, orchestrator, local instances.
    Server(ServerArgs),
    /// Run the agent of one instance.
    Agent(AgentArgs),
    /// Save the server URL and admin token for later commands.
    Login(LoginArgs),
    /// Manage stacks.
    #[command(subcommand)]
    Stack(StackCommand),
    /// Manage layers.
    #[command(subcommand)]
    Layer(LayerCommand),
    /// Manage instances.
    #[command(subcommand)]
    Instance(InstanceCommand),
    /// Manage apps: the code a layer's instances deploy.
    #[command(subcommand)]
    App(AppCommand),
    /// Manage join tokens: what lets an agent enroll into a stack.
    #[command(subcommand)]
    Token(crate::cli_people::TokenCommand),
    /// Deploy an app: build what changed on each instance, switch, restart.
    Deploy(DeployArgs),
    /// Roll an app back to the previous (or a named) release.
    Rollback(RollbackArgs),
    /// Start an app's services.
    Start(AppDeployArgs),
    /// Stop an app's services.
    Stop(AppDeployArgs),
    /// Restart an app's services, one at a time.
    Restart(AppDeployArgs),
    /// Stop an app's services and remove it from the instances.
    Undeploy(AppDeployArgs),
    /// Inspect releases.
    #[command(subcommand)]
    Release(ReleaseCommand),
    /// Run a command on instances and print each one's output and exit code.
    Exec(ExecArgs),
    /// Pack and back up the ZODB, list and restore its backups.
    #[command(subcommand)]
    Zodb(crate::cli_zodb::ZodbCommand),
    /// Inspect deployments.
    #[command(subcommand)]
    Deployment(DeploymentCommand),
    /// Show service and agent logs from the instances, merged by time; --follow streams them.
    Logs(crate::cli_logs::LogsArgs),
    /// Show a stack: layers, instances with their health, recent deployments.
    Status(StatusArgs),
    /// Create or update a stack's layers, apps, instances and Custom JSON from a stack file (TOML);
    /// nothing the file does not name is changed or deleted.
    Apply(ApplyArgs),
    /// Write a stack out as a stack file that `drover apply` reads (secret values left out).
    Export(ExportArgs),
    /// Write a stack file from another tool's stack (OpsWorks), listing what was not carried over.
    #[command(subcommand)]
    Import(crate::cli_import::ImportCommand),
    /// Manage users and their levels on each stack (server-wide admins).
    #[command(subcommand)]
    User(crate::cli_people::UserCommand),
    /// Show who the token in use belongs to and what it may do on each stack.
    Whoami(Format),
    /// Read the audit trail.
    #[command(subcommand)]
    Audit(crate::cli_people::AuditCommand),
    /// What the server decided on its own for a stack (an instance lost, healed, given up on),
    /// with the reason; oldest first.
    Events(EventsArgs),
    /// Print a shell completion script: `drover completions bash > /etc/bash_completion.d/drover`.
    Completions(CompletionsArgs),
    /// Write man pages (drover.1 and one per subcommand) into a directory.
    Man(ManArgs),
}

/// `drover completions`.
#[derive(Debug, Args)]
#[command(after_help = "Examples:\n  drover completions bash > /etc/bash_completion.d/drover\n  \
                        drover completions zsh > \"${fpath[1]}/_drover\"\n  \
                        drover completions fish > ~/.config/fish/completions/drover.fish")]
pub struct CompletionsArgs {
    /// The shell.
    pub shell: clap_complete::Shell,
}

/// `drover man`.
#[derive(Debug, Args)]
pub struct ManArgs {
    /// Where to write the pages.
    #[arg(long, default_value = "man")]
    pub dir: PathBuf,
}

/// `drover events`.
#[derive(Debug, Args)]
pub struct EventsArgs {
    /// The stack.
    #[arg(long, env = "DROVER_STACK", hide_env_values = true)]
    pub stack: String,
    /// Keep printing new events as they happen (until interrupted).
    #[arg(long)]
    pub follow: bool,
    /// How many of the newest events to show first.
    #[arg(long, default_value_t = 50)]
    pub limit: u32,
    #[command(flatten)]
    pub format: Format,
}

/// `drover server`.
#[derive(Debug, Args)]
pub struct ServerArgs {
    /// Move the store instead of running the server.
    #[command(subcommand)]
    pub action: Option<ServerAction>,
    /// Where the store, certificates, tokens and local instances live.
    #[arg(long, env = "DROVER_DATA_DIR", default_value = "drover-data")]
    pub data_dir: PathBuf,
    /// The store: a PostgreSQL URL (postgres://USER@HOST[:PORT]/DB, no password: it is read from
    /// ~/.pgpass or PGPASSFILE). Default: SQLite in the data dir.
    #[arg(long, env = "DROVER_DATABASE")]
    pub database: Option<String>,
    /// Address and port for the HTTPS API.
    #[arg(long, default_value = "127.0.0.1:7443")]
    pub listen: SocketAddr,
    /// The URL agents and clients use (default: https://<listen>).
    #[arg(long)]
    pub advertise_url: Option<String>,
    /// Another name or address for the server certificate (repeatable).
    #[arg(long = "san")]
    pub sans: Vec<String>,
    /// Seconds without a heartbeat before an instance is connection_lost.
    #[arg(long, default_value_t = 300.0)]
    pub heartbeat_timeout_secs: f64,
    /// Heartbeat interval, in seconds, of the local agents this server starts.
    #[arg(long, default_value_t = 30.0)]
    pub agent_heartbeat_interval_secs: f64,
    /// Seconds the Shutdown phase may take before the instance is stopped anyway.
    #[arg(long, default_value_t = 120)]
    pub shutdown_timeout_secs: u64,
    /// Finished command logs kept per instance.
    #[arg(long, default_value_t = 30)]
    pub command_logs_kept: usize,
    /// Most output kept per command, in bytes (the tail is kept, behind one marker line).
    #[arg(long, default_value_t = drover_server::DEFAULT_COMMAND_LOG_MAX_BYTES,
          value_parser = clap::value_parser!(u64).range(4096..))]
    pub command_log_max_bytes: u64,
    /// The first loopback address for local instances (later ones count up within its /24).
    #[arg(long, default_value = "127.0.0.2")]
    pub local_first_address: std::net::Ipv4Addr,
    /// Seconds a connection gets to send a whole request head, once a byte of it has arrived.
    #[arg(long, default_value_t = 20.0)]
    pub header_read_timeout_secs: f64,
    /// Seconds a keep-alive connection may wait with no request (a request being served, such as
    /// an agent's long-poll, is never cut).
    #[arg(long, default_value_t = 90.0)]
    pub idle_timeout_secs: f64,
    /// The most connections served at once; more wait in the kernel's backlog until one closes.
    /// Default: the open-files limit less 256 (descriptors for the store, logs and children), so
    /// the cap and not the descriptor limit decides; every agent holds one connection.
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..))]
    pub max_connections: Option<u32>,
    /// Requests per second allowed per token (per address without one); 0 turns the limit off.
    #[arg(long, default_value_t = 100.0)]
    pub rate_limit_per_second: f64,
    /// Requests a token may make at once before the per-second limit applies.
    #[arg(long, default_value_t = 500, value_parser = clap::value_parser!(u32).range(1..))]
    pub rate_limit_burst: u32,
    /// For tests only: read time-based schedules at the Unix time (seconds) this file holds.
    #[arg(long, hide = true)]
    pub schedule_clock_file: Option<PathBuf>,
    /// The binary `drover agent upgrade` gives agents (default: this server's own executable).
    /// Its SHA-256 is computed once at start.
    #[arg(long, value_name = "FILE")]
    pub agent_binary: Option<PathBuf>,
}

/// What `drover server` does instead of serving.
#[derive(Debug, Subcommand)]
pub enum ServerAction {
    /// Move an installation's SQLite store, with its history, into an empty PostgreSQL database;
    /// every table is verified by row count and checksum before anything is committed.
    Migrate(ServerMigrateArgs),
    /// The servers of the control plane: which one leads, and each one's agents, CPU and memory
    /// (asks the server DROVER_SERVER or the token names).
    Status(ServerStatusArgs),
}

/// `drover server status`.
#[derive(Debug, Args)]
pub struct ServerStatusArgs {
    #[command(flatten)]
    pub format: Format,
}

/// `drover server migrate`.
#[derive(Debug, Args)]
pub struct ServerMigrateArgs {
    /// The store to move: sqlite:PATH (the drover.db in the data dir; stop its server first).
    #[arg(long)]
    pub from: String,
    /// The empty PostgreSQL database: postgres://USER@HOST[:PORT]/DB, the password in a passfile.
    #[arg(long)]
    pub to: String,
}

/// `drover agent`.
#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct AgentArgs {
    /// Install or uninstall the agent on this host instead of running it.
    #[command(subcommand)]
    pub action: Option<crate::cli_agent::AgentAction>,
    /// A file holding the join token (`drover token create --join`), readable only by its owner,
    /// or `-` to read it from standard input; needed only for the first start (the file is
    /// removed once the agent has enrolled).
    #[arg(long, value_name = "FILE")]
    pub join_file: Option<PathBuf>,
    /// Refused: a token in argv is readable by every user in /proc; use --join-file.
    #[arg(long = "join", hide = true, value_name = "TOKEN")]
    pub join_in_argv: Option<String>,
    /// Use this server URL instead of the one in the token.
    #[arg(long)]
    pub server: Option<String>,
    /// The stack to join.
    #[arg(long)]
    pub stack: Option<String>,
    /// The instance to enroll as (made with `drover instance create --provider registered`, or new).
    #[arg(long)]
    pub instance: Option<String>,
    /// Layers of a host that registers itself (repeatable).
    #[arg(long = "layer")]
    pub layers: Vec<String>,
    /// Where the agent writes everything.
    #[arg(long, default_value = "/")]
    pub root: PathBuf,
    /// The address this instance's services bind.
    #[arg(long, default_value = "127.0.0.1")]
    pub address: String,
    /// Seconds between heartbeats.
    #[arg(long, default_value_t = 30.0)]
    pub heartbeat_interval_secs: f64,
    /// Report this CPU count instead of the machine's.
    #[arg(long)]
    pub cpu_count: Option<u32>,
}

/// `drover login`.
#[derive(Debug, Args)]
#[command(after_help = "Examples:\n  drover login --token-file /var/lib/drover/admin.token\n  \
                        drover login --server https://drover.example.org:7443 --token-file ~/.drover-token")]
pub struct LoginArgs {
    /// The server URL (default: the one in the token).
    #[arg(long)]
    pub server: Option<String>,
    /// A file holding the token: the admin token (admin.token) or a personal one; `-` reads it
    /// from standard input. (Never on the command line, where other users could read it.)
    #[arg(long, value_name = "FILE")]
    pub token_file: Option<PathBuf>,
    /// The stack later commands use when they get no --stack (DROVER_STACK still wins). With no
    /// --token-file, only this is changed.
    #[arg(long)]
    pub stack: Option<String>,
}

/// `--json` on read commands.
#[derive(Debug, Args, Clone, Copy)]
pub struct Format {
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// `drover status`.
#[derive(Debug, Args)]
#[command(after_help = "Examples:\n  drover status --stack prod\n  DROVER_STACK=prod drover status --json")]
pub struct StatusArgs {
    #[command(flatten)]
    pub stack: StackChoice,
    #[command(flatten)]
    pub format: Format,
}

/// A stack named with `--stack`, by position (the older form), or by `DROVER_STACK`.
#[derive(Debug, Args)]
pub struct StackChoice {
    /// The stack (same as --stack).
    #[arg(value_name = "STACK")]
    pub positional: Option<String>,
    /// The stack.
    #[arg(long = "stack", env = "DROVER_STACK", hide_env_values = true, value_name = "STACK")]
    pub flag: Option<String>,
}

impl StackChoice {
    /// The stack named, the positional form first.
    pub fn name(&self) -> Result<&str, crate::exit::Failure> {
        match (&self.positional, &self.flag) {
            (Some(named), _) | (None, Some(named)) => Ok(named),
            (None, None) => Err(crate::exit::Failure::usage(
                "which stack? give --stack NAME (or set DROVER_STACK); `drover stack list` lists them",
            )),
        }
    }
}

/// `drover apply`.
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  drover apply -f prod.toml --dry-run\n  drover apply -f prod.toml --wait\n  drover export --stack prod -o prod.toml"
)]
pub struct ApplyArgs {
    /// The stack file (TOML; examples/demo-stack.toml documents the format).
    #[arg(short = 'f', long = "file", value_name = "FILE")]
    pub file: PathBuf,
    /// Print what would change and change nothing.
    #[arg(long, conflicts_with = "wait")]
    pub dry_run: bool,
    /// Only check the file (secret references included); do not contact the server.
    #[arg(long, conflicts_with_all = ["dry_run", "wait"])]
    pub check: bool,
    /// Send the values of existing secret variables and deploy keys again (they cannot be read
    /// back to compare, so by default only new ones are sent).
    #[arg(long)]
    pub update_secrets: bool,
    /// Wait until the local instances it created are online.
    #[arg(long)]
    pub wait: bool,
    /// Seconds to wait with --wait.
    #[arg(long, default_value_t = 300)]
    pub timeout: u64,
    /// Print the outcome as JSON: each object's action and changes, the notes and the counts
    /// (the lines that say what happens go to stderr).
    #[arg(long)]
    pub json: bool,
}

/// `drover export`.
#[derive(Debug, Args)]
pub struct ExportArgs {
    /// The stack.
    #[arg(long, env = "DROVER_STACK", hide_env_values = true)]
    pub stack: String,
    /// Write the stack file here instead of to standard output.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub output: Option<PathBuf>,
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_consistent() {
        super::Cli::command().debug_assert();
    }
}
