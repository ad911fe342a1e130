//! The command line, as clap types.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

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
    /// Inspect deployments.
    #[command(subcommand)]
    Deployment(DeploymentCommand),
    /// Show a stack: layers, instances with their health, recent deployments.
    Status(StatusArgs),
    /// Create or update a stack's layers, apps, instances and Custom JSON from a stack file (TOML);
    /// nothing the file does not name is changed or deleted.
    Apply(ApplyArgs),
    /// Write a stack out as a stack file that `drover apply` reads (secret values left out).
    Export(ExportArgs),
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
    /// Where the store, certificates, tokens and local instances live.
    #[arg(long, env = "DROVER_DATA_DIR", default_value = "drover-data")]
    pub data_dir: PathBuf,
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
    #[arg(long, default_value_t = 4096, value_parser = clap::value_parser!(u32).range(1..))]
    pub max_connections: u32,
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

/// `drover stack ...`.
#[derive(Debug, Subcommand)]
pub enum StackCommand {
    /// Create a stack.
    #[command(after_help = "Examples:\n  drover stack create prod\n  drover stack create prod --custom-json prod.json")]
    Create {
        /// Its name.
        name: String,
        /// A file with the stack's Custom JSON.
        #[arg(long)]
        custom_json: Option<PathBuf>,
    },
    /// List stacks.
    List(Format),
    /// Show a stack.
    Show {
        #[command(flatten)]
        stack: StackChoice,
        #[command(flatten)]
        format: Format,
    },
    /// Delete a stack that has no instances.
    Delete {
        /// The stack.
        name: String,
    },
    /// Show the configuration in force (`--instance`: what that instance receives), or its
    /// history, differences and reverts.
    Config(ConfigArgs),
    /// Replace the stack's Custom JSON (validated first; a new version is kept).
    SetJson(SetJsonArgs),
    /// Where the site and the HAProxy stats page answer, with the stats credentials.
    Frontends {
        /// The stack.
        #[arg(long, env = "DROVER_STACK", hide_env_values = true)]
        stack: String,
        #[command(flatten)]
        format: Format,
    },
    /// Run Configure on every online instance: apps are rebuilt and restarted only where their
    /// deploy.cfg changed.
    Configure {
        /// The stack.
        #[arg(long, env = "DROVER_STACK", hide_env_values = true)]
        stack: String,
        /// Follow the output until every instance has finished.
        #[arg(long)]
        wait: bool,
        /// Print the deployment as JSON (the finished one with --wait; logs go to stderr).
        #[arg(long)]
        json: bool,
    },
}

/// `drover stack config`.
#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct ConfigArgs {
    #[command(subcommand)]
    pub action: Option<ConfigAction>,
    /// The stack.
    #[arg(long)]
    pub stack: Option<String>,
    /// The instance whose configuration to show (default: the stack level).
    #[arg(long)]
    pub instance: Option<String>,
    /// Print the answer as JSON with its warnings.
    #[arg(long)]
    pub json: bool,
}

