//! Clap definitions of instances: `drover instance`.

use clap::Subcommand;

use crate::cli::Format;

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
