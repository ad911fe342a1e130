//! Clap definitions of stacks, their configuration and their layers: `drover stack`, `drover
//! layer`.
use std::path::PathBuf;

use clap::{Args, Subcommand};

use crate::cli::{Format, StackChoice};

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
    /// Where the site and the HAProxy stats page answer, with the stats credentials; with
    /// --backend, HAProxy's backend as each frontend sees it now (UP, DOWN, DRAIN per client).
    Frontends {
        /// The stack.
        #[arg(long, env = "DROVER_STACK", hide_env_values = true)]
        stack: String,
        /// Ask each online frontend's HAProxy for the state of its servers.
        #[arg(long)]
        backend: bool,
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