/// `drover stack config history|diff|revert`.
#[derive(Debug, Subcommand)]
pub enum ConfigAction {
    /// List the versions of the stack's (or a layer's) Custom JSON, newest first.
    History {
        /// The stack.
        #[arg(long, env = "DROVER_STACK", hide_env_values = true)]
        stack: String,
        /// A layer instead of the stack.
        #[arg(long)]
        layer: Option<String>,
        #[command(flatten)]
        format: Format,
    },
    /// Show what changed between two versions (default: FROM and the one in force).
    Diff {
        /// The stack.
        #[arg(long, env = "DROVER_STACK", hide_env_values = true)]
        stack: String,
        /// A layer instead of the stack.
        #[arg(long)]
        layer: Option<String>,
        /// The older version.
        from: i64,
        /// The newer version (default: the one in force).
        to: Option<i64>,
        /// Print `{"scope", "from", "to", "diff"}` as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Bring back an earlier version (as a new version).
    Revert {
        /// The stack.
        #[arg(long, env = "DROVER_STACK", hide_env_values = true)]
        stack: String,
        /// A layer instead of the stack.
        #[arg(long)]
        layer: Option<String>,
        /// The version to bring back.
        #[arg(value_name = "VERSION")]
        target: i64,
        /// Why.
        #[arg(long)]
        comment: Option<String>,
        /// Run Configure on every online instance afterwards.
        #[arg(long)]
        configure: bool,
        /// Print `{"change": …, "configure": …}` as JSON.
        #[arg(long)]
        json: bool,
    },
}

/// `drover stack set-json` and `drover layer set-json`.
#[derive(Debug, Args)]
pub struct SetJsonArgs {
    /// The stack.
    #[arg(long, env = "DROVER_STACK", hide_env_values = true)]
    pub stack: String,
    /// The file with the Custom JSON (`-` for standard input).
    pub file: PathBuf,
    /// Why it changed (kept in the history).
    #[arg(long)]
    pub comment: Option<String>,
    /// Run Configure on every online instance afterwards.
    #[arg(long)]
    pub configure: bool,
    /// With --configure: follow the Configure run until it ends.
    #[arg(long)]
    pub wait: bool,
    /// Print `{"change": …, "configure": …}` as JSON (logs, if followed, go to stderr).
    #[arg(long)]
    pub json: bool,
}

/// `drover layer ...`.
#[derive(Debug, Subcommand)]
pub enum LayerCommand {
    /// Create a layer.
    #[command(after_help = "Examples:\n  drover layer create --stack prod clients --type plone_instances\n  \
                        drover layer create --stack prod zeo --type zeoserver\n  \
                        drover layer create --stack prod front --type frontend")]
    Create {
        /// The stack.
        #[arg(long, env = "DROVER_STACK", hide_env_values = true)]
        stack: String,
        /// Its shortname.
        shortname: String,
        /// Its type: custom, zeoserver, plone_instances or frontend.
        #[arg(long = "type", default_value = "custom")]
        layer_type: String,
        /// A file with the layer's Custom JSON.
        #[arg(long)]
        custom_json: Option<PathBuf>,
        /// Do not restart lost instances of this layer.
        #[arg(long)]
        no_auto_healing: bool,
        /// A hook: EVENT=COMMAND (events: setup, configure, deploy, undeploy, shutdown); repeat.
        #[arg(long = "hook", value_name = "EVENT=COMMAND")]
        hooks: Vec<String>,
    },
    /// Change a layer's hooks or auto-healing.
    Update {
        /// The stack.
        #[arg(long, env = "DROVER_STACK", hide_env_values = true)]
        stack: String,
        /// The layer.
        shortname: String,
        /// Set a hook: EVENT=COMMAND, or EVENT= to remove it; repeat.
        #[arg(long = "hook", value_name = "EVENT=COMMAND")]
        hooks: Vec<String>,
        /// Turn auto-healing on or off.
        #[arg(long, value_name = "on|off")]
        auto_healing: Option<String>,
    },
    /// Set or show a layer's load-based scaling: its load instances start and stop by the
    /// average CPU, memory or load of its online instances.
    Scaling(crate::cli_scaling::LayerScalingArgs),
    /// Set or show the provider new instances of a layer get: local, registered, or ec2 with
    /// its machines' settings.
    Provider(crate::cli_provider::LayerProviderArgs),
    /// Replace the layer's Custom JSON (validated first; a new version is kept).
    SetJson {
        /// The layer.
        layer: String,
        #[command(flatten)]
        args: SetJsonArgs,
    },
    /// List a stack's layers.
    List {
        /// The stack.
        #[arg(long, env = "DROVER_STACK", hide_env_values = true)]
        stack: String,
        #[command(flatten)]
        format: Format,
    },
    /// Show a layer.
    Show {
        /// The stack.
        #[arg(long, env = "DROVER_STACK", hide_env_values = true)]
        stack: String,
        /// The layer.
        shortname: String,
        #[command(flatten)]
        format: Format,
    },
    /// Delete a layer that no instance belongs to.
    Delete {
        /// The stack.
        #[arg(long, env = "DROVER_STACK", hide_env_values = true)]
        stack: String,
        /// The layer.
        shortname: String,
    },
}

/// `drover instance ...`.
#[derive(Debug, Subcommand)]
pub enum InstanceCommand {
    /// Create an instance; a local one is started at once.
    #[command(after_help = "Examples:\n  drover instance create --stack prod --layer clients --wait\n  \
                        drover instance create --stack prod --layer clients --scaling load\n  \
                        drover instance create --stack prod --layer zeo --provider registered --hostname zeo1\n  \
                        drover instance create --stack prod --layer web          # an ec2 layer: launches a machine")]
    Create {
        /// The stack.
        #[arg(long, env = "DROVER_STACK", hide_env_values = true)]
        stack: String,
        /// Its layers (repeatable, at least one).
        #[arg(long = "layer", required = true)]
        layers: Vec<String>,
        /// local (started by the server), ec2 (an EC2 machine the server launches with the
        /// layer's settings) or registered (an agent joins from another host); by default the
        /// first layer's provider (`drover layer provider`), else local.
        #[arg(long)]
        provider: Option<String>,
        /// Its hostname (default: the first layer's name and a number).
        #[arg(long)]
        hostname: Option<String>,
        /// For local instances: the CPU count to report.
        #[arg(long)]
        cpu_count: Option<u32>,
        /// 24/7 (started at once), time or load (left stopped: its schedule, `drover instance
        /// schedule`, or its layer's rule, `drover layer scaling`, starts it).
        #[arg(long, default_value = "24/7")]
        scaling: String,
        /// Wait until the instance is online (or failed).
        #[arg(long)]
        wait: bool,
        /// Seconds to wait with --wait.
        #[arg(long, default_value_t = 120)]
        timeout: u64,
    },
    /// Change an instance's scaling type (24/7, time, load).
    Update(crate::cli_scaling::InstanceUpdateArgs),
    /// Set or show a time-based instance's weekly schedule (UTC); the server starts and stops
    /// it at the schedule's hours.
    Schedule(crate::cli_scaling::ScheduleArgs),
    /// List a stack's instances.
    List {
        /// The stack.
        #[arg(long, env = "DROVER_STACK", hide_env_values = true)]
        stack: String,
        #[command(flatten)]
        format: Format,
    },
    /// Show an instance.
    Show {
        /// The stack.
        #[arg(long, env = "DROVER_STACK", hide_env_values = true)]
        stack: String,
        /// The instance.
        hostname: String,
        #[command(flatten)]
        format: Format,
    },
    /// Start a stopped instance.
    Start {
        /// The stack.
        #[arg(long, env = "DROVER_STACK", hide_env_values = true)]
        stack: String,
        /// The instance.
        hostname: String,
        /// Wait until it is online (or failed).
        #[arg(long)]
        wait: bool,
        /// Seconds to wait with --wait.
        #[arg(long, default_value_t = 120)]
        timeout: u64,
    },
    /// Stop an instance (its Shutdown phase runs first).
    Stop {
        /// The stack.
        #[arg(long, env = "DROVER_STACK", hide_env_values = true)]
        stack: String,
        /// The instance.
        hostname: String,
        /// Wait until it is stopped.
        #[arg(long)]
        wait: bool,
        /// Seconds to wait with --wait.
        #[arg(long, default_value_t = 180)]
        timeout: u64,
    },
    /// Delete a stopped instance.
    Delete {
        /// The stack.
        #[arg(long, env = "DROVER_STACK", hide_env_values = true)]
        stack: String,
        /// The instance.
        hostname: String,
    },
}

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
